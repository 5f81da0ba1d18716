package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "upstate.db")})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.exec(t.Context(), func(tx *sqlTx) error {
		_, err := tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("err = %v, want a refusal of the newer schema", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveHeartbeat(t.Context(), "x", storetestT0); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hb, err := db.ListHeartbeats(t.Context())
	if err != nil || !hb["x"].Equal(storetestT0) {
		t.Fatalf("heartbeats after reopen = %v, %v", hb, err)
	}
}

// Messages written before there were lanes are put in theirs when the
// database is upgraded: pages, subscribers' and the rest.
func TestLanesMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.exec(t.Context(), func(tx *sqlTx) error {
		for _, q := range []string{`DROP INDEX outbox_lane_due`, `ALTER TABLE outbox DROP COLUMN lane`, `DELETE FROM schema_migrations WHERE version = 14`,
			`INSERT INTO outbox (id, channel, stream, event, created_at, next_at, state) VALUES
				('pg', 'pd', 'page:inc1:1:1', '{}', 0, 0, 'pending'), ('sub', 'subscriber:7', 'inc1', '{}', 0, 0, 'pending'), ('ops', 'slack', 'inc1', '{}', 0, 0, 'pending')`} {
			if _, err := tx.Exec(q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for lane, want := range map[upstate.Lane]string{upstate.LanePage: "pg", upstate.LaneSubscriber: "sub", upstate.LaneOperator: "ops"} {
		due, err := db.DueMessages(t.Context(), upstate.DueQuery{Lane: lane, Now: storetestT0, Limit: 10})
		if err != nil || len(due) != 1 || due[0].ID != want {
			t.Errorf("lane %s after the upgrade: %v, %v; want %s", lane, due, err, want)
		}
	}
}
