package incident

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// A week's incident written up afterwards: every time as it happened,
// each entry keeping when it was written, nobody paged for it, and the
// status history from the incident's start.
func TestWriteUpThePast(t *testing.T) {
	f := newFixture(t)
	var routed []upstate.Event
	f.engine.opts.Route = func(ev upstate.Event) upstate.Owed {
		routed = append(routed, ev)
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Incident.ID, Event: ev}}, Cancel: []string{"page:" + ev.Incident.ID}}
	}
	ctx := context.Background()
	now := f.clock.Now()
	start, detect, declared := now.Add(-7*24*time.Hour), now.Add(-7*24*time.Hour+time.Minute), now.Add(-7*24*time.Hour+6*time.Minute)
	in, err := f.engine.Declare(ctx, Change{Name: "Database lock", Actor: "Dana", Set: map[string]upstate.Status{"api": upstate.PartialOutage},
		StartedAt: start, DetectedAt: detect, At: declared, Message: "Requests fail with HTTP 500."})
	if err != nil {
		t.Fatal(err)
	}
	if !in.StartedAt.Equal(start) || !in.DetectedAt.Equal(detect) || !in.CreatedAt.Equal(declared) || in.AcknowledgedAt != nil {
		t.Errorf("declared = start %v detect %v created %v ack %v", in.StartedAt, in.DetectedAt, in.CreatedAt, in.AcknowledgedAt)
	}
	stored := f.store.all()[0]
	if e := stored.Updates[0]; !e.At.Equal(declared) || !e.WrittenAt.Equal(now) || !e.WrittenLate() {
		t.Errorf("first entry at %v written %v", e.At, e.WrittenAt)
	}
	// The status history starts at the incident's start, and says the
	// current status last.
	if n := len(f.store.statuses); n != 2 || !f.store.statuses[0].At.Equal(start) || !f.store.statuses[1].At.Equal(now) ||
		f.store.statuses[1].Status != upstate.PartialOutage || f.engine.Statuses()["api"] != upstate.PartialOutage {
		t.Errorf("status history = %+v, api now %s", f.store.statuses, f.engine.Statuses()["api"])
	}
	if len(f.store.messages) != 0 {
		t.Errorf("a week-old declaration notified: %+v", f.store.messages)
	}
	// Acknowledged 1 h 37 min after the start; resolved later; both
	// written now, neither told to anyone.
	ack := start.Add(97 * time.Minute)
	if a, err := f.engine.AcknowledgeAt(ctx, in.ID, "Lee", ack); err != nil || !a.AcknowledgedAt.Equal(ack) || a.AcknowledgedBy != "Lee" {
		t.Fatalf("acknowledge = %+v, %v", a, err)
	}
	if a, _ := f.engine.AcknowledgeAt(ctx, in.ID, "Ann", ack.Add(time.Minute)); a.AcknowledgedBy != "Lee" || !a.AcknowledgedAt.Equal(ack) {
		t.Errorf("a later acknowledgement overwrote the first: %v by %s", a.AcknowledgedAt, a.AcknowledgedBy)
	}
	if _, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Identified, Message: "A report query holds a lock.", Actor: "Lee", At: ack.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	end := start.Add(81*time.Minute + 2*time.Hour)
	res, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Resolved, Message: "Killed the query.", Actor: "Lee", At: end})
	if err != nil {
		t.Fatal(err)
	}
	if !res.ResolvedAt.Equal(end) || f.engine.Statuses()["api"] != upstate.Operational {
		t.Errorf("resolved at %v, api %s", res.ResolvedAt, f.engine.Statuses()["api"])
	}
	if len(f.store.messages) != 0 {
		t.Errorf("the past was told to someone: %+v", f.store.messages)
	}
	if len(routed) == 0 {
		t.Error("nothing routed: the pages a resolution cancels would be left waiting")
	}
	last := f.store.statuses[len(f.store.statuses)-2:]
	if !last[0].At.Equal(end) || last[0].Status != upstate.Operational || !last[1].At.Equal(now) {
		t.Errorf("resolution's history = %+v", last)
	}
	stored = f.store.all()[0]
	for i := 1; i < len(stored.Updates); i++ {
		if stored.Updates[i].At.Before(stored.Updates[i-1].At) {
			t.Errorf("timeline out of order: %+v", stored.Updates)
		}
	}
}

func TestPastTimesRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	for _, tc := range []struct {
		c    Change
		want string
	}{
		{Change{StartedAt: now.Add(time.Hour)}, "started_at: 2026-08-17T15:55:00Z is in the future (it is 2026-08-17T14:55:00Z now)"},
		{Change{At: now.Add(time.Minute)}, "at: 2026-08-17T14:56:00Z is in the future"},
		{Change{DetectedAt: now.Add(time.Minute)}, "detected_at: 2026-08-17T14:56:00Z is in the future"},
		{Change{StartedAt: now.Add(-time.Hour), DetectedAt: now.Add(-2 * time.Hour)}, "detected_at: 2026-08-17T12:55:00Z is before started_at (2026-08-17T13:55:00Z)"},
		{Change{StartedAt: now.Add(-time.Hour), At: now.Add(-2 * time.Hour)}, "started_at: 2026-08-17T13:55:00Z is after the declaration's at (2026-08-17T12:55:00Z)"},
		{Change{DetectedAt: now.Add(-time.Hour), At: now.Add(-2 * time.Hour)}, "at: the declaration (2026-08-17T12:55:00Z) is before detected_at (2026-08-17T13:55:00Z)"},
	} {
		tc.c.Name, tc.c.Actor = "Lock", "Dana"
		if _, err := f.engine.Declare(ctx, tc.c); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(upstate.ErrorMessage(err), tc.want) {
			t.Errorf("declare %+v: %v, want %q", tc.c, err, tc.want)
		}
	}
	// A few seconds ahead is a clock running fast: taken as now.
	in, err := f.engine.Declare(ctx, Change{Name: "Lock", Actor: "Dana", At: now.Add(3 * time.Second), StartedAt: now.Add(-time.Hour)})
	if err != nil || !in.CreatedAt.Equal(now) || !in.StartedAt.Equal(now.Add(-time.Hour)) || !in.DetectedAt.Equal(now) {
		t.Fatalf("declare with skew = %+v, %v", in, err)
	}
	f.clock.Advance(10 * time.Minute)
	if _, err := f.engine.Update(ctx, in.ID, Change{Message: "x", Actor: "Dana", At: now.Add(-2 * time.Hour)}); !strings.Contains(upstate.ErrorMessage(err), "at: 2026-08-17T12:55:00Z is before the incident started (2026-08-17T13:55:00Z)") {
		t.Errorf("update before the start: %v", err)
	}
	if _, err := f.engine.Update(ctx, in.ID, Change{Message: "x", Actor: "Dana", At: now.Add(-time.Minute)}); !strings.Contains(upstate.ErrorMessage(err), "at: 2026-08-17T14:54:00Z is before the incident's last entry (2026-08-17T14:55:00Z)") {
		t.Errorf("update before the last entry: %v", err)
	}
	if _, err := f.engine.AcknowledgeAt(ctx, in.ID, "Dana", now.Add(time.Hour)); !strings.Contains(upstate.ErrorMessage(err), "at: 2026-08-17T15:55:00Z is in the future") {
		t.Errorf("acknowledge in the future: %v", err)
	}
	if _, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Resolved, Actor: "Dana", At: now.Add(-30 * time.Minute)}); err == nil {
		t.Error("a resolution before the last entry was taken")
	}
	if got := f.store.all()[0]; got.Open() == false || got.AcknowledgedAt != nil {
		t.Errorf("a refused change changed the incident: %+v", got)
	}
}

