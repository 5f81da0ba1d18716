package incident

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/ids"
	"github.com/upstatehq/upstate/internal/store"
)

// The limits on what a provider's feed can put on our timeline. A feed is
// someone else's content: one that rewrote its update times made one
// incident 603 entries long in a minute, and every entry is in
// summary.json, which every widget downloads.
const (
	// mirrorPerPoll is how many new updates one read may add, the newest;
	// the rest are counted in one entry. A real incident's news comes a
	// few updates per poll at most.
	mirrorPerPoll = 5
	// mirrorPerIncident is how many entries one provider may add to an
	// incident in all; past it one entry sends readers to their page and
	// mirroring stops. An incident with more than this was not being read
	// on our page anyway.
	mirrorPerIncident = 50
	// mirrorNotifyEvery is how often mirrored updates may notify per
	// linked incident: the first is told at once, the ones that follow
	// within the interval are held and told together when it ends (by
	// Tick), or sooner with whatever is told next about the incident (its
	// resolution, say). So nothing a provider said is lost to the
	// channels, but they hear it at most every ten minutes, not every poll.
	mirrorNotifyEvery = 10 * time.Minute
)

// mirrorNews is what an open linked incident's mirrored updates have told.
type mirrorNews struct {
	told time.Time               // when mirrored updates last made an event
	held []upstate.TimelineEntry // mirrored since, not yet in any event
}

// Mirror copies a provider's updates onto our open incident linked to
// its incident (by the link's URL), as public entries in the provider's
// name (the entry's actor is Upstate: it was not one of us) with a link
// to their page, each once. An entry's id is derived from the incident
// and the update's key, so "once" holds across restarts and however the
// feed rewrites times. Updates older than the newest one already mirrored
// are not news and are not added. It returns how many entries it added.
func (e *Engine) Mirror(ctx context.Context, link upstate.Upstream, updates []upstate.ProviderUpdate) (int, error) {
	unlock, err := e.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	// Nothing is changed on memory that lacks a change the store refused.
	if err := e.settle(ctx); err != nil {
		return 0, err
	}
	if !upstate.IsHTTPURL(link.URL) {
		return 0, upstate.Errorf(upstate.EINVALID, "mirror %s: the link %q is not an http(s) URL", link.Provider, link.URL)
	}
	var target *upstate.Incident
	for _, in := range e.open {
		if in.Upstream != nil && in.Upstream.URL == link.URL && in.Upstream.Provider == link.Provider {
			target = in
		}
	}
	if target == nil || len(updates) == 0 {
		return 0, nil
	}
	stored, err := e.opts.Store.GetIncident(ctx, target.ID)
	if err != nil {
		return 0, err
	}
	name := upstate.EscapeMarkdown(link.Provider)
	// have holds entry ids, and bodies for entries mirrored before ids
	// were derived from keys.
	have := map[string]bool{}
	mirrored := 0
	for _, u := range stored.Updates {
		have[u.ID], have[u.Body] = true, true
		if u.Actor == upstate.ActorUpstate && strings.HasPrefix(u.Body, "**"+name+"**") {
			mirrored++
		}
	}
	capped := mirrorID(target.ID, "capped:"+link.Provider)
	if have[capped] {
		return 0, nil
	}
	type fresh struct {
		id, body string
		status   upstate.IncidentStatus // theirs at the update
	}
	var news []fresh
	seen := map[string]bool{}
	for _, u := range updates {
		text := strings.TrimSpace(u.Text)
		if text == "" {
			continue
		}
		key := u.Key
		if key == "" {
			key = "text:" + strings.Join(strings.Fields(text), " ")
		}
		id := mirrorID(target.ID, key)
		if seen[id] {
			continue
		}
		seen[id] = true
		body := fmt.Sprintf("**%s** (%s): %s\n\n[Their status page](%s)", name, e.clock(u.At), text, link.URL)
		if have[id] || have[body] {
			news = news[:0] // what came before it is older than what we show
			continue
		}
		news = append(news, fresh{id, body, u.Status})
	}
	if len(news) == 0 {
		return 0, nil
	}
	now := e.opts.Clock.Now()
	var change store.Change
	cp := *target
	floor := byHand(stored.Updates)
	add := func(id, body string, theirs upstate.IncidentStatus) {
		cp.Status = follow(&cp, theirs, floor, now)
		change.Entries = append(change.Entries, upstate.TimelineEntry{ID: id, IncidentID: target.ID, At: now, Status: cp.Status,
			Body: body, Public: !e.hold, Actor: upstate.ActorUpstate, Kind: upstate.EntryProvider}) // held too with page.automatic_updates: internal
	}
	if skipped := len(news) - mirrorPerPoll; skipped > 0 {
		e.opts.Logger.Warn("provider updates over the per-poll limit", "component", "incident", "incident", target.ID,
			"provider", link.Provider, "kept", mirrorPerPoll, "skipped", skipped)
		news = news[skipped:]
		add(mirrorID(target.ID, "skipped:"+news[0].id), fmt.Sprintf("**%s** posted %d more updates than we copy at once: they are on [their status page](%s).",
			name, skipped, link.URL), "")
	}
	for _, n := range news {
		add(n.id, n.body, n.status)
	}
	if room := mirrorPerIncident - mirrored; len(change.Entries) > room {
		e.opts.Logger.Warn("provider updates over the per-incident limit", "component", "incident", "incident", target.ID,
			"provider", link.Provider, "limit", mirrorPerIncident)
		change.Entries = change.Entries[len(change.Entries)-max(room, 0):]
		add(capped, fmt.Sprintf("**%s** has posted more updates than we copy (%d): further updates are on [their status page](%s).",
			name, mirrorPerIncident, link.URL), "")
	}
	if cp.Status != target.Status {
		e.opts.Logger.Info("linked incident follows the provider's status", "component", "incident", "incident", target.ID,
			"provider", link.Provider, "from", target.Status, "to", cp.Status)
	}
	cp.UpdatedAt = now
	change.Incidents = []*upstate.Incident{&cp}
	n := e.news[target.ID]
	if n == nil {
		n = &mirrorNews{}
		e.news[target.ID] = n
	}
	tell := n.told.IsZero() || !now.Before(n.told.Add(mirrorNotifyEvery))
	held := n.held
	if tell {
		e.owe(&change) // with what was held since the last time
	}
	if err := e.opts.Store.Apply(ctx, change); err != nil {
		n.held = held
		return 0, fmt.Errorf("mirror %s: %w", link.Provider, err)
	}
	if tell {
		n.told = now
	} else {
		n.held = append(n.held, change.Entries...)
		e.poke() // Run's next Tick tells them when the interval ends
	}
	e.replaceOpen(&cp)
	e.opts.Changed(maps.Clone(e.statuses))
	return len(change.Entries), nil
}

