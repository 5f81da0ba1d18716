package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// PeopleStore is what People keeps users in.
type PeopleStore interface {
	CreateUser(ctx context.Context, u upstate.User) error
	GetUserByEmail(ctx context.Context, email string) (upstate.User, error)
	GetUser(ctx context.Context, id string) (upstate.User, error)
	ListUsers(ctx context.Context) ([]upstate.User, error)
	UpdateUser(ctx context.Context, u upstate.User) error
	DeleteUser(ctx context.Context, id string) error
	SignOutUser(ctx context.Context, id string) (sessions, tokens int64, err error)
}

// People manages who may sign in: the command line's `upstate user` and
// the owners' page in the admin UI both go through it. Passwords pass
// CheckNewPassword and are never logged.
type People struct {
	store  PeopleStore
	now    func() time.Time
	newID  func() string
	log    *slog.Logger
	params Params
	// audit, when set, records each change (the command line's People;
	// the web records its requests itself).
	audit func(ctx context.Context, e upstate.AuditEntry) error
	// cli names who is at the command line, in the audit log.
	cli string
}

// RecordedAs returns People that record each change they make in the
// audit log through rec, as made from the command line: the `upstate
// user` commands, which no request middleware sees. The change is made
// first; a record the store refuses is returned as an error saying the
// change was made, so the command fails loudly rather than leave no trace.
// who names the person at the command line ("command line (dana@db1)").
func (p *People) RecordedAs(rec func(ctx context.Context, e upstate.AuditEntry) error, who string) *People {
	cp := *p
	cp.audit, cp.cli = rec, who
	if cp.cli == "" {
		cp.cli = "command line"
	}
	return &cp
}

// record writes the audit entry of a change from the command line.
func (p *People) record(ctx context.Context, cmd, action string, targets ...string) error {
	if p.audit == nil {
		return nil
	}
	e := upstate.AuditEntry{At: p.now(), Actor: p.cli, ActorKind: upstate.ActorCLI, Action: action, Route: "upstate user " + cmd, Targets: targets}
	if err := p.audit(ctx, e); err != nil {
		p.log.Error("audit entry not written", "component", "audit", "action", action, "err", err)
		return fmt.Errorf("%s, but the audit log did not record it: %w", action, err)
	}
	return nil
}

// NewPeople returns People over the store; log may be nil.
func NewPeople(s PeopleStore, now func() time.Time, newID func() string, log *slog.Logger) *People {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &People{store: s, now: now, newID: newID, log: log, params: DefaultParams()}
}

// NewUser is what adding a user asks for.
type NewUser struct {
	Email    string
	Name     string
	Role     upstate.Role
	Password string
}

