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
//
// A check whose probe is a request one may repeat (DecideSpec.Burst > 0)
// asks instead for a burst: several samples taken at once and judged
// together (ObserveBurst), by the share that failed — none: a transient,
// nothing changes (or, from a failing state, up); all: down; some: a
// partial outage of that share, which the condition carries (Burst,
// Failures of Samples) and the evidence says with its confidence bounds.
// The suspect result itself changes nothing: the burst decides. A result
// that stands for an answer not come yet (Result.Pending: slow at its
// bound) counts as slow at once, and its final result takes its place.
package decide

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
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
//
// A server holds one per check, 100,000 of them on one box, so it carries
// only what a healthy check needs: its spec is shared with the checks
// decided alike (NewShared), its check's id is its condition's, and what
// only a check in trouble needs — a burst asked for or judged, evidence
// waiting for an answer, recent transitions, re-checks asked for — is in
// its trouble, made the first time it is needed.
type Machine struct {
	spec   *upstate.DecideSpec // shared with other machines: never written
	cond   upstate.Condition   // its CheckID is the machine's check's, always
	window []sample            // most recent last, at most spec.Window
	loc    *time.Location      // the zone of the window's times
	// t is nil while everything in it is at its starting value (times
	// noTime, counts zero, nothing due, no flips): a check that has never
	// been in trouble carries none of it.
	t *troubleState
}

// troubleState is what a Machine only needs once its check has been in
// trouble. It is never dropped once made: a machine that needed it is
// likely to again.
type troubleState struct {
	flips    []time.Time // recent confirmed transitions, for flap damping
	rechecks int         // quick re-checks asked for since the last regular result
	// burstDue is set while a burst asked for has not been judged: the
	// suspect result that asked waits for it. A regular result coming
	// first means none came (a probe run by hand, say), and the window
	// judges it as without bursts.
	burstDue bool
	// burstAt is when the last burst judged began (its first sample's
	// At), and condBurst when the one the condition came from did: the
	// same burst judged again, with the answers its pending samples were
	// waiting for, completes the condition's evidence.
	burstAt, condBurst int64 // Unix ns (noTime for none), as every time below
	// pendingAt is the At of the pending result whose evidence the
	// condition carries (noTime when none): its final answer completes it.
	pendingAt int64
	// askedAt is the At of the result that asked for the last burst;
	// condAsked that of the one whose burst the condition came from, and
	// condSamples that burst: when that result's answer comes after the
	// burst was judged, it completes the evidence.
	askedAt, condAsked int64
	condSamples        []upstate.Result
	// cleanBursts counts the bursts in a row that were all fine while the
	// check was failing: up needs RecoverAfter of them (twice that while
	// flapping), as it needs RecoverAfter good results without bursts.
	// One clean burst of ten proves little against a quarter failing.
	cleanBursts int
}

// trouble returns m's trouble, made at its starting values when it has
// none: for writing. Reads of a machine that may have none go through the
// accessors below, which give the starting values without making it.
func (m *Machine) trouble() *troubleState {
	if m.t == nil {
		m.t = &troubleState{burstAt: noTime, condBurst: noTime, pendingAt: noTime, askedAt: noTime, condAsked: noTime}
	}
	return m.t
}

func (m *Machine) flips() []time.Time {
	if m.t == nil {
		return nil
	}
	return m.t.flips
}

func (m *Machine) rechecks() int {
	if m.t == nil {
		return 0
	}
	return m.t.rechecks
}

func (m *Machine) burstDue() bool {
	return m.t != nil && m.t.burstDue
}

func (m *Machine) pendingAt() int64 {
	if m.t == nil {
		return noTime
	}
	return m.t.pendingAt
}

func (m *Machine) condAsked() int64 {
	if m.t == nil {
		return noTime
	}
	return m.t.condAsked
}

func (m *Machine) condSamples() []upstate.Result {
	if m.t == nil {
		return nil
	}
	return m.t.condSamples
}

// New returns a machine for the check, starting in the given condition
// (StateUnknown for a new check; the stored one after a restart). The
// machine keeps a copy of spec of its own; NewShared shares one.
func New(checkID string, spec upstate.DecideSpec, start upstate.Condition) *Machine {
	return NewShared(checkID, &spec, start)
}

