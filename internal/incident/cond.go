package incident

import (
	"time"

	"github.com/upstatehq/upstate"
)

// cond is what the engine keeps of a check's condition, one per check:
// what it derives statuses, shares and detection times from. At 100,000
// checks a whole Condition each was 15 MB (issue 16): 136 bytes, over
// the 128 a map keeps in its slots, so each was a value of its own, and
// it held the evidence text and the upstream cause, which the engine
// reads only from the transition that brings them. The times stay
// time.Time as they came (their zone, and any monotonic reading, are
// handed out as before in a declare's detection and start); the state is
// its rank, all the engine asks of it.
type cond struct {
	since, at         time.Time
	failures, samples int
	rank              uint8 // State.Rank(): 0 up or unknown, 1 degraded, 2 down
	partial, burst    bool
}

func compact(c upstate.Condition) cond {
	return cond{since: c.Since, at: c.At, failures: c.Failures, samples: c.Samples, rank: uint8(c.State.Rank()), partial: c.Partial, burst: c.Burst}
}

// condition is c as check id's Condition, without the evidence and
// upstream cause it no longer holds; a state of rank 0 comes back up,
// which to the engine is unknown's twin (neither failing, no impact).
func (c cond) condition(id string) upstate.Condition {
	return upstate.Condition{CheckID: id, State: c.state(), Partial: c.partial, Since: c.since, At: c.at, Failures: c.failures, Samples: c.samples, Burst: c.burst}
}

func (c cond) state() upstate.State {
	switch c.rank {
	case 1:
		return upstate.StateDegraded
	case 2:
		return upstate.StateDown
	}
	return upstate.StateUp
}

// compactAll is conds as the engine keeps them.
func compactAll(conds map[string]upstate.Condition) map[string]cond {
	out := make(map[string]cond, len(conds))
	for id, c := range conds {
		out[id] = compact(c)
	}
	return out
}
