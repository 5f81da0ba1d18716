package check

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/anomaly"
	"github.com/upstatehq/upstate/internal/clock"
)

// metricKind judges a number: pushed to Upstate or read from Prometheus.
func metricKind() Kind {
	return Kind{Name: "metric", New: func() Section { return &MetricSection{} }, Told: true}
}

// MetricSection is a metric check's configuration: a pushed series
// (metric and labels) or a Prometheus query, and the conditions on it.
type MetricSection struct {
	Metric        string            `yaml:"metric"`
	Labels        map[string]string `yaml:"labels"`
	Prometheus    *PromSource       `yaml:"prometheus"`
	What          string            `yaml:"what"`
	Unit          string            `yaml:"unit"`
	Above         *float64          `yaml:"above"`
	Below         *float64          `yaml:"below"`
	DegradedAbove *float64          `yaml:"degraded_above"`
	DegradedBelow *float64          `yaml:"degraded_below"`
	Change        *ChangeRule       `yaml:"change"`
	Anomaly       *AnomalyRule      `yaml:"anomaly"`
	MaxAge        time.Duration     `yaml:"max_age"`
	NoData        string            `yaml:"no_data"`
}

// PromSource is a Prometheus-compatible HTTP API and PromQL queries: query
// for metric and quota checks, good_query and total_query for SLOs.
type PromSource struct {
	URL        string         `yaml:"url"`
	Query      string         `yaml:"query"`
	GoodQuery  string         `yaml:"good_query"`
	TotalQuery string         `yaml:"total_query"`
	Token      upstate.Secret `yaml:"token"`
}

// The queries, "" when the check does not read Prometheus.
func (p *PromSource) query() string {
	if p == nil {
		return ""
	}
	return p.Query
}

func (p *PromSource) goodQuery() string {
	if p == nil {
		return ""
	}
	return p.GoodQuery
}

func (p *PromSource) totalQuery() string {
	if p == nil {
		return ""
	}
	return p.TotalQuery
}

// ChangeRule fails a metric that moves more than Percent over Over.
type ChangeRule struct {
	Percent float64       `yaml:"percent"`
	Over    time.Duration `yaml:"over"`
}

// AnomalyRule fails a metric far from what is usual for its time.
type AnomalyRule struct {
	Sensitivity float64       `yaml:"sensitivity"`
	MinRatio    float64       `yaml:"min_ratio"`
	Tolerance   time.Duration `yaml:"tolerance"`
	Days        int           `yaml:"days"`
	Weekly      *bool         `yaml:"weekly"`
	Below       bool          `yaml:"below"`
}

// Validate implements Section.
func (s *MetricSection) Validate(v Validator, c *Common) {
	switch {
	case s.Metric == "" && s.Prometheus == nil:
		v.Errorf("", "metric checks need metric (a pushed series name) or prometheus (url and query)")
	case s.Metric != "" && s.Prometheus != nil:
		v.Errorf("", "give metric or prometheus, not both")
	case s.Metric != "" && !metricName.MatchString(s.Metric):
		v.Errorf("metric", "%q is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", s.Metric)
	case s.Prometheus != nil:
		promURL(v, s.Prometheus)
		if s.Prometheus.Query == "" {
			v.Errorf("prometheus", "query is required: a PromQL expression giving one number")
		}
	}
	if s.Above == nil && s.Below == nil && s.DegradedAbove == nil && s.DegradedBelow == nil && s.Change == nil && s.Anomaly == nil {
		v.Errorf("", "metric checks need a condition: above, below, degraded_above, degraded_below, change or anomaly")
	}
	if s.Above != nil && s.DegradedAbove != nil && *s.DegradedAbove >= *s.Above {
		v.Errorf("degraded_above", "must be below above (%v): degraded comes before failing", *s.Above)
	}
	if ch := s.Change; ch != nil && (ch.Percent <= 0 || ch.Over < time.Minute) {
		v.Errorf("change", "percent must be positive and over at least 1m (e.g. {percent: 300, over: 10m})")
	}
	if a := s.Anomaly; a != nil {
		if a.Sensitivity < 0 || a.MinRatio < 0 || a.Days < 0 || a.Days > 90 {
			v.Errorf("anomaly", "sensitivity and min_ratio must not be negative, days 1 to 90")
		}
		if a.Weekly == nil {
			t := true
			a.Weekly = &t
		}
	}
	if s.What == "" {
		s.What = s.Metric
	}
	switch s.NoData {
	case "":
		s.NoData = "ignore"
	case "ignore", "fail":
	default:
		v.Errorf("no_data", "%q is not ignore or fail", s.NoData)
	}
	// Numbers arrive by the minute: judge twice a minute, and a number is
	// not a flaky probe, so one bad reading alerts (within a minute).
	told(c, &s.What, 30*time.Second)
	if s.MaxAge == 0 {
		s.MaxAge = toldMaxAge(c.Interval)
	}
}

