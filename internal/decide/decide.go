// Package decide turns a check's results into confirmed conditions. It is a
// pure state machine: results in, condition changes out, no clock and no I/O.
//
// The rules, in order of precedence:
//   - down: the last FailAfter results all failed (FailAfter+2 while the
//     check is already failing part of the time, so bursts inside a partial
//     outage do not flap it between partial and down);
//   - degraded, partial: at least PartialAfter of the last Window results
//     failed, mixed with answers (a quarter of requests answering 500 is a
//     partial outage; a streak of failures on its way to down is not);
//   - degraded, slow: the last FailAfter results were all slow or worse;
//   - up: the last RecoverAfter results were all fine. Confirming up clears
//     the window, so old failures do not count against the recovery.
//
// A provider's word (a result carrying a ProviderReport) is confirmed by
// the provider already: FailAfter reads that agree make its state, and a
// partial outage it reports is partial, without the rules above.
//
// Leaving a failing state for a better one needs RecoverAfter good results;
// a check that changed state FlapThreshold times within FlapWindow is
// flapping and needs a whole clean window to recover. A suspect result —
// one that points to a state not yet confirmed — asks for a quick re-check
// so confirmation takes seconds instead of intervals.
package decide

import (
	"time"

	"github.com/upstatehq/upstate"
)

// Defaults fills unset fields of a DecideSpec with the house defaults,
// given the check's interval.
func Defaults(s upstate.DecideSpec, interval time.Duration) upstate.DecideSpec {
	if s.FailAfter <= 0 {
		s.FailAfter = 3
	}
	if s.RecoverAfter <= 0 {
		s.RecoverAfter = 2
	}
	if s.Window <= 0 {
		s.Window = 10
	}
	if s.Window < s.FailAfter {
		s.Window = s.FailAfter
	}
	if s.PartialAfter <= 0 {
		s.PartialAfter = 2
	}
	if s.RecheckCount < 0 {
		s.RecheckCount = 0
	} else if s.RecheckCount == 0 {
		s.RecheckCount = s.FailAfter
	}
	if s.RecheckEvery <= 0 {
		s.RecheckEvery = 5 * time.Second
		if q := interval / 4; q < s.RecheckEvery && q > 0 {
			s.RecheckEvery = q
		}
	}
	if s.FlapWindow <= 0 {
		s.FlapWindow = 20 * interval
	}
	if s.FlapThreshold <= 0 {
		s.FlapThreshold = 4
	}
	if s.RecoveryWindow <= 0 {
		s.RecoveryWindow = 2 * interval
		if s.RecoveryWindow < time.Minute {
			s.RecoveryWindow = time.Minute
		}
	}
	return s
}

// Machine decides one check's condition. It is not safe for concurrent
// use; the caller serialises results per check.
type Machine struct {
	spec     upstate.DecideSpec
	checkID  string
	cond     upstate.Condition
	window   []upstate.Result // most recent last, at most spec.Window
	flips    []time.Time      // recent confirmed transitions, for flap damping
	rechecks int              // quick re-checks asked for since the last regular result
}

// New returns a machine for the check, starting in the given condition
// (StateUnknown for a new check; the stored one after a restart).
func New(checkID string, spec upstate.DecideSpec, start upstate.Condition) *Machine {
	if start.State == "" {
		start.State = upstate.StateUnknown
	}
	start.CheckID = checkID
	return &Machine{spec: spec, checkID: checkID, cond: start}
}

// Condition returns the current confirmed condition.
func (m *Machine) Condition() upstate.Condition { return m.cond }

// Flapping reports whether the check changed state too often lately.
func (m *Machine) Flapping() bool { return len(m.flips) >= m.spec.FlapThreshold }

// Decision is what one result led to.
type Decision struct {
	// Transition is set when the condition changed.
	Transition *upstate.Transition
	// Recheck asks the scheduler for a quick re-check: the result points
	// to a change that is not confirmed yet.
	Recheck bool
}

