package adminapi

import (
	"context"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Reviews writes and publishes postmortems.
type Reviews interface {
	Save(ctx context.Context, incidentID string, d incident.Draft) (upstate.PostmortemDoc, error)
	Publish(ctx context.Context, incidentID, actor string) (upstate.PostmortemDoc, error)
	PublishAt(ctx context.Context, incidentID, actor string, at time.Time) (upstate.PostmortemDoc, error)
}

type postmortemJSON struct {
	IncidentID   string               `json:"incident_id"`
	Status       string               `json:"status"`
	RootCause    string               `json:"root_cause"`
	Contributing string               `json:"contributing_factors"`
	Fix          string               `json:"fix_and_prevention"`
	Actions      []upstate.ActionItem `json:"action_items"`
	Author       string               `json:"author"`
	UpdatedAt    time.Time            `json:"updated_at"`
	PublishedAt  *time.Time           `json:"published_at"`
}

func postmortemOut(p upstate.PostmortemDoc) postmortemJSON {
	out := postmortemJSON{IncidentID: p.IncidentID, Status: p.Status, RootCause: p.RootCause, Contributing: p.Contributing, Fix: p.Fix,
		Actions: p.Actions, Author: p.Author, UpdatedAt: p.UpdatedAt.UTC(), PublishedAt: p.PublishedAt}
	if out.Actions == nil {
		out.Actions = []upstate.ActionItem{}
	}
	if p.PublishedAt != nil {
		at := p.PublishedAt.UTC()
		out.PublishedAt = &at
	}
	return out
}

func (s *Server) getPostmortem(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	p, err := s.opts.Reads.GetPostmortem(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"postmortem": postmortemOut(p)})
}

func (s *Server) savePostmortem(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b struct {
		RootCause    string               `json:"root_cause"`
		Contributing string               `json:"contributing_factors"`
		Fix          string               `json:"fix_and_prevention"`
		Actions      []upstate.ActionItem `json:"action_items"`
	}
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	pm, err := s.opts.Reviews.Save(r.Context(), r.PathValue("id"), incident.Draft{RootCause: b.RootCause, Contributing: b.Contributing, Fix: b.Fix, Actions: b.Actions, Actor: p.Actor()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"postmortem": postmortemOut(pm)})
}

func (s *Server) publishPostmortem(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	at, err := decodeAt(w, r)
	if err != nil {
		respond.Error(w, err)
		return
	}
	pm, err := s.opts.Reviews.PublishAt(r.Context(), r.PathValue("id"), p.Actor(), at)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"postmortem": postmortemOut(pm)})
}
