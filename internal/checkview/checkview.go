// Package checkview works out the figures of the operators' page for a
// check, the same for the admin page (/admin/checks/{id}) and the API
// (GET /api/v1/checks/{id}): state and since when, the last results, the
// last error, p50/p95 latency per bucket and uptime over 24 h, 7 d and
// 30 d from the rollups, certificate days left, and the incidents the
// check opened. It reads the store and the app's live state and returns
// plain values, so the web speaks no store types.
package checkview

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// Source is what the figures are read from.
type Source interface {
	ListResults(ctx context.Context, checkID string, from, to time.Time) ([]upstate.Result, error)
	ListRollups(ctx context.Context, period store.Period, checkIDs []string, from, to time.Time) ([]store.Rollup, error)
	SumRollups(ctx context.Context, period store.Period, checkIDs []string, from, to time.Time, by store.SumBy) ([]store.Rollup, error)
	ListIncidents(ctx context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error)
}

// Live is what the running app knows of a check beyond the store: its
// condition (the decision machine's, newer than the stored one), its last
// result and the certificate its last probe was shown.
type Live struct {
	Condition upstate.Condition
	Last      upstate.Result // zero before the first since start
	// CertExpiry is when the certificate the last probe saw expires; zero
	// for none seen.
	CertExpiry time.Time
	// Regions are each region's own condition, for a check probed from
	// several (regions:); nil otherwise.
	Regions []Region
}

// Region is one region's condition of a check probed from several.
type Region struct {
	Name      string
	Condition upstate.Condition
}

// Options configure the Views.
type Options struct {
	Source Source
	Now    func() time.Time
	// Checks lists every configured check.
	Checks func() []upstate.CheckInfo
	// Live says what the app knows of a check now; false for one it does
	// not run.
	Live func(id string) (Live, bool)
	// Told reports whether a kind's results are told rather than measured
	// (no latency chart, cannot be run now).
	Told func(kind string) bool
}

// Views works out check pages.
type Views struct{ opts Options }

