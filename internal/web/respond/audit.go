package respond

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// AuditLog is where the admin API and UI record every change a person or
// a token makes (the store's audit log).
type AuditLog interface {
	AppendAudit(ctx context.Context, e upstate.AuditEntry) error
	ListAudit(ctx context.Context, f upstate.AuditFilter) ([]upstate.AuditEntry, error)
}

// Auditor records requests that change state in the audit log. The zero
// Auditor (no Log) records nothing.
type Auditor struct {
	Log    AuditLog
	Now    func() time.Time
	Logger *slog.Logger
	// Words are what a route does, by its pattern ("POST
	// /api/v1/silences": "created a silence"), for handlers that say
	// nothing themselves; a route in neither says its method and path.
	Words map[string]string
}

// auditNote is what a handler says of its request for the audit log.
type auditNote struct {
	action   string
	targets  []string
	recorded bool
}

type auditKey struct{}

// wildcards finds a route pattern's path wildcards ({id}, {entry}).
var wildcards = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?:\.\.\.)?\}`)

// Describe says in words what the request did (or tried to do), for the
// audit log: "declared incident 'API errors' (inc_1)". Without it the
// entry says the method and the path.
func Describe(r *http.Request, format string, args ...any) {
	if n, ok := r.Context().Value(auditKey{}).(*auditNote); ok {
		n.action = fmt.Sprintf(format, args...)
	}
}

// AuditTarget adds ids the request acted on beyond its path's (an
// incident it created).
func AuditTarget(r *http.Request, ids ...string) {
	if n, ok := r.Context().Value(auditKey{}).(*auditNote); ok {
		n.targets = append(n.targets, ids...)
	}
}

// Recorded says the change wrote its own audit entry, in the transaction
// that made it (deleting an incident): the middleware adds none.
func Recorded(r *http.Request) {
	if n, ok := r.Context().Value(auditKey{}).(*auditNote); ok {
		n.recorded = true
	}
}

// Changes reports whether a request's method changes state: those are
// audited.
func Changes(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// StatusWriter remembers the status answered (0 until one is), for the
// audit log, metrics and logs.
type StatusWriter struct {
	http.ResponseWriter
	Code int
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.Code == 0 {
		w.Code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Code == 0 {
		w.Code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Audit is the request that changes state (Changes) as the audit log will
// see it: Begin wraps the writer and the request; End records who did
// what with the status answered.
type Audit struct {
	a    Auditor
	w    *StatusWriter
	r    *http.Request
	note *auditNote
	// Refusal, when set, is why the request was refused before its
	// handler ran ("not signed in"); it leads the action's words.
	Refusal string
}

// Begin starts auditing a request: use the writer and request it returns.
// A request that changes nothing, or an Auditor without a log, is passed
// through and End does nothing.
func (a Auditor) Begin(w http.ResponseWriter, r *http.Request) (*Audit, http.ResponseWriter, *http.Request) {
	if a.Log == nil || !Changes(r) {
		return nil, w, r
	}
	n := &auditNote{}
	r = r.WithContext(context.WithValue(r.Context(), auditKey{}, n))
	sw := &StatusWriter{ResponseWriter: w}
	return &Audit{a: a, w: sw, r: r, note: n}, sw, r
}

// Entry is the audit entry of a request by p (nil when nobody is known)
// with the status answered: who, the route, its targets, from where.
func (a Auditor) Entry(r *http.Request, p *upstate.Principal, status int) upstate.AuditEntry {
	e := upstate.AuditEntry{At: a.now(), Route: r.Method + " " + patternPath(r), Status: status, Addr: ClientAddr(r), UserAgent: r.UserAgent(),
		ActorKind: upstate.ActorAnonymous, Actor: "anonymous"}
	if p != nil {
		e.Actor, e.ActorKind, e.ActorID, e.TokenID = upstate.AuditActor(*p)
	}
	for _, m := range wildcards.FindAllStringSubmatch(r.Pattern, -1) {
		if v := r.PathValue(m[1]); v != "" {
			e.Targets = append(e.Targets, v)
		}
	}
	e.Action = r.Method + " " + r.URL.Path
	if w := a.Words[r.Pattern]; w != "" {
		e.Action = w
		if len(e.Targets) > 0 {
			e.Action += " " + strings.Join(e.Targets, " ")
		}
	}
	return e
}

// patternPath is the route's pattern without its method: what was asked
// for, whatever the ids.
func patternPath(r *http.Request) string {
	if r.Pattern == "" {
		return r.URL.Path
	}
	_, path, ok := strings.Cut(r.Pattern, " ")
	if !ok {
		return r.Pattern
	}
	return path
}

func (a Auditor) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// End records the request as made by p (nil for nobody known), unless
// its change recorded itself.
func (x *Audit) End(p *upstate.Principal) {
	if x == nil || x.note.recorded {
		return
	}
	status := x.w.Code
	if status == 0 {
		status = http.StatusOK
	}
	e := x.a.Entry(x.r, p, status)
	if x.note.action != "" {
		e.Action = x.note.action
	}
	switch {
	case x.Refusal != "":
		e.Action = "refused (" + x.Refusal + "): " + e.Action
	case status >= 400 && !strings.HasPrefix(e.Action, "tried ") && !strings.HasPrefix(e.Action, "failed ") && !strings.HasPrefix(e.Action, "refused "):
		// What was not done is not worded as done.
		e.Action = fmt.Sprintf("failed (%d): %s", status, e.Action)
	}
	for _, t := range x.note.targets {
		if !slices.Contains(e.Targets, t) {
			e.Targets = append(e.Targets, t)
		}
	}
	x.a.Record(x.r.Context(), e)
}

// Record writes an entry through the store's normal write path. It never
// fails the change it records (that is made already): an entry the store
// refuses is logged in full, loudly, so the change still has its trace.
func (a Auditor) Record(ctx context.Context, e upstate.AuditEntry) {
	if a.Log == nil {
		return
	}
	// The request's end (the client leaving) must not lose its record.
	if err := a.Log.AppendAudit(context.WithoutCancel(ctx), e); err != nil && a.Logger != nil {
		a.Logger.Error("audit entry not written", "component", "audit", "err", err, "actor", e.Actor, "action", e.Action, "route", e.Route,
			"targets", strings.Join(e.Targets, ","), "status", e.Status, "addr", e.Addr, "at", e.At)
	}
}

// SignInAs is how a sign-in's typed address is named in the audit log:
// quoted when it looks like an email address, else not at all (a password
// typed into the wrong field must never be recorded).
func SignInAs(email string) string {
	email = strings.TrimSpace(email)
	at := strings.IndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || len(email) > 254 || strings.ContainsAny(email, " \t\r\n\"<>") {
		return "an address that is not an email"
	}
	return fmt.Sprintf("%q", email)
}
