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

// Change is what a person asks of an incident: declaring one, posting an
// update, resolving or reopening it. Zero fields leave things as they are.
type Change struct {
	Name    string                    // declare: required; update: renames
	Status  upstate.IncidentStatus    // the new status, if any
	Impact  upstate.Impact            // overrides the impact computed from statuses
	Message string                    // the timeline entry, Markdown
	Public  *bool                     // default true; false makes an internal note
	Set     map[string]upstate.Status // component statuses to hold while open
	// Reach, when set, replaces how much the incident hurts.
	Reach *upstate.Reach
	// Upstream, when set, links the incident to a third party's; one with
	// an empty Provider removes the link.
	Upstream *upstate.Upstream
	Actor    string // who, for the timeline
	// At is when it happened, when a person says: zero for now. Never in
	// the future (see Skew), never before the incident's start or its
	// last entry. An entry at a time in the past keeps when it was written
	// too (TimelineEntry.WrittenAt); one older than RecentPast notifies
	// no one. On a declare it is the declaration (the first entry).
	At time.Time
	// StartedAt and DetectedAt are a declare's: when the failure began
	// and when it was noticed. Zero: detection from the failing checks on
	// the components it sets (else the declaration), the start from their
	// first failing results (else the detection).
	StartedAt, DetectedAt time.Time
	// Until, when set, is when what the entry tells of ended: the entry
	// is a span (TimelineEntry.Until). Like At, never in the future (see
	// Skew); never before the entry's at.
	Until time.Time
}

func (c Change) public() bool { return c.Public == nil || *c.Public }

// validate names every field that is wrong. Must be called with e.mu held.
func (e *Engine) validate(c Change, declaring bool) error {
	var probs []string
	if declaring && strings.TrimSpace(c.Name) == "" {
		probs = append(probs, "name is required")
	}
	if len(c.Name) > 200 {
		probs = append(probs, "name is longer than 200 characters")
	}
	if c.Status != "" && !c.Status.Open() && c.Status != upstate.Resolved && c.Status != upstate.Postmortem {
		probs = append(probs, fmt.Sprintf("status %q is not one of investigating, identified, monitoring, resolved, postmortem", c.Status))
	}
	switch c.Impact {
	case "", upstate.ImpactNone, upstate.ImpactMinor, upstate.ImpactMajor, upstate.ImpactCritical:
	default:
		probs = append(probs, fmt.Sprintf("impact %q is not one of none, minor, major, critical", c.Impact))
	}
	if len(c.Message) > 20000 {
		probs = append(probs, "message is longer than 20000 characters")
	}
	for _, id := range slices.Sorted(maps.Keys(c.Set)) {
		if _, ok := e.comps[id]; !ok {
			probs = append(probs, fmt.Sprintf("components.%s: no such component", id))
		} else if st := c.Set[id]; !st.Valid() {
			probs = append(probs, fmt.Sprintf("components.%s: %q is not a component status", id, st))
		}
	}
	if c.Reach != nil {
		probs = append(probs, validateReach(*c.Reach)...)
	}
	if c.Upstream != nil && (c.Upstream.Provider != "" || c.Upstream.URL != "" || c.Upstream.Title != "") {
		probs = append(probs, validateUpstream(*c.Upstream)...)
	}
	if strings.TrimSpace(c.Actor) == "" {
		probs = append(probs, "actor is required")
	}
	if len(probs) > 0 {
		return upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	return nil
}

func validateReach(r upstate.Reach) []string {
	var probs []string
	probs = append(probs, failingProblems(r)...)
	for _, l := range []struct {
		name string
		v    []string
	}{{"regions", r.Regions}, {"segments", r.Segments}} {
		if len(l.v) > 20 {
			probs = append(probs, fmt.Sprintf("reach.%s: more than 20 entries", l.name))
		}
		for i, x := range l.v {
			if strings.TrimSpace(x) == "" || len(x) > 100 {
				probs = append(probs, fmt.Sprintf("reach.%s[%d]: must be 1 to 100 characters", l.name, i))
			}
		}
	}
	return probs
}

func validateUpstream(u upstate.Upstream) []string {
	var probs []string
	if strings.TrimSpace(u.Provider) == "" || len(u.Provider) > 100 {
		probs = append(probs, "upstream.provider: must be 1 to 100 characters")
	}
	if len(u.Title) > 200 {
		probs = append(probs, "upstream.title is longer than 200 characters")
	}
	if !upstate.IsHTTPURL(u.URL) {
		probs = append(probs, fmt.Sprintf("upstream.url: %q is not an http(s) URL", u.URL))
	}
	return probs
}

// Declare opens an incident by hand.
func (e *Engine) Declare(ctx context.Context, c Change) (*upstate.Incident, error) {
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return nil, err
	}
	if err := e.validate(c, true); err != nil {
		return nil, err
	}
	if c.Status == "" {
		c.Status = upstate.Investigating
	}
	if !c.Status.Open() {
		return nil, upstate.Errorf(upstate.EINVALID, "status: a new incident must be investigating, identified or monitoring")
	}
	now := e.opts.Clock.Now()
	start, detect, at, err := e.declaredTimes(ctx, c, now)
	if err != nil {
		return nil, err
	}
	in := &upstate.Incident{ID: e.opts.NewID(), Name: strings.TrimSpace(c.Name), Status: c.Status, Impact: upstate.ImpactNone,
		CreatedAt: at, UpdatedAt: now, StartedAt: start, DetectedAt: detect}
	return e.apply(ctx, in, c, at, now, true)
}

