package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
)

// Store is what the service keeps accounts in.
type Store interface {
	GetUser(ctx context.Context, id string) (upstate.User, error)
	GetUserByEmail(ctx context.Context, email string) (upstate.User, error)
	CreateSession(ctx context.Context, s upstate.Session) error
	GetSession(ctx context.Context, tokenHash string, now time.Time) (upstate.Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	CreateToken(ctx context.Context, t upstate.Token) error
	GetTokenByHash(ctx context.Context, hash string, now time.Time) (upstate.Token, error)
	ListTokens(ctx context.Context) ([]upstate.Token, error)
	RevokeToken(ctx context.Context, id string) error
}

// Service signs people in and out and tells who a request comes from.
type Service struct {
	store    Store
	now      func() time.Time
	newID    func() string
	throttle *Throttle
	log      *slog.Logger
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
}

// TokenPrefix starts every API token, so leaked ones are easy to find.
const TokenPrefix = "ups_"

// NewService returns a service; now and newID are injected for tests.
func NewService(s Store, now func() time.Time, newID func() string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, now: now, newID: newID, throttle: NewThrottle(now), log: log, SessionTTL: 12 * time.Hour}
}

// errBadLogin is one answer for a wrong email or a wrong password, so the
// answer does not tell which emails exist.
var errBadLogin = upstate.Errorf(upstate.EUNAUTHORIZED, "wrong email or password")

// ThrottledError says how long to wait before trying again.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %s", e.Wait.Round(time.Second))
}

// Login checks a password and returns a new session secret (for the
// cookie). addr is the client's address, for throttling.
func (s *Service) Login(ctx context.Context, email, password, addr string) (string, upstate.User, error) {
	account := strings.ToLower(strings.TrimSpace(email))
	if ok, wait := s.throttle.Allow(account, addr); !ok {
		return "", upstate.User{}, &ThrottledError{Wait: wait}
	}
	u, err := s.store.GetUserByEmail(ctx, account)
	if err != nil && upstate.ErrorCode(err) != upstate.ENOTFOUND {
		return "", upstate.User{}, err
	}
	if err != nil {
		// Spend the same time as a real check so timing does not reveal
		// whether the account exists.
		_ = CheckPassword(password, dummyHash())
		s.throttle.Failed(account, addr)
		return "", upstate.User{}, errBadLogin
	}
	if err := CheckPassword(password, u.PasswordHash); err != nil {
		s.throttle.Failed(account, addr)
		s.log.Info("sign-in failed", "component", "auth", "user", u.ID, "addr", addr)
		return "", upstate.User{}, errBadLogin
	}
	s.throttle.Succeeded(account)
	secret, hash := NewSecret("")
	now := s.now()
	if err := s.store.CreateSession(ctx, upstate.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.SessionTTL)}); err != nil {
		return "", upstate.User{}, err
	}
	s.log.Info("signed in", "component", "auth", "user", u.ID)
	return secret, u, nil
}

// dummyHash is checked against when the email is unknown; made once, on
// first use.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("upstate-timing-equaliser", DefaultParams)
	return h
})

// SessionLifetime is how long a sign-in lasts, for the cookie.
func (s *Service) SessionLifetime() time.Duration { return s.SessionTTL }

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, sessionSecret string) error {
	return s.store.DeleteSession(ctx, HashSecret(sessionSecret))
}

// FromSession returns the principal of a session secret.
func (s *Service) FromSession(ctx context.Context, secret string) (upstate.Principal, error) {
	sess, err := s.store.GetSession(ctx, HashSecret(secret), s.now())
	if err != nil {
		return upstate.Principal{}, unauthorized(err, "your session has ended: sign in again")
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if err != nil {
		return upstate.Principal{}, unauthorized(err, "your account no longer exists")
	}
	return upstate.Principal{User: u, Scopes: u.Role.Grants()}, nil
}

// FromToken returns the principal of an API token: its scopes, never more
// than its creator's role grants today.
func (s *Service) FromToken(ctx context.Context, secret string) (upstate.Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return upstate.Principal{}, upstate.Errorf(upstate.EUNAUTHORIZED, "that is not an Upstate API token (they start with %s)", TokenPrefix)
	}
	t, err := s.store.GetTokenByHash(ctx, HashSecret(secret), s.now())
	if err != nil {
		return upstate.Principal{}, unauthorized(err, "unknown or revoked API token")
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if err != nil {
		return upstate.Principal{}, unauthorized(err, "the token's owner no longer exists")
	}
	var scopes []upstate.Scope
	for _, sc := range t.Scopes {
		if slices.Contains(u.Role.Grants(), sc) {
			scopes = append(scopes, sc)
		}
	}
	return upstate.Principal{User: u, Token: &t, Scopes: scopes}, nil
}

func unauthorized(err error, msg string) error {
	if upstate.ErrorCode(err) == upstate.ENOTFOUND {
		return upstate.Errorf(upstate.EUNAUTHORIZED, "%s", msg)
	}
	return err
}

// CreateToken makes an API token for the principal with the scopes
// asked for, which must be ones the principal holds. The secret is
// returned once and never stored.
func (s *Service) CreateToken(ctx context.Context, p upstate.Principal, name string, scopes []upstate.Scope) (string, upstate.Token, error) {
	var probs []string
	if strings.TrimSpace(name) == "" {
		probs = append(probs, "name is required")
	}
	if len(scopes) == 0 {
		probs = append(probs, "scopes is required (e.g. [\"read\", \"incidents:write\"])")
	}
	for _, sc := range scopes {
		if !slices.Contains(upstate.Scopes, sc) {
			probs = append(probs, fmt.Sprintf("scopes: %q is not a scope", sc))
		} else if !p.Can(sc) {
			return "", upstate.Token{}, upstate.Errorf(upstate.EFORBIDDEN, "you cannot grant %q: you do not hold it", sc)
		}
	}
	if len(probs) > 0 {
		return "", upstate.Token{}, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	secret, hash := NewSecret(TokenPrefix)
	t := upstate.Token{ID: s.newID(), Name: strings.TrimSpace(name), UserID: p.User.ID, Scopes: slices.Compact(slices.Sorted(slices.Values(scopes))), Hash: hash, CreatedAt: s.now()}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", upstate.Token{}, err
	}
	s.log.Info("api token created", "component", "auth", "token", t.ID, "user", p.User.ID, "scopes", joinScopes(t.Scopes))
	return secret, t, nil
}

// ListTokens lists every token (without secrets).
func (s *Service) ListTokens(ctx context.Context) ([]upstate.Token, error) {
	return s.store.ListTokens(ctx)
}

// RevokeToken revokes a token.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	return s.store.RevokeToken(ctx, id)
}

func joinScopes(ss []upstate.Scope) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ",")
}

// IsThrottled reports whether err is a throttling refusal, and the wait.
func IsThrottled(err error) (time.Duration, bool) {
	var t *ThrottledError
	if errors.As(err, &t) {
		return t.Wait, true
	}
	return 0, false
}