// NewShared is New with a spec the machine shares with others decided
// alike (one from Specs): neither the caller nor the machine may change
// it afterwards.
func NewShared(checkID string, spec *upstate.DecideSpec, start upstate.Condition) *Machine {
	if start.State == "" {
		start.State = upstate.StateUnknown
	}
	start.CheckID = checkID
	return &Machine{spec: spec, cond: start}
}

// Specs hands out one shared copy of each distinct DecideSpec, for the
// machines of the checks decided alike: nearly all of a server's checks
// share a few specs, and a machine holding its own would be 88 bytes more
// of each. Each copy is an allocation of its own, so a machine kept across
// a reload holds only its spec, not the set it was made from. The zero
// Specs is ready to use; a nil one hands out a fresh copy each time. It is
// safe for concurrent use.
type Specs struct {
	mu     sync.Mutex
	shared map[upstate.DecideSpec]*upstate.DecideSpec
}

// Of returns the shared copy of spec. It must not be written through.
func (s *Specs) Of(spec upstate.DecideSpec) *upstate.DecideSpec {
	if s == nil {
		return &spec
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.shared[spec]; ok {
		return p
	}
	if s.shared == nil {
		s.shared = map[upstate.DecideSpec]*upstate.DecideSpec{}
	}
	p := &spec
	s.shared[spec] = p
	return p
}

// sample is what the window keeps of a result: what judging and the
// evidence read, in 24 bytes rather than a Result's 192. The windows are
// most of what checks hold: ten results each, in eleven slots, would be
// 190 MB of Results at 100,000 checks; at 32 bytes a sample they were
// 35 MB, at 24 they are 29 (the allocator's 288-byte class). A result's
// time is kept as Unix nanoseconds (its zone is the machine's loc); what a
// clean result has none of (an error, a note, a provider's word, an
// outcome not one of the three) is kept apart, so most samples point to
// nothing.
//
// Nothing is rounded: the evidence prints latency to the microsecond (and
// a latency of zero as none), so latency stays in exact nanoseconds, in 32
// bits: up to 4.29 s, which nearly every answer is; a longer (or negative)
// one is kept in the sampleMore, with the errors the slow and failed
// results that take that long mostly have anyway. The status, an HTTP
// status or DNS rcode, fits 16 bits; one that does not is kept in full
// apart too, with an outcome not one of the three, both rarer still
// (sampleOdd), so that a failed result's sampleMore stays 64 bytes.
type sample struct {
	at      int64 // At, Unix ns; noTime for a zero At
	more    *sampleMore
	latency uint32 // Latency in ns, when more is nil (else more.latency)
	status  uint16 // StatusCode, unless more.odd is set (then odd.status)
	outcome uint8  // codeOK, codeSlow, codeFail, or codeOther
	pending bool
}

type sampleMore struct {
	err, note string
	provider  *upstate.ProviderReport
	latency   time.Duration // the sample's, whatever it is
	odd       *sampleOdd
}

// sampleOdd is what hardly any result has.
type sampleOdd struct {
	outcome upstate.Outcome // when the sample's code is codeOther
	status  int             // the sample's, whatever it is
}

const noTime = math.MinInt64

// The outcomes a sample's code stands for; codeOther is one beside them,
// kept in its sampleOdd.
const (
	codeOK uint8 = iota
	codeSlow
	codeFail
	codeOther
)

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixNano()
}

func (m *Machine) sampleOf(r upstate.Result) sample {
	if !r.At.IsZero() {
		m.loc = r.At.Location()
	}
	s := sample{at: nanos(r.At), outcome: codeOther, pending: r.Pending}
	switch r.Outcome {
	case upstate.OutcomeOK:
		s.outcome = codeOK
	case upstate.OutcomeSlow:
		s.outcome = codeSlow
	case upstate.OutcomeFail:
		s.outcome = codeFail
	}
	odd := s.outcome == codeOther || r.StatusCode < 0 || r.StatusCode > math.MaxUint16
	if !odd {
		s.status = uint16(r.StatusCode)
	}
	if r.Error != "" || r.Note != "" || r.Provider != nil || odd || r.Latency < 0 || r.Latency > math.MaxUint32 {
		s.more = &sampleMore{err: r.Error, note: r.Note, provider: r.Provider, latency: r.Latency}
		if odd {
			s.more.odd = &sampleOdd{outcome: r.Outcome, status: r.StatusCode}
		}
	} else {
		s.latency = uint32(r.Latency)
	}
	return s
}

