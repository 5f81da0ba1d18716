package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// CorrectionStore is what corrections write through; the engine's store
// provides it when it can (store.Corrections).
type CorrectionStore interface {
	EditEntry(ctx context.Context, incidentID, entryID, body, actor string, at time.Time) (upstate.EntryEdit, error)
	HideIncident(ctx context.Context, id string, h *upstate.Hidden) error
	DeleteIncident(ctx context.Context, id string, record upstate.AuditEntry) error
}

// MaxReason is the longest reason a hide or a delete may give.
const MaxReason = 500

func (e *Engine) corrections() (CorrectionStore, error) {
	cs, ok := e.opts.Store.(CorrectionStore)
	if !ok {
		return nil, upstate.Errorf(upstate.EINTERNAL, "this store cannot correct incidents")
	}
	return cs, nil
}

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", upstate.Errorf(upstate.EINVALID, "reason is required")
	case len(reason) > MaxReason:
		return "", upstate.Errorf(upstate.EINVALID, "reason is longer than %d characters", MaxReason)
	}
	return reason, nil
}

// Edit replaces the words of one timeline entry: a person correcting a
// typo or a wrong word, on their own entries or on Upstate's (the person's
// words replace the automatic ones). The words before are kept and the
// entry shows it was edited, by whom and when. Subscribers are not told
// again: a correction of words is not news (as Statuspage and its peers
// do); the public page, feeds and API show the new words at once.
func (e *Engine) Edit(ctx context.Context, incidentID, entryID, body, actor string) (*upstate.Incident, error) {
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return nil, upstate.Errorf(upstate.EINVALID, "body is required")
	case len(body) > 20000:
		return nil, upstate.Errorf(upstate.EINVALID, "body is longer than 20000 characters")
	case strings.TrimSpace(actor) == "":
		return nil, upstate.Errorf(upstate.EINVALID, "actor is required")
	}
	cs, err := e.corrections()
	if err != nil {
		return nil, err
	}
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	in, err := e.opts.Store.GetIncident(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(in.Updates, func(u upstate.TimelineEntry) bool { return u.ID == entryID })
	if i < 0 {
		return nil, upstate.Errorf(upstate.ENOTFOUND, "incident %s has no entry %s", incidentID, entryID)
	}
	if in.Updates[i].Body == body {
		return in, nil // nothing to correct
	}
	now := e.opts.Clock.Now()
	if _, err := cs.EditEntry(ctx, incidentID, entryID, body, actor, now); err != nil {
		return nil, fmt.Errorf("edit entry %s of incident %s: %w", entryID, incidentID, err)
	}
	// The HTML the store kept was of the words before; it renders the
	// new ones as it writes them, and a reader of these renders them.
	in.Updates[i].Body, in.Updates[i].BodyHTML, in.Updates[i].EditedAt, in.Updates[i].EditedBy = body, "", &now, actor
	if o := e.findOpen(incidentID); o != nil && i < len(o.Updates) && o.Updates[i].ID == entryID {
		ups := slices.Clone(o.Updates)
		ups[i] = in.Updates[i]
		o.Updates = ups
	}
	e.opts.Logger.Info("timeline entry edited", "component", "incident", "incident", incidentID, "entry", entryID, "actor", actor)
	e.opts.Changed(maps.Clone(e.statuses))
	return in, nil
}