// told sets the defaults of checks judged on numbers.
func told(c *Common, what *string, interval time.Duration) {
	if c.Interval == 0 {
		c.Interval = interval
	}
	if c.FailAfter == 0 {
		c.FailAfter = 1
	}
	if c.RecoverAfter == 0 {
		c.RecoverAfter = 2
	}
	if c.Recheck == nil {
		c.Recheck = &Recheck{}
	}
	if *what == "" {
		*what = c.ID
	}
}

// toldMaxAge is how old the newest number may be by default before it
// is no data.
func toldMaxAge(interval time.Duration) time.Duration { return max(5*time.Minute, 3*interval) }

func promURL(v Validator, ps *PromSource) {
	if u, err := url.Parse(ps.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Errorf("prometheus.url", "%q is not an http(s) URL (the API's base, e.g. http://prometheus:9090)", ps.URL)
	}
}

// PushedSeries implements PushedReader.
func (s *MetricSection) PushedSeries() []string {
	if s.Prometheus.query() != "" {
		return nil
	}
	return seriesKeys(s.Labels, s.Metric)
}

// seriesKeys are the keys of the named series with the labels; empty
// names are skipped.
func seriesKeys(labels map[string]string, names ...string) []string {
	var keys []string
	for _, n := range names {
		if n != "" {
			keys = append(keys, SeriesKey(n, labels))
		}
	}
	return keys
}

// series reads query from Prometheus when one is given, else the pushed
// series of that name with the labels.
func series(ps *PromSource, labels map[string]string, name, query string, timeout time.Duration, env Env) Series {
	if query != "" {
		h := http.Header{}
		if ps.Token != "" {
			h.Set("Authorization", "Bearer "+ps.Token.Reveal())
		}
		return &Prometheus{URL: ps.URL, Query: query, Client: env.Client, Timeout: timeout, Header: h}
	}
	return pushedSeries{key: SeriesKey(name, labels), env: env}
}

// pushedSeries is a series pushed to Upstate, read from the store.
type pushedSeries struct {
	key string
	env Env
}

// Points implements Series.
func (s pushedSeries) Points(ctx context.Context, from, to time.Time) ([]upstate.Point, error) {
	return s.env.Points(ctx, s.key, from, to)
}

// Rewritten implements rewritable.
func (s pushedSeries) Rewritten() uint64 {
	if s.env.Rewritten == nil {
		return 0
	}
	return s.env.Rewritten(s.key)
}

// rewritable is a Series whose past can change (history pushed to it):
// Rewritten changes when it has, and what was read of it is stale.
type rewritable interface {
	Rewritten() uint64
}

// Learner is a Series that can also read its past at a coarse step: a
// check with an anomaly rule learns its baseline from it at start, instead
// of waiting days to have seen enough.
type Learner interface {
	// Learn returns the series' points in [from, to), a point a minute
	// at most, oldest first. The caller asks for at most LearnChunk.
	Learn(ctx context.Context, from, to time.Time) ([]upstate.Point, error)
}

// LearnChunk is how much of the past one probe learns: one query_range
// of 10,000 points a minute apart (Prometheus refuses more than 11,000),
// so the default 28 days are learned in five probes, newest first, and
// the baseline judges from the first (it needs a day).
const LearnChunk = 10_000 * time.Minute

// learnRetry is how long a check waits to learn again after the past
// could not be read.
const learnRetry = 5 * time.Minute

