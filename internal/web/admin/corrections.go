package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// registerCorrections adds the forms that correct incidents (edit an
// entry's words, hide, show again, delete with a confirmation page) and
// the owners' audit log.
func (s *Server) registerCorrections(mux *http.ServeMux) {
	if s.opts.Corrections != nil {
		mux.HandleFunc("POST /admin/incidents/{id}/updates/{entry}/edit", s.guard(s.authed(upstate.ScopeIncidents, s.editEntry)))
		mux.HandleFunc("POST /admin/incidents/{id}/hide", s.guard(s.authed(upstate.ScopeIncidents, s.hide)))
		mux.HandleFunc("POST /admin/incidents/{id}/unhide", s.guard(s.authed(upstate.ScopeIncidents, s.unhide)))
		mux.HandleFunc("GET /admin/incidents/{id}/delete", s.authed(upstate.ScopeAdmin, s.confirmDelete))
		mux.HandleFunc("POST /admin/incidents/{id}/delete", s.guard(s.authed(upstate.ScopeAdmin, s.deleteIncident)))
	}
	if s.opts.Audit != nil {
		mux.HandleFunc("GET /admin/audit", s.authed(upstate.ScopeAdmin, s.auditLog))
	}
}

// showIncident shows the incident page again with a problem and its
// status (a correction refused: bad input or a conflict); anything else
// is the error page.
func (s *Server) showIncident(w http.ResponseWriter, r *http.Request, p upstate.Principal, id string, err error) {
	switch upstate.ErrorCode(err) {
	case upstate.EINVALID, upstate.ECONFLICT, upstate.EUNAVAILABLE:
	default:
		s.fail(w, r, err)
		return
	}
	v, verr := s.incidentView(r.Context(), p, id)
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	v.Error = upstate.ErrorMessage(err)
	respond.SetRetryAfter(w, err)
	s.render(w, respond.HTTPStatus(err), "incident", v)
}

func (s *Server) editEntry(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id, entry := r.PathValue("id"), r.PathValue("entry")
	respond.Describe(r, "tried to edit entry %s of incident %s", entry, id)
	in, err := s.opts.Corrections.Edit(r.Context(), id, entry, r.PostFormValue("body"), p.Actor())
	if err != nil {
		s.showIncident(w, r, p, id, err)
		return
	}
	respond.Describe(r, "edited an entry of incident '%s' (%s)", in.Name, in.ID)
	done(w, r, "/admin/incidents/"+id, "Entry edited")
}

func (s *Server) hide(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	respond.Describe(r, "tried to hide incident %s", id)
	in, err := s.opts.Corrections.Hide(r.Context(), id, r.PostFormValue("reason"), p.Actor())
	if err != nil {
		s.showIncident(w, r, p, id, err)
		return
	}
	respond.Describe(r, "hid incident '%s' (%s) from the public: %s", in.Name, in.ID, in.Hidden.Reason)
	done(w, r, "/admin/incidents/"+id, "Hidden from the public side")
}

func (s *Server) unhide(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	respond.Describe(r, "tried to show incident %s again", id)
	in, err := s.opts.Corrections.Unhide(r.Context(), id)
	if err != nil {
		s.showIncident(w, r, p, id, err)
		return
	}
	respond.Describe(r, "showed incident '%s' (%s) on the public side again", in.Name, in.ID)
	done(w, r, "/admin/incidents/"+id, "Shown on the public side again")
}

// confirmDelete is the step before deleting: what will go, and why.
func (s *Server) confirmDelete(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	in, err := s.opts.Reads.GetIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.base(p, "Delete "+in.Name)
	v.Incident = in
	s.render(w, http.StatusOK, "delete", v)
}

func (s *Server) deleteIncident(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	respond.Describe(r, "tried to delete incident %s", id)
	in, err := s.opts.Corrections.Delete(r.Context(), id, r.PostFormValue("reason"), s.audit.Entry(r, &p, http.StatusSeeOther))
	if err != nil {
		if code := upstate.ErrorCode(err); code != upstate.EINVALID && code != upstate.ECONFLICT {
			s.fail(w, r, err)
			return
		}
		cur, gerr := s.opts.Reads.GetIncident(r.Context(), id)
		if gerr != nil {
			s.fail(w, r, gerr)
			return
		}
		v := s.base(p, "Delete "+cur.Name)
		v.Incident, v.Error = cur, upstate.ErrorMessage(err)
		s.render(w, respond.HTTPStatus(err), "delete", v)
		return
	}
	respond.Recorded(r)
	done(w, r, "/admin/", "Deleted incident “"+in.Name+"”: the audit log keeps its title and timeline")
}

// auditView is the audit log's page: its filters as typed, a page of
// entries, and the link to the next.
type auditView struct {
	Actor, Action, Target, From, To string
	Entries                         []upstate.AuditEntry
	Next                            string
}

const dayInput = "2006-01-02"

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	q := r.URL.Query()
	a := auditView{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), From: q.Get("from"), To: q.Get("to")}
	f := upstate.AuditFilter{Actor: a.Actor, Action: a.Action, Target: a.Target, Limit: 50}
	v := s.base(p, "Audit log")
	loc := s.opts.Location()
	var problem string
	if a.From != "" {
		if t, err := time.ParseInLocation(dayInput, a.From, loc); err == nil {
			f.From = t
		} else {
			problem = "From: " + strconv.Quote(a.From) + " is not a date (e.g. 2026-12-01)"
		}
	}
	if a.To != "" {
		if t, err := time.ParseInLocation(dayInput, a.To, loc); err == nil {
			f.To = t.AddDate(0, 0, 1) // the whole day
		} else {
			problem = "To: " + strconv.Quote(a.To) + " is not a date (e.g. 2026-12-01)"
		}
	}
	if b := q.Get("before"); b != "" {
		if n, err := strconv.ParseInt(b, 10, 64); err == nil && n > 0 {
			f.Before = n
		} else {
			problem = "That page of the audit log does not exist."
		}
	}
	if problem != "" {
		v.Audit, v.Error = a, problem
		s.render(w, http.StatusBadRequest, "audit", v)
		return
	}
	f.Limit++
	es, err := s.opts.Audit.ListAudit(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(es) > 50 {
		es = es[:50]
		next := url.Values{"actor": {a.Actor}, "action": {a.Action}, "target": {a.Target}, "from": {a.From}, "to": {a.To}, "before": {strconv.FormatInt(es[49].ID, 10)}}
		for k, vs := range next {
			if vs[0] == "" {
				next.Del(k)
			}
		}
		a.Next = "/admin/audit?" + next.Encode()
	}
	a.Entries = es
	v.Audit = a
	s.render(w, http.StatusOK, "audit", v)
}