// The linked incident's status follows the provider's, as each of their
// updates says it (Statuspage's statuses are ours word for word), with
// two exceptions:
//
//   - it never moves back past what our own team last set by hand: the
//     status of the newest entry a person wrote (an update, a
//     declaration) is a floor until they write again; the provider moving
//     beyond it is followed;
//   - it never leaves the watch our own recovery keeps: once every
//     affected component is operational again and the engine has begun
//     to monitor before resolving (an automatic incident, monitoring,
//     MonitoringAt set), our evidence decides and their words are only
//     mirrored.
//
// Their "resolved" is mirrored as words: our incident resolves as ever,
// when our checks have recovered for the recovery window (or a person
// resolves it). A monitoring that comes from the provider while our
// components still fail starts no recovery watch (MonitoringAt stays
// unset): it is their word, not our evidence.

// follow is the status in takes when, at now, the provider says theirs,
// given the floor our team set by hand ("" for none). It sets
// MonitoringAt on a manual incident that moves to monitoring; an
// automatic one's is the engine's recovery watch.
func follow(in *upstate.Incident, theirs, floor upstate.IncidentStatus, now time.Time) upstate.IncidentStatus {
	cur := in.Status
	watching := in.Auto && cur == upstate.Monitoring && in.MonitoringAt != nil
	if !theirs.Open() || theirs == cur || watching || !cur.Open() {
		return cur
	}
	next := theirs
	if openRank(theirs) < openRank(cur) && floor.Open() && openRank(theirs) < openRank(floor) {
		next = floor // not back past what we set
		if openRank(floor) > openRank(cur) {
			next = cur // nor up to it, on a provider's step back
		}
	}
	if next == upstate.Monitoring && !in.Auto && in.MonitoringAt == nil {
		in.MonitoringAt = &now
	}
	return next
}

// openRank orders the open statuses: investigating, identified, monitoring.
func openRank(s upstate.IncidentStatus) int {
	switch s {
	case upstate.Investigating:
		return 1
	case upstate.Identified:
		return 2
	case upstate.Monitoring:
		return 3
	}
	return 0
}

// byHand is the status of the newest entry a person wrote on the
// timeline (oldest first), or "" when none did.
func byHand(entries []upstate.TimelineEntry) upstate.IncidentStatus {
	for i := len(entries) - 1; i >= 0; i-- {
		if u := entries[i]; u.Actor != upstate.ActorUpstate && u.Actor != "" && u.Status.Open() {
			return u.Status
		}
	}
	return ""
}

// mirrorID is the id of a mirrored entry: the same for the same incident
// and key every time, so a stored timeline says what was mirrored.
func mirrorID(incidentID, key string) string {
	return ids.Stable("upstream\x00" + incidentID + "\x00" + key)
}

// heldNews takes the mirrored entries held back from notifying for the
// incident: whatever event is told next about it carries them (if that
// change then fails to store, they are not told; they are on the
// timeline). Must be called with e.mu held.
func (e *Engine) heldNews(incidentID string) []upstate.TimelineEntry {
	n := e.news[incidentID]
	if n == nil {
		return nil
	}
	held := n.held
	n.held = nil
	return held
}

// tellHeld makes one incident.updated event for each linked incident
// whose held mirrored updates have waited out mirrorNotifyEvery, forgets
// incidents no longer open, and returns when the next held ones fall due
// (zero if none). Must be called with e.mu held.
func (e *Engine) tellHeld(ctx context.Context, now time.Time) (time.Time, error) {
	var next time.Time
	var c store.Change
	for id, n := range e.news {
		in := e.findOpen(id)
		if in == nil {
			delete(e.news, id)
			continue
		}
		if len(n.held) == 0 {
			continue
		}
		if due := n.told.Add(mirrorNotifyEvery); due.After(now) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		cp := *in
		c.Incidents = append(c.Incidents, &cp)
	}
	if len(c.Incidents) == 0 {
		return next, nil
	}
	told := c.Incidents
	held := map[string][]upstate.TimelineEntry{}
	for _, in := range told {
		held[in.ID] = e.news[in.ID].held
	}
	e.owe(&c)
	// The entries are stored already and the incidents have not changed:
	// only the messages are new.
	c.Incidents = nil
	if err := e.opts.Store.Apply(ctx, c); err != nil {
		for id, h := range held {
			e.news[id].held = h
		}
		return now.Add(5 * time.Second), fmt.Errorf("tell mirrored updates: %w", err)
	}
	for _, in := range told {
		e.news[in.ID].told = now
	}
	e.opts.Changed(maps.Clone(e.statuses)) // the outbox has news
	return next, nil
}
