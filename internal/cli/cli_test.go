package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/config"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	if code, out, _ := run(); code != 2 || !strings.Contains(out, "Commands:") {
		t.Errorf("no args: %d %q", code, out)
	}
	if code, out, _ := run("--help"); code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "demo") {
		t.Errorf("--help: %d %q", code, out)
	}
	if code, _, errOut := run("frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	for _, c := range []string{"serve", "demo", "validate", "export", "import", "init", "migrate", "version", "user add", "user list", "user passwd", "user role", "user remove"} {
		code, _, errOut := run(append(strings.Fields(c), "--help")...)
		if code != 0 || !strings.Contains(errOut, "Usage: upstate "+c) {
			t.Errorf("%s --help: %d %q", c, code, errOut)
		}
	}
	if code, _, errOut := run("validate", "--nope"); code != 2 || !strings.Contains(errOut, "flag provided but not defined") {
		t.Errorf("bad flag: %d %q", code, errOut)
	}
	if code, out, _ := run("version"); code != 0 || !strings.HasPrefix(out, "upstate ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestMissingConfigSaysHowToGetOne(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "upstate.yaml")
	for _, c := range []string{"validate", "serve"} {
		code, _, errOut := run(c, "--config", missing)
		if code != 2 || !strings.Contains(errOut, "config file not found") || !strings.Contains(errOut, "upstate init") {
			t.Errorf("%s: %d %q", c, code, errOut)
		}
	}
}

func TestInitThenValidate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "upstate.yaml")
	if code, out, errOut := run("init", "--config", file); code != 0 || !strings.Contains(out, "wrote "+file) {
		t.Fatalf("init: %d %q %q", code, out, errOut)
	}
	got, _ := os.ReadFile(file)
	if string(got) != config.Example {
		t.Error("init wrote something other than the example")
	}
	if code, _, errOut := run("init", "--config", file); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("init over an existing file: %d %q", code, errOut)
	}
	if code, _, _ := run("init", "--config", file, "--force"); code != 0 {
		t.Errorf("init --force: %d", code)
	}
	if code, out, errOut := run("validate", "--config", file); code != 0 || !strings.Contains(out, "ok (6 components, 1 checks)") {
		t.Errorf("validate: %d %q %q", code, out, errOut)
	}
	if code, out, _ := run("init", "--config", "-"); code != 0 || out != config.Example {
		t.Error("init --config - does not print the example")
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(file, []byte("page: {name: X}\ncomponents:\n  - {id: api}\nchecks:\n  - {id: a, kind: http, url: 'http://x', interval: soon, components: [api]}\n  - {id: b, kind: tcp, components: [db]}\n"), 0o600)
	code, _, errOut := run("validate", "--config", file)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{
		file + `:5: checks[0].interval: "soon" is not a duration`,
		file + `:6: checks[1]: address is required for tcp checks`,
		file + `:6: checks[1].components[0]: no component has id "db"`,
		"3 problems found",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}
}

// TestValidateReportsBadTemplates: templates are checked by the
// notification side, and reported with every other problem, at once.
func TestValidateReportsBadTemplates(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(file, []byte("page: {name: X}\ncomponents:\n  - {id: api}\nnotifications:\n  channels:\n"+
		"    - {id: a, type: slack, url: https://x, template: {title: '{{.Nope}}'}}\n    - {id: b, type: slack, url: https://x, template: {body: '{{'}}\n"+
		"checks:\n  - {id: db, kind: tcp, components: [api]}\n"), 0o600)
	code, _, errOut := run("validate", "--config", file)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{
		file + `:6: notifications.channels[0].template: title template:`,
		file + `:7: notifications.channels[1].template: body template:`,
		file + `:9: checks[0]: address is required for tcp checks`,
		"3 problems found",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}
}

// TestIssueExampleConfig keeps the configuration from the foundation
// issue loading exactly as written.
func TestIssueExampleConfig(t *testing.T) {
	code, out, errOut := run("validate", "--config", "testdata/issue-example.yaml")
	if code != 0 || !strings.Contains(out, "ok (5 components, 5 checks)") {
		t.Errorf("%d %q %q", code, out, errOut)
	}
}

func TestServeRejectsBadLogFlags(t *testing.T) {
	if code, _, errOut := run("serve", "--log-level", "loud"); code != 2 || !strings.Contains(errOut, "--log-level") {
		t.Errorf("%d %q", code, errOut)
	}
	if code, _, errOut := run("demo", "--speed", "0"); code != 2 || !strings.Contains(errOut, "--speed") {
		t.Errorf("%d %q", code, errOut)
	}
}

