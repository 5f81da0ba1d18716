// Package adminapi is the authenticated admin REST API under /api/v1:
// sign-in, API tokens, and incidents (declare, update, resolve, reopen).
// Every request that changes state is authenticated — a session cookie or
// a bearer API token — and checked for the scope it needs; cookie
// requests are also checked for cross-origin forgery.
package adminapi

import (
	"context"
	_ "embed"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/cluster"
	"github.com/upstatehq/upstate/internal/importer"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/report"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Auth signs people in and identifies requests.
type Auth interface {
	Login(ctx context.Context, c auth.Credentials) (auth.SignedIn, error)
	Logout(ctx context.Context, sessionSecret string) error
	FromSession(ctx context.Context, secret string) (upstate.Principal, error)
	FromToken(ctx context.Context, secret string) (upstate.Principal, error)
	CreateToken(ctx context.Context, p upstate.Principal, name string, scopes []upstate.Scope) (string, upstate.Token, error)
	ListTokens(ctx context.Context) ([]upstate.Token, error)
	RevokeToken(ctx context.Context, id string) error
}

// Incidents changes incidents (the incident engine).
type Incidents interface {
	Declare(ctx context.Context, c incident.Change) (*upstate.Incident, error)
	Update(ctx context.Context, id string, c incident.Change) (*upstate.Incident, error)
	Reopen(ctx context.Context, id string, c incident.Change) (*upstate.Incident, error)
	Acknowledge(ctx context.Context, id, actor string) (*upstate.Incident, error)
	AcknowledgeAt(ctx context.Context, id, actor string, at time.Time) (*upstate.Incident, error)
	Merge(ctx context.Context, into string, from []string, actor string) (*upstate.Incident, error)
	Publish(ctx context.Context, incidentID, entryID, actor string) (*upstate.Incident, error)
}

// Components sets components' statuses outside incidents.
type Components interface {
	HoldStatus(ctx context.Context, component string, st upstate.Status, actor string) (upstate.ComponentState, error)
}

// Reads gives the admin side what the public snapshot leaves out:
// internal notes, every incident, and the history reports need.
type Reads interface {
	GetIncident(ctx context.Context, id string) (*upstate.Incident, error)
	ListIncidents(ctx context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error)
	ListComponents(ctx context.Context) ([]upstate.ComponentState, error)
	ListStatusChanges(ctx context.Context, from, to time.Time) ([]upstate.StatusChange, error)
	GetPostmortem(ctx context.Context, incidentID string) (upstate.PostmortemDoc, error)
	ListPostmortems(ctx context.Context, incidentIDs []string) (map[string]upstate.PostmortemDoc, error)
}

// Options configure the API.
type Options struct {
	Auth         Auth
	Incidents    Incidents
	Components   Components
	Maintenances Maintenances
	Outbox       Outbox
	OnCall       OnCall
	Silences     Silences
	Subscribers  Subscribers
	Samples      Samples
	// SLOs reports each SLO check's error budget and burn rates.
	SLOs    func(ctx context.Context) []check.SLOReport
	Reviews Reviews
	Reads   Reads
	Logger  *slog.Logger
	// Now tells the time (for maintenance statuses); default time.Now.
	Now func() time.Time
	// PageName and Location are the page's, which may change on reload.
	PageName func() string
	Location func() *time.Location
	// Markdown renders bodies in HTML reports (a *markdown.Renderer, which
	// renders a day's bodies together).
	Markdown report.Renderer
	// SecureCookies marks the session cookie Secure even on plain HTTP
	// requests (set when the page's public URL is https behind a proxy).
	SecureCookies bool

	// Baseline reports on a metric check's anomaly baseline: ENOTFOUND
	// for a check that is not one with an anomaly rule.
	Baseline func(ctx context.Context, checkID string) (check.BaselineReport, error)
	// Warnings are the checks' current warnings (incident.Warnings); nil
	// for none.
	Warnings func() []upstate.Warning
	// Audit is the audit log every change is recorded in (the store's);
	// nil records nothing and /api/v1/audit answers 404.
	Audit respond.AuditLog
	// Corrections edits entries, hides and deletes incidents (the
	// incident engine); nil answers 404 on those routes.
	Corrections Corrections
	// Console manages checks and components made in the console; nil for
	// a server that does not (its routes answer 503).
	Console Console

	// CheckInfos lists every configured check (app's checkInfos).
	CheckInfos func() []upstate.CheckInfo
	// CheckPages works out a check's page (GET /api/v1/checks/{id}); nil
	// for no such route.
	CheckPages CheckPages
	// RunCheck runs a check once now and returns its result (POST
	// /api/v1/checks/{id}/run); nil for no such route.
	RunCheck func(ctx context.Context, id string) (upstate.Result, error)
	// Events is the live feed (GET /api/v1/events); nil for none.
	Events Events
	// Cluster is the cluster as this instance sees it (GET
	// /api/v1/cluster); false, or nil, for a server that runs alone.
	Cluster func() (cluster.Status, bool)
}

// Corrections changes what was written on incidents after the fact.
type Corrections interface {
	Edit(ctx context.Context, incidentID, entryID, body, actor string) (*upstate.Incident, error)
	Hide(ctx context.Context, id, reason, actor string) (*upstate.Incident, error)
	Unhide(ctx context.Context, id string) (*upstate.Incident, error)
	Delete(ctx context.Context, id, reason string, record upstate.AuditEntry) (*upstate.Incident, error)
}

// Server serves the admin API.
type Server struct {
	opts  Options
	csrf  *http.CrossOriginProtection
	audit respond.Auditor
}

// New returns the API; Register adds its routes.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil || opts.Incidents == nil || opts.Components == nil || opts.Maintenances == nil || opts.Outbox == nil || opts.OnCall == nil ||
		opts.Silences == nil || opts.Subscribers == nil || opts.Samples == nil || opts.SLOs == nil || opts.Reviews == nil || opts.Reads == nil {
		return nil, errors.New("adminapi: Options.Auth, Incidents, Components, Maintenances, Outbox, OnCall, Silences, Subscribers, Samples, SLOs, Reviews and Reads are required")
	}
	if opts.Baseline == nil {
		return nil, errors.New("adminapi: Options.Baseline is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageName == nil || opts.Location == nil || opts.Markdown == nil {
		return nil, errors.New("adminapi: Options.PageName, Location and Markdown are required")
	}
	return &Server{opts: opts, csrf: http.NewCrossOriginProtection(), audit: respond.Auditor{Log: opts.Audit, Now: opts.Now, Logger: opts.Logger, Words: auditWords()}}, nil
}

// OpenAPI is the API's description, served at /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI string

// Register adds the routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = io.WriteString(w, OpenAPI)
	})
	// The import format's schema, for editors to check a file as it is
	// written; public, like the API's description.
	mux.HandleFunc("GET /api/v1/import/schema.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/schema+json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = io.WriteString(w, importer.Schema)
	})
	mux.HandleFunc("POST /api/v1/login", s.login)
	mux.HandleFunc("POST /api/v1/logout", s.authed("", s.logout))
	mux.HandleFunc("GET /api/v1/me", s.authed("", s.me))
	mux.HandleFunc("GET /api/v1/incidents", s.authed(upstate.ScopeRead, s.listIncidents))
	mux.HandleFunc("GET /api/v1/incidents/{id}", s.authed(upstate.ScopeRead, s.getIncident))
	mux.HandleFunc("POST /api/v1/incidents", s.authed(upstate.ScopeIncidents, s.declare))
	mux.HandleFunc("POST /api/v1/incidents/{id}/updates", s.authed(upstate.ScopeIncidents, s.update))
	mux.HandleFunc("POST /api/v1/incidents/{id}/resolve", s.authed(upstate.ScopeIncidents, s.resolve))
	mux.HandleFunc("POST /api/v1/incidents/{id}/reopen", s.authed(upstate.ScopeIncidents, s.reopen))
	mux.HandleFunc("POST /api/v1/incidents/{id}/acknowledge", s.authed(upstate.ScopeIncidents, s.acknowledge))
	mux.HandleFunc("POST /api/v1/incidents/{id}/updates/{entry}/publish", s.authed(upstate.ScopeIncidents, s.publish))
	mux.HandleFunc("POST /api/v1/incidents/{id}/merge", s.authed(upstate.ScopeIncidents, s.merge))
	mux.HandleFunc("GET /api/v1/components", s.authed(upstate.ScopeRead, s.listComponents))
	mux.HandleFunc("POST /api/v1/components", s.authed(upstate.ScopeComponents, s.create(upstate.ConsoleComponent, "/api/v1/components/")))
	mux.HandleFunc("GET /api/v1/components/{id}", s.authed(upstate.ScopeRead, s.getComponent))
	mux.HandleFunc("PATCH /api/v1/components/{id}", s.authed(upstate.ScopeComponents, s.patchComponent))
	mux.HandleFunc("DELETE /api/v1/components/{id}", s.authed(upstate.ScopeComponents, s.remove(upstate.ConsoleComponent)))
	mux.HandleFunc("GET /api/v1/checks", s.authed(upstate.ScopeRead, s.listChecks))
	mux.HandleFunc("POST /api/v1/checks", s.authed(upstate.ScopeChecks, s.create(upstate.ConsoleCheck, "/api/v1/checks/")))
	mux.HandleFunc("PATCH /api/v1/checks/{id}", s.authed(upstate.ScopeChecks, s.patchCheck))
	mux.HandleFunc("DELETE /api/v1/checks/{id}", s.authed(upstate.ScopeChecks, s.remove(upstate.ConsoleCheck)))
	mux.HandleFunc("POST /api/v1/checks/{id}/pause", s.authed(upstate.ScopeChecks, s.pause(true)))
	mux.HandleFunc("POST /api/v1/checks/{id}/resume", s.authed(upstate.ScopeChecks, s.pause(false)))
	mux.HandleFunc("GET /api/v1/incidents/{id}/postmortem", s.authed(upstate.ScopeRead, s.getPostmortem))
	mux.HandleFunc("PUT /api/v1/incidents/{id}/postmortem", s.authed(upstate.ScopePostmortems, s.savePostmortem))
	mux.HandleFunc("POST /api/v1/incidents/{id}/postmortem/publish", s.authed(upstate.ScopePostmortems, s.publishPostmortem))
	mux.HandleFunc("GET /api/v1/maintenances", s.authed(upstate.ScopeRead, s.listMaintenances))
	mux.HandleFunc("POST /api/v1/maintenances", s.authed(upstate.ScopeMaintenances, s.scheduleMaintenance))
	mux.HandleFunc("DELETE /api/v1/maintenances/{id}", s.authed(upstate.ScopeMaintenances, s.cancelMaintenance))
	mux.HandleFunc("GET /api/v1/report", s.authed(upstate.ScopeRead, s.report))
	mux.HandleFunc("GET /api/v1/notifications", s.authed(upstate.ScopeRead, s.listNotifications))
	mux.HandleFunc("GET /api/v1/oncall", s.authed(upstate.ScopeRead, s.onCall))
	mux.HandleFunc("GET /api/v1/oncall/overrides", s.authed(upstate.ScopeRead, s.listOverrides))
	mux.HandleFunc("POST /api/v1/oncall/overrides", s.authed(upstate.ScopeIncidents, s.addOverride))
	mux.HandleFunc("DELETE /api/v1/oncall/overrides/{id}", s.authed(upstate.ScopeIncidents, s.removeOverride))
	mux.HandleFunc("POST /api/v1/metrics", s.authed(upstate.ScopeMetrics, s.pushMetrics))
	mux.HandleFunc("POST /api/v1/metrics/history", s.authed(upstate.ScopeMetrics, s.pushHistory))
	mux.HandleFunc("GET /api/v1/checks/{id}/baseline", s.authed(upstate.ScopeRead, s.baseline))
	mux.HandleFunc("GET /api/v1/slos", s.authed(upstate.ScopeRead, s.listSLOs))
	mux.HandleFunc("GET /api/v1/warnings", s.authed(upstate.ScopeRead, s.listWarnings))
	mux.HandleFunc("GET /api/v1/subscribers", s.authed(upstate.ScopeAdmin, s.listSubscribers))
	mux.HandleFunc("DELETE /api/v1/subscribers/{id}", s.authed(upstate.ScopeAdmin, s.removeSubscriber))
	mux.HandleFunc("GET /api/v1/silences", s.authed(upstate.ScopeRead, s.listSilences))
	mux.HandleFunc("POST /api/v1/silences", s.authed(upstate.ScopeIncidents, s.createSilence))
	mux.HandleFunc("DELETE /api/v1/silences/{id}", s.authed(upstate.ScopeIncidents, s.deleteSilence))
	mux.HandleFunc("POST /api/v1/notifications/channels/{id}/test", s.authed(upstate.ScopeIncidents, s.testChannel))
	mux.HandleFunc("POST /api/v1/notifications/messages/{id}/retry", s.authed(upstate.ScopeIncidents, s.retryMessage))
	mux.HandleFunc("GET /api/v1/tokens", s.authed(upstate.ScopeAdmin, s.listTokens))
	mux.HandleFunc("POST /api/v1/tokens", s.authed(upstate.ScopeAdmin, s.createToken))
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", s.authed(upstate.ScopeAdmin, s.revokeToken))
	mux.HandleFunc("PATCH /api/v1/incidents/{id}/updates/{entry}", s.authed(upstate.ScopeIncidents, s.editEntry))
	mux.HandleFunc("POST /api/v1/incidents/{id}/hide", s.authed(upstate.ScopeIncidents, s.hide))
	mux.HandleFunc("POST /api/v1/incidents/{id}/unhide", s.authed(upstate.ScopeIncidents, s.unhide))
	mux.HandleFunc("DELETE /api/v1/incidents/{id}", s.authed(upstate.ScopeAdmin, s.deleteIncident))
	mux.HandleFunc("GET /api/v1/audit", s.authed(upstate.ScopeAdmin, s.listAudit))
	// read, like the checks it lists: their targets say as much of the
	// network as the instances' addresses do, and whoever is on call
	// (viewers too) asks who runs a check that went quiet.
	mux.HandleFunc("GET /api/v1/cluster", s.authed(upstate.ScopeRead, s.getCluster))
	// A check's page, running it now, and the live feed: when the app
	// gives what they need.
	if s.opts.CheckPages != nil {
		mux.HandleFunc("GET /api/v1/checks/{id}", s.authed(upstate.ScopeRead, s.getCheck))
	}
	if s.opts.RunCheck != nil {
		// incidents:write, not checks:write: a run changes no check, and
		// whoever is on call confirms with it what they see.
		mux.HandleFunc("POST /api/v1/checks/{id}/run", s.authed(upstate.ScopeIncidents, s.runCheck))
	}
	if s.opts.Events != nil {
		mux.HandleFunc("GET /api/v1/events", s.authed(upstate.ScopeRead, s.events))
	}
}