// Prober implements Section.
func (s *MetricSection) Prober(c Common, env Env) (Prober, error) {
	m := &Metric{ID: c.ID, What: s.What, Unit: s.Unit, Above: s.Above, Below: s.Below, DegradedAbove: s.DegradedAbove,
		DegradedBelow: s.DegradedBelow, MaxAge: s.MaxAge, NoDataFails: s.NoData == "fail", Clock: env.Clock, Source: "pushed"}
	m.Series = series(s.Prometheus, s.Labels, s.Metric, s.Prometheus.query(), c.Timeout, env)
	if s.Prometheus.query() != "" {
		m.Source = "prometheus"
	}
	if ch := s.Change; ch != nil {
		m.Change = &Change{Percent: ch.Percent, Over: ch.Over}
	}
	if a := s.Anomaly; a != nil {
		m.Anomaly = &anomaly.Detector{Location: env.Location, Tolerance: a.Tolerance, Days: a.Days, Weekly: a.Weekly == nil || *a.Weekly,
			Sensitivity: a.Sensitivity, MinRatio: a.MinRatio, Below: a.Below}
	}
	return m, nil
}

// Series gives a metric check its numbers.
type Series interface {
	// Points returns the series' points in [from, to), oldest first.
	Points(ctx context.Context, from, to time.Time) ([]upstate.Point, error)
}

// SeriesFunc adapts a function to Series.
type SeriesFunc func(ctx context.Context, from, to time.Time) ([]upstate.Point, error)

// Points implements Series.
func (f SeriesFunc) Points(ctx context.Context, from, to time.Time) ([]upstate.Point, error) {
	return f(ctx, from, to)
}

// Change is a rate-of-change condition: the value moved by more than
// Percent over the last Over.
type Change struct {
	Percent float64
	Over    time.Duration
}

// Metric judges a number: static thresholds (failing and degraded), a
// rate of change, and an anomaly against its seasonal baseline. It keeps
// the history it needs in memory and reads only new points each time.
type Metric struct {
	ID   string
	What string // "blocked requests"
	Unit string // "/min"
	// Series is where the numbers come from (pushed, or a Prometheus
	// query); Source says which, for people ("pushed", "prometheus").
	// A Series that is a Learner teaches the anomaly baseline its past.
	Series Series
	Source string
	// Thresholds; nil ones are off.
	Above, Below                 *float64
	DegradedAbove, DegradedBelow *float64
	Change                       *Change
	Anomaly                      *anomaly.Detector
	// MaxAge is how old the newest point may be; older is "no data".
	MaxAge time.Duration
	// NoDataFails makes missing data a failure (default: not judged).
	NoDataFails bool
	Clock       clock.Clock

	probing sync.Mutex // held by a probe throughout: one at a time
	mu      sync.Mutex // guards what follows
	history []upstate.Point
	loaded  time.Time // points up to here are in history
	version uint64    // the series' Rewritten when history was read
	// Learning the past from a Learner: the points before learnTo are
	// yet to be learned (zero: nothing left to learn); learnNext is when
	// to try again after learnErr.
	learnTo   time.Time
	learnNext time.Time
	learnErr  string
}

// recent is how much history the conditions other than the anomaly need.
func (c *Metric) recent() time.Duration {
	s := c.MaxAge + time.Minute
	if c.Change != nil {
		s = max(s, c.Change.Over+2*time.Minute)
	}
	return s
}

// span is how much history the conditions need.
func (c *Metric) span() time.Duration {
	s := c.recent()
	if c.Anomaly != nil {
		s = max(s, time.Duration(c.Anomaly.Defaults().Days+1)*24*time.Hour)
	}
	return s
}

