package decide

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

var t0 = time.Date(2026, 8, 17, 14, 0, 0, 0, time.UTC)

// feed runs a sequence of outcomes ("o" ok, "s" slow, "f" fail), one every
// 5 s, and returns the state after each as a compact string, plus which
// results asked for a re-check.
func feed(m *Machine, seq string) (states, rechecks string) {
	var st, rc strings.Builder
	for i, c := range seq {
		r := upstate.Result{CheckID: "c", At: t0.Add(time.Duration(i) * 5 * time.Second), Latency: 10 * time.Millisecond}
		switch c {
		case 'o':
			r.Outcome = upstate.OutcomeOK
		case 's':
			r.Outcome = upstate.OutcomeSlow
		case 'f':
			r.Outcome, r.StatusCode, r.Error = upstate.OutcomeFail, 500, "status 500"
		}
		d := m.Observe(r)
		cond := m.Condition()
		switch {
		case cond.State == upstate.StateUp:
			st.WriteByte('U')
		case cond.State == upstate.StateDown:
			st.WriteByte('D')
		case cond.State == upstate.StateDegraded && cond.Partial:
			st.WriteByte('P')
		case cond.State == upstate.StateDegraded:
			st.WriteByte('S')
		default:
			st.WriteByte('?')
		}
		if d.Recheck {
			rc.WriteByte('r')
		} else {
			rc.WriteByte('.')
		}
	}
	return st.String(), rc.String()
}

func TestStates(t *testing.T) {
	tests := []struct {
		name, seq, want string
	}{
		{"healthy", "oooo", "UUUU"},
		{"new check failing from the start", "fff", "??D"},
		{"one blip is not an outage", "ofoooo", "UUUUUU"},
		{"three failures confirm down", "offf", "UUUD"},
		{"down recovers after two good answers", "offfoo", "UUUDDU"},
		{"slow answers are degraded, not down", "osss", "UUUS"},
		{"slow recovers", "osssoo", "UUUSSU"},
		{"a quarter failing is a partial outage", "ooofooofooofooof", "UUUUUUUPPPPPPPPP"},
		{"failures inside a partial outage need two more to go down", "ofofofffff", "UUUPPPPPPD"},
		{"failing half the time after an outage is partial", "offfofofo", "UUUDDDPPP"},
		{"partial needs a long clean run to recover", "ofofooooo", "UUUPPPPPU"},
		{"failure worse than slow", "ossfff", "UUUSSD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("c", Defaults(upstate.DecideSpec{}, time.Minute), upstate.Condition{})
			got, _ := feed(m, tt.seq)
			if got != tt.want {
				t.Errorf("feed(%s) = %s, want %s", tt.seq, got, tt.want)
			}
		})
	}
}

func TestFastConfirmation(t *testing.T) {
	m := New("c", Defaults(upstate.DecideSpec{}, time.Minute), upstate.Condition{})
	_, rc := feed(m, "offfo")
	// The first failure asks for re-checks until down is confirmed; the
	// confirmed-down failure does not; the good answer after it does (to
	// confirm recovery quickly).
	if want := ".rr.r"; rc != want {
		t.Errorf("rechecks = %s, want %s", rc, want)
	}
	spec := Defaults(upstate.DecideSpec{}, time.Minute)
	if spec.RecheckEvery != 5*time.Second || spec.RecheckCount != 3 {
		t.Errorf("defaults: recheck %d every %v, want 3 every 5s", spec.RecheckCount, spec.RecheckEvery)
	}
	// A 60 s check confirms an outage with two re-checks 5 s apart: 10 s
	// after the first failure, well under 30 s.
	m = New("c", spec, upstate.Condition{State: upstate.StateUp})
	var confirmed time.Time
	at := t0
	for i := 0; i < 5 && confirmed.IsZero(); i++ {
		d := m.Observe(upstate.Result{CheckID: "c", At: at, Outcome: upstate.OutcomeFail})
		if d.Transition != nil {
			confirmed = d.Transition.To.At
			if !d.Transition.To.Since.Equal(t0) {
				t.Errorf("since = %v, want the first failure %v", d.Transition.To.Since, t0)
			}
		}
		if d.Recheck {
			at = at.Add(spec.RecheckEvery)
		} else {
			at = at.Add(time.Minute)
		}
	}
	if got := confirmed.Sub(t0); got != 10*time.Second {
		t.Errorf("confirmed after %v, want 10s", got)
	}
}

