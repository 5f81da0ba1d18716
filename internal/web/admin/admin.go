// Package admin is the server-rendered admin UI under /admin: sign in, see
// open and recent incidents, declare one, post an update in two clicks,
// resolve and reopen — fast, with no JavaScript, usable on a phone at
// 4 am. Forms are protected from cross-site forgery by net/http's
// CrossOriginProtection and SameSite session cookies.
package admin

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/checkview"
	"github.com/upstatehq/upstate/internal/cluster"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/web/respond"
)

//go:embed templates/*.html
var templates embed.FS

// Auth signs people in and identifies them.
type Auth interface {
	Login(ctx context.Context, c auth.Credentials) (auth.SignedIn, error)
	Logout(ctx context.Context, sessionSecret string) error
	FromSession(ctx context.Context, secret string) (upstate.Principal, error)
}

// Incidents changes incidents, component statuses and maintenances (the
// incident engine).
type Incidents interface {
	Declare(ctx context.Context, c incident.Change) (*upstate.Incident, error)
	Update(ctx context.Context, id string, c incident.Change) (*upstate.Incident, error)
	Reopen(ctx context.Context, id string, c incident.Change) (*upstate.Incident, error)
	Acknowledge(ctx context.Context, id, actor string) (*upstate.Incident, error)
	AcknowledgeAt(ctx context.Context, id, actor string, at time.Time) (*upstate.Incident, error)
	Merge(ctx context.Context, into string, from []string, actor string) (*upstate.Incident, error)
	Publish(ctx context.Context, incidentID, entryID, actor string) (*upstate.Incident, error)
	HoldStatus(ctx context.Context, component string, st upstate.Status, actor string) (upstate.ComponentState, error)
	ScheduleMaintenance(ctx context.Context, w incident.Window) (upstate.Maintenance, error)
	CancelMaintenance(ctx context.Context, id string) error
	Maintenances() []upstate.Maintenance
	Statuses() map[string]upstate.Status
}

// Outbox shows what the outbox holds and tries channels (notify.Desk).
type Outbox interface {
	Channels(ctx context.Context) ([]upstate.ChannelStatus, []upstate.Message, error)
	Test(ctx context.Context, id string) error
	Retry(ctx context.Context, id string) error
}

// OnCall shows who is on call and takes overrides (oncall.Roster).
type OnCall interface {
	OnCallNow(ctx context.Context) []upstate.ScheduleView
	Overrides(ctx context.Context) ([]upstate.OnCallOverride, error)
	AddOverride(ctx context.Context, schedule, person string, from, until time.Time, actor string) (upstate.OnCallOverride, error)
	RemoveOverride(ctx context.Context, id string) error
}

// Silences mutes notifications for a while (notify.Silences).
type Silences interface {
	List(ctx context.Context) ([]upstate.Silence, error)
	Add(ctx context.Context, matchers []string, startsAt, endsAt time.Time, comment, actor string) (upstate.Silence, error)
	Remove(ctx context.Context, id string) error
}

// Acks acknowledges incidents from the signed links in pages
// (notify.Acks).
type Acks interface {
	AckLinkTarget(ctx context.Context, incidentID, person, sig string) (*upstate.Incident, string, error)
	AckByLink(ctx context.Context, incidentID, person, sig string) (*upstate.Incident, string, error)
}

// Subscriptions lets outsiders subscribe, confirm and leave
// (subscribe.Service).
type Subscriptions interface {
	Subscribe(ctx context.Context, kind, address string, components []string) (upstate.Subscriber, error)
	ByLink(ctx context.Context, purpose, token string) (upstate.Subscriber, error)
	Confirm(ctx context.Context, token string) (upstate.Subscriber, error)
	Unsubscribe(ctx context.Context, token string) (upstate.Subscriber, error)
}

// Reviews writes and publishes postmortems.
type Reviews interface {
	Save(ctx context.Context, incidentID string, d incident.Draft) (upstate.PostmortemDoc, error)
	// PublishAt publishes at the time a person gives (zero: now).
	PublishAt(ctx context.Context, incidentID, actor string, at time.Time) (upstate.PostmortemDoc, error)
}

// Reads gives what the pages show.
type Reads interface {
	GetPostmortem(ctx context.Context, incidentID string) (upstate.PostmortemDoc, error)
	GetIncident(ctx context.Context, id string) (*upstate.Incident, error)
	ListIncidents(ctx context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error)
	CountIncidents(ctx context.Context, f upstate.IncidentFilter) (int, error)
	ListComponents(ctx context.Context) ([]upstate.ComponentState, error)
	// ListEntryEdits returns the corrections of an incident's entries:
	// the words each said before.
	ListEntryEdits(ctx context.Context, incidentID string) ([]upstate.EntryEdit, error)
}