// resolvedOne returns a resolved incident to hide or delete; an open one
// is refused: while it is open it holds its components' public status,
// and what it says about them is either true (resolve it, saying so) or
// a mistake (resolve it first, then hide or delete it). Must be called
// with e.mu held.
func (e *Engine) resolvedOne(ctx context.Context, id, what string) (*upstate.Incident, error) {
	if e.findOpen(id) != nil {
		return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s is open: resolve it first, then %s it (an open incident holds its components' public status)", id, what)
	}
	return e.opts.Store.GetIncident(ctx, id)
}

// Hide takes a resolved incident off the public side (the page, history,
// feeds, Statuspage JSON, badges): it was opened by mistake. The admin and
// the outage report still show it, with the reason.
func (e *Engine) Hide(ctx context.Context, id, reason, actor string) (*upstate.Incident, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	cs, err := e.corrections()
	if err != nil {
		return nil, err
	}
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	in, err := e.resolvedOne(ctx, id, "hide")
	if err != nil {
		return nil, err
	}
	if in.Hidden != nil {
		return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s is hidden already (by %s: %s)", id, in.Hidden.By, in.Hidden.Reason)
	}
	h := &upstate.Hidden{Reason: reason, By: actor, At: e.opts.Clock.Now()}
	if err := cs.HideIncident(ctx, id, h); err != nil {
		return nil, fmt.Errorf("hide incident %s: %w", id, err)
	}
	in.Hidden = h
	e.opts.Changed(maps.Clone(e.statuses))
	return in, nil
}

// Unhide shows a hidden incident on the public side again.
func (e *Engine) Unhide(ctx context.Context, id string) (*upstate.Incident, error) {
	cs, err := e.corrections()
	if err != nil {
		return nil, err
	}
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	in, err := e.opts.Store.GetIncident(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.Hidden == nil {
		return nil, upstate.Errorf(upstate.ECONFLICT, "incident %s is not hidden", id)
	}
	if err := cs.HideIncident(ctx, id, nil); err != nil {
		return nil, fmt.Errorf("unhide incident %s: %w", id, err)
	}
	in.Hidden = nil
	e.opts.Changed(maps.Clone(e.statuses))
	return in, nil
}

// deletedJSON is what the audit log keeps of a deleted incident.
type deletedJSON struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Status     string      `json:"status"`
	Components []string    `json:"components"`
	CreatedAt  time.Time   `json:"created_at"`
	ResolvedAt *time.Time  `json:"resolved_at"`
	Reason     string      `json:"reason"`
	Timeline   []entryJSON `json:"timeline"`
}

type entryJSON struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
	Kind   string    `json:"kind"`
	Public bool      `json:"public"`
	Actor  string    `json:"actor"`
	Body   string    `json:"body"`
}

// Delete removes a resolved incident entered by mistake, everywhere (the
// public side, the admin, the report), and cancels what it still owed.
// record is the audit entry of the request (who, from where): its action,
// targets and detail (the incident's title and timeline as they were) are
// filled in here, and it is written in the same transaction as the
// removal, so nothing goes without trace.
func (e *Engine) Delete(ctx context.Context, id, reason string, record upstate.AuditEntry) (*upstate.Incident, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	cs, err := e.corrections()
	if err != nil {
		return nil, err
	}
	unlock, err := e.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	in, err := e.resolvedOne(ctx, id, "delete")
	if err != nil {
		return nil, err
	}
	d := deletedJSON{ID: in.ID, Name: in.Name, Status: string(in.Status), Components: in.Components, CreatedAt: in.CreatedAt.UTC(), ResolvedAt: in.ResolvedAt,
		Reason: reason, Timeline: []entryJSON{}}
	for _, u := range in.Updates {
		d.Timeline = append(d.Timeline, entryJSON{At: u.At.UTC(), Status: string(u.Status), Kind: string(u.Kind), Public: u.Public, Actor: u.Actor, Body: u.Body})
	}
	detail, _ := json.Marshal(d)
	// A timeline too long for the log's bound keeps its title, its reason
	// and as many entries as fit.
	for len(detail) > upstate.AuditDetailMax && len(d.Timeline) > 0 {
		d.Timeline = d.Timeline[:len(d.Timeline)/2]
		detail, _ = json.Marshal(d)
	}
	record.Action = fmt.Sprintf("deleted incident '%s' (%s): %s", in.Name, in.ID, reason)
	record.Targets = append([]string{in.ID}, slices.DeleteFunc(record.Targets, func(t string) bool { return t == in.ID })...)
	record.Detail = string(detail)
	if record.At.IsZero() {
		record.At = e.opts.Clock.Now()
	}
	if err := cs.DeleteIncident(ctx, id, record); err != nil {
		return nil, fmt.Errorf("delete incident %s: %w", id, err)
	}
	delete(e.reminded, id)
	delete(e.news, id)
	e.opts.Logger.Info("incident deleted", "component", "incident", "incident", id, "actor", record.Actor)
	e.opts.Changed(maps.Clone(e.statuses))
	return in, nil
}