func TestRechecksAreBounded(t *testing.T) {
	m := New("c", Defaults(upstate.DecideSpec{}, time.Minute), upstate.Condition{State: upstate.StateUp})
	// Alternating answers keep the state undecided; re-checks must stop
	// after RecheckCount in a row rather than hammer the target.
	_, rc := feed(m, "fofofofofo")
	if strings.Contains(rc, "rrrr") {
		t.Errorf("rechecks = %s: more than 3 in a row", rc)
	}
}

func TestFlappingNeedsAWholeWindow(t *testing.T) {
	spec := Defaults(upstate.DecideSpec{FlapThreshold: 2}, time.Minute)
	m := New("c", spec, upstate.Condition{State: upstate.StateUp})
	feed(m, "fff") // down: first flip
	feed(m, "oo")  // → partial → up: more flips
	if !m.Flapping() {
		t.Fatal("not flapping after three transitions")
	}
	got, _ := feed(m, "fffooo")
	if got[len(got)-1] == 'U' {
		t.Errorf("recovered after 3 good answers while flapping: %s", got)
	}
}

func TestTransitionEvidence(t *testing.T) {
	m := New("c", Defaults(upstate.DecideSpec{}, time.Minute), upstate.Condition{State: upstate.StateUp})
	var last *upstate.Transition
	for i := range 3 {
		d := m.Observe(upstate.Result{CheckID: "c", At: t0.Add(time.Duration(i) * 5 * time.Second), Outcome: upstate.OutcomeFail, StatusCode: 503, Latency: 40 * time.Millisecond, Error: "status 503 Service Unavailable"})
		if d.Transition != nil {
			last = d.Transition
		}
	}
	if last == nil {
		t.Fatal("no transition")
	}
	if last.From.State != upstate.StateUp || last.To.State != upstate.StateDown {
		t.Errorf("transition %s → %s", last.From.State, last.To.State)
	}
	if want := "HTTP 503 after 40 ms: status 503 Service Unavailable"; last.To.Evidence != want {
		t.Errorf("evidence = %q, want %q", last.To.Evidence, want)
	}
	if want := t0.Add(10*time.Second + 40*time.Millisecond); !last.To.At.Equal(want) {
		t.Errorf("at = %v, want %v", last.To.At, want)
	}
}

// burst makes a burst's samples from a sequence like feed's ("o", "s",
// "f", and "c" for a sample stopped at the bound), 0.5 s apart from at.
func burst(at time.Time, seq string) []upstate.Result {
	var rs []upstate.Result
	for i, c := range seq {
		r := upstate.Result{CheckID: "c", At: at.Add(time.Duration(i) * 500 * time.Millisecond), Latency: 20 * time.Millisecond, Outcome: upstate.OutcomeOK}
		switch c {
		case 'f':
			r.Outcome, r.StatusCode, r.Error = upstate.OutcomeFail, 500, "status 500 Internal Server Error"
		case 's':
			r.Outcome, r.Latency, r.Error = upstate.OutcomeSlow, 5*time.Second, "slower than 2.00 s"
		case 'c':
			r.Outcome, r.Latency, r.Error = upstate.OutcomeSlow, 2*time.Second, "slower than 2.00 s (not waited for)"
		}
		rs = append(rs, r)
	}
	return rs
}

func burstSpec() upstate.DecideSpec {
	return Defaults(upstate.DecideSpec{Burst: 10}, time.Minute)
}

func fail500(at time.Time) upstate.Result {
	return upstate.Result{CheckID: "c", At: at, Outcome: upstate.OutcomeFail, StatusCode: 500, Error: "status 500 Internal Server Error", Latency: 3 * time.Millisecond}
}

