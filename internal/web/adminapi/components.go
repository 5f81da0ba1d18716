package adminapi

import (
	"encoding/json"
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
	// The definition, where the server manages components from the
	// console: where it is defined, and its keys.
	Provisioned *bool          `json:"provisioned,omitempty"`
	File        string         `json:"file,omitempty"`
	ShadowedBy  string         `json:"shadowed_by,omitempty"`
	Problem     string         `json:"problem,omitempty"`
	Keys        map[string]any `json:"keys,omitempty"`
}

// withDefinition adds the component's definition to what it shows.
func (c componentJSON) withDefinition(d upstate.Definition) componentJSON {
	prov := d.Provisioned
	c.Provisioned, c.File, c.ShadowedBy, c.Problem, c.Keys = &prov, d.File, d.ShadowedBy, d.Problem, d.Keys
	if c.Keys == nil {
		c.Keys = map[string]any{}
	}
	return c
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
	defs := map[string]upstate.Definition{}
	var others []upstate.Definition // console items not in force: no status
	if s.opts.Console != nil {
		ds, _, err := s.opts.Console.Definitions(r.Context(), upstate.ConsoleComponent, 0, 0)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, d := range ds {
			if d.ShadowedBy != "" || d.Problem != "" {
				others = append(others, d)
			} else {
				defs[d.ID] = d
			}
		}
	}
	out := make([]componentJSON, 0, len(cs))
	for _, c := range cs {
		j := componentOut(c)
		if d, ok := defs[c.ID]; ok {
			j = j.withDefinition(d)
		}
		out = append(out, j)
	}
	for _, d := range others {
		j := componentJSON{ID: d.ID}
		j.Name, _ = d.Keys["name"].(string)
		out = append(out, j.withDefinition(d))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"components": out})
}

// component is one component in force, with its definition when the
// server manages components from the console; ENOTFOUND for none.
func (s *Server) component(r *http.Request, id string) (componentJSON, error) {
	cs, err := s.opts.Reads.ListComponents(r.Context())
	if err != nil {
		return componentJSON{}, err
	}
	for _, c := range cs {
		if c.ID != id {
			continue
		}
		j := componentOut(c)
		if s.opts.Console != nil {
			d, err := s.opts.Console.Definition(r.Context(), upstate.ConsoleComponent, id)
			if err != nil {
				return j, err
			}
			j = j.withDefinition(d)
		}
		return j, nil
	}
	return componentJSON{}, upstate.Errorf(upstate.ENOTFOUND, "no component %q", id)
}

func (s *Server) getComponent(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	j, err := s.component(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"component": j})
}

// patchComponent holds a status ({"status": ...}: "operational" clears
// what a person set), edits the definition (its other keys: name, group,
// description, order, ...), or both, the definition first.
func (s *Server) patchComponent(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b map[string]json.RawMessage
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	rawStatus, hasStatus := b["status"]
	delete(b, "status")
	if len(b) == 0 && !hasStatus {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "status is required, or the keys to change (name, group, description, order)"))
		return
	}
	var st upstate.Status
	if hasStatus {
		if err := json.Unmarshal(rawStatus, &st); err != nil || st == "" {
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "status is required: one of operational, degraded_performance, partial_outage, major_outage, under_maintenance"))
			return
		}
	}
	id := r.PathValue("id")
	if len(b) > 0 {
		c, ok := s.console(w)
		if !ok {
			return
		}
		patch, err := json.Marshal(b)
		if err != nil {
			respond.Error(w, upstate.Errorf(upstate.EINVALID, "the keys cannot be read: %v", err))
			return
		}
		if _, err := c.Update(r.Context(), upstate.ConsoleComponent, id, patch, p.Actor()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if !hasStatus {
		j, err := s.component(r, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		respond.JSON(w, http.StatusOK, map[string]any{"component": j})
		return
	}
	c, err := s.opts.Components.HoldStatus(r.Context(), id, st, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"component": componentOut(c)})
}
