package incident

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Window is what a person asks for when planning maintenance.
type Window struct {
	Name       string
	Message    string // Markdown
	From       time.Time
	Until      time.Time
	Components []string
	Actor      string
}

// ScheduleMaintenance plans a window. While it is in progress its
// components show under_maintenance and their checks open no incidents.
func (e *Engine) ScheduleMaintenance(ctx context.Context, w Window) (upstate.Maintenance, error) {
	unlock, err := e.lock(ctx)
	if err != nil {
		return upstate.Maintenance{}, err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return upstate.Maintenance{}, err
	}
	now := e.opts.Clock.Now()
	var probs []string
	if strings.TrimSpace(w.Name) == "" {
		probs = append(probs, "name is required")
	}
	if w.From.IsZero() || w.Until.IsZero() {
		probs = append(probs, "scheduled_for and scheduled_until are required (RFC 3339 times)")
	} else if !w.Until.After(w.From) {
		probs = append(probs, "scheduled_until must be after scheduled_for: the window ends before it starts")
	} else if !w.Until.After(now) {
		probs = append(probs, "scheduled_until is in the past")
	}
	if len(w.Components) == 0 {
		probs = append(probs, "components is required: the components the work affects")
	}
	for _, id := range w.Components {
		if _, ok := e.comps[id]; !ok {
			probs = append(probs, fmt.Sprintf("components: no component %q", id))
		}
	}
	if strings.TrimSpace(w.Actor) == "" {
		probs = append(probs, "actor is required")
	}
	if len(probs) > 0 {
		return upstate.Maintenance{}, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	m := upstate.Maintenance{ID: e.opts.NewID(), Name: strings.TrimSpace(w.Name), Message: strings.TrimSpace(w.Message),
		ScheduledFor: w.From.UTC(), ScheduledUntil: w.Until.UTC(), Components: slices.Compact(slices.Sorted(slices.Values(w.Components))),
		Author: w.Actor, CreatedAt: now, UpdatedAt: now}
	if err := e.opts.Store.SaveMaintenance(ctx, m, e.maintenanceNotice(m, upstate.EventMaintenanceScheduled, now)...); err != nil {
		return upstate.Maintenance{}, fmt.Errorf("save maintenance: %w", err)
	}
	e.maint = append(e.maint, m)
	slices.SortFunc(e.maint, func(a, b upstate.Maintenance) int { return a.ScheduledFor.Compare(b.ScheduledFor) })
	e.opts.Logger.Info("maintenance scheduled", "component", "incident", "maintenance", m.ID, "actor", w.Actor)
	if err := e.afterMaintenanceChange(ctx); err != nil {
		return m, err
	}
	return m, nil
}

// CancelMaintenance removes a window; its components return to what their
// checks say at once.
func (e *Engine) CancelMaintenance(ctx context.Context, id string) error {
	unlock, err := e.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return err
	}
	var owed []upstate.Message
	for _, m := range e.maint {
		if m.ID == id {
			owed = e.maintenanceNotice(m, upstate.EventMaintenanceCancelled, e.opts.Clock.Now())
		}
	}
	if err := e.opts.Store.DeleteMaintenance(ctx, id, owed...); err != nil {
		return err
	}
	e.maint = slices.DeleteFunc(e.maint, func(m upstate.Maintenance) bool { return m.ID == id })
	return e.afterMaintenanceChange(ctx)
}

// Maintenances returns the windows not yet over, soonest first.
func (e *Engine) Maintenances() []upstate.Maintenance {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.maint)
}

// afterMaintenanceChange re-derives statuses (a window may be in progress
// already), tells the snapshot, and wakes Run for the new boundaries. Must
// be called with e.mu held.
func (e *Engine) afterMaintenanceChange(ctx context.Context) error {
	if err := e.decide(ctx, nil); err != nil {
		return err
	}
	e.opts.Changed(maps.Clone(e.statuses)) // the page lists windows even when no status moved
	e.poke()
	return nil
}

// maintenanceNotice is what a maintenance event owes: its message is the
// window's, with when and where. Must be called with e.mu held.
func (e *Engine) maintenanceNotice(m upstate.Maintenance, t upstate.EventType, at time.Time) []upstate.Message {
	var names []string
	ev := upstate.Event{ID: "maintenance." + m.ID + "." + string(t), Type: t, At: at, Maintenance: &m, Names: map[string]string{}}
	for _, c := range m.Components {
		ev.Names[c] = e.comps[c].Name
		names = append(names, e.compName(c))
	}
	what := map[upstate.EventType]string{
		upstate.EventMaintenanceScheduled: "Maintenance is planned",
		upstate.EventMaintenanceStarted:   "Maintenance has begun",
		upstate.EventMaintenanceCompleted: "Maintenance is over",
		upstate.EventMaintenanceCancelled: "Maintenance is called off",
	}[t]
	body := fmt.Sprintf("%s on %s, from %s to %s.", what, strings.Join(names, ", "), e.clock(m.ScheduledFor), e.clock(m.ScheduledUntil))
	if m.Message != "" {
		body += "\n\n" + m.Message
	}
	ev.Entries = []upstate.TimelineEntry{{ID: string(t), At: at, Status: m.StatusAt(at), Body: body, Public: true, Actor: m.Author}}
	return e.opts.Route(ev).Messages
}