// Options configure the UI.
type Options struct {
	Auth          Auth
	Incidents     Incidents
	Outbox        Outbox
	OnCall        OnCall
	Silences      Silences
	Acks          Acks
	Subscriptions Subscriptions
	Reviews       Reviews
	Reads         Reads
	Markdown      func(string) template.HTML
	Location      func() *time.Location // the page's zone, which may change on reload
	PageName      func() string
	Logger        *slog.Logger
	SecureCookies bool
	// Now tells the time (maintenance statuses); default time.Now.
	Now func() time.Time
	// SLOs reports the error budgets shown on the incident list; nil for none.
	SLOs func(ctx context.Context) []check.SLOReport
	// Warnings are the checks' current warnings (incident.Warnings),
	// shown on the incident list; nil for none.
	Warnings func() []upstate.Warning
	// Baselines reports on the anomaly baselines of metric checks (how
	// much history, when each starts judging); nil for none.
	Baselines func() []check.BaselineReport
	// StoreHealth says why the database is not accepting writes, if it
	// is not: every page shows it in a banner while it lasts.
	StoreHealth func() error
	// Artifacts reads what failing checks saw (browser checks'
	// screenshots); nil for none.
	Artifacts Artifacts
	// People manages users on the owners' page (/admin/users); nil for
	// no such page.
	People People
	// Audit is the audit log every change is recorded in, shown to owners
	// at /admin/audit; nil records nothing and has no such page.
	Audit respond.AuditLog
	// Corrections edits entries, hides and deletes incidents (the
	// incident engine); nil for no such forms.
	Corrections Corrections
	// Console manages the checks and components made in the console (the
	// check editor, /admin/components); nil for no such pages.
	Console Console
	// CheckPages works out the check pages (/admin/checks and
	// /admin/checks/{id}); nil for no such pages.
	CheckPages CheckPages
	// RunCheck runs a check once now and returns its result ("check
	// now"); nil for no such button.
	RunCheck func(ctx context.Context, id string) (upstate.Result, error)
	// Cluster is the cluster as this instance sees it (/admin/cluster);
	// false, or nil, for a server that runs alone.
	Cluster func() (cluster.Status, bool)
}

// Corrections changes what was written on incidents after the fact.
type Corrections interface {
	Edit(ctx context.Context, incidentID, entryID, body, actor string) (*upstate.Incident, error)
	Hide(ctx context.Context, id, reason, actor string) (*upstate.Incident, error)
	Unhide(ctx context.Context, id string) (*upstate.Incident, error)
	Delete(ctx context.Context, id, reason string, record upstate.AuditEntry) (*upstate.Incident, error)
}

// SubscriptionsPerHour is how many subscriptions one client address
// (an IPv6 /64) may make in an hour through the public form, so no one
// can flood mailboxes with confirmation requests.
const SubscriptionsPerHour = 20

// Server serves the admin UI.
type Server struct {
	opts  Options
	limit *auth.Limiter // subscriptions per client address
	csrf  *http.CrossOriginProtection
	pages map[string]*template.Template
	audit respond.Auditor
}

// New parses the templates; a broken one fails here, not on first use.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil || opts.Incidents == nil || opts.Outbox == nil || opts.OnCall == nil || opts.Silences == nil || opts.Acks == nil || opts.Subscriptions == nil ||
		opts.Reviews == nil || opts.Reads == nil || opts.Markdown == nil || opts.Location == nil || opts.PageName == nil {
		return nil, errors.New("admin: Options.Auth, Incidents, Outbox, OnCall, Silences, Acks, Subscriptions, Reviews, Reads, Markdown, Location and PageName are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, csrf: http.NewCrossOriginProtection(), pages: map[string]*template.Template{}, limit: auth.NewLimiter(SubscriptionsPerHour, time.Hour),
		audit: respond.Auditor{Log: opts.Audit, Now: opts.Now, Logger: opts.Logger, Words: auditWords()}}
	funcs := template.FuncMap{
		"md":          opts.Markdown,
		"entryHTML":   markdown.EntryHTML(opts.Markdown),
		"label":       func(st upstate.Status) string { return st.Label() },
		"statusLabel": func(st upstate.IncidentStatus) string { return st.Label() },
		"when": func(t time.Time) string {
			return t.In(opts.Location()).Format("Jan 2 15:04 MST")
		},
		"whenp": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.In(opts.Location()).Format("Jan 2 15:04 MST")
		},
		// between is an entry's time from at to until: "Aug 17 10:40 to
		// 11:03 PDT", each end whole when they are on different days.
		"between": func(at time.Time, until *time.Time) string {
			a := at.In(opts.Location())
			if until == nil {
				return a.Format("Jan 2 15:04 MST")
			}
			u := until.In(opts.Location())
			if a.Year() == u.Year() && a.YearDay() == u.YearDay() {
				return a.Format("Jan 2 15:04") + " to " + u.Format("15:04 MST")
			}
			return a.Format("Jan 2 15:04 MST") + " to " + u.Format("Jan 2 15:04 MST")
		},
		"clock": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.In(opts.Location()).Format("15:04")
		},
		"list":   func(xs []string) string { return strings.Join(xs, ", ") },
		"mul100": func(f float64) float64 { return f * 100 },
		"pct":    func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
		"burn": func(m map[time.Duration]float64, d time.Duration) string {
			return strconv.FormatFloat(m[d], 'f', 1, 64) + "×"
		},
		"percent": func(p *float64) string { return formatPercent(p) },
		"rev": func(us []upstate.TimelineEntry) []upstate.TimelineEntry {
			out := slices.Clone(us)
			slices.Reverse(out)
			return out
		},
	}
	funcs["latency"] = upstate.FormatLatency
	funcs["uptime"] = func(u checkview.Uptime) string {
		if u.Count == 0 {
			return "no data"
		}
		return strconv.FormatFloat(u.Ratio()*100, 'f', 2, 64) + "%"
	}
	funcs["ago"] = func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return upstate.FormatDuration(opts.Now().Sub(t), upstate.DurationWords) + " ago"
	}
	funcs["state"] = stateLabel
	funcs["span"] = func(d time.Duration) string { return upstate.FormatDuration(d, upstate.DurationWindow) }
	for _, name := range []string{"login", "index", "new", "incident", "maintenances", "notifications", "ack", "subscription", "error", "users", "delete", "audit", "checks", "check", "checkform", "components", "cluster"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templates, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse admin templates: %w", err)
		}
		s.pages[name] = t
	}
	return s, nil
}

