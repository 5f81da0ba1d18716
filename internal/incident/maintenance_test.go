package incident

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

func TestMaintenanceSuppressesIncidents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m, err := f.engine.ScheduleMaintenance(ctx, Window{Name: "Database upgrade", From: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour),
		Components: []string{"database"}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if st := f.engine.Statuses()["database"]; st != upstate.Operational {
		t.Errorf("before the window: %s", st)
	}
	next, err := f.engine.Tick(ctx)
	if err != nil || !next.Equal(m.ScheduledFor) {
		t.Errorf("next wake %v, want the window's start %v (%v)", next, m.ScheduledFor, err)
	}
	f.clock.Advance(time.Hour)
	next, _ = f.engine.Tick(ctx)
	if st := f.engine.Statuses()["database"]; st != upstate.UnderMaintenance {
		t.Errorf("in the window: %s", st)
	}
	if !next.Equal(m.ScheduledUntil) {
		t.Errorf("next wake %v, want the window's end", next)
	}
	// The database check fails during the work: no incident.
	f.transition("db-port", upstate.StateUp, upstate.StateDown, false)
	if n := len(f.store.all()); n != 0 {
		t.Fatalf("%d incidents opened during maintenance", n)
	}
	if st := f.engine.Statuses()["database"]; st != upstate.UnderMaintenance {
		t.Errorf("failing check in the window: %s", st)
	}
	// The window ends with the check still failing: now it is an incident.
	f.clock.Advance(time.Hour)
	f.engine.Tick(ctx)
	if st := f.engine.Statuses()["database"]; st != upstate.MajorOutage {
		t.Errorf("after the window: %s", st)
	}
	if n := len(f.store.all()); n != 1 {
		t.Errorf("%d incidents after the window with the check failing, want 1", n)
	}
	if got := f.engine.Maintenances(); len(got) != 0 {
		t.Errorf("finished maintenance still listed: %v", got)
	}
}

func TestMaintenanceValidationAndCancel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.engine.ScheduleMaintenance(ctx, Window{From: t0.Add(2 * time.Hour), Until: t0.Add(time.Hour), Components: []string{"nope"}})
	for _, want := range []string{"name is required", "ends before it starts", `no component "nope"`, "actor is required"} {
		if upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := f.engine.ScheduleMaintenance(ctx, Window{Name: "x", From: t0.Add(-2 * time.Hour), Until: t0.Add(-time.Hour), Components: []string{"api"}, Actor: "Ann"}); err == nil || !strings.Contains(err.Error(), "in the past") {
		t.Errorf("a window in the past: %v", err)
	}
	m, err := f.engine.ScheduleMaintenance(ctx, Window{Name: "Now", From: t0.Add(-time.Minute), Until: t0.Add(time.Hour), Components: []string{"api"}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if st := f.engine.Statuses()["api"]; st != upstate.UnderMaintenance {
		t.Errorf("a window in progress from the start: %s", st)
	}
	if err := f.engine.CancelMaintenance(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if st := f.engine.Statuses()["api"]; st != upstate.Operational {
		t.Errorf("after cancelling: %s", st)
	}
	if err := f.engine.CancelMaintenance(ctx, m.ID); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("cancelling twice: %v", err)
	}
}
