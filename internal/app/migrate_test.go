package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/probe/probetest"
)

// upstate migrate copies a SQLite install's whole history into
// PostgreSQL, counts checked; refuses a destination holding data unless
// told to replace it, and then gives the same result again; and the copy
// serves: the same people sign in, the same incidents are there, and the
// ids go on where they stopped.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dsn := probetest.FreshPostgres(t, "upstate_migrate_")

	// A SQLite install with history: people, an incident with its
	// timeline, results, the audit log.
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
	a := newApp(t, "page: {name: Migrate}\ncomponents: [{id: api, name: API}]\n", Options{Clock: clk})
	cfg := a.cfg.Load()
	if _, err := AddUser(ctx, cfg, NewUser{Email: "dana@example.com", Name: "Dana", Role: upstate.RoleOwner, Password: "correct horse battery"}, clk.Now); err != nil {
		t.Fatal(err)
	}
	in, err := a.engine.Declare(ctx, incident.Change{Name: "API errors", Status: upstate.Investigating, Message: "Requests fail.", Actor: "Dana",
		Set: map[string]upstate.Status{"api": upstate.PartialOutage}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.store.AppendResults(ctx, []upstate.Result{{CheckID: "api-health", At: clk.Now(), Outcome: upstate.OutcomeFail, Latency: time.Second}}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(cfg.Server.DataDir, "upstate.db")

	counts, err := Migrate(ctx, src, dsn, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, c := range counts {
		rows[c.Table] = c.Rows
	}
	for _, table := range []string{"users", "incidents", "incident_updates", "results", "components", "audit_log", "settings"} {
		if rows[table] == 0 {
			t.Errorf("%s: nothing copied (%v)", table, rows)
		}
	}
	// Again: refused, for it holds data now; with replace, the same.
	if _, err := Migrate(ctx, src, dsn, false, nil); upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(err.Error(), "--replace") {
		t.Errorf("a second copy into a full database: %v", err)
	}
	again, err := Migrate(ctx, src, dsn, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again {
		if rows[c.Table] != c.Rows {
			t.Errorf("replaced: %s has %d rows, the first copy %d", c.Table, c.Rows, rows[c.Table])
		}
	}

	// The copy serves.
	pgCfg, err := config.Parse("t.yaml", []byte("page: {name: Migrate}\nserver: {database: '${DB}'}\ncomponents: [{id: api, name: API}]\n"),
		func(k string) (string, bool) { return dsn, k == "DB" }, ConfigRules()...)
	if err != nil {
		t.Fatal(err)
	}
	pgCfg.Server.DataDir = t.TempDir()
	b := reopenApp(t, pgCfg, Options{Clock: clk})
	got, err := b.store.GetIncident(ctx, in.ID)
	if err != nil || got.Name != "API errors" || len(got.Updates) == 0 {
		t.Fatalf("the incident on PostgreSQL: %+v %v", got, err)
	}
	// The copy keeps no HTML it did not render: the server's start
	// renders the copied Markdown again.
	if got.Updates[0].BodyHTML != "" {
		t.Errorf("a copied entry's HTML is served: %q", got.Updates[0].BodyHTML)
	}
	if n, err := b.store.RenderStale(ctx); n < len(got.Updates) || err != nil {
		t.Errorf("rendered %d of the copied entries again, %v", n, err)
	}
	if got, _ := b.store.GetIncident(ctx, in.ID); got.Updates[0].BodyHTML == "" || got.Updates[0].BodyHTML != string(markdown.New().HTML(got.Updates[0].Body)) {
		t.Errorf("after RenderStale: %+v", got.Updates[0])
	}
	if u, err := b.store.GetUserByEmail(ctx, "dana@example.com"); err != nil || u.Name != "Dana" {
		t.Errorf("the person on PostgreSQL: %+v %v", u, err)
	}
	// Ids go on after those copied: a new audit entry is written.
	before, _ := b.store.ListAudit(ctx, upstate.AuditFilter{})
	if err := b.store.AppendAudit(ctx, upstate.AuditEntry{At: clk.Now(), Actor: "test", ActorKind: upstate.ActorCLI, Action: "after the copy"}); err != nil {
		t.Fatalf("a new audit entry after the copy: %v", err)
	}
	after, _ := b.store.ListAudit(ctx, upstate.AuditFilter{})
	if len(after) != len(before)+1 || (len(before) > 0 && after[0].ID <= before[0].ID) {
		t.Errorf("audit ids after the copy: %d then %d entries", len(before), len(after))
	}
}
