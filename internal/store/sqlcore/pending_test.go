package sqlcore

import (
	"slices"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// TestPending: results count in their hour (with the histogram) and so
// their day (without one), merged sets add in place, and Each hands every bucket
// over in the order the writers' statements take row locks in.
func TestPending(t *testing.T) {
	t0 := time.Date(2026, 8, 17, 23, 30, 0, 0, time.UTC)
	p := NewPending(0)
	p.Add([]upstate.Result{
		{CheckID: "b", At: t0, Outcome: upstate.OutcomeOK, Latency: 10 * time.Millisecond},
		{CheckID: "a", At: t0, Outcome: upstate.OutcomeSlow, Latency: 3 * time.Second},
	})
	more := NewPending(2)
	more.Add([]upstate.Result{
		{CheckID: "a", At: t0.Add(10 * time.Minute), Outcome: upstate.OutcomeFail, Latency: 20 * time.Millisecond},
		{CheckID: "a", At: t0.Add(40 * time.Minute), Outcome: upstate.OutcomeOK, Latency: time.Millisecond}, // the next hour and day
		{CheckID: "c", At: t0.Add(-time.Hour), Outcome: upstate.OutcomeFail, Latency: 7 * time.Millisecond}, // two hours of one day
		{CheckID: "c", At: t0, Outcome: upstate.OutcomeOK, Latency: 9 * time.Millisecond},
	})
	// Each adds up the sets it is given, in one order over them all: a
	// writer hands it the waiting rollups and its batch's own.
	var split []store.Rollup
	if err := Each(func(r *store.Rollup) error { split = append(split, *r); return nil }, p, more); err != nil {
		t.Fatal(err)
	}
	p.Merge(more)
	p.Merge(nil)
	if p.Len() != 5 {
		t.Fatalf("Len = %d, want a's two hours (in two days), b's hour and c's two (in one)", p.Len())
	}
	var got []store.Rollup
	if err := Each(func(r *store.Rollup) error { got = append(got, *r); return nil }, p); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, split, func(a, b store.Rollup) bool { return a == b }) {
		t.Errorf("the two sets written together = %+v, want as merged: %+v", split, got)
	}
	want := []struct {
		check  string
		period store.Period
		start  time.Time
		n      int
	}{
		{"a", store.Day, t0.Truncate(24 * time.Hour), 2},
		{"a", store.Day, t0.Truncate(24 * time.Hour).Add(24 * time.Hour), 1},
		{"a", store.Hour, t0.Truncate(time.Hour), 2},
		{"a", store.Hour, t0.Truncate(time.Hour).Add(time.Hour), 1},
		{"b", store.Day, t0.Truncate(24 * time.Hour), 1},
		{"b", store.Hour, t0.Truncate(time.Hour), 1},
		{"c", store.Day, t0.Truncate(24 * time.Hour), 2},
		{"c", store.Hour, t0.Truncate(time.Hour).Add(-time.Hour), 1},
		{"c", store.Hour, t0.Truncate(time.Hour), 1},
	}
	if len(got) != len(want) {
		t.Fatalf("Each gave %d buckets, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if g := got[i]; g.CheckID != w.check || g.Period != w.period || !g.Start.Equal(w.start) || g.Count != w.n {
			t.Errorf("bucket %d = %s %s %s n=%d, want %s %s %s n=%d", i, g.CheckID, g.Period, g.Start, g.Count, w.check, w.period, w.start, w.n)
		}
	}
	if h := got[2]; h.Slow != 1 || h.Fail != 1 || h.LatencySum != 3020*time.Millisecond || h.LatencyMax != 3*time.Second || h.Latencies.Total() != 2 {
		t.Errorf("a's first hour = %+v, want one slow, one failed, both in the histogram", h)
	}
	if d := got[0]; d.Latencies.Total() != 0 || d.Count != 2 || d.Fail != 1 {
		t.Errorf("a's first day = %+v, want its counts and no histogram", d)
	}
	if d := got[6]; d.Fail != 1 || d.OK != 1 || d.LatencySum != 16*time.Millisecond || d.LatencyMax != 9*time.Millisecond {
		t.Errorf("c's day = %+v, want its two hours added up", d)
	}
	// Each's value is filled afresh: no histogram carried from an hour to
	// the day after it.
	if d := got[4]; d.Latencies.Total() != 0 {
		t.Errorf("b's day carries a histogram: %+v", d)
	}
}
