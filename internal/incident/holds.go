package incident

import (
	"context"
	"fmt"
	"maps"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// HoldStatus sets a component's status outside any incident, as a person
// sees it: "degraded performance while we migrate". The component shows
// the worse of the hold and what its checks and open incidents say, until
// the hold is cleared by holding operational. The hold and the status
// change it causes are written in one transaction.
func (e *Engine) HoldStatus(ctx context.Context, component string, st upstate.Status, actor string) (upstate.ComponentState, error) {
	unlock, err := e.lock(ctx)
	if err != nil {
		return upstate.ComponentState{}, err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return upstate.ComponentState{}, err
	}
	c, ok := e.comps[component]
	if !ok {
		return upstate.ComponentState{}, upstate.Errorf(upstate.ENOTFOUND, "no component %q", component)
	}
	if !st.Valid() {
		return upstate.ComponentState{}, upstate.Errorf(upstate.EINVALID,
			"status %q is not one of operational, degraded_performance, partial_outage, major_outage, under_maintenance", st)
	}
	if actor == "" {
		return upstate.ComponentState{}, upstate.Errorf(upstate.EINVALID, "actor is required")
	}
	now := e.opts.Clock.Now()
	hold := upstate.Hold{Status: st, By: actor, At: now}
	if st == upstate.Operational {
		hold = upstate.Hold{}
	}
	prev, had := e.holds[component]
	if hold.Status == "" {
		delete(e.holds, component)
	} else {
		e.holds[component] = hold
	}
	next := e.derive([]string{component})
	change := store.Change{Holds: []store.HoldChange{{ComponentID: component, Hold: hold}}}
	if old := e.statuses[component]; next[component] != old {
		sc := upstate.StatusChange{ComponentID: component, At: now, Status: next[component]}
		for _, in := range e.open {
			if in.HasComponent(component) {
				sc.IncidentID = in.ID
			}
		}
		change.Statuses = append(change.Statuses, sc)
	}
	if err := e.opts.Store.Apply(ctx, change); err != nil {
		if had {
			e.holds[component] = prev
		} else {
			delete(e.holds, component)
		}
		return upstate.ComponentState{}, fmt.Errorf("save component status: %w", err)
	}
	e.statuses = next
	e.opts.Logger.Info("component status held", "component", "incident", "target", component, "status", string(st), "actor", actor)
	e.opts.Changed(maps.Clone(next))
	return upstate.ComponentState{Component: c, Status: next[component], UpdatedAt: now, Hold: hold}, nil
}

// Holds returns the statuses people hold on components.
func (e *Engine) Holds() map[string]upstate.Hold {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.holds)
}