// Latency is the result's latency.
func (s sample) Latency() time.Duration {
	if s.more != nil {
		return s.more.latency
	}
	return time.Duration(s.latency)
}

// StatusCode is the result's status code.
func (s sample) StatusCode() int {
	if s.more != nil && s.more.odd != nil {
		return s.more.odd.status
	}
	return int(s.status)
}

func (s sample) is(o upstate.Outcome) bool { return s.Outcome() == o }

// Outcome is the result's outcome.
func (s sample) Outcome() upstate.Outcome {
	switch s.outcome {
	case codeOK:
		return upstate.OutcomeOK
	case codeSlow:
		return upstate.OutcomeSlow
	case codeFail:
		return upstate.OutcomeFail
	}
	return s.more.odd.outcome
}

func (s sample) provider() *upstate.ProviderReport {
	if s.more == nil {
		return nil
	}
	return s.more.provider
}

// time is the sample's At, in the zone its result had.
func (m *Machine) time(s sample) time.Time {
	if s.at == noTime {
		return time.Time{}
	}
	return time.Unix(0, s.at).In(m.loc)
}

// result is the sample as the result it was, for its evidence.
func (m *Machine) result(s sample) upstate.Result {
	r := upstate.Result{CheckID: m.cond.CheckID, At: m.time(s), Latency: s.Latency(), StatusCode: s.StatusCode(), Outcome: s.Outcome(), Pending: s.pending}
	if s.more != nil {
		r.Error, r.Note, r.Provider = s.more.err, s.more.note, s.more.provider
	}
	return r
}

// Condition returns the current confirmed condition.
func (m *Machine) Condition() upstate.Condition { return m.cond }

// Flapping reports whether the check changed state too often lately.
func (m *Machine) Flapping() bool { return len(m.flips()) >= m.spec.FlapThreshold }

// Decision is what one result led to.
type Decision struct {
	// Transition is set when the condition changed (or, in the same
	// state, when what it says did: a partial outage's share moved
	// beyond its confidence bounds, or evidence that was waiting for an
	// answer got it).
	Transition *upstate.Transition
	// Recheck asks the scheduler for a quick re-check: the result points
	// to a change that is not confirmed yet.
	Recheck bool
	// Burst asks the scheduler for a burst instead (DecideSpec.Burst):
	// the result is suspect and the burst, judged by ObserveBurst,
	// decides.
	Burst bool
}

// Observe feeds one result and returns what it decided. A pending result
// (Result.Pending) counts as slow at once and does the asking for re-checks
// or a burst; its final result (the same At) takes its place in the window
// and asks for nothing more.
func (m *Machine) Observe(r upstate.Result) Decision {
	if !r.Pending && m.replacePending(r) {
		return m.final(r)
	}
	m.push(r)
	m.expireFlips(r.At)
	if !r.OK() && m.t != nil {
		m.t.cleanBursts = 0 // up needs clean bursts with nothing bad between
	}
	if m.spec.Burst > 0 {
		suspect := m.suspect(r)
		if suspect && !m.burstDue() {
			t := m.trouble()
			t.burstDue, t.askedAt = true, nanos(r.At)
			return Decision{Burst: true}
		}
		// Not suspect, or the burst asked for never came: the window
		// judges, and a suspect result asks again. (Suspect here, a burst
		// was due: m.t is made.)
		if m.t != nil {
			m.t.burstDue = suspect
		}
		d := m.judge(r)
		d.Burst = suspect
		return d
	}
	d := m.judge(r)
	// A result that disagrees with the confirmed state is suspect: look
	// again soon rather than a whole interval later.
	suspect := m.suspect(r)
	if suspect && m.rechecks() < m.spec.RecheckCount {
		m.trouble().rechecks++
		d.Recheck = true
	} else if (!suspect || d.Transition != nil) && m.t != nil {
		m.t.rechecks = 0
	}
	return d
}