func runIn(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserAdd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "upstate.yaml")
	os.WriteFile(file, []byte("page: {name: X}\ncomponents: [{id: a}]\n"), 0o600)
	code, out, errOut := runIn("correct horse battery\n", "user", "add", "--config", file, "--email", "ann@example.com", "--name", "Ann")
	if code != 0 || !strings.Contains(out, "added Ann <ann@example.com> as owner") {
		t.Fatalf("%d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "upstate.db")); err != nil {
		t.Errorf("database not created: %v", err)
	}
	code, _, errOut = runIn("correct horse battery\n", "user", "add", "--config", file, "--email", "ANN@example.com", "--name", "Ann again")
	if code != 2 || !strings.Contains(errOut, "exists already") {
		t.Errorf("duplicate: %d %q", code, errOut)
	}
	code, _, errOut = runIn("short\n", "user", "add", "--config", file, "--email", "not-an-email", "--name", "", "--role", "admin")
	for _, want := range []string{`email "not-an-email" is not an email address`, "name is required", `role "admin" is not one of owner, responder, viewer`, "password is too short"} {
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("bad input: %d, output lacks %q: %q", code, want, errOut)
		}
	}
}

// Commands with one subcommand answer the same way to anything else.
func TestSubcommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"user", "frob"}, 2, []string{`upstate user: unknown subcommand "frob"`, "Usage: upstate user add|list|passwd|role|remove"}},
		{[]string{"user"}, 2, []string{"Usage: upstate user add", "printf"}},
		{[]string{"user", "--help"}, 0, []string{"Usage: upstate user add"}},
		{[]string{"notify", "send"}, 2, []string{`upstate notify: unknown subcommand "send"`, "Usage: upstate notify test"}},
		{[]string{"notify", "-h"}, 0, []string{"Usage: upstate notify test"}},
	} {
		code, out, errOut := run(tc.args...)
		if code != tc.code || out != "" {
			t.Errorf("%v: exit %d, stdout %q", tc.args, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, errOut)
			}
		}
		if tc.code == 0 && strings.Contains(errOut, "unknown") {
			t.Errorf("%v: help reported as an error:\n%s", tc.args, errOut)
		}
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "upstate.yaml")
	os.WriteFile(file, []byte("page: {name: Acme, time_zone: Europe/Berlin}\ncomponents: [{id: a, name: API}]\n"), 0o600)
	code, out, errOut := run("report", "--config", file, "--from", "2026-08-01", "--to", "2026-08-31")
	if code != 0 || !strings.HasPrefix(out, "# Acme outage report, August 2026") || !strings.Contains(out, "| API | 0 s | 100% |") {
		t.Errorf("%d %q %q", code, out, errOut)
	}
	code, _, errOut = run("report", "--config", file, "--from", "2026-08-31", "--to", "2026-08-01", "--also-tz", "Nowhere/Land")
	if code != 2 || !strings.Contains(errOut, "from 2026-08-31 is after to 2026-08-01") || !strings.Contains(errOut, `also-tz "Nowhere/Land"`) {
		t.Errorf("bad dates: %d %q", code, errOut)
	}
	code, _, errOut = run("report", "--config", file, "--from", "2026-08-01", "--to", "2026-08-31", "--format", "pdf")
	if code != 2 || !strings.Contains(errOut, `format "pdf" is not one of md, html, json`) {
		t.Errorf("bad format: %d %q", code, errOut)
	}
	outFile := filepath.Join(dir, "r.html")
	if code, _, errOut := run("report", "--config", file, "--from", "2026-08-01", "--to", "2026-08-31", "--format", "html", "--out", outFile); code != 0 {
		t.Errorf("--out: %d %q", code, errOut)
	}
	if b, _ := os.ReadFile(outFile); !strings.Contains(string(b), "@media print") {
		t.Error("--out did not write the HTML report")
	}
}

func TestNotifyTest(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		if strings.Contains(r.URL.Path, "broken") {
			w.WriteHeader(404)
			io.WriteString(w, "no_service")
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "upstate.yaml")
	yaml := "page: {name: Acme Status}\ncomponents:\n  - {id: api, name: API}\nnotifications:\n  channels:\n" +
		"    - {id: ops, type: slack, url: '" + srv.URL + "/services/T/B/x'}\n    - {id: old, type: slack, url: '" + srv.URL + "/broken'}\n"
	os.WriteFile(file, []byte(yaml), 0o600)
	if code, out, errOut := run("notify", "test", "ops", "--config", file); code != 0 || out != "sent a test notification to ops\n" {
		t.Errorf("ok: %d %q %q", code, out, errOut)
	}
	if len(got) != 1 || !strings.Contains(got[0], "Test notification from Acme Status") {
		t.Errorf("the receiver got %q", got)
	}
	if code, _, errOut := run("notify", "test", "--config", file, "old"); code != 1 || !strings.Contains(errOut, "HTTP 404: no_service") {
		t.Errorf("refused: %d %q", code, errOut)
	}
	if code, _, errOut := run("notify", "test", "nope", "--config", file); code != 2 || !strings.Contains(errOut, `no channel "nope"`) {
		t.Errorf("unknown channel: %d %q", code, errOut)
	}
	if code, _, errOut := run("notify", "test", "--config", file); code != 2 || !strings.Contains(errOut, "name the channel") {
		t.Errorf("no channel: %d %q", code, errOut)
	}
	if code, _, errOut := run("notify", "test", "--help"); code != 0 || !strings.Contains(errOut, "Usage: upstate notify test") {
		t.Errorf("help: %d %q", code, errOut)
	}
}