// Register adds the routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/login", s.loginPage)
	mux.HandleFunc("POST /admin/login", s.guard(s.login))
	mux.HandleFunc("POST /admin/logout", s.guard(s.authed("", s.logout)))
	mux.HandleFunc("GET /admin/{$}", s.authed(upstate.ScopeRead, s.index))
	mux.HandleFunc("GET /admin/incidents/new", s.authed(upstate.ScopeIncidents, s.newIncident))
	mux.HandleFunc("POST /admin/incidents", s.guard(s.authed(upstate.ScopeIncidents, s.declare)))
	mux.HandleFunc("GET /admin/incidents/{id}", s.authed(upstate.ScopeRead, s.incident))
	mux.HandleFunc("POST /admin/incidents/{id}/updates", s.guard(s.authed(upstate.ScopeIncidents, s.update)))
	mux.HandleFunc("POST /admin/incidents/{id}/reopen", s.guard(s.authed(upstate.ScopeIncidents, s.reopen)))
	mux.HandleFunc("POST /admin/incidents/{id}/postmortem", s.guard(s.authed(upstate.ScopePostmortems, s.postmortem)))
	mux.HandleFunc("POST /admin/incidents/{id}/acknowledge", s.guard(s.authed(upstate.ScopeIncidents, s.acknowledge)))
	mux.HandleFunc("POST /admin/incidents/{id}/updates/{entry}/publish", s.guard(s.authed(upstate.ScopeIncidents, s.publish)))
	mux.HandleFunc("POST /admin/incidents/{id}/merge", s.guard(s.authed(upstate.ScopeIncidents, s.merge)))
	mux.HandleFunc("POST /admin/components/{id}", s.guard(s.authed(upstate.ScopeComponents, s.holdStatus)))
	mux.HandleFunc("GET /admin/maintenances", s.authed(upstate.ScopeRead, s.maintenances))
	mux.HandleFunc("GET /admin/notifications", s.authed(upstate.ScopeRead, s.notifications))
	mux.HandleFunc("POST /admin/silences", s.guard(s.authed(upstate.ScopeIncidents, s.silence)))
	mux.HandleFunc("POST /admin/oncall/overrides", s.guard(s.authed(upstate.ScopeIncidents, s.addOverride)))
	mux.HandleFunc("POST /admin/oncall/overrides/{id}/end", s.guard(s.authed(upstate.ScopeIncidents, s.onID("notifications", "Override removed", s.opts.OnCall.RemoveOverride))))
	mux.HandleFunc("POST /admin/silences/{id}/end", s.guard(s.authed(upstate.ScopeIncidents, s.onID("notifications", "Silence ended", s.opts.Silences.Remove))))
	mux.HandleFunc("POST /subscribe", s.guard(s.subscribe))
	mux.HandleFunc("GET /subscribe/confirm", s.subscriptionPage("confirm"))
	mux.HandleFunc("POST /subscribe/confirm", s.guard(s.confirmSubscription))
	mux.HandleFunc("GET /unsubscribe", s.subscriptionPage("unsubscribe"))
	mux.HandleFunc("POST /unsubscribe", s.guard(s.unsubscribe))
	mux.HandleFunc("GET /ack/{id}", s.ackPage)
	mux.HandleFunc("POST /ack/{id}", s.guard(s.ackByLink))
	mux.HandleFunc("POST /admin/notifications/channels/{id}/test", s.guard(s.authed(upstate.ScopeIncidents, s.testChannel)))
	mux.HandleFunc("POST /admin/notifications/messages/{id}/retry", s.guard(s.authed(upstate.ScopeIncidents, s.onID("notifications", "Queued for one more attempt", s.opts.Outbox.Retry))))
	mux.HandleFunc("POST /admin/maintenances", s.guard(s.authed(upstate.ScopeMaintenances, s.schedule)))
	mux.HandleFunc("POST /admin/maintenances/{id}/cancel", s.guard(s.authed(upstate.ScopeMaintenances, s.onID("maintenances", "Maintenance cancelled", s.opts.Incidents.CancelMaintenance))))
	if s.opts.Artifacts != nil {
		mux.HandleFunc("GET /admin/screenshots/{id}", s.authed(upstate.ScopeRead, s.screenshot))
		mux.HandleFunc("GET /admin/checks/{id}/screenshot/latest", s.authed(upstate.ScopeRead, s.latestScreenshot))
	}
	s.registerPeople(mux)
	s.registerCorrections(mux)
	s.registerConsole(mux)
	s.registerChecks(mux)
	s.registerCluster(mux)
}