// Validate names every field that is wrong.
func (u NewUser) Validate() error {
	var probs []string
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != strings.TrimSpace(u.Email) {
		probs = append(probs, fmt.Sprintf("email %q is not an email address", u.Email))
	}
	if strings.TrimSpace(u.Name) == "" {
		probs = append(probs, "name is required")
	}
	if err := checkRole(u.Role); err != nil {
		probs = append(probs, err.Error())
	}
	if err := CheckNewPassword(u.Password); err != nil {
		probs = append(probs, err.Error())
	}
	if len(probs) > 0 {
		return upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	return nil
}

func checkRole(r upstate.Role) error {
	if !r.Valid() {
		return fmt.Errorf("role %q is not one of owner, responder, viewer", r)
	}
	return nil
}

// List returns every user, oldest first.
func (p *People) List(ctx context.Context) ([]upstate.User, error) {
	return p.store.ListUsers(ctx)
}

// Count says how many users there are (none: the login page says how to
// make the first owner).
func (p *People) Count(ctx context.Context) (int, error) {
	us, err := p.store.ListUsers(ctx)
	return len(us), err
}

// Add creates a user.
func (p *People) Add(ctx context.Context, nu NewUser, actor string) (upstate.User, error) {
	if err := nu.Validate(); err != nil {
		return upstate.User{}, err
	}
	hash, err := HashPassword(nu.Password, p.params)
	if err != nil {
		return upstate.User{}, upstate.Errorf(upstate.EINVALID, "%s", err)
	}
	u := upstate.User{ID: p.newID(), Email: strings.TrimSpace(nu.Email), Name: strings.TrimSpace(nu.Name), Role: nu.Role, PasswordHash: hash, CreatedAt: p.now().UTC()}
	if err := p.store.CreateUser(ctx, u); err != nil {
		return upstate.User{}, err
	}
	p.log.Info("user added", "component", "auth", "user", u.ID, "email", u.Email, "role", string(u.Role), "by", actor)
	return u, p.record(ctx, "add", fmt.Sprintf("added user %s <%s> as %s", u.Name, u.Email, u.Role), u.ID)
}

// Get returns a user by id or, if ref contains @, by email.
func (p *People) Get(ctx context.Context, ref string) (upstate.User, error) {
	if strings.Contains(ref, "@") {
		return p.store.GetUserByEmail(ctx, ref)
	}
	return p.store.GetUser(ctx, ref)
}

// SetRole changes a user's role; the last owner keeps theirs (ECONFLICT).
func (p *People) SetRole(ctx context.Context, ref string, role upstate.Role, actor string) (upstate.User, error) {
	if err := checkRole(role); err != nil {
		return upstate.User{}, upstate.Errorf(upstate.EINVALID, "%s", err)
	}
	u, err := p.Get(ctx, ref)
	if err != nil {
		return upstate.User{}, err
	}
	was := u.Role
	u.Role = role
	if err := p.store.UpdateUser(ctx, u); err != nil {
		return upstate.User{}, fmt.Errorf("change the role of %s: %w", u.Email, err)
	}
	p.log.Info("user role changed", "component", "auth", "user", u.ID, "email", u.Email, "from", string(was), "to", string(role), "by", actor)
	return u, p.record(ctx, "role", fmt.Sprintf("made %s <%s> %s (was %s)", u.Name, u.Email, role, was), u.ID)
}

// SetPassword gives a user a new password (it must pass
// CheckNewPassword); sessions already signed in stay.
func (p *People) SetPassword(ctx context.Context, ref, password, actor string) (upstate.User, error) {
	if err := CheckNewPassword(password); err != nil {
		return upstate.User{}, upstate.Errorf(upstate.EINVALID, "%s", err)
	}
	u, err := p.Get(ctx, ref)
	if err != nil {
		return upstate.User{}, err
	}
	if u.PasswordHash, err = HashPassword(password, p.params); err != nil {
		return upstate.User{}, err
	}
	if err := p.store.UpdateUser(ctx, u); err != nil {
		return upstate.User{}, fmt.Errorf("set the password of %s: %w", u.Email, err)
	}
	p.log.Info("user password set", "component", "auth", "user", u.ID, "email", u.Email, "by", actor)
	return u, p.record(ctx, "passwd", fmt.Sprintf("set a new password for %s <%s>", u.Name, u.Email), u.ID)
}

// Remove deletes a user, ending their sessions and revoking their tokens
// at once; the last owner stays (ECONFLICT).
func (p *People) Remove(ctx context.Context, ref, actor string) (upstate.User, error) {
	u, err := p.Get(ctx, ref)
	if err != nil {
		return upstate.User{}, err
	}
	if err := p.store.DeleteUser(ctx, u.ID); err != nil {
		return upstate.User{}, fmt.Errorf("remove %s: %w", u.Email, err)
	}
	p.log.Info("user removed", "component", "auth", "user", u.ID, "email", u.Email, "by", actor)
	return u, p.record(ctx, "remove", fmt.Sprintf("removed user %s <%s>", u.Name, u.Email), u.ID)
}

// SignOut ends every session of a user and revokes their API tokens.
func (p *People) SignOut(ctx context.Context, ref, actor string) (u upstate.User, sessions, tokens int64, err error) {
	if u, err = p.Get(ctx, ref); err != nil {
		return u, 0, 0, err
	}
	if sessions, tokens, err = p.store.SignOutUser(ctx, u.ID); err != nil {
		return u, 0, 0, fmt.Errorf("sign %s out everywhere: %w", u.Email, err)
	}
	p.log.Info("user signed out everywhere", "component", "auth", "user", u.ID, "email", u.Email, "sessions", sessions, "tokens", tokens, "by", actor)
	return u, sessions, tokens, p.record(ctx, "signout", fmt.Sprintf("signed %s <%s> out everywhere (%d sessions, %d tokens)", u.Name, u.Email, sessions, tokens), u.ID)
}
