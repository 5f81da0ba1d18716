package adminapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// incidentJSON is an incident as the admin API shows it: everything,
// internal notes included, times in UTC.
type incidentJSON struct {
	ID           string                    `json:"id"`
	Name         string                    `json:"name"`
	Status       upstate.IncidentStatus    `json:"status"`
	Impact       upstate.Impact            `json:"impact"`
	Automatic    bool                      `json:"automatic"`
	Components   []string                  `json:"components"`
	Overrides    map[string]upstate.Status `json:"component_statuses"`
	CreatedAt    time.Time                 `json:"created_at"`
	UpdatedAt    time.Time                 `json:"updated_at"`
	StartedAt    time.Time                 `json:"started_at"`
	DetectedAt   time.Time                 `json:"detected_at"`
	MonitoringAt *time.Time                `json:"monitoring_at"`
	ResolvedAt   *time.Time                `json:"resolved_at"`
	Reach        reachJSON                 `json:"reach"`
	Upstream     *upstreamJSON             `json:"upstream"`
	AckedAt      *time.Time                `json:"acknowledged_at"`
	AckedBy      string                    `json:"acknowledged_by,omitempty"`
	MergedInto   string                    `json:"merged_into,omitempty"`
	Hidden       *hiddenJSON               `json:"hidden"`
	Updates      []updateJSON              `json:"updates"`
}

// hiddenJSON says who hid an incident from the public, when and why.
type hiddenJSON struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// upstreamJSON links an incident to a third party's.
type upstreamJSON struct {
	Provider string `json:"provider"`
	Title    string `json:"title"`
	URL      string `json:"url"`
}

type updateJSON struct {
	ID       string                 `json:"id"`
	At       time.Time              `json:"at"`
	Status   upstate.IncidentStatus `json:"status"`
	Body     string                 `json:"body"`
	Public   bool                   `json:"public"`
	Actor    string                 `json:"actor"`
	Affected []affectedJSON         `json:"affected_components"`
	// Kind is update, note, automatic, evidence or provider; evidence is
	// never published.
	Kind     upstate.EntryKind `json:"kind"`
	EditedAt *time.Time        `json:"edited_at"`
	EditedBy string            `json:"edited_by,omitempty"`
	// WrittenAt is when an entry told of the past was written (at is
	// when it happened); null for one written as it happened.
	WrittenAt *time.Time `json:"written_at"`
	// Until is when what a span tells of ended (at to until); null for a
	// moment.
	Until *time.Time `json:"until"`
}

type affectedJSON struct {
	Component string         `json:"component"`
	OldStatus upstate.Status `json:"old_status"`
	NewStatus upstate.Status `json:"new_status"`
}

func toJSON(in *upstate.Incident) incidentJSON {
	out := incidentJSON{ID: in.ID, Name: in.Name, Status: in.Status, Impact: in.Impact, Automatic: in.Auto, Components: in.Components,
		Overrides: in.Overrides, CreatedAt: in.CreatedAt.UTC(), UpdatedAt: in.UpdatedAt.UTC(), StartedAt: in.StartedAt.UTC(),
		DetectedAt: in.DetectedAt.UTC(), MonitoringAt: in.MonitoringAt, ResolvedAt: in.ResolvedAt, Updates: []updateJSON{},
		Reach:   reachOf(in.Reach),
		AckedAt: in.AcknowledgedAt, AckedBy: in.AcknowledgedBy, MergedInto: in.MergedInto}
	if u := in.Upstream; u != nil {
		out.Upstream = &upstreamJSON{u.Provider, u.Title, u.URL}
	}
	if h := in.Hidden; h != nil {
		out.Hidden = &hiddenJSON{Reason: h.Reason, By: h.By, At: h.At.UTC()}
	}
	if out.Components == nil {
		out.Components = []string{}
	}
	if out.Overrides == nil {
		out.Overrides = map[string]upstate.Status{}
	}
	for i := len(in.Updates) - 1; i >= 0; i-- { // newest first, as Statuspage does
		u := in.Updates[i]
		aff := []affectedJSON{}
		for _, a := range u.Affected {
			aff = append(aff, affectedJSON{a.ComponentID, a.OldStatus, a.NewStatus})
		}
		up := updateJSON{ID: u.ID, At: u.At.UTC(), Status: u.Status, Body: u.Body, Public: u.Public, Actor: u.Actor, Affected: aff,
			Kind: u.Kind, EditedAt: u.EditedAt, EditedBy: u.EditedBy}
		if !u.WrittenAt.IsZero() {
			w := u.WrittenAt.UTC()
			up.WrittenAt = &w
		}
		if u.Until != nil {
			e := u.Until.UTC()
			up.Until = &e
		}
		out.Updates = append(out.Updates, up)
	}
	return out
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	f := upstate.IncidentFilter{Limit: 100, OpenOnly: r.URL.Query().Get("open") == "true"}
	ins, err := s.opts.Reads.ListIncidents(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]incidentJSON, 0, len(ins))
	for _, in := range ins {
		out = append(out, toJSON(in))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"incidents": out})
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	in, err := s.opts.Reads.GetIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"incident": toJSON(in)})
}