// A live declaration is news, whenever the failure began; an update from
// ten minutes ago is too; one from last week is not.
func TestPastNotifiesOnlyWhenRecent(t *testing.T) {
	f := newFixture(t)
	f.engine.opts.Route = func(ev upstate.Event) upstate.Owed {
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Incident.ID, Event: ev}}}
	}
	ctx := context.Background()
	now := f.clock.Now()
	in, err := f.engine.Declare(ctx, Change{Name: "Lock", Actor: "Dana", StartedAt: now.Add(-3 * time.Hour)})
	if err != nil || len(f.store.messages) != 1 || f.store.messages[0].Event.Type != upstate.EventIncidentCreated {
		t.Fatalf("a live declaration of an old failure: %v, %+v", err, f.store.messages)
	}
	f.clock.Advance(20 * time.Minute)
	if _, err := f.engine.Update(ctx, in.ID, Change{Message: "On it.", Actor: "Lee", At: now.Add(10 * time.Minute)}); err != nil || len(f.store.messages) != 2 {
		t.Errorf("an update ten minutes old: %v, %d messages", err, len(f.store.messages))
	}
	old, err := f.engine.Declare(ctx, Change{Name: "Old", Actor: "Dana", At: now.Add(-2 * time.Hour)})
	if err != nil || len(f.store.messages) != 2 {
		t.Errorf("a declaration two hours old notified: %v, %d messages", err, len(f.store.messages))
	}
	if old.AcknowledgedAt != nil {
		t.Error("declaring acknowledged")
	}
}

// Detection, when not given, is the first failing check on the declared
// components, and the start its first failing result.
func TestDeclareDetectsFromChecks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false) // confirmed at t0, failing since t0-20s
	confirmed := f.clock.Now()
	f.clock.Advance(30 * time.Minute)
	in, err := f.engine.Declare(ctx, Change{Name: "Drive down", Actor: "Ann", Set: map[string]upstate.Status{"drive": upstate.MajorOutage}})
	if err != nil {
		t.Fatal(err)
	}
	if !in.DetectedAt.Equal(confirmed) || !in.StartedAt.Equal(confirmed.Add(-20*time.Second)) {
		t.Errorf("detected %v started %v, want %v and 20 s before", in.DetectedAt, in.StartedAt, confirmed)
	}
	// Components without failing checks: detected when declared.
	other, _ := f.engine.Declare(ctx, Change{Name: "Worker slow", Actor: "Ann", Set: map[string]upstate.Status{"worker": upstate.DegradedPerformance}})
	if !other.DetectedAt.Equal(f.clock.Now()) || !other.StartedAt.Equal(f.clock.Now()) {
		t.Errorf("worker: detected %v started %v", other.DetectedAt, other.StartedAt)
	}
	// A failure confirmed more than a day before does not count.
	f.clock.Advance(25 * time.Hour)
	late, _ := f.engine.Declare(ctx, Change{Name: "Drive still down", Actor: "Ann", Set: map[string]upstate.Status{"drive": upstate.MajorOutage}})
	if !late.DetectedAt.Equal(f.clock.Now()) {
		t.Errorf("detected %v from a failure a day old", late.DetectedAt)
	}
}

