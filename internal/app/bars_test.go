package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/store"
)

// The bars' tooltips name the day's incidents, reading past the newest 50
// when there are more, and never one hidden from the public.
func TestBarsNameIncidentsButNotHiddenOnes(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	a := newApp(t, "page: {name: Bars}\ncomponents: [{id: api, name: API}]\n", Options{Clock: clock.NewFake(now)})
	ctx := context.Background()
	mk := func(id, name string, at time.Time) *upstate.Incident {
		end := at.Add(time.Hour)
		return &upstate.Incident{ID: id, Name: name, Status: upstate.Resolved, Impact: upstate.ImpactMajor, CreatedAt: at, UpdatedAt: end,
			StartedAt: at, DetectedAt: at, ResolvedAt: &end, Components: []string{"api"}}
	}
	// Sixty days ago, a mistake (hidden) and a real one; then 55 newer.
	old := now.AddDate(0, 0, -60)
	ins := []*upstate.Incident{mk("mistake", "Opened by mistake", old), mk("real", "Database lock", old.Add(2*time.Hour))}
	for i := range 55 {
		ins = append(ins, mk(fmt.Sprintf("n%02d", i), fmt.Sprintf("Blip %d", i), now.AddDate(0, 0, -50+i/2)))
	}
	if err := a.store.Apply(ctx, store.Change{Incidents: ins}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.HideIncident(ctx, "mistake", &upstate.Hidden{Reason: "a test page", By: "Olga", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := a.snaps.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range a.Snapshot().Components[0].Days {
		names = append(names, d.Incidents...)
	}
	all := strings.Join(names, "|")
	if !strings.Contains(all, "Database lock") {
		t.Errorf("an incident older than the newest 50 is not on its bar: %v", names)
	}
	if strings.Contains(all, "Opened by mistake") {
		t.Errorf("a hidden incident is named on the public bars: %v", names)
	}
}