// Observe feeds one result and returns what it decided.
func (m *Machine) Observe(r upstate.Result) Decision {
	m.window = append(m.window, r)
	if len(m.window) > m.spec.Window {
		m.window = m.window[len(m.window)-m.spec.Window:]
	}
	m.expireFlips(r.At)

	target, partial := m.target()
	var d Decision
	if target != m.cond.State || (target == upstate.StateDegraded && partial != m.cond.Partial) {
		next := upstate.Condition{
			CheckID:  m.checkID,
			State:    target,
			Partial:  partial,
			Since:    m.since(target),
			At:       r.At.Add(r.Latency),
			Evidence: r.Evidence(),
			Failures: m.count(failed),
			Samples:  len(m.window),
		}
		if target == upstate.StateUp && r.Note == "" {
			next.Evidence = "answered normally " + r.Evidence()
		}
		if r.Provider != nil && r.Provider.Cause != nil {
			cause := *r.Provider.Cause
			next.Upstream = &cause
		}
		d.Transition = &upstate.Transition{From: m.cond, To: next}
		if m.cond.State != upstate.StateUnknown {
			m.flips = append(m.flips, r.At)
		}
		m.cond = next
		if target == upstate.StateUp {
			m.window = m.window[:0]
		}
	}
	// A result that disagrees with the confirmed state is suspect: look
	// again soon rather than a whole interval later.
	suspect := !r.OK() && m.cond.State != upstate.StateDown
	suspect = suspect || (r.OK() && m.cond.State.Failing())
	if suspect && m.rechecks < m.spec.RecheckCount {
		m.rechecks++
		d.Recheck = true
	} else if !suspect || d.Transition != nil {
		m.rechecks = 0
	}
	return d
}

func failed(r upstate.Result) bool { return r.Outcome == upstate.OutcomeFail }
func notOK(r upstate.Result) bool  { return r.Outcome != upstate.OutcomeOK }
func isOK(r upstate.Result) bool   { return r.Outcome == upstate.OutcomeOK }
func (m *Machine) tailAll(n int, pred func(upstate.Result) bool) bool {
	if n <= 0 || len(m.window) < n {
		return false
	}
	for _, r := range m.window[len(m.window)-n:] {
		if !pred(r) {
			return false
		}
	}
	return true
}

// answersSinceDown counts good answers after the last streak of
// FailAfter failures in the window.
func (m *Machine) answersSinceDown() int {
	n, streak := 0, 0
	for _, r := range m.window {
		if failed(r) {
			streak++
			if streak >= m.spec.FailAfter {
				n = 0
			}
			continue
		}
		streak = 0
		if isOK(r) {
			n++
		}
	}
	return n
}

// interleaved reports whether the window's failures are mixed with
// answers: failing part of the time, rather than a streak of failures that
// is still on its way to confirming down.
func (m *Machine) interleaved() bool {
	seenFail := false
	for _, r := range m.window {
		if failed(r) {
			seenFail = true
		} else if seenFail {
			return true
		}
	}
	return false
}

func (m *Machine) count(pred func(upstate.Result) bool) int {
	n := 0
	for _, r := range m.window {
		if pred(r) {
			n++
		}
	}
	return n
}

