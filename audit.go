package upstate

import (
	"time"
	"unicode/utf8"
)

// AuditEntry is one change a person or a token made (or tried to make):
// who, what, when, from where, and how it ended. It never holds a
// request's body: passwords, tokens and webhook URLs are never in it.
type AuditEntry struct {
	ID int64 // given by the store, increasing
	At time.Time
	// Actor is who, in words: "Ana Ops <ana@example.com>", "token 'ci' of
	// Ana Ops <ana@example.com>", "command line", or the address typed at
	// a failed sign-in.
	Actor string
	// ActorKind is user, token, cli or anonymous; ActorID the user's id
	// (a token's owner's) when known.
	ActorKind string
	ActorID   string
	TokenID   string
	// Action says what in words: "declared incident 'API errors' (inc_1)".
	Action string
	// Route is the method and the route's pattern, e.g. "POST
	// /api/v1/incidents/{id}/updates"; "upstate user role" for the command
	// line.
	Route string
	// Targets are the ids acted on (the path's, and any a handler made).
	Targets []string
	// Status is the outcome: the HTTP status code answered (0 for the
	// command line's successes, which have none).
	Status    int
	Addr      string // the client's address (behind trusted proxies, the one they forwarded for)
	UserAgent string
	// Detail is what a change leaves nothing else of: a deleted
	// incident's title and timeline as they were (JSON).
	Detail string
}

// The kinds of actor an audit entry names.
const (
	ActorUser      = "user"
	ActorToken     = "token"
	ActorCLI       = "cli"
	ActorAnonymous = "anonymous"
)

// Bounds of an audit entry's fields: an entry is at most a few tens of
// kilobytes, whatever a request carried.
const (
	AuditTextMax   = 500
	AuditDetailMax = 64 << 10
	auditTargets   = 10
)

// Bounded returns the entry with each field cut to its bound.
func (e AuditEntry) Bounded() AuditEntry {
	e.Actor, e.Action, e.Route = clip(e.Actor, AuditTextMax), clip(e.Action, AuditTextMax), clip(e.Route, AuditTextMax)
	e.Addr, e.UserAgent, e.ActorID, e.TokenID = clip(e.Addr, 100), clip(e.UserAgent, 300), clip(e.ActorID, 100), clip(e.TokenID, 100)
	if len(e.Targets) > auditTargets {
		e.Targets = e.Targets[:auditTargets]
	}
	for i, t := range e.Targets {
		e.Targets[i] = clip(t, 100)
	}
	e.Detail = clip(e.Detail, AuditDetailMax)
	return e
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Actor  string // a part of the actor's words, or the user's id
	Action string // a part of the action's words or the route
	Target string // one of the targets, exactly
	From   time.Time
	To     time.Time // before, when set
	Before int64     // ids below this, for the next page; 0 for the newest
	Limit  int       // 0 for the store's default (100)
}

// AuditActor describes a principal for the audit log: words, kind, the
// user's id and the token's.
func AuditActor(p Principal) (words, kind, userID, tokenID string) {
	person := p.User.Name + " <" + p.User.Email + ">"
	if p.Token != nil {
		return "token '" + p.Token.Name + "' of " + person, ActorToken, p.User.ID, p.Token.ID
	}
	return person, ActorUser, p.User.ID, ""
}
