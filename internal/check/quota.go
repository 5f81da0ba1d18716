package check

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/anomaly"
	"github.com/upstatehq/upstate/internal/clock"
)

// quotaKind watches the use of a limited resource (an API quota).
func quotaKind() Kind {
	return Kind{Name: "quota", New: func() Section { return &QuotaSection{} }, Told: true}
}

// QuotaSection is a quota check's configuration: usage (a pushed series,
// or prometheus.query) against limit or limit_metric; errors counts quota
// errors a minute.
type QuotaSection struct {
	Usage       string            `yaml:"usage"`
	Labels      map[string]string `yaml:"labels"`
	Prometheus  *PromSource       `yaml:"prometheus"`
	What        string            `yaml:"what"`
	Limit       float64           `yaml:"limit"`
	LimitMetric string            `yaml:"limit_metric"`
	Errors      string            `yaml:"errors"`
	ErrorsAbove float64           `yaml:"errors_above"`
	WarnAt      float64           `yaml:"warn_at"` // percent
	FailAt      float64           `yaml:"fail_at"` // percent
	WarnWithin  time.Duration     `yaml:"warn_within"`
}

// quotaWindow is how far back a quota check reads the rate of use; it is
// not a key.
const quotaWindow = 30 * time.Minute

// Validate implements Section.
func (s *QuotaSection) Validate(v Validator, c *Common) {
	switch {
	case s.Usage == "" && s.Prometheus == nil:
		v.Errorf("", "quota checks need usage (a pushed series name) or prometheus.query")
	case s.Usage != "" && !metricName.MatchString(s.Usage):
		v.Errorf("usage", "%q is not a metric name", s.Usage)
	case s.Prometheus != nil:
		promURL(v, s.Prometheus)
		if s.Prometheus.Query == "" {
			v.Errorf("prometheus", "query is required: the usage")
		}
	}
	if s.Limit <= 0 && s.LimitMetric == "" {
		v.Errorf("", "limit (a number) or limit_metric (a pushed series) is required")
	}
	if s.LimitMetric != "" && !metricName.MatchString(s.LimitMetric) {
		v.Errorf("limit_metric", "%q is not a metric name", s.LimitMetric)
	}
	if s.Errors != "" && !metricName.MatchString(s.Errors) {
		v.Errorf("errors", "%q is not a metric name", s.Errors)
	}
	if s.ErrorsAbove == 0 {
		s.ErrorsAbove = 5
	}
	if s.WarnAt == 0 {
		s.WarnAt = 80
	}
	if s.FailAt == 0 {
		s.FailAt = 100
	}
	if s.WarnAt <= 0 || s.FailAt > 1000 || s.WarnAt >= s.FailAt {
		v.Errorf("warn_at", "warn_at (%v%%) must be above 0 and below fail_at (%v%%)", s.WarnAt, s.FailAt)
	}
	if s.WarnWithin == 0 {
		s.WarnWithin = time.Hour
	}
	told(c, &s.What, 30*time.Second)
}

// PushedSeries implements PushedReader.
func (s *QuotaSection) PushedSeries() []string {
	usage := s.Usage
	if s.Prometheus.query() != "" {
		usage = ""
	}
	return seriesKeys(s.Labels, usage, s.LimitMetric, s.Errors)
}

// Prober implements Section.
func (s *QuotaSection) Prober(c Common, env Env) (Prober, error) {
	q := &Quota{ID: c.ID, What: s.What, Usage: series(s.Prometheus, s.Labels, s.Usage, s.Prometheus.query(), c.Timeout, env), Limit: s.Limit,
		ErrorsAbove: s.ErrorsAbove, WarnAt: s.WarnAt / 100, FailAt: s.FailAt / 100, Window: quotaWindow, WarnWithin: s.WarnWithin,
		MaxAge: toldMaxAge(c.Interval), Clock: env.Clock}
	if s.LimitMetric != "" {
		q.LimitSeries = series(s.Prometheus, s.Labels, s.LimitMetric, "", c.Timeout, env)
	}
	if s.Errors != "" {
		q.Errors = series(s.Prometheus, s.Labels, s.Errors, "", c.Timeout, env)
	}
	return q, nil
}

