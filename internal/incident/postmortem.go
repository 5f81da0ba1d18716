package incident

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/store"
)

// ReviewStore is what postmortems are kept in.
type ReviewStore interface {
	GetIncident(ctx context.Context, id string) (*upstate.Incident, error)
	GetPostmortem(ctx context.Context, incidentID string) (upstate.PostmortemDoc, error)
	SavePostmortem(ctx context.Context, p upstate.PostmortemDoc, c store.Change) error
}

// Reviews writes and publishes postmortems. Postmortems belong to
// resolved incidents, which the engine no longer holds, so they need no
// part of its state.
type Reviews struct {
	Store  ReviewStore
	Clock  clock.Clock
	NewID  func() string
	Logger *slog.Logger
	// Changed is called after publishing, to rebuild the public snapshot.
	Changed func()
}

// Draft is what a person writes.
type Draft struct {
	RootCause    string
	Contributing string
	Fix          string
	Actions      []upstate.ActionItem
	Actor        string
}

// Save writes the postmortem; a published one stays published.
func (r *Reviews) Save(ctx context.Context, incidentID string, d Draft) (upstate.PostmortemDoc, error) {
	var probs []string
	for i, a := range d.Actions {
		if strings.TrimSpace(a.Text) == "" {
			probs = append(probs, fmt.Sprintf("action_items[%d].text is required", i))
		}
		switch a.State {
		case "":
			d.Actions[i].State = "open"
		case "open", "done":
		default:
			probs = append(probs, fmt.Sprintf("action_items[%d].state %q is not open or done", i, a.State))
		}
	}
	if strings.TrimSpace(d.Actor) == "" {
		probs = append(probs, "actor is required")
	}
	for _, f := range []struct{ name, v string }{{"root_cause", d.RootCause}, {"contributing_factors", d.Contributing}, {"fix_and_prevention", d.Fix}} {
		if len(f.v) > 50000 {
			probs = append(probs, f.name+" is longer than 50000 characters")
		}
	}
	if len(probs) > 0 {
		return upstate.PostmortemDoc{}, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	if _, err := r.Store.GetIncident(ctx, incidentID); err != nil {
		return upstate.PostmortemDoc{}, err
	}
	p, err := r.Store.GetPostmortem(ctx, incidentID)
	if err != nil && upstate.ErrorCode(err) != upstate.ENOTFOUND {
		return upstate.PostmortemDoc{}, err
	}
	if err != nil {
		p = upstate.PostmortemDoc{IncidentID: incidentID, Status: upstate.PostmortemDraft}
	}
	p.RootCause, p.Contributing, p.Fix = strings.TrimSpace(d.RootCause), strings.TrimSpace(d.Contributing), strings.TrimSpace(d.Fix)
	p.RootCauseHTML, p.ContributingHTML, p.FixHTML = "", "", "" // of the words before: the store renders these
	p.Actions, p.Author, p.UpdatedAt = d.Actions, d.Actor, r.Clock.Now()
	if err := r.Store.SavePostmortem(ctx, p, store.Change{}); err != nil {
		return upstate.PostmortemDoc{}, err
	}
	return p, nil
}

// Publish makes the postmortem public, now: the incident's status becomes
// postmortem and its timeline gets the root cause and the fix.
func (r *Reviews) Publish(ctx context.Context, incidentID, actor string) (upstate.PostmortemDoc, error) {
	return r.PublishAt(ctx, incidentID, actor, time.Time{})
}

// PublishAt is Publish at the time a person gives (zero: now): never in
// the future, never before the incident's resolution or its last entry.
func (r *Reviews) PublishAt(ctx context.Context, incidentID, actor string, at time.Time) (upstate.PostmortemDoc, error) {
	in, err := r.Store.GetIncident(ctx, incidentID)
	if err != nil {
		return upstate.PostmortemDoc{}, err
	}
	if in.Open() {
		return upstate.PostmortemDoc{}, upstate.Errorf(upstate.ECONFLICT, "incident %s is %s: resolve it before publishing its postmortem", in.ID, in.Status)
	}
	p, err := r.Store.GetPostmortem(ctx, incidentID)
	if err != nil {
		return upstate.PostmortemDoc{}, err
	}
	if p.RootCause == "" || p.Fix == "" {
		return upstate.PostmortemDoc{}, upstate.Errorf(upstate.EINVALID, "write the root cause and the fix and prevention before publishing")
	}
	now := r.Clock.Now()
	if at, err = stamp("at", at, now); err != nil {
		return upstate.PostmortemDoc{}, err
	}
	if !at.Equal(now) {
		switch n := len(in.Updates); {
		case in.ResolvedAt != nil && at.Before(*in.ResolvedAt):
			return upstate.PostmortemDoc{}, upstate.Errorf(upstate.EINVALID, "at: %s is before the incident was resolved (%s)", rfc(at), rfc(*in.ResolvedAt))
		case n > 0 && at.Before(in.Updates[n-1].At):
			return upstate.PostmortemDoc{}, upstate.Errorf(upstate.EINVALID, "at: %s is before the incident's last entry (%s): entries are kept in the order they happened", rfc(at), rfc(in.Updates[n-1].At))
		}
	}
	p.Status, p.PublishedAt, p.UpdatedAt, p.Author = upstate.PostmortemPublished, &at, now, actor
	cp := *in
	cp.Status, cp.UpdatedAt = upstate.Postmortem, now
	body := "**Root cause:** " + p.RootCause + "\n\n**Fix and prevention:** " + p.Fix
	entry := upstate.TimelineEntry{ID: r.NewID(), IncidentID: in.ID, At: at, Status: upstate.Postmortem, Body: body, Public: true, Actor: actor, Kind: upstate.EntryUpdate}
	if !at.Equal(now) {
		entry.WrittenAt = now
	}
	if err := r.Store.SavePostmortem(ctx, p, store.Change{Incidents: []*upstate.Incident{&cp}, Entries: []upstate.TimelineEntry{entry}}); err != nil {
		return upstate.PostmortemDoc{}, err
	}
	if r.Logger != nil {
		r.Logger.Info("postmortem published", "component", "incident", "incident", in.ID, "actor", actor)
	}
	if r.Changed != nil {
		r.Changed()
	}
	return p, nil
}