// Update posts an update to an open incident; a status of resolved
// resolves it.
func (e *Engine) Update(ctx context.Context, id string, c Change) (*upstate.Incident, error) {
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return nil, err
	}
	if err := e.validate(c, false); err != nil {
		return nil, err
	}
	in := e.findOpen(id)
	if in == nil {
		return nil, e.notOpen(ctx, id)
	}
	if strings.TrimSpace(c.Message) == "" && c.Status == "" && len(c.Set) == 0 && c.Impact == "" && c.Name == "" && c.Reach == nil && c.Upstream == nil {
		return nil, upstate.Errorf(upstate.EINVALID, "nothing to update: give a message, status, impact, reach, upstream, name or component statuses")
	}
	now := e.opts.Clock.Now()
	at, err := stamp("at", c.At, now)
	if err != nil {
		return nil, err
	}
	if err := e.inOrder(ctx, "at", in, at, now); err != nil {
		return nil, err
	}
	cp := *in
	return e.apply(ctx, &cp, c, at, now, false)
}

// Publish posts an internal entry Upstate wrote (held there by
// page.automatic_updates: internal) as a public update by actor: a new
// entry with its words, at the incident's status, told to subscribers. The
// internal entry stays as it was, so the timeline shows who published what
// and when.
func (e *Engine) Publish(ctx context.Context, incidentID, entryID, actor string) (*upstate.Incident, error) {
	in, err := e.opts.Store.GetIncident(ctx, incidentID)
	if err != nil {
		return nil, fmt.Errorf("publish entry %s of incident %s: %w", entryID, incidentID, err)
	}
	i := slices.IndexFunc(in.Updates, func(u upstate.TimelineEntry) bool { return u.ID == entryID })
	switch {
	case i < 0:
		return nil, upstate.Errorf(upstate.ENOTFOUND, "incident %s has no entry %s", incidentID, entryID)
	case in.Updates[i].Public:
		return nil, upstate.Errorf(upstate.ECONFLICT, "entry %s of incident %s is public already", entryID, incidentID)
	case !in.Updates[i].Kind.Publishable():
		return nil, upstate.Errorf(upstate.ECONFLICT, "entry %s of incident %s is the evidence behind an automatic update (checks, codes, errors): it is for the team only and cannot be published; publish the plain words beside it, or post an update", entryID, incidentID)
	case in.Updates[i].Actor != upstate.ActorUpstate:
		return nil, upstate.Errorf(upstate.EINVALID, "entry %s of incident %s is a person's internal note: post it as an update instead", entryID, incidentID)
	}
	for _, u := range in.Updates[i+1:] {
		if u.Public && u.Body == in.Updates[i].Body {
			return nil, upstate.Errorf(upstate.ECONFLICT, "entry %s of incident %s was published already, by %s", entryID, incidentID, u.Actor)
		}
	}
	return e.Update(ctx, incidentID, Change{Message: in.Updates[i].Body, Actor: actor})
}

