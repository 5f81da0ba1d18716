package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
)

// signInSite is an app's sign-in page, whose button can disappear.
type signInSite struct{ broken atomic.Bool }

func (s *signInSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		button := `<button id="login">Sign in</button>`
		if s.broken.Load() {
			button = "" // a deploy lost it
		}
		fmt.Fprint(w, `<!doctype html><title>Sign in</title><form method="post" action="/login"><input id="email" name="email"> <input id="password" name="password" type="password"> `+button+`</form>`)
	case "/login":
		r.ParseForm()
		if r.PostForm.Get("password") == "correct horse battery" {
			fmt.Fprint(w, `<!doctype html><p>Welcome back</p>`)
			return
		}
		fmt.Fprint(w, `<!doctype html><p>Wrong password.</p>`)
	}
}

// lockedBuffer is a log that goroutines write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A browser check signs in to a site through a real Chromium; when the
// sign-in button disappears, the failed step opens an incident on the
// public page, the screenshot of the page is on the incident's admin page
// and served to people signed in only, and the password never shows.
func TestBrowserCheckEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	if _, err := check.NewChromium(check.ChromiumOptions{}).Find(); err != nil {
		if os.Getenv("UPSTATE_REAL_SERVICES") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("%v; .ci/run installs Debian's chromium package", err)
		}
		t.Skip(err)
	}
	site := &signInSite{}
	srv := httptest.NewServer(site)
	defer srv.Close()
	const password = "correct horse battery"
	yaml := `page: {name: Classroom Cloud Status, url: 'http://127.0.0.1', time_zone: America/Los_Angeles}
components:
  - {id: web, name: Web app}
checks:
  - id: web-login
    kind: browser
    url: ` + srv.URL + `/
    steps:
      - {type: '#email', text: ann@example.com}
      - {type: '#password', text: '${LOGIN_PASSWORD}'}
      - {click: '#login'}
      - {wait_for_text: Welcome back}
    step_timeout: 2s
    timeout: 15s
    interval: 1h
    fail_after: 1
    recheck: {count: 0}
    components: [web]
`
	cfg, err := config.Parse("t.yaml", []byte(yaml), func(k string) (string, bool) { return password, k == "LOGIN_PASSWORD" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	logs := &lockedBuffer{}
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	a := reopenApp(t, cfg, Options{Clock: clk, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			a.Stop(context.Background())
		}
	})
	ctx := context.Background()
	if _, err := AddUser(ctx, cfg, NewUser{Email: "rui@example.com", Name: "Rui", Role: upstate.RoleResponder, Password: "responder password"}, clk.Now); err != nil {
		t.Fatal(err)
	}

	if r := runCheck(t, a, "web-login"); !r.OK() {
		t.Fatalf("signing in: %+v", r)
	}
	site.broken.Store(true)
	clk.Advance(time.Minute)
	r := runCheck(t, a, "web-login")
	if r.Error != "step 3 (click #login): no element matches after 2s" {
		t.Fatalf("without the button: %+v", r)
	}
	ins, err := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
	if err != nil || len(ins) != 1 || a.engine.Statuses()["web"] != upstate.MajorOutage {
		t.Fatalf("open incidents %v, %v; web is %s", ins, err, a.engine.Statuses()["web"])
	}
	in := ins[0]
	if !strings.Contains(evidenceOf(in), "step 3 (click #login): no element matches after 2s") {
		t.Errorf("the first entry: %s", evidenceOf(in))
	}

	// The public page says so, and shows no screenshot.
	if err := a.snaps.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	base := "http://" + a.Addr()
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(c *http.Client, path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if _, body := get(anon, "/api/v2/components.json"); !strings.Contains(string(body), `"status":"major_outage"`) {
		t.Errorf("components.json: %s", body)
	}
	if _, body := get(anon, "/"); !strings.Contains(string(body), in.Name) || strings.Contains(string(body), "/admin/screenshots/") {
		t.Errorf("the public page lacks the incident %q, or shows a screenshot", in.Name)
	}

	// The admin's incident page shows what the browser saw.
	shots, err := a.store.ListArtifacts(ctx, upstate.ArtifactFilter{CheckID: "web-login"})
	if err != nil || len(shots) != 1 || shots[0].Note != r.Evidence() || !shots[0].At.Equal(r.At) || shots[0].Components[0] != "web" {
		t.Fatalf("kept screenshots: %+v, %v", shots, err)
	}
	shot := "/admin/screenshots/" + shots[0].ID
	for _, path := range []string{shot, "/admin/checks/web-login/screenshot/latest"} {
		if resp, _ := get(anon, path); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
			t.Errorf("%s without signing in: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	ui := newUI(t, base)
	if code, _, _ := ui.post("/admin/login", url.Values{"email": {"rui@example.com"}, "password": {"responder password"}, "next": {"/admin/"}}, nil); code != 200 {
		t.Fatalf("sign in: %d", code)
	}
	code, page := ui.get("/admin/incidents/" + in.ID)
	if code != 200 || !strings.Contains(page, `<img src="`+shot+`"`) || !strings.Contains(page, "web-login at") || !strings.Contains(page, "no element matches after 2s") {
		t.Errorf("incident page: %d\n%s", code, page)
	}
	var png []byte
	for _, path := range []string{shot, "/admin/checks/web-login/screenshot/latest"} {
		resp, err := ui.c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "private, no-store" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n")) || len(body) > 300<<10 {
			t.Errorf("%s: %d %v (%d bytes)", path, resp.StatusCode, resp.Header, len(body))
		}
		if png != nil && !bytes.Equal(png, body) {
			t.Error("the latest screenshot is not the one the incident shows")
		}
		png = body
	}
	if code, _ := ui.get("/admin/screenshots/nope"); code != 404 {
		t.Errorf("an unknown screenshot: %d", code)
	}

	// The password was never written down.
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	results, err := a.store.ListResults(ctx, "web-login", time.Time{}, clk.Now().Add(time.Hour))
	if err != nil || len(results) < 2 {
		t.Errorf("results %v, %v", results, err)
	}
	for _, r := range results {
		if strings.Contains(r.Error, password) {
			t.Errorf("a stored result shows the password: %s", r.Error)
		}
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("the logs show the password:\n%s", logs.String())
	}

	// Screenshots go with the results they belong to.
	clk.Advance(cfg.Retention.Raw.D() + time.Hour)
	a.prune(ctx)
	if _, err := a.store.GetArtifact(ctx, shots[0].ID); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("a screenshot past retention: %v", err)
	}

	// One browser served every run, and Stop ends it.
	pid := a.chromium.PID()
	if a.chromium.Starts() != 1 || pid == 0 {
		t.Errorf("the browser started %d times; pid %d", a.chromium.Starts(), pid)
	}
	stopped = true
	if err := a.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Errorf("the browser (pid %d) still runs after Stop: %v", pid, err)
	}
}
