package snapshot

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/store"
)

func TestUptimeDays(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	now := time.Date(2026, 8, 20, 12, 0, 0, 0, la)
	first := midnight(now, la).AddDate(0, 0, -(Days - 1))
	created := time.Date(2026, 8, 17, 6, 0, 0, 0, la)
	at := func(d, h, m int) time.Time { return time.Date(2026, 8, d, h, m, 0, 0, la) }
	changes := []upstate.StatusChange{
		{ComponentID: "api", At: at(18, 8, 0), Status: upstate.MajorOutage},
		{ComponentID: "api", At: at(18, 9, 0), Status: upstate.PartialOutage},
		{ComponentID: "api", At: at(18, 11, 0), Status: upstate.Operational},
		{ComponentID: "api", At: at(19, 23, 0), Status: upstate.DegradedPerformance},
		{ComponentID: "api", At: at(20, 1, 0), Status: upstate.Operational},
	}
	days, uptime := uptimeDays(changes, created, first, now, la)
	if len(days) != Days {
		t.Fatalf("%d days", len(days))
	}
	byDate := map[int]Day{}
	for _, d := range days {
		byDate[d.Date.Day()+100*int(d.Date.Month())] = d
	}
	if d := byDate[816]; !d.NoData {
		t.Errorf("the day before the component existed has data: %+v", d)
	}
	if d := byDate[817]; d.NoData || d.Worst != upstate.Operational || d.Uptime != 1 {
		t.Errorf("Aug 17 = %+v", d)
	}
	// Aug 18: 1 h major (counts fully) + 2 h partial (counts 30%) = 1.6 h down of 24.
	d := byDate[818]
	if d.Worst != upstate.MajorOutage || math.Abs(d.Uptime-(1-1.6/24)) > 1e-9 || d.Outage != 96*time.Minute {
		t.Errorf("Aug 18 = %+v, uptime %.6f", d, d.Uptime)
	}
	// Degraded performance across midnight colours both days but costs no uptime.
	if d := byDate[819]; d.Worst != upstate.DegradedPerformance || d.Uptime != 1 {
		t.Errorf("Aug 19 = %+v", d)
	}
	if d := byDate[820]; d.Worst != upstate.DegradedPerformance || d.Uptime != 1 {
		t.Errorf("Aug 20 = %+v (started degraded at midnight)", d)
	}
	monitored := now.Sub(created).Hours()
	if want := 1 - 1.6/monitored; math.Abs(uptime-want) > 1e-9 {
		t.Errorf("uptime = %.6f, want %.6f", uptime, want)
	}
}

func TestUptimeDaysCarriesStatusFromBeforeTheRange(t *testing.T) {
	now := time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)
	first := midnight(now, time.UTC).AddDate(0, 0, -(Days - 1))
	// The component went down before the first bar and is still down.
	changes := []upstate.StatusChange{{ComponentID: "a", At: first.Add(-time.Hour), Status: upstate.MajorOutage}}
	days, uptime := uptimeDays(changes, first.AddDate(0, -6, 0), first, now, time.UTC)
	if days[0].Worst != upstate.MajorOutage || days[0].Uptime != 0 || uptime != 0 {
		t.Errorf("first day = %+v, uptime %v", days[0], uptime)
	}
}

func TestSparkline(t *testing.T) {
	start := time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC)
	// The store has added the component's checks' hours up.
	hours := []store.Rollup{
		{Start: start.Add(-time.Hour), Count: 5, LatencySum: time.Second},
		{Start: start, Count: 4, LatencySum: 800 * time.Millisecond, LatencyMax: 400 * time.Millisecond},
		{Start: start.Add(time.Hour)},
		{Start: start.Add(2 * time.Hour), Count: 1, LatencySum: 50 * time.Millisecond, LatencyMax: 50 * time.Millisecond},
		{Start: start.Add(24 * time.Hour), Count: 1, LatencySum: time.Second},
	}
	pts := sparkline(hours, start)
	if len(pts) != 2 {
		t.Fatalf("points = %+v", pts)
	}
	if pts[0].Mean != 200*time.Millisecond || pts[0].Max != 400*time.Millisecond || pts[0].Count != 4 || !pts[0].Start.Equal(start) ||
		pts[1].Mean != 50*time.Millisecond || !pts[1].Start.Equal(start.Add(2*time.Hour)) {
		t.Errorf("points = %+v", pts)
	}
	if pts := sparkline(nil, start); pts == nil || len(pts) != 0 {
		t.Errorf("a component whose checks have no hours yet = %#v, want an empty line", pts)
	}
}