// auditWords say what the routes whose handlers say nothing do, for the
// audit log; a route missing here is recorded by its method and path.
func auditWords() map[string]string {
	return map[string]string{
		"POST /api/v1/incidents/{id}/acknowledge":        "acknowledged incident",
		"POST /api/v1/incidents/{id}/merge":              "merged incidents into",
		"POST /api/v1/components":                        "tried to create a component in the console",
		"PATCH /api/v1/components/{id}":                  "changed component",
		"DELETE /api/v1/components/{id}":                 "deleted component",
		"POST /api/v1/checks":                            "tried to create a check in the console",
		"PATCH /api/v1/checks/{id}":                      "changed check",
		"DELETE /api/v1/checks/{id}":                     "deleted check",
		"POST /api/v1/checks/{id}/pause":                 "paused check",
		"POST /api/v1/checks/{id}/resume":                "resumed check",
		"POST /api/v1/checks/{id}/run":                   "ran check now",
		"PUT /api/v1/incidents/{id}/postmortem":          "saved the postmortem of incident",
		"POST /api/v1/incidents/{id}/postmortem/publish": "published the postmortem of incident",
		"POST /api/v1/maintenances":                      "scheduled a maintenance",
		"DELETE /api/v1/maintenances/{id}":               "cancelled maintenance",
		"POST /api/v1/oncall/overrides":                  "added an on-call override",
		"DELETE /api/v1/oncall/overrides/{id}":           "removed on-call override",
		"POST /api/v1/metrics":                           "pushed metric samples",
		"POST /api/v1/metrics/history":                   "pushed metric history",
		"DELETE /api/v1/subscribers/{id}":                "removed subscriber",
		"POST /api/v1/silences":                          "created a silence",
		"DELETE /api/v1/silences/{id}":                   "ended silence",
		"POST /api/v1/notifications/channels/{id}/test":  "sent a test notification to channel",
		"POST /api/v1/notifications/messages/{id}/retry": "retried notification",
		"DELETE /api/v1/tokens/{id}":                     "revoked API token",
	}
}