// suspect reports whether a result points to a state not confirmed.
// Without bursts: a bad result while not down, a good one while failing.
// With them, a result that agrees with the state is not suspect — a slow
// answer while slow, a failure while down — and while failing part of the
// time every result is, so each is followed by a burst that measures the
// share again (and sees the recovery, or the fall to down, within one
// probe).
func (m *Machine) suspect(r upstate.Result) bool {
	st := m.cond.State
	if m.spec.Burst <= 0 {
		return (!r.OK() && st != upstate.StateDown) || (r.OK() && st.Failing())
	}
	switch {
	case m.spec.BurstAlways && !(st == upstate.StateDown && r.Outcome == upstate.OutcomeFail):
		return true // every probe measures the share (a failure while down agrees: none needed)
	case st == upstate.StateDown:
		return r.Outcome != upstate.OutcomeFail
	case st == upstate.StateDegraded && m.cond.Partial:
		return true
	case st == upstate.StateDegraded:
		return r.Outcome != upstate.OutcomeSlow
	}
	return !r.OK()
}

// push adds results to the window, keeping its last spec.Window (and
// the pending results before them, whose answers must find their place).
// The window is moved up in its own array: a check's results allocate
// nothing once its window is full.
func (m *Machine) push(rs ...upstate.Result) {
	if m.window == nil {
		// Room for a full window and the next result: append's doubling
		// would leave 16.
		m.window = make([]sample, 0, m.spec.Window+1)
	}
	for _, r := range rs {
		m.window = append(m.window, m.sampleOf(r))
	}
	if len(m.window) > m.spec.Window {
		cut := len(m.window) - m.spec.Window
		keep := 0
		for _, r := range m.window[:cut] {
			if r.pending {
				m.window[keep] = r
				keep++
			}
		}
		n := copy(m.window[keep:], m.window[cut:])
		clear(m.window[keep+n:])
		m.window = m.window[:keep+n]
	}
}

// replacePending puts a final result in the place of the pending one it
// follows, and reports whether there was one.
func (m *Machine) replacePending(r upstate.Result) bool {
	for i := len(m.window) - 1; i >= 0; i-- {
		if w := m.window[i]; w.pending && w.at == nanos(r.At) {
			m.window[i] = m.sampleOf(r)
			return true
		}
	}
	return false
}

// final judges the answer a pending result was waiting for, now in its
// place in the window.
func (m *Machine) final(r upstate.Result) Decision {
	if m.burstDue() {
		return Decision{} // the burst the pending result asked for decides
	}
	wasPending := m.pendingAt() == nanos(r.At)
	askedBurst := m.cond.Burst && m.condAsked() == nanos(r.At)
	d := m.judge(r)
	if d.Transition != nil {
		return d
	}
	// The condition was confirmed on this answer's stand-in, or on the
	// burst it asked for: now that it came, the evidence says what it was.
	next := m.cond
	switch {
	case wasPending:
		next.Evidence = r.Evidence()
	case askedBurst:
		next.Evidence = burstEvidence(m.condSamples(), next.State, &r)
	}
	if next.Evidence != m.cond.Evidence {
		d.Transition = &upstate.Transition{From: m.cond, To: next}
		m.cond = next
	}
	if (wasPending || askedBurst) && m.t != nil { // without m.t, both are noTime
		m.t.pendingAt, m.t.condAsked = noTime, noTime
	}
	return d
}

// judge works out what the window supports now that r is in it.
func (m *Machine) judge(r upstate.Result) Decision {
	target, partial := m.target()
	var d Decision
	if target != m.cond.State || (target == upstate.StateDegraded && partial != m.cond.Partial) {
		next := upstate.Condition{
			CheckID:  m.cond.CheckID,
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
			t := m.trouble()
			t.flips = append(t.flips, r.At)
		}
		m.cond = next
		if r.Pending {
			m.trouble().pendingAt = nanos(r.At)
		} else if m.t != nil { // without m.t, it is noTime
			m.t.pendingAt = noTime
		}
		if target == upstate.StateUp {
			clear(m.window)
			m.window = m.window[:0]
		}
	}
	return d
}

