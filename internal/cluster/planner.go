package cluster

import (
	"slices"
	"time"
)

// Planner turns each view into the checks this instance runs, and when a
// check it has just been given may first run.
//
// A check whose last owner is gone from the view (it died, left, or was
// cut off and has fenced itself) starts at its next slot. A check taken
// from an owner that is still alive (this instance joined, or came back
// after being fenced) waits Grace: by then the owner has read a view with
// this instance in it and let go, or has fenced itself. Checks are slotted
// on the wall clock (schedule.Job.Aligned) on every instance, so the first
// run of a check after a handover is the slot after the last owner's.
type Planner struct {
	grace time.Duration
	// prev is the live set the checks were last planned on; nil before
	// the first plan and after a fence, when this instance cannot know
	// who ran what meanwhile.
	prev []string
	// owned are the checks of the last plan, each with when it may first
	// run: a wait still to come carries over to the next plans.
	owned map[string]time.Time
}

// NewPlanner plans with the node's grace.
func NewPlanner(t Timings) *Planner { return &Planner{grace: t.Grace, owned: map[string]time.Time{}} }

// Plan is what a view gives this instance to run.
type Plan struct {
	// Run are the checks this instance runs, each with when it may first
	// run (zero: at its next slot).
	Run map[string]time.Time
	// Gained and Lost count the checks that moved with this view; Taken
	// are the gained ones.
	Gained, Lost int
	Taken        []string
	// Changed says the set differs from the last plan's.
	Changed bool
}

// Next plans ids on the view; now is the local time. A fenced view runs
// nothing.
func (p *Planner) Next(v View, ids []string, now time.Time) Plan {
	out := Plan{Run: map[string]time.Time{}}
	if v.Fenced || !slices.Contains(v.Live, v.Self) {
		out.Lost = len(p.owned)
		out.Changed = len(p.owned) > 0
		p.owned, p.prev = map[string]time.Time{}, nil
		return out
	}
	prev := p.prev
	if prev == nil {
		// Not knowing who ran what, take every check as if from the
		// others that are alive.
		prev = slices.DeleteFunc(slices.Clone(v.Live), func(n string) bool { return n == v.Self })
	}
	owned := map[string]time.Time{}
	for _, id := range ids {
		if owner(v.Live, id) != v.Self {
			continue
		}
		notBefore, had := p.owned[id]
		if !had {
			out.Gained++
			out.Taken = append(out.Taken, id)
			if last := owner(prev, id); last != "" && last != v.Self && slices.Contains(v.Live, last) {
				notBefore = now.Add(p.grace)
			}
		}
		if !notBefore.After(now) {
			notBefore = time.Time{}
		}
		owned[id] = notBefore
		out.Run[id] = notBefore
	}
	for id := range p.owned {
		if _, ok := owned[id]; !ok {
			out.Lost++
		}
	}
	out.Changed = out.Gained > 0 || out.Lost > 0
	p.owned, p.prev = owned, slices.Clone(v.Live)
	return out
}
