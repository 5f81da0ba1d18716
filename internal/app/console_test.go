package app

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/schedule"
)

const consoleYAML = `page: {name: Console test, url: 'http://127.0.0.1'}
server: {console_env: [BACKUP_TOKEN]}
components:
  - {id: api, name: API}
  - {id: drive, name: Cloud drive}
checks:
  - {id: nightly, kind: heartbeat, period: 24h, token: "${NIGHTLY_TOKEN:-t0ken}", components: [drive]}
`

// startConsoleApp runs an app on consoleYAML (file upstate.yaml) with an
// owner, a responder and a viewer signed in as browsers.
func startConsoleApp(t *testing.T) (*App, map[string]*apiClient) {
	t.Helper()
	cfg, err := config.Parse("/etc/upstate/upstate.yaml", []byte(consoleYAML), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	a := reopenApp(t, cfg, Options{})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	base := "http://" + a.Addr()
	people := map[string]*apiClient{"anon": {t: t, base: base, http: http.DefaultClient}}
	for _, u := range []NewUser{
		{Email: "owner@example.com", Name: "Olga", Role: upstate.RoleOwner, Password: "owner password 1"},
		{Email: "responder@example.com", Name: "Rui", Role: upstate.RoleResponder, Password: "responder password"},
		{Email: "viewer@example.com", Name: "Vic", Role: upstate.RoleViewer, Password: "viewer password 1"},
	} {
		if _, err := AddUser(context.Background(), cfg, u, time.Now); err != nil {
			t.Fatal(err)
		}
		people[string(u.Role)] = browser(t, base, u.Email, u.Password)
	}
	return a, people
}

func errorOf(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func running(a *App, id string) bool {
	_, ok := a.checks.Load().byID[id]
	scheduled := slices.ContainsFunc(a.checks.Load().compiled.jobs, func(j schedule.Job) bool { return j.ID == id })
	return ok && scheduled
}

func TestConsoleChecksAPI(t *testing.T) {
	a, p := startConsoleApp(t)
	owner, rui, vic, anon := p["owner"], p["responder"], p["viewer"], p["anon"]
	hb := map[string]any{"id": "backup", "name": "Backups", "kind": "heartbeat", "period": "1h", "token": "s3cret-literal", "components": []string{"drive"}}

	// Authentication and scope, on every route.
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/checks"}, {"PATCH", "/api/v1/checks/backup"}, {"DELETE", "/api/v1/checks/backup"},
		{"POST", "/api/v1/checks/backup/pause"}, {"POST", "/api/v1/checks/backup/resume"},
	}
	for _, r := range routes {
		if code, _, _ := anon.do(r.method, r.path, hb); code != 401 {
			t.Errorf("anonymous %s %s: %d, want 401", r.method, r.path, code)
		}
		if code, out, _ := vic.do(r.method, r.path, hb); code != 403 || !strings.Contains(errorOf(out), `"checks:write"`) {
			t.Errorf("viewer %s %s: %d %v, want 403 naming checks:write", r.method, r.path, code, out)
		}
	}
	if code, _, _ := anon.do("GET", "/api/v1/checks", nil); code != 401 {
		t.Errorf("anonymous list: %d", code)
	}
	// A token carries checks:write only when made with it.
	code, out, _ := owner.do("POST", "/api/v1/tokens", map[string]any{"name": "ci", "scopes": []string{"read", "checks:write"}})
	if code != 201 {
		t.Fatalf("token with checks:write: %d %v", code, out)
	}
	bot := &apiClient{t: t, base: owner.base, http: http.DefaultClient, token: out["token"].(map[string]any)["token"].(string)}
	_, out, _ = owner.do("POST", "/api/v1/tokens", map[string]any{"name": "reader", "scopes": []string{"read"}})
	reader := &apiClient{t: t, base: owner.base, http: http.DefaultClient, token: out["token"].(map[string]any)["token"].(string)}
	if code, out, _ := reader.do("POST", "/api/v1/checks", hb); code != 403 || !strings.Contains(errorOf(out), "this token") {
		t.Errorf("read-only token: %d %v", code, out)
	}

	// Validation: YAML's words, at the check's own paths.
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"unknown component", map[string]any{"id": "x", "kind": "http", "url": "http://127.0.0.1:1/", "components": []string{"nope"}}, `components[0]: no component has id "nope" (components: api, drive)`},
		{"other kind's key", map[string]any{"id": "x", "kind": "http", "url": "http://127.0.0.1:1/", "address": "a:1", "components": []string{"api"}}, "address: address applies to tcp, grpc, smtp and tls checks, not http"},
		{"bad duration", map[string]any{"id": "x", "kind": "http", "url": "http://127.0.0.1:1/", "timeout": "soon", "components": []string{"api"}}, `timeout: "soon" is not a duration (e.g. 10s, 5m, 1h, 7d)`},
		{"typo", map[string]any{"id": "x", "kind": "http", "url": "http://127.0.0.1:1/", "intervall": "1m", "components": []string{"api"}}, `unknown key "intervall" (did you mean "interval"?)`},
		{"no id", map[string]any{"kind": "http", "url": "http://127.0.0.1:1/", "components": []string{"api"}}, "id is required"},
	} {
		code, out, _ := rui.do("POST", "/api/v1/checks", tc.body)
		if code != 400 || errorOf(out) != tc.want {
			t.Errorf("%s: %d %q, want 400 %q", tc.name, code, errorOf(out), tc.want)
		}
	}
	if code, out, _ := rui.do("POST", "/api/v1/checks", []int{1}); code != 400 || !strings.Contains(errorOf(out), "JSON object") {
		t.Errorf("not an object: %d %v", code, out)
	}

	// Made, it runs at once, as the responder or a token with the scope.
	code, out, hdr := rui.do("POST", "/api/v1/checks", hb)
	if code != 201 || hdr.Get("Location") != "/api/v1/checks/backup" {
		t.Fatalf("create: %d %v", code, out)
	}
	if c := out["check"].(map[string]any); c["provisioned"] != false || c["paused"] != false || c["keys"].(map[string]any)["token"] != "<secret>" {
		t.Errorf("created = %v", c)
	}
	if !running(a, "backup") {
		t.Error("the new check is not in force")
	}
	if code, out, _ := bot.do("POST", "/api/v1/checks", map[string]any{"id": "backup", "kind": "heartbeat", "period": "1h", "components": []string{"drive"}}); code != 409 || !strings.Contains(errorOf(out), "already exists") {
		t.Errorf("same id again: %d %v", code, out)
	}
	if code, out, _ := bot.do("POST", "/api/v1/checks", map[string]any{"id": "nightly", "kind": "heartbeat", "period": "1h", "components": []string{"drive"}}); code != 409 || !strings.Contains(errorOf(out), "upstate.yaml") {
		t.Errorf("the file's id: %d %v", code, out)
	}

	// The list: the file's, provisioned, then the console's; a viewer
	// sees no keys (where a check goes, how it signs in).
	code, out, _ = vic.do("GET", "/api/v1/checks", nil)
	list := out["checks"].([]any)
	if code != 200 || len(list) != 2 {
		t.Fatalf("list: %d %v", code, out)
	}
	for _, x := range list {
		if keys, has := x.(map[string]any)["keys"]; has {
			t.Errorf("a viewer is shown a check's keys: %v", keys)
		}
	}
	_, out, _ = rui.do("GET", "/api/v1/checks", nil)
	list = out["checks"].([]any)
	file, made := list[0].(map[string]any), list[1].(map[string]any)
	if file["id"] != "nightly" || file["provisioned"] != true || file["file"] != "upstate.yaml" || file["keys"].(map[string]any)["token"] != "${NIGHTLY_TOKEN:-t0ken}" {
		t.Errorf("provisioned = %v", file)
	}
	if made["id"] != "backup" || made["provisioned"] != false || made["kind"] != "heartbeat" || made["name"] != "Backups" {
		t.Errorf("made = %v", made)
	}
	// A page at a time: limit, offset, the total and where the next
	// page starts; a bad count is refused, naming it.
	if out["total"] != 2.0 || out["next_offset"] != nil {
		t.Errorf("the whole list's total and next: %v, %v", out["total"], out["next_offset"])
	}
	for _, pg := range []struct {
		q    string
		ids  []string
		next any
	}{{"limit=1", []string{"nightly"}, 1.0}, {"limit=1&offset=1", []string{"backup"}, nil}, {"limit=5&offset=2", nil, nil}, {"limit=2", []string{"nightly", "backup"}, nil}} {
		code, out, _ := rui.do("GET", "/api/v1/checks?"+pg.q, nil)
		var ids []string
		for _, x := range out["checks"].([]any) {
			ids = append(ids, x.(map[string]any)["id"].(string))
		}
		if code != 200 || !slices.Equal(ids, pg.ids) || out["total"] != 2.0 || out["next_offset"] != pg.next {
			t.Errorf("?%s: %d %v", pg.q, code, out)
		}
	}
	for q, want := range map[string]string{"limit=0": "limit", "limit=5001": "limit", "limit=x": "limit", "limit=1&offset=-1": "offset", "offset=1": "offset"} {
		if code, out, _ := rui.do("GET", "/api/v1/checks?"+q, nil); code != 400 || !strings.HasPrefix(errorOf(out), want+":") {
			t.Errorf("?%s: %d %v; want 400 naming %s", q, code, out, want)
		}
	}

	// Edited: the keys given replace, a secret sent back as shown is kept.
	code, out, _ = rui.do("PATCH", "/api/v1/checks/backup", map[string]any{"period": "2h", "token": "<secret>", "name": nil})
	if code != 200 {
		t.Fatalf("patch: %d %v", code, out)
	}
	it, _ := a.stored(upstate.ConsoleCheck, "backup")
	if k := keysOf(it); k["period"] != "2h" || k["token"] != "s3cret-literal" || k["name"] != nil {
		t.Errorf("stored after patch = %s", it.Keys)
	}
	if code, out, _ := rui.do("PATCH", "/api/v1/checks/backup", map[string]any{"period": "-1h"}); code != 400 || !strings.Contains(errorOf(out), "period") {
		t.Errorf("bad patch: %d %v", code, out)
	}
	if code, out, _ := rui.do("PATCH", "/api/v1/checks/backup", map[string]any{"id": "other"}); code != 400 || !strings.Contains(errorOf(out), "keeps its id") {
		t.Errorf("renaming: %d %v", code, out)
	}
	if code, _, _ := rui.do("PATCH", "/api/v1/checks/ghost", map[string]any{"period": "1h"}); code != 404 {
		t.Errorf("unknown check: %d", code)
	}

	// Provisioned checks are the file's to change.
	for _, r := range []struct{ method, path string }{
		{"PATCH", "/api/v1/checks/nightly"}, {"DELETE", "/api/v1/checks/nightly"}, {"POST", "/api/v1/checks/nightly/pause"}, {"POST", "/api/v1/checks/nightly/resume"},
	} {
		if code, out, _ := rui.do(r.method, r.path, map[string]any{"period": "1h"}); code != 409 || errorOf(out) != `check "nightly" is managed in upstate.yaml; change it there` {
			t.Errorf("%s %s: %d %v, want 409", r.method, r.path, code, out)
		}
	}

	// Paused: kept in the list, not run; resumed: runs again.
	code, out, _ = rui.do("POST", "/api/v1/checks/backup/pause", nil)
	if code != 200 || out["check"].(map[string]any)["paused"] != true || running(a, "backup") {
		t.Fatalf("pause: %d %v (running %v)", code, out, running(a, "backup"))
	}
	infos := a.checkInfos()
	if len(infos) != 2 || !infos[1].Paused || infos[1].Provisioned || infos[1].Spec.ID != "backup" || !infos[0].Provisioned || infos[0].File != "upstate.yaml" {
		t.Errorf("check infos = %+v", infos)
	}
	if code, _, _ := rui.do("POST", "/api/v1/checks/backup/resume", nil); code != 200 || !running(a, "backup") {
		t.Errorf("resume: %d (running %v)", code, running(a, "backup"))
	}

	// Deleted: gone from the list and the schedule.
	if code, _, _ := bot.do("DELETE", "/api/v1/checks/backup", nil); code != 204 || running(a, "backup") {
		t.Errorf("delete: %d", code)
	}
	if code, _, _ := bot.do("DELETE", "/api/v1/checks/backup", nil); code != 404 {
		t.Errorf("delete again: %d", code)
	}
	if _, out, _ := vic.do("GET", "/api/v1/checks", nil); len(out["checks"].([]any)) != 1 {
		t.Errorf("list after delete = %v", out)
	}
}

