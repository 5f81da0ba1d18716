package app

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
)

// The configuration `upstate init` writes, served as it is, publishes
// nothing false: its one live check (Upstate's own /healthz at
// server.listen) passes, run as often as it takes to confirm, and the
// page is operational with no incident.
func TestInitExampleServesATruePage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(config.Example, "127.0.0.1:8080", ln.Addr().String())
	cfg, err := config.Parse("upstate.yaml", []byte(text), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	a, err := New(context.Background(), Options{Config: cfg, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	// Start publishes the first snapshot; /healthz says so.
	res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/healthz after Start: %d", res.StatusCode)
	}

	jobs := a.checks.Load().compiled.jobs
	if len(jobs) != 1 {
		t.Fatalf("the example runs %d checks, want 1 (upstate-self)", len(jobs))
	}
	for i := 0; i < 3; i++ { // fail_after's default: enough to confirm either way
		if r := runCheck(t, a, jobs[0].ID); r.Outcome != upstate.OutcomeOK {
			t.Fatalf("%s: %+v", jobs[0].ID, r)
		}
	}
	ins, err := a.store.ListIncidents(context.Background(), upstate.IncidentFilter{OpenOnly: true})
	if err != nil || len(ins) != 0 {
		t.Fatalf("open incidents after init: %v, %v", ins, err)
	}
	page := publicGet(t, a, "/")
	if !strings.Contains(page, "All Systems Operational") || strings.Contains(page, "Outage</strong>") {
		t.Errorf("the first page is not operational:\n%s", page)
	}
}
