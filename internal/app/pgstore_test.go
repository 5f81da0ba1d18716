package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/probe/probetest"
	"github.com/upstatehq/upstate/internal/store/postgres"
)

// server.database selects PostgreSQL for serve and for the commands run
// beside it (user, report, export): all of them read and write the one
// database it names, and nothing is kept in data_dir.
func TestServerDatabaseSelectsPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn := probetest.FreshPostgres(t, "upstate_app_")

	yaml := "page: {name: PG}\nserver: {database: '${UPSTATE_DATABASE}'}\ncomponents: [{id: api, name: API}]\n"
	cfg, err := config.Parse("t.yaml", []byte(yaml), func(k string) (string, bool) { return dsn, k == "UPSTATE_DATABASE" }, ConfigRules()...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()

	a := reopenApp(t, cfg, Options{Clock: clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))})
	if _, ok := a.store.(*postgres.DB); !ok {
		t.Fatalf("serve opened %T, want the PostgreSQL store", a.store)
	}
	comps, err := a.store.ListComponents(ctx)
	if err != nil || len(comps) != 1 || comps[0].ID != "api" {
		t.Fatalf("components on PostgreSQL: %v, %v", comps, err)
	}

	// upstate user add, beside the running server.
	if _, err := AddUser(ctx, cfg, NewUser{Email: "dana@example.com", Name: "Dana", Role: upstate.RoleOwner, Password: "correct horse battery"}, time.Now); err != nil {
		t.Fatal(err)
	}
	if u, err := a.store.GetUserByEmail(ctx, "dana@example.com"); err != nil || u.Name != "Dana" {
		t.Fatalf("the server does not see the user the command line added: %v, %v", u, err)
	}
	// upstate export reads the console's items from the same database.
	if _, err := ExportConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Server.DataDir, "upstate.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite file was made in data_dir beside server.database: %v", err)
	}
}

// A database that cannot be reached fails serve at start in words that
// name it without its password.
func TestServerDatabaseUnreachable(t *testing.T) {
	const secret = "s3cret-pw"
	cfg, err := config.Parse("t.yaml", []byte("page: {name: PG}\nserver: {database: 'postgres://upstate:"+secret+"@127.0.0.1:1/upstate?connect_timeout=2'}\ncomponents: [{id: api}]\n"), noEnv, ConfigRules()...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	_, err = New(context.Background(), Options{Config: cfg, Clock: clock.NewFake(time.Now())})
	if err == nil || !strings.Contains(err.Error(), "server.database") || strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v, want a refusal naming server.database without the password", err)
	}
	t.Log(err)
}