// Probe implements Prober.
func (c *Metric) Probe(ctx context.Context) upstate.Result {
	now := c.Clock.Now()
	r := upstate.Result{CheckID: c.ID, At: now, Outcome: upstate.OutcomeOK}
	// One probe at a time reads; the state is locked only around reading
	// and changing it, so Baseline does not wait for a probe's I/O.
	c.probing.Lock()
	defer c.probing.Unlock()
	c.mu.Lock()
	if rw, ok := c.Series.(rewritable); ok {
		if v := rw.Rewritten(); v != c.version {
			// History was pushed: what is held of the past is stale.
			c.history, c.loaded, c.version = nil, time.Time{}, v
		}
	}
	learner, learns := c.Series.(Learner)
	learns = learns && c.Anomaly != nil
	from := now.Add(-c.span())
	if learns && c.loaded.IsZero() {
		// What the other conditions need is read now, at the series' own
		// step; the baseline's days are learned below, a chunk a probe.
		from = now.Add(-c.recent())
		c.learnTo = from
	}
	if c.loaded.After(from) {
		from = c.loaded
	}
	lo, hi, learning := c.chunk(now)
	c.mu.Unlock()

	fresh, err := c.Series.Points(ctx, from, now.Add(time.Second))
	if err != nil {
		return fail(r, "could not read the numbers: "+err.Error())
	}
	var past []upstate.Point
	var pastErr error
	if learns && learning {
		past, pastErr = learner.Learn(ctx, lo, hi)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range fresh {
		if n := len(c.history); n > 0 && !p.At.After(c.history[n-1].At) {
			if p.At.Equal(c.history[n-1].At) {
				c.history[n-1] = p // the minute filled up since
			}
			continue
		}
		c.history = append(c.history, p)
	}
	// Keep the last loaded minute open: it may still be filling.
	c.loaded = now.Add(-time.Minute).Truncate(time.Minute)
	if learns && learning {
		c.learned(now, lo, hi, past, pastErr)
	}
	cut := now.Add(-c.span())
	i, _ := slices.BinarySearchFunc(c.history, cut, func(p upstate.Point, t time.Time) int { return p.At.Compare(t) })
	c.history = slices.Delete(c.history, 0, i)

	if len(c.history) == 0 || now.Sub(c.history[len(c.history)-1].At) > c.MaxAge {
		r.Note = "has no recent data"
		if c.NoDataFails {
			return fail(r, fmt.Sprintf("no %s data for %s", c.What, upstate.FormatDuration(c.MaxAge, upstate.DurationWindow)))
		}
		return r
	}
	last := c.history[len(c.history)-1]
	v := last.Value
	say := func(format string, args ...any) string {
		return fmt.Sprintf("%s %s%s ", c.What, anomaly.Number(v), c.Unit) + fmt.Sprintf(format, args...)
	}
	switch {
	case c.Above != nil && v > *c.Above:
		return fail(r, say("is above %s%s", anomaly.Number(*c.Above), c.Unit))
	case c.Below != nil && v < *c.Below:
		return fail(r, say("is below %s%s", anomaly.Number(*c.Below), c.Unit))
	}
	if c.Change != nil {
		if p, ok := c.at(last.At.Add(-c.Change.Over)); ok && p.Value != 0 {
			pct := (v - p.Value) / math.Abs(p.Value) * 100
			if math.Abs(pct) > c.Change.Percent {
				dir := "rose"
				if pct < 0 {
					dir = "fell"
				}
				return fail(r, say("%s %.0f%% in %s (from %s%s)", dir, math.Abs(pct), upstate.FormatDuration(c.Change.Over, upstate.DurationWindow), anomaly.Number(p.Value), c.Unit))
			}
		}
	}
	if c.Anomaly != nil {
		verdict := c.Anomaly.Judge(c.history[:len(c.history)-1], last)
		if verdict.Anomalous {
			return fail(r, anomaly.Explain(c.What, v, c.Unit, verdict))
		}
	}
	switch {
	case c.DegradedAbove != nil && v > *c.DegradedAbove:
		r.Outcome, r.Error = upstate.OutcomeSlow, say("is above %s%s", anomaly.Number(*c.DegradedAbove), c.Unit)
	case c.DegradedBelow != nil && v < *c.DegradedBelow:
		r.Outcome, r.Error = upstate.OutcomeSlow, say("is below %s%s", anomaly.Number(*c.DegradedBelow), c.Unit)
	}
	if r.OK() {
		r.Note = fmt.Sprintf("reads %s %s%s", c.What, anomaly.Number(v), c.Unit)
	}
	return r
}

// chunk is the past to learn next, [lo, hi): the newest the baseline
// needs and has not got, at most LearnChunk; false when nothing is due
// (all learned, or waiting to try again). Must be called with c.mu held.
func (c *Metric) chunk(now time.Time) (lo, hi time.Time, ok bool) {
	floor := now.Add(-c.span())
	if c.learnTo.IsZero() || now.Before(c.learnNext) {
		return lo, hi, false
	}
	if !c.learnTo.After(floor) {
		c.learnTo = time.Time{}
		return lo, hi, false
	}
	return later(floor, c.learnTo.Add(-LearnChunk)), c.learnTo, true
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// learned puts what Learn read of [lo, hi) before the points held. A
// failure is no verdict on the number: the other conditions judge as
// ever, the baseline waits, and the chunk is read again after learnRetry.
// Must be called with c.mu held.
func (c *Metric) learned(now, lo, hi time.Time, ps []upstate.Point, err error) {
	if err != nil {
		c.learnErr, c.learnNext = err.Error(), now.Add(learnRetry)
		return
	}
	if !c.learnTo.Equal(hi) {
		return // what is held was started afresh meanwhile
	}
	c.learnErr = ""
	end := hi
	if len(c.history) > 0 && c.history[0].At.Before(end) {
		end = c.history[0].At
	}
	i, _ := slices.BinarySearchFunc(ps, end, func(p upstate.Point, t time.Time) int { return p.At.Compare(t) })
	c.history = append(ps[:i:i], c.history...)
	c.learnTo = lo
	if !lo.After(now.Add(-c.span())) {
		c.learnTo = time.Time{} // all learned
	}
}

// BaselineReport is what a metric check's anomaly baseline has to go on,
// for people: how much history it holds, and when it starts judging.
type BaselineReport struct {
	ID, What, Unit string
	Source         string // where the numbers come from: pushed, prometheus
	// Points is how many points of history the check holds (Oldest to
	// Newest), within the Days the baseline reads.
	Points         int
	Oldest, Newest time.Time
	Days           int
	// Samples is how many points the baseline for now has, of the Needs
	// it takes to judge; Judging is whether it has them.
	Samples, Needs int
	Judging        bool
	// StartsJudgingAt is the first minute from now on whose baseline has
	// enough points, if a point comes each minute (now when Judging);
	// zero when not within Days.
	StartsJudgingAt time.Time
	// Learning says, in words, how learning the past from the series'
	// source goes while it does ("" once done, or for pushed numbers).
	Learning string
}

// Baseline reports on the anomaly baseline, from what the last probe
// read; false when the check has no anomaly rule.
func (c *Metric) Baseline() (BaselineReport, bool) {
	if c.Anomaly == nil {
		return BaselineReport{}, false
	}
	now := c.Clock.Now()
	d := c.Anomaly.Defaults()
	r := BaselineReport{ID: c.ID, What: c.What, Unit: c.Unit, Source: c.Source, Days: d.Days, Needs: d.MinSamples}
	c.mu.Lock()
	// A copy: the probe changes history in place, and the sums below
	// need not hold it up.
	history := slices.Clone(c.history)
	switch {
	case c.learnErr != "":
		r.Learning = fmt.Sprintf("could not read the past from %s (trying again at %s): %s", c.Source, c.learnNext.UTC().Format(time.RFC3339), c.learnErr)
	case !c.learnTo.IsZero():
		r.Learning = fmt.Sprintf("learning the past from %s: %s of %d days so far", c.Source,
			upstate.FormatDuration(now.Sub(c.learnTo), upstate.DurationWords), d.Days)
	}
	c.mu.Unlock()
	r.Points = len(history)
	if n := len(history); n > 0 {
		r.Oldest, r.Newest = history[0].At, history[n-1].At
	}
	b, ok := d.BaselineAt(history, now)
	r.Samples, r.Judging = b.Samples, ok
	r.StartsJudgingAt, _ = d.StartsJudging(history, now)
	if ok {
		r.StartsJudgingAt = now.Truncate(time.Minute)
	}
	return r, true
}

// at is the point at or just before t. Must be called with c.mu held.
func (c *Metric) at(t time.Time) (upstate.Point, bool) {
	i, found := slices.BinarySearchFunc(c.history, t, func(p upstate.Point, t time.Time) int { return p.At.Compare(t) })
	if found {
		return c.history[i], true
	}
	if i == 0 {
		return upstate.Point{}, false
	}
	return c.history[i-1], true
}

// Prometheus reads a PromQL expression from a Prometheus-compatible HTTP
// API (Prometheus, Thanos, Mimir, VictoriaMetrics): query_range for
// history, a point every 15 seconds, and an instant query for the
// newest value; several series are summed.
type Prometheus struct {
	URL     string // the API base, e.g. http://prometheus:9090
	Query   string
	Client  *http.Client
	Timeout time.Duration
	Header  http.Header // e.g. Authorization
}

// Points implements Series.
func (p *Prometheus) Points(ctx context.Context, from, to time.Time) ([]upstate.Point, error) {
	const step = 15 * time.Second
	const most = 10000 // Prometheus refuses more than 11,000 points a query
	var out []upstate.Point
	from = from.Truncate(step)
	for start := from; start.Before(to); start = start.Add(most * step) {
		end := start.Add((most - 1) * step)
		if end.After(to) {
			end = to
		}
		ps, err := p.queryRange(ctx, start, end, step)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	// The range's last step may be up to 15 s old: ask for now as well.
	if last, ok, err := p.instant(ctx, to); err != nil {
		return nil, err
	} else if ok && (len(out) == 0 || last.At.After(out[len(out)-1].At)) {
		out = append(out, last)
	}
	return out, nil
}

// Learn implements Learner: the query a minute apart, each call one
// query_range (the caller keeps to LearnChunk), given longer than a
// probe's timeout (at least 30 s): it reads days, not minutes.
func (p *Prometheus) Learn(ctx context.Context, from, to time.Time) ([]upstate.Point, error) {
	if to.Sub(from) > LearnChunk {
		return nil, fmt.Errorf("prometheus: learning %s at once, more than %s", to.Sub(from), LearnChunk)
	}
	q := *p
	q.Timeout = max(p.Timeout, 30*time.Second)
	ps, err := q.queryRange(ctx, from.Truncate(time.Minute), to, time.Minute)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ps, func(x upstate.Point) bool { return !x.At.Before(to) }), nil
}

// instant reads the query's value at t, summed over its series.
func (p *Prometheus) instant(ctx context.Context, t time.Time) (upstate.Point, bool, error) {
	var doc struct {
		Data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := p.call(ctx, "/api/v1/query", url.Values{"query": {p.Query}, "time": {strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)}}, &doc); err != nil {
		return upstate.Point{}, false, err
	}
	if doc.Data.ResultType != "vector" || len(doc.Data.Result) == 0 {
		return upstate.Point{}, false, nil
	}
	sum, any := 0.0, false
	for _, s := range doc.Data.Result {
		str, _ := s.Value[1].(string)
		if v, err := strconv.ParseFloat(str, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			sum, any = sum+v, true
		}
	}
	return upstate.Point{At: t.UTC(), Value: sum}, any, nil
}

// call posts a form to the API and decodes its data, or its error.
func (p *Prometheus) call(ctx context.Context, path string, form url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(p.URL, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range p.Header {
		req.Header[k] = vs
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return fmt.Errorf("prometheus: %s", describeErr(ctx, err, p.Timeout))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	var head struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("prometheus answered HTTP %d with something that is not its API's JSON: %v", resp.StatusCode, jsonWhere(body, err))
	}
	if head.Status != "success" {
		return fmt.Errorf("prometheus: %s: %s", head.ErrorType, head.Error)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("prometheus: the answer does not fit the query: %v", err)
	}
	return nil
}

func (p *Prometheus) queryRange(ctx context.Context, start, end time.Time, step time.Duration) ([]upstate.Point, error) {
	form := url.Values{"query": {p.Query}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)},
		"step": {strconv.Itoa(int(step.Seconds()))}}
	var doc struct {
		Data struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := p.call(ctx, "/api/v1/query_range", form, &doc); err != nil {
		return nil, err
	}
	if doc.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("prometheus: the query gives a %s, not a series of numbers", doc.Data.ResultType)
	}
	var result []struct {
		Values [][2]any `json:"values"`
	}
	if err := json.Unmarshal(doc.Data.Result, &result); err != nil {
		return nil, fmt.Errorf("prometheus: the result is not a matrix: %v", err)
	}
	sums := map[int64]float64{}
	for _, s := range result {
		for _, pair := range s.Values {
			ts, ok1 := pair[0].(float64)
			str, ok2 := pair[1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("prometheus: a value is not [time, \"number\"]")
			}
			v, err := strconv.ParseFloat(str, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			sums[int64(ts)] += v
		}
	}
	out := make([]upstate.Point, 0, len(sums))
	for ts, v := range sums {
		out = append(out, upstate.Point{At: time.Unix(ts, 0).UTC(), Value: v})
	}
	slices.SortFunc(out, func(a, b upstate.Point) int { return a.At.Compare(b.At) })
	return out, nil
}
