package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// apiClient talks to a running app as a browser (cookies) or a script (token).
type apiClient struct {
	t      *testing.T
	base   string
	http   *http.Client
	token  string
	origin string
	// forwardedFor, when set, is sent as X-Forwarded-For.
	forwardedFor string
}

func (c *apiClient) do(method, path string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.forwardedFor)
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func startApp(t *testing.T) (*App, string) {
	t.Helper()
	yaml := "page: {name: Admin test, url: 'http://127.0.0.1', time_zone: America/Los_Angeles}\ncomponents:\n  - {id: api, name: API}\n  - {id: drive, name: Cloud drive}\n" +
		"server: {trusted_proxies: ['192.0.2.0/24']}\n"
	a := runApp(t, yaml, Options{})
	cfg := a.cfg.Load()
	for _, u := range []NewUser{
		{Email: "owner@example.com", Name: "Olga", Role: upstate.RoleOwner, Password: "owner password 1"},
		{Email: "responder@example.com", Name: "Rui", Role: upstate.RoleResponder, Password: "responder password"},
		{Email: "viewer@example.com", Name: "Vic", Role: upstate.RoleViewer, Password: "viewer password 1"},
	} {
		if _, err := AddUser(context.Background(), cfg, u, time.Now); err != nil {
			t.Fatal(err)
		}
	}
	return a, "http://" + a.Addr()
}

func browser(t *testing.T, base, email, password string) *apiClient {
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: base, http: &http.Client{Jar: jar}}
	code, out, hdr := c.do("POST", "/api/v1/login", map[string]string{"email": email, "password": password})
	if code != 200 {
		t.Fatalf("login %s: %d %v", email, code, out)
	}
	cookie := hdr.Get("Set-Cookie")
	for _, want := range []string{"upstate_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	return c
}

