package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// done sends the browser back to a page with a notice, after a change
// (post/redirect/get, so reloading does not repeat it).
func done(w http.ResponseWriter, r *http.Request, path, notice string) {
	http.Redirect(w, r, path+"?done="+url.QueryEscape(notice), http.StatusSeeOther)
}

// finish ends a form post to /admin/<name>. Success goes back to the page
// with notice; input at fault shows the page again, as fill sets it up with
// the form as typed, saying what was wrong; anything else is the error page.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, name string, err error, notice string, fill func() (view, error)) {
	if err == nil {
		done(w, r, "/admin/"+name, notice)
		return
	}
	if code := upstate.ErrorCode(err); code != upstate.EINVALID && code != upstate.EUNAVAILABLE {
		s.fail(w, r, err)
		return
	}
	// Input at fault, or a database not taking writes now: the page again,
	// with the form as typed and what was wrong.
	v, verr := fill()
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	v.Error = upstate.ErrorMessage(err)
	respond.SetRetryAfter(w, err)
	s.render(w, respond.HTTPStatus(err), name, v)
}

// onID is a button that acts on the {id} in its path and goes back to
// /admin/<name> with notice.
func (s *Server) onID(name, notice string, act func(ctx context.Context, id string) error) page {
	return func(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
		if err := act(r.Context(), r.PathValue("id")); err != nil {
			s.fail(w, r, err)
			return
		}
		done(w, r, "/admin/"+name, notice)
	}
}

func (s *Server) acknowledge(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	at, err := s.localTime("at", strings.TrimSpace(r.PostFormValue("at")))
	if err != nil {
		s.fail(w, r, s.inWords(err, incidentLabels(nil, "Message")))
		return
	}
	in, err := s.opts.Incidents.AcknowledgeAt(r.Context(), id, p.Actor(), at)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := "Acknowledged"
	if in.AcknowledgedBy != p.Actor() {
		notice = "Already acknowledged by " + in.AcknowledgedBy
	}
	done(w, r, "/admin/incidents/"+id, notice)
}

// publish makes an automatic entry held internal public, in the person's name.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	if _, err := s.opts.Incidents.Publish(r.Context(), id, r.PathValue("entry"), p.Actor()); err != nil {
		s.fail(w, r, err)
		return
	}
	done(w, r, "/admin/incidents/"+id, "Published")
}

func (s *Server) merge(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The form could not be read: "+err.Error())
		return
	}
	from := r.PostForm["incident"]
	respond.AuditTarget(r, from...)
	if _, err := s.opts.Incidents.Merge(r.Context(), id, from, p.Actor()); err != nil {
		s.fail(w, r, err)
		return
	}
	done(w, r, "/admin/incidents/"+id, "Merged")
}

