package adminapi

import (
	"context"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Maintenances plans and cancels maintenance windows (the incident engine).
type Maintenances interface {
	ScheduleMaintenance(ctx context.Context, w incident.Window) (upstate.Maintenance, error)
	CancelMaintenance(ctx context.Context, id string) error
	Maintenances() []upstate.Maintenance
}

type maintenanceJSON struct {
	ID             string                 `json:"id"`
	Name           string                 `json:"name"`
	Message        string                 `json:"message"`
	Status         upstate.IncidentStatus `json:"status"`
	ScheduledFor   time.Time              `json:"scheduled_for"`
	ScheduledUntil time.Time              `json:"scheduled_until"`
	Components     []string               `json:"components"`
	Author         string                 `json:"author"`
	CreatedAt      time.Time              `json:"created_at"`
}

func maintenanceOut(m upstate.Maintenance, now time.Time) maintenanceJSON {
	return maintenanceJSON{ID: m.ID, Name: m.Name, Message: m.Message, Status: m.StatusAt(now), ScheduledFor: m.ScheduledFor.UTC(),
		ScheduledUntil: m.ScheduledUntil.UTC(), Components: m.Components, Author: m.Author, CreatedAt: m.CreatedAt.UTC()}
}

func (s *Server) listMaintenances(w http.ResponseWriter, _ *http.Request, _ upstate.Principal) {
	now := s.opts.Now()
	out := []maintenanceJSON{}
	for _, m := range s.opts.Maintenances.Maintenances() {
		out = append(out, maintenanceOut(m, now))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"maintenances": out})
}

func (s *Server) scheduleMaintenance(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b struct {
		Name           string    `json:"name"`
		Message        string    `json:"message"`
		ScheduledFor   time.Time `json:"scheduled_for"`
		ScheduledUntil time.Time `json:"scheduled_until"`
		Components     []string  `json:"components"`
	}
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	m, err := s.opts.Maintenances.ScheduleMaintenance(r.Context(), incident.Window{Name: b.Name, Message: b.Message, From: b.ScheduledFor,
		Until: b.ScheduledUntil, Components: b.Components, Actor: p.Actor()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/maintenances/"+m.ID)
	respond.JSON(w, http.StatusCreated, map[string]any{"maintenance": maintenanceOut(m, s.opts.Now())})
}

func (s *Server) cancelMaintenance(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	s.onID(w, r, s.opts.Maintenances.CancelMaintenance)
}
