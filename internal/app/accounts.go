package app

import (
	"context"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/ids"
	"github.com/upstatehq/upstate/internal/report"
	"github.com/upstatehq/upstate/internal/store"
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
	db, err := openStore(ctx, cfg, storeOptions{Now: now})
	if err != nil {
		return err
	}
	defer db.Close()
	// The command line's changes are in the audit log as made there, by
	// whom on which machine.
	return fn(auth.NewPeople(db, now, ids.New, nil).RecordedAs(db.AppendAudit, CommandLineActor()))
}

// CommandLineActor names the person at the command line as the audit log
// keeps it: "command line (dana@db1)", the operating system's user and
// host, as far as they can be told.
func CommandLineActor() string {
	who := "command line"
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		name += "@" + h
	}
	if name != "" {
		who += " (" + strings.TrimPrefix(name, "@") + ")"
	}
	return who
}

// Report builds the outage report from the configuration's database,
// whether or not `upstate serve` is running on it; now tells the time (the
// command line passes time.Now).
func Report(ctx context.Context, cfg *config.Config, p report.Params, now func() time.Time) (*report.Report, error) {
	db, err := openStore(ctx, cfg, storeOptions{Now: now})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// The configured components, named as the file and the console name
	// them now (serve does the same at start): the console's are kept, not
	// dropped as the file's alone would have them.
	at := now()
	if err := db.SyncComponents(ctx, components(withConsole(ctx, cfg, db)), at); err != nil {
		return nil, err
	}
	return report.Gather(ctx, db, p, cfg.Page.Name, cfg.Location, at)
}

// withConsole is, for a command run beside the server, the configuration
// in force: the file with the console's items merged as serve merges them
// (the file's alone when they no longer fit it, as serve would run).
func withConsole(ctx context.Context, cfg *config.Config, db store.ConsoleItems) *config.Config {
	items, err := db.ListConsoleItems(ctx)
	return mergedOr(cfg, items, err)
}

// mergedOr is cfg with items merged, or cfg alone when they could not be
// read or no longer fit it.
func mergedOr(cfg *config.Config, items []upstate.ConsoleItem, err error) *config.Config {
	if err != nil || len(items) == 0 || !cfg.FromFile() {
		return cfg
	}
	c, err := config.WithConsole(cfg, items, ConfigRules()...)
	if err != nil {
		return cfg
	}
	return c
}
