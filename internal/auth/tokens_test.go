package auth

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// accounts is a hand-written fake store of users and API tokens whose
// roles a test can change, as an owner demoting someone would.
type accounts struct {
	mu     sync.Mutex
	users  map[string]upstate.User
	tokens map[string]upstate.Token // by hash
}

func newAccounts(us ...upstate.User) *accounts {
	a := &accounts{users: map[string]upstate.User{}, tokens: map[string]upstate.Token{}}
	for _, u := range us {
		a.users[u.ID] = u
	}
	return a
}

func (a *accounts) setRole(id string, r upstate.Role) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users[id]
	u.Role = r
	a.users[id] = u
}

func (a *accounts) stored() []upstate.Token {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []upstate.Token
	for _, t := range a.tokens {
		out = append(out, t)
	}
	return out
}

func (a *accounts) GetUser(_ context.Context, id string) (upstate.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[id]
	if !ok {
		return upstate.User{}, upstate.Errorf(upstate.ENOTFOUND, "no user %q", id)
	}
	return u, nil
}
func (a *accounts) GetUserByEmail(context.Context, string) (upstate.User, error) {
	return upstate.User{}, upstate.Errorf(upstate.ENOTFOUND, "no user")
}
func (a *accounts) CreateSession(context.Context, upstate.Session) error { return nil }
func (a *accounts) GetSession(context.Context, string, time.Time) (upstate.Session, error) {
	return upstate.Session{}, upstate.Errorf(upstate.ENOTFOUND, "no session")
}
func (a *accounts) DeleteSession(context.Context, string) error { return nil }
func (a *accounts) CreateToken(_ context.Context, t upstate.Token) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[t.Hash] = t
	return nil
}
func (a *accounts) GetTokenByHash(_ context.Context, hash string, _ time.Time) (upstate.Token, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[hash]
	if !ok || t.Revoked {
		return upstate.Token{}, upstate.Errorf(upstate.ENOTFOUND, "no token")
	}
	return t, nil
}
func (a *accounts) ListTokens(context.Context) ([]upstate.Token, error) { return a.stored(), nil }
func (a *accounts) RevokeToken(context.Context, string) error           { return nil }

var (
	olga = upstate.User{ID: "olga", Name: "Olga", Role: upstate.RoleOwner}
	rui  = upstate.User{ID: "rui", Name: "Rui", Role: upstate.RoleResponder}
	vic  = upstate.User{ID: "vic", Name: "Vic", Role: upstate.RoleViewer}
)

func tokenService(st *accounts) *Service {
	return NewService(st, func() time.Time { return t7 }, func() string { return "tok1" }, nil, []byte("0123456789abcdef0123456789abcdef"))
}

func session(u upstate.User) upstate.Principal {
	return upstate.Principal{User: u, Scopes: u.Role.Grants()}
}

// A token never carries a scope its maker does not hold: the refusal
// names the scope and nothing is stored. A token making tokens holds
// only its own scopes, not its owner's.
func TestCreateTokenRefusesScopesNotHeld(t *testing.T) {
	adminOnly := &upstate.Token{ID: "t0", Name: "provisioner", UserID: "olga", Scopes: []upstate.Scope{upstate.ScopeAdmin}}
	tests := []struct {
		name   string
		by     upstate.Principal
		scopes []upstate.Scope
		want   string // the refusal's message; "" when allowed
	}{
		{"responder asks for admin", session(rui), []upstate.Scope{upstate.ScopeAdmin}, `you cannot grant "admin": you do not hold it`},
		{"responder slips admin in with what it holds", session(rui), []upstate.Scope{upstate.ScopeRead, upstate.ScopeIncidents, upstate.ScopeAdmin}, `you cannot grant "admin"`},
		{"viewer asks for incidents:write", session(vic), []upstate.Scope{upstate.ScopeRead, upstate.ScopeIncidents}, `you cannot grant "incidents:write"`},
		{"admin-only token asks for incidents:write", upstate.Principal{User: olga, Token: adminOnly, Scopes: adminOnly.Scopes}, []upstate.Scope{upstate.ScopeIncidents}, `you cannot grant "incidents:write"`},
		{"admin-only token asks for admin", upstate.Principal{User: olga, Token: adminOnly, Scopes: adminOnly.Scopes}, []upstate.Scope{upstate.ScopeAdmin}, ""},
		{"responder asks for what it holds", session(rui), []upstate.Scope{upstate.ScopeIncidents, upstate.ScopeRead}, ""},
		{"owner asks for admin", session(olga), []upstate.Scope{upstate.ScopeAdmin, upstate.ScopeRead}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newAccounts(olga, rui, vic)
			secret, tok, err := tokenService(st).CreateToken(context.Background(), tt.by, "bot", tt.scopes)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CreateToken(%v) = %v, want a token", tt.scopes, err)
				}
				if got, want := tok.Scopes, slices.Sorted(slices.Values(tt.scopes)); !slices.Equal(got, want) || !strings.HasPrefix(secret, TokenPrefix) {
					t.Errorf("token scopes = %v (secret %q), want %v", got, secret, want)
				}
				return
			}
			if got := upstate.ErrorCode(err); got != upstate.EFORBIDDEN || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CreateToken(%v) = %v (%s), want EFORBIDDEN saying %q", tt.scopes, err, got, tt.want)
			}
			if got := st.stored(); len(got) != 0 || secret != "" {
				t.Errorf("a refused token was stored or returned: %+v, secret %q", got, secret)
			}
		})
	}
}

// A token's scopes are clamped to what its maker's role grants when it
// is used, not when it was made: an owner's admin token loses admin the
// moment the owner is demoted, and has it again if they are promoted.
func TestFromTokenClampsToTheRoleToday(t *testing.T) {
	st := newAccounts(olga)
	s := tokenService(st)
	ctx := context.Background()
	secret, _, err := s.CreateToken(ctx, session(olga), "ops bot", []upstate.Scope{upstate.ScopeAdmin, upstate.ScopeIncidents, upstate.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		role upstate.Role
		want []upstate.Scope
	}{
		{upstate.RoleOwner, []upstate.Scope{upstate.ScopeAdmin, upstate.ScopeIncidents, upstate.ScopeRead}},
		{upstate.RoleResponder, []upstate.Scope{upstate.ScopeIncidents, upstate.ScopeRead}},
		{upstate.RoleViewer, []upstate.Scope{upstate.ScopeRead}},
		{upstate.RoleOwner, []upstate.Scope{upstate.ScopeAdmin, upstate.ScopeIncidents, upstate.ScopeRead}},
	}
	for _, tt := range tests {
		st.setRole("olga", tt.role)
		p, err := s.FromToken(ctx, secret)
		if err != nil {
			t.Fatalf("as %s: %v", tt.role, err)
		}
		if !slices.Equal(p.Scopes, tt.want) {
			t.Errorf("maker now %s: token scopes %v, want %v", tt.role, p.Scopes, tt.want)
		}
		for _, sc := range upstate.Scopes() {
			if got, want := p.Can(sc), slices.Contains(tt.want, sc); got != want {
				t.Errorf("maker now %s: Can(%s) = %v, want %v", tt.role, sc, got, want)
			}
		}
		if p.Token == nil || p.Token.Name != "ops bot" || p.User.Role != tt.role {
			t.Errorf("maker now %s: principal = %+v", tt.role, p)
		}
	}
	// The stored token keeps what it was made with; only its use is clamped.
	if got := st.stored(); len(got) != 1 || !slices.Equal(got[0].Scopes, tests[0].want) {
		t.Errorf("stored tokens = %+v", got)
	}
}
