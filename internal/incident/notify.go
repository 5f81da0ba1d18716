package incident

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// owe adds to the change the messages its incident events owe: one event
// per incident the change touches, typed by how the incident moved (new,
// reopened, resolved, acknowledged, updated). An event also carries the
// mirrored provider updates held back from notifying (see
// mirrorNotifyEvery), first, so a resolution tells the provider's closing
// words too. Must be called with e.mu held and before e.open reflects the
// change. created names incidents the change makes whose CreatedAt is not
// their UpdatedAt (a declaration told of the past).
func (e *Engine) owe(c *store.Change, created ...string) held {
	taken := held{}
	for _, in := range c.Incidents {
		entries := e.heldNews(in.ID)
		if len(entries) > 0 {
			taken[in.ID] = entries
		}
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
		case prev == nil && in.Open() && (in.CreatedAt.Equal(in.UpdatedAt) || slices.Contains(created, in.ID)):
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
	return taken
}

// held are mirrored provider updates an event took to tell, by incident.
type held map[string][]upstate.TimelineEntry

// putBack returns held updates to wait for the next event, when the change
// that was to tell them was not stored. Must be called with e.mu held.
func (e *Engine) putBack(h held) {
	for id, entries := range h {
		if n := e.news[id]; n != nil {
			n.held = append(entries, n.held...)
		}
	}
}

// remind sends an incident.reminder for each open incident that nothing
// has been said about for the re-notify interval, and returns when the
// next reminder falls due (zero if none). Must be called with e.mu held.
func (e *Engine) remind(ctx context.Context, now time.Time) (time.Time, error) {
	if e.opts.Renotify <= 0 {
		return time.Time{}, nil
	}
	var next time.Time
	var c store.Change
	told := map[string]time.Time{}
	for _, in := range e.open {
		last := in.UpdatedAt
		if r := e.reminded[in.ID]; r.After(last) {
			last = r
		}
		due := last.Add(e.opts.Renotify)
		if due.After(now) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		ev := upstate.Event{ID: fmt.Sprintf("%s.reminder.%d", in.ID, now.Unix()), Type: upstate.EventIncidentReminder, At: now, Incident: *in, Names: map[string]string{}}
		ev.Incident.Updates = nil
		for _, id := range in.Components {
			ev.Names[id] = e.comps[id].Name
		}
		ev.Entries = []upstate.TimelineEntry{{ID: "reminder", IncidentID: in.ID, At: now, Status: in.Status, Public: true, Actor: upstate.ActorUpstate,
			Body: fmt.Sprintf("Still %s: this incident began %s ago (%s) and nothing has been posted for %s.",
				strings.ToLower(in.Status.Label()), upstate.FormatDuration(now.Sub(in.StartedAt), upstate.DurationWords), e.clock(in.StartedAt), upstate.FormatDuration(now.Sub(last), upstate.DurationWords))}}
		owed := e.opts.Route(ev)
		c.Messages = append(c.Messages, owed.Messages...)
		told[in.ID] = now
		if n := now.Add(e.opts.Renotify); next.IsZero() || n.Before(next) {
			next = n
		}
	}
	if len(c.Messages) > 0 {
		if err := e.opts.Store.Apply(ctx, c); err != nil {
			return now.Add(5 * time.Second), fmt.Errorf("save reminders: %w", err)
		}
		e.opts.Changed(maps.Clone(e.statuses))
	}
	maps.Copy(e.reminded, told)
	for id := range e.reminded {
		if e.findOpen(id) == nil {
			delete(e.reminded, id)
		}
	}
	return next, nil
}
