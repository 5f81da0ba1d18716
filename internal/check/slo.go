package check

import (
	"context"
	"fmt"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// sloKind alerts on an error-rate objective's burn rate.
func sloKind() Kind {
	return Kind{Name: "slo", New: func() Section { return &SLOSection{} }, Told: true}
}

// SLOSection is an slo check's configuration: good and total counters
// (pushed, or prometheus good_query and total_query) and the objective
// over the period.
type SLOSection struct {
	Good       string            `yaml:"good"`
	Total      string            `yaml:"total"`
	Labels     map[string]string `yaml:"labels"`
	Prometheus *PromSource       `yaml:"prometheus"`
	What       string            `yaml:"what"`
	Objective  float64           `yaml:"objective"` // percent, e.g. 99.9
	Period     time.Duration     `yaml:"slo_period"`
}

// Validate implements Section.
func (s *SLOSection) Validate(v Validator, c *Common) {
	switch {
	case s.Prometheus != nil:
		promURL(v, s.Prometheus)
		if s.Prometheus.GoodQuery == "" || s.Prometheus.TotalQuery == "" {
			v.Errorf("prometheus", "good_query and total_query are required: counters of good and of all events")
		}
	case s.Good == "" || s.Total == "":
		v.Errorf("", "slo checks need good and total (pushed counters) or prometheus good_query and total_query")
	case !metricName.MatchString(s.Good) || !metricName.MatchString(s.Total):
		v.Errorf("", "good and total must be metric names")
	}
	if s.Objective <= 0 || s.Objective >= 100 {
		v.Errorf("objective", "%v is not a percentage below 100 (e.g. 99.9)", s.Objective)
	}
	if s.Period == 0 {
		s.Period = 30 * 24 * time.Hour
	}
	if s.Period < 24*time.Hour {
		v.Errorf("slo_period", "%s is too short: at least 1d", s.Period)
	}
	told(c, &s.What, time.Minute)
}

// PushedSeries implements PushedReader.
func (s *SLOSection) PushedSeries() []string {
	good, total := s.Good, s.Total
	if s.Prometheus.goodQuery() != "" {
		good = ""
	}
	if s.Prometheus.totalQuery() != "" {
		total = ""
	}
	return seriesKeys(s.Labels, good, total)
}

// Prober implements Section.
func (s *SLOSection) Prober(c Common, env Env) (Prober, error) {
	return &SLO{ID: c.ID, What: s.What, Good: series(s.Prometheus, s.Labels, s.Good, s.Prometheus.goodQuery(), c.Timeout, env),
		Total:     series(s.Prometheus, s.Labels, s.Total, s.Prometheus.totalQuery(), c.Timeout, env),
		Objective: s.Objective / 100, Period: s.Period, Burns: DefaultBurns(), Clock: env.Clock}, nil
}

// BurnWindow is one rule of multi-window, multi-burn-rate alerting: the
// error budget burning faster than Rate over both the long and the short
// window (the short one says it is still happening).
type BurnWindow struct {
	Long, Short time.Duration
	Rate        float64
	Page        bool // fast burn pages (failing); slow burn is a ticket (degraded)
}

// DefaultBurns are the Site Reliability Workbook's rules for a 30-day
// objective: 2% of the budget in an hour or 5% in six hours pages; 10%
// in three days makes a ticket.
func DefaultBurns() []BurnWindow {
	return []BurnWindow{
		{Long: time.Hour, Short: 5 * time.Minute, Rate: 14.4, Page: true},
		{Long: 6 * time.Hour, Short: 30 * time.Minute, Rate: 6, Page: true},
		{Long: 72 * time.Hour, Short: 6 * time.Hour, Rate: 1},
	}
}

// SLO is an error-rate objective over good and total counters
// (cumulative, like Prometheus' _total; resets are handled).
type SLO struct {
	ID        string
	What      string
	Good      Series
	Total     Series
	Objective float64 // e.g. 0.999
	Period    time.Duration
	Burns     []BurnWindow
	Clock     clock.Clock
}

// Budget is an SLO's state.
type Budget struct {
	Objective float64
	Period    time.Duration
	// Good and Total are the events in the period so far.
	Good, Total float64
	// Remaining is the share of the error budget left (below 0: overspent).
	Remaining float64
	// Burn is the burn rate over each rule's long window.
	Burn map[time.Duration]float64
}

// increase is how much a counter grew over the points, across resets.
func increase(ps []upstate.Point) float64 {
	var sum float64
	for i := 1; i < len(ps); i++ {
		d := ps[i].Value - ps[i-1].Value
		if d < 0 { // a reset: the counter started again from zero
			d = ps[i].Value
		}
		sum += d
	}
	return sum
}

// Status reads the counters and computes the budget and burn rates.
func (s *SLO) Status(ctx context.Context) (Budget, error) {
	now := s.Clock.Now()
	b := Budget{Objective: s.Objective, Period: s.Period, Burn: map[time.Duration]float64{}}
	from := now.Add(-s.Period)
	good, err := s.Good.Points(ctx, from, now.Add(time.Second))
	if err != nil {
		return b, fmt.Errorf("good events: %w", err)
	}
	total, err := s.Total.Points(ctx, from, now.Add(time.Second))
	if err != nil {
		return b, fmt.Errorf("total events: %w", err)
	}
	since := func(ps []upstate.Point, t time.Time) []upstate.Point {
		for i, p := range ps {
			if !p.At.Before(t) {
				if i > 0 {
					return ps[i-1:] // the point before the window is where it starts counting
				}
				return ps
			}
		}
		return nil
	}
	b.Good, b.Total = increase(good), increase(total)
	allowed := 1 - s.Objective
	if b.Total > 0 {
		b.Remaining = 1 - (b.Total-b.Good)/b.Total/allowed
	} else {
		b.Remaining = 1
	}
	burn := func(w time.Duration) float64 {
		g, t := increase(since(good, now.Add(-w))), increase(since(total, now.Add(-w)))
		if t <= 0 {
			return 0
		}
		return max(t-g, 0) / t / allowed
	}
	for _, r := range s.Burns {
		b.Burn[r.Long], b.Burn[r.Short] = burn(r.Long), burn(r.Short)
	}
	return b, nil
}

// Probe implements Prober: failing on a fast burn, degraded on a slow one.
func (s *SLO) Probe(ctx context.Context) upstate.Result {
	r := upstate.Result{CheckID: s.ID, At: s.Clock.Now(), Outcome: upstate.OutcomeOK}
	b, err := s.Status(ctx)
	if err != nil {
		return fail(r, "could not read the counters: "+err.Error())
	}
	left := fmt.Sprintf("%.1f%% of the error budget left", b.Remaining*100)
	for _, w := range s.Burns {
		long, short := b.Burn[w.Long], b.Burn[w.Short]
		if long > w.Rate && short > w.Rate {
			msg := fmt.Sprintf("%s is burning its error budget %.1f× too fast over %s (%.1f× over %s); %s of %.3g%% over %s",
				s.What, long, upstate.FormatDuration(w.Long, upstate.DurationWindow), short, upstate.FormatDuration(w.Short, upstate.DurationWindow), left, s.Objective*100, upstate.FormatDuration(s.Period, upstate.DurationWindow))
			if w.Page {
				return fail(r, msg)
			}
			r.Outcome, r.Error = upstate.OutcomeSlow, msg
			return r
		}
	}
	r.Note = "is within its objective: " + left
	return r
}

// SLOReport is an SLO's budget for people to look at.
type SLOReport struct {
	ID, What string
	Budget   Budget
	Burns    []BurnWindow
	Error    string // when the counters could not be read
}

// Report reads the SLO's state for the admin page.
func (s *SLO) Report(ctx context.Context) SLOReport {
	b, err := s.Status(ctx)
	r := SLOReport{ID: s.ID, What: s.What, Budget: b, Burns: s.Burns}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}
