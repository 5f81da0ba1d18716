package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// auditOf reads the whole audit log as the owner sees it, newest first.
func auditOf(t *testing.T, owner *apiClient, query string) []map[string]any {
	t.Helper()
	code, out, _ := owner.do("GET", "/api/v1/audit"+query, nil)
	if code != 200 {
		t.Fatalf("audit: %d %v", code, out)
	}
	var es []map[string]any
	for _, e := range out["entries"].([]any) {
		es = append(es, e.(map[string]any))
	}
	return es
}

// findAudit returns the newest entry whose action contains words.
func findAudit(es []map[string]any, words string) map[string]any {
	for _, e := range es {
		if strings.Contains(e["action"].(string), words) {
			return e
		}
	}
	return nil
}

func publicDoc(t *testing.T, a *App, base, path string) string {
	t.Helper()
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Corrections over the API: every route's credentials, scope, role,
// validation, not-found and conflict; what an edit, a hide and a delete do
// to the public side, the admin and the report; and the audit log of it
// all, who, what, when and from where, without a secret in it.
func TestCorrectionsAPI(t *testing.T) {
	a, base := startApp(t)
	anon := &apiClient{t: t, base: base, http: http.DefaultClient}
	if code, _, _ := anon.do("POST", "/api/v1/login", map[string]string{"email": "owner@example.com", "password": "not the password 9"}); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	olga := browser(t, base, "owner@example.com", "owner password 1")
	rui := browser(t, base, "responder@example.com", "responder password")
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	mint := func(scopes ...string) (*apiClient, string) {
		t.Helper()
		code, out, _ := olga.do("POST", "/api/v1/tokens", map[string]any{"name": "bot-" + strings.Join(scopes, "-"), "scopes": scopes})
		if code != 201 {
			t.Fatalf("token %v: %d %v", scopes, code, out)
		}
		secret := out["token"].(map[string]any)["token"].(string)
		return &apiClient{t: t, base: base, http: http.DefaultClient, token: secret}, secret
	}
	reader, readerSecret := mint("read")
	writer, _ := mint("read", "incidents:write")
	admin, _ := mint("admin", "read")

	declare := func(name string) string {
		t.Helper()
		code, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": name, "message": "Uploads fial.", "components": map[string]string{"drive": "major_outage"}})
		if code != 201 {
			t.Fatalf("declare: %d %v", code, out)
		}
		return out["incident"].(map[string]any)["id"].(string)
	}
	mistake := declare("Drive down (a test)")
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+mistake+"/resolve", nil); code != 200 {
		t.Fatalf("resolve: %d %v", code, out)
	}
	open := declare("Conversions failing")
	in, err := a.store.GetIncident(context.Background(), mistake)
	if err != nil {
		t.Fatal(err)
	}
	first := in.Updates[0].ID

	// Credentials, scope and role, route by route.
	routes := []struct {
		method, path string
		body         any
		owners       bool // admin scope: owners and admin tokens only
	}{
		{"PATCH", "/api/v1/incidents/" + mistake + "/updates/" + first, map[string]any{"body": "x"}, false},
		{"POST", "/api/v1/incidents/" + mistake + "/hide", map[string]any{"reason": "x"}, false},
		{"POST", "/api/v1/incidents/" + mistake + "/unhide", nil, false},
		{"DELETE", "/api/v1/incidents/" + mistake, map[string]any{"reason": "x"}, true},
		{"GET", "/api/v1/audit", nil, true},
	}
	for _, r := range routes {
		name := r.method + " " + r.path
		if code, _, _ := anon.do(r.method, r.path, r.body); code != 401 {
			t.Errorf("%s without credentials: %d, want 401", name, code)
		}
		if code, out, _ := vic.do(r.method, r.path, r.body); code != 403 || !strings.Contains(errMsg(out), "your role (viewer)") {
			t.Errorf("%s as a viewer: %d %v, want 403", name, code, out)
		}
		if code, out, _ := reader.do(r.method, r.path, r.body); code != 403 || !strings.Contains(errMsg(out), "this token does not allow this") {
			t.Errorf("%s with a read token: %d %v, want 403", name, code, out)
		}
		if r.owners {
			if code, out, _ := rui.do(r.method, r.path, r.body); code != 403 || !strings.Contains(errMsg(out), `needs the "admin" scope`) {
				t.Errorf("%s as a responder: %d %v, want 403", name, code, out)
			}
			if code, _, _ := writer.do(r.method, r.path, r.body); code != 403 {
				t.Errorf("%s with an incidents:write token: %d, want 403", name, code)
			}
		}
	}

	// Validation names the field; unknown ids are 404; conflicts 409.
	for _, tc := range []struct {
		name         string
		by           *apiClient
		method, path string
		body         any
		code         int
		want         string
	}{
		{"edit without body", rui, "PATCH", "/api/v1/incidents/" + mistake + "/updates/" + first, map[string]any{}, 400, "body is required"},
		{"edit to nothing", rui, "PATCH", "/api/v1/incidents/" + mistake + "/updates/" + first, map[string]any{"body": "  "}, 400, "body is required"},
		{"edit an unknown field", rui, "PATCH", "/api/v1/incidents/" + mistake + "/updates/" + first, map[string]any{"text": "x"}, 400, "text"},
		{"edit an unknown entry", rui, "PATCH", "/api/v1/incidents/" + mistake + "/updates/nope", map[string]any{"body": "x"}, 404, "has no entry nope"},
		{"edit on an unknown incident", rui, "PATCH", "/api/v1/incidents/nope/updates/" + first, map[string]any{"body": "x"}, 404, "nope"},
		{"hide without reason", rui, "POST", "/api/v1/incidents/" + mistake + "/hide", map[string]any{}, 400, "reason is required"},
		{"hide an unknown incident", writer, "POST", "/api/v1/incidents/nope/hide", map[string]any{"reason": "x"}, 404, "nope"},
		{"hide an open incident", rui, "POST", "/api/v1/incidents/" + open + "/hide", map[string]any{"reason": "x"}, 409, "resolve it first"},
		{"unhide one shown", rui, "POST", "/api/v1/incidents/" + mistake + "/unhide", nil, 409, "is not hidden"},
		{"delete without reason", olga, "DELETE", "/api/v1/incidents/" + mistake, map[string]any{}, 400, "reason is required"},
		{"delete an unknown incident", admin, "DELETE", "/api/v1/incidents/nope", map[string]any{"reason": "x"}, 404, "nope"},
		{"delete an open incident", olga, "DELETE", "/api/v1/incidents/" + open, map[string]any{"reason": "x"}, 409, "resolve it first"},
		{"audit from a bad time", olga, "GET", "/api/v1/audit?from=yesterday", nil, 400, "from:"},
		{"audit before nothing", olga, "GET", "/api/v1/audit?before=x", nil, 400, "before:"},
	} {
		code, out, _ := tc.by.do(tc.method, tc.path, tc.body)
		if code != tc.code || !strings.Contains(errMsg(out), tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, errMsg(out), tc.code, tc.want)
		}
	}

	// The evidence of an automatic entry is never published; held words are.
	if err := a.store.Apply(context.Background(), store.Change{Entries: []upstate.TimelineEntry{
		{ID: "held", IncidentID: open, At: time.Now(), Status: upstate.Investigating, Body: "Conversions are failing.", Actor: upstate.ActorUpstate, Kind: upstate.EntryAutomatic},
		{ID: "evidence", IncidentID: open, At: time.Now(), Status: upstate.Investigating, Body: "convert: HTTP 500 from 10.0.0.7", Actor: upstate.ActorUpstate, Kind: upstate.EntryEvidence}}}); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+open+"/updates/evidence/publish", nil); code != 409 || !strings.Contains(errMsg(out), "cannot be published") {
		t.Errorf("publish evidence: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+open+"/updates/held/publish", nil); code != 200 {
		t.Errorf("publish held words: %d %v", code, out)
	}

	// An edit: the words change on the public side, marked by updated_at;
	// the admin shows who edited it.
	code, out, _ := rui.do("PATCH", "/api/v1/incidents/"+mistake+"/updates/"+first, map[string]any{"body": "Uploads fail."})
	if code != 200 {
		t.Fatalf("edit: %d %v", code, out)
	}
	ups := out["incident"].(map[string]any)["updates"].([]any)
	edited := ups[len(ups)-1].(map[string]any)
	if edited["body"] != "Uploads fail." || edited["edited_by"] != "Rui" || edited["edited_at"] == nil || edited["kind"] != "update" {
		t.Errorf("edited entry = %v", edited)
	}
	var pub struct {
		Incidents []struct {
			ID      string `json:"id"`
			Updates []struct {
				ID        string `json:"id"`
				Body      string `json:"body"`
				CreatedAt string `json:"created_at"`
				UpdatedAt string `json:"updated_at"`
			} `json:"incident_updates"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(publicDoc(t, a, base, "/api/v2/incidents.json")), &pub); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, pi := range pub.Incidents {
		for _, u := range pi.Updates {
			if u.ID == first {
				found = true
				if u.Body != "Uploads fail." || u.UpdatedAt == u.CreatedAt || u.UpdatedAt == "" {
					t.Errorf("public update after the edit = %+v", u)
				}
			}
		}
	}
	if !found {
		t.Error("the edited update is not on the public incidents.json")
	}

	// Hidden: off every public document, still in the admin and the report.
	if code, out, _ := writer.do("POST", "/api/v1/incidents/"+mistake+"/hide", map[string]any{"reason": "declared during a drill"}); code != 200 ||
		out["incident"].(map[string]any)["hidden"].(map[string]any)["reason"] != "declared during a drill" {
		t.Fatalf("hide: %d %v", code, out)
	}
	for _, path := range []string{"/api/v2/incidents.json", "/api/v2/summary.json", "/history.atom", "/history.rss", "/"} {
		if doc := publicDoc(t, a, base, path); strings.Contains(doc, mistake) || strings.Contains(doc, "Drive down (a test)") {
			t.Errorf("%s shows the hidden incident", path)
		}
	}
	if code, out, _ := rui.do("GET", "/api/v1/incidents/"+mistake, nil); code != 200 || out["incident"].(map[string]any)["hidden"] == nil {
		t.Errorf("admin read of the hidden incident: %d %v", code, out)
	}
	day := func(d int) string { return time.Now().In(a.cfg.Load().Location).AddDate(0, 0, d).Format("2006-01-02") }
	req, _ := http.NewRequest("GET", base+"/api/v1/report?format=md&from="+day(-1)+"&to="+day(1), nil)
	req.Header.Set("Authorization", "Bearer "+readerSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(rep), "Drive down (a test)") || !strings.Contains(string(rep), "Hidden from the public page: declared during a drill") {
		t.Errorf("report: %d\n%s", resp.StatusCode, rep)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+mistake+"/reopen", nil); code != 409 || !strings.Contains(errMsg(out), "hidden") {
		t.Errorf("reopen hidden: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+mistake+"/unhide", nil); code != 200 || out["incident"].(map[string]any)["hidden"] != nil {
		t.Errorf("unhide: %d %v", code, out)
	}
	if !strings.Contains(publicDoc(t, a, base, "/api/v2/incidents.json"), mistake) {
		t.Error("shown again, the incident is not on incidents.json")
	}

	// Deleted, by an owner: gone everywhere, kept in the audit log.
	if code, out, _ := olga.do("DELETE", "/api/v1/incidents/"+mistake, map[string]any{"reason": "a drill, not an incident"}); code != 204 {
		t.Fatalf("delete: %d %v", code, out)
	}
	if code, _, _ := rui.do("GET", "/api/v1/incidents/"+mistake, nil); code != 404 {
		t.Errorf("deleted incident: %d", code)
	}
	if strings.Contains(publicDoc(t, a, base, "/api/v2/incidents.json"), mistake) {
		t.Error("the deleted incident is on incidents.json")
	}

	// The audit log, as the owner reads it.
	es := auditOf(t, olga, "?limit=1000")
	del := findAudit(es, "deleted incident 'Drive down (a test)' ("+mistake+"): a drill, not an incident")
	if del == nil || del["actor"] != "Olga <owner@example.com>" || del["actor_kind"] != "user" || del["route"] != "DELETE /api/v1/incidents/{id}" ||
		del["status"] != float64(204) || !strings.Contains(del["detail"].(string), `"body":"Uploads fail."`) || del["addr"] != "127.0.0.1" {
		t.Errorf("the delete's entry = %v", del)
	}
	if n := len(findAll(es, "deleted incident")); n != 1 {
		t.Errorf("the delete is recorded %d times", n)
	}
	dec := findAudit(es, "declared incident 'Conversions failing' ("+open+")")
	if dec == nil || dec["actor"] != "Rui <responder@example.com>" || dec["route"] != "POST /api/v1/incidents" || dec["status"] != float64(201) ||
		fmt.Sprint(dec["targets"]) != "["+open+"]" || !strings.HasPrefix(dec["user_agent"].(string), "Go-http-client") {
		t.Errorf("the declaration's entry = %v", dec)
	}
	for words, want := range map[string]string{
		`failed sign-in as "owner@example.com"`:             "anonymous 401",
		"signed in":                                         "user 200",
		"edited an entry of incident 'Drive down (a test)'": "user 200",
		"hid incident 'Drive down (a test)' (" + mistake + ") from the public: declared during a drill": "token 200",
		"refused (needs the incidents:write scope): POST /api/v1/incidents/" + mistake + "/hide":        "",          // a viewer, then a read token
		"refused (needs the admin scope): DELETE /api/v1/incidents/" + mistake:                          "token 403", // a responder, then an incidents:write token
		"tried to publish entry evidence":              "user 409",
		"created API token 'bot-read'":                 "user 201",
		"added user Olga <owner@example.com> as owner": "cli 0",
	} {
		e := findAudit(es, words)
		if e == nil {
			t.Errorf("no audit entry %q", words)
			continue
		}
		if got := fmt.Sprintf("%s %v", e["actor_kind"], e["status"]); want != "" && got != want {
			t.Errorf("%q: %s, want %s", words, got, want)
		}
	}
	if e := findAudit(es, "created API token 'bot-read'"); e != nil && e["route"] != "POST /api/v1/tokens" {
		t.Errorf("token entry = %v", e)
	}
	if e := findAudit(es, "hid incident"); e == nil || !strings.HasPrefix(e["actor"].(string), "token 'bot-read-incidents:write' of Olga") {
		t.Errorf("a token's entry = %v", e)
	}
	all, _ := json.Marshal(es)
	for _, secret := range []string{readerSecret, "owner password 1", "responder password", "not the password 9", "ups_"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("the audit log holds a secret (%.8s…)", secret)
		}
	}
	// Requests with no credentials name nobody and are not recorded.
	for _, e := range es {
		if e["actor_kind"] == "anonymous" && !strings.Contains(e["action"].(string), "sign-in") {
			t.Errorf("an anonymous request recorded: %v", e)
		}
	}
	// Filters and paging.
	if got := auditOf(t, olga, "?target="+open); len(got) == 0 || findAudit(got, "declared incident 'Conversions failing'") == nil || findAudit(got, "Drive down") != nil {
		t.Errorf("by target: %v", got)
	}
	if got := auditOf(t, olga, "?actor=responder%40example.com&action=declared"); len(got) != 2 {
		t.Errorf("by actor and action: %d entries", len(got))
	}
	code, page, _ := olga.do("GET", "/api/v1/audit?limit=2", nil)
	if code != 200 || len(page["entries"].([]any)) != 2 || page["next"] == nil {
		t.Fatalf("first page: %d %v", code, page)
	}
	_, older, _ := olga.do("GET", "/api/v1/audit?limit=2&before="+page["next"].(string), nil)
	if id := older["entries"].([]any)[0].(map[string]any)["id"].(float64); id >= page["entries"].([]any)[1].(map[string]any)["id"].(float64) {
		t.Errorf("the next page is not older: %v", older)
	}
	if got := auditOf(t, olga, "?from="+url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))); len(got) != 0 {
		t.Errorf("from an hour ahead: %v", got)
	}
}

func findAll(es []map[string]any, words string) []map[string]any {
	var out []map[string]any
	for _, e := range es {
		if strings.Contains(e["action"].(string), words) {
			out = append(out, e)
		}
	}
	return out
}

// The client's address is the one the trusted proxy forwarded for.
func TestAuditBehindTrustedProxy(t *testing.T) {
	a, base := startApp(t)
	olga := browser(t, base, "owner@example.com", "owner password 1")
	code, out, _ := olga.do("POST", "/api/v1/tokens", map[string]any{"name": "ci", "scopes": []string{"incidents:write", "read"}})
	if code != 201 {
		t.Fatal(code, out)
	}
	secret := out["token"].(map[string]any)["token"].(string)
	// httptest's requests come from 192.0.2.1, inside the trusted proxies.
	code, body := postTo(a, "/api/v1/incidents", `{"name": "API errors"}`, map[string]string{"Authorization": "Bearer " + secret,
		"X-Forwarded-For": "198.51.100.1, 203.0.113.9", "User-Agent": "deploy-bot/2"})
	if code != 201 {
		t.Fatal(code, body)
	}
	e := findAudit(auditOf(t, olga, ""), "declared incident 'API errors'")
	if e == nil || e["addr"] != "203.0.113.9" || e["user_agent"] != "deploy-bot/2" || e["actor"] != "token 'ci' of Olga <owner@example.com>" || e["token_id"] == "" {
		t.Errorf("entry = %v", e)
	}
}

// Routes added by others are audited with no code of their own: a check
// made in the console is recorded, its secret is not.
func TestConsoleChangesAreAudited(t *testing.T) {
	_, base := startApp(t)
	olga := browser(t, base, "owner@example.com", "owner password 1")
	code, out, _ := olga.do("POST", "/api/v1/checks", map[string]any{"id": "api-health", "kind": "http", "url": "https://api.example.com/health", "interval": "30s",
		"components": []string{"api"}, "headers": map[string]string{"Authorization": "Bearer s3cr3t-in-a-header"}})
	if code != 201 {
		t.Fatalf("create a check: %d %v", code, out)
	}
	if code, out, _ := olga.do("POST", "/api/v1/checks/api-health/pause", nil); code != 200 && code != 204 {
		t.Fatalf("pause: %d %v", code, out)
	}
	es := auditOf(t, olga, "?target=api-health")
	if findAudit(es, "created check api-health in the console") == nil || findAudit(es, "paused check api-health") == nil {
		t.Errorf("console changes: %v", es)
	}
	all, _ := json.Marshal(auditOf(t, olga, ""))
	if strings.Contains(string(all), "s3cr3t") {
		t.Error("the audit log holds a check's secret")
	}
}

// Failed sign-ins are recorded; those the throttle turns away are not:
// anyone could fill the log with them, 400 days long.
func TestThrottledSignInsAreNotAudited(t *testing.T) {
	a, base := startApp(t)
	failed, throttled := 0, 0
	for range 30 {
		code, _ := postTo(a, "/api/v1/login", `{"email": "owner@example.com", "password": "wrong password"}`, nil)
		switch code {
		case 401:
			failed++
		case 429:
			throttled++
		default:
			t.Fatalf("sign-in answered %d", code)
		}
	}
	if throttled == 0 {
		t.Fatal("the throttle never answered")
	}
	olga := browser(t, base, "owner@example.com", "owner password 1")
	n := 0
	for _, e := range auditOf(t, olga, "") {
		if strings.Contains(e["action"].(string), "sign-in") && strings.Contains(e["action"].(string), "owner@example.com") {
			n++
		}
	}
	if n != failed {
		t.Errorf("%d failed sign-ins recorded; %d were refused and %d throttled", n, failed, throttled)
	}
}
