package decide

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// delaySim simulates one check probed from n regions at staggered slots
// (region i at i·interval/n, as schedule.Slot staggers them) with the
// scheduler's answers to the machines: a suspect result's burst of
// samples taken over burstOver and judged as one, a re-check after
// RecheckEvery. The target starts failing at failAt, seen failing by the
// regions in sees; it returns when the check was confirmed failing, or
// false within the horizon.
type delaySim struct {
	interval  time.Duration
	regions   int
	quorum    int
	burst     int
	burstOver time.Duration
}

func (s delaySim) detect(failAt time.Duration, sees func(region int) bool) (time.Duration, bool) {
	names := make([]string, s.regions)
	for i := range names {
		names[i] = fmt.Sprintf("r%d", i)
	}
	spec := Defaults(upstate.DecideSpec{Burst: s.burst}, s.interval)
	t0 := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	q := NewQuorum("api", spec, names, s.quorum, upstate.Condition{State: upstate.StateUp, Since: t0, At: t0})
	type event struct {
		at     time.Duration
		region int
		burst  bool
	}
	var queue []event
	for i := range s.regions {
		queue = append(queue, event{at: s.interval * time.Duration(i) / time.Duration(s.regions), region: i})
	}
	result := func(region int, at time.Duration) upstate.Result {
		r := upstate.Result{CheckID: "api", At: t0.Add(at), Outcome: upstate.OutcomeOK, Latency: 20 * time.Millisecond}
		if at >= failAt && sees(region) {
			r.Outcome, r.Error = upstate.OutcomeFail, "HTTP 500"
		}
		return r
	}
	horizon := failAt + 10*s.interval
	for len(queue) > 0 {
		slices.SortFunc(queue, func(a, b event) int { return int(a.at - b.at) })
		e := queue[0]
		queue = queue[1:]
		if e.at > horizon {
			break
		}
		var d Decision
		if e.burst {
			samples := make([]upstate.Result, s.burst)
			for k := range samples {
				at := e.at - s.burstOver + s.burstOver*time.Duration(k)/time.Duration(s.burst)
				samples[k] = result(e.region, at)
			}
			d = q.ObserveBurst(names[e.region], samples)
		} else {
			d = q.Observe(names[e.region], result(e.region, e.at))
		}
		if d.Transition != nil && d.Transition.To.State.Failing() {
			return e.at - failAt, true
		}
		switch {
		case d.Burst && s.burst > 0:
			queue = append(queue, event{at: e.at + s.burstOver, region: e.region, burst: true})
		case d.Recheck:
			queue = append(queue, event{at: e.at + spec.RecheckEvery, region: e.region})
		}
		if !e.burst {
			queue = append(queue, event{at: e.at + s.interval, region: e.region})
		}
	}
	return 0, false
}

// The measured delay from a failure to its confirmation, for a 60 s HTTP
// check (a suspect result takes a burst of 10 samples over 5 s), over 600
// failure times spread evenly across the interval: one region, and three
// staggered regions with quorum 2 and with quorum 1; and whether a failure
// only one region sees (its own route, its agent's network) pages anyone.
// The figures are BENCHMARKS.md's ("Quorum detection delay").
func TestQuorumDetectionDelay(t *testing.T) {
	const interval = time.Minute
	cases := []struct {
		name string
		sim  delaySim
	}{
		{"1 region", delaySim{interval: interval, regions: 1, quorum: 1, burst: 10, burstOver: 5 * time.Second}},
		{"3 regions, quorum 2", delaySim{interval: interval, regions: 3, quorum: 2, burst: 10, burstOver: 5 * time.Second}},
		{"3 regions, quorum 1", delaySim{interval: interval, regions: 3, quorum: 1, burst: 10, burstOver: 5 * time.Second}},
	}
	const phases = 600
	type figures struct{ mean, p95, max time.Duration }
	got := map[string]figures{}
	for _, c := range cases {
		var delays []time.Duration
		for p := range phases {
			failAt := 10*interval + interval*time.Duration(p)/phases
			d, ok := c.sim.detect(failAt, func(int) bool { return true })
			if !ok {
				t.Fatalf("%s: a failure every region sees at %v was never confirmed", c.name, failAt)
			}
			delays = append(delays, d)
		}
		slices.Sort(delays)
		var sum time.Duration
		for _, d := range delays {
			sum += d
		}
		f := figures{mean: sum / phases, p95: delays[phases*95/100], max: delays[phases-1]}
		got[c.name] = f
		t.Logf("%-22s detection delay: mean %5.1fs  p95 %5.1fs  max %5.1fs", c.name, f.mean.Seconds(), f.p95.Seconds(), f.max.Seconds())
	}
	one, q2, q1 := got["1 region"], got["3 regions, quorum 2"], got["3 regions, quorum 1"]
	// Staggering bounds the wait: the worst case is two thirds of an
	// interval and the burst, not a whole interval and the burst.
	if q2.max >= one.max || q2.max > 2*interval/3+6*time.Second {
		t.Errorf("quorum 2 of 3 worst case %v; want under one region's %v and about 2/3 of the interval", q2.max, one.max)
	}
	if q1.mean >= one.mean/2 {
		t.Errorf("quorum 1 of 3 mean %v; want well under one region's %v", q1.mean, one.mean)
	}
	// One region's own trouble: a single vantage point pages; a quorum of
	// two does not.
	for _, c := range cases {
		_, paged := c.sim.detect(10*interval, func(r int) bool { return r == 0 })
		t.Logf("%-22s a failure only region r0 sees pages: %v", c.name, paged)
		if want := c.sim.quorum == 1; paged != want {
			t.Errorf("%s: a failure one region sees paged=%v, want %v", c.name, paged, want)
		}
	}
}
