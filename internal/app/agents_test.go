package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/store"
)

// agentApp is an app with a check probed from this server and two agents'
// regions, quorum 2, and the agents' tokens.
func agentApp(t *testing.T, clk *clock.Fake, target string) (a *App, eu, us string) {
	t.Helper()
	yaml := "page: {name: Regions, url: 'http://127.0.0.1'}\ncomponents:\n  - {id: api, name: API}\n" +
		"checks:\n  - {id: api, kind: http, url: '" + target + "', interval: 30s, fail_after: 2, recover_after: 2, recheck: {count: 0}, burst: {count: 0}, regions: [local, eu, us], components: [api]}\n" +
		"  - {id: other, kind: http, url: '" + target + "', interval: 30s, components: [api]}\n"
	a = newApp(t, yaml, Options{Clock: clk})
	ctx := context.Background()
	owner, err := AddUser(ctx, a.cfg.Load(), NewUser{Email: "owner@example.com", Name: "Olga", Role: upstate.RoleOwner, Password: "owner password 1"}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	p := upstate.Principal{User: owner, Scopes: owner.Role.Grants()}
	for _, r := range []struct {
		region string
		secret *string
	}{{"eu", &eu}, {"us", &us}} {
		if *r.secret, _, err = a.auth.CreateToken(ctx, p, r.region+" probe", []upstate.Scope{upstate.AgentScope(r.region)}); err != nil {
			t.Fatal(err)
		}
	}
	return a, eu, us
}

func agentGet(a *App, path, token string) (int, string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// One region failing of three, quorum 2, is that region's trouble; two
// regions agreeing open the incident, whose evidence names them. Every
// agent's result is taken once, however often it is sent.
func TestRegionsDecideByQuorum(t *testing.T) {
	var failing atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(500)
		}
	}))
	defer target.Close()
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	a, eu, us := agentApp(t, clk, target.URL)

	// What an agent is sent: its region's checks with their slots.
	code, body := agentGet(a, "/api/v1/agent/checks", eu)
	var list upstate.AgentChecks
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Checks) != 1 {
		t.Fatalf("eu's checks: %d %s", code, body)
	}
	if c := list.Checks[0]; c.ID != "api" || c.Interval != 30*time.Second || !strings.Contains(c.Definition, target.URL) || strings.Contains(c.Definition, "regions") {
		t.Fatalf("eu's check: %+v", c)
	}
	_, usBody := agentGet(a, "/api/v1/agent/checks", us)
	var usList upstate.AgentChecks
	_ = json.Unmarshal([]byte(usBody), &usList)
	if gap := (usList.Checks[0].Slot - list.Checks[0].Slot + 30*time.Second) % (30 * time.Second); gap != 10*time.Second {
		t.Fatalf("us probes %v after eu, want a third of the interval", gap)
	}

	n := 0
	report := func(token, outcome string) (int, string) {
		n++
		clk.Advance(time.Second)
		res := fmt.Sprintf(`{"id": "r%d", "check_id": "api", "at": %q, "outcome": %q, "latency_ns": 1000000, "status_code": 500, "error": "status 500"}`,
			n, clk.Now().Format(time.RFC3339Nano), outcome)
		return postTo(a, "/api/v1/agent/results", `{"results": [`+res+`]}`, map[string]string{"Authorization": "Bearer " + token})
	}
	state := func() upstate.Condition {
		st := a.checks.Load().byID["api"]
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.machine.Condition()
	}
	for range 3 {
		runCheck(t, a, "api")
		report(eu, "ok")
		report(us, "ok")
	}
	if s := state(); s.State != upstate.StateUp {
		t.Fatalf("all well: %+v", s)
	}
	for range 3 {
		runCheck(t, a, "api")
		if code, body := report(eu, "fail"); code != 200 || !strings.Contains(body, `"accepted": 1`) {
			t.Fatalf("eu's report: %d %s", code, body)
		}
		report(us, "ok")
	}
	if s := state(); s.State != upstate.StateUp || !strings.Contains(s.Evidence, "failing in eu; up in local, us") {
		t.Fatalf("eu alone failing: %+v", s)
	}
	if live, _ := a.live("api"); len(live.Regions) != 3 || live.Regions[1].Name != "eu" || live.Regions[1].Condition.State != upstate.StateDown {
		t.Fatalf("the check page's regions: %+v", live.Regions)
	}
	for range 2 {
		report(eu, "fail")
		report(us, "fail")
	}
	s := state()
	if s.State != upstate.StateDown || !strings.HasPrefix(s.Evidence, "failing in eu, us; up in local (quorum 2 of 3)") {
		t.Fatalf("eu and us failing: %+v", s)
	}
	_ = a.Flush(context.Background())
	open, err := a.store.ListIncidents(context.Background(), upstate.IncidentFilter{OpenOnly: true})
	if err != nil || len(open) != 1 {
		t.Fatalf("open incidents: %v %v", open, err)
	}
	if in, _ := a.store.GetIncident(context.Background(), open[0].ID); !strings.Contains(evidenceOf(in), "failing in eu, us") {
		t.Fatalf("the incident's evidence: %s", evidenceOf(in))
	}

	// Sent again (the answer was lost): taken once.
	again := fmt.Sprintf(`{"results": [{"id": "r%d", "check_id": "api", "at": %q, "outcome": "fail", "latency_ns": 1}]}`, n, clk.Now().Format(time.RFC3339Nano))
	if code, body := postTo(a, "/api/v1/agent/results", again, map[string]string{"Authorization": "Bearer " + us}); code != 200 || !strings.Contains(body, `"duplicate": 1`) {
		t.Fatalf("a result sent again: %d %s", code, body)
	}
}

