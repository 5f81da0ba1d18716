package adminapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// corrections answers 404 on the corrections' routes when nothing can
// correct incidents.
func (s *Server) corrections(w http.ResponseWriter) bool {
	if s.opts.Corrections == nil {
		respond.Error(w, upstate.Errorf(upstate.ENOTFOUND, "incidents cannot be corrected here"))
		return false
	}
	return true
}

// editEntry replaces an entry's words (PATCH .../updates/{entry}).
func (s *Server) editEntry(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	if !s.corrections(w) {
		return
	}
	var b struct {
		Body *string `json:"body"`
	}
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	if b.Body == nil {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "body is required"))
		return
	}
	id, entry := r.PathValue("id"), r.PathValue("entry")
	respond.Describe(r, "tried to edit entry %s of incident %s", entry, id)
	in, err := s.opts.Corrections.Edit(r.Context(), id, entry, *b.Body, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "edited an entry of incident '%s' (%s)", in.Name, in.ID)
	s.respondIncident(w, r, http.StatusOK, in.ID)
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (s *Server) hide(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	if !s.corrections(w) {
		return
	}
	var b reasonBody
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	respond.Describe(r, "tried to hide incident %s", r.PathValue("id"))
	in, err := s.opts.Corrections.Hide(r.Context(), r.PathValue("id"), b.Reason, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "hid incident '%s' (%s) from the public: %s", in.Name, in.ID, in.Hidden.Reason)
	s.respondIncident(w, r, http.StatusOK, in.ID)
}

func (s *Server) unhide(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	if !s.corrections(w) {
		return
	}
	respond.Describe(r, "tried to show incident %s again", r.PathValue("id"))
	in, err := s.opts.Corrections.Unhide(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "showed incident '%s' (%s) on the public side again", in.Name, in.ID)
	s.respondIncident(w, r, http.StatusOK, in.ID)
}

// deleteIncident removes an incident entered by mistake: owners only
// (ScopeAdmin), with a reason; the audit entry is written with the
// removal, in its transaction.
func (s *Server) deleteIncident(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	if !s.corrections(w) {
		return
	}
	var b reasonBody
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	respond.Describe(r, "tried to delete incident %s", r.PathValue("id"))
	if _, err := s.opts.Corrections.Delete(r.Context(), r.PathValue("id"), b.Reason, s.audit.Entry(r, &p, http.StatusNoContent)); err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Recorded(r)
	w.WriteHeader(http.StatusNoContent)
}

type auditJSON struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	ActorKind string    `json:"actor_kind"`
	ActorID   string    `json:"actor_id,omitempty"`
	TokenID   string    `json:"token_id,omitempty"`
	Action    string    `json:"action"`
	Route     string    `json:"route"`
	Targets   []string  `json:"targets"`
	Status    int       `json:"status"`
	Addr      string    `json:"addr"`
	UserAgent string    `json:"user_agent"`
	Detail    string    `json:"detail,omitempty"`
}

// ReadAuditFilter reads the audit log's filters from a query: actor,
// action, target, from and to (RFC 3339), before (an id) and limit.
func ReadAuditFilter(q map[string][]string) (upstate.AuditFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f := upstate.AuditFilter{Actor: get("actor"), Action: get("action"), Target: get("target")}
	for _, t := range []struct {
		key string
		to  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := get(t.key); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, upstate.Errorf(upstate.EINVALID, "%s: %q is not an RFC 3339 time (e.g. 2026-12-01T14:05:00Z)", t.key, v)
			}
			*t.to = at
		}
	}
	if v := get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, upstate.Errorf(upstate.EINVALID, "before: %q is not an entry id", v)
		}
		f.Before = n
	}
	if v := get("limit"); v != "" {
		n, err := count("limit", v, 1, 1000)
		if err != nil {
			return f, err
		}
		f.Limit = n
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	return f, nil
}

// listAudit answers the audit log, newest first, a page at a time: next
// is the before= of the page after, absent on the last.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	if s.opts.Audit == nil {
		respond.Error(w, upstate.Errorf(upstate.ENOTFOUND, "no audit log is kept here"))
		return
	}
	f, err := ReadAuditFilter(r.URL.Query())
	if err != nil {
		respond.Error(w, err)
		return
	}
	want := f.Limit
	f.Limit++ // one more tells whether there is a next page
	es, err := s.opts.Audit.ListAudit(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{}
	if len(es) > want {
		es = es[:want]
		out["next"] = strconv.FormatInt(es[want-1].ID, 10)
	}
	js := make([]auditJSON, 0, len(es))
	for _, e := range es {
		targets := e.Targets
		if targets == nil {
			targets = []string{}
		}
		js = append(js, auditJSON{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, ActorKind: e.ActorKind, ActorID: e.ActorID, TokenID: e.TokenID, Action: e.Action,
			Route: e.Route, Targets: targets, Status: e.Status, Addr: e.Addr, UserAgent: e.UserAgent, Detail: e.Detail})
	}
	out["entries"] = js
	respond.JSON(w, http.StatusOK, out)
}
