package probetest

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// FreshPostgres creates an empty database of its own on the PostgreSQL
// server .ci/run starts, for one test, drops it when the test ends, and
// returns the DSN that names it. Without the server the test is skipped
// (or fails under UPSTATE_REAL_SERVICES=1), as with Server.
func FreshPostgres(t testing.TB, prefix string) string {
	t.Helper()
	admin := Server(t, "UPSTATE_TEST_POSTGRES_DSN", "a PostgreSQL server")
	name := prefix + strings.ToLower(rand.Text()[:16])
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return WithDatabase(t, admin, name)
}

// WithDatabase is dsn (a URL or keywords) naming another database.
func WithDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // the last of a keyword given twice counts
}