func TestABurstIsJudgedByTheShareThatFailed(t *testing.T) {
	tests := []struct {
		name, seq string
		state     upstate.State
		partial   bool
		evidence  string
	}{
		{"none failing is a transient", "oooooooooo", upstate.StateUp, false, ""},
		{"all failing is down", "ffffffffff", upstate.StateDown, false, "10 of 10 requests answered HTTP 500"},
		{"a share failing is a partial outage", "ooofooofoo", upstate.StateDegraded, true, "2 of 10 requests answered HTTP 500 (20%; 6%–51% at 95% confidence)"},
		{"one failing still is", "oooooooofo", upstate.StateDegraded, true, "1 of 10 requests answered HTTP 500 (10%; 2%–40% at 95% confidence)"},
		{"most slow is slow", "ssssssccoo", upstate.StateDegraded, false, "8 of 10 requests slower than 2.00 s (6 answered, median 5.00 s; 2 not within it)"},
		{"a few slow is a transient", "ssoooooooo", upstate.StateUp, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("c", burstSpec(), upstate.Condition{State: upstate.StateUp})
			if d := m.Observe(fail500(t0)); !d.Burst || d.Recheck || d.Transition != nil {
				t.Fatalf("a failed probe while up: %+v, want a burst asked for and nothing else", d)
			}
			d := m.ObserveBurst(burst(t0.Add(time.Second), tt.seq))
			got := m.Condition()
			if got.State != tt.state || got.Partial != tt.partial {
				t.Fatalf("after %s: %s partial=%v, want %s partial=%v", tt.seq, got.State, got.Partial, tt.state, tt.partial)
			}
			if tt.evidence == "" {
				if d.Transition != nil {
					t.Errorf("a transient changed the condition: %+v", d.Transition.To)
				}
				return
			}
			if d.Transition == nil {
				t.Fatal("no transition")
			}
			to := d.Transition.To
			if to.Evidence != tt.evidence {
				t.Errorf("evidence = %q, want %q", to.Evidence, tt.evidence)
			}
			if !to.Burst || to.Samples != 10 {
				t.Errorf("condition %+v: want Burst and 10 samples", to)
			}
			if !to.Since.Equal(t0) {
				t.Errorf("since %v, want the failed probe that asked, %v", to.Since, t0)
			}
			if want := t0.Add(time.Second + 4500*time.Millisecond); to.At.Before(want) {
				t.Errorf("confirmed at %v, before the last sample at %v", to.At, want)
			}
		})
	}
}

func TestABurstConfirmsRecoveryAndMeasuresTheShareAgain(t *testing.T) {
	m := New("c", burstSpec(), upstate.Condition{State: upstate.StateUp})
	m.Observe(fail500(t0))
	m.ObserveBurst(burst(t0.Add(time.Second), "ofoooofooo")) // 20%
	at := t0.Add(15 * time.Second)
	// While partial every probe asks for a burst, good or bad.
	for _, r := range []upstate.Result{{CheckID: "c", At: at, Outcome: upstate.OutcomeOK}, fail500(at)} {
		if d := m.Observe(r); !d.Burst || d.Transition != nil {
			t.Fatalf("probe %s while partial: %+v, want a burst and no change", r.Outcome, d)
		}
		// 30% is within 20%'s bounds (6–51%): the same outage, nothing new.
		if d := m.ObserveBurst(burst(at.Add(time.Second), "ofoofoooof")); d.Transition != nil {
			t.Fatalf("3 of 10 after 2 of 10 moved the share: %+v", d.Transition.To)
		}
		at = at.Add(15 * time.Second)
	}
	// 80% is not: a transition in the same state, with the new share.
	m.Observe(fail500(at))
	d := m.ObserveBurst(burst(at.Add(time.Second), "ffffoffoff"))
	if d.Transition == nil || d.Transition.To.Failures != 8 || !d.Transition.To.Partial {
		t.Fatalf("8 of 10 after 2 of 10: %+v, want the share moved", d.Transition)
	}
	if !d.Transition.To.Since.Equal(t0) {
		t.Errorf("a moved share changed since to %v, want %v", d.Transition.To.Since, t0)
	}
	// One burst all fine is not enough against a share failing (0 of 10
	// does not rule out a quarter); a failure between clean bursts starts
	// the count again; recover_after (2) clean bursts in a row confirm up.
	clean := func() Decision {
		at = at.Add(15 * time.Second)
		m.Observe(upstate.Result{CheckID: "c", At: at, Outcome: upstate.OutcomeOK})
		return m.ObserveBurst(burst(at.Add(time.Second), "oooooooooo"))
	}
	if d := clean(); d.Transition != nil {
		t.Fatalf("one clean burst after partial: %+v, want no change yet", d.Transition.To)
	}
	at = at.Add(15 * time.Second)
	m.Observe(fail500(at))
	m.ObserveBurst(burst(at.Add(time.Second), "ooofoooooo"))
	if d := clean(); d.Transition != nil {
		t.Fatalf("a clean burst after a failing one: %+v, want no change yet", d.Transition.To)
	}
	d = clean()
	if d.Transition == nil || d.Transition.To.State != upstate.StateUp {
		t.Fatalf("two clean bursts in a row after partial: %+v, want up", d.Transition)
	}
	if want := "answered normally: 10 of 10 requests, median 20 ms"; d.Transition.To.Evidence != want {
		t.Errorf("evidence %q, want %q", d.Transition.To.Evidence, want)
	}
	// Down, then a good answer: the burst decides, and a share failing is
	// an improvement to partial.
	m.Observe(fail500(at.Add(time.Minute)))
	m.ObserveBurst(burst(at.Add(time.Minute+time.Second), "ffffffffff"))
	if m.Condition().State != upstate.StateDown {
		t.Fatalf("state %s, want down", m.Condition().State)
	}
	if d := m.Observe(fail500(at.Add(75 * time.Second))); d.Burst {
		t.Error("a failure while down asked for a burst: it agrees with the state")
	}
	if d := m.Observe(upstate.Result{CheckID: "c", At: at.Add(90 * time.Second), Outcome: upstate.OutcomeOK}); !d.Burst {
		t.Error("a good answer while down asked for no burst")
	}
	if m.ObserveBurst(burst(at.Add(91*time.Second), "fffffoffff")); !m.Condition().Partial {
		t.Errorf("9 of 10 failing after down: %+v, want partial", m.Condition())
	}
}