func TestGroupIDIsStable(t *testing.T) {
	if GroupID("Platform") != GroupID("Platform") || GroupID("Platform") == GroupID("Integrations") || len(GroupID("x")) != 12 {
		t.Errorf("GroupID: %q %q", GroupID("Platform"), GroupID("Integrations"))
	}
}

// stallingSource answers until told to fail, like a database that stalls.
type stallingSource struct {
	fail bool
}

func (s *stallingSource) err() error {
	if s.fail {
		return errors.New("database is locked")
	}
	return nil
}

func (s *stallingSource) ListComponents(context.Context) ([]upstate.ComponentState, error) {
	return []upstate.ComponentState{{Component: upstate.Component{ID: "api", Name: "API"}, Status: upstate.Operational}}, s.err()
}
func (s *stallingSource) ListIncidents(context.Context, upstate.IncidentFilter) ([]*upstate.Incident, error) {
	return nil, s.err()
}
func (s *stallingSource) ListStatusChanges(context.Context, time.Time, time.Time) ([]upstate.StatusChange, error) {
	return nil, s.err()
}
func (s *stallingSource) SumRollups(context.Context, store.Period, []string, time.Time, time.Time, store.SumBy) ([]store.Rollup, error) {
	return nil, s.err()
}

func (s *stallingSource) ListMaintenances(context.Context, time.Time) ([]upstate.Maintenance, error) {
	return nil, s.err()
}

func (s *stallingSource) LatestByRegion(context.Context, []string, time.Time) ([]upstate.Result, error) {
	return nil, s.err()
}

func TestStalledSourceKeepsTheLastSnapshot(t *testing.T) {
	src := &stallingSource{}
	published := 0
	h, err := New(Options{Source: src, Clock: clock.NewFake(time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC)), Page: Page{Name: "X"},
		Published: func(*Snapshot) { published++ }})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := h.Current()
	src.fail = true
	if err := h.Rebuild(context.Background()); err == nil {
		t.Fatal("a failing source built a snapshot")
	}
	if h.Current() != first || published != 1 {
		t.Errorf("the last good snapshot was replaced (published %d times)", published)
	}
	if first.Indicator != "none" || len(first.Components) != 1 {
		t.Errorf("snapshot = %+v", first)
	}
}

func TestDayIncidents(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, la) // two days after the clocks went back
	first := midnight(now, la).AddDate(0, 0, -(Days - 1))
	at := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, la) }
	ptr := func(t time.Time) *time.Time { return &t }
	last := Days - 1
	window := []*upstate.Incident{
		// Across two midnights, one of them the clock change: three bars.
		{ID: "a", Name: "Database lock", Components: []string{"api", "web"}, CreatedAt: at(10, 31, 22), ResolvedAt: ptr(at(11, 2, 1))},
		{ID: "b", Name: "Drive down", Components: []string{"drive"}, CreatedAt: at(11, 3, 8), ResolvedAt: ptr(at(11, 3, 9))},
		{ID: "m", Name: "Merged away", Components: []string{"api"}, CreatedAt: at(11, 3, 8), MergedInto: "a"},
		// Resolved before the window: on no bar.
		{ID: "old", Name: "Old", Components: []string{"api"}, CreatedAt: first.Add(-48 * time.Hour), ResolvedAt: ptr(first.Add(-time.Hour))},
	}
	open := []*upstate.Incident{
		// Open since before the window: every bar from the first.
		{ID: "c", Name: "Quota", Components: []string{"classroom"}, CreatedAt: first.Add(-72 * time.Hour)},
		window[1], // open and in the window lists alike: named once
	}
	got := dayIncidents(window, open, first, now)
	want := map[string]map[int][]string{
		"api":   {last - 3: {"Database lock"}, last - 2: {"Database lock"}, last - 1: {"Database lock"}},
		"web":   {last - 3: {"Database lock"}, last - 2: {"Database lock"}, last - 1: {"Database lock"}},
		"drive": {last: {"Drive down"}},
	}
	for comp, days := range want {
		if len(got[comp]) != len(days) {
			t.Errorf("%s: %v, want %v", comp, got[comp], days)
		}
		for d, names := range days {
			if !slices.Equal(got[comp][d], names) {
				t.Errorf("%s day %d: %v, want %v", comp, d, got[comp][d], names)
			}
		}
	}
	if n := len(got["classroom"]); n != Days {
		t.Errorf("an incident open all window long is on %d bars, want %d", n, Days)
	}
}

