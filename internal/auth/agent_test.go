package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
)

// A probe agent's token carries its region's scope alone: an owner makes
// it, it can do nothing else, and it stops working when its maker is no
// longer an owner.
func TestAgentTokens(t *testing.T) {
	ctx := context.Background()
	refused := []struct {
		name   string
		by     upstate.Principal
		scopes []upstate.Scope
		want   string
	}{
		{"with other scopes", session(olga), []upstate.Scope{upstate.AgentScope("eu"), upstate.ScopeRead}, "carries \"agent:eu\" alone"},
		{"bad region", session(olga), []upstate.Scope{"agent:EU West"}, "does not name a region"},
		{"the server's own", session(olga), []upstate.Scope{upstate.AgentScope("local")}, "this server's own region"},
		{"by a responder", session(rui), []upstate.Scope{upstate.AgentScope("eu")}, "only an owner"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tokenService(newAccounts(olga, rui)).CreateToken(ctx, tt.by, "probe", tt.scopes)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	st := newAccounts(olga)
	s := tokenService(st)
	secret, _, err := s.CreateToken(ctx, session(olga), "eu probe", []upstate.Scope{upstate.AgentScope("eu")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.FromToken(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := p.AgentRegion(); !ok || r != "eu" {
		t.Fatalf("region %q %v", r, ok)
	}
	for _, sc := range upstate.Scopes() {
		if p.Can(sc) {
			t.Fatalf("an agent's token can %s", sc)
		}
	}
	st.setRole("olga", upstate.RoleResponder)
	if p, _ := s.FromToken(ctx, secret); len(p.Scopes) != 0 {
		t.Fatalf("the maker is no longer an owner, the token still has %v", p.Scopes)
	}
}
