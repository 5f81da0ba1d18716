package incident

import (
	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// owe adds to the change the messages its incident events owe: one event
// per incident the change touches, typed by how the incident moved (new,
// reopened, resolved, acknowledged, updated). Must be called with e.mu
// held and before e.open reflects the change.
func (e *Engine) owe(c *store.Change) {
	for _, in := range c.Incidents {
		var entries []upstate.TimelineEntry
		for _, x := range c.Entries {
			if x.IncidentID == in.ID {
				entries = append(entries, x)
			}
		}
		if len(entries) == 0 {
			continue // nothing was said: nothing to tell
		}
		prev := e.findOpen(in.ID)
		ev := upstate.Event{At: in.UpdatedAt, Entries: entries, Names: map[string]string{}}
		ev.Acknowledged = in.AcknowledgedAt != nil && (prev == nil || prev.AcknowledgedAt == nil) && in.Open()
		switch {
		case prev == nil && in.Open() && in.CreatedAt.Equal(in.UpdatedAt):
			ev.Type = upstate.EventIncidentCreated
		case prev == nil && in.Open():
			ev.Type = upstate.EventIncidentReopened
		case prev != nil && !in.Open():
			ev.Type = upstate.EventIncidentResolved
		case prev != nil && ev.Acknowledged && !ev.Public():
			ev.Type = upstate.EventIncidentAcknowledged
		case prev != nil:
			ev.Type = upstate.EventIncidentUpdated
		default:
			continue // a resolved incident changed (a merge into it): no one to page
		}
		ev.Incident = *in
		ev.Incident.Updates = nil
		for _, id := range in.Components {
			if comp, ok := e.comps[id]; ok {
				ev.Names[id] = comp.Name
			}
		}
		ev.ID = in.ID + "." + entries[len(entries)-1].ID
		owed := e.opts.Route(ev)
		c.Messages = append(c.Messages, owed.Messages...)
		c.Cancel = append(c.Cancel, owed.Cancel...)
	}
}