func TestAdminAPI(t *testing.T) {
	a, base := startApp(t)
	anon := &apiClient{t: t, base: base, http: http.DefaultClient}

	// Nothing changes without authentication.
	if code, _, hdr := anon.do("POST", "/api/v1/incidents", map[string]any{"name": "x"}); code != 401 || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous declare: %d", code)
	}
	if code, out, _ := anon.do("POST", "/api/v1/login", map[string]string{"email": "owner@example.com", "password": "wrong password!!"}); code != 401 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "wrong email or password") {
		t.Errorf("wrong password: %d %v", code, out)
	}

	rui := browser(t, base, "responder@example.com", "responder password")
	code, out, hdr := rui.do("POST", "/api/v1/incidents", map[string]any{
		"name": "Word conversions failing", "message": "Word and PowerPoint uploads fail; **PDF works**.",
		"components": map[string]string{"drive": "partial_outage"}})
	if code != 201 || hdr.Get("Location") == "" {
		t.Fatalf("declare: %d %v", code, out)
	}
	in := out["incident"].(map[string]any)
	id := in["id"].(string)
	if in["status"] != "investigating" || in["impact"] != "major" || in["updates"].([]any)[0].(map[string]any)["actor"] != "Rui" {
		t.Errorf("declared = %v", in)
	}

	// An internal note, then a public update.
	no := false
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"message": "vendor ticket #4411", "public": no}); code != 200 {
		t.Fatalf("internal note: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"status": "identified", "message": "The provider's Office workers are down."}); code != 200 {
		t.Fatalf("update: %d %v", code, out)
	}

	// The public side shows it — public entries only — once the snapshot is rebuilt.
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, _ := http.Get(base + "/api/v2/incidents/unresolved.json")
	pub, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(pub), "Office workers are down") || strings.Contains(string(pub), "vendor ticket") || !strings.Contains(string(pub), `"status":"identified"`) {
		t.Errorf("public API:\n%s", pub)
	}
	resp, _ = http.Get(base + "/api/v2/components.json")
	pub, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(pub), `"id":"drive","name":"Cloud drive","status":"partial_outage"`) {
		t.Errorf("component status not shown:\n%s", pub)
	}
	resp, _ = http.Get(base + "/")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "<strong>PDF works</strong>") {
		t.Error("the page does not render the update's Markdown")
	}

	// Roles: a viewer reads but cannot change anything.
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	if code, _, _ := vic.do("GET", "/api/v1/incidents/"+id, nil); code != 200 {
		t.Errorf("viewer read: %d", code)
	}
	if code, out, _ := vic.do("POST", "/api/v1/incidents/"+id+"/resolve", nil); code != 403 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "incidents:write") {
		t.Errorf("viewer resolve: %d %v", code, out)
	}
	if code, _, _ := rui.do("POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"read"}}); code != 403 {
		t.Errorf("responder making tokens: %d", code)
	}

	// CSRF: a cookie-authenticated request from another site is refused.
	evil := *rui
	evil.origin = "https://evil.example"
	if code, _, _ := evil.do("POST", "/api/v1/incidents/"+id+"/resolve", nil); code != 403 {
		t.Errorf("cross-site resolve with a session cookie: %d", code)
	}

	// Tokens: an owner makes one with a narrow scope; it works for that only.
	olga := browser(t, base, "owner@example.com", "owner password 1")
	code, out, _ = olga.do("POST", "/api/v1/tokens", map[string]any{"name": "status bot", "scopes": []string{"read"}})
	if code != 201 {
		t.Fatalf("create token: %d %v", code, out)
	}
	secret := out["token"].(map[string]any)["token"].(string)
	bot := &apiClient{t: t, base: base, http: http.DefaultClient, token: secret}
	if code, _, _ := bot.do("GET", "/api/v1/incidents?open=true", nil); code != 200 {
		t.Errorf("read with a read token: %d", code)
	}
	if code, _, _ := bot.do("POST", "/api/v1/incidents/"+id+"/resolve", nil); code != 403 {
		t.Errorf("write with a read token: %d", code)
	}
	if code, _, _ := olga.do("POST", "/api/v1/tokens", map[string]any{"name": "", "scopes": []string{"everything"}}); code != 400 {
		t.Errorf("bad token request: %d", code)
	}

	// Resolve; the held status clears.
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/resolve", map[string]string{"message": "Fixed by the provider."}); code != 200 || out["incident"].(map[string]any)["status"] != "resolved" {
		t.Errorf("resolve: %d %v", code, out)
	}
	if st := a.engine.Statuses()["drive"]; st != upstate.Operational {
		t.Errorf("drive is %s after resolving", st)
	}
	if code, _, _ := rui.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"message": "late"}); code != 409 {
		t.Errorf("update after resolve: %d, want 409", code)
	}

	// Bad input names the field.
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"name": "x", "components": map[string]string{"nope": "major_outage"}}, "components.nope: no such component"},
		{map[string]any{"name": "x", "status": "panicking"}, `status "panicking"`},
		{map[string]any{"name": 7}, "field name: want string"},
		{map[string]any{"name": "x", "colour": "red"}, `unknown field "colour"`},
	} {
		code, out, _ := rui.do("POST", "/api/v1/incidents", tc.body)
		msg, _ := out["error"].(map[string]any)["message"].(string)
		if code != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: %d %q, want 400 naming %q", tc.body, code, msg, tc.want)
		}
	}

	// Logging out ends the session.
	if code, _, _ := rui.do("POST", "/api/v1/logout", nil); code != 204 {
		t.Errorf("logout: %d", code)
	}
	if code, _, _ := rui.do("GET", "/api/v1/me", nil); code != 401 {
		t.Errorf("after logout: %d", code)
	}
}

func TestLoginThrottling(t *testing.T) {
	_, base := startApp(t)
	owner := browser(t, base, "owner@example.com", "owner password 1") // this browser now holds a device cookie
	c := &apiClient{t: t, base: base, http: http.DefaultClient}
	var code int
	var hdr http.Header
	for range 6 {
		code, _, hdr = c.do("POST", "/api/v1/login", map[string]string{"email": "owner@example.com", "password": "guess guess guess"})
	}
	code, _, hdr = c.do("POST", "/api/v1/login", map[string]string{"email": "owner@example.com", "password": "owner password 1"})
	if code != 429 || hdr.Get("Retry-After") == "" {
		t.Errorf("after 6 failures: %d (Retry-After %q), want 429", code, hdr.Get("Retry-After"))
	}
	// The owner's own browser, which signed in before, still gets in from
	// the same address: strangers' guesses do not lock out the owner.
	if code, out, _ := owner.do("POST", "/api/v1/login", map[string]string{"email": "owner@example.com", "password": "owner password 1"}); code != 200 {
		t.Errorf("the owner's known device after a stranger's guesses: %d %v", code, out)
	}
	// Someone else at the same address is not locked out.
	if code, _, _ := c.do("POST", "/api/v1/login", map[string]string{"email": "viewer@example.com", "password": "viewer password 1"}); code != 200 {
		t.Errorf("another account from the same address: %d", code)
	}
}