// ObserveBurst judges a burst's samples together, as one observation
// taken at once: the share that failed decides.
//   - all failed: down;
//   - some failed: failing part of the time, that share (Condition.Burst,
//     Failures of Samples); while it already was, a new share within the
//     last one's confidence bounds changes nothing;
//   - none failed, at least half slow (pending samples count as slow):
//     slow;
//   - none failed or slow: up; from a failing state only after
//     RecoverAfter such bursts in a row (twice that while flapping), with
//     nothing failing between them; a few slow, under half: nothing
//     changes while up (a transient), slow while failing (not yet all
//     fine).
//
// All failed counts as that many failures in a row, with those just
// before it: down once they reach FailAfter (a burst of ten does, unless
// fail_after asks for more).
//
// A burst whose pending samples answer later is judged again with their
// answers (the same samples, the first At unchanged): then it completes
// the evidence of the condition it confirmed, or moves it when the
// answers say otherwise.
func (m *Machine) ObserveBurst(samples []upstate.Result) Decision {
	if m.t != nil {
		m.t.burstDue = false
	}
	n := len(samples)
	if n == 0 {
		return Decision{}
	}
	t := m.trouble() // a burst judged: what follows needs it
	again := t.burstAt == nanos(samples[0].At)
	t.burstAt = nanos(samples[0].At)
	at := samples[0].At
	fails, slows := 0, 0
	for _, r := range samples {
		if done := r.At.Add(r.Latency); done.After(at) {
			at = done
		}
		switch r.Outcome {
		case upstate.OutcomeFail:
			fails++
		case upstate.OutcomeSlow:
			slows++
		}
	}
	m.expireFlips(at)
	cur := m.cond
	var target upstate.State
	partial := false
	switch {
	case fails == n && m.failedInARow()+n < m.spec.FailAfter:
		// Not yet as many failures in a row as fail_after asks: they
		// wait in the window for the next probe.
		t.cleanBursts = 0
		m.push(samples...)
		return Decision{}
	case fails == n:
		target = upstate.StateDown
	case fails > 0:
		target, partial = upstate.StateDegraded, true
	case 2*slows >= n:
		target = upstate.StateDegraded
	case slows == 0 || !cur.State.Failing():
		target = upstate.StateUp
	default:
		target = upstate.StateDegraded // answers, a few slow: not yet all fine
	}
	if target == upstate.StateUp && cur.State == upstate.StateUp {
		// A transient: the burst's answers outweigh the suspect result.
		m.push(samples...)
		return Decision{}
	}
	if target == upstate.StateUp && cur.State.Failing() {
		need := m.spec.RecoverAfter
		if m.Flapping() {
			need *= 2
		}
		if t.cleanBursts++; t.cleanBursts < need {
			// Fine this time; the next probe's burst must say so too. The
			// window keeps the condition's evidence meanwhile.
			return Decision{}
		}
	}
	t.cleanBursts = 0
	changed := target != cur.State || (target == upstate.StateDegraded && partial != cur.Partial)
	moved := !changed && partial && cur.Burst && shareMoved(cur, fails, n)
	completes := !changed && again && t.condBurst == nanos(samples[0].At)
	if !changed && !moved && !completes {
		m.resetWindow(samples, target)
		return Decision{}
	}
	next := upstate.Condition{
		CheckID: m.cond.CheckID, State: target, Partial: partial, Since: cur.Since, At: at,
		Evidence: burstEvidence(samples, target, m.answer(t.askedAt)), Failures: fails, Samples: n, Burst: true,
	}
	if changed {
		next.Since = m.burstSince(samples, target)
		if cur.State != upstate.StateUnknown {
			t.flips = append(t.flips, at)
		}
	}
	d := Decision{Transition: &upstate.Transition{From: cur, To: next}}
	m.cond, t.condBurst, t.pendingAt = next, nanos(samples[0].At), noTime
	t.condAsked, t.condSamples = t.askedAt, slices.Clone(samples)
	m.resetWindow(samples, target)
	return d
}

