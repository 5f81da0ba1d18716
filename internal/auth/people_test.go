package auth

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// peopleStore is a hand-written fake keeping users in a map by id.
type peopleStore struct {
	users   map[string]upstate.User
	signOut func(id string) (int64, int64, error)
}

func (s *peopleStore) CreateUser(_ context.Context, u upstate.User) error {
	s.users[u.ID] = u
	return nil
}

func (s *peopleStore) GetUserByEmail(_ context.Context, email string) (upstate.User, error) {
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) {
			return u, nil
		}
	}
	return upstate.User{}, upstate.Errorf(upstate.ENOTFOUND, "no user with email %s", email)
}

func (s *peopleStore) GetUser(_ context.Context, id string) (upstate.User, error) {
	if u, ok := s.users[id]; ok {
		return u, nil
	}
	return upstate.User{}, upstate.Errorf(upstate.ENOTFOUND, "no user %q", id)
}

func (s *peopleStore) ListUsers(context.Context) ([]upstate.User, error) {
	var out []upstate.User
	for _, u := range s.users {
		out = append(out, u)
	}
	return out, nil
}

func (s *peopleStore) UpdateUser(_ context.Context, u upstate.User) error {
	s.users[u.ID] = u
	return nil
}

func (s *peopleStore) DeleteUser(_ context.Context, id string) error {
	delete(s.users, id)
	return nil
}

func (s *peopleStore) SignOutUser(_ context.Context, id string) (int64, int64, error) {
	return s.signOut(id)
}

func TestPeopleNeverLogPasswordsAndCheckThem(t *testing.T) {
	var logs bytes.Buffer
	st := &peopleStore{users: map[string]upstate.User{}, signOut: func(string) (int64, int64, error) { return 2, 1, nil }}
	clk := clock.NewFake(time.Date(2026, 8, 17, 13, 0, 0, 0, time.UTC))
	p := NewPeople(st, clk.Now, func() string { return "u1" }, slog.New(slog.NewTextHandler(&logs, nil)))
	p.params = fast
	ctx := context.Background()

	u, err := p.Add(ctx, NewUser{Email: " ann@example.com ", Name: "Ann", Role: upstate.RoleOwner, Password: "first secret passphrase"}, "test")
	if err != nil || u.Email != "ann@example.com" || !u.CreatedAt.Equal(clk.Now()) || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("add: %+v, %v", u, err)
	}
	if _, err := p.SetPassword(ctx, "ann@example.com", "short", "test"); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), "too short") {
		t.Errorf("weak password: %v", err)
	}
	if _, err := p.SetPassword(ctx, "ann@example.com", "second secret passphrase", "test"); err != nil {
		t.Fatal(err)
	}
	if err := CheckPassword("second secret passphrase", st.users["u1"].PasswordHash); err != nil {
		t.Error("the new password does not verify")
	}
	if _, err := p.SetRole(ctx, "u1", "admin", "test"); upstate.ErrorCode(err) != upstate.EINVALID {
		t.Errorf("bad role: %v", err)
	}
	if _, s, tk, err := p.SignOut(ctx, "ann@example.com", "test"); err != nil || s != 2 || tk != 1 {
		t.Errorf("sign out: %d %d %v", s, tk, err)
	}
	if _, err := p.Remove(ctx, "nobody@example.com", "test"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("remove nobody: %v", err)
	}
	for _, secret := range []string{"first secret", "second secret", "short", "$argon2id$"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
	for _, want := range []string{"user added", "user password set", "user signed out everywhere"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}