// target computes the state the window supports, with hysteresis
// relative to the current condition.
func (m *Machine) target() (upstate.State, bool) {
	if last := m.window[len(m.window)-1]; last.Provider != nil {
		return m.told(last)
	}
	cur := m.cond
	downAfter := m.spec.FailAfter
	if cur.State == upstate.StateDegraded && cur.Partial {
		downAfter += 2
	}
	if m.tailAll(downAfter, failed) {
		return upstate.StateDown, false
	}
	if cur.State == upstate.StateDown && m.answersSinceDown() < m.spec.RecoverAfter && !m.tailAll(m.spec.RecoverAfter, isOK) {
		// Still down: a lone good answer is a recovery to confirm (the
		// re-check does that), not yet a partial outage.
		return upstate.StateDown, false
	}
	recoverAfter := m.spec.RecoverAfter
	if m.Flapping() {
		recoverAfter = m.spec.Window
	}
	recovered := m.tailAll(recoverAfter, isOK)
	if cur.State == upstate.StateUnknown && m.tailAll(1, isOK) {
		recovered = true // the first good result of a new check is enough
	}
	if recovered && (cur.State != upstate.StateDegraded || !cur.Partial || m.tailAll(max(recoverAfter, m.spec.Window/2), isOK)) {
		return upstate.StateUp, false
	}
	if m.count(failed) >= m.spec.PartialAfter && m.interleaved() {
		return upstate.StateDegraded, true
	}
	if m.tailAll(m.spec.FailAfter, notOK) {
		return upstate.StateDegraded, false
	}
	if cur.State == upstate.StateUnknown {
		return upstate.StateUnknown, false
	}
	if cur.State == upstate.StateDown {
		// One good answer after an outage, but not yet a recovery and not
		// enough failures left in the window to call it partial.
		if m.count(failed) > 0 {
			return upstate.StateDegraded, true
		}
	}
	// Not enough evidence to change anything: keep the confirmed state.
	return cur.State, cur.Partial
}

// told is target for a provider's word (an upstream check's read): the
// provider has confirmed its status, so the state is what the last
// FailAfter reads all say at least (their major outage, partial outage or
// degradation), RecoverAfter good reads recover it (a whole window while
// flapping), and none of the hysteresis measured failures need applies: a
// provider's partial outage is a partial outage, and one that eases from a
// major outage to a partial one is partial at once.
func (m *Machine) told(last upstate.Result) (upstate.State, bool) {
	if n := m.spec.FailAfter; len(m.window) >= n {
		least := 3 // of the last n reads: 0 fine, 1 degraded, 2 partial, 3 down
		for _, r := range m.window[len(m.window)-n:] {
			level := 0
			switch {
			case r.Outcome == upstate.OutcomeFail:
				level = 3
			case r.Outcome == upstate.OutcomeSlow && r.Provider != nil && r.Provider.Partial:
				level = 2
			case r.Outcome == upstate.OutcomeSlow:
				level = 1
			}
			least = min(least, level)
		}
		switch least {
		case 3:
			return upstate.StateDown, false
		case 2:
			return upstate.StateDegraded, true
		case 1:
			return upstate.StateDegraded, false
		}
	}
	recoverAfter := m.spec.RecoverAfter
	if m.Flapping() {
		recoverAfter = m.spec.Window
	}
	if m.tailAll(recoverAfter, isOK) || (m.cond.State == upstate.StateUnknown && last.OK()) {
		return upstate.StateUp, false
	}
	return m.cond.State, m.cond.Partial
}

// since finds when the evidence for the target state began: the first
// result of the trailing run that supports it.
func (m *Machine) since(target upstate.State) time.Time {
	var pred func(upstate.Result) bool
	switch target {
	case upstate.StateDown:
		pred = failed
	case upstate.StateDegraded:
		pred = notOK
	default:
		pred = isOK
	}
	i := len(m.window) - 1
	for i > 0 && pred(m.window[i-1]) {
		i--
	}
	if target == upstate.StateDegraded {
		// For a partial outage the trouble began at the first failure in the window.
		for j, r := range m.window {
			if !r.OK() {
				if j < i {
					i = j
				}
				break
			}
		}
	}
	if i < 0 {
		return time.Time{}
	}
	return m.window[i].At
}

func (m *Machine) expireFlips(now time.Time) {
	cut := now.Add(-m.spec.FlapWindow)
	i := 0
	for i < len(m.flips) && m.flips[i].Before(cut) {
		i++
	}
	m.flips = m.flips[i:]
}