// An agent's token reports its region's checks and does nothing else.
func TestAgentTokenIsItsRegionsOnly(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	a, eu, _ := agentApp(t, clk, "http://127.0.0.1:1/")
	at := clk.Now().Format(time.RFC3339Nano)
	code, body := postTo(a, "/api/v1/agent/results", `{"results": [{"id": "a", "check_id": "api", "at": "`+at+`", "outcome": "ok"}, {"id": "b", "check_id": "other", "at": "`+at+`", "outcome": "fail"}]}`,
		map[string]string{"Authorization": "Bearer " + eu})
	if code != 403 || !strings.Contains(body, "region eu does not probe other") || !strings.Contains(body, `"refused": [`) {
		t.Fatalf("a result for another region's check: %d %s", code, body)
	}
	if code, body := agentGet(a, "/api/v1/incidents", eu); code != 403 {
		t.Fatalf("an agent's token read the incidents: %d %s", code, body)
	}
	if code, _ := agentGet(a, "/api/v1/agent/checks", "ups_nonsense"); code != 401 {
		t.Fatalf("an unknown token: %d", code)
	}
	big := `{"results": [` + strings.TrimSuffix(strings.Repeat(`{"id": "x", "check_id": "api", "at": "`+at+`", "outcome": "ok"},`, upstate.MaxAgentBatch+1), ",") + `]}`
	if code, body := postTo(a, "/api/v1/agent/results", big, map[string]string{"Authorization": "Bearer " + eu}); code != 400 || !strings.Contains(body, "send at most 500") {
		t.Fatalf("an oversize report: %d %s", code, body)
	}
}

// A check only agents probe cannot be run now here, and says why.
func TestRunNowOfAnAgentsOnlyCheck(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	yaml := "page: {name: Regions}\ncomponents:\n  - {id: api, name: API}\n" +
		"checks:\n  - {id: api, kind: http, url: 'http://127.0.0.1:1/', regions: [eu, us], components: [api]}\n"
	a := newApp(t, yaml, Options{Clock: clk})
	if len(a.checks.Load().compiled.jobs) != 0 {
		t.Fatal("the server schedules a check only agents probe")
	}
	_, err := a.RunCheck(context.Background(), "api")
	if err == nil || !strings.Contains(err.Error(), "probed by the agents of eu, us, not this server") {
		t.Fatalf("run now: %v", err)
	}
}

// An agent whose clock runs ahead is told so, as a conflict it retries
// (the batch is kept until the clocks agree), not a malformed report it
// would drop.
func TestAgentClockAhead(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	a, eu, _ := agentApp(t, clk, "http://127.0.0.1:1/")
	at := clk.Now().Add(time.Hour).Format(time.RFC3339Nano)
	code, body := postTo(a, "/api/v1/agent/results", `{"results": [{"id": "a", "check_id": "api", "at": "`+at+`", "outcome": "ok"}]}`,
		map[string]string{"Authorization": "Bearer " + eu})
	if code != 409 || !strings.Contains(body, "ahead of this server's clock") {
		t.Fatalf("%d %s", code, body)
	}
}

// An agent's token does nothing but its region's work: not even GET
// /api/v1/me, which would tell who made it.
func TestAgentTokenReadsNothingElse(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	a, eu, _ := agentApp(t, clk, "http://127.0.0.1:1/")
	for _, path := range []string{"/api/v1/me", "/api/v1/incidents", "/api/v1/checks"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+eu)
		rec := httptest.NewRecorder()
		a.web.Handler().ServeHTTP(rec, req)
		if rec.Code != 403 || strings.Contains(rec.Body.String(), "@") {
			t.Errorf("GET %s with an agent's token: %d %s", path, rec.Code, rec.Body.String())
		}
	}
}