// Behind a trusted reverse proxy the client's address comes from
// X-Forwarded-For, so one client's failures do not throttle another's;
// from anyone else the header is ignored.
func TestLoginThrottlingBehindProxy(t *testing.T) {
	a, base := startApp(t)
	// The test connects from 127.0.0.1; pretend it is the proxy.
	cfg := *a.cfg.Load()
	cfg.Server.Proxies = append(cfg.Server.Proxies, netip.MustParsePrefix("127.0.0.1/32"))
	a.cfg.Store(&cfg)
	guesser := &apiClient{t: t, base: base, http: http.DefaultClient, forwardedFor: "198.51.100.66"}
	for range 7 {
		guesser.do("POST", "/api/v1/login", map[string]string{"email": "owner@example.com", "password": "guess guess guess"})
	}
	if code, _, _ := guesser.do("POST", "/api/v1/login", map[string]string{"email": "owner@example.com", "password": "guess guess guess"}); code != 429 {
		t.Errorf("the guessing client: %d, want 429", code)
	}
	other := &apiClient{t: t, base: base, http: http.DefaultClient, forwardedFor: "198.51.100.7"}
	if code, _, _ := other.do("POST", "/api/v1/login", map[string]string{"email": "owner@example.com", "password": "owner password 1"}); code != 200 {
		t.Errorf("the owner, another client behind the same proxy: %d, want 200", code)
	}
	// Not a trusted proxy: the header is the client's own claim.
	untrusted := cfg
	untrusted.Server.Proxies = nil
	a.cfg.Store(&untrusted)
	liar := &apiClient{t: t, base: base, http: http.DefaultClient, forwardedFor: "203.0.113.1"}
	for range 7 {
		liar.do("POST", "/api/v1/login", map[string]string{"email": "viewer@example.com", "password": "guess guess guess"})
	}
	liar.forwardedFor = "203.0.113.2"
	if code, _, _ := liar.do("POST", "/api/v1/login", map[string]string{"email": "viewer@example.com", "password": "viewer password 1"}); code != 429 {
		t.Errorf("an untrusted peer changing X-Forwarded-For escaped the throttle: %d", code)
	}
}

func TestMaintenanceAPI(t *testing.T) {
	a, base := startApp(t)
	rui := browser(t, base, "responder@example.com", "responder password")
	now := time.Now().UTC()
	code, out, _ := rui.do("POST", "/api/v1/maintenances", map[string]any{"name": "Drive connector upgrade", "message": "Sync pauses for **an hour**.",
		"scheduled_for": now.Add(-time.Minute).Format(time.RFC3339), "scheduled_until": now.Add(time.Hour).Format(time.RFC3339), "components": []string{"drive"}})
	if code != 201 {
		t.Fatalf("schedule: %d %v", code, out)
	}
	m := out["maintenance"].(map[string]any)
	if m["status"] != "in_progress" || m["author"] != "Rui" {
		t.Errorf("maintenance = %v", m)
	}
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := get("/api/v2/components.json"); !strings.Contains(body, `"id":"drive","name":"Cloud drive","status":"under_maintenance"`) {
		t.Errorf("components.json:\n%s", body)
	}
	for _, path := range []string{"/api/v2/scheduled-maintenances.json", "/api/v2/scheduled-maintenances/active.json", "/api/v2/summary.json"} {
		if body := get(path); !strings.Contains(body, `"name":"Drive connector upgrade","status":"in_progress"`) || !strings.Contains(body, `"scheduled_until"`) {
			t.Errorf("%s lacks the maintenance:\n%s", path, body)
		}
	}
	if body := get("/api/v2/status.json"); !strings.Contains(body, `"indicator":"maintenance"`) {
		t.Errorf("status.json: %s", body)
	}
	if body := get("/api/v2/scheduled-maintenances/upcoming.json"); strings.Contains(body, "Drive connector upgrade") {
		t.Error("an in-progress window is listed as upcoming")
	}
	if body := get("/"); !strings.Contains(body, "Drive connector upgrade") || !strings.Contains(body, "<strong>an hour</strong>") {
		t.Error("the page does not show the maintenance")
	}
	// Bad windows are refused, naming the problem.
	code, out, _ = rui.do("POST", "/api/v1/maintenances", map[string]any{"name": "x", "scheduled_for": now.Add(2 * time.Hour).Format(time.RFC3339),
		"scheduled_until": now.Add(time.Hour).Format(time.RFC3339), "components": []string{"drive"}})
	if code != 400 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "ends before it starts") {
		t.Errorf("window ending before it starts: %d %v", code, out)
	}
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	if code, _, _ := vic.do("DELETE", "/api/v1/maintenances/"+m["id"].(string), nil); code != 403 {
		t.Errorf("viewer cancel: %d", code)
	}
	if code, _, _ := rui.do("DELETE", "/api/v1/maintenances/"+m["id"].(string), nil); code != 204 {
		t.Errorf("cancel: %d", code)
	}
	if st := a.engine.Statuses()["drive"]; st != upstate.Operational {
		t.Errorf("drive is %s after cancelling", st)
	}
}