func TestWithoutTheBurstTheWindowJudges(t *testing.T) {
	// A burst asked for that never comes (a probe run by hand): the next
	// results are judged by the window, as without bursts.
	m := New("c", burstSpec(), upstate.Condition{State: upstate.StateUp})
	states, _ := feed(m, "offf")
	if states != "UUUD" {
		t.Errorf("states %s, want UUUD", states)
	}
}

func TestSlowIsKnownAtTheBound(t *testing.T) {
	pending := func(at time.Time) upstate.Result {
		return upstate.Result{CheckID: "c", At: at, Outcome: upstate.OutcomeSlow, Latency: 2 * time.Second, Pending: true, Error: "slower than 2.00 s (no answer yet)"}
	}
	answer := func(at time.Time) upstate.Result {
		return upstate.Result{CheckID: "c", At: at, Outcome: upstate.OutcomeSlow, Latency: 45 * time.Second, StatusCode: 200, Error: "slower than 2.00 s"}
	}
	t.Run("with re-checks", func(t *testing.T) {
		m := New("c", Defaults(upstate.DecideSpec{}, time.Minute), upstate.Condition{State: upstate.StateUp})
		var last Decision
		for i := range 3 {
			at := t0.Add(time.Duration(i) * 5 * time.Second)
			last = m.Observe(pending(at))
			if i < 2 && !last.Recheck {
				t.Fatalf("pending result %d asked for no re-check", i)
			}
		}
		if last.Transition == nil || last.Transition.To.State != upstate.StateDegraded {
			t.Fatalf("three answers late by the bound: %+v, want slow at once", last.Transition)
		}
		if want := t0.Add(12 * time.Second); !last.Transition.To.At.Equal(want) {
			t.Errorf("slow confirmed at %v, want %v: at the third bound, not the answer", last.Transition.To.At, want)
		}
		// The answers come: each takes its stand-in's place; the one the
		// condition was confirmed on completes the evidence.
		for i := range 2 {
			if d := m.Observe(answer(t0.Add(time.Duration(i) * 5 * time.Second))); d.Transition != nil || d.Recheck {
				t.Errorf("answer %d: %+v, want nothing", i, d)
			}
		}
		d := m.Observe(answer(t0.Add(10 * time.Second)))
		if d.Transition == nil || d.Transition.To.State != upstate.StateDegraded || d.Transition.To.Evidence != "HTTP 200 after 45.0 s: slower than 2.00 s" {
			t.Fatalf("the answer the condition waited for: %+v, want its evidence in the same state", d.Transition)
		}
		if m.count(notOK) != 3 || len(m.window) != 3 {
			t.Errorf("window holds %d results, %d not ok: answers must replace their stand-ins", len(m.window), m.count(notOK))
		}
	})
	t.Run("with a burst", func(t *testing.T) {
		m := New("c", burstSpec(), upstate.Condition{State: upstate.StateUp})
		if d := m.Observe(pending(t0)); !d.Burst {
			t.Fatal("a pending result while up asked for no burst")
		}
		d := m.ObserveBurst(burst(t0.Add(2*time.Second), "cccccccccc"))
		if d.Transition == nil || d.Transition.To.Evidence != "10 of 10 requests slower than 2.00 s (none answered within it)" {
			t.Fatalf("burst of samples stopped at the bound: %+v", d.Transition)
		}
		d = m.Observe(answer(t0))
		if d.Transition == nil || d.Transition.To.Evidence != "10 of 10 requests slower than 2.00 s (none answered within it); latest: HTTP 200 after 45.0 s: slower than 2.00 s" {
			t.Fatalf("the answer of the probe that asked: %+v, want it in the evidence", d.Transition)
		}
	})
}

