package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

const importConfig = "page: {name: Classroom Cloud, time_zone: UTC}\ncomponents:\n  - {id: api, name: API}\n"

const history = `version: 1
components:
  - {id: sso, name: Single sign-on, group: Platform}
incidents:
  - external_id: legacy:2026-09-14-sso
    name: Sign-in failing for schools on SSO
    status: resolved
    impact: major
    components: [api, sso]
    started_at: 2026-09-14T07:52:00Z
    acknowledged_at: 2026-09-14T07:58:00Z
    resolved_at: 2026-09-14T09:10:00Z
    updates:
      - {at: 2026-09-14T07:58:00Z, status: investigating, body: Teachers cannot sign in., public: true}
      - {at: 2026-09-14T09:10:00Z, status: resolved, body: Sign-in works again., public: true}
    postmortem:
      root_cause: Google's SAML service failed in the EU.
      fix: We retry SAML sign-ins once.
      published_at: 2026-09-16T12:00:00Z
`

func importDir(t *testing.T) (dir, cfg string) {
	dir = t.TempDir()
	cfg = filepath.Join(dir, "upstate.yaml")
	if err := os.WriteFile(cfg, []byte(importConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// History comes in whole, a second time replaces it, and the report then
// tells it; the component it needs is made as the console makes them.
func TestImportHistory(t *testing.T) {
	dir, cfg := importDir(t)
	file := filepath.Join(dir, "history.yaml")
	if err := os.WriteFile(file, []byte(history), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run("import", "--config", cfg, "--dry-run", file); code != 0 || !strings.Contains(out, "1 incidents and 1 components would be imported") {
		t.Fatalf("dry run: %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "upstate.db")); err == nil {
		t.Error("a dry run made the database")
	}
	if code, out, errOut := run("import", "--config", cfg, file); code != 0 || !strings.Contains(out, "1 incidents new, 0 updated, 1 components created") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := run("import", "--config", cfg, file); code != 0 || !strings.Contains(out, "0 incidents new, 1 updated, 0 components created") {
		t.Fatalf("import again: %d %q %q", code, out, errOut)
	}
	code, md, errOut := run("report", "--config", cfg, "--from", "2026-09-01", "--to", "2026-09-30")
	if code != 0 {
		t.Fatalf("report: %d %q", code, errOut)
	}
	for _, want := range []string{"#### Sign-in failing for schools on SSO", "Components: API, Single sign-on.", "acknowledged after 6 min", "**Root cause**: Google's SAML service failed in the EU.", "| Single sign-on | 1 h 18 min |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if n := strings.Count(md, "Teachers cannot sign in."); n != 1 {
		t.Errorf("an entry imported twice is told %d times", n)
	}
	// Each import is in the audit log, as made at the command line.
	db, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(dir, "data", "upstate.db")})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := db.ListAudit(t.Context(), upstate.AuditFilter{})
	db.Close()
	if err != nil || len(entries) != 2 || !strings.Contains(entries[0].Action, "imported 1 incidents (0 new, 1 replaced) and 0 components from "+file) || entries[0].ActorKind != upstate.ActorCLI {
		t.Errorf("audit after two imports: %+v %v", entries, err)
	}
	// The history comes out again as an import file.
	if code, out, errOut := run("export", "--config", cfg, "--history"); code != 0 || !strings.Contains(out, "external_id: upstate:") || !strings.Contains(out, "statuses:") {
		t.Errorf("export --history: %d %q %.400q", code, errOut, out)
	}
	// The component it made is the console's: export carries it.
	if code, out, errOut := run("export", "--config", cfg); code != 0 || !strings.Contains(out, "sso") {
		t.Errorf("export after import: %d %q %q", code, out, errOut)
	}
}

func TestImportRefusesWhatItCannotTake(t *testing.T) {
	dir, cfg := importDir(t)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	open := write("open.yaml", strings.Replace(strings.Replace(history, "status: resolved\n    impact", "status: monitoring\n    impact", 1), "    resolved_at: 2026-09-14T09:10:00Z\n", "", 1))
	if code, _, errOut := run("import", "--config", cfg, open); code == 0 || !strings.Contains(errOut, "is monitoring: import only incidents that have ended") || !strings.Contains(errOut, "nothing was imported") {
		t.Errorf("an open incident: %d %q", code, errOut)
	}
	bad := write("bad.yaml", strings.Replace(history, "started_at:", "begun_at:", 1))
	if code, _, errOut := run("import", "--config", cfg, bad); code != 2 || !strings.Contains(errOut, "bad.yaml:10: incidents[0]: unknown key \"begun_at\"") || !strings.Contains(errOut, "started_at is required") {
		t.Errorf("a bad file: %d %q", code, errOut)
	}
	if code, _, errOut := run("import", "--from", "nagios", "--config", cfg, bad); code != 2 || !strings.Contains(errOut, `--from "nagios" is not one of upstate, statuspage, gatus, uptime-kuma`) {
		t.Errorf("an unknown source: %d %q", code, errOut)
	}
	if code, _, errOut := run("import", "--config", cfg); code != 2 || !strings.Contains(errOut, "want one file or URL, got 0") {
		t.Errorf("no file: %d %q", code, errOut)
	}
}

// Gatus and Uptime Kuma become checks for a configuration, flags before
// or after the file; a page's incidents.json is read from its URL.
func TestImportConverters(t *testing.T) {
	dir, cfg := importDir(t)
	out := filepath.Join(dir, "checks.yaml")
	code, _, errOut := run("import", "--from", "gatus", "../importer/testdata/gatus.yaml", "-o", out)
	if code != 0 || !strings.Contains(errOut, "converted ") {
		t.Fatalf("gatus: %d %q", code, errOut)
	}
	converted, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Parse("checks.yaml", append([]byte("page: {name: X}\n"), converted...), func(string) (string, bool) { return "x", true }); err != nil {
		t.Errorf("the converted checks do not validate: %v", err)
	}
	if code, text, errOut := run("import", "--from", "uptime-kuma", "../importer/testdata/uptime-kuma.json"); code != 0 || !strings.Contains(text, "checks:") {
		t.Errorf("uptime kuma: %d %q", code, errOut)
	}
	feed, err := os.ReadFile("../importer/testdata/statuspage-incidents.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/incidents.json" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(feed)
	}))
	defer srv.Close()
	if code, text, errOut := run("import", "--from", "statuspage", "--config", cfg, "--dry-run", srv.URL); code != 0 || !strings.Contains(text, "would be imported") {
		t.Errorf("statuspage from a URL: %d %q %q", code, text, errOut)
	}
	// The manage API's whole history, for the page's owner: its key from
	// the environment, sent as Statuspage asks.
	var list []json.RawMessage
	var page struct {
		Incidents []json.RawMessage `json:"incidents"`
	}
	if err := json.Unmarshal(feed, &page); err != nil {
		t.Fatal(err)
	}
	list = page.Incidents
	manage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/pages/kctbh9vrtdwd/incidents.json" || r.Header.Get("Authorization") != "OAuth k3y" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(list)
	}))
	defer manage.Close()
	url := manage.URL + "/v1/pages/kctbh9vrtdwd/incidents.json"
	if code, _, errOut := run("import", "--from", "statuspage", "--config", cfg, "--dry-run", url); code != 2 || !strings.Contains(errOut, "set STATUSPAGE_API_KEY") {
		t.Errorf("the manage API without a key: %d %q", code, errOut)
	}
	t.Setenv("STATUSPAGE_API_KEY", "k3y")
	if code, text, errOut := run("import", "--from", "statuspage", "--config", cfg, "--dry-run", url); code != 0 || !strings.Contains(text, "would be imported") {
		t.Errorf("the manage API: %d %q %q", code, text, errOut)
	}
}