func TestReportAPI(t *testing.T) {
	_, base := startApp(t)
	rui := browser(t, base, "responder@example.com", "responder password")
	code, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": "Roster sync stalled", "message": "Quota exhausted.",
		"components": map[string]string{"api": "major_outage"}})
	if code != 201 {
		t.Fatalf("declare: %d %v", code, out)
	}
	id := out["incident"].(map[string]any)["id"].(string)
	rui.do("POST", "/api/v1/incidents/"+id+"/resolve", map[string]string{"message": "Quota raised."})
	today := time.Now().In(mustLoc(t, "America/Los_Angeles")).Format("2006-01-02")
	get := func(q string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", base+"/api/v1/report?"+q, nil)
		resp, err := rui.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code, body, hdr := get("from=" + today + "&to=" + today + "&format=md&also_tz=Pacific/Auckland&download=1")
	if code != 200 || !strings.Contains(body, "#### Roster sync stalled") || !strings.Contains(body, "NZ") ||
		!strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
		t.Errorf("report: %d %v\n%s", code, hdr, body)
	}
	code, body, _ = get("from=" + today + "&to=" + today)
	if code != 200 || !strings.Contains(body, "<title>Admin test outage report") {
		t.Errorf("html report: %d", code)
	}
	code, body, _ = get("from=2026-09-02&to=2026-09-01&tz=Mars/Base")
	if code != 400 || !strings.Contains(body, `tz \"Mars/Base\" is not a time zone name`) {
		t.Errorf("bad report request: %d %s", code, body)
	}
	code, body, _ = get("from=2026-09-02&to=2026-09-01")
	if code != 400 || !strings.Contains(body, "from 2026-09-02 is after to 2026-09-01") {
		t.Errorf("from after to: %d %s", code, body)
	}
	// Dates at the ends of the calendar used to answer 500 (times past
	// year 9999 do not encode); now the answer says what is wrong.
	for q, want := range map[string]string{
		"from=0001-01-01&to=9999-12-31&format=json": "dates must be between 1970-01-01 and 9998-12-31",
		"from=2000-01-01&to=2026-01-01&format=json": "longer than a report covers (3653 days)",
	} {
		if code, body, _ := get(q); code != 400 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s, want 400 saying %q", q, code, body, want)
		}
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPostmortemAPI(t *testing.T) {
	a, base := startApp(t)
	rui := browser(t, base, "responder@example.com", "responder password")
	_, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": "API errors", "components": map[string]string{"api": "partial_outage"}})
	id := out["incident"].(map[string]any)["id"].(string)
	code, out, _ := rui.do("PUT", "/api/v1/incidents/"+id+"/postmortem", map[string]any{"root_cause": "A lock on `submissions`.",
		"action_items": []map[string]string{{"text": "Statement timeout", "owner": "Dana", "state": "doing"}}})
	if code != 400 || !strings.Contains(out["error"].(map[string]any)["message"].(string), `action_items[0].state "doing" is not open or done`) {
		t.Errorf("bad action item: %d %v", code, out)
	}
	code, out, _ = rui.do("PUT", "/api/v1/incidents/"+id+"/postmortem", map[string]any{"root_cause": "A lock on `submissions`.",
		"action_items": []map[string]string{{"text": "Statement timeout", "owner": "Dana"}}})
	if code != 200 || out["postmortem"].(map[string]any)["status"] != "draft" {
		t.Fatalf("save draft: %d %v", code, out)
	}
	// A complete postmortem of an open incident is not published: the
	// incident must be resolved first, and the answer says so.
	rui.do("PUT", "/api/v1/incidents/"+id+"/postmortem", map[string]any{"root_cause": "A lock on `submissions`.", "fix_and_prevention": "A 5 s statement timeout."})
	code, out, _ = rui.do("POST", "/api/v1/incidents/"+id+"/postmortem/publish", nil)
	if want := "incident " + id + " is investigating: resolve it before publishing its postmortem"; code != 409 || errMsg(out) != want {
		t.Errorf("publishing while the incident is open: %d %q, want 409 %q", code, errMsg(out), want)
	}
	if _, out, _ := rui.do("GET", "/api/v1/incidents/"+id+"/postmortem", nil); out["postmortem"].(map[string]any)["status"] != "draft" {
		t.Errorf("after the refused publish the postmortem is %v, want a draft still", out["postmortem"])
	}
	if _, out, _ := rui.do("GET", "/api/v1/incidents/"+id, nil); out["incident"].(map[string]any)["status"] != "investigating" {
		t.Errorf("after the refused publish the incident is %v, want investigating still", out["incident"].(map[string]any)["status"])
	}
	rui.do("PUT", "/api/v1/incidents/"+id+"/postmortem", map[string]any{"root_cause": "A lock on `submissions`.",
		"action_items": []map[string]string{{"text": "Statement timeout", "owner": "Dana"}}})
	rui.do("POST", "/api/v1/incidents/"+id+"/resolve", nil)
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/postmortem/publish", nil); code != 400 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "fix and prevention") {
		t.Errorf("publishing without a fix: %d %v", code, out)
	}
	rui.do("PUT", "/api/v1/incidents/"+id+"/postmortem", map[string]any{"root_cause": "A lock on `submissions`.", "fix_and_prevention": "A 5 s statement timeout."})
	code, out, _ = rui.do("POST", "/api/v1/incidents/"+id+"/postmortem/publish", nil)
	if code != 200 || out["postmortem"].(map[string]any)["status"] != "published" {
		t.Fatalf("publish: %d %v", code, out)
	}
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, _ := http.Get(base + "/api/v2/incidents.json")
	pub, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(pub), `"status":"postmortem"`) || !strings.Contains(string(pub), "A 5 s statement timeout.") {
		t.Errorf("incidents.json after publishing:\n%s", pub)
	}
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	if code, _, _ := vic.do("PUT", "/api/v1/incidents/"+id+"/postmortem", map[string]any{"root_cause": "x"}); code != 403 {
		t.Errorf("viewer writing a postmortem: %d", code)
	}
	today := time.Now().In(mustLoc(t, "America/Los_Angeles")).Format("2006-01-02")
	req, _ := http.NewRequest("GET", base+"/api/v1/report?format=md&from="+today+"&to="+today, nil)
	resp, err := vic.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(rep), "**Root cause**: A lock on `submissions`.") || !strings.Contains(string(rep), "A 5 s statement timeout.") {
		t.Errorf("report lacks the postmortem:\n%s", rep)
	}
}