func TestConsoleComponentsAPI(t *testing.T) {
	a, p := startConsoleApp(t)
	rui, vic, anon := p["responder"], p["viewer"], p["anon"]
	for _, r := range []struct{ method, path string }{{"POST", "/api/v1/components"}, {"PATCH", "/api/v1/components/api"}, {"DELETE", "/api/v1/components/api"}} {
		if code, _, _ := anon.do(r.method, r.path, map[string]any{"id": "x"}); code != 401 {
			t.Errorf("anonymous %s %s: %d", r.method, r.path, code)
		}
		if code, out, _ := vic.do(r.method, r.path, map[string]any{"id": "x"}); code != 403 || !strings.Contains(errorOf(out), `"components:write"`) {
			t.Errorf("viewer %s %s: %d %v", r.method, r.path, code, out)
		}
	}
	for _, path := range []string{"/api/v1/components", "/api/v1/components/api"} {
		if code, _, _ := anon.do("GET", path, nil); code != 401 {
			t.Errorf("anonymous GET %s: %d", path, code)
		}
	}
	if code, out, _ := vic.do("GET", "/api/v1/components/api", nil); code != 200 || out["component"].(map[string]any)["file"] != "upstate.yaml" {
		t.Errorf("viewer's get: %d %v", code, out)
	}

	code, out, _ := rui.do("POST", "/api/v1/components", map[string]any{"id": "billing", "name": "Billing", "group": "Money", "description": "Invoices", "order": 1})
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/components", map[string]any{"id": "bad", "depends_on": []string{"nope"}}); code != 400 || errorOf(out) != `depends_on[0]: no component has id "nope" (components: api, bad, billing, drive)` {
		t.Errorf("bad component: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/components", map[string]any{"id": "x", "colour": "red"}); code != 400 || !strings.Contains(errorOf(out), `unknown key "colour"`) {
		t.Errorf("unknown key: %d %v", code, out)
	}
	// Its place: order 1, before the file's.
	_, out, _ = vic.do("GET", "/api/v1/components", nil)
	comps := out["components"].([]any)
	if len(comps) != 3 || comps[0].(map[string]any)["id"] != "billing" || comps[0].(map[string]any)["provisioned"] != false || comps[1].(map[string]any)["provisioned"] != true {
		t.Errorf("components = %v", comps)
	}
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if snap := a.Snapshot(); snap.Components[0].ID != "billing" {
		t.Errorf("the public page's first component = %s, want billing (order 1)", snap.Components[0].ID)
	}

	// Definition and status in one body, or either alone.
	code, out, _ = rui.do("PATCH", "/api/v1/components/billing", map[string]any{"name": "Billing and invoices", "order": nil, "status": "degraded_performance"})
	if code != 200 || out["component"].(map[string]any)["name"] != "Billing and invoices" || out["component"].(map[string]any)["status"] != "degraded_performance" {
		t.Errorf("patch both: %d %v", code, out)
	}
	code, out, _ = rui.do("PATCH", "/api/v1/components/api", map[string]any{"status": "partial_outage"})
	if code != 200 || out["component"].(map[string]any)["held_status"].(map[string]any)["status"] != "partial_outage" {
		t.Errorf("status of a provisioned one (as before): %d %v", code, out)
	}
	if code, out, _ := rui.do("PATCH", "/api/v1/components/api", map[string]any{"name": "Other"}); code != 409 || errorOf(out) != `component "api" is managed in upstate.yaml; change it there` {
		t.Errorf("definition of a provisioned one: %d %v", code, out)
	}
	if code, out, _ := rui.do("DELETE", "/api/v1/components/api", nil); code != 409 || !strings.Contains(errorOf(out), "upstate.yaml") {
		t.Errorf("deleting a provisioned one: %d %v", code, out)
	}
	code, out, _ = vic.do("GET", "/api/v1/components/billing", nil)
	if c := out["component"].(map[string]any); code != 200 || c["keys"].(map[string]any)["order"] != nil || c["name"] != "Billing and invoices" {
		t.Errorf("get: %d %v", code, out)
	}

	// In use: refused, saying by what.
	if code, out, _ := rui.do("POST", "/api/v1/checks", map[string]any{"id": "invoices", "kind": "heartbeat", "period": "1h", "depends_on": []string{"billing"}, "components": []string{"api"}}); code != 201 {
		t.Fatalf("check on billing: %d %v", code, out)
	}
	if code, out, _ := rui.do("DELETE", "/api/v1/components/billing", nil); code != 409 || errorOf(out) != `component "billing" cannot be deleted: checks invoices use it` {
		t.Errorf("in use by a check: %d %v", code, out)
	}
	rui.do("DELETE", "/api/v1/checks/invoices", nil)
	in, err := a.engine.Declare(context.Background(), incident.Change{Name: "Invoices late", Message: "Looking", Set: map[string]upstate.Status{"billing": upstate.PartialOutage}, Actor: "Rui"})
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := rui.do("DELETE", "/api/v1/components/billing", nil); code != 409 || !strings.Contains(errorOf(out), `open incidents "Invoices late" (`+in.ID+`) affect it`) {
		t.Errorf("with an open incident: %d %v", code, out)
	}
	resolved := upstate.Resolved
	if _, err := a.engine.Update(context.Background(), in.ID, incident.Change{Status: resolved, Message: "Done", Actor: "Rui"}); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := rui.do("DELETE", "/api/v1/components/billing", nil); code != 204 {
		t.Errorf("delete: %d %v", code, out)
	}
	if code, _, _ := vic.do("GET", "/api/v1/components/billing", nil); code != 404 {
		t.Errorf("get deleted: %d", code)
	}
}

