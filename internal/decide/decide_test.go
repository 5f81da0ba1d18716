package decide

import (
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
