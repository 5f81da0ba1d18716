package adminapi

import (
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// componentJSON is a component as the admin API shows it.
type componentJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Group       string         `json:"group"`
	Description string         `json:"description"`
	Status      upstate.Status `json:"status"`
	UpdatedAt   time.Time      `json:"updated_at"`
	Hold        *holdJSON      `json:"held_status"`
}

// holdJSON is a status a person set outside any incident.
type holdJSON struct {
	Status upstate.Status `json:"status"`
	By     string         `json:"set_by"`
	At     time.Time      `json:"set_at"`
}

func componentOut(c upstate.ComponentState) componentJSON {
	out := componentJSON{ID: c.ID, Name: c.Name, Group: c.Group, Description: c.Description, Status: c.Status, UpdatedAt: c.UpdatedAt.UTC()}
	if c.Hold.Status != "" {
		out.Hold = &holdJSON{c.Hold.Status, c.Hold.By, c.Hold.At.UTC()}
	}
	return out
}

func (s *Server) listComponents(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	cs, err := s.opts.Reads.ListComponents(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]componentJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, componentOut(c))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"components": out})
}

// holdStatus sets a component's status outside any incident;
// "operational" clears what a person set.
func (s *Server) holdStatus(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b struct {
		Status upstate.Status `json:"status"`
	}
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	if b.Status == "" {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "status is required"))
		return
	}
	c, err := s.opts.Components.HoldStatus(r.Context(), r.PathValue("id"), b.Status, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"component": componentOut(c)})
}
