package incident

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Time as it happened: people may tell the engine when something
// happened (a declare's start, detection and declaration, an update's,
// acknowledgement's, resolution's or postmortem's time) rather than have
// it stamped now, to write up last week or move from another tool.

// Skew is how far ahead of the engine's clock a given time may be and
// still be taken (as now): a script on a machine whose clock runs a
// little fast. Anything later is refused as in the future.
const Skew = 5 * time.Second

// RecentPast is upstate.RecentPast: a change told of later than that
// after it happened is written without notifying anyone, though the
// pages still waiting for an incident it resolves or acknowledges are
// cancelled.
const RecentPast = upstate.RecentPast

// DetectWindow is how far before a declaration the engine looks for the
// failing checks on its components that detected the problem first.
const DetectWindow = 24 * time.Hour

// stamp is the time a person gave for field, checked against now: zero
// means now; a time up to Skew ahead is taken as now; later is refused.
func stamp(field string, at, now time.Time) (time.Time, error) {
	switch {
	case at.IsZero():
		return now, nil
	case at.After(now.Add(Skew)):
		return time.Time{}, upstate.Errorf(upstate.EINVALID, "%s: %s is in the future (it is %s now)", field, rfc(at), rfc(now))
	case at.After(now):
		return now, nil
	case at.Year() < 1970:
		return time.Time{}, upstate.Errorf(upstate.EINVALID, "%s: %s is before 1970", field, rfc(at))
	}
	return at, nil
}

// ending is the end a person gave an entry at at (Change.Until): nil
// when none; like at, never in the future (a time up to Skew ahead is
// taken as now) and never before the entry's own time.
func ending(until, at, now time.Time) (*time.Time, error) {
	if until.IsZero() {
		return nil, nil
	}
	u, err := stamp("until", until, now)
	if err != nil {
		return nil, err
	}
	if u.Before(at) {
		return nil, upstate.Errorf(upstate.EINVALID, "until: %s is before the entry's at (%s): a span ends after it begins", rfc(u), rfc(at))
	}
	return &u, nil
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// inOrder refuses an entry at at on in, unless it is no earlier than the
// incident's start and its last entry: a timeline is kept in the order
// things happened. Must be called with e.mu held; reads the timeline only
// for a time given in the past (now needs no look).
func (e *Engine) inOrder(ctx context.Context, field string, in *upstate.Incident, at, now time.Time) error {
	if at.Equal(now) {
		return nil
	}
	if at.Before(in.StartedAt) {
		return upstate.Errorf(upstate.EINVALID, "%s: %s is before the incident started (%s)", field, rfc(at), rfc(in.StartedAt))
	}
	stored, err := e.opts.Store.GetIncident(ctx, in.ID)
	if err != nil {
		return err
	}
	if n := len(stored.Updates); n > 0 && at.Before(stored.Updates[n-1].At) {
		return upstate.Errorf(upstate.EINVALID, "%s: %s is before the incident's last entry (%s): entries are kept in the order they happened", field, rfc(at), rfc(stored.Updates[n-1].At))
	}
	return nil
}

// news reports whether a change at at, written now, is told to anyone.
func news(at, now time.Time) bool { return now.Sub(at) <= RecentPast }

// detected is when the checks on the components a declare sets first
// saw the problem: the earliest confirmation among those failing now
// whose failure was confirmed at most DetectWindow before at and no
// later than it, with the earliest failing result behind them (the
// start). ok is false when none was. Must be called with e.mu held.
//
// A declare written up later (at in the past) may find its checks well
// again: then the stored history says, the failure each check had
// confirmed at at (its last change at or before at, within DetectWindow,
// to a failing state).
func (e *Engine) detected(ctx context.Context, comps map[string]upstate.Status, at time.Time) (detect, start time.Time, ok bool) {
	for _, comp := range slices.Sorted(maps.Keys(comps)) {
		if comps[comp].Severity() == 0 {
			continue
		}
		for _, id := range e.checksOf[comp] {
			k, has := e.conds[id]
			c := k.condition(id)
			if has && c.At.After(at) {
				c, has = e.failingAt(ctx, id, at)
			}
			if !has || !c.State.Failing() || c.At.IsZero() || c.At.After(at) || c.At.Before(at.Add(-DetectWindow)) {
				continue
			}
			if !ok || c.At.Before(detect) {
				detect = c.At
			}
			s := c.Since
			if s.IsZero() || s.After(c.At) {
				s = c.At
			}
			if !ok || s.Before(start) {
				start = s
			}
			ok = true
		}
	}
	return detect, start, ok
}

// failingAt is the condition a check had confirmed at at, from its stored
// transitions within DetectWindow before it; has is false when it
// confirmed none there (or the history cannot be read: detection is then
// the declaration's own time, as without checks).
func (e *Engine) failingAt(ctx context.Context, checkID string, at time.Time) (upstate.Condition, bool) {
	ts, err := e.opts.Store.ListTransitions(ctx, checkID, at.Add(-DetectWindow), at.Add(time.Nanosecond))
	if err != nil || len(ts) == 0 {
		return upstate.Condition{}, false
	}
	return ts[len(ts)-1].To, true
}

// declaredTimes works out a declare's start, detection and declaration:
// each as given, or else detection from the failing checks on its
// components (else the declaration), the start from the first failing
// result behind them (else the detection), the declaration now. They must
// be in that order. Must be called with e.mu held.
func (e *Engine) declaredTimes(ctx context.Context, c Change, now time.Time) (start, detect, at time.Time, err error) {
	if at, err = stamp("at", c.At, now); err != nil {
		return
	}
	var probs []string
	given := func(field string, t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		s, err := stamp(field, t, now)
		if err != nil {
			probs = append(probs, upstate.ErrorMessage(err))
		}
		return s
	}
	start, detect = given("started_at", c.StartedAt), given("detected_at", c.DetectedAt)
	if len(probs) > 0 {
		return start, detect, at, upstate.Errorf(upstate.EINVALID, "%s", joinProbs(probs))
	}
	if detect.IsZero() {
		if d, s, ok := e.detected(ctx, c.Set, at); ok && (start.IsZero() || !d.Before(start)) {
			detect = d
			if start.IsZero() {
				start = s
			}
		} else {
			detect = at
		}
	}
	if start.IsZero() {
		start = detect
	}
	switch {
	case at.Before(detect):
		probs = append(probs, fmt.Sprintf("at: the declaration (%s) is before detected_at (%s)", rfc(at), rfc(detect)))
	case at.Before(start):
		probs = append(probs, fmt.Sprintf("started_at: %s is after the declaration's at (%s)", rfc(start), rfc(at)))
	case detect.Before(start):
		probs = append(probs, fmt.Sprintf("detected_at: %s is before started_at (%s)", rfc(detect), rfc(start)))
	}
	if len(probs) > 0 {
		return start, detect, at, upstate.Errorf(upstate.EINVALID, "%s", joinProbs(probs))
	}
	return start, detect, at, nil
}

func joinProbs(p []string) string { return strings.Join(p, "; ") }