// guard refuses cross-site form posts.
func (s *Server) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.csrf.Check(r); err != nil {
			// A forged post riding someone's session is worth knowing of,
			// in their name; one that carries no session names nobody, and
			// anyone could fill the log with them: it is not recorded.
			if c, cerr := r.Cookie(respond.SessionCookie); cerr == nil && c.Value != "" && strings.HasPrefix(r.URL.Path, "/admin/") {
				if p, perr := s.opts.Auth.FromSession(r.Context(), c.Value); perr == nil {
					e := s.audit.Entry(r, &p, http.StatusForbidden)
					e.Action = "refused (cross-origin form): " + e.Action
					s.audit.Record(r.Context(), e)
				}
			}
			s.errorPage(w, http.StatusForbidden, "This form was sent from another site, so it was refused. Open the admin page and try again.")
			return
		}
		h(w, r)
	}
}

// auditWords say what the form posts whose handlers say nothing do, for
// the audit log; a route missing here is recorded by its method and path.
func auditWords() map[string]string {
	return map[string]string{
		"POST /admin/incidents/{id}/reopen":                  "reopened incident",
		"POST /admin/incidents/{id}/postmortem":              "saved the postmortem of incident",
		"POST /admin/incidents/{id}/acknowledge":             "acknowledged incident",
		"POST /admin/incidents/{id}/updates/{entry}/publish": "published an entry of incident",
		"POST /admin/incidents/{id}/merge":                   "merged incidents into",
		"POST /admin/components/{id}":                        "set the status of component",
		"POST /admin/silences":                               "created a silence",
		"POST /admin/oncall/overrides":                       "added an on-call override",
		"POST /admin/oncall/overrides/{id}/end":              "removed on-call override",
		"POST /admin/silences/{id}/end":                      "ended silence",
		"POST /admin/notifications/channels/{id}/test":       "sent a test notification to channel",
		"POST /admin/notifications/messages/{id}/retry":      "retried notification",
		"POST /admin/maintenances":                           "scheduled a maintenance",
		"POST /admin/maintenances/{id}/cancel":               "cancelled maintenance",
		"POST /admin/checks":                                 "created a check in the console",
		"POST /admin/checks/{id}":                            "changed check",
		"POST /admin/checks/{id}/pause":                      "paused check",
		"POST /admin/checks/{id}/run":                        "ran check now",
		"POST /admin/checks/{id}/resume":                     "resumed check",
		"POST /admin/checks/{id}/delete":                     "deleted check",
		"POST /admin/components":                             "created a component in the console",
		"POST /admin/components/{id}/edit":                   "changed component",
		"POST /admin/components/{id}/delete":                 "deleted component",
	}
}

type page func(w http.ResponseWriter, r *http.Request, p upstate.Principal)

// authed requires a signed-in person with the scope; anyone else is sent
// to sign in and then brought back.
//
// Every form post that changes state is recorded in the audit log once
// its handler has answered (who, what, the status), and so is a
// signed-in person's refused one (a role without the scope): so every
// route registered through authed, now or later, is audited. Posts by
// nobody signed in are sent to sign in and not recorded.
func (s *Server) authed(scope upstate.Scope, h page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		audit, w, r := s.audit.Begin(w, r)
		var who *upstate.Principal
		record := true
		defer func() {
			if record {
				audit.End(who)
			}
		}()
		c, err := r.Cookie(respond.SessionCookie)
		var p upstate.Principal
		if err == nil && c.Value != "" {
			p, err = s.opts.Auth.FromSession(r.Context(), c.Value)
		} else {
			err = upstate.Errorf(upstate.EUNAUTHORIZED, "sign in")
		}
		if err != nil {
			if upstate.ErrorCode(err) != upstate.EUNAUTHORIZED {
				s.fail(w, r, err)
				return
			}
			record = false
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = "/admin/"
			}
			http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		who = &p
		if scope != "" && !p.Can(scope) {
			if audit != nil {
				audit.Refusal = "needs the " + string(scope) + " scope"
			}
			s.errorPage(w, http.StatusForbidden, fmt.Sprintf("Your role (%s) cannot do this.", p.User.Role))
			return
		}
		h(w, r, p)
	}
}