// A result sent again is taken once for as long as an agent could resend
// it, however many results come in between; after that window its id is
// let go, and memory stays bounded.
func TestAgentIDsRememberedForAWindow(t *testing.T) {
	s := newAgentIDs()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	r := upstate.AgentResult{ID: "r1"}
	if !s.first("eu", r, t0) {
		t.Fatal("a new id is not news")
	}
	for i := range 50000 { // many checks' results in between
		s.first("eu", upstate.AgentResult{ID: fmt.Sprintf("x%d", i)}, t0.Add(time.Minute))
	}
	if s.first("eu", r, t0.Add(5*time.Minute)) {
		t.Error("a result resent within the window is taken twice")
	}
	if !s.first("us", r, t0.Add(5*time.Minute)) {
		t.Error("another region's id is not its own")
	}
	if !s.first("eu", r, t0.Add(seenFor+2*time.Minute)) {
		t.Error("an id is remembered past the window")
	}
	if n := len(s.order["eu"]); n > 2 {
		t.Errorf("%d ids kept after the window passed", n)
	}
}

// A result an agent sends again after the server restarted (the ids it
// took forgotten) is stored once and decided once: the regions' latest
// stored results are history to the new deciders.
func TestAgentResultSentAgainAcrossARestart(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	a, eu, us := agentApp(t, clk, "http://127.0.0.1:1/")
	n := 0
	result := func(outcome string) string {
		n++
		clk.Advance(time.Second)
		return fmt.Sprintf(`{"id": "r%d", "check_id": "api", "at": %q, "outcome": %q, "latency_ns": 1000000, "error": "refused"}`, n, clk.Now().Format(time.RFC3339Nano), outcome)
	}
	send := func(a *App, token, res string) string {
		t.Helper()
		code, body := postTo(a, "/api/v1/agent/results", `{"results": [`+res+`]}`, map[string]string{"Authorization": "Bearer " + token})
		if code != 200 {
			t.Fatalf("report: %d %s", code, body)
		}
		return body
	}
	state := func(a *App) upstate.Condition {
		st := a.checks.Load().byID["api"]
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.machine.Condition()
	}
	send(a, eu, result("ok"))
	send(a, us, result("ok"))
	lost := result("fail") // taken, but the agent never heard so
	send(a, us, lost)
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.store.Close()

	a = reopenApp(t, a.cfg.Load(), Options{Clock: clk})
	clk.Advance(time.Second)
	if body := send(a, us, lost); !strings.Contains(body, `"accepted": 1`) {
		t.Fatalf("sent again after the restart: %s", body) // its id is forgotten: taken, and found to be history
	}
	// One new failure in us (fail_after 2) and two in eu: if the one sent
	// again counted, us and eu would be failing, a quorum.
	send(a, us, result("fail"))
	send(a, eu, result("fail"))
	send(a, eu, result("fail"))
	if s := state(a); s.State != upstate.StateUp || !strings.HasPrefix(s.Evidence, "failing in eu; up in local, us") {
		t.Fatalf("the result sent again was judged again: %+v", s)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rs, err := a.store.ListResults(ctx, "api", clk.Now().Add(-time.Hour), clk.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != n {
		t.Fatalf("%d results stored, want %d (the one sent again once): %+v", len(rs), n, rs)
	}
	if rs[2].Region != "us" || rs[2].Outcome != upstate.OutcomeFail || rs[0].Region != "eu" {
		t.Errorf("stored without their regions: %+v", rs)
	}
	a.store.Close() // the rollups are written at close
	a = reopenApp(t, a.cfg.Load(), Options{Clock: clk})
	hours, err := a.store.ListRollups(ctx, store.Hour, []string{"api"}, clk.Now().Add(-time.Hour), clk.Now().Add(time.Hour))
	if err != nil || len(hours) != 1 || hours[0].Count != n || hours[0].Fail != 4 {
		t.Errorf("rollups = %+v, %v; want %d results, 4 failing, counted once", hours, err, n)
	}
}

// The public page shows what each region of a regional check saw last,
// from the stored results, read when the snapshot is built.
func TestPublicPageShowsRegions(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	a, eu, _ := agentApp(t, clk, "http://127.0.0.1:1/")
	clk.Advance(time.Second)
	res := fmt.Sprintf(`{"results": [{"id": "r1", "check_id": "api", "at": %q, "outcome": "fail", "latency_ns": 1000000, "error": "refused"}]}`, clk.Now().Format(time.RFC3339Nano))
	if code, body := postTo(a, "/api/v1/agent/results", res, map[string]string{"Authorization": "Bearer " + eu}); code != 200 {
		t.Fatalf("report: %d %s", code, body)
	}
	ctx := context.Background()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.snaps.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	page := rec.Body.String()
	for _, want := range []string{`<span class="rcheck">api:</span>`, `local <span class="rg-word">no recent report</span>`,
		`<span class="rg rg-fail" title="eu: failing, last result 1 Dec 12:00:01 UTC">eu`, `title="us: no recent report"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := strings.Count(page, `class="regions"`); n != 1 {
		t.Errorf("%d lines of regions, want 1", n)
	}
}