// A reopening told of the past comes after the resolution it undoes.
func TestReopenInThePast(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	in, err := f.engine.Declare(ctx, Change{Name: "Lock", Actor: "Dana", At: now.Add(-3 * time.Hour), Set: map[string]upstate.Status{"api": upstate.PartialOutage}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Resolved, Actor: "Dana", At: now.Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Reopen(ctx, in.ID, Change{Actor: "Dana", At: now.Add(-time.Hour), Until: now.Add(-time.Minute)}); !strings.Contains(upstate.ErrorMessage(err), "a reopening is a moment") {
		t.Errorf("reopened over a span: %v", err)
	}
	if _, err := f.engine.Reopen(ctx, in.ID, Change{Actor: "Dana", At: now.Add(-150 * time.Minute)}); !strings.Contains(upstate.ErrorMessage(err), "before the incident's last entry") {
		t.Errorf("reopened before its resolution: %v", err)
	}
	re, err := f.engine.Reopen(ctx, in.ID, Change{Actor: "Dana", At: now.Add(-time.Hour)})
	if err != nil || re.ResolvedAt != nil || !re.Open() {
		t.Fatalf("reopen = %+v, %v", re, err)
	}
	if got := f.store.all()[0].Updates; !got[len(got)-1].At.Equal(now.Add(-time.Hour)) || !got[len(got)-1].WrittenLate() {
		t.Errorf("reopening entry = %+v", got[len(got)-1])
	}
}

// An entry may tell of a span: its end is kept, taken as now a few
// seconds ahead, and refused in the future or before the entry's at,
// the field named; a refused end changes nothing.
func TestEntryUntil(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	in, err := f.engine.Declare(ctx, Change{Name: "Lock", Actor: "Dana", StartedAt: now.Add(-time.Hour), At: now.Add(-50 * time.Minute),
		Until: now.Add(-45 * time.Minute), Message: "Requests failed."})
	if err != nil {
		t.Fatal(err)
	}
	if e := f.store.all()[0].Updates[0]; e.Until == nil || !e.Until.Equal(now.Add(-45*time.Minute)) || !e.Span() {
		t.Errorf("declared entry until %v", e.Until)
	}
	for _, tc := range []struct {
		c    Change
		want string
	}{
		{Change{At: now.Add(-20 * time.Minute), Until: now.Add(time.Minute)}, "until: 2026-08-17T14:56:00Z is in the future (it is 2026-08-17T14:55:00Z now)"},
		{Change{At: now.Add(-20 * time.Minute), Until: now.Add(-30 * time.Minute)}, "until: 2026-08-17T14:25:00Z is before the entry's at (2026-08-17T14:35:00Z)"},
		{Change{Until: now.Add(-time.Minute)}, "until: 2026-08-17T14:54:00Z is before the entry's at (2026-08-17T14:55:00Z)"},
	} {
		tc.c.Message, tc.c.Actor = "25% of requests answered HTTP 500.", "Dana"
		if _, err := f.engine.Update(ctx, in.ID, tc.c); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(upstate.ErrorMessage(err), tc.want) {
			t.Errorf("update %+v: %v, want %q", tc.c, err, tc.want)
		}
	}
	if n := len(f.store.all()[0].Updates); n != 1 {
		t.Errorf("a refused end wrote %d entries", n)
	}
	// A few seconds ahead is a clock running fast: taken as now.
	if _, err := f.engine.Update(ctx, in.ID, Change{Message: "Held the lock.", Actor: "Dana", At: now.Add(-20 * time.Minute), Until: now.Add(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	// A resolution may tell of a span too; an entry without one is a
	// moment.
	if _, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Resolved, Message: "Rolled back.", Actor: "Dana", At: now.Add(-10 * time.Minute), Until: now.Add(-5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	ups := f.store.all()[0].Updates
	if len(ups) != 3 || ups[1].Until == nil || !ups[1].Until.Equal(now) || ups[2].Until == nil || !ups[2].Until.Equal(now.Add(-5*time.Minute)) {
		t.Fatalf("entries = %+v", ups)
	}
	if _, err := f.engine.Reopen(ctx, in.ID, Change{Actor: "Dana"}); err != nil {
		t.Fatal(err)
	}
	if e := f.store.all()[0].Updates[3]; e.Until != nil || e.Span() {
		t.Errorf("an entry without an end has one: %v", e.Until)
	}
}

// A declare written up later, its checks well again, finds in the stored
// history when they saw the failure it tells of.
func TestDeclareInThePastDetectsFromHistory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false) // confirmed at t0, failing since t0-20s
	confirmed := f.clock.Now()
	f.clock.Advance(40 * time.Minute)
	f.transition("drive-api", upstate.StateDown, upstate.StateUp, false) // well again
	f.clock.Advance(3 * time.Hour)
	in, err := f.engine.Declare(ctx, Change{Name: "Drive was down", Actor: "Ann", At: confirmed.Add(10 * time.Minute),
		Set: map[string]upstate.Status{"drive": upstate.MajorOutage}})
	if err != nil {
		t.Fatal(err)
	}
	if !in.DetectedAt.Equal(confirmed) || !in.StartedAt.Equal(confirmed.Add(-20*time.Second)) {
		t.Errorf("detected %v started %v, want %v and 20 s before", in.DetectedAt, in.StartedAt, confirmed)
	}
	// Declared as of a time the check was well: detected when declared.
	well := f.clock.Now().Add(-time.Hour)
	after, err := f.engine.Declare(ctx, Change{Name: "Drive slow", Actor: "Ann", At: well, Set: map[string]upstate.Status{"drive": upstate.DegradedPerformance}})
	if err != nil {
		t.Fatal(err)
	}
	if !after.DetectedAt.Equal(well) {
		t.Errorf("detected %v, want the declaration's %v", after.DetectedAt, well)
	}
}