type view struct {
	Title string
	// Degraded says why changes cannot be saved now (the database is not
	// accepting writes); empty when they can.
	Degraded   string
	PageName   string
	User       *upstate.User
	CanWrite   bool
	CanReview  bool
	CanHold    bool // may set component statuses
	CanPlan    bool // may plan maintenance
	Error      string
	Notice     string
	Next       string
	Email      string
	Open       []*upstate.Incident
	Incident   *upstate.Incident
	Components []componentRow
	Form       formValues
	Preview    template.HTML
	Review     reviewForm
	Zone       string
	ZoneName   string
	Names      map[string]string // component id → name
	Statuses   []upstate.IncidentStatus
	Impacts    []upstate.Impact
	CompStates []upstate.Status
	Message    string
	// Others are incidents that could be merged into this one.
	Others []*upstate.Incident
	// Maint is the maintenance page's list and form.
	Maint     []maintRow
	MaintForm maintForm
	// Sub is the subscription pages': what happened and to whom.
	Sub subView
	// AckAs, AckP and AckS are the acknowledgement page's: whom the link
	// is for, and the link's person and signature.
	AckAs, AckP, AckS string
	// Channels and Failed are the notifications page's.
	Channels  []upstate.ChannelStatus
	Failed    []upstate.Message
	Schedules []upstate.ScheduleView
	Silences  []upstate.Silence
	SLOs      []check.SLOReport
	Warnings  []upstate.Warning
	Baselines []check.BaselineReport
	Overrides []upstate.OnCallOverride
	// OverrideForm is the on-call override form as typed.
	OverrideForm struct{ Schedule, Person, From, Until string }
	// SilenceForm is the silence form as typed.
	SilenceForm struct{ Matchers, For, Comment string }
	// Screenshots are what browser checks on the incident's components
	// saw while it lasted, newest first.
	Screenshots []upstate.Artifact

	// List is the incident list's page, with its search and filters.
	List    incidentList
	Periods []struct{ Value, Label string }
	// People, UserForm and Roles are the owners' page (users.html);
	// NoUsers asks the sign-in page to say how to create the first owner.
	People   []upstate.User
	UserForm userForm
	Roles    []upstate.Role
	NoUsers  bool
	IsOwner  bool // may manage people
	// CanDelete may delete incidents (owners); CanCorrect may edit
	// entries and hide incidents.
	CanDelete, CanCorrect bool
	// CanAudit may read the audit log (owners); Audit is its page.
	CanAudit bool
	Audit    auditView
	// Edits are the incident's entries' earlier words, by entry id,
	// newest first.
	Edits map[string][]upstate.EntryEdit
	// The console's pages (console.go): the check editor as typed, the
	// kinds it offers, and the components page's list and form.
	Console       bool // the server manages checks and components from the console
	CanChecks     bool // may create and change checks (checks:write)
	CheckForm     checkForm
	Kinds         []string
	ComponentDefs []componentDef
	ComponentForm componentForm
	// CheckList is the checks page's; Check a check's page.
	CheckList []checkview.Summary
	Check     *checkPage
	// Cluster is the cluster page's.
	Cluster clusterView
	// Live, when set, loads the console script, which follows the live
	// feed with this query ("check=api", "types=incident").
	Live string
}

// reviewForm is the postmortem editor's fields; action items are lines
// of "text | owner | open or done".
type reviewForm struct {
	RootCause, Contributing, Fix, Actions string
	Status                                string
	Preview                               template.HTML
}

func actionLines(as []upstate.ActionItem) string {
	var lines []string
	for _, a := range as {
		lines = append(lines, a.Text+" | "+a.Owner+" | "+a.State)
	}
	return strings.Join(lines, "\n")
}

func parseActions(text string) []upstate.ActionItem {
	var out []upstate.ActionItem
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, "|")
		a := upstate.ActionItem{Text: strings.TrimSpace(parts[0])}
		if len(parts) > 1 {
			a.Owner = strings.TrimSpace(parts[1])
		}
		if len(parts) > 2 {
			a.State = strings.TrimSpace(parts[2])
		}
		out = append(out, a)
	}
	return out
}

type componentRow struct {
	ID, Name, Group string
	Status          upstate.Status
	Held            upstate.Status // what this incident holds, if anything
	Hold            upstate.Hold   // what a person holds outside incidents
}

type formValues struct {
	Name, Message, Impact string
	Status                upstate.IncidentStatus
	Internal              bool
	Set                   map[string]upstate.Status
	// Reach and upstream, as typed: lists comma-separated.
	Failing, Regions, Segments string
	Provider, Title, URL       string
	// At (when it happened) and Started (a declare's start), as typed:
	// the page's local time from <input type=datetime-local>; empty for now.
	// Until is the end of what an update tells of, empty for a moment.
	At, Started, Until string
}

