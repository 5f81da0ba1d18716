package adminapi

import (
	"context"
	"io"
	"math"
	"mime"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Samples keeps numbers pushed to Upstate.
type Samples interface {
	// PushSamples keeps the samples; source says who pushed them, for
	// the series limits.
	PushSamples(ctx context.Context, source string, ss []upstate.Sample) (int, error)
	// PushHistory keeps samples about minutes that are over, each
	// minute's replacing what it held.
	PushHistory(ctx context.Context, source string, ss []upstate.Sample) (int, error)
}

func (s *Server) listSLOs(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	type burn struct {
		Long      string  `json:"long_window"`
		Short     string  `json:"short_window"`
		Threshold float64 `json:"threshold"`
		LongRate  float64 `json:"long_burn_rate"`
		ShortRate float64 `json:"short_burn_rate"`
		Pages     bool    `json:"pages"`
	}
	type slo struct {
		ID        string  `json:"id"`
		What      string  `json:"what"`
		Objective float64 `json:"objective_percent"`
		Period    string  `json:"period"`
		Good      float64 `json:"good_events"`
		Total     float64 `json:"total_events"`
		Remaining float64 `json:"error_budget_remaining_percent"`
		Burns     []burn  `json:"burn_rates"`
		Error     string  `json:"error,omitempty"`
	}
	out := []slo{}
	for _, x := range s.opts.SLOs(r.Context()) {
		o := slo{ID: x.ID, What: x.What, Objective: x.Budget.Objective * 100, Period: x.Budget.Period.String(), Good: x.Budget.Good, Total: x.Budget.Total,
			Remaining: x.Budget.Remaining * 100, Error: x.Error, Burns: []burn{}}
		for _, b := range x.Burns {
			o.Burns = append(o.Burns, burn{b.Long.String(), b.Short.String(), b.Rate, x.Budget.Burn[b.Long], x.Budget.Burn[b.Short], b.Page})
		}
		out = append(out, o)
	}
	respond.JSON(w, http.StatusOK, map[string]any{"slos": out})
}

// MaxSamples is the most samples one push may carry, and MaxPush the
// largest body (the web server's limit for the route is the same).
// MaxHistory is how far back a history push may go: far enough for a
// baseline to judge at once (it needs a day, two weeks give it weekdays
// and weekends), bounded so a push cannot rewrite months.
const (
	MaxSamples = 10_000
	MaxPush    = 4 << 20
	MaxHistory = 14 * 24 * time.Hour
)

// pushMetrics takes numbers as JSON ({"metrics": [{name, labels, value,
// at}]}) or in the Prometheus text format (text/plain).
func (s *Server) pushMetrics(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	now := s.opts.Now()
	samples, ok := readSamples(w, r, now)
	if !ok {
		return
	}
	for i, smp := range samples {
		if d := smp.At.Sub(now); math.Abs(d.Hours()) > 24 {
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "metrics[%d]: at %s is more than a day from now", i, smp.At.UTC().Format(time.RFC3339)))
			return
		}
	}
	if len(samples) > MaxSamples {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "%d samples in one push: at most %d", len(samples), MaxSamples))
		return
	}
	n, err := s.opts.Samples.PushSamples(r.Context(), pushSource(p), samples)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"accepted": n, "series": seriesCount(samples)})
}

// pushHistory takes numbers about minutes that are over, in the bodies
// pushMetrics takes, each with its time, at most MaxHistory back: per
// series and minute they replace what is stored, so the same history
// pushed twice is kept once.
func (s *Server) pushHistory(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	now := s.opts.Now()
	samples, ok := readSamples(w, r, time.Time{})
	if !ok {
		return
	}
	if len(samples) > MaxSamples {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "%d samples in one push: at most %d (push longer history in several)", len(samples), MaxSamples))
		return
	}
	open := now.Truncate(time.Minute) // the minute live pushes are filling
	for i, smp := range samples {
		at := smp.At.UTC().Format(time.RFC3339)
		switch {
		case smp.At.IsZero():
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "metrics[%d].at is required: history says when each number was (in the text format, a timestamp in ms)", i))
			return
		case now.Sub(smp.At) > MaxHistory:
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "metrics[%d]: at %s is more than %d days ago: history goes back at most that far", i, at, int(MaxHistory.Hours()/24)))
			return
		case !smp.At.Before(open):
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "metrics[%d]: at %s is not over yet: history is for minutes that are over (push this one to POST /api/v1/metrics)", i, at))
			return
		}
	}
	n, err := s.opts.Samples.PushHistory(r.Context(), pushSource(p), samples)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"accepted": n, "series": seriesCount(samples)})
}

// readSamples reads a push's body, JSON or the Prometheus text format;
// a sample without a time is at now. It answers the request itself when
// the body is wrong.
func readSamples(w http.ResponseWriter, r *http.Request, now time.Time) ([]upstate.Sample, bool) {
	var samples []upstate.Sample
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "text/plain" || ct == "application/openmetrics-text" {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPush))
		if err != nil {
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "the body is larger than %d bytes", MaxPush))
			return nil, false
		}
		if samples, err = check.ParsePromText(body, now); err != nil {
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "Prometheus text: %v", err))
			return nil, false
		}
	} else {
		var b struct {
			Metrics []struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
				Value  *float64          `json:"value"`
				At     *time.Time        `json:"at"`
			} `json:"metrics"`
		}
		if err := respond.DecodeLimit(w, r, &b, MaxPush); err != nil {
			respond.Error(w, err)
			return nil, false
		}
		for i, m := range b.Metrics {
			if m.Value == nil {
				respond.Error(w, upstate.Errorf(upstate.EINVALID, "metrics[%d].value is required", i))
				return nil, false
			}
			smp := upstate.Sample{Name: m.Name, Labels: m.Labels, Value: *m.Value, At: now}
			if m.At != nil {
				smp.At = *m.At
			}
			if err := check.ValidSample(smp); err != nil {
				respond.Error(w, upstate.Errorf(upstate.EINVALID, "metrics[%d]: %v", i, err))
				return nil, false
			}
			samples = append(samples, smp)
		}
	}
	if len(samples) == 0 {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "no metrics in the body"))
		return nil, false
	}
	return samples, true
}

// pushSource is who pushed, for the series limits.
func pushSource(p upstate.Principal) string {
	if p.Token != nil {
		return "token:" + p.Token.ID
	}
	return "user:" + p.User.ID
}

func seriesCount(ss []upstate.Sample) int {
	seen := map[string]bool{}
	for _, s := range ss {
		seen[check.SeriesKey(s.Name, s.Labels)] = true
	}
	return len(seen)
}

// baseline reports how much history a metric check's anomaly baseline
// has and when it starts judging.
func (s *Server) baseline(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	b, err := s.opts.Baseline(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	respond.JSON(w, http.StatusOK, map[string]any{
		"check": b.ID, "what": b.What, "unit": b.Unit, "source": b.Source,
		"points": b.Points, "oldest": at(b.Oldest), "newest": at(b.Newest), "days": b.Days,
		"samples": b.Samples, "needs": b.Needs, "judging": b.Judging, "starts_judging_at": at(b.StartsJudgingAt),
		"learning": b.Learning,
	})
}