// changeBody is what declare and update accept.
type changeBody struct {
	Name       string                    `json:"name"`
	Status     upstate.IncidentStatus    `json:"status"`
	Impact     upstate.Impact            `json:"impact"`
	Message    string                    `json:"message"`
	Public     *bool                     `json:"public"`
	Components map[string]upstate.Status `json:"components"`
	Reach      *reachJSON                `json:"reach"`
	Upstream   *upstreamJSON             `json:"upstream"`
	// At is when it happened (RFC 3339; default now); StartedAt and
	// DetectedAt are a declare's. Until, when given, makes the entry a
	// span: at to until.
	At         string `json:"at"`
	StartedAt  string `json:"started_at"`
	DetectedAt string `json:"detected_at"`
	Until      string `json:"until"`
}

// timeField is a time as sent, its field's name, and where it goes once
// parsed.
type timeField struct {
	name, s string
	t       *time.Time
}

// parseTimes reads RFC 3339 times, naming every field that is not one;
// an empty one stays zero.
func parseTimes(fs ...timeField) error {
	var probs []string
	for _, f := range fs {
		if f.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.s)
		if err != nil || len(f.s) > 40 {
			probs = append(probs, fmt.Sprintf("%s: %.40q is not an RFC 3339 time (e.g. 2026-08-17T07:54:00-07:00)", f.name, f.s))
			continue
		}
		*f.t = t.UTC()
	}
	if len(probs) > 0 {
		return upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	return nil
}

func (b changeBody) change(p upstate.Principal) (incident.Change, error) {
	c := incident.Change{Name: b.Name, Status: b.Status, Impact: b.Impact, Message: b.Message, Public: b.Public, Set: b.Components, Actor: p.Actor()}
	if err := parseTimes(timeField{"at", b.At, &c.At}, timeField{"started_at", b.StartedAt, &c.StartedAt}, timeField{"detected_at", b.DetectedAt, &c.DetectedAt},
		timeField{"until", b.Until, &c.Until}); err != nil {
		return c, err
	}
	if b.Reach != nil {
		c.Reach = b.Reach.reach()
	}
	if b.Upstream != nil {
		c.Upstream = &upstate.Upstream{Provider: b.Upstream.Provider, Title: b.Upstream.Title, URL: b.Upstream.URL}
	}
	return c, nil
}

// respondIncident answers with the incident as stored, timeline included.
func (s *Server) respondIncident(w http.ResponseWriter, r *http.Request, code int, id string) {
	in, err := s.opts.Reads.GetIncident(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, code, map[string]any{"incident": toJSON(in)})
}

