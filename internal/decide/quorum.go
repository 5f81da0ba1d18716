package decide

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Quorum decides a check probed from several regions (the server's own,
// "local", and probe agents'): each region's results go through a Machine
// of their own, and the check is failing only when at least quorum of its
// regions are confirmed failing. Its state is then the worst state that
// quorum many regions share (two regions down and one slow, quorum 2: down;
// one down and one slow: degraded), and the evidence says which regions saw
// what: "failing in eu, us-east; up in us-west". One region's trouble (a
// route from there, the agent's own network) is not an outage.
//
// Like Machine it is pure and not safe for concurrent use.
type Quorum struct {
	checkID  string
	quorum   int
	regions  []string
	machines map[string]*Machine
	cond     upstate.Condition
	failing  []string // the regions failing when cond was set
	// stale is how long a region's word lasts without another result:
	// past it the region counts as unknown (an agent gone quiet neither
	// holds the check down nor hides trouble). Zero: for ever.
	stale time.Duration
	last  map[string]time.Time // each region's latest result
	// judged is each region's latest result judged before this Quorum
	// was made (Judged): one at or before it is not news.
	judged map[string]time.Time
}

// Judged tells q the time of region's latest result already judged
// before q was made (the latest stored, at a restart): a result at or
// before it, an agent sending again what the server took before it
// restarted, is history and judges nothing; and the region counts as gone
// quiet once nothing newer comes for the stale time.
func (q *Quorum) Judged(region string, at time.Time) {
	if q.machines[region] == nil || at.IsZero() {
		return
	}
	if at.After(q.judged[region]) {
		q.judged[region] = at
	}
	q.seen(region, at)
}

// old reports whether a result at at is history for region.
func (q *Quorum) old(region string, at time.Time) bool {
	j, ok := q.judged[region]
	return at.Before(q.last[region]) || (ok && !at.After(j))
}

// Stale sets how long a region's word lasts without a new result (e.g. a
// few of the check's intervals); zero keeps it for ever.
func (q *Quorum) Stale(d time.Duration) { q.stale = d }

// NewQuorum returns the decision of a check probed from regions, quorum
// of which must agree it fails (clamped to 1..len(regions)). Every region
// starts in start, the check's stored condition, so a restart changes
// nothing until the regions say otherwise. The regions' machines share
// one copy of spec; NewQuorumShared shares one with other checks too.
func NewQuorum(checkID string, spec upstate.DecideSpec, regions []string, quorum int, start upstate.Condition) *Quorum {
	return NewQuorumShared(checkID, &spec, regions, quorum, start)
}

// NewQuorumShared is NewQuorum with a spec shared with other checks
// decided alike (one from Specs), as NewShared is New: neither the caller
// nor the machines may change it afterwards.
func NewQuorumShared(checkID string, spec *upstate.DecideSpec, regions []string, quorum int, start upstate.Condition) *Quorum {
	quorum = max(1, min(quorum, len(regions)))
	if start.State == "" {
		start.State = upstate.StateUnknown
	}
	start.CheckID = checkID
	q := &Quorum{checkID: checkID, quorum: quorum, regions: slices.Clone(regions), machines: map[string]*Machine{}, cond: start, last: map[string]time.Time{}, judged: map[string]time.Time{}}
	for _, r := range regions {
		q.machines[r] = NewShared(checkID, spec, start)
	}
	if start.State.Failing() {
		q.failing = slices.Clone(regions)
	}
	return q
}

// Condition is the check's combined condition.
func (q *Quorum) Condition() upstate.Condition { return q.cond }

// Has reports whether the check is probed from region.
func (q *Quorum) Has(region string) bool { return q.machines[region] != nil }

// Region is one region's own confirmed condition.
type Region struct {
	Name      string
	Condition upstate.Condition
}

// Regions are each region's conditions, in the configuration's order.
func (q *Quorum) Regions() []Region {
	out := make([]Region, 0, len(q.regions))
	for _, r := range q.regions {
		out = append(out, Region{Name: r, Condition: q.machines[r].Condition()})
	}
	return out
}

// Observe feeds one region's result. The re-check or burst asked for is
// that region's; the transition, when there is one, is the check's.
func (q *Quorum) Observe(region string, r upstate.Result) Decision {
	m := q.machines[region]
	if m == nil {
		return Decision{}
	}
	// A result older than the region's latest (an agent sending what
	// waited on its disk after newer ones went through) is history: the
	// caller keeps it, but it no longer judges the region's state now.
	if q.old(region, r.At) {
		return Decision{}
	}
	d := m.Observe(r)
	q.seen(region, r.At)
	d.Transition = q.combine(r)
	return d
}

func (q *Quorum) seen(region string, at time.Time) {
	if at.After(q.last[region]) {
		q.last[region] = at
	}
}

// ObserveBurst feeds one region's burst.
func (q *Quorum) ObserveBurst(region string, samples []upstate.Result) Decision {
	m := q.machines[region]
	if m == nil || len(samples) == 0 || q.old(region, samples[0].At) {
		return Decision{}
	}
	d := m.ObserveBurst(samples)
	q.seen(region, samples[len(samples)-1].At)
	d.Transition = q.combine(samples[len(samples)-1])
	return d
}

// combine works out the check's condition from its regions' and returns
// the transition when it changed: its state, or, while failing, which
// regions fail.
func (q *Quorum) combine(r upstate.Result) *upstate.Transition {
	var failing, fine, unknown []string
	byName := map[string]upstate.Condition{}
	for _, name := range q.regions {
		c := q.machines[name].Condition()
		byName[name] = c
		quiet := q.stale > 0 && !q.last[name].IsZero() && r.At.Sub(q.last[name]) > q.stale
		switch {
		case quiet:
			unknown = append(unknown, name)
		case c.State.Failing():
			failing = append(failing, name)
		case c.State == upstate.StateUp:
			fine = append(fine, name)
		default:
			unknown = append(unknown, name)
		}
	}
	// Worst first; among equals, the configuration's order.
	slices.SortStableFunc(failing, func(a, b string) int { return byName[b].State.Rank() - byName[a].State.Rank() })
	var next upstate.Condition
	switch {
	case len(failing) >= q.quorum:
		next = byName[failing[q.quorum-1]] // the worst state quorum regions share
		next.Evidence = q.words(failing, fine, unknown, byName)
	case len(fine)+len(failing) == 0:
		return nil // no region has a word yet
	default:
		next = upstate.Condition{State: upstate.StateUp, Since: r.At, Evidence: q.words(failing, fine, unknown, byName)}
	}
	next.CheckID, next.At = q.checkID, r.At
	prev := q.cond
	sameRegions := slices.Equal(sortedCopy(failing), sortedCopy(q.failing))
	if next.State == prev.State && next.Partial == prev.Partial && (!next.State.Failing() || sameRegions) {
		// No change to confirm; what the regions say now is the
		// condition's evidence all the same.
		q.cond.Evidence = next.Evidence
		return nil
	}
	if next.State == prev.State && next.State.Failing() {
		next.Since = prev.Since // still failing, in other regions
	}
	q.cond, q.failing = next, failing
	return &upstate.Transition{From: prev, To: next}
}

// words says which regions saw what, the failing ones with their
// evidence: "failing in eu, us-east; up in us-west (quorum 2 of 3) — eu:
// HTTP 500; us-east: connection refused".
func (q *Quorum) words(failing, fine, unknown []string, by map[string]upstate.Condition) string {
	var b strings.Builder
	part := func(label string, names []string) {
		if len(names) == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(label + " in " + strings.Join(sortedCopy(names), ", "))
	}
	part("failing", failing)
	part("up", fine)
	part("no word yet", unknown)
	b.WriteString(" (quorum " + strconv.Itoa(q.quorum) + " of " + strconv.Itoa(len(q.regions)) + ")")
	for i, name := range sortedCopy(failing) {
		if i == 0 {
			b.WriteString(" — ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(name + ": " + by[name].Evidence)
	}
	return b.String()
}

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }
