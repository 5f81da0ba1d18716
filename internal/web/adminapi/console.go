package adminapi

import (
	"context"
	"encoding/json"
	"math"
	"net/http"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Console manages the checks and components made in the console (the
// app's Console): their keys are YAML's, as JSON, validated as the file is.
type Console interface {
	// Definitions lists limit of them (0 for all) from offset, and how
	// many there are.
	Definitions(ctx context.Context, kind upstate.ConsoleKind, offset, limit int) ([]upstate.Definition, int, error)
	Definition(ctx context.Context, kind upstate.ConsoleKind, id string) (upstate.Definition, error)
	Create(ctx context.Context, kind upstate.ConsoleKind, keys []byte, actor string) (upstate.Definition, error)
	Update(ctx context.Context, kind upstate.ConsoleKind, id string, patch []byte, actor string) (upstate.Definition, error)
	Delete(ctx context.Context, kind upstate.ConsoleKind, id, actor string) error
	Pause(ctx context.Context, id string, paused bool, actor string) (upstate.Definition, error)
}

// definitionJSON is a check's or component's definition as the API shows
// it: where it is defined, and its keys (secrets written as literals
// shown as "<secret>").
type definitionJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Kind        string `json:"kind,omitempty"`
	Provisioned bool   `json:"provisioned"`
	File        string `json:"file,omitempty"`
	Paused      *bool  `json:"paused,omitempty"`
	ShadowedBy  string `json:"shadowed_by,omitempty"`
	Problem     string `json:"problem,omitempty"`
	// Keys are shown to those who may change checks (checks:write) only:
	// a check's keys say where it goes and how it signs in.
	Keys map[string]any `json:"keys,omitempty"`
}

func definitionOut(d upstate.Definition) definitionJSON {
	out := definitionJSON{ID: d.ID, Provisioned: d.Provisioned, File: d.File, ShadowedBy: d.ShadowedBy, Problem: d.Problem, Keys: d.Keys}
	out.Name, _ = d.Keys["name"].(string)
	if out.Name == "" {
		out.Name = d.ID
	}
	if d.Kind == upstate.ConsoleCheck {
		out.Kind, _ = d.Keys["kind"].(string)
		paused := d.Paused
		out.Paused = &paused
	}
	if out.Keys == nil {
		out.Keys = map[string]any{}
	}
	return out
}

// console is the Console, or EUNAVAILABLE when the server has none.
func (s *Server) console(w http.ResponseWriter) (Console, bool) {
	if s.opts.Console == nil {
		respond.Error(w, upstate.Errorf(upstate.EUNAVAILABLE, "this server does not manage checks and components from the console"))
		return nil, false
	}
	return s.opts.Console, true
}

// body reads a JSON object's keys, bounded as every body is.
func body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var raw json.RawMessage
	if err := respond.Decode(w, r, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// checksPageMax is the most checks one page of GET /api/v1/checks holds.
const checksPageMax = 5000

// listChecks answers every check, or with limit= (and offset=) a page of
// them: total says how many there are, next_offset where the next page
// starts while one follows. A file of 100,000 checks answers a page at
// the cost of a page.
func (s *Server) listChecks(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	c, ok := s.console(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	given := func(name string, lo, hi int) (int, error) {
		if !q.Has(name) {
			return 0, nil
		}
		return count(name, q.Get(name), lo, hi)
	}
	limit, err := given("limit", 1, checksPageMax)
	if err != nil {
		respond.Error(w, err)
		return
	}
	offset, err := given("offset", 0, math.MaxInt32)
	if err != nil {
		respond.Error(w, err)
		return
	}
	if q.Has("offset") && !q.Has("limit") {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "offset: pages the checks, so it goes with limit=N (at most %d)", checksPageMax))
		return
	}
	ds, total, err := c.Definitions(r.Context(), upstate.ConsoleCheck, offset, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	js := make([]definitionJSON, 0, len(ds))
	for _, d := range ds {
		out := definitionOut(d)
		if !p.Can(upstate.ScopeChecks) {
			out.Keys = nil
		}
		js = append(js, out)
	}
	out := map[string]any{"checks": js, "total": total}
	if limit > 0 && offset+len(ds) < total {
		out["next_offset"] = offset + len(ds)
	}
	respond.JSON(w, http.StatusOK, out)
}

// create makes a check or component from the body's keys.
func (s *Server) create(kind upstate.ConsoleKind, path string) handler {
	return func(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
		c, ok := s.console(w)
		if !ok {
			return
		}
		b, err := body(w, r)
		if err != nil {
			respond.Error(w, err)
			return
		}
		d, err := c.Create(r.Context(), kind, b, p.Actor())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		respond.Describe(r, "created %s %s in the console", kind, d.ID)
		respond.AuditTarget(r, d.ID)
		w.Header().Set("Location", path+d.ID)
		respond.JSON(w, http.StatusCreated, map[string]any{string(kind): definitionOut(d)})
	}
}

func (s *Server) patchCheck(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	c, ok := s.console(w)
	if !ok {
		return
	}
	b, err := body(w, r)
	if err != nil {
		respond.Error(w, err)
		return
	}
	d, err := c.Update(r.Context(), upstate.ConsoleCheck, r.PathValue("id"), b, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"check": definitionOut(d)})
}

// remove deletes a console item and answers 204.
func (s *Server) remove(kind upstate.ConsoleKind) handler {
	return func(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
		c, ok := s.console(w)
		if !ok {
			return
		}
		s.onID(w, r, func(ctx context.Context, id string) error { return c.Delete(ctx, kind, id, p.Actor()) })
	}
}

// pause pauses or resumes a check made in the console.
func (s *Server) pause(paused bool) handler {
	return func(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
		c, ok := s.console(w)
		if !ok {
			return
		}
		d, err := c.Pause(r.Context(), r.PathValue("id"), paused, p.Actor())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		respond.JSON(w, http.StatusOK, map[string]any{"check": definitionOut(d)})
	}
}
