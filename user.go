package upstate

import (
	"slices"
	"strings"
	"time"
)

// Role is what a person may do.
type Role string

// The roles, from most to least trusted.
const (
	RoleOwner     Role = "owner"     // everything, including users and tokens
	RoleResponder Role = "responder" // incidents, components, maintenances, postmortems
	RoleViewer    Role = "viewer"    // reads the admin side, changes nothing
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleResponder || r == RoleViewer }

// Scope is one permission an API token can carry.
type Scope string

// The scopes. A person's role grants a set of them; a token carries the
// ones it was created with, never more than its creator's role allows.
const (
	ScopeRead         Scope = "read"
	ScopeIncidents    Scope = "incidents:write"
	ScopeComponents   Scope = "components:write"
	ScopeMaintenances Scope = "maintenances:write"
	ScopePostmortems  Scope = "postmortems:write"
	ScopeAdmin        Scope = "admin" // users and tokens
	// ScopeMetrics pushes numbers (POST /api/v1/metrics): give it alone
	// to the app that reports them.
	ScopeMetrics Scope = "metrics:write"
	// ScopeChecks creates, edits, pauses and deletes checks made in the
	// console (the admin API and UI); checks in the file stay the file's.
	ScopeChecks Scope = "checks:write"
)

// agentPrefix starts a probe agent's scope: "agent:eu".
const agentPrefix = "agent:"

// AgentScope is the one scope a probe agent's token carries: it may read
// the checks of its region and report their results, and nothing else.
// Only an owner may make one, and never with other scopes.
func AgentScope(region string) Scope { return Scope(agentPrefix + region) }

// AgentRegion is the region of an agent's scope ("agent:eu" → "eu").
func (s Scope) AgentRegion() (string, bool) {
	r, ok := strings.CutPrefix(string(s), agentPrefix)
	return r, ok && ValidRegion(r)
}

// AgentRegion is the region a probe agent's principal reports for: its
// token's one agent scope.
func (p Principal) AgentRegion() (string, bool) {
	if p.Token == nil || len(p.Scopes) != 1 {
		return "", false
	}
	return p.Scopes[0].AgentRegion()
}

// LocalRegion is the server's own region: a check naming it among its
// regions is probed by the server as well as by agents.
const LocalRegion = "local"

// ValidRegion reports whether name can name a region: lower-case
// letters, digits and dashes, at most 32, starting with a letter or digit.
func ValidRegion(name string) bool {
	if name == "" || len(name) > 32 || name[0] == '-' {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Scopes lists every scope.
func Scopes() []Scope {
	return []Scope{ScopeRead, ScopeIncidents, ScopeComponents, ScopeMaintenances, ScopePostmortems, ScopeMetrics, ScopeChecks, ScopeAdmin}
}

// Grants returns the scopes a role grants.
func (r Role) Grants() []Scope {
	switch r {
	case RoleOwner:
		return Scopes()
	case RoleResponder:
		return []Scope{ScopeRead, ScopeIncidents, ScopeComponents, ScopeMaintenances, ScopePostmortems, ScopeMetrics, ScopeChecks}
	case RoleViewer:
		return []Scope{ScopeRead}
	}
	return nil
}

// User is a person who signs in to the admin side.
type User struct {
	ID           string
	Email        string
	Name         string
	Role         Role
	PasswordHash string // PHC-format argon2id; never shown
	CreatedAt    time.Time
}

// Session is a signed-in browser. Only the hash of its token is kept.
type Session struct {
	TokenHash string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Token is an API token for automation. Only the hash of its secret is
// kept; the secret is shown once, when it is made.
type Token struct {
	ID        string
	Name      string
	UserID    string // who made it; its scopes never exceed that user's role
	Scopes    []Scope
	Hash      string
	CreatedAt time.Time
	LastUsed  *time.Time
	Revoked   bool
}

// Has reports whether the token carries the scope.
func (t Token) Has(s Scope) bool { return slices.Contains(t.Scopes, s) }

// Principal is who is making a request: a person in a session, or a token.
type Principal struct {
	User   User
	Token  *Token // nil for a session
	Scopes []Scope
}

// Can reports whether the principal holds the scope.
func (p Principal) Can(s Scope) bool { return slices.Contains(p.Scopes, s) }

// Actor is the name written on timeline entries the principal makes.
func (p Principal) Actor() string {
	if p.Token != nil {
		return p.User.Name + " (token " + p.Token.Name + ")"
	}
	return p.User.Name
}

// OnCallOverride puts a person on call on a schedule for a while, above
// its rotations; people add them at runtime.
type OnCallOverride struct {
	ID        string
	Schedule  string
	Person    string
	From      time.Time
	Until     time.Time
	CreatedBy string
	CreatedAt time.Time
}