// New returns the Views.
func New(opts Options) (*Views, error) {
	if opts.Source == nil || opts.Checks == nil || opts.Live == nil || opts.Told == nil {
		return nil, errors.New("checkview: Options.Source, Checks, Live and Told are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Views{opts: opts}, nil
}

// Period is a span the page charts and counts uptime over.
type Period struct {
	Name string        // "24h", "7d", "30d"
	Span time.Duration // how far back
	Step time.Duration // one chart bucket
}

// Periods are the spans the page offers, shortest first.
func Periods() []Period {
	return []Period{{"24h", 24 * time.Hour, time.Hour}, {"7d", 7 * 24 * time.Hour, 4 * time.Hour}, {"30d", 30 * 24 * time.Hour, 6 * time.Hour}}
}

// PeriodOf is the period named ("" for 24h); EINVALID for another name.
func PeriodOf(name string) (Period, error) {
	if name == "" {
		name = "24h"
	}
	for _, p := range Periods() {
		if p.Name == name {
			return p, nil
		}
	}
	return Period{}, upstate.Errorf(upstate.EINVALID, "period: %q is not one of 24h, 7d, 30d", name)
}

// Bucket is one point of the latency chart.
type Bucket struct {
	Start time.Time
	Count int // results in it; 0 for none (a gap)
	Fail  int
	// P50 and P95 are from the bucket's latency histogram; for results
	// stored before it was kept, both are the mean and FromMean is set.
	P50, P95  time.Duration
	Mean, Max time.Duration
	FromMean  bool
}

// Uptime is the share of results that were not failures (ok and slow
// count as up, as the public page counts a slow service as up) over a
// period. Count 0 is no data.
type Uptime struct {
	Period string
	Count  int
	Up     int
}

// Ratio is Up/Count, 0..1; -1 without data.
func (u Uptime) Ratio() float64 {
	if u.Count == 0 {
		return -1
	}
	return float64(u.Up) / float64(u.Count)
}

// Opened is an incident the check opened.
type Opened struct {
	ID       string
	Name     string
	Status   upstate.IncidentStatus
	Started  time.Time
	Resolved *time.Time
}

// Report is a check's page.
type Report struct {
	Info upstate.CheckInfo
	// Known is false for a check the app has no live state of (not run
	// since start and no stored condition): Condition is then zero.
	Known     bool
	Condition upstate.Condition
	Told      bool
	// Results are the last ones, newest first, at most LastResults.
	Results []upstate.Result
	// LastError is the newest failing result of the last day (or of
	// Results); nil for none.
	LastError *upstate.Result
	Period    Period
	Buckets   []Bucket // oldest first
	Uptime    []Uptime // 24h, 7d, 30d
	// CertExpiry is when the certificate its last probe saw expires;
	// zero for none (a kind without one, or not probed since start).
	CertExpiry time.Time
	CertDays   *int // whole days left, negative once expired; nil for none
	Opened     []Opened
	Now        time.Time
	// Regions: see Live.
	Regions []Region
}

// LastResults is how many results a page lists.
const LastResults = 20

// maxOpened is how many opened incidents a page lists.
const maxOpened = 20

// Summary is a check's row in the list of every check.
type Summary struct {
	Info      upstate.CheckInfo
	Known     bool
	Condition upstate.Condition
	Told      bool
	Last      upstate.Result // zero when none since start
	Uptime24h Uptime
}

// List summarises every check, in configuration order.
func (v *Views) List(ctx context.Context) ([]Summary, error) {
	now := v.opts.Now()
	from := store.Hour.Bucket(now).Add(-23 * time.Hour)
	// The database adds each check's hours up: a row per check.
	rolls, err := v.opts.Source.SumRollups(ctx, store.Hour, nil, from, now.Add(time.Hour), store.ByCheck)
	if err != nil {
		return nil, err
	}
	up := make(map[string]*Uptime, len(rolls))
	for _, r := range rolls {
		up[r.CheckID] = &Uptime{Period: "24h", Count: r.Count, Up: r.OK + r.Slow}
	}
	var out []Summary
	for _, info := range v.opts.Checks() {
		s := Summary{Info: info, Told: v.opts.Told(info.Spec.Kind), Uptime24h: Uptime{Period: "24h"}}
		if l, ok := v.opts.Live(info.Spec.ID); ok {
			s.Known, s.Condition, s.Last = true, l.Condition, l.Last
		}
		if u := up[info.Spec.ID]; u != nil {
			s.Uptime24h = *u
		}
		out = append(out, s)
	}
	return out, nil
}

// Info is one check's definition; ENOTFOUND for an unknown id.
func (v *Views) Info(id string) (upstate.CheckInfo, error) {
	for _, c := range v.opts.Checks() {
		if c.Spec.ID == id {
			return c, nil
		}
	}
	return upstate.CheckInfo{}, upstate.Errorf(upstate.ENOTFOUND, "no check %q is configured", id)
}

// Report works out a check's page for the period (24h, 7d, 30d; "" for
// 24h). ENOTFOUND for an unknown check, EINVALID for another period.
func (v *Views) Report(ctx context.Context, id, period string) (Report, error) {
	p, err := PeriodOf(period)
	if err != nil {
		return Report{}, err
	}
	info, err := v.Info(id)
	if err != nil {
		return Report{}, err
	}
	now := v.opts.Now()
	rep := Report{Info: info, Told: v.opts.Told(info.Spec.Kind), Period: p, Now: now}
	if l, ok := v.opts.Live(id); ok {
		rep.Known, rep.Condition, rep.CertExpiry, rep.Regions = true, l.Condition, l.CertExpiry, l.Regions
	}
	if !rep.CertExpiry.IsZero() {
		// Whole days, counted down: 29.9 days left is 29.
		d := int(rep.CertExpiry.Sub(now).Hours() / 24)
		if rep.CertExpiry.Before(now) {
			d = -int(now.Sub(rep.CertExpiry).Hours()/24) - 1
		}
		rep.CertDays = &d
	}
	if err := v.results(ctx, &rep, now); err != nil {
		return rep, err
	}
	// The chart and the 24 h and 7 d uptime from the hourly rollups (the
	// ones with latency histograms, kept 90 days by default); the 30 d
	// uptime from the daily ones, kept for ever.
	// Buckets are aligned to their step (UTC), the last one holding now.
	hour := store.Hour.Bucket(now)
	end := hour.Add(time.Hour)
	if t := end.Truncate(p.Step); !t.Equal(end) {
		end = t.Add(p.Step)
	}
	from := end.Add(-p.Span)
	hourFrom := hour.Add(-7*24*time.Hour + time.Hour)
	if from.Before(hourFrom) {
		hourFrom = from
	}
	hours, err := v.opts.Source.ListRollups(ctx, store.Hour, []string{id}, hourFrom, now.Add(time.Hour))
	if err != nil {
		return rep, err
	}
	dayFrom := store.Day.Bucket(now).Add(-29 * 24 * time.Hour)
	days, err := v.opts.Source.ListRollups(ctx, store.Day, []string{id}, dayFrom, now.Add(24*time.Hour))
	if err != nil {
		return rep, err
	}
	for _, up := range []struct {
		name  string
		rolls []store.Rollup
		from  time.Time
	}{{"24h", hours, hour.Add(-23 * time.Hour)}, {"7d", hours, hour.Add(-7*24*time.Hour + time.Hour)}, {"30d", days, dayFrom}} {
		u := Uptime{Period: up.name}
		for _, r := range up.rolls {
			if !r.Start.Before(up.from) {
				u.Count += r.Count
				u.Up += r.OK + r.Slow
			}
		}
		rep.Uptime = append(rep.Uptime, u)
	}
	rep.Buckets = buckets(hours, from, p.Step, int(p.Span/p.Step))
	rep.Opened, err = v.opened(ctx, info.Spec, now)
	return rep, err
}

// results fills the last results and the last error: the last hour
// first, the last day when that holds too few.
func (v *Views) results(ctx context.Context, rep *Report, now time.Time) error {
	var rs []upstate.Result
	for _, back := range []time.Duration{time.Hour, 24 * time.Hour} {
		var err error
		if rs, err = v.opts.Source.ListResults(ctx, rep.Info.Spec.ID, now.Add(-back), now.Add(time.Second)); err != nil {
			return err
		}
		if len(rs) >= LastResults && slices.ContainsFunc(rs, isFail) {
			break
		}
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if isFail(rs[i]) {
			last := rs[i]
			rep.LastError = &last
			break
		}
	}
	rs = rs[max(0, len(rs)-LastResults):]
	slices.Reverse(rs)
	rep.Results = rs
	return nil
}

func isFail(r upstate.Result) bool { return r.Outcome == upstate.OutcomeFail }

// buckets sums rollups into n chart buckets of step from from.
func buckets(rolls []store.Rollup, from time.Time, step time.Duration, n int) []Bucket {
	out := make([]Bucket, n)
	hists := make([]store.Latencies, n)
	sums := make([]time.Duration, n)
	for i := range out {
		out[i].Start = from.Add(time.Duration(i) * step)
	}
	for _, r := range rolls {
		i := int(r.Start.Sub(from) / step)
		if r.Start.Before(from) || i >= n {
			continue
		}
		out[i].Count += r.Count
		out[i].Fail += r.Fail
		out[i].Max = max(out[i].Max, r.LatencyMax)
		sums[i] += r.LatencySum
		hists[i].Plus(r.Latencies)
	}
	for i := range out {
		b := &out[i]
		if b.Count == 0 {
			continue
		}
		b.Mean = sums[i] / time.Duration(b.Count)
		// The histogram stands for the bucket when it counts most of its
		// results; rows from before it was kept leave the mean.
		if h := hists[i]; h.Total()*2 >= b.Count {
			b.P50, _ = h.Quantile(0.5, b.Max)
			b.P95, _ = h.Quantile(0.95, b.Max)
		} else {
			b.P50, b.P95, b.FromMean = b.Mean, b.Mean, true
		}
	}
	return out
}

// opened finds the incidents the check opened in the last 30 days: those
// opened automatically on its components whose first entries name it.
// The engine records no structured cause on an incident; its internal
// notes name the checks whose results moved it, as "Name (id)" or
// "Check id" (incident.Engine.checkName), so the check is found by that.
func (v *Views) opened(ctx context.Context, spec upstate.CheckSpec, now time.Time) ([]Opened, error) {
	ins, err := v.opts.Source.ListIncidents(ctx, upstate.IncidentFilter{Since: now.Add(-30 * 24 * time.Hour)})
	if err != nil {
		return nil, err
	}
	names := []string{"(" + upstate.EscapeMarkdown(spec.ID) + ")", "Check " + upstate.EscapeMarkdown(spec.ID) + " "}
	var out []Opened
	for _, in := range ins {
		if !in.Auto || !overlaps(in, spec.Components) || !namedEarly(in, names) {
			continue
		}
		out = append(out, Opened{ID: in.ID, Name: in.Name, Status: in.Status, Started: in.CreatedAt, Resolved: in.ResolvedAt})
		if len(out) == maxOpened {
			break
		}
	}
	return out, nil
}

func overlaps(in *upstate.Incident, comps []string) bool {
	return slices.ContainsFunc(comps, in.HasComponent)
}

// namedEarly reports whether an entry of the incident's first minute (its
// opening, and what opened with it) names the check.
func namedEarly(in *upstate.Incident, names []string) bool {
	for _, e := range in.Updates {
		if e.At.Sub(in.CreatedAt) > time.Minute {
			break
		}
		for _, n := range names {
			if strings.Contains(e.Body, n) {
				return true
			}
		}
	}
	return false
}
