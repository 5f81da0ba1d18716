package incident

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// burstTransition is a check's move into a condition a burst measured:
// failures of 10 samples.
func (f *fixture) burstTransition(check string, from upstate.Condition, to upstate.State, partial bool, failures int) upstate.Condition {
	f.t.Helper()
	now := f.clock.Now()
	from.CheckID = check
	next := upstate.Condition{CheckID: check, State: to, Partial: partial, Since: now.Add(-5 * time.Second), At: now,
		Evidence: "3 of 10 requests answered HTTP 500 (30%; 11%–60% at 95% confidence)", Failures: failures, Samples: 10, Burst: true}
	if err := f.engine.Handle(context.Background(), upstate.Transition{From: from, To: next}); err != nil {
		f.t.Fatal(err)
	}
	return next
}

func (f *fixture) scope() *float64 {
	f.t.Helper()
	ins := f.store.all()
	if len(ins) != 1 {
		f.t.Fatalf("%d incidents, want 1", len(ins))
	}
	return ins[0].Reach.FailingPercent
}

func TestTheBurstsShareIsTheScope(t *testing.T) {
	f := newFixture(t)
	up := upstate.Condition{State: upstate.StateUp}
	c := f.burstTransition("api-health", up, upstate.StateDegraded, true, 3)
	in := f.store.all()[0]
	if p := in.Reach.FailingPercent; p == nil || *p != 30 {
		t.Fatalf("scope %v, want 30%% measured", in.Reach.Describe())
	}
	if body := in.Updates[0].Body; body != "We are seeing errors on the API for some requests." {
		t.Errorf("first public entry: %s", body)
	}
	if body := in.Updates[1].Body; !strings.HasSuffix(body, "since Aug 17 07:54:55 PDT; 3 of 10 requests answered HTTP 500 (30%; 11%–60% at 95% confidence).") {
		t.Errorf("first entry: %s", body)
	}
	entries := len(in.Updates)
	// The share moved (decide says when): the scope follows, quietly.
	f.clock.Advance(15 * time.Second)
	c = f.burstTransition("api-health", c, upstate.StateDegraded, true, 8)
	if p := f.scope(); p == nil || *p != 80 {
		t.Fatalf("scope %v after 8 of 10, want 80%%", f.store.all()[0].Reach.Describe())
	}
	if n := len(f.store.all()[0].Updates); n != entries {
		t.Errorf("a moved share wrote %d timeline entries, want none", n-entries)
	}
	// Down by a burst: all of them.
	f.clock.Advance(15 * time.Second)
	c = f.burstTransition("api-health", c, upstate.StateDown, false, 10)
	if p := f.scope(); p == nil || *p != 100 {
		t.Fatalf("scope %v when down, want 100%%", f.store.all()[0].Reach.Describe())
	}
	// People say otherwise: what they wrote stands.
	id := f.store.all()[0].ID
	mine := 25.0
	if _, err := f.engine.Update(context.Background(), id, Change{Actor: "ana", Message: "About a quarter, by our logs.", Reach: &upstate.Reach{FailingPercent: &mine}}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(15 * time.Second)
	f.burstTransition("api-health", c, upstate.StateDegraded, true, 4)
	if p := f.scope(); p == nil || *p != 25 {
		t.Errorf("scope %v after people set 25%%, want theirs kept", f.store.all()[0].Reach.Describe())
	}
}

func TestAShareOnlyOfItsOwnPartIsNoScope(t *testing.T) {
	f := newFixture(t)
	// convert's impact calls it down a partial outage of the drive: only
	// its own requests all fail, not the component's.
	f.burstTransition("convert", upstate.Condition{State: upstate.StateUp}, upstate.StateDown, false, 10)
	if p := f.scope(); p != nil {
		t.Errorf("scope %v from a check that measured only its own part", *p)
	}
	// A transition no burst measured sets none either.
	g := newFixture(t)
	g.transition("api-health", upstate.StateUp, upstate.StateDegraded, true)
	if p := g.scope(); p != nil {
		t.Errorf("scope %v from the decision window", *p)
	}
}

func TestARangeIsPeoplesAndBurstsLeaveIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.burstTransition("api-health", upstate.Condition{State: upstate.StateUp}, upstate.StateDegraded, true, 3)
	id := f.store.all()[0].ID
	lo, hi := 10.0, 30.0 // its minimum the very share the burst will measure
	if _, err := f.engine.Update(ctx, id, Change{Actor: "ana", Reach: &upstate.Reach{FailingPercent: &lo, FailingMax: &hi}}); err != nil {
		t.Fatal(err)
	}
	entries := f.store.all()[0].Updates
	if want := "Scope: 10–30% of requests failing."; entries[len(entries)-1].Body != want {
		t.Errorf("entry = %q, want %q", entries[len(entries)-1].Body, want)
	}
	f.clock.Advance(15 * time.Second)
	f.burstTransition("api-health", c, upstate.StateDegraded, true, 1)
	if got := f.store.all()[0].Reach.Describe(); got != "10–30% of requests failing" {
		t.Errorf("scope %q after a burst, want people's range kept", got)
	}
}

func TestARangeIsValidated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		reach upstate.Reach
		want  string
	}{
		{upstate.Reach{FailingPercent: v(30), FailingMax: v(10)}, "reach.failing_percent: the range 30–10 is backwards: give the minimum first"},
		{upstate.Reach{FailingPercent: v(10), FailingMax: v(101)}, "reach.failing_percent_max: 101 is not between 0 and 100"},
		{upstate.Reach{FailingPercent: v(-1), FailingMax: v(10)}, "reach.failing_percent: -1 is not between 0 and 100"},
		{upstate.Reach{FailingMax: v(10)}, "reach.failing_percent_max: a range needs its minimum too"},
	} {
		_, err := f.engine.Declare(ctx, Change{Name: "Errors", Actor: "ana", Reach: &c.reach})
		if err == nil || upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.reach, err, c.want)
		}
	}
	in, err := f.engine.Declare(ctx, Change{Name: "Errors", Actor: "ana", Reach: &upstate.Reach{FailingPercent: v(0), FailingMax: v(100)}})
	if err != nil || in.Reach.Describe() != "0–100% of requests failing" {
		t.Errorf("the widest range: %v, %v", in, err)
	}
}

// A range people give is told as they gave it: the notification's newest
// entry (the words every channel sends) says it.
func TestARangeIsNotified(t *testing.T) {
	f := newFixture(t)
	f.engine.opts.Route = func(ev upstate.Event) upstate.Owed {
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Incident.ID, Event: ev}}}
	}
	ctx := context.Background()
	in, err := f.engine.Declare(ctx, Change{Name: "Uploads failing", Set: map[string]upstate.Status{"drive": upstate.PartialOutage}, Actor: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	f.store.messages = nil
	lo, hi := 10.0, 25.0
	if _, err := f.engine.Update(ctx, in.ID, Change{Actor: "ana", Reach: &upstate.Reach{FailingPercent: &lo, FailingMax: &hi}}); err != nil {
		t.Fatal(err)
	}
	if len(f.store.messages) != 1 {
		t.Fatalf("%d messages for a scope update, want 1", len(f.store.messages))
	}
	ev := f.store.messages[0].Event
	if e, ok := ev.Latest(true); !ok || e.Body != "Scope: 10–25% of requests failing." {
		t.Errorf("the notification says %q", e.Body)
	}
	if got := ev.Incident.Reach.Describe(); got != "10–25% of requests failing" {
		t.Errorf("the event's incident has scope %q", got)
	}
}