// holdStatus sets a component's status outside incidents, from the
// components table on the incident list.
func (s *Server) holdStatus(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	st := upstate.Status(r.PostFormValue("status"))
	c, err := s.opts.Incidents.HoldStatus(r.Context(), r.PathValue("id"), st, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done(w, r, "/admin/", c.Name+" is now "+strings.ToLower(c.Status.Label()))
}

// maintRow is a maintenance as its page lists it.
type maintRow struct {
	upstate.Maintenance
	Status upstate.IncidentStatus
}

// maintForm is the planning form as typed: times are the page's local
// time, as <input type=datetime-local> sends them.
type maintForm struct {
	Name, Message, From, Until string
	Components                 map[string]bool
}

const localInput = "2006-01-02T15:04"

func (s *Server) maintenanceView(r *http.Request, p upstate.Principal) (view, error) {
	v := s.base(p, "Maintenance")
	now := s.opts.Now()
	for _, m := range s.opts.Incidents.Maintenances() {
		v.Maint = append(v.Maint, maintRow{Maintenance: m, Status: m.StatusAt(now)})
	}
	var err error
	v.Components, err = s.components(r.Context(), nil)
	return v, err
}

func (s *Server) maintenances(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	v, err := s.maintenanceView(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := s.opts.Location()
	start := s.opts.Now().In(loc).Add(time.Hour).Truncate(time.Hour)
	v.MaintForm = maintForm{From: start.Format(localInput), Until: start.Add(time.Hour).Format(localInput)}
	v.Notice = r.URL.Query().Get("done")
	s.render(w, http.StatusOK, "maintenances", v)
}

func (s *Server) schedule(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	f := maintForm{Name: r.PostFormValue("name"), Message: r.PostFormValue("message"), From: r.PostFormValue("from"), Until: r.PostFormValue("until"),
		Components: map[string]bool{}}
	for _, id := range r.PostForm["component"] {
		f.Components[id] = true
	}
	loc := s.opts.Location()
	var probs []string
	from, ferr := time.ParseInLocation(localInput, f.From, loc)
	if ferr != nil {
		probs = append(probs, "Starts: give a date and time")
	}
	until, uerr := time.ParseInLocation(localInput, f.Until, loc)
	if uerr != nil {
		probs = append(probs, "Ends: give a date and time")
	}
	var err error
	if len(probs) > 0 {
		err = upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	} else {
		win := incident.Window{Name: f.Name, Message: f.Message, From: from, Until: until, Actor: p.Actor(), Components: r.PostForm["component"]}
		_, err = s.opts.Incidents.ScheduleMaintenance(r.Context(), win)
		err = relabel(err, maintLabels())
	}
	s.finish(w, r, "maintenances", err, "Maintenance planned", func() (view, error) {
		v, err := s.maintenanceView(r, p)
		v.MaintForm = f
		return v, err
	})
}

func (s *Server) notificationsView(r *http.Request, p upstate.Principal) (view, error) {
	v := s.base(p, "Notifications")
	var err error
	v.Schedules = s.opts.OnCall.OnCallNow(r.Context())
	if v.Channels, v.Failed, err = s.opts.Outbox.Channels(r.Context()); err != nil {
		return v, err
	}
	if v.Silences, err = s.opts.Silences.List(r.Context()); err != nil {
		return v, err
	}
	v.SilenceForm.For = "2h"
	if v.Overrides, err = s.opts.OnCall.Overrides(r.Context()); err != nil {
		return v, err
	}
	if len(v.Schedules) > 0 {
		// Default: from now to tomorrow 09:00 in the first schedule's zone.
		loc, _ := time.LoadLocation(v.Schedules[0].Zone)
		if loc == nil {
			loc = time.UTC
		}
		now := s.opts.Now().In(loc)
		y, m, d := now.Date()
		v.OverrideForm.From = now.Format(localInput)
		v.OverrideForm.Until = time.Date(y, m, d+1, 9, 0, 0, 0, loc).Format(localInput)
	}
	return v, nil
}

// addOverride puts someone on call: "I'll take tonight". Times are local
// to the chosen schedule.
func (s *Server) addOverride(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	sched, person := r.PostFormValue("schedule"), r.PostFormValue("person")
	fromText, untilText := r.PostFormValue("from"), r.PostFormValue("until")
	loc := time.UTC
	for _, sv := range s.opts.OnCall.OnCallNow(r.Context()) {
		if sv.ID == sched {
			if l, err := time.LoadLocation(sv.Zone); err == nil {
				loc = l
			}
		}
	}
	from, ferr := time.ParseInLocation(localInput, fromText, loc)
	until, uerr := time.ParseInLocation(localInput, untilText, loc)
	var err error
	switch {
	case ferr != nil || uerr != nil:
		err = upstate.Errorf(upstate.EINVALID, "from and until must be a date and a time")
	default:
		_, err = s.opts.OnCall.AddOverride(r.Context(), sched, person, from, until, p.Actor())
	}
	err = relabel(err, overrideLabels())
	s.finish(w, r, "notifications", err, "On call from "+fromText+" to "+untilText, func() (view, error) {
		v, err := s.notificationsView(r, p)
		v.OverrideForm.Schedule, v.OverrideForm.Person, v.OverrideForm.From, v.OverrideForm.Until = sched, person, fromText, untilText
		return v, err
	})
}

func (s *Server) notifications(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	v, err := s.notificationsView(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice = r.URL.Query().Get("done")
	v.Error = r.URL.Query().Get("problem")
	s.render(w, http.StatusOK, "notifications", v)
}

// silence mutes notifications for a while: matchers one a line.
func (s *Server) silence(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	form := r.PostFormValue("matchers")
	var matchers []string
	for _, line := range strings.Split(form, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			matchers = append(matchers, line)
		}
	}
	forText, comment := strings.TrimSpace(r.PostFormValue("for")), r.PostFormValue("comment")
	d, derr := time.ParseDuration(forText)
	var err error
	if derr != nil || d <= 0 {
		err = upstate.Errorf(upstate.EINVALID, "for: %q is not a length of time (e.g. 2h, 30m)", forText)
	} else {
		_, err = s.opts.Silences.Add(r.Context(), matchers, time.Time{}, s.opts.Now().Add(d), comment, p.Actor())
	}
	err = relabel(err, silenceLabels())
	s.finish(w, r, "notifications", err, "Silenced for "+forText, func() (view, error) {
		v, err := s.notificationsView(r, p)
		v.SilenceForm.Matchers, v.SilenceForm.For, v.SilenceForm.Comment = form, forText, comment
		return v, err
	})
}

// testChannel sends a sample and comes back saying what the receiver
// answered.
func (s *Server) testChannel(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	id := r.PathValue("id")
	err := s.opts.Outbox.Test(r.Context(), id)
	switch {
	case err == nil:
		done(w, r, "/admin/notifications", "Test sent to "+id)
	case upstate.ErrorCode(err) == upstate.EINVALID:
		http.Redirect(w, r, "/admin/notifications?problem="+url.QueryEscape(upstate.ErrorMessage(err)), http.StatusSeeOther)
	default:
		s.fail(w, r, err)
	}
}

// ackPage shows what a page's acknowledgement link would do; acknowledging
// takes a POST, so link previews in chat apps cannot do it by fetching.
func (s *Server) ackPage(w http.ResponseWriter, r *http.Request) {
	id, p, sig := r.PathValue("id"), r.URL.Query().Get("p"), r.URL.Query().Get("s")
	in, name, err := s.opts.Acks.AckLinkTarget(r.Context(), id, p, sig)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "ack", view{Title: "Acknowledge " + in.Name, Incident: in, AckAs: name, AckP: p, AckS: sig})
}

func (s *Server) ackByLink(w http.ResponseWriter, r *http.Request) {
	id, p, sig := r.PathValue("id"), r.PostFormValue("p"), r.PostFormValue("s")
	in, name, err := s.opts.Acks.AckByLink(r.Context(), id, p, sig)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := view{Title: "Acknowledged", Incident: in, AckAs: name, AckP: p, AckS: sig}
	if in.AcknowledgedBy == name {
		v.Notice = "Acknowledged. Thank you, " + name + ": the next escalation levels will not be paged."
	}
	s.render(w, http.StatusOK, "ack", v)
}