func (s *Server) render(w http.ResponseWriter, code int, name string, v view) {
	v.PageName = s.opts.PageName()
	if s.opts.StoreHealth != nil {
		if err := s.opts.StoreHealth(); err != nil {
			v.Degraded = upstate.ErrorMessage(err)
		}
	}
	v.Zone = s.opts.Now().In(s.opts.Location()).Format("MST")
	v.ZoneName = s.opts.Location().String()
	v.Names = map[string]string{}
	for _, c := range v.Components {
		v.Names[c.ID] = c.Name
	}
	v.Statuses = []upstate.IncidentStatus{upstate.Investigating, upstate.Identified, upstate.Monitoring, upstate.Resolved}
	v.Impacts = []upstate.Impact{"", upstate.ImpactNone, upstate.ImpactMinor, upstate.ImpactMajor, upstate.ImpactCritical}
	v.CompStates = []upstate.Status{upstate.Operational, upstate.DegradedPerformance, upstate.PartialOutage, upstate.MajorOutage, upstate.UnderMaintenance}
	var b bytes.Buffer
	if err := s.pages[name].Execute(&b, v); err != nil {
		s.opts.Logger.Error("render admin page", "component", "admin", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, code int, msg string) {
	s.render(w, code, "error", view{Title: http.StatusText(code), Error: msg})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	// The one error table (respond.HTTPStatus): a database refusing
	// writes is 503 with its Retry-After here too, not a bad request.
	code, msg := respond.HTTPStatus(err), upstate.ErrorMessage(err)
	if upstate.ErrorCode(err) == upstate.EINTERNAL {
		s.opts.Logger.Error("admin page failed", "component", "admin", "path", r.URL.Path, "err", err)
		msg = "Something went wrong on our side; it has been logged."
	}
	respond.SetRetryAfter(w, err)
	s.errorPage(w, code, msg)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login", view{Title: "Sign in", Next: safeNext(r.URL.Query().Get("next")), NoUsers: s.firstOwnerHint(r.Context())})
}

// safeNext keeps redirects after sign-in inside the admin UI.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/admin/"
	}
	return next
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	audit, w, r := s.audit.Begin(w, r)
	var who *upstate.Principal
	defer func() { audit.End(who) }()
	email, password, next := r.PostFormValue("email"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	respond.Describe(r, "failed sign-in as %s", respond.SignInAs(email))
	in, err := s.opts.Auth.Login(r.Context(), respond.Credentials(r, email, password))
	if err != nil {
		if upstate.ErrorCode(err) == upstate.EINTERNAL {
			s.fail(w, r, err)
			return
		}
		respond.SetRetryAfter(w, err)
		s.render(w, respond.HTTPStatus(err), "login", view{Title: "Sign in", Error: upstate.ErrorMessage(err), Email: email, Next: next})
		return
	}
	who = &upstate.Principal{User: in.User}
	respond.Describe(r, "signed in")
	respond.SignIn(w, r, in, s.opts.SecureCookies)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	respond.Describe(r, "signed out")
	if c, err := r.Cookie(respond.SessionCookie); err == nil {
		_ = s.opts.Auth.Logout(r.Context(), c.Value)
	}
	respond.ClearSession(w)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

func (s *Server) base(p upstate.Principal, title string) view {
	u := p.User
	return view{Title: title, User: &u, CanWrite: p.Can(upstate.ScopeIncidents), CanReview: p.Can(upstate.ScopePostmortems),
		CanHold: p.Can(upstate.ScopeComponents), CanPlan: p.Can(upstate.ScopeMaintenances), IsOwner: s.opts.People != nil && p.Can(upstate.ScopeAdmin),
		CanDelete: s.opts.Corrections != nil && p.Can(upstate.ScopeAdmin), CanCorrect: s.opts.Corrections != nil && p.Can(upstate.ScopeIncidents),
		CanAudit: s.opts.Audit != nil && p.Can(upstate.ScopeAdmin),
		Console:  s.opts.Console != nil, CanChecks: s.opts.Console != nil && p.Can(upstate.ScopeChecks)}
}

func (s *Server) components(ctx context.Context, held map[string]upstate.Status) ([]componentRow, error) {
	cs, err := s.opts.Reads.ListComponents(ctx)
	if err != nil {
		return nil, err
	}
	statuses := s.opts.Incidents.Statuses()
	rows := make([]componentRow, 0, len(cs))
	for _, c := range cs {
		st := statuses[c.ID]
		if st == "" {
			st = c.Status
		}
		rows = append(rows, componentRow{ID: c.ID, Name: c.Name, Group: c.Group, Status: st, Held: held[c.ID], Hold: c.Hold})
	}
	return rows, nil
}

func (s *Server) index(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	v := s.base(p, "Incidents")
	var err error
	if v.Open, err = s.opts.Reads.ListIncidents(r.Context(), upstate.IncidentFilter{OpenOnly: true}); err != nil {
		s.fail(w, r, err)
		return
	}
	q := readIncidentQuery(r.URL.Query())
	if v.List, err = s.incidentPage(r.Context(), q); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Periods = periods()
	if v.Components, err = s.components(r.Context(), nil); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice = r.URL.Query().Get("done")
	if s.opts.CheckPages != nil {
		v.Live = "types=incident"
	}
	if s.opts.SLOs != nil {
		v.SLOs = s.opts.SLOs(r.Context())
	}
	if s.opts.Warnings != nil {
		v.Warnings = s.opts.Warnings()
	}
	if s.opts.Baselines != nil {
		v.Baselines = s.opts.Baselines()
	}
	s.render(w, http.StatusOK, "index", v)
}

func (s *Server) newIncident(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	v := s.base(p, "Declare an incident")
	var err error
	if v.Components, err = s.components(r.Context(), nil); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Form.Status = upstate.Investigating
	s.render(w, http.StatusOK, "new", v)
}

// readForm turns the posted form into a change; components are posted as
// component.ID=status, and only those that differ from now are sent.
// Reach and upstream are sent only when they differ from the incident's
// (was: the form's values for it, or zero values when declaring).
func (s *Server) readForm(r *http.Request, p upstate.Principal, current map[string]upstate.Status, was formValues) (formValues, incident.Change, error) {
	f := formValues{Name: strings.TrimSpace(r.PostFormValue("name")), Message: r.PostFormValue("message"), Impact: r.PostFormValue("impact"),
		Status: upstate.IncidentStatus(r.PostFormValue("status")), Internal: r.PostFormValue("internal") == "on", Set: map[string]upstate.Status{},
		Failing: strings.TrimSpace(r.PostFormValue("failing_percent")), Regions: r.PostFormValue("regions"), Segments: r.PostFormValue("segments"),
		Provider: strings.TrimSpace(r.PostFormValue("upstream_provider")), Title: strings.TrimSpace(r.PostFormValue("upstream_title")),
		URL: strings.TrimSpace(r.PostFormValue("upstream_url")), At: strings.TrimSpace(r.PostFormValue("at")), Started: strings.TrimSpace(r.PostFormValue("started_at")),
		Until: strings.TrimSpace(r.PostFormValue("until"))}
	for k, vals := range r.PostForm {
		if id, ok := strings.CutPrefix(k, "component."); ok && len(vals) > 0 && vals[0] != "" {
			if st := upstate.Status(vals[0]); st != current[id] {
				f.Set[id] = st
			}
		}
	}
	public := !f.Internal
	c := incident.Change{Name: f.Name, Status: f.Status, Impact: upstate.Impact(f.Impact), Message: f.Message, Public: &public, Actor: p.Actor()}
	var err error
	if c.At, err = s.localTime("at", f.At); err != nil {
		return f, c, err
	}
	if c.StartedAt, err = s.localTime("started_at", f.Started); err != nil {
		return f, c, err
	}
	if c.Until, err = s.localTime("until", f.Until); err != nil {
		return f, c, err
	}
	if len(f.Set) > 0 {
		c.Set = maps.Clone(f.Set)
	}
	if f.Failing != was.Failing || splitList(f.Regions) != splitList(was.Regions) || splitList(f.Segments) != splitList(was.Segments) {
		reach := upstate.Reach{Regions: strings.Split(splitList(f.Regions), ", "), Segments: strings.Split(splitList(f.Segments), ", ")}
		reach.Regions, reach.Segments = slices.DeleteFunc(reach.Regions, isBlank), slices.DeleteFunc(reach.Segments, isBlank)
		if err := parseFailing(f.Failing, &reach); err != nil {
			return f, c, err
		}
		c.Reach = &reach
	}
	if f.Provider != was.Provider || f.Title != was.Title || f.URL != was.URL {
		c.Upstream = &upstate.Upstream{Provider: f.Provider, Title: f.Title, URL: f.URL}
	}
	return f, c, nil
}

// localTime reads a "happened at" field: the page's local time as
// <input type=datetime-local> sends it (seconds optional), zero when
// empty.
func (s *Server) localTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{localInput, localInput + ":05"} {
		if t, err := time.ParseInLocation(layout, v, s.opts.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, upstate.Errorf(upstate.EINVALID, "%s: %.40q is not a date and time (YYYY-MM-DDTHH:MM)", field, v)
}

// splitList normalises a comma-separated list for comparison.
func splitList(s string) string {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.Join(slices.DeleteFunc(parts, isBlank), ", ")
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

func formatPercent(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// incidentForm is the form's reach and upstream values for an incident.
func incidentForm(in *upstate.Incident) formValues {
	f := formValues{Failing: formatFailing(in.Reach), Regions: strings.Join(in.Reach.Regions, ", "), Segments: strings.Join(in.Reach.Segments, ", ")}
	if u := in.Upstream; u != nil {
		f.Provider, f.Title, f.URL = u.Provider, u.Title, u.URL
	}
	return f
}

func (s *Server) declare(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	f, c, ferr := s.readForm(r, p, s.opts.Incidents.Statuses(), formValues{})
	v := s.base(p, "Declare an incident")
	v.Form = f
	code := http.StatusOK
	comps, err := s.components(r.Context(), nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ferr != nil {
		v.Error, code = upstate.ErrorMessage(s.inWords(ferr, incidentLabels(comps, "What users see"))), http.StatusBadRequest
	} else if r.PostFormValue("preview") != "" {
		v.Preview = s.opts.Markdown(f.Message)
	} else {
		respond.Describe(r, "tried to declare incident '%s'", c.Name)
		in, err := s.opts.Incidents.Declare(r.Context(), c)
		if err == nil {
			respond.Describe(r, "declared incident '%s' (%s)", in.Name, in.ID)
			respond.AuditTarget(r, in.ID)
			done(w, r, "/admin/incidents/"+in.ID, "Incident declared")
			return
		}
		err = s.inWords(err, incidentLabels(comps, "What users see"))
		if upstate.ErrorCode(err) == upstate.EINTERNAL {
			s.fail(w, r, err)
			return
		}
		// The form comes back as typed, whatever went wrong: nothing
		// written at 4 am is lost to a full disk.
		v.Error, code = upstate.ErrorMessage(err), respond.HTTPStatus(err)
		respond.SetRetryAfter(w, err)
	}
	v.Components = comps
	s.render(w, code, "new", v)
}

func (s *Server) incidentView(ctx context.Context, p upstate.Principal, id string) (view, error) {
	in, err := s.opts.Reads.GetIncident(ctx, id)
	if err != nil {
		return view{}, err
	}
	v := s.base(p, in.Name)
	v.Incident = in
	v.Form = incidentForm(in)
	edits, err := s.opts.Reads.ListEntryEdits(ctx, id)
	if err != nil {
		return v, err
	}
	v.Edits = map[string][]upstate.EntryEdit{}
	for i := len(edits) - 1; i >= 0; i-- {
		v.Edits[edits[i].EntryID] = append(v.Edits[edits[i].EntryID], edits[i])
	}
	v.Form.Status = in.Status
	if in.Status == upstate.Investigating {
		v.Form.Status = upstate.Identified // the usual next step, one click away
	}
	if pm, perr := s.opts.Reads.GetPostmortem(ctx, id); perr == nil {
		v.Review = reviewForm{RootCause: pm.RootCause, Contributing: pm.Contributing, Fix: pm.Fix, Actions: actionLines(pm.Actions), Status: pm.Status}
	} else if upstate.ErrorCode(perr) != upstate.ENOTFOUND {
		return v, perr
	}
	if v.CanWrite && in.MergedInto == "" {
		// Candidates to merge in: other unmerged incidents, open first.
		ins, err := s.opts.Reads.ListIncidents(ctx, upstate.IncidentFilter{Limit: 30, Unmerged: true})
		if err != nil {
			return v, err
		}
		for _, x := range ins {
			if x.ID != in.ID && (in.Open() || !x.Open()) {
				v.Others = append(v.Others, x)
			}
		}
		slices.SortStableFunc(v.Others, func(a, b *upstate.Incident) int {
			switch {
			case a.Open() == b.Open():
				return 0
			case a.Open():
				return -1
			}
			return 1
		})
	}
	if v.Screenshots, err = s.screenshots(ctx, in); err != nil {
		return v, err
	}
	v.Components, err = s.components(ctx, in.Overrides)
	return v, err
}

func (s *Server) incident(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	v, err := s.incidentView(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice = r.URL.Query().Get("done")
	s.render(w, http.StatusOK, "incident", v)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	in, err := s.opts.Reads.GetIncident(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, c, err := s.readForm(r, p, s.opts.Incidents.Statuses(), incidentForm(in))
	if r.PostFormValue("preview") == "" {
		respond.Describe(r, "tried to update incident '%s' (%s)", in.Name, id)
		if err == nil {
			_, err = s.opts.Incidents.Update(r.Context(), id, c)
		}
		if err == nil {
			respond.Describe(r, "updated incident '%s' (%s)", in.Name, id)
			http.Redirect(w, r, "/admin/incidents/"+id+"?done=Update+posted", http.StatusSeeOther)
			return
		}
		if upstate.ErrorCode(err) == upstate.EINTERNAL || upstate.ErrorCode(err) == upstate.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		v, verr := s.incidentView(r.Context(), p, id)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		v.Form, v.Error = f, upstate.ErrorMessage(s.inWords(err, incidentLabels(v.Components, "Message")))
		respond.SetRetryAfter(w, err)
		s.render(w, respond.HTTPStatus(err), "incident", v)
		return
	}
	v, err := s.incidentView(r.Context(), p, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Form, v.Preview = f, s.opts.Markdown(f.Message)
	s.render(w, http.StatusOK, "incident", v)
}

func (s *Server) reopen(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	at, err := s.localTime("at", strings.TrimSpace(r.PostFormValue("at")))
	if err != nil {
		s.fail(w, r, s.inWords(err, incidentLabels(nil, "Message")))
		return
	}
	if _, err := s.opts.Incidents.Reopen(r.Context(), id, incident.Change{Message: r.PostFormValue("message"), Actor: p.Actor(), At: at}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/incidents/"+id+"?done=Reopened", http.StatusSeeOther)
}

func (s *Server) postmortem(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	form := reviewForm{RootCause: r.PostFormValue("root_cause"), Contributing: r.PostFormValue("contributing"), Fix: r.PostFormValue("fix"), Actions: r.PostFormValue("actions")}
	show := func(code int, problem string) {
		v, err := s.incidentView(r.Context(), p, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		form.Status = v.Review.Status
		v.Review, v.Error = form, problem
		s.render(w, code, "incident", v)
	}
	if r.PostFormValue("action") == "preview" {
		form.Preview = s.opts.Markdown("**Root cause:** " + form.RootCause + "\n\n**Fix and prevention:** " + form.Fix)
		show(http.StatusOK, "")
		return
	}
	at, err := s.localTime("Published at", strings.TrimSpace(r.PostFormValue("at")))
	if err != nil {
		show(http.StatusBadRequest, upstate.ErrorMessage(err))
		return
	}
	_, err = s.opts.Reviews.Save(r.Context(), id, incident.Draft{RootCause: form.RootCause, Contributing: form.Contributing, Fix: form.Fix,
		Actions: parseActions(form.Actions), Actor: p.Actor()})
	if err == nil && r.PostFormValue("action") == "publish" {
		_, err = s.opts.Reviews.PublishAt(r.Context(), id, p.Actor(), at)
	}
	switch {
	case err == nil && r.PostFormValue("action") == "publish":
		http.Redirect(w, r, "/admin/incidents/"+id+"?done=Postmortem+published", http.StatusSeeOther)
	case err == nil:
		http.Redirect(w, r, "/admin/incidents/"+id+"?done=Postmortem+saved", http.StatusSeeOther)
	case upstate.ErrorCode(err) == upstate.EINVALID || upstate.ErrorCode(err) == upstate.ECONFLICT:
		show(http.StatusBadRequest, upstate.ErrorMessage(err))
	default:
		s.fail(w, r, err)
	}
}
