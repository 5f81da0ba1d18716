package app

import (
	"context"
	"database/sql"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
)

// noEnv is an environment with nothing set.
func noEnv(string) (string, bool) { return "", false }

// newApp builds an App from yaml with its data in a fresh directory, on
// o's clock and options. It is not started: the test drives checks,
// incidents and the outbox by hand. Its store closes when the test ends.
func newApp(t *testing.T, yaml string, o Options) *App {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	return reopenApp(t, cfg, o)
}

// reopenApp builds an App on cfg as it is: a restart, when the data
// directory was used before.
func reopenApp(t *testing.T, cfg *config.Config, o Options) *App {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Config, o.Listener = cfg, ln
	a, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	return a
}

// runApp is newApp started, serving on loopback, and stopped when the
// test ends.
func runApp(t *testing.T, yaml string, o Options) *App {
	t.Helper()
	a := newApp(t, yaml, o)
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

// runCheck runs check id once, as the scheduler would, and hands its
// result to the app.
func runCheck(t *testing.T, a *App, id string) upstate.Result {
	t.Helper()
	ctx := context.Background()
	for _, j := range a.checks.Load().compiled.jobs {
		if j.ID == id {
			r := j.Prober.Probe(ctx)
			a.onResult(ctx, r)
			return r
		}
	}
	t.Fatalf("no check %s", id)
	return upstate.Result{}
}

// postTo sends a request with a body and headers straight to the app's
// handler and returns the status and body.
func postTo(a *App, path, body string, hdr map[string]string) (int, string) {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// holdWriteLock takes the database's write lock from another connection,
// as a backup or a sqlite3 shell would, until the returned func lets go.
func holdWriteLock(t *testing.T, a *App) func() {
	t.Helper()
	other, err := sql.Open("sqlite", "file:"+filepath.Join(a.cfg.Load().Server.DataDir, "upstate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	other.SetMaxOpenConns(1)
	if _, err := other.Exec("BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := other.Exec("ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	}
}

// evidenceOf is what Upstate noted for the team on an automatic incident:
// its internal entries' bodies, oldest first, joined (the public entries
// carry plain words only).
func evidenceOf(in *upstate.Incident) string {
	var out []string
	for _, u := range in.Updates {
		if !u.Public && u.Actor == upstate.ActorUpstate {
			out = append(out, u.Body)
		}
	}
	return strings.Join(out, "\n\n")
}

// publicUpdates are in's public entries, oldest first.
func publicUpdates(in *upstate.Incident) []upstate.TimelineEntry {
	var out []upstate.TimelineEntry
	for _, u := range in.Updates {
		if u.Public {
			out = append(out, u)
		}
	}
	return out
}
