package app

import (
	"context"
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/ids"
	"github.com/upstatehq/upstate/internal/report"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

// NewUser is what `upstate user add` asks for.
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
	if !u.Role.Valid() {
		probs = append(probs, fmt.Sprintf("role %q is not one of owner, responder, viewer", u.Role))
	}
	if err := auth.CheckNewPassword(u.Password); err != nil {
		probs = append(probs, err.Error())
	}
	if len(probs) > 0 {
		return upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	return nil
}

// AddUser creates a user in the configuration's database, whether or not
// `upstate serve` is running on it; now tells the time (the command line
// passes time.Now).
func AddUser(ctx context.Context, cfg *config.Config, u NewUser, now func() time.Time) (upstate.User, error) {
	if err := u.Validate(); err != nil {
		return upstate.User{}, err
	}
	hash, err := auth.HashPassword(u.Password, auth.DefaultParams())
	if err != nil {
		return upstate.User{}, err
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(cfg.Server.DataDir, "upstate.db"), Now: now})
	if err != nil {
		return upstate.User{}, err
	}
	defer db.Close()
	user := upstate.User{ID: ids.New(), Email: strings.TrimSpace(u.Email), Name: strings.TrimSpace(u.Name), Role: u.Role, PasswordHash: hash, CreatedAt: now().UTC()}
	if err := db.CreateUser(ctx, user); err != nil {
		return upstate.User{}, err
	}
	return user, nil
}

// Report builds the outage report from the configuration's database,
// whether or not `upstate serve` is running on it; now tells the time (the
// command line passes time.Now).
func Report(ctx context.Context, cfg *config.Config, p report.Params, now func() time.Time) (*report.Report, error) {
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(cfg.Server.DataDir, "upstate.db"), Now: now})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// The configured components, named as the file names them now (serve
	// does the same at start).
	at := now()
	if err := db.SyncComponents(ctx, components(cfg), at); err != nil {
		return nil, err
	}
	return report.Gather(ctx, db, p, cfg.Page.Name, cfg.Location, at)
}
