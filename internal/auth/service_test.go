package auth

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// oneUser is a hand-written fake store with one account.
type oneUser struct {
	u        upstate.User
	mu       sync.Mutex
	sessions map[string]upstate.Session
	started  chan struct{} // when set, GetUserByEmail reports and waits on release
	release  chan struct{}
}

func (s *oneUser) GetUser(context.Context, string) (upstate.User, error) { return s.u, nil }
func (s *oneUser) GetUserByEmail(_ context.Context, email string) (upstate.User, error) {
	if s.started != nil {
		s.started <- struct{}{}
		<-s.release
	}
	if email != s.u.Email {
		return upstate.User{}, upstate.Errorf(upstate.ENOTFOUND, "no user")
	}
	return s.u, nil
}
func (s *oneUser) CreateSession(_ context.Context, sess upstate.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = map[string]upstate.Session{}
	}
	s.sessions[sess.TokenHash] = sess
	return nil
}
func (s *oneUser) GetSession(_ context.Context, hash string, now time.Time) (upstate.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions[hash]; ok && now.Before(sess.ExpiresAt) {
		return sess, nil
	}
	return upstate.Session{}, upstate.Errorf(upstate.ENOTFOUND, "no session")
}
func (s *oneUser) DeleteSession(context.Context, string) error      { return nil }
func (s *oneUser) CreateToken(context.Context, upstate.Token) error { return nil }
func (s *oneUser) GetTokenByHash(context.Context, string, time.Time) (upstate.Token, error) {
	return upstate.Token{}, nil
}
func (s *oneUser) ListTokens(context.Context) ([]upstate.Token, error) { return nil, nil }
func (s *oneUser) RevokeToken(context.Context, string) error           { return nil }

func newService(t *testing.T, now *time.Time) (*Service, *oneUser) {
	t.Helper()
	h, err := HashPassword("owner password 1", fast)
	if err != nil {
		t.Fatal(err)
	}
	st := &oneUser{u: upstate.User{ID: "u1", Email: "owner@acme.example", PasswordHash: h, Role: upstate.RoleOwner}}
	return NewService(st, func() time.Time { return *now }, func() string { return "id" }, nil, []byte("0123456789abcdef0123456789abcdef")), st
}

// A device that signed in before gets in past the limits strangers
// trigger; a token for another account, a forged or an expired one does
// not.
func TestDeviceTokenSparesTheOwner(t *testing.T) {
	now := t7
	s, _ := newService(t, &now)
	ctx := context.Background()
	in, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.1"})
	if err != nil || in.Device == "" || in.DeviceTTL != 90*24*time.Hour || in.SessionTTL != 12*time.Hour {
		t.Fatalf("login: %+v, %v", in, err)
	}
	for range 10 {
		s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "wrong wrong wrong", Addr: "192.0.2.1"})
	}
	_, err = s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.1"})
	if upstate.ErrorCode(err) != upstate.ETOOMANY || upstate.RetryAfterOf(err) <= 0 {
		t.Errorf("right password after guesses from the same address, no device: %v, want ETOOMANY with a wait", err)
	}
	if _, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.1", Device: in.Device}); err != nil {
		t.Errorf("right password from the owner's known device: %v", err)
	}
	other := s.deviceToken("someone@acme.example", now.Add(time.Hour))
	forged := in.Device[:len(in.Device)-2] + "AA"
	expired := s.deviceToken("owner@acme.example", now.Add(-time.Second))
	for name, tok := range map[string]string{"another account's": other, "forged": forged, "expired": expired, "junk": "x.y"} {
		if got := s.deviceOf("owner@acme.example", tok); got != "" {
			t.Errorf("%s device token accepted", name)
		}
	}
	if s.deviceOf("owner@acme.example", in.Device) == "" {
		t.Error("the device token the sign-in gave is not accepted")
	}
}

// Only a few passwords are hashed at once: beyond that a sign-in is
// refused at once with EUNAVAILABLE and a Retry-After, and not counted. A
// device that signed in before has a slot kept for it, so strangers
// keeping the hashes busy cannot keep the owner out; a stranger's address
// hashes one password at a time.
func TestLoginBoundsHashesInFlight(t *testing.T) {
	now := t7
	s, st := newService(t, &now)
	ctx := context.Background()
	owner, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.200"})
	if err != nil {
		t.Fatal(err)
	}
	st.started, st.release = make(chan struct{}), make(chan struct{})
	slots := cap(s.hashes)
	if want := max(1, min(5, runtime.GOMAXPROCS(0)/2)); slots != want {
		t.Fatalf("%d hash slots, want %d (HashMemory over one hash's memory, at most half the CPUs)", slots, want)
	}
	var wg sync.WaitGroup
	for i := range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "wrong wrong wrong", Addr: fmt.Sprintf("198.51.100.%d", i)})
		}()
		<-st.started
	}
	_, err = s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.9"})
	if upstate.ErrorCode(err) != upstate.EUNAVAILABLE || upstate.RetryAfterOf(err) != time.Second {
		t.Errorf("a stranger's sign-in with every slot busy: %v, want EUNAVAILABLE, retry after 1s", err)
	}
	// The owner's browser gets the slot kept for known devices.
	known := make(chan error, 1)
	go func() {
		_, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.9", Device: owner.Device})
		known <- err
	}()
	<-st.started // it is being checked, not refused
	// A second stranger's sign-in from an address already hashing one waits
	// its turn: refused at once.
	_, err = s.Login(ctx, Credentials{Email: "someone@acme.example", Password: "wrong wrong wrong", Addr: "198.51.100.0"})
	if upstate.ErrorCode(err) != upstate.EUNAVAILABLE {
		t.Errorf("a second sign-in from an address hashing one: %v, want EUNAVAILABLE", err)
	}
	close(st.release)
	wg.Wait()
	if err := <-known; err != nil {
		t.Errorf("the owner's known device while strangers held every slot: %v", err)
	}
	st.started = nil
	if _, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.9"}); err != nil {
		t.Errorf("once the slots are free: %v", err)
	}
	// Refused for want of a slot, an attempt does not count: the address
	// that got EUNAVAILABLE has all its free failures left.
	for range 5 {
		if _, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "wrong wrong wrong", Addr: "192.0.2.9"}); upstate.ErrorCode(err) != upstate.EUNAUTHORIZED {
			t.Fatalf("a free failure: %v", err)
		}
	}
}

// A browser that holds a session of the account (signed in before device
// tokens existed, say) is a known device too; someone else's session, or
// an ended one, is not.
func TestSessionHolderIsKnown(t *testing.T) {
	now := t7
	s, _ := newService(t, &now)
	ctx := context.Background()
	in, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "wrong wrong wrong", Addr: "192.0.2.1"})
	}
	if _, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.1", Session: in.Session}); err != nil {
		t.Errorf("the owner's browser, holding a session: %v", err)
	}
	if _, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.1", Session: "made-up"}); upstate.ErrorCode(err) != upstate.ETOOMANY {
		t.Errorf("a made-up session: %v, want ETOOMANY", err)
	}
	now = now.Add(13 * time.Hour) // past the session's 12 h
	for range 10 {
		s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "wrong wrong wrong", Addr: "192.0.2.1"})
	}
	if _, err := s.Login(ctx, Credentials{Email: "owner@acme.example", Password: "owner password 1", Addr: "192.0.2.1", Session: in.Session}); upstate.ErrorCode(err) != upstate.ETOOMANY {
		t.Errorf("an ended session: %v, want ETOOMANY", err)
	}
}