// Console items are kept across restarts and reloads; a file that later
// defines the same id wins, and the console's is reported shadowed.
func TestConsoleItemsOutliveRestartsAndReloads(t *testing.T) {
	a, p := startConsoleApp(t)
	rui := p["responder"]
	if code, out, _ := rui.do("POST", "/api/v1/checks", map[string]any{"id": "backup", "kind": "heartbeat", "period": "1h", "components": []string{"drive"}}); code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	file := a.file.Load()
	if err := a.Reload(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	if !running(a, "backup") {
		t.Fatal("reload dropped the console's check")
	}
	// The file now has the same id: the file's is in force.
	next, err := config.Parse(file.File, []byte(consoleYAML+"  - {id: backup, kind: heartbeat, period: 12h, components: [api]}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	next.Server.DataDir = file.Server.DataDir
	if err := a.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	if spec := a.checks.Load().byID["backup"].spec; !slices.Equal(spec.Components, []string{"api"}) {
		t.Errorf("in force = %+v, want the file's", spec)
	}
	_, out, _ := rui.do("GET", "/api/v1/checks", nil)
	var shadowed map[string]any
	for _, c := range out["checks"].([]any) {
		if c := c.(map[string]any); c["id"] == "backup" && c["provisioned"] == false {
			shadowed = c
		}
	}
	if shadowed == nil || shadowed["shadowed_by"] != "upstate.yaml" {
		t.Errorf("shadowed = %v in %v", shadowed, out)
	}
	// The shadowed copy may be changed no more, but deleted, and then
	// the file's stays.
	if code, out, _ := rui.do("PATCH", "/api/v1/checks/backup", map[string]any{"period": "2h"}); code != 409 {
		t.Errorf("patching a shadowed copy: %d %v", code, out)
	}
	if err := a.Reload(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	if spec := a.checks.Load().byID["backup"].spec; !slices.Equal(spec.Components, []string{"drive"}) {
		t.Errorf("after the file drops it = %+v, want the console's", spec)
	}
	// A restart reads them back.
	a.Stop(context.Background())
	b := reopenApp(t, file, Options{})
	if _, ok := b.checks.Load().byID["backup"]; !ok {
		t.Error("a restart lost the console's check")
	}
	// An item the file no longer admits is left out and shown with why,
	// not fatal.
	noDrive, err := config.Parse(file.File, []byte("page: {name: Console test}\ncomponents:\n  - {id: api, name: API}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	noDrive.Server.DataDir = file.Server.DataDir
	if err := b.Reload(context.Background(), noDrive); err != nil {
		t.Fatalf("reload without the component the console's check needs: %v", err)
	}
	if _, ok := b.checks.Load().byID["backup"]; ok {
		t.Error("a check the configuration refuses is in force")
	}
	defs, _ := b.definitions(upstate.ConsoleCheck, "", 0, math.MaxInt)
	if len(defs) != 1 || defs[0].ID != "backup" || defs[0].Problem == "" {
		t.Errorf("definitions = %+v", defs)
	}
}

// export → validate: the running configuration as one file.
func TestExportIsTheRunningConfiguration(t *testing.T) {
	a, p := startConsoleApp(t)
	rui := p["responder"]
	rui.do("POST", "/api/v1/components", map[string]any{"id": "billing", "name": "Billing"})
	if code, out, _ := rui.do("POST", "/api/v1/checks", map[string]any{"id": "backup", "kind": "heartbeat", "period": "1h", "token": "${BACKUP_TOKEN:-x}", "components": []string{"billing"}}); code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	file := a.file.Load()
	out, err := ExportConfig(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "# made in the console") || !strings.Contains(string(out), "${BACKUP_TOKEN:-x}") {
		t.Errorf("export:\n%s", out)
	}
	path := filepath.Join(t.TempDir(), "upstate.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(path, ConfigRules()...)
	if err != nil {
		t.Fatalf("validate the export: %v\n%s", err, out)
	}
	want := a.cfg.Load()
	var gotIDs, wantIDs []string
	for _, c := range got.Checks {
		gotIDs = append(gotIDs, c.ID+":"+c.Kind+":"+strings.Join(c.Components, ","))
	}
	for _, c := range want.Checks {
		wantIDs = append(wantIDs, c.ID+":"+c.Kind+":"+strings.Join(c.Components, ","))
	}
	if !slices.Equal(gotIDs, wantIDs) || len(got.Components) != len(want.Components) {
		t.Errorf("export runs %v / %d components, the server %v / %d", gotIDs, len(got.Components), wantIDs, len(want.Components))
	}
}

// shadowBackup makes console checks of ids (backup among them), then
// reloads the file with a check backup of its own, which shadows the
// console's.
func shadowBackup(t *testing.T, a *App, rui *apiClient, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if code, out, _ := rui.do("POST", "/api/v1/checks", map[string]any{"id": id, "kind": "heartbeat", "period": "1h", "components": []string{"drive"}}); code != 201 {
			t.Fatalf("create %s: %d %v", id, code, out)
		}
	}
	file := a.file.Load()
	next, err := config.Parse(file.File, []byte(consoleYAML+"  - {id: backup, kind: heartbeat, period: 12h, components: [api]}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	next.Server.DataDir = file.Server.DataDir
	if err := a.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
}

func TestDeletingAShadowedCopyKeepsTheFiles(t *testing.T) {
	a, p := startConsoleApp(t)
	rui := p["responder"]
	shadowBackup(t, a, rui, "backup")
	if code, out, _ := rui.do("DELETE", "/api/v1/checks/backup", nil); code != 204 {
		t.Fatalf("deleting the shadowed copy: %d %v", code, out)
	}
	if _, ok := a.stored(upstate.ConsoleCheck, "backup"); ok || !running(a, "backup") {
		t.Errorf("after deleting the copy: stored %v, the file's running %v", ok, running(a, "backup"))
	}
	if code, out, _ := rui.do("DELETE", "/api/v1/checks/backup", nil); code != 409 {
		t.Errorf("deleting the file's: %d %v", code, out)
	}
}

// One definition, asked for by id, is the one the whole list has: the
// file's (with its keys, read alone), the console's in force, and the
// console's shadowed by the file's.
func TestDefinitionIsTheListsOne(t *testing.T) {
	a, p := startConsoleApp(t)
	shadowBackup(t, a, p["responder"], "backup", "extra")
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	for _, kind := range []upstate.ConsoleKind{upstate.ConsoleCheck, upstate.ConsoleComponent} {
		all, total := a.definitions(kind, "", 0, math.MaxInt)
		if total != len(all) {
			t.Errorf("%s: total %d, %d listed", kind, total, len(all))
		}
		// Every page is its part of the whole list, and says the total.
		for lo := 0; lo <= len(all)+1; lo++ {
			for hi := lo; hi <= len(all)+2; hi++ {
				page, n := a.definitions(kind, "", lo, hi)
				want := all[min(lo, len(all)):min(hi, len(all))]
				if n != total || len(page) != len(want) || (len(want) > 0 && !reflect.DeepEqual(page, want)) {
					t.Errorf("%s %d to %d: %+v (of %d); the list's %+v", kind, lo, hi, page, n, want)
				}
			}
		}
		seen := map[string]bool{}
		for _, d := range all {
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			one, _ := a.definitions(kind, d.ID, 0, math.MaxInt)
			var want []upstate.Definition
			for _, e := range all {
				if e.ID == d.ID {
					want = append(want, e)
				}
			}
			if !reflect.DeepEqual(one, want) {
				t.Errorf("%s %s alone: %+v; in the list: %+v", kind, d.ID, one, want)
			}
		}
		if kind == upstate.ConsoleCheck && (len(seen) != 3 || len(all) != 4) {
			t.Errorf("the checks' definitions: %+v", all)
		}
	}
}

// A paused check is kept but not run: the status it caused clears, and
// it opens nothing more until resumed. The file pauses its own.
func TestPausedChecks(t *testing.T) {
	a, p := startConsoleApp(t)
	rui := p["responder"]
	if code, out, _ := rui.do("POST", "/api/v1/checks", map[string]any{"id": "port", "kind": "tcp", "address": "127.0.0.1:1", "fail_after": 1, "recheck": map[string]any{"count": 0}, "burst": map[string]any{"count": 0}, "components": []string{"api"}}); code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	for range 3 {
		runCheck(t, a, "port")
	}
	if st := a.engine.Statuses()["api"]; st != upstate.MajorOutage {
		t.Fatalf("api = %s with its check failing, want major_outage", st)
	}
	if code, out, _ := rui.do("POST", "/api/v1/checks/port/pause", nil); code != 200 {
		t.Fatalf("pause: %d %v", code, out)
	}
	if st := a.engine.Statuses()["api"]; st != upstate.Operational {
		t.Errorf("api = %s once its only check is paused, want operational", st)
	}
	if slices.ContainsFunc(a.checks.Load().compiled.jobs, func(j schedule.Job) bool { return j.ID == "port" }) {
		t.Error("a paused check is scheduled")
	}

	// paused: true in the file.
	file := a.file.Load()
	next, err := config.Parse(file.File, []byte(strings.Replace(consoleYAML, "components: [drive]}", "components: [drive], paused: true}", 1)), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	next.Server.DataDir = file.Server.DataDir
	if err := a.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	infos := a.checkInfos()
	if len(infos) != 2 || infos[0].Spec.ID != "nightly" || !infos[0].Paused || !infos[0].Provisioned || infos[0].Spec.Decide.FailAfter == 0 || !infos[1].Paused {
		t.Errorf("infos = %+v", infos)
	}
	if _, ok := a.checks.Load().byID["nightly"]; ok {
		t.Error("the file's paused check is decided")
	}
}

func TestConsoleLimits(t *testing.T) {
	a, p := startConsoleApp(t)
	rui := p["responder"]
	a.limits.checks, a.limits.components = 1, 1
	if code, out, _ := rui.do("POST", "/api/v1/components", map[string]any{"id": "one"}); code != 201 {
		t.Fatalf("first component: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/components", map[string]any{"id": "two"}); code != 409 || !strings.Contains(errorOf(out), "at most 1 components") {
		t.Errorf("past the limit: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/checks", map[string]any{"id": "a", "kind": "heartbeat", "period": "1h", "components": []string{"one"}}); code != 201 {
		t.Fatalf("first check: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/checks", map[string]any{"id": "b", "kind": "heartbeat", "period": "1h", "components": []string{"one"}}); code != 409 || !strings.Contains(errorOf(out), "at most 1 checks") {
		t.Errorf("past the limit: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/checks", map[string]any{"id": 7, "kind": "heartbeat"}); code != 400 || !strings.Contains(errorOf(out), "id: want a string") {
		t.Errorf("a number for an id: %d %v", code, out)
	}
}

// A check made in the console may name regions: the file's validation,
// and its agents are sent it with their slots.
func TestConsoleCheckWithRegions(t *testing.T) {
	a, p := startConsoleApp(t)
	rui := p["responder"]
	bad := map[string]any{"id": "edge", "kind": "http", "url": "http://127.0.0.1:1/", "regions": []string{"eu", "eu"}, "components": []string{"api"}}
	if code, out, _ := rui.do("POST", "/api/v1/checks", bad); code != 400 || !strings.Contains(errorOf(out), `regions[1]: "eu" is named twice`) {
		t.Fatalf("a region named twice: %d %q", code, errorOf(out))
	}
	edge := map[string]any{"id": "edge", "kind": "http", "url": "http://127.0.0.1:1/", "interval": "30s", "regions": []string{"eu", "us"}, "quorum": 2, "components": []string{"api"}}
	if code, out, _ := rui.do("POST", "/api/v1/checks", edge); code != 201 {
		t.Fatalf("made with regions: %d %v", code, out)
	}
	if st := a.checks.Load().byID["edge"]; st == nil || st.regions.quorum != 2 || len(st.regions.names) != 2 {
		t.Fatalf("the check's regions: %+v", st)
	}
	if running(a, "edge") {
		t.Error("the server schedules a check only agents probe")
	}
	ctx := context.Background()
	owner, err := AddUser(ctx, a.cfg.Load(), NewUser{Email: "owner2@example.com", Name: "Oona", Role: upstate.RoleOwner, Password: "owner password 2"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := a.auth.CreateToken(ctx, upstate.Principal{User: owner, Scopes: owner.Role.Grants()}, "eu probe", []upstate.Scope{upstate.AgentScope("eu")})
	if err != nil {
		t.Fatal(err)
	}
	code, body := agentGet(a, "/api/v1/agent/checks", token)
	var list upstate.AgentChecks
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Checks) != 1 {
		t.Fatalf("eu's checks: %d %s", code, body)
	}
	if c := list.Checks[0]; c.ID != "edge" || c.Interval != 30*time.Second || !strings.Contains(c.Definition, "127.0.0.1:1") || strings.Contains(c.Definition, "regions") {
		t.Fatalf("eu's check: %+v", c)
	}
}
