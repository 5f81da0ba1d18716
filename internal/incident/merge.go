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

// Acknowledge records that a person has taken an open incident on, now.
// The first acknowledgement counts (it is the report's time to
// acknowledge); later ones return the incident unchanged.
func (e *Engine) Acknowledge(ctx context.Context, id, actor string) (*upstate.Incident, error) {
	return e.AcknowledgeAt(ctx, id, actor, time.Time{})
}

// AcknowledgeAt is Acknowledge at the time a person gives (zero: now):
// never in the future, never before the incident's start or its last
// entry. One older than RecentPast cancels the pages still waiting but
// tells no one.
func (e *Engine) AcknowledgeAt(ctx context.Context, id, actor string, at time.Time) (*upstate.Incident, error) {
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return nil, err
	}
	if strings.TrimSpace(actor) == "" || actor == upstate.ActorUpstate {
		return nil, upstate.Errorf(upstate.EINVALID, "actor is required: a person acknowledges")
	}
	in := e.findOpen(id)
	if in == nil {
		return nil, e.notOpen(ctx, id)
	}
	if in.AcknowledgedAt != nil {
		out := *in
		return &out, nil
	}
	now := e.opts.Clock.Now()
	at, err = stamp("at", at, now)
	if err != nil {
		return nil, err
	}
	if err := e.inOrder(ctx, "at", in, at, now); err != nil {
		return nil, err
	}
	cp := *in
	cp.AcknowledgedAt, cp.AcknowledgedBy, cp.UpdatedAt = &at, actor, now
	entry := upstate.TimelineEntry{ID: e.opts.NewID(), IncidentID: in.ID, At: at, Status: in.Status,
		Body: fmt.Sprintf("Acknowledged by %s.", upstate.EscapeMarkdown(actor)), Actor: actor, Kind: upstate.EntryNote}
	if !at.Equal(now) {
		entry.WrittenAt = now
	}
	change := store.Change{Incidents: []*upstate.Incident{&cp}, Entries: []upstate.TimelineEntry{entry}}
	taken := e.owe(&change)
	if !news(at, now) {
		change.Messages = nil // the pages waiting are cancelled all the same
	}
	if err := e.opts.Store.Apply(ctx, change); err != nil {
		e.putBack(taken)
		return nil, fmt.Errorf("save acknowledgement: %w", err)
	}
	e.replaceOpen(&cp)
	e.opts.Logger.Info("incident acknowledged", "component", "incident", "incident", id, "actor", actor)
	e.opts.Changed(maps.Clone(e.statuses))
	out := cp
	return &out, nil
}

func (e *Engine) replaceOpen(in *upstate.Incident) {
	for i, x := range e.open {
		if x.ID == in.ID {
			e.open[i] = in
		}
	}
}