// failedInARow counts the failed results at the end of the window.
func (m *Machine) failedInARow() int {
	n := 0
	for i := len(m.window) - 1; i >= 0 && failed(m.window[i]); i-- {
		n++
	}
	return n
}

// answer is the result in the window taken at at (Unix ns), once it has
// answered (nil while it is pending, or gone).
func (m *Machine) answer(at int64) *upstate.Result {
	for i := len(m.window) - 1; i >= 0; i-- {
		if r := m.window[i]; r.at == at && !r.pending {
			res := m.result(r)
			return &res
		}
	}
	return nil
}

// resetWindow makes a burst the window: its samples outweigh what came
// before, except a pending result, kept so that its answer takes its place.
func (m *Machine) resetWindow(samples []upstate.Result, target upstate.State) {
	keep := 0
	for _, r := range m.window {
		if r.pending {
			m.window[keep] = r
			keep++
		}
	}
	clear(m.window[keep:])
	m.window = m.window[:keep]
	if target != upstate.StateUp {
		room := min(len(samples), max(0, m.spec.Window-keep))
		for _, r := range samples[len(samples)-room:] {
			m.window = append(m.window, m.sampleOf(r))
		}
	}
}

// burstSince is when the evidence for a state a burst confirmed began:
// for trouble, the first bad result since the check was last seen well
// (the suspect result that asked for the burst, or one before it), else
// the burst's own first bad sample; for up, the burst's start.
func (m *Machine) burstSince(samples []upstate.Result, target upstate.State) time.Time {
	if target == upstate.StateUp {
		return samples[0].At
	}
	for _, r := range m.window {
		if !isOK(r) {
			return m.time(r)
		}
	}
	for _, r := range samples {
		if !r.OK() {
			return r.At
		}
	}
	return samples[0].At
}

// shareMoved reports whether failures of n lies outside the confidence
// bounds of the share the condition measured.
func shareMoved(c upstate.Condition, failures, n int) bool {
	lo, hi := Wilson(c.Failures, c.Samples)
	p := float64(failures) / float64(n)
	return p < lo || p > hi
}

// Wilson is the 95% Wilson score interval of a share measured as k of n:
// where the true share lies, with 95% confidence. It stays inside [0, 1]
// and is honest for small n and for shares near 0 or 1 (0 of 10 still
// allows up to 28%).
func Wilson(k, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959964
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return max(0, mid-half), min(1, mid+half)
}

// burstEvidence says what a burst found, in words: "3 of 10 requests
// answered HTTP 500 (30%; 11%–60% at 95% confidence)", "10 of 10 requests
// slower than 2.00 s; latest: HTTP 200 after 5.00 s" (the answer of
// the probe that asked for the burst, when it has come).
func burstEvidence(samples []upstate.Result, target upstate.State, latest *upstate.Result) string {
	n := len(samples)
	var bad, slow []upstate.Result
	var answered []time.Duration // latencies of the samples that answered
	for _, r := range samples {
		switch r.Outcome {
		case upstate.OutcomeFail:
			bad = append(bad, r)
			continue
		case upstate.OutcomeSlow:
			slow = append(slow, r)
		}
		if !unanswered(r) {
			answered = append(answered, r.Latency)
		}
	}
	median := func(ds []time.Duration) string {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return upstate.FormatLatency(ds[len(ds)/2])
	}
	switch {
	case len(bad) > 0:
		s := fmt.Sprintf("%d of %d requests %s", len(bad), n, failedHow(bad))
		if len(bad) < n {
			lo, hi := Wilson(len(bad), n)
			s += fmt.Sprintf(" (%s; %s–%s at 95%% confidence)", percent(float64(len(bad))/float64(n)), percent(lo), percent(hi))
		}
		return s
	case len(slow) == 0:
		return fmt.Sprintf("answered normally: %d of %d requests, median %s", n, n, median(answered))
	}
	bound, _, _ := strings.Cut(slow[0].Error, " (")
	if bound == "" {
		bound = "slow"
	}
	s := fmt.Sprintf("%d of %d requests %s", len(slow), n, bound)
	var slowAnswered []time.Duration
	for _, r := range slow {
		if !unanswered(r) {
			slowAnswered = append(slowAnswered, r.Latency)
		}
	}
	switch {
	case len(slowAnswered) == 0:
		s += " (none answered within it)"
	case len(slowAnswered) < len(slow):
		s += fmt.Sprintf(" (%d answered, median %s; %d not within it)", len(slowAnswered), median(slowAnswered), len(slow)-len(slowAnswered))
	default:
		s += fmt.Sprintf(" (median %s)", median(slowAnswered))
	}
	if latest != nil && latest.Outcome == upstate.OutcomeSlow && target.Failing() {
		s += "; latest: " + latest.Evidence()
	}
	return s
}

