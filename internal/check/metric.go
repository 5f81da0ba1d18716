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
	// Series is where the numbers come from (pushed, or a Prometheus query).
	Series Series
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

	mu      sync.Mutex
	history []upstate.Point
	loaded  time.Time // points up to here are in history
}

// span is how much history the conditions need.
func (c *Metric) span() time.Duration {
	s := c.MaxAge + time.Minute
	if c.Change != nil {
		s = max(s, c.Change.Over+2*time.Minute)
	}
	if c.Anomaly != nil {
		s = max(s, time.Duration(c.Anomaly.Defaults().Days+1)*24*time.Hour)
	}
	return s
}

// Probe implements Prober.
func (c *Metric) Probe(ctx context.Context) upstate.Result {
	now := c.Clock.Now()
	r := upstate.Result{CheckID: c.ID, At: now, Outcome: upstate.OutcomeOK}
	c.mu.Lock()
	defer c.mu.Unlock()
	from := now.Add(-c.span())
	if c.loaded.After(from) {
		from = c.loaded
	}
	fresh, err := c.Series.Points(ctx, from, now.Add(time.Second))
	if err != nil {
		return fail(r, "could not read the numbers: "+err.Error())
	}
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
	cut := now.Add(-c.span())
	i, _ := slices.BinarySearchFunc(c.history, cut, func(p upstate.Point, t time.Time) int { return p.At.Compare(t) })
	c.history = slices.Delete(c.history, 0, i)

	if len(c.history) == 0 || now.Sub(c.history[len(c.history)-1].At) > c.MaxAge {
		r.Note = "has no recent data"
		if c.NoDataFails {
			return fail(r, fmt.Sprintf("no %s data for %s", c.What, upstate.FormatLatency(c.MaxAge)))
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
				return fail(r, say("%s %.0f%% in %s (from %s%s)", dir, math.Abs(pct), upstate.FormatLatency(c.Change.Over), anomaly.Number(p.Value), c.Unit))
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
// history, a point a minute; several series are summed.
type Prometheus struct {
	URL     string // the API base, e.g. http://prometheus:9090
	Query   string
	Client  *http.Client
	Timeout time.Duration
	Header  http.Header // e.g. Authorization
}

// Points implements Series.
func (p *Prometheus) Points(ctx context.Context, from, to time.Time) ([]upstate.Point, error) {
	const step = time.Minute
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
	return out, nil
}

func (p *Prometheus) queryRange(ctx context.Context, start, end time.Time, step time.Duration) ([]upstate.Point, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	form := url.Values{"query": {p.Query}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)},
		"step": {strconv.Itoa(int(step.Seconds()))}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(p.URL, "/")+"/api/v1/query_range", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range p.Header {
		req.Header[k] = vs
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %s", describeErr(ctx, err, p.Timeout))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	var doc struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("prometheus answered HTTP %d with something that is not its API's JSON: %v", resp.StatusCode, jsonWhere(body, err))
	}
	if doc.Status != "success" {
		return nil, fmt.Errorf("prometheus: %s: %s", doc.ErrorType, doc.Error)
	}
	if doc.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("prometheus: the query gives a %s, not a series of numbers", doc.Data.ResultType)
	}
	sums := map[int64]float64{}
	for _, s := range doc.Data.Result {
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