// Forecast says how long until usage reaches limit at the rate of the
// points (oldest first, usage so far in the current quota period): a
// least-squares line through the points since the last reset (a drop in
// usage). It is false when usage is not rising or there are too few points.
func Forecast(points []upstate.Point, limit float64) (time.Duration, bool) {
	start := 0
	for i := 1; i < len(points); i++ {
		if points[i].Value < points[i-1].Value {
			start = i // the quota reset
		}
	}
	ps := points[start:]
	if len(ps) < 3 {
		return 0, false
	}
	t0 := ps[0].At
	var n, sx, sy, sxx, sxy float64
	for _, p := range ps {
		x := p.At.Sub(t0).Minutes()
		n++
		sx += x
		sy += p.Value
		sxx += x * x
		sxy += x * p.Value
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0, false
	}
	slope := (n*sxy - sx*sy) / den // per minute
	if slope <= 0 {
		return 0, false
	}
	last := ps[len(ps)-1]
	left := limit - last.Value
	if left <= 0 {
		return 0, true
	}
	return time.Duration(left / slope * float64(time.Minute)), true
}

// Quota watches usage of a limited resource (an API quota): failing when
// it is used up or quota errors burst, degraded when it passes WarnAt or
// is forecast to run out within WarnWithin at the recent rate.
type Quota struct {
	ID    string
	What  string // "classroom API quota"
	Usage Series
	// Limit, or LimitSeries when the app reports it.
	Limit       float64
	LimitSeries Series
	// Errors, when set, counts quota errors (HTTP 429) per minute;
	// ErrorsAbove of them in the last minute is a failure.
	Errors      Series
	ErrorsAbove float64
	WarnAt      float64 // share of the limit, 0–1
	FailAt      float64
	Window      time.Duration // the rate is read over this
	WarnWithin  time.Duration
	MaxAge      time.Duration
	Clock       clock.Clock
}

// Probe implements Prober.
func (q *Quota) Probe(ctx context.Context) upstate.Result {
	now := q.Clock.Now()
	r := upstate.Result{CheckID: q.ID, At: now, Outcome: upstate.OutcomeOK}
	if q.Errors != nil {
		es, err := q.Errors.Points(ctx, now.Add(-2*time.Minute), now.Add(time.Second))
		if err != nil {
			return fail(r, "could not read the quota errors: "+err.Error())
		}
		if n := len(es); n > 0 && es[n-1].Value > q.ErrorsAbove {
			return fail(r, fmt.Sprintf("%s errors: %s a minute (HTTP 429 and the like)", q.What, anomaly.Number(es[n-1].Value)))
		}
	}
	us, err := q.Usage.Points(ctx, now.Add(-q.Window), now.Add(time.Second))
	if err != nil {
		return fail(r, "could not read the quota usage: "+err.Error())
	}
	if len(us) == 0 || now.Sub(us[len(us)-1].At) > q.MaxAge {
		r.Note = "has no recent usage data"
		return r
	}
	limit := q.Limit
	if q.LimitSeries != nil {
		ls, err := q.LimitSeries.Points(ctx, now.Add(-q.Window), now.Add(time.Second))
		if err != nil {
			return fail(r, "could not read the quota limit: "+err.Error())
		}
		if len(ls) > 0 {
			limit = ls[len(ls)-1].Value
		}
	}
	if limit <= 0 {
		r.Note = "has no limit to compare with"
		return r
	}
	used := us[len(us)-1].Value
	share := used / limit
	say := fmt.Sprintf("%s %s of %s used (%.0f%%)", q.What, anomaly.Number(used), anomaly.Number(limit), math.Floor(share*100))
	if share >= q.FailAt {
		return fail(r, say)
	}
	left, rising := Forecast(us, limit)
	if rising {
		say += fmt.Sprintf("; at the current rate it runs out in about %s", upstate.FormatDuration(left, upstate.DurationAbout))
	}
	switch {
	case share >= q.WarnAt:
		r.Outcome, r.Error = upstate.OutcomeSlow, say
	case rising && left <= q.WarnWithin:
		r.Outcome, r.Error = upstate.OutcomeSlow, say
	default:
		r.Note = "reports " + say
	}
	return r
}