func (s *Server) declare(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b changeBody
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	respond.Describe(r, "tried to declare incident '%s'", b.Name)
	c, err := b.change(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := s.opts.Incidents.Declare(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "declared incident '%s' (%s)", in.Name, in.ID)
	respond.AuditTarget(r, in.ID)
	w.Header().Set("Location", "/api/v1/incidents/"+in.ID)
	s.respondIncident(w, r, http.StatusCreated, in.ID)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b changeBody
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	respond.Describe(r, "tried to update incident %s", r.PathValue("id"))
	c, err := b.change(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := s.opts.Incidents.Update(r.Context(), r.PathValue("id"), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "updated incident '%s' (%s): %s", in.Name, in.ID, in.Status)
	s.respondIncident(w, r, http.StatusOK, in.ID)
}

type messageBody struct {
	Message string `json:"message"`
	At      string `json:"at"`
	// Until is a resolution's: the end of the span its entry tells of.
	Until string `json:"until"`
}

// decodeMessage reads an optional {"message": ..., "at": ..., "until":
// ...} body.
func decodeMessage(w http.ResponseWriter, r *http.Request) (msg string, at, until time.Time, err error) {
	var b messageBody
	if r.ContentLength == 0 {
		return "", at, until, nil
	}
	if err := respond.Decode(w, r, &b); err != nil {
		return "", at, until, err
	}
	err = parseTimes(timeField{"at", b.At, &at}, timeField{"until", b.Until, &until})
	return b.Message, at, until, err
}

// decodeAt reads an optional {"at": ...} body.
func decodeAt(w http.ResponseWriter, r *http.Request) (time.Time, error) {
	var b struct {
		At string `json:"at"`
	}
	if r.ContentLength == 0 {
		return time.Time{}, nil
	}
	if err := respond.Decode(w, r, &b); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := parseTimes(timeField{"at", b.At, &at})
	return at, err
}

func (s *Server) resolve(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	msg, at, until, err := decodeMessage(w, r)
	if err != nil {
		respond.Error(w, err)
		return
	}
	respond.Describe(r, "tried to resolve incident %s", r.PathValue("id"))
	in, err := s.opts.Incidents.Update(r.Context(), r.PathValue("id"), incident.Change{Status: upstate.Resolved, Message: msg, Actor: p.Actor(), At: at, Until: until})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "resolved incident '%s' (%s)", in.Name, in.ID)
	s.respondIncident(w, r, http.StatusOK, in.ID)
}

func (s *Server) reopen(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	msg, at, until, err := decodeMessage(w, r)
	if err == nil && !until.IsZero() {
		err = upstate.Errorf(upstate.EINVALID, "until: a reopening is a moment, not a span: give until on an update")
	}
	if err != nil {
		respond.Error(w, err)
		return
	}
	respond.Describe(r, "tried to reopen incident %s", r.PathValue("id"))
	in, err := s.opts.Incidents.Reopen(r.Context(), r.PathValue("id"), incident.Change{Message: msg, Actor: p.Actor(), At: at})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "reopened incident '%s' (%s)", in.Name, in.ID)
	s.respondIncident(w, r, http.StatusOK, in.ID)
}

func (s *Server) acknowledge(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	at, err := decodeAt(w, r)
	if err != nil {
		respond.Error(w, err)
		return
	}
	in, err := s.opts.Incidents.AcknowledgeAt(r.Context(), r.PathValue("id"), p.Actor(), at)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.respondIncident(w, r, http.StatusOK, in.ID)
}

// publish makes an automatic entry held internal public, in the caller's name.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	respond.Describe(r, "tried to publish entry %s of incident %s", r.PathValue("entry"), r.PathValue("id"))
	in, err := s.opts.Incidents.Publish(r.Context(), r.PathValue("id"), r.PathValue("entry"), p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "published entry %s of incident '%s' (%s)", r.PathValue("entry"), in.Name, in.ID)
	s.respondIncident(w, r, http.StatusOK, in.ID)
}

func (s *Server) merge(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b struct {
		Incidents []string `json:"incidents"`
	}
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	in, err := s.opts.Incidents.Merge(r.Context(), r.PathValue("id"), b.Incidents, p.Actor())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.respondIncident(w, r, http.StatusOK, in.ID)
}