func TestWilson(t *testing.T) {
	for _, tt := range []struct {
		k, n   int
		lo, hi float64
	}{{0, 10, 0, 0.278}, {10, 10, 0.722, 1}, {3, 10, 0.108, 0.603}, {25, 100, 0.175, 0.343}} {
		lo, hi := Wilson(tt.k, tt.n)
		if math.Abs(lo-tt.lo) > 0.001 || math.Abs(hi-tt.hi) > 0.001 {
			t.Errorf("Wilson(%d, %d) = %.3f–%.3f, want %.3f–%.3f", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
}

// fail_after counts a burst's failures with those just before it: a burst
// of ten all failing confirms down when that is fail_after in a row, and
// waits for more when fail_after asks for more.
func TestABurstRespectsFailAfter(t *testing.T) {
	m := New("c", Defaults(upstate.DecideSpec{Burst: 10, FailAfter: 15}, time.Minute), upstate.Condition{State: upstate.StateUp})
	m.Observe(fail500(t0))
	if d := m.ObserveBurst(burst(t0.Add(time.Second), "ffffffffff")); d.Transition != nil {
		t.Fatalf("11 failures in a row with fail_after 15: %+v, want no change yet", d.Transition.To)
	}
	at := t0.Add(time.Minute)
	m.Observe(fail500(at))
	d := m.ObserveBurst(burst(at.Add(time.Second), "ffffffffff"))
	if d.Transition == nil || d.Transition.To.State != upstate.StateDown {
		t.Fatalf("22 failures in a row with fail_after 15: %+v, want down", d.Transition)
	}
	// With the default (3), one burst does.
	m = New("c", burstSpec(), upstate.Condition{State: upstate.StateUp})
	m.Observe(fail500(t0))
	if d := m.ObserveBurst(burst(t0.Add(time.Second), "ffffffffff")); d.Transition == nil || d.Transition.To.State != upstate.StateDown {
		t.Fatalf("a failed probe and a burst all failing: %+v, want down", d.Transition)
	}
}

// A pending result stays in the window through a burst that outnumbers
// it, so its answer takes its place instead of counting as a new suspect.
func TestAPendingResultOutlastsABurst(t *testing.T) {
	m := New("c", burstSpec(), upstate.Condition{State: upstate.StateUp})
	if d := m.Observe(upstate.Result{CheckID: "c", At: t0, Outcome: upstate.OutcomeSlow, Latency: 2 * time.Second, Pending: true}); !d.Burst {
		t.Fatalf("a pending slow result: %+v, want a burst", d)
	}
	if d := m.ObserveBurst(burst(t0.Add(time.Second), "oooooooooo")); d.Transition != nil {
		t.Fatalf("a burst all fine while up: %+v, want a transient", d.Transition.To)
	}
	// Its answer, slow as it said: the burst has judged it already.
	if d := m.Observe(upstate.Result{CheckID: "c", At: t0, Outcome: upstate.OutcomeSlow, Latency: 5 * time.Second}); d.Burst || d.Transition != nil {
		t.Errorf("the pending result's answer: %+v, want it to take its place quietly", d)
	}
}
