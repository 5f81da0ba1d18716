package incident

import (
	"fmt"

	"github.com/upstatehq/upstate"
)

// failingProblems names what is wrong with a scope's share of requests
// failing: each end from 0 to 100, a range's minimum no greater than its
// maximum, a maximum only with a minimum. The names are the API's, which
// the admin forms turn into their own words.
func failingProblems(r upstate.Reach) []string {
	var probs []string
	bad := func(p *float64) bool { return p != nil && (*p < 0 || *p > 100 || *p != *p) }
	if p := r.FailingPercent; bad(p) {
		probs = append(probs, fmt.Sprintf("reach.failing_percent: %v is not between 0 and 100", *p))
	}
	if p := r.FailingMax; bad(p) {
		probs = append(probs, fmt.Sprintf("reach.failing_percent_max: %v is not between 0 and 100", *p))
	}
	switch lo, hi := r.FailingPercent, r.FailingMax; {
	case hi != nil && lo == nil:
		probs = append(probs, "reach.failing_percent_max: a range needs its minimum too (failing_percent_min)")
	case lo != nil && hi != nil && !bad(lo) && !bad(hi) && *lo > *hi:
		probs = append(probs, fmt.Sprintf("reach.failing_percent: the range %v–%v is backwards: give the minimum first", *lo, *hi))
	}
	return probs
}

// measuredScope reports whether a burst's share may be written as the
// incident's scope: never over a range, which only people give (a range
// is what they know better than one burst's share).
func measuredScope(in *upstate.Incident) bool { return in.Reach.FailingMax == nil }
