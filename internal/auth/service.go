package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"log/slog"
	"runtime"
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
	// hashes holds a slot per password hash in flight: each takes
	// Params.Memory, so their number is what bounds sign-ins' memory.
	// knownHashes is one more, for devices that signed in before; perAddr
	// counts hashes in flight per address (/64), under mu.
	hashes, knownHashes chan struct{}
	mu                  sync.Mutex
	perAddr             map[string]int
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// DeviceTTL is how long a device token vouches for a device that
	// signed in (see Throttle).
	DeviceTTL time.Duration
	// deviceKey signs device tokens.
	deviceKey []byte
}

// TokenPrefix starts every API token, so leaked ones are easy to find.
const TokenPrefix = "ups_"

// HashMemory is the memory all password hashes in flight may take
// together: with DefaultParams (19 MiB each), at most 5 at once (and one
// more for a device that signed in before). They are
// also held to half the CPUs (at least one), as each hash keeps a core
// busy for its 30 ms. Further sign-ins are refused at once with 503 rather
// than queued: a flood of sign-ins must not take the memory and CPU the
// status page and paging need, and a team signs in a few times an hour.
const HashMemory = 96 << 20

// hashSlots is how many password hashes may run at once.
func hashSlots() int {
	return max(1, min(HashMemory/(int(DefaultParams().Memory)<<10), runtime.GOMAXPROCS(0)/2))
}

// NewService returns a service; now and newID are injected for tests.
// deviceKey signs device tokens (keep it across restarts so devices stay
// known); nil makes a random one.
func NewService(s Store, now func() time.Time, newID func() string, log *slog.Logger, deviceKey []byte) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(deviceKey) == 0 {
		deviceKey = make([]byte, 32)
		_, _ = rand.Read(deviceKey)
	}
	return &Service{store: s, now: now, newID: newID, throttle: NewThrottle(now), log: log, hashes: make(chan struct{}, hashSlots()),
		knownHashes: make(chan struct{}, 1), perAddr: map[string]int{},
		SessionTTL: 12 * time.Hour, DeviceTTL: 90 * 24 * time.Hour, deviceKey: deviceKey}
}

// errBadLogin is one answer for a wrong email or a wrong password, so the
// answer does not tell which emails exist.
var errBadLogin = upstate.Errorf(upstate.EUNAUTHORIZED, "wrong email or password")

// Credentials are what a sign-in presents.
type Credentials struct {
	Email, Password string
	// Addr is the client's address (after trusted proxies), for throttling.
	Addr string
	// Device is the device token the browser holds from an earlier
	// sign-in, if any.
	Device string
	// Session is the session secret the browser holds, if any: a device
	// signed in to the account now is known too (it may predate device
	// tokens).
	Session string
}

// SignedIn is a successful sign-in: the session secret for the cookie,
// a fresh device token, and who signed in.
type SignedIn struct {
	Session    string
	SessionTTL time.Duration
	Device     string
	DeviceTTL  time.Duration
	User       upstate.User
}

// Login checks a password and starts a session. Failed sign-ins are
// throttled (see Throttle: ETOOMANY with the wait), and only a few
// passwords are hashed at once: beyond that, Login answers EUNAVAILABLE at
// once, before anything is counted.
func (s *Service) Login(ctx context.Context, c Credentials) (SignedIn, error) {
	account := strings.ToLower(strings.TrimSpace(c.Email))
	device := s.knownDevice(ctx, account, c)
	at, wait, ok := s.throttle.Begin(account, c.Addr, device)
	if !ok {
		return SignedIn{}, upstate.Later(upstate.ETOOMANY, wait, "too many failed sign-ins: try again in %s", max(wait, time.Second).Round(time.Second))
	}
	release, ok := s.hashSlot(c.Addr, device != "")
	if !ok {
		s.throttle.Cancel(at) // not checked: it does not count
		return SignedIn{}, upstate.Later(upstate.EUNAVAILABLE, time.Second, "too many sign-ins at once: try again in a moment")
	}
	defer release()
	u, err := s.store.GetUserByEmail(ctx, account)
	if err != nil && upstate.ErrorCode(err) != upstate.ENOTFOUND {
		return SignedIn{}, err
	}
	if err != nil {
		// Spend the same time as a real check so timing does not reveal
		// whether the account exists.
		_ = CheckPassword(c.Password, dummyHash())
		return SignedIn{}, errBadLogin
	}
	if err := CheckPassword(c.Password, u.PasswordHash); err != nil {
		s.log.Info("sign-in failed", "component", "auth", "user", u.ID, "addr", c.Addr)
		return SignedIn{}, errBadLogin
	}
	s.throttle.End(at, true)
	secret, hash := NewSecret("")
	now := s.now()
	if err := s.store.CreateSession(ctx, upstate.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.SessionTTL)}); err != nil {
		return SignedIn{}, err
	}
	s.log.Info("signed in", "component", "auth", "user", u.ID)
	return SignedIn{Session: secret, SessionTTL: s.SessionTTL, Device: s.deviceToken(account, now.Add(s.DeviceTTL)), DeviceTTL: s.DeviceTTL, User: u}, nil
}

