package report

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// backdateByWalk is backdating as plainly as it can be said: for every
// incident, walk every change, and where one is its first on a component,
// add that status from the incident's start if it began earlier. It is
// quadratic; backdate must say exactly what it says.
func backdateByWalk(changes []upstate.StatusChange, ins []*upstate.Incident) []upstate.StatusChange {
	out := slices.Clone(changes)
	for _, x := range ins {
		var seen []string
		for _, c := range changes {
			if c.IncidentID != x.ID || slices.Contains(seen, c.ComponentID) {
				continue
			}
			seen = append(seen, c.ComponentID)
			if x.StartedAt.Before(c.At) && c.Status.Severity() > 0 {
				out = append(out, upstate.StatusChange{ComponentID: c.ComponentID, At: x.StartedAt, Status: c.Status, IncidentID: x.ID})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b upstate.StatusChange) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ComponentID, b.ComponentID)
	})
	return out
}

// TestBackdateMatchesTheWalk compares backdate with the walk on seeded
// random histories made to collide: few components and minutes, so equal
// times on one component, incidents starting after, at and before their
// first change, changes of incidents not in the report, changes of no
// incident, operational first changes, and an incident listed twice.
func TestBackdateMatchesTheWalk(t *testing.T) {
	statuses := []upstate.Status{upstate.Operational, upstate.DegradedPerformance, upstate.PartialOutage, upstate.MajorOutage, upstate.UnderMaintenance}
	base := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 16))
		nIns, nComps := rng.IntN(12), rng.IntN(4)+1
		var ins []*upstate.Incident
		for i := range nIns {
			ins = append(ins, &upstate.Incident{ID: fmt.Sprintf("i%d", i), StartedAt: base.Add(time.Duration(rng.IntN(40)) * time.Minute)})
		}
		if nIns > 0 && rng.IntN(4) == 0 {
			ins = append(ins, ins[rng.IntN(nIns)])
		}
		var changes []upstate.StatusChange
		for range rng.IntN(60) {
			c := upstate.StatusChange{ComponentID: fmt.Sprintf("c%d", rng.IntN(nComps)), At: base.Add(time.Duration(rng.IntN(60)) * time.Minute),
				Status: statuses[rng.IntN(len(statuses))]}
			if k := rng.IntN(nIns + 3); k < nIns+2 {
				c.IncidentID = fmt.Sprintf("i%d", k) // i(nIns) and i(nIns+1) are not in the report
			}
			changes = append(changes, c)
		}
		slices.SortStableFunc(changes, func(a, b upstate.StatusChange) int { return a.At.Compare(b.At) })
		// In order of time (ties between components as they come, as the
		// store gives them), of time and component, and of nothing.
		for _, order := range []string{"time", "time and component", "nothing"} {
			switch order {
			case "nothing":
				rng.Shuffle(len(changes), func(i, j int) { changes[i], changes[j] = changes[j], changes[i] })
			case "time and component":
				slices.SortStableFunc(changes, func(a, b upstate.StatusChange) int {
					if c := a.At.Compare(b.At); c != 0 {
						return c
					}
					return strings.Compare(a.ComponentID, b.ComponentID)
				})
			}
			want := backdateByWalk(changes, ins)
			before := slices.Clone(changes)
			got := backdate(changes, ins)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, in order of %s: backdate differs from the walk\n got %v\nwant %v", seed, order, got, want)
			}
			if !reflect.DeepEqual(changes, before) {
				t.Fatalf("seed %d: backdate changed its input", seed)
			}
		}
	}
}

// integrateByWalk is a component's time within [from, to) weighted by
// status, by a walk of every change for the one component: what the
// report did before componentTimes, kept to check it.
func integrateByWalk(changes []upstate.StatusChange, comp string, from, to, now time.Time, weight func(upstate.Status) float64) time.Duration {
	if now.Before(to) {
		to = now
	}
	if !to.After(from) {
		return 0
	}
	status := upstate.Operational
	cur := from
	var sum float64
	for _, c := range changes {
		if c.ComponentID != comp {
			continue
		}
		if !c.At.After(from) {
			status = c.Status
			continue
		}
		if !c.At.Before(to) {
			break
		}
		sum += weight(status) * c.At.Sub(cur).Seconds()
		cur, status = c.At, c.Status
	}
	sum += weight(status) * to.Sub(cur).Seconds()
	return time.Duration(sum * float64(time.Second))
}

// TestComponentTimesMatchTheWalk compares the one sweep with a walk per
// component on seeded random histories: changes before, at, inside and
// after the period, equal times, odd seconds, and now before its end.
func TestComponentTimesMatchTheWalk(t *testing.T) {
	statuses := []upstate.Status{upstate.Operational, upstate.DegradedPerformance, upstate.PartialOutage, upstate.MajorOutage, upstate.UnderMaintenance}
	from := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 4))
		to := from.Add(time.Duration(rng.IntN(100)) * time.Minute)
		now := from.Add(time.Duration(rng.IntN(140)-20) * time.Minute)
		nComps := rng.IntN(4) + 1
		var changes []upstate.StatusChange
		for range rng.IntN(60) {
			changes = append(changes, upstate.StatusChange{ComponentID: fmt.Sprintf("c%d", rng.IntN(nComps)),
				At: from.Add(time.Duration(rng.IntN(160*60)-30*60) * time.Second), Status: statuses[rng.IntN(len(statuses))]})
		}
		slices.SortStableFunc(changes, func(a, b upstate.StatusChange) int { return a.At.Compare(b.At) })
		got, span := componentTimes(changes, from, to, now)
		end := to
		if now.Before(end) {
			end = now
		}
		wantSpan := end.Sub(from)
		if !end.After(from) {
			wantSpan = 0
		}
		if span != wantSpan {
			t.Fatalf("seed %d: span %v, want %v", seed, span, wantSpan)
		}
		for i := range nComps + 1 { // and one with no changes
			c := fmt.Sprintf("c%d", i)
			down := integrateByWalk(changes, c, from, to, now, func(s upstate.Status) float64 {
				if s == upstate.PartialOutage || s == upstate.MajorOutage {
					return 1
				}
				return 0
			})
			weighted := integrateByWalk(changes, c, from, to, now, upstate.Status.OutageWeight)
			if got[c].Down != down || got[c].Weighted != weighted {
				t.Fatalf("seed %d, %s: got %+v, want down %v, weighted %v", seed, c, got[c], down, weighted)
			}
		}
	}
}
