package adminapi

import (
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

type tokenJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	UserID    string          `json:"user_id"`
	Scopes    []upstate.Scope `json:"scopes"`
	CreatedAt time.Time       `json:"created_at"`
	LastUsed  *time.Time      `json:"last_used"`
	Revoked   bool            `json:"revoked"`
	// Token is the secret, present only in the answer that creates it.
	Token string `json:"token,omitempty"`
}

func tokenOut(t upstate.Token) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, UserID: t.UserID, Scopes: t.Scopes, CreatedAt: t.CreatedAt.UTC(), LastUsed: t.LastUsed, Revoked: t.Revoked}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	ts, err := s.opts.Auth.ListTokens(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]tokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenOut(t))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	var b struct {
		Name   string          `json:"name"`
		Scopes []upstate.Scope `json:"scopes"`
	}
	if err := respond.Decode(w, r, &b); err != nil {
		respond.Error(w, err)
		return
	}
	respond.Describe(r, "tried to create API token '%s'", b.Name)
	secret, t, err := s.opts.Auth.CreateToken(r.Context(), p, b.Name, b.Scopes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.Describe(r, "created API token '%s' (%s) with scopes %v", t.Name, t.ID, t.Scopes)
	respond.AuditTarget(r, t.ID)
	out := tokenOut(t)
	out.Token = secret
	w.Header().Set("Cache-Control", "no-store")
	respond.JSON(w, http.StatusCreated, map[string]any{"token": out, "note": "store the token now: it is not shown again"})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	s.onID(w, r, s.opts.Auth.RevokeToken)
}