func errMsg(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func TestComponentStatusAPI(t *testing.T) {
	a, base := startApp(t)
	rui := browser(t, base, "responder@example.com", "responder password")
	code, out, _ := rui.do("PATCH", "/api/v1/components/drive", map[string]any{"status": "degraded_performance"})
	if code != 200 {
		t.Fatalf("hold: %d %v", code, out)
	}
	c := out["component"].(map[string]any)
	if c["status"] != "degraded_performance" || c["held_status"].(map[string]any)["set_by"] != "Rui" {
		t.Errorf("component = %v", c)
	}
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/api/v2/components.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"id":"drive","name":"Cloud drive","status":"degraded_performance"`) {
		t.Errorf("components.json does not show the held status:\n%s", body)
	}
	_, out, _ = rui.do("GET", "/api/v1/components", nil)
	if cs := out["components"].([]any); len(cs) != 2 || cs[1].(map[string]any)["held_status"] == nil {
		t.Errorf("list = %v", out)
	}
	for _, tc := range []struct {
		path string
		body any
		code int
		want string
	}{
		{"/api/v1/components/nope", map[string]any{"status": "major_outage"}, 404, `no component "nope"`},
		{"/api/v1/components/drive", map[string]any{"status": "on_fire"}, 400, `status "on_fire" is not one of`},
		{"/api/v1/components/drive", map[string]any{}, 400, "status is required"},
		{"/api/v1/components/drive", map[string]any{"status": "operational", "extra": 1}, 400, `"extra"`},
	} {
		if code, out, _ := rui.do("PATCH", tc.path, tc.body); code != tc.code || !strings.Contains(errMsg(out), tc.want) {
			t.Errorf("PATCH %s %v: %d %v, want %d %q", tc.path, tc.body, code, out, tc.code, tc.want)
		}
	}
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	if code, _, _ := vic.do("PATCH", "/api/v1/components/drive", map[string]any{"status": "operational"}); code != 403 {
		t.Errorf("viewer: %d", code)
	}
	if code, _, _ := rui.do("PATCH", "/api/v1/components/drive", map[string]any{"status": "operational"}); code != 200 || a.engine.Statuses()["drive"] != upstate.Operational {
		t.Errorf("clear: %d, drive %s", code, a.engine.Statuses()["drive"])
	}
}

func TestAcknowledgeMergeReachAPI(t *testing.T) {
	a, base := startApp(t)
	rui := browser(t, base, "responder@example.com", "responder password")
	olga := browser(t, base, "owner@example.com", "owner password 1")
	_, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": "Drive sync failing", "components": map[string]string{"drive": "major_outage"},
		"reach":    map[string]any{"failing_percent": 25, "regions": []string{"EU"}, "segments": []string{"schools on SSO"}},
		"upstream": map[string]any{"provider": "Google Workspace", "title": "Drive service disruption", "url": "https://www.google.com/appsstatus/dashboard/"}})
	first := out["incident"].(map[string]any)
	if r := first["reach"].(map[string]any); r["failing_percent"] != 25.0 || r["regions"].([]any)[0] != "EU" {
		t.Errorf("reach = %v", r)
	}
	if u := first["upstream"].(map[string]any); u["provider"] != "Google Workspace" {
		t.Errorf("upstream = %v", u)
	}
	if first["acknowledged_at"] != nil {
		t.Errorf("declaring acknowledged: %v", first["acknowledged_by"])
	}
	_, out, _ = olga.do("POST", "/api/v1/incidents", map[string]any{"name": "Uploads failing", "components": map[string]string{"api": "partial_outage"}})
	second := out["incident"].(map[string]any)
	if code, out, _ := olga.do("POST", "/api/v1/incidents/"+second["id"].(string)+"/acknowledge", nil); code != 200 || out["incident"].(map[string]any)["acknowledged_by"] != "Olga" {
		t.Errorf("acknowledge: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+second["id"].(string)+"/acknowledge", nil); code != 200 || out["incident"].(map[string]any)["acknowledged_by"] != "Olga" {
		t.Errorf("acknowledge an acknowledged incident: %d %v", code, out)
	}
	code, out, _ := rui.do("POST", "/api/v1/incidents/"+first["id"].(string)+"/merge", map[string]any{"incidents": []string{second["id"].(string)}})
	if code != 200 {
		t.Fatalf("merge: %d %v", code, out)
	}
	merged := out["incident"].(map[string]any)
	if cs := merged["components"].([]any); len(cs) != 2 {
		t.Errorf("merged components = %v", cs)
	}
	_, out, _ = rui.do("GET", "/api/v1/incidents/"+second["id"].(string), nil)
	if src := out["incident"].(map[string]any); src["merged_into"] != first["id"] || src["status"] != "resolved" {
		t.Errorf("merged incident = %v", src)
	}
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/api/v2/incidents.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "Uploads failing") || !strings.Contains(string(body), "Drive sync failing") {
		t.Errorf("the public API lists a merged incident:\n%s", body)
	}
	resp, _ = http.Get(base + "/")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"about 25% of requests failing", "schools on SSO", "Google Workspace", `href="https://www.google.com/appsstatus/dashboard/"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, tc := range []struct {
		path string
		body any
		code int
		want string
	}{
		{"/merge", map[string]any{"incidents": []string{"nope"}}, 400, `no incident "nope"`},
		{"/merge", map[string]any{"incidents": []any{second["id"]}}, 409, "already"},
		{"/updates", map[string]any{"reach": map[string]any{"failing_percent": 101}}, 400, "reach.failing_percent"},
		{"/updates", map[string]any{"upstream": map[string]any{"provider": "x", "url": "ftp://x"}}, 400, "upstream.url"},
		{"/updates", map[string]any{"reach": map[string]any{"share": 1}}, 400, `"share"`},
	} {
		if code, out, _ := rui.do("POST", "/api/v1/incidents/"+first["id"].(string)+tc.path, tc.body); code != tc.code || !strings.Contains(errMsg(out), tc.want) {
			t.Errorf("%s %v: %d %v, want %d %q", tc.path, tc.body, code, out, tc.code, tc.want)
		}
	}
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	if code, _, _ := vic.do("POST", "/api/v1/incidents/"+first["id"].(string)+"/acknowledge", nil); code != 403 {
		t.Errorf("viewer acknowledge: %d", code)
	}
}