// Reopen puts a resolved incident back to investigating.
func (e *Engine) Reopen(ctx context.Context, id string, c Change) (*upstate.Incident, error) {
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return nil, err
	}
	if err := e.validate(c, false); err != nil {
		return nil, err
	}
	if !c.Until.IsZero() {
		return nil, upstate.Errorf(upstate.EINVALID, "until: a reopening is a moment; give at alone")
	}
	if e.findOpen(id) != nil {
		return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s is open already", id)
	}
	in, err := e.opts.Store.GetIncident(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.MergedInto != "" {
		return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s was merged into %s: reopen that one", id, in.MergedInto)
	}
	if in.Hidden != nil {
		return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s is hidden from the public: show it again (unhide) before reopening it", id)
	}
	now := e.opts.Clock.Now()
	at, err := stamp("at", c.At, now)
	if err != nil {
		return nil, err
	}
	if err := e.inOrder(ctx, "at", in, at, now); err != nil {
		return nil, err
	}
	cp := *in
	cp.ResolvedAt, cp.MonitoringAt = nil, nil
	if c.Status == "" || !c.Status.Open() {
		c.Status = upstate.Investigating
	}
	if c.Message == "" {
		c.Message = "Reopened: the problem is not over."
	}
	return e.apply(ctx, &cp, c, at, now, false)
}

func (e *Engine) findOpen(id string) *upstate.Incident {
	for _, in := range e.open {
		if in.ID == id {
			return in
		}
	}
	return nil
}

func (e *Engine) notOpen(ctx context.Context, id string) error {
	in, err := e.opts.Store.GetIncident(ctx, id)
	if err != nil {
		return err
	}
	return upstate.Errorf(upstate.ECONFLICT, "incident %s is %s: reopen it to post updates", id, in.Status)
}

