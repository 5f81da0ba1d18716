package incident

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// TestEvents: every incident change owes one event, typed by how the
// incident moved, written with the change.
func TestEvents(t *testing.T) {
	f := newFixture(t)
	f.engine.opts.Route = func(ev upstate.Event) upstate.Owed {
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Incident.ID, Event: ev}}}
	}
	ctx := context.Background()
	types := func() string {
		var out []string
		for _, m := range f.store.messages {
			out = append(out, string(m.Event.Type))
		}
		f.store.messages = nil
		return strings.Join(out, ",")
	}
	f.transition("api-health", upstate.StateUp, upstate.StateDown, false)
	if got := types(); got != "incident.created" {
		t.Errorf("check down: %s", got)
	}
	in := f.store.all()[0]
	f.clock.Advance(time.Minute)
	if _, err := f.engine.Acknowledge(ctx, in.ID, "Dana"); err != nil {
		t.Fatal(err)
	}
	if got := types(); got != "incident.acknowledged" {
		t.Errorf("acknowledge: %s", got)
	}
	f.transition("api-health", upstate.StateDown, upstate.StateUp, false)
	if got := types(); got != "incident.updated" {
		t.Errorf("recovery: %s", got)
	}
	f.clock.Advance(5 * time.Minute)
	f.tick()
	if got := types(); got != "incident.resolved" {
		t.Errorf("resolved by time: %s", got)
	}
	if _, err := f.engine.Reopen(ctx, in.ID, Change{Actor: "Dana"}); err != nil {
		t.Fatal(err)
	}
	if got := types(); got != "incident.reopened" {
		t.Errorf("reopen: %s", got)
	}
	d, err := f.engine.Declare(ctx, Change{Name: "Drive sync failing", Message: "Sync fails.", Set: map[string]upstate.Status{"drive": upstate.MajorOutage}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	m := f.store.messages[0]
	if m.Event.Type != upstate.EventIncidentCreated || m.Event.Acknowledged || m.Event.Names["drive"] != "Cloud drive" || m.Event.Incident.Updates != nil {
		t.Errorf("declared event = %+v", m.Event)
	}
	if e, ok := m.Event.Latest(true); !ok || e.Body != "Sync fails." {
		t.Errorf("latest public entry = %+v", e)
	}
	types()
	if _, err := f.engine.Update(ctx, d.ID, Change{Message: "Paging the provider.", Public: new(bool), Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	// The first note by a person after the declaration acknowledges it.
	if m := f.store.messages[0]; m.Event.Type != upstate.EventIncidentAcknowledged || !m.Event.Acknowledged || m.Event.Public() {
		t.Errorf("internal note event = %+v", m.Event)
	}
	types()
	// Merging resolves the merged incident and tells the target of the
	// merge only, not the copied history again.
	if _, err := f.engine.Merge(ctx, d.ID, []string{in.ID}, "Ann"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range f.store.messages {
		got = append(got, fmt.Sprintf("%s:%s:%d", m.Event.Incident.ID, m.Event.Type, len(m.Event.Entries)))
	}
	if want := in.ID + ":incident.resolved:1," + d.ID + ":incident.updated:1"; strings.Join(got, ",") != want {
		t.Errorf("merge events = %v, want %s", got, want)
	}
	// Holding a component's status tells no incident channel.
	types()
	if _, err := f.engine.HoldStatus(ctx, "worker", upstate.DegradedPerformance, "Ann"); err != nil {
		t.Fatal(err)
	}
	if got := types(); got != "" {
		t.Errorf("hold: %s", got)
	}
}

func TestReminders(t *testing.T) {
	f := newFixture(t)
	f.engine.opts.Renotify = time.Hour
	f.engine.opts.Route = func(ev upstate.Event) upstate.Owed {
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Incident.ID, Event: ev}}}
	}
	ctx := context.Background()
	in, _ := f.engine.Declare(ctx, Change{Name: "Drive sync failing", Actor: "Ann"})
	f.store.messages = nil
	reminders := func() []string {
		var out []string
		for _, m := range f.store.messages {
			if m.Event.Type == upstate.EventIncidentReminder {
				out = append(out, m.Event.Entries[0].Body)
			}
		}
		f.store.messages = nil
		return out
	}
	f.clock.Advance(59 * time.Minute)
	next, _ := f.engine.Tick(ctx)
	if r := reminders(); len(r) != 0 || !next.Equal(in.UpdatedAt.Add(time.Hour)) {
		t.Errorf("at 59m: %v, next %v", r, next)
	}
	f.clock.Advance(2 * time.Minute)
	f.engine.Tick(ctx)
	if r := reminders(); len(r) != 1 || !strings.Contains(r[0], "Still investigating: this incident began 1 hour 1 minute ago") {
		t.Errorf("at 61m: %q", r)
	}
	f.clock.Advance(30 * time.Minute)
	f.engine.Update(ctx, in.ID, Change{Message: "Still on it.", Actor: "Ann"})
	f.store.messages = nil
	f.clock.Advance(40 * time.Minute) // 40m after the update, 70m after the reminder
	f.engine.Tick(ctx)
	if r := reminders(); len(r) != 0 {
		t.Errorf("an update resets the interval: %q", r)
	}
	f.clock.Advance(21 * time.Minute)
	f.engine.Tick(ctx)
	if r := reminders(); len(r) != 1 {
		t.Errorf("an hour after the update: %q", r)
	}
	f.engine.Update(ctx, in.ID, Change{Status: upstate.Resolved, Actor: "Ann"})
	f.clock.Advance(3 * time.Hour)
	f.store.messages = nil
	f.engine.Tick(ctx)
	if r := reminders(); len(r) != 0 {
		t.Errorf("a resolved incident was reminded of: %q", r)
	}
}

func TestMaintenanceNotices(t *testing.T) {
	f := newFixture(t)
	f.engine.opts.Route = func(ev upstate.Event) upstate.Owed {
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Stream(), Event: ev}}}
	}
	ctx := context.Background()
	m, err := f.engine.ScheduleMaintenance(ctx, Window{Name: "Drive connector upgrade", Message: "Sync pauses.", From: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour),
		Components: []string{"drive"}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := f.engine.ScheduleMaintenance(ctx, Window{Name: "DB failover drill", From: t0.Add(3 * time.Hour), Until: t0.Add(4 * time.Hour), Components: []string{"database"}, Actor: "Ann"})
	f.clock.Advance(61 * time.Minute)
	f.tick()
	f.clock.Advance(time.Hour)
	f.tick()
	if err := f.engine.CancelMaintenance(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, msg := range f.store.messages {
		got = append(got, string(msg.Event.Type)+" "+msg.Event.Maintenance.Name)
	}
	want := "maintenance.scheduled Drive connector upgrade|maintenance.scheduled DB failover drill|maintenance.started Drive connector upgrade|maintenance.completed Drive connector upgrade|maintenance.cancelled DB failover drill"
	if strings.Join(got, "|") != want {
		t.Errorf("notices:\n %s\nwant\n %s", strings.Join(got, "|"), want)
	}
	first := f.store.messages[0].Event
	if first.Stream() != "maintenance:"+m.ID || first.Components()[0] != "drive" || !strings.Contains(first.Entries[0].Body, "Maintenance is planned on Cloud drive, from Aug 17 08:55:00 PDT") || !first.Public() {
		t.Errorf("scheduled notice = %+v", first)
	}
}

// tickingClock moves a millisecond on every reading, as the real clock
// does between two calls: a change that reads the clock twice shows it.
type tickingClock struct{ *clock.Fake }

func (c tickingClock) Now() time.Time {
	c.Advance(time.Millisecond)
	return c.Fake.Now()
}

// A declared incident is announced as created, not reopened, even when
// the clock moves while the change is made (it did, through the outbox,
// for 72 of 72 declared incidents).
func TestDeclaredIsCreated(t *testing.T) {
	f := newFixture(t)
	f.engine.opts.Clock = tickingClock{f.clock}
	f.engine.opts.Route = func(ev upstate.Event) upstate.Owed {
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Incident.ID, Event: ev}}}
	}
	in, err := f.engine.Declare(context.Background(), Change{Name: "Word conversions failing", Message: "PDF works.", Set: map[string]upstate.Status{"drive": upstate.PartialOutage}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.store.messages) != 1 || f.store.messages[0].Event.Type != upstate.EventIncidentCreated {
		t.Fatalf("messages = %+v, want one incident.created", f.store.messages)
	}
	if !in.CreatedAt.Equal(in.UpdatedAt) || !in.StartedAt.Equal(in.CreatedAt) {
		t.Errorf("created %v, updated %v, started %v: one change, one time", in.CreatedAt, in.UpdatedAt, in.StartedAt)
	}
}