// hashSlot takes a slot for hashing a password, or says there is none
// now. A device that signed in before may use the slot kept for such
// devices when the others are busy, so strangers keeping the hashes busy
// cannot keep the owner out; a stranger's address may hash one password
// at a time.
func (s *Service) hashSlot(addr string, known bool) (func(), bool) {
	key := AddressKey(addr)
	s.mu.Lock()
	if !known && s.perAddr[key] > 0 {
		s.mu.Unlock()
		return nil, false
	}
	s.perAddr[key]++
	s.mu.Unlock()
	free := func() {
		s.mu.Lock()
		if s.perAddr[key]--; s.perAddr[key] <= 0 {
			delete(s.perAddr, key)
		}
		s.mu.Unlock()
	}
	var slots chan struct{}
	select {
	case s.hashes <- struct{}{}:
		slots = s.hashes
	default:
		if !known {
			free()
			return nil, false
		}
		select {
		case s.knownHashes <- struct{}{}:
			slots = s.knownHashes
		default:
			free()
			return nil, false
		}
	}
	return func() { <-slots; free() }, true
}

// A device token says "this browser signed in to this account, and may
// say so until the expiry": the expiry (Unix seconds) and an HMAC of
// account and expiry, both base64url, joined by a dot. It grants nothing
// by itself; it only spares its holder the account- and address-wide
// sign-in limits (its own failures still count).
func (s *Service) deviceToken(account string, exp time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(exp.Unix()))
	return base64.RawURLEncoding.EncodeToString(b[:]) + "." + base64.RawURLEncoding.EncodeToString(s.deviceMAC(account, b[:]))
}

func (s *Service) deviceMAC(account string, exp []byte) []byte {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte("upstate device\x00" + account + "\x00"))
	m.Write(exp)
	return m.Sum(nil)[:16]
}

// knownDevice is the identity of the device a sign-in comes from when it
// signed in to the account before: a valid device token, or a session of
// the account that has not ended; "" when it did not.
func (s *Service) knownDevice(ctx context.Context, account string, c Credentials) string {
	if d := s.deviceOf(account, c.Device); d != "" {
		return d
	}
	if c.Session == "" {
		return ""
	}
	hash := HashSecret(c.Session)
	sess, err := s.store.GetSession(ctx, hash, s.now())
	if err != nil {
		return ""
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if err != nil || !strings.EqualFold(u.Email, account) {
		return ""
	}
	return "session:" + hash[:16]
}

// deviceOf returns the identity of a valid device token for the account
// (its signature), or "" when there is none or it is not valid.
func (s *Service) deviceOf(account, token string) string {
	e, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 64 {
		return ""
	}
	exp, err1 := base64.RawURLEncoding.DecodeString(e)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || len(exp) != 8 || !hmac.Equal(got, s.deviceMAC(account, exp)) {
		return ""
	}
	if !s.now().Before(time.Unix(int64(binary.BigEndian.Uint64(exp)), 0)) {
		return ""
	}
	return sig
}

// dummyHash is checked against when the email is unknown; made once, on
// first use.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("upstate-timing-equaliser", DefaultParams())
	return h
})

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
		if _, agent := sc.AgentRegion(); agent && slices.Contains(u.Role.Grants(), upstate.ScopeAdmin) {
			scopes = append(scopes, sc) // a probe agent's, while its maker may make one
		} else if slices.Contains(u.Role.Grants(), sc) {
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
		if region, agent := sc.AgentRegion(); agent || strings.HasPrefix(string(sc), "agent:") {
			// A probe agent's token reports its region's results and does
			// nothing else: one scope, made by an owner.
			switch {
			case !agent:
				probs = append(probs, fmt.Sprintf("scopes: %q does not name a region (lower-case letters, digits and dashes, e.g. agent:eu-west)", sc))
			case len(scopes) > 1:
				probs = append(probs, fmt.Sprintf("scopes: an agent's token carries %q alone: give it no other scope", sc))
			case region == upstate.LocalRegion:
				probs = append(probs, fmt.Sprintf("scopes: %q is this server's own region; name the agent's region", sc))
			case !p.Can(upstate.ScopeAdmin):
				return "", upstate.Token{}, upstate.Errorf(upstate.EFORBIDDEN, "only an owner (scope admin) can make a probe agent's token")
			}
			continue
		}
		if !slices.Contains(upstate.Scopes(), sc) {
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