// apply changes in (a copy, or a new incident when declaring) as c asks,
// re-derives the statuses of its components and writes it all in one
// transaction: what happened at at, written now (the same, unless a
// person told of the past). Must be called with e.mu held.
func (e *Engine) apply(ctx context.Context, in *upstate.Incident, c Change, at, now time.Time, declaring bool) (*upstate.Incident, error) {
	until, err := ending(c.Until, at, now)
	if err != nil {
		return nil, err
	}
	if c.Name != "" {
		in.Name = strings.TrimSpace(c.Name)
	}
	if c.Status != "" {
		in.Status = c.Status
	}
	switch in.Status {
	case upstate.Monitoring:
		// Set when someone moves it to monitoring; a note on a linked
		// incident the provider's word put there starts no watch.
		if in.MonitoringAt == nil && c.Status == upstate.Monitoring {
			in.MonitoringAt = &at
		}
	case upstate.Resolved, upstate.Postmortem:
		if in.ResolvedAt == nil {
			in.ResolvedAt = &at
		}
	}
	if len(c.Set) > 0 {
		in.Overrides = maps.Clone(in.Overrides)
		if in.Overrides == nil {
			in.Overrides = map[string]upstate.Status{}
		}
		for id, st := range c.Set {
			if st == upstate.Operational {
				delete(in.Overrides, id)
			} else {
				in.Overrides[id] = st
			}
			if !in.HasComponent(id) {
				in.Components = append(slices.Clone(in.Components), id)
			}
		}
	}
	if !in.Open() {
		in.Overrides = nil // a resolved incident holds nothing down
	}
	for _, st := range in.Overrides {
		if st.Impact().Rank() > in.Impact.Rank() {
			in.Impact = st.Impact()
		}
	}
	if c.Impact != "" {
		in.Impact = c.Impact
	}
	if c.Reach != nil {
		r := *c.Reach
		r.Regions, r.Segments = trimAll(r.Regions), trimAll(r.Segments)
		in.Reach = r
	}
	if c.Upstream != nil {
		in.Upstream = nil
		if c.Upstream.Provider != "" {
			u := upstate.Upstream{Provider: strings.TrimSpace(c.Upstream.Provider), Title: strings.TrimSpace(c.Upstream.Title), URL: c.Upstream.URL}
			in.Upstream = &u
		}
	}
	// A person who writes on an incident after its declaration has taken
	// it on; declaring is not acknowledging (the report's time to
	// acknowledge is the on-call's, who may not be the one who declared).
	if !declaring && in.AcknowledgedAt == nil && c.Actor != upstate.ActorUpstate {
		in.AcknowledgedAt, in.AcknowledgedBy = &at, c.Actor
	}
	in.UpdatedAt = now

	// Statuses as they will be with this incident changed.
	prevOpen := e.open
	open := slices.DeleteFunc(slices.Clone(e.open), func(x *upstate.Incident) bool { return x.ID == in.ID })
	if in.Open() {
		open = append(open, in)
	}
	e.open = open
	next := e.derive(nil)
	e.open = prevOpen

	entry := upstate.TimelineEntry{ID: e.opts.NewID(), IncidentID: in.ID, At: at, Status: in.Status, Body: strings.TrimSpace(c.Message),
		Public: c.public(), Actor: c.Actor, Kind: upstate.EntryNote}
	if !at.Equal(now) {
		entry.WrittenAt = now
	}
	entry.Until = until
	if entry.Public {
		entry.Kind = upstate.EntryUpdate
	}
	// The status history tells what happened when: a declared status
	// from the incident's start, a change from its time. The current
	// status is what the engine derives now, so a change told of the past
	// is written again at now: the history's last word is the status.
	since := at
	if declaring {
		since = in.StartedAt
	}
	var change store.Change
	var current []upstate.StatusChange
	for _, id := range e.order {
		old := e.statuses[id]
		if old == "" {
			old = upstate.Operational
		}
		if next[id] == old {
			continue
		}
		change.Statuses = append(change.Statuses, upstate.StatusChange{ComponentID: id, At: since, Status: next[id], IncidentID: in.ID})
		if !since.Equal(now) {
			current = append(current, upstate.StatusChange{ComponentID: id, At: now, Status: next[id], IncidentID: in.ID})
		}
		entry.Affected = append(entry.Affected, upstate.AffectedComponent{ComponentID: id, OldStatus: old, NewStatus: next[id]})
	}
	change.Statuses = append(change.Statuses, current...)
	if entry.Body == "" && c.Reach != nil && c.Status == "" {
		entry.Body = "Scope: " + in.Reach.Describe() + "."
	}
	if entry.Body == "" {
		entry.Body = defaultMessage(in.Status)
	}
	change.Incidents = []*upstate.Incident{in}
	change.Entries = []upstate.TimelineEntry{entry}
	var created []string
	if declaring {
		created = []string{in.ID}
	}
	taken := e.owe(&change, created...)
	if !news(at, now) {
		// Told long after it happened: written, told to no one; the pages
		// still waiting for an incident it resolves are cancelled.
		change.Messages = nil
	}
	if err := e.opts.Store.Apply(ctx, change); err != nil {
		e.putBack(taken)
		return nil, fmt.Errorf("save incident: %w", err)
	}
	e.open = open
	e.statuses = next
	if declaring {
		e.opts.Logger.Info("incident declared", "component", "incident", "incident", in.ID, "actor", c.Actor)
	}
	e.opts.Changed(maps.Clone(next))
	e.poke()
	out := *in
	return &out, nil
}

func trimAll(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func defaultMessage(s upstate.IncidentStatus) string {
	switch s {
	case upstate.Identified:
		return "The issue has been identified and a fix is being implemented."
	case upstate.Monitoring:
		return "A fix has been implemented and we are monitoring the results."
	case upstate.Resolved:
		return "This incident has been resolved."
	}
	return "We are investigating this issue."
}
