package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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