// regionSource answers LatestByRegion with the results it holds, newest
// per region, from since on.
type regionSource struct {
	stallingSource
	results []upstate.Result
	asked   []string
}

func (s *regionSource) LatestByRegion(_ context.Context, ids []string, since time.Time) ([]upstate.Result, error) {
	s.asked = ids
	var out []upstate.Result
	for _, r := range s.results {
		if slices.Contains(ids, r.CheckID) && !r.At.Before(since) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Each region's latest result within its check's stale window is on the
// snapshot; a region quiet for longer, or never heard, has no recent
// report; the server's own results are region local; components without
// regional checks get nothing.
func TestRegionalReports(t *testing.T) {
	now := time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)
	src := &regionSource{results: []upstate.Result{
		{CheckID: "api", Region: "", At: now.Add(-30 * time.Second), Outcome: upstate.OutcomeOK},
		{CheckID: "api", Region: "eu", At: now.Add(-time.Minute), Outcome: upstate.OutcomeFail},
		{CheckID: "api", Region: "us", At: now.Add(-10 * time.Minute), Outcome: upstate.OutcomeOK}, // gone quiet
	}}
	h, err := New(Options{Source: src, Clock: clock.NewFake(now), Page: Page{Name: "X"},
		Regional: map[string][]RegionalCheck{"api": {{CheckID: "api", Name: "API health", Regions: []string{"local", "eu", "us", "asia"}, Stale: 4 * time.Minute}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := h.Current().Components[0]
	if len(c.Regional) != 1 || c.Regional[0].Name != "API health" || len(c.Regional[0].Regions) != 4 {
		t.Fatalf("regional = %+v", c.Regional)
	}
	got := c.Regional[0].Regions
	if got[0] != (RegionReport{Region: "local", Outcome: upstate.OutcomeOK, At: now.Add(-30 * time.Second)}) ||
		got[1] != (RegionReport{Region: "eu", Outcome: upstate.OutcomeFail, At: now.Add(-time.Minute)}) ||
		got[2] != (RegionReport{Region: "us"}) || got[3] != (RegionReport{Region: "asia"}) {
		t.Errorf("regions = %+v", got)
	}
	h.Reconfigure(Page{Name: "X"}, nil, nil)
	src.asked = nil
	if err := h.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := h.Current().Components[0]; c.Regional != nil || src.asked != nil {
		t.Errorf("without regional checks: %+v, asked for %v", c.Regional, src.asked)
	}
}

// A clean day is one the page can draw with its neighbours and tell of
// once: anything worth a word of its own makes a day not clean.
func TestDayClean(t *testing.T) {
	up := Day{Worst: upstate.Operational, Uptime: 1}
	for _, tc := range []struct {
		name string
		day  Day
		want bool
	}{
		{"up all day", up, true},
		{"no data", Day{NoData: true, Uptime: -1}, false},
		{"degraded", Day{Worst: upstate.DegradedPerformance, Uptime: 1}, false},
		{"maintenance", Day{Worst: upstate.UnderMaintenance, Uptime: 1}, false},
		{"an outage", Day{Worst: upstate.MajorOutage, Uptime: 0.99, Outage: time.Minute}, false},
		{"an incident that changed no status", Day{Worst: upstate.Operational, Uptime: 1, Incidents: []string{"Notice"}}, false},
	} {
		if got := tc.day.Clean(); got != tc.want {
			t.Errorf("%s: Clean() = %v", tc.name, got)
		}
	}
}
