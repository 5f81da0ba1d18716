package cluster

import (
	"fmt"
	"testing"
	"time"
)

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("check-%d", i)
	}
	return out
}

var t0 = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

// Every check has exactly one owner among the live instances, the shares
// are even, and a member leaving moves only its own checks.
func TestOwnerRendezvous(t *testing.T) {
	checks := ids(30000)
	three := []string{"a", "b", "c"}
	count := map[string]int{}
	for _, id := range checks {
		count[owner(three, id)]++
	}
	for _, name := range three {
		if share := float64(count[name]) / float64(len(checks)); share < 0.31 || share > 0.356 {
			t.Errorf("%s runs %.1f%% of the checks; want about a third", name, 100*share)
		}
	}
	moved := 0
	for _, id := range checks {
		before, after := owner(three, id), owner([]string{"a", "c"}, id)
		if before != "b" && before != after {
			t.Fatalf("%s moved from %s to %s when b left", id, before, after)
		}
		if before == "b" {
			moved++
		}
	}
	if moved != count["b"] {
		t.Fatalf("moved %d, b had %d", moved, count["b"])
	}
	if owner(nil, "x") != "" {
		t.Fatal("no live instance owns nothing")
	}
}

// A newcomer waits out the grace for the checks it takes from live
// instances; the wait carries over later views until it has passed.
func TestPlannerJoinWaitsGrace(t *testing.T) {
	tm := TimingsFor(10 * time.Second)
	checks := ids(300)
	p := NewPlanner(tm)
	v := View{Self: "c", Live: []string{"a", "b", "c"}}
	plan := p.Next(v, checks, t0)
	if plan.Gained == 0 || plan.Gained != len(plan.Run) {
		t.Fatalf("gained %d of %d", plan.Gained, len(plan.Run))
	}
	for id, nb := range plan.Run {
		if !nb.Equal(t0.Add(tm.Grace)) {
			t.Fatalf("%s may start at %v; want after the grace, %v", id, nb, t0.Add(tm.Grace))
		}
	}
	// Two seconds on: still waiting.
	plan = p.Next(v, checks, t0.Add(tm.Beat))
	for id, nb := range plan.Run {
		if !nb.Equal(t0.Add(tm.Grace)) {
			t.Fatalf("after a beat %s may start at %v; want %v", id, nb, t0.Add(tm.Grace))
		}
	}
	if plan.Changed || plan.Gained != 0 {
		t.Fatalf("nothing moved, got %+v", plan)
	}
	plan = p.Next(v, checks, t0.Add(tm.Grace+time.Second))
	for id, nb := range plan.Run {
		if !nb.IsZero() {
			t.Fatalf("after the grace %s still waits until %v", id, nb)
		}
	}
}

// Checks of an instance that is gone are taken at once; one that only
// moved because of a newcomer waits.
func TestPlannerTakeoverFromGone(t *testing.T) {
	tm := TimingsFor(10 * time.Second)
	checks := ids(600)
	a := NewPlanner(tm)
	first := a.Next(View{Self: "a", Live: []string{"a", "b"}}, checks, t0)
	plan := a.Next(View{Self: "a", Live: []string{"a"}}, checks, t0.Add(time.Minute))
	if len(plan.Run) != len(checks) {
		t.Fatalf("alone, a runs %d of %d", len(plan.Run), len(checks))
	}
	if plan.Gained != len(checks)-len(first.Run) {
		t.Fatalf("gained %d, want %d", plan.Gained, len(checks)-len(first.Run))
	}
	for id, nb := range plan.Run {
		if !nb.IsZero() {
			t.Fatalf("%s, b's, waits until %v though b is gone", id, nb)
		}
	}
	// b comes back: a loses b's share at once and gains nothing.
	plan = a.Next(View{Self: "a", Live: []string{"a", "b"}}, checks, t0.Add(2*time.Minute))
	if plan.Gained != 0 || plan.Lost != len(checks)-len(first.Run) {
		t.Fatalf("when b came back: %+v", plan)
	}
}

// A fenced instance runs nothing, and after it comes back it waits the
// grace for everything, not knowing who ran its checks meanwhile.
func TestPlannerFence(t *testing.T) {
	tm := TimingsFor(10 * time.Second)
	checks := ids(100)
	p := NewPlanner(tm)
	v := View{Self: "a", Live: []string{"a", "b"}}
	p.Next(v, checks, t0)
	p.Next(v, checks, t0.Add(time.Minute)) // the joining grace has passed
	fenced := v
	fenced.Fenced = true
	if plan := p.Next(fenced, checks, t0.Add(2*time.Minute)); len(plan.Run) != 0 || plan.Lost == 0 {
		t.Fatalf("fenced, it runs %d (lost %d)", len(plan.Run), plan.Lost)
	}
	now := t0.Add(3 * time.Minute)
	plan := p.Next(v, checks, now)
	if len(plan.Run) == 0 {
		t.Fatal("back, it runs nothing")
	}
	for id, nb := range plan.Run {
		if !nb.Equal(now.Add(tm.Grace)) {
			t.Fatalf("back from a fence, %s may start at %v; want %v", id, nb, now.Add(tm.Grace))
		}
	}
	// Not in the live set (its row expired): nothing.
	if plan := p.Next(View{Self: "a", Live: []string{"b"}}, checks, now); len(plan.Run) != 0 {
		t.Fatalf("not live, it runs %d", len(plan.Run))
	}
}

func TestTimings(t *testing.T) {
	for _, lease := range []time.Duration{0, time.Second, 10 * time.Second, time.Minute} {
		tm := TimingsFor(lease)
		if !(tm.Fence < tm.Lease-tm.Beat) {
			t.Errorf("lease %v: the fence %v must pass before the others take over at %v", lease, tm.Fence, tm.Lease-tm.Beat)
		}
		if !(tm.Grace > tm.Fence) {
			t.Errorf("lease %v: the grace %v must outlast the fence %v", lease, tm.Grace, tm.Fence)
		}
	}
}
