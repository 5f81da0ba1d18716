package decide

import (
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// Three regions, quorum 2: one region failing is that region's trouble;
// two is an outage, and the evidence names them.
func TestQuorumNeedsTwoRegionsToAgree(t *testing.T) {
	spec := Defaults(upstate.DecideSpec{RecheckCount: -1}, 20*time.Second)
	q := NewQuorum("api", spec, []string{"us-west", "us-east", "eu"}, 2, upstate.Condition{})
	at := t0
	send := func(region string, ok bool) *upstate.Transition {
		at = at.Add(time.Second)
		r := upstate.Result{CheckID: "api", At: at, Outcome: upstate.OutcomeOK, Latency: 10 * time.Millisecond}
		if !ok {
			r.Outcome, r.StatusCode, r.Error = upstate.OutcomeFail, 500, "status 500"
		}
		return q.Observe(region, r).Transition
	}
	var last *upstate.Transition
	keep := func(t *upstate.Transition) {
		if t != nil {
			last = t
		}
	}
	for range 3 {
		for _, r := range []string{"us-west", "us-east", "eu"} {
			keep(send(r, true))
		}
	}
	if got := q.Condition().State; got != upstate.StateUp {
		t.Fatalf("all regions fine: %s", got)
	}
	for range 5 {
		keep(send("eu", false))
		keep(send("us-west", true))
		keep(send("us-east", true))
	}
	if got := q.Condition(); got.State != upstate.StateUp {
		t.Fatalf("one region failing of three, quorum 2: %s (%s)", got.State, got.Evidence)
	}
	if r := q.Regions()[2]; r.Name != "eu" || r.Condition.State != upstate.StateDown {
		t.Fatalf("eu's own condition: %+v", r)
	}
	last = nil
	for range 5 {
		keep(send("eu", false))
		keep(send("us-east", false))
		keep(send("us-west", true))
	}
	got := q.Condition()
	if got.State != upstate.StateDown || last == nil || last.To.State != upstate.StateDown {
		t.Fatalf("two regions failing: %s, transition %+v", got.State, last)
	}
	if !strings.HasPrefix(got.Evidence, "failing in eu, us-east; up in us-west (quorum 2 of 3) — eu: ") {
		t.Fatalf("evidence: %q", got.Evidence)
	}
	for range 5 {
		keep(send("us-east", true))
	}
	if got := q.Condition(); got.State != upstate.StateUp || !strings.Contains(got.Evidence, "failing in eu; up in us-east, us-west") {
		t.Fatalf("us-east recovered, only eu failing: %s %q", got.State, got.Evidence)
	}
	if d := q.Observe("mars", upstate.Result{At: at}); d.Transition != nil {
		t.Fatal("a region the check does not name changed it")
	}
}

// A restart starts every region in the stored condition: nothing moves
// until the regions say otherwise.
func TestQuorumStartsInStoredCondition(t *testing.T) {
	spec := Defaults(upstate.DecideSpec{}, time.Minute)
	q := NewQuorum("api", spec, []string{"local", "eu"}, 0, upstate.Condition{State: upstate.StateDown, Since: t0})
	if q.Condition().State != upstate.StateDown || q.quorum != 1 {
		t.Fatalf("start: %+v quorum %d", q.Condition(), q.quorum)
	}
	d := q.Observe("local", upstate.Result{CheckID: "api", At: t0.Add(time.Second), Outcome: upstate.OutcomeFail, Error: "refused"})
	if d.Transition != nil {
		t.Fatalf("a failure while down moved it: %+v", d.Transition)
	}
}

// A region gone quiet has no word: two regions down, one of them silent
// past the stale time, is no longer a quorum of two.
func TestQuorumForgetsAQuietRegion(t *testing.T) {
	spec := Defaults(upstate.DecideSpec{RecheckCount: -1}, 20*time.Second)
	q := NewQuorum("api", spec, []string{"us-west", "us-east", "eu"}, 2, upstate.Condition{})
	q.Stale(3 * time.Minute)
	at := t0
	send := func(region string, ok bool) {
		at = at.Add(10 * time.Second)
		r := upstate.Result{CheckID: "api", At: at, Outcome: upstate.OutcomeOK, Latency: 10 * time.Millisecond}
		if !ok {
			r.Outcome, r.StatusCode, r.Error = upstate.OutcomeFail, 500, "status 500"
		}
		q.Observe(region, r)
	}
	for range 5 {
		send("eu", false)
		send("us-east", false)
		send("us-west", true)
	}
	if got := q.Condition().State; got != upstate.StateDown {
		t.Fatalf("two regions failing: %s", got)
	}
	// eu's agent stops reporting; us-east fails on, us-west is fine.
	for range 20 {
		send("us-east", false)
		send("us-west", true)
	}
	got := q.Condition()
	if got.State != upstate.StateUp || !strings.Contains(got.Evidence, "eu") {
		t.Fatalf("with eu silent for minutes: %s %q", got.State, got.Evidence)
	}
}

// A region's result older than its latest is history, not news: it does
// not turn the region's state back.
func TestQuorumIgnoresARegionsOlderResults(t *testing.T) {
	spec := Defaults(upstate.DecideSpec{RecheckCount: -1}, 20*time.Second)
	q := NewQuorum("api", spec, []string{"local", "eu"}, 1, upstate.Condition{})
	ok := upstate.Result{CheckID: "api", At: t0.Add(time.Hour), Outcome: upstate.OutcomeOK, Latency: time.Millisecond}
	for i := range 3 {
		r := ok
		r.At = ok.At.Add(time.Duration(i) * time.Second)
		q.Observe("eu", r)
	}
	if got := q.Condition().State; got != upstate.StateUp {
		t.Fatalf("eu fine: %s", got)
	}
	for i := range 5 { // from the agent's queue, taken before those above
		old := upstate.Result{CheckID: "api", At: t0.Add(time.Duration(i) * time.Second), Outcome: upstate.OutcomeFail, Error: "timeout"}
		if d := q.Observe("eu", old); d.Transition != nil {
			t.Fatalf("an older result changed the check: %+v", d.Transition)
		}
	}
	if got := q.Condition().State; got != upstate.StateUp {
		t.Errorf("after older failures: %s", got)
	}
}

// After a restart, the regions' latest results already judged (read from
// the store) are history: an agent sending one of them again, or an older
// one, changes nothing; a newer one is news. A region silent since then
// goes quiet after the stale time.
func TestQuorumJudgedBeforeARestart(t *testing.T) {
	spec := Defaults(upstate.DecideSpec{RecheckCount: -1, FailAfter: 1}, 20*time.Second)
	up := upstate.Condition{State: upstate.StateUp, Since: t0}
	q := NewQuorum("api", spec, []string{"local", "eu", "us"}, 2, up)
	q.Stale(time.Minute)
	last := t0.Add(10 * time.Minute)
	q.Judged("eu", last)
	q.Judged("us", last)
	q.Judged("mars", last) // not one of its regions: ignored
	for _, at := range []time.Time{last, last.Add(-time.Second)} {
		for _, region := range []string{"eu", "us"} {
			r := upstate.Result{CheckID: "api", At: at, Outcome: upstate.OutcomeFail, Error: "timeout"}
			if d := q.Observe(region, r); d.Transition != nil || d.Recheck || d.Burst {
				t.Fatalf("%s's result of %s, judged before the restart, decided again: %+v", region, at, d)
			}
			if d := q.ObserveBurst(region, []upstate.Result{r}); d.Transition != nil {
				t.Fatalf("%s's burst of %s decided again: %+v", region, at, d)
			}
		}
	}
	if got := q.Condition(); got.State != upstate.StateUp {
		t.Fatalf("after results sent again: %+v", got)
	}
	for _, region := range []string{"eu", "us"} {
		q.Observe(region, upstate.Result{CheckID: "api", At: last.Add(time.Second), Outcome: upstate.OutcomeFail, Error: "timeout"})
	}
	if got := q.Condition(); got.State != upstate.StateDown || !strings.HasPrefix(got.Evidence, "failing in eu, us") {
		t.Fatalf("newer failures in two regions: %+v", got)
	}
	// us falls silent; eu and local report on: us's word runs out.
	q.Observe("eu", upstate.Result{CheckID: "api", At: last.Add(2 * time.Minute), Outcome: upstate.OutcomeOK, Latency: time.Millisecond})
	q.Observe("local", upstate.Result{CheckID: "api", At: last.Add(2 * time.Minute), Outcome: upstate.OutcomeOK, Latency: time.Millisecond})
	if got := q.Condition(); got.State != upstate.StateUp || !strings.Contains(got.Evidence, "no word yet in us") {
		t.Fatalf("us quiet since the restart: %+v", got)
	}
}