// Merge folds incidents that turned out to be one problem into another:
// each one's timeline is copied onto the target (in time order, so the
// target tells the whole story), the target takes on their components,
// held statuses, earliest start and worst impact, and each merged
// incident is resolved with a pointer to the target, which the public
// page and reports then show alone. All of it is one transaction.
func (e *Engine) Merge(ctx context.Context, into string, from []string, actor string) (*upstate.Incident, error) {
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return nil, err
	}
	var probs []string
	if len(from) == 0 {
		probs = append(probs, "incidents is required: the ids to merge into this one")
	}
	if strings.TrimSpace(actor) == "" {
		probs = append(probs, "actor is required")
	}
	seen := map[string]bool{}
	for i, id := range from {
		switch {
		case id == into:
			probs = append(probs, fmt.Sprintf("incidents[%d]: an incident cannot be merged into itself", i))
		case seen[id]:
			probs = append(probs, fmt.Sprintf("incidents[%d]: %s is listed twice", i, id))
		}
		seen[id] = true
	}
	if len(probs) > 0 {
		return nil, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	target, err := e.opts.Store.GetIncident(ctx, into)
	if err != nil {
		return nil, err
	}
	if target.MergedInto != "" {
		return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s was itself merged into %s", into, target.MergedInto)
	}
	var sources []*upstate.Incident
	for _, id := range from {
		src, err := e.opts.Store.GetIncident(ctx, id)
		if upstate.ErrorCode(err) == upstate.ENOTFOUND {
			return nil, upstate.Errorf(upstate.EINVALID, "incidents: no incident %q", id)
		}
		if err != nil {
			return nil, err
		}
		if src.MergedInto != "" {
			return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s was merged into %s already", id, src.MergedInto)
		}
		if src.Open() && !target.Open() {
			return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s is open but %s is %s: reopen %s first, or merge the other way", id, into, target.Status, into)
		}
		sources = append(sources, src)
	}

	now := e.opts.Clock.Now()
	t := *target
	t.Components = slices.Clone(target.Components)
	t.Overrides = maps.Clone(target.Overrides)
	t.Updates = nil
	var change store.Change
	var copied []upstate.TimelineEntry
	for _, src := range sources {
		for _, u := range src.Updates {
			cp := u
			cp.ID, cp.IncidentID = e.opts.NewID(), t.ID
			copied = append(copied, cp)
		}
		for _, c := range src.Components {
			if !t.HasComponent(c) {
				t.Components = append(t.Components, c)
			}
		}
		if src.Open() {
			for c, st := range src.Overrides {
				if t.Overrides == nil {
					t.Overrides = map[string]upstate.Status{}
				}
				t.Overrides[c] = upstate.Worse(t.Overrides[c], st)
			}
		}
		if src.StartedAt.Before(t.StartedAt) {
			t.StartedAt = src.StartedAt
		}
		if src.DetectedAt.Before(t.DetectedAt) {
			t.DetectedAt = src.DetectedAt
		}
		if src.Impact.Rank() > t.Impact.Rank() {
			t.Impact = src.Impact
		}
		t.Auto = t.Auto && src.Auto
		if src.AcknowledgedAt != nil && (t.AcknowledgedAt == nil || src.AcknowledgedAt.Before(*t.AcknowledgedAt)) {
			t.AcknowledgedAt, t.AcknowledgedBy = src.AcknowledgedAt, src.AcknowledgedBy
		}
		if t.Reach.Empty() {
			t.Reach = src.Reach
		}
		if t.Upstream == nil {
			t.Upstream = src.Upstream
		}
		if w := e.recovery[src.ID]; w > e.recovery[t.ID] {
			e.recovery[t.ID] = w
		}
		s := *src
		s.Updates, s.Overrides, s.MergedInto, s.UpdatedAt = nil, nil, t.ID, now
		if s.Open() {
			s.Status, s.ResolvedAt = upstate.Resolved, &now
		}
		change.Incidents = append(change.Incidents, &s)
		change.Entries = append(change.Entries,
			upstate.TimelineEntry{ID: e.opts.NewID(), IncidentID: s.ID, At: now, Status: s.Status, Actor: actor, Kind: upstate.EntryNote,
				Body: fmt.Sprintf("Merged into %q (%s): it is the same problem.", t.Name, t.ID)},
			upstate.TimelineEntry{ID: e.opts.NewID(), IncidentID: t.ID, At: now, Status: t.Status, Actor: actor, Kind: upstate.EntryNote,
				Body: fmt.Sprintf("Merged %q (%s) into this incident.", src.Name, src.ID)})
	}
	t.UpdatedAt = now
	change.Incidents = append(change.Incidents, &t)
	// Notifications tell of the merge (and resolve the merged ones), not
	// of the copied history again.
	taken := e.owe(&change)
	change.Entries = append(change.Entries, copied...)

	prevOpen := e.open
	open := slices.DeleteFunc(slices.Clone(e.open), func(x *upstate.Incident) bool { return seen[x.ID] || x.ID == t.ID })
	if t.Open() {
		open = append(open, &t)
	}
	e.open = open
	next := e.derive(nil)
	e.open = prevOpen
	for _, id := range e.order {
		if old := e.statuses[id]; next[id] != old && !(old == "" && next[id] == upstate.Operational) {
			change.Statuses = append(change.Statuses, upstate.StatusChange{ComponentID: id, At: now, Status: next[id], IncidentID: t.ID})
		}
	}
	if err := e.opts.Store.Apply(ctx, change); err != nil {
		e.putBack(taken)
		return nil, fmt.Errorf("save merge: %w", err)
	}
	e.open, e.statuses = open, next
	for _, id := range from {
		delete(e.recovery, id)
	}
	e.opts.Logger.Info("incidents merged", "component", "incident", "incident", t.ID, "merged", strings.Join(from, ","), "actor", actor)
	e.opts.Changed(maps.Clone(next))
	e.poke()
	return e.opts.Store.GetIncident(ctx, t.ID)
}
