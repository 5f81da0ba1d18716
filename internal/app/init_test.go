package app

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/incident"
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
	if strings.Contains(page, `http-equiv="refresh"`) {
		t.Error("an operational page refreshes itself")
	}
}

// A failing check's evidence (its id, the error) stays on the admin side:
// the public page, its incident page, the v2 API and the feeds say what
// users see in plain words.
func TestPublicEntriesCarryNoEvidence(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	closed.Close() // nothing listens: connection refused
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
	a := newApp(t, `page: {name: Status, url: http://status.example}
components: [{id: api, name: API}]
checks:
  - {id: api-health, kind: http, url: "http://`+addr+`/health", burst: {count: 0}, components: [api]}
`, Options{Clock: clk})
	for i := 0; i < 3; i++ {
		runCheck(t, a, "api-health")
		clk.Advance(time.Minute)
	}
	in := openIncident(t, a)
	if ev := evidenceOf(in); !strings.Contains(ev, "api-health") || !strings.Contains(ev, "refused") {
		t.Errorf("the team's evidence = %q", ev)
	}
	pub := publicUpdates(in)
	if len(pub) != 1 || pub[0].Body != "The API is not responding." {
		t.Errorf("public entries = %+v", pub)
	}
	// The open incident comes before planned work, and the page refreshes
	// itself (no script) while it is open.
	if _, err := a.engine.ScheduleMaintenance(context.Background(), incident.Window{Name: "Database upgrade", From: clk.Now().Add(time.Hour),
		Until: clk.Now().Add(2 * time.Hour), Components: []string{"api"}, Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	page := publicGet(t, a, "/")
	inc, maint := strings.Index(page, "The API is not responding."), strings.Index(page, "Database upgrade")
	if inc < 0 || maint < 0 || inc > maint {
		t.Errorf("the open incident (at %d) does not come before the maintenance (at %d)", inc, maint)
	}
	if !strings.Contains(page, `<meta http-equiv="refresh" content="60">`) {
		t.Error("the page does not refresh itself while an incident is open")
	}
	if css := publicGet(t, a, "/static/style.css"); !strings.Contains(css, "@media (prefers-color-scheme: dark)") {
		t.Error("the public stylesheet has no dark mode")
	}
	for _, path := range []string{"/", "/incidents/" + in.ID, "/api/v2/summary.json", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json", "/history.atom", "/history.rss"} {
		doc := publicGet(t, a, path)
		for _, bad := range []string{"api-health", "refused", addr} {
			if strings.Contains(doc, bad) {
				t.Errorf("%s shows %q", path, bad)
			}
		}
		if path != "/api/v2/summary.json" && !strings.Contains(doc, "not responding") {
			t.Errorf("%s does not say the API is not responding", path)
		}
	}
}

// page.automatic_updates: internal: the incident's plain words wait as an
// internal entry, the public sees none, until a person publishes them from
// the admin UI.
func TestHeldAutomaticEntryIsPublishedByAPerson(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	closed.Close()
	a := runApp(t, `page: {name: Status, automatic_updates: internal}
components: [{id: api, name: API}]
checks:
  - {id: api-health, kind: http, url: "http://`+addr+`/health", interval: 1h, burst: {count: 0}, components: [api]}
`, Options{})
	if _, err := AddUser(context.Background(), a.cfg.Load(), NewUser{Email: "responder@example.com", Name: "Rui", Role: upstate.RoleResponder, Password: "responder password"}, time.Now); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		runCheck(t, a, "api-health")
	}
	in := openIncident(t, a)
	if pub := publicUpdates(in); len(pub) != 0 {
		t.Fatalf("held, yet public: %+v", pub)
	}
	if strings.Contains(publicGet(t, a, "/"), "not responding") {
		t.Error("the page shows a held entry")
	}

	ui := newUI(t, "http://"+a.Addr())
	if code, _, _ := ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}}, nil); code != 200 {
		t.Fatalf("sign in: %d", code)
	}
	_, page := ui.get("/admin/incidents/" + in.ID)
	action := "/admin/incidents/" + in.ID + "/updates/" + in.Updates[0].ID + "/publish"
	if !strings.Contains(page, `action="`+action+`"`) {
		t.Fatalf("the admin incident page offers no Publish for the held entry %q:\n%s", in.Updates[0].Body, page)
	}
	if code, body, _ := ui.post(action, url.Values{}, nil); code != 200 || !strings.Contains(body, "Published") {
		t.Fatalf("publish: %d\n%s", code, body)
	}
	pub := publicUpdates(openIncident(t, a))
	if len(pub) != 1 || pub[0].Body != "The API is not responding." || pub[0].Actor != "Rui" {
		t.Errorf("public after publishing: %+v", pub)
	}
	if !strings.Contains(publicGet(t, a, "/"), "The API is not responding.") {
		t.Error("the page does not show the published entry")
	}
	if code, _, _ := ui.post(action, url.Values{}, nil); code != 409 {
		t.Errorf("publishing it twice: %d, want 409", code)
	}
}