// The demo prints a sign-in for the admin side: an owner account with a
// password shown once; a kept data directory keeps the account.
func TestDemoOwner(t *testing.T) {
	cfg := &config.Config{}
	cfg.Server.DataDir = t.TempDir()
	now := func() time.Time { return time.Date(2026, 7, 20, 8, 0, 0, 0, time.UTC) }
	first, err := demoOwner(context.Background(), cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	_, password, ok := strings.Cut(first, "password ")
	password, _, _ = strings.Cut(password, ";")
	if !ok || !strings.Contains(first, demoEmail) || auth.CheckNewPassword(password) != nil {
		t.Errorf("first run says %q: want the email and a usable password", first)
	}
	again, err := demoOwner(context.Background(), cfg, now)
	if err != nil || strings.Contains(again, password) || !strings.Contains(again, "shown when this data directory was first used") {
		t.Errorf("second run says %q, %v", again, err)
	}
}

// export → validate: what was made in the console comes out in one file
// validate accepts, the file's comments kept; with nothing made there, the
// file as it is.
func TestExportThenValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "upstate.yaml")
	if code, _, errOut := run("init", "--config", file); code != 0 {
		t.Fatalf("init: %d %q", code, errOut)
	}
	// The console may use the variable for the check's secret.
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(text), "\nserver:\n", "\nserver:\n  console_env: [INVOICE_TOKEN]\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.yaml")
	if code, _, errOut := run("export", "--config", file, "-o", plain); code != 0 {
		t.Fatalf("export with nothing from the console: %d %q", code, errOut)
	}
	if code, out, errOut := run("validate", "--config", plain); code != 0 || !strings.Contains(out, "ok (6 components, 1 checks)") {
		t.Errorf("validate the plain export: %d %q %q", code, out, errOut)
	}
	cfg, err := config.Load(file, app.ConfigRules()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, app.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	con := a.Console()
	if _, err := con.Create(ctx, upstate.ConsoleComponent, []byte(`{"id":"billing","name":"Billing","group":"Money"}`), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := con.Create(ctx, upstate.ConsoleCheck, []byte(`{"id":"invoices","kind":"heartbeat","period":"24h","token":"${INVOICE_TOKEN:-x}","components":["billing"]}`), "test"); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("export", "--config", file)
	if code != 0 || !strings.Contains(out, "# made in the console\n") || !strings.Contains(out, "${INVOICE_TOKEN:-x}") || !strings.Contains(out, "# Checks watch the service.") {
		t.Fatalf("export: %d %q\n%s", code, errOut, out)
	}
	exported := filepath.Join(dir, "exported.yaml")
	if err := os.WriteFile(exported, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run("validate", "--config", exported); code != 0 || !strings.Contains(out, "ok (7 components, 2 checks)") {
		t.Errorf("validate the export: %d %q %q", code, out, errOut)
	}
}

// serve applies server.gogc unless GOGC is set, which Go has read already
// and which wins.
func TestGCPercent(t *testing.T) {
	if p, ok := gcPercent(70, func(string) string { return "" }); !ok || p != 70 {
		t.Errorf("no GOGC: %d, %v; want server.gogc's 70", p, ok)
	}
	if _, ok := gcPercent(70, func(k string) string { return map[string]string{"GOGC": "200"}[k] }); ok {
		t.Error("GOGC=200 set: server.gogc applied over it")
	}
}

// upstate report runs at server.gogc, as serve does: it holds a year of
// history while it writes.
func TestReportRunsAtServerGOGC(t *testing.T) {
	was := debug.SetGCPercent(100)
	defer debug.SetGCPercent(was)
	t.Setenv("GOGC", "")
	file := filepath.Join(t.TempDir(), "upstate.yaml")
	os.WriteFile(file, []byte("page: {name: Acme}\nserver: {gogc: 70}\ncomponents: [{id: a, name: API}]\n"), 0o600)
	if code, _, errOut := run("report", "--config", file, "--from", "2026-08-01", "--to", "2026-08-31"); code != 0 {
		t.Fatalf("report: %d %s", code, errOut)
	}
	if got := debug.SetGCPercent(100); got != 70 {
		t.Errorf("after upstate report the collector's target is %d, want server.gogc's 70", got)
	}
}

// setGC puts server.gogc in force, and leaves the collector alone when
// GOGC is set.
func TestSetGC(t *testing.T) {
	was := debug.SetGCPercent(100)
	defer debug.SetGCPercent(was)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Setenv("GOGC", "")
	setGC(70, log)
	if got := debug.SetGCPercent(100); got != 70 {
		t.Errorf("after server.gogc 70 the collector's target is %d", got)
	}
	t.Setenv("GOGC", "200")
	setGC(70, log)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, server.gogc changed the target to %d", got)
	}
}