type handler func(w http.ResponseWriter, r *http.Request, p upstate.Principal)

// list answers {"<key>": [...]}: what get finds, each as out puts it.
func list[T, J any](s *Server, w http.ResponseWriter, r *http.Request, key string, get func(context.Context) ([]T, error), out func(T) J) {
	found, err := get(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	js := make([]J, 0, len(found))
	for _, x := range found {
		js = append(js, out(x))
	}
	respond.JSON(w, http.StatusOK, map[string]any{key: js})
}

// count is a query parameter's value v read as a count from lo to hi, or
// an EINVALID naming the parameter: the one reading of limit= and its
// kin.
func count(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, upstate.Errorf(upstate.EINVALID, "%s: %q is not a number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// onID acts on the {id} in the path and answers 204.
func (s *Server) onID(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, id string) error) {
	if err := act(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// authed identifies the caller — bearer token first, else the session
// cookie — and requires the scope ("" for any signed-in caller). Cookie
// requests that change state must come from the page's own origin.
//
// Every request that changes state is recorded in the audit log once its
// handler has answered, with the status it answered: so every route
// registered through authed, now or later, is audited. Refusals are
// recorded too (a forged cross-origin request, a role or token without
// the scope), except requests with no credentials at all: they say nobody
// and anyone on the network could fill the log with them.
func (s *Server) authed(scope upstate.Scope, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		audit, w, r := s.audit.Begin(w, r)
		var who *upstate.Principal
		record := true
		defer func() {
			if record {
				audit.End(who)
			}
		}()
		refuse := func(why string) {
			if audit != nil {
				audit.Refusal = why
			}
		}
		var p upstate.Principal
		var err error
		if authz := r.Header.Get("Authorization"); authz != "" {
			scheme, tok, ok := strings.Cut(authz, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				record = false
				respond.Error(w, upstate.Errorf(upstate.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\""))
				return
			}
			p, err = s.opts.Auth.FromToken(r.Context(), strings.TrimSpace(tok))
		} else if c, cerr := r.Cookie(respond.SessionCookie); cerr == nil && c.Value != "" {
			if err := s.csrf.Check(r); err != nil {
				refuse("cross-origin request")
				respond.Error(w, upstate.Errorf(upstate.EFORBIDDEN, "cross-origin request refused: %v", err))
				return
			}
			p, err = s.opts.Auth.FromSession(r.Context(), c.Value)
		} else {
			err = upstate.Errorf(upstate.EUNAUTHORIZED, "sign in (POST /api/v1/login) or send an API token as \"Authorization: Bearer ups_...\"")
		}
		if err != nil {
			// Unknown, expired or revoked credentials name nobody.
			record = upstate.ErrorCode(err) != upstate.EUNAUTHORIZED
			s.fail(w, r, err)
			return
		}
		who = &p
		// An agent's token reports its region's results and nothing else:
		// not even who made it (GET /api/v1/me).
		if _, agent := p.AgentRegion(); agent {
			respond.Error(w, upstate.Errorf(upstate.EFORBIDDEN, "this token is a probe agent's: it reads its region's checks and reports their results, nothing else"))
			return
		}
		if scope != "" && !p.Can(scope) {
			what := "your role (" + string(p.User.Role) + ")"
			if p.Token != nil {
				what = "this token"
			}
			refuse("needs the " + string(scope) + " scope")
			respond.Error(w, upstate.Errorf(upstate.EFORBIDDEN, "%s does not allow this: it needs the %q scope", what, scope))
			return
		}
		h(w, r, p)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if upstate.ErrorCode(err) == upstate.EINTERNAL {
		s.opts.Logger.Error("admin request failed", "component", "adminapi", "request_id", respond.RequestID(w), "path", r.URL.Path, "err", err)
	}
	respond.Error(w, err)
}

type userJSON struct {
	ID     string          `json:"id"`
	Email  string          `json:"email"`
	Name   string          `json:"name"`
	Role   upstate.Role    `json:"role"`
	Scopes []upstate.Scope `json:"scopes,omitempty"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	audit, w, r := s.audit.Begin(w, r)
	var who *upstate.Principal
	defer func() { audit.End(who) }()
	respond.Describe(r, "failed sign-in")
	if err := s.csrf.Check(r); err != nil {
		respond.Describe(r, "refused sign-in from another origin")
		respond.Error(w, upstate.Errorf(upstate.EFORBIDDEN, "cross-origin request refused: %v", err))
		return
	}
	var body struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := respond.Decode(w, r, &body); err != nil {
		respond.Error(w, err)
		return
	}
	if body.Email == "" || body.Password == "" {
		respond.Error(w, upstate.Errorf(upstate.EINVALID, "email and password are required"))
		return
	}
	respond.Describe(r, "failed sign-in as %s", respond.SignInAs(body.Email))
	in, err := s.opts.Auth.Login(r.Context(), respond.Credentials(r, body.Email, body.Password))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	who = &upstate.Principal{User: in.User}
	respond.Describe(r, "signed in")
	respond.SignIn(w, r, in, s.opts.SecureCookies)
	u := in.User
	respond.JSON(w, http.StatusOK, map[string]any{"user": userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Scopes: u.Role.Grants()}})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	respond.Describe(r, "signed out")
	if c, err := r.Cookie(respond.SessionCookie); err == nil && p.Token == nil {
		if err := s.opts.Auth.Logout(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	respond.ClearSession(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request, p upstate.Principal) {
	respond.JSON(w, http.StatusOK, map[string]any{"user": userJSON{ID: p.User.ID, Email: p.User.Email, Name: p.User.Name, Role: p.User.Role, Scopes: p.Scopes}})
}
