package app

import (
	"context"
	"path/filepath"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/ids"
	"github.com/upstatehq/upstate/internal/report"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

// NewUser is what `upstate user add` asks for.
type NewUser = auth.NewUser

// AddUser creates a user in the configuration's database, whether or not
// `upstate serve` is running on it; now tells the time (the command line
// passes time.Now).
func AddUser(ctx context.Context, cfg *config.Config, u NewUser, now func() time.Time) (upstate.User, error) {
	var out upstate.User
	err := WithPeople(ctx, cfg, now, func(p *auth.People) error {
		var err error
		out, err = p.Add(ctx, u, "upstate user add")
		return err
	})
	return out, err
}

// WithPeople opens the configuration's database, whether or not `upstate
// serve` is running on it, and hands fn the people kept there (`upstate
// user`); the database is closed when fn returns. now tells the time (the
// command line passes time.Now).
func WithPeople(ctx context.Context, cfg *config.Config, now func() time.Time, fn func(*auth.People) error) error {
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(cfg.Server.DataDir, "upstate.db"), Now: now})
	if err != nil {
		return err
	}
	defer db.Close()
	// The command line's changes are in the audit log as "command line".
	return fn(auth.NewPeople(db, now, ids.New, nil).RecordedAs(db.AppendAudit))
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