// unanswered reports whether a slow sample stands for an answer that did
// not come within the bound: a pending result, or a burst sample the
// scheduler stopped there; its error says so after the bound, "slower than
// 2.00 s (not waited for)".
func unanswered(r upstate.Result) bool {
	return r.Outcome == upstate.OutcomeSlow && (r.Pending || strings.Contains(r.Error, " ("))
}

// failedHow says how failed samples failed: "answered HTTP 500", "failed:
// connection refused", or, mixed, "failed (2 answered HTTP 500, 1 timed
// out after 10.0 s)".
func failedHow(bad []upstate.Result) string {
	var order []string
	count := map[string]int{}
	for _, r := range bad {
		w := how(r)
		if count[w] == 0 {
			order = append(order, w)
		}
		count[w]++
	}
	if len(order) == 1 {
		return order[0]
	}
	parts := make([]string, len(order))
	for i, w := range order {
		parts[i] = fmt.Sprintf("%d %s", count[w], strings.TrimPrefix(w, "failed: "))
	}
	return "failed (" + strings.Join(parts, ", ") + ")"
}

func how(r upstate.Result) string {
	switch {
	case r.StatusCode != 0 && (r.Error == "" || strings.HasPrefix(r.Error, "status ")):
		return fmt.Sprintf("answered HTTP %d", r.StatusCode)
	case r.StatusCode != 0:
		return fmt.Sprintf("answered HTTP %d: %s", r.StatusCode, r.Error)
	case r.Error != "":
		return "failed: " + r.Error
	}
	return "failed"
}

func percent(p float64) string { return strconv.FormatFloat(math.Round(p*100), 'f', -1, 64) + "%" }

func failed(r sample) bool { return r.is(upstate.OutcomeFail) }
func notOK(r sample) bool  { return !r.is(upstate.OutcomeOK) }
func isOK(r sample) bool   { return r.is(upstate.OutcomeOK) }
func (m *Machine) tailAll(n int, pred func(sample) bool) bool {
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

func (m *Machine) count(pred func(sample) bool) int {
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
	if last := m.window[len(m.window)-1]; last.provider() != nil {
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
func (m *Machine) told(last sample) (upstate.State, bool) {
	if n := m.spec.FailAfter; len(m.window) >= n {
		least := 3 // of the last n reads: 0 fine, 1 degraded, 2 partial, 3 down
		for _, r := range m.window[len(m.window)-n:] {
			level := 0
			switch {
			case r.is(upstate.OutcomeFail):
				level = 3
			case r.is(upstate.OutcomeSlow) && r.provider() != nil && r.provider().Partial:
				level = 2
			case r.is(upstate.OutcomeSlow):
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
	if m.tailAll(recoverAfter, isOK) || (m.cond.State == upstate.StateUnknown && isOK(last)) {
		return upstate.StateUp, false
	}
	return m.cond.State, m.cond.Partial
}

// since finds when the evidence for the target state began: the first
// result of the trailing run that supports it.
func (m *Machine) since(target upstate.State) time.Time {
	var pred func(sample) bool
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
			if notOK(r) {
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
	return m.time(m.window[i])
}

func (m *Machine) expireFlips(now time.Time) {
	if m.t == nil {
		return // no flips
	}
	cut := now.Add(-m.spec.FlapWindow)
	i := 0
	for i < len(m.t.flips) && m.t.flips[i].Before(cut) {
		i++
	}
	m.t.flips = m.t.flips[i:]
}
