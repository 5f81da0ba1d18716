package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// A browser check's problems are found by key, and its defaults set.
func TestBrowserValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    BrowserSection
		c    Common
		want []string
	}{
		{"no url", BrowserSection{}, Common{}, []string{"url is required for browser checks: the page to load"}},
		{"not http", BrowserSection{URL: "ftp://x"}, Common{}, []string{`url: "ftp://x" is not an http(s) URL`}},
		{"steps", BrowserSection{URL: "https://app.example/login", Steps: []BrowserStepSection{
			{Click: "#a"}, {}, {Click: "#a", WaitFor: "#b"}, {Type: "#email"}, {WaitFor: "#x", Text: "s"}, {Type: "#p", Text: "s"}, {WaitForText: "Welcome"},
		}}, Common{}, []string{
			"steps[1]: says nothing to do: one of click, type (with text), wait_for or wait_for_text",
			"steps[2]: does more than one thing: one of click, type (with text), wait_for or wait_for_text a step",
			"steps[3]: type needs text: what to type (a password from ${ENV})",
			"steps[4].text: is what a type step types; this step does not type",
		}},
		{"step timeout", BrowserSection{URL: "https://x", StepTimeout: time.Minute}, Common{}, []string{"step_timeout: 1m0s is longer than the timeout 30s"}},
		{"negative step timeout", BrowserSection{URL: "https://x", StepTimeout: -1}, Common{}, []string{"step_timeout: must not be negative"}},
		{"latency", BrowserSection{URL: "https://x", Expect: BrowserExpectSection{LatencyUnder: 30 * time.Second}}, Common{}, []string{"expect.latency_under: 30s must be shorter than the timeout 30s"}},
		{"short interval", BrowserSection{URL: "https://x"}, Common{Interval: 20 * time.Second}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &problems{}
			c := tc.c
			tc.s.Validate(v, &c)
			tc.s.ValidateSettled(v, c)
			if !slices.Equal(v.errs, tc.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(v.errs, "\n"), strings.Join(tc.want, "\n"))
			}
			wantInterval, wantTimeout := 5*time.Minute, 30*time.Second
			if tc.c.Interval != 0 {
				wantInterval, wantTimeout = tc.c.Interval, tc.c.Interval
			}
			if c.Interval != wantInterval || c.Timeout != wantTimeout {
				t.Errorf("defaults: interval %s, timeout %s; want %s, %s", c.Interval, c.Timeout, wantInterval, wantTimeout)
			}
			if len(tc.want) == 0 && tc.s.StepTimeout != min(10*time.Second, wantTimeout) {
				t.Errorf("step timeout defaults to %s", tc.s.StepTimeout)
			}
		})
	}
}

// Without a browser, a browser check is refused when it is built, saying
// what to install or set; one named in the configuration must be there.
func TestChromiumIsFound(t *testing.T) {
	onPath := func(have ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			if slices.Contains(have, name) {
				return "/usr/bin/" + strings.TrimPrefix(name, "/usr/bin/"), nil
			}
			return "", errors.New("executable file not found in $PATH")
		}
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "UPSTATE_CHROMIUM" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name   string
		opts   ChromiumOptions
		want   string
		errors string
	}{
		{"debian", ChromiumOptions{LookPath: onPath("chromium", "google-chrome")}, "/usr/bin/chromium", ""},
		{"ubuntu", ChromiumOptions{LookPath: onPath("chromium-browser")}, "/usr/bin/chromium-browser", ""},
		{"chrome", ChromiumOptions{LookPath: onPath("google-chrome-stable")}, "/usr/bin/google-chrome-stable", ""},
		{"env", ChromiumOptions{LookPath: onPath("chromium", "/usr/bin/headless"), Getenv: env("/usr/bin/headless")}, "/usr/bin/headless", ""},
		{"configured", ChromiumOptions{Path: "/usr/bin/mine", LookPath: onPath("chromium", "/usr/bin/mine"), Getenv: env("/usr/bin/headless")}, "/usr/bin/mine", ""},
		{"configured but absent", ChromiumOptions{Path: "/opt/chrome", LookPath: onPath("chromium")}, "",
			"server.chromium: /opt/chrome cannot be run: executable file not found in $PATH"},
		{"env but absent", ChromiumOptions{LookPath: onPath("chromium"), Getenv: env("/opt/chrome")}, "",
			"UPSTATE_CHROMIUM: /opt/chrome cannot be run: executable file not found in $PATH"},
		{"none", ChromiumOptions{LookPath: onPath()}, "",
			"browser checks need Chromium, and none of chromium, chromium-browser, google-chrome, google-chrome-stable is on PATH: install it (apt-get install chromium) or set server.chromium to its path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Getenv == nil {
				tc.opts.Getenv = env("")
			}
			c := NewChromium(tc.opts)
			got, err := c.Find()
			if got != tc.want || errText(err) != tc.errors {
				t.Errorf("Find() = %q, %v; want %q, %q", got, err, tc.want, tc.errors)
			}
			s := &BrowserSection{URL: "https://x"}
			_, perr := s.Prober(Common{ID: "login", Timeout: time.Second}, Env{Chromium: c, Clock: clock.Real{}})
			if errText(perr) != tc.errors {
				t.Errorf("Prober: %v", perr)
			}
		})
	}
}

// realChromium is the shared browser on the machine's Chromium. Without
// one the test is skipped, or fails where real services are required
// (UPSTATE_REAL_SERVICES=1, as .ci/run sets).
func realChromium(t *testing.T, tabs int) *Chromium {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	c := NewChromium(ChromiumOptions{Tabs: tabs})
	if _, err := c.Find(); err != nil {
		if os.Getenv("UPSTATE_REAL_SERVICES") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("%v; .ci/run installs Debian's chromium package", err)
		}
		t.Skip(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// loginSite is an app's sign-in: a form that posts to /login, and a page
// that welcomes whoever signed in with the right password. Its button can
// disappear or be hidden, and its home page can be slow or failing.
type loginSite struct {
	noButton, hiddenButton, broken atomic.Bool
	slowImage                      atomic.Int64 // ms the page's image takes
	mu                             sync.Mutex
	posted                         []string // the passwords posted
}

func (s *loginSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		if s.broken.Load() {
			http.Error(w, "database is locked", 500)
			return
		}
		button := `<button id="login" type="submit">Sign in</button>`
		if s.noButton.Load() {
			button = ""
		} else if s.hiddenButton.Load() {
			button = `<button id="login" type="submit" style="display:none">Sign in</button>`
		}
		img := ""
		if ms := s.slowImage.Load(); ms > 0 {
			img = `<img src="/slow.png" alt="">`
		}
		fmt.Fprintf(w, `<!doctype html><title>Sign in</title><h1>Classroom Cloud</h1>%s
<form method="post" action="/login"><input id="email" name="email"> <input id="password" name="password" type="password"> %s</form>`, img, button)
	case "/slow.png":
		time.Sleep(time.Duration(s.slowImage.Load()) * time.Millisecond) // what the page's load waits for
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	case "/login":
		r.ParseForm()
		s.mu.Lock()
		s.posted = append(s.posted, r.PostForm.Get("password"))
		s.mu.Unlock()
		if r.PostForm.Get("password") != "correct horse battery" {
			fmt.Fprint(w, `<!doctype html><p>Wrong password.</p>`)
			return
		}
		fmt.Fprintf(w, `<!doctype html><title>Home</title><p id="welcome">Welcome back, %s</p>`, r.PostForm.Get("email"))
	default:
		http.NotFound(w, r)
	}
}

// A real Chromium signs in to a page, and each way the page can fail is
// told in plain words, with a screenshot: a missing button, a hidden one,
// a failing page, a slow one, a site that is gone, a browser that died.
func TestBrowserCheck(t *testing.T) {
	chromium := realChromium(t, 2)
	site := &loginSite{}
	srv := httptest.NewServer(site)
	defer srv.Close()
	const password = "correct horse battery"
	steps := []BrowserStep{
		{Type: "#email", Text: "ann@example.com"},
		{Type: "#password", Text: password},
		{Click: "#login"},
		{WaitForText: "Welcome back, ann@example.com"},
	}
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 0, 0, 0, time.UTC))
	check := &Browser{ID: "login", URL: srv.URL + "/", Timeout: 20 * time.Second, StepTimeout: 2 * time.Second, Steps: steps, Chromium: chromium, Clock: clk}
	ctx := context.Background()

	r := check.Probe(ctx)
	if r.Outcome != upstate.OutcomeOK || r.StatusCode != 200 || r.Latency <= 0 || r.Latency > 10*time.Second || !r.At.Equal(clk.Now()) || r.Artifact != nil {
		t.Fatalf("signing in: %+v", r)
	}
	if site.posted[0] != password {
		t.Errorf("posted %q", site.posted)
	}
	noSecret := func(r upstate.Result) {
		t.Helper()
		if strings.Contains(r.Evidence(), password) {
			t.Errorf("the evidence shows the password: %s", r.Evidence())
		}
	}
	screenshot := func(r upstate.Result) {
		t.Helper()
		a := r.Artifact
		if a == nil || a.ContentType != "image/png" || !bytes.HasPrefix(a.Data, []byte("\x89PNG\r\n\x1a\n")) || a.Size != len(a.Data) || a.Size > maxScreenshot {
			t.Errorf("screenshot of %q: %+v", r.Error, a)
		}
	}

	// The button is gone: the click fails, naming the step, after the
	// step's wait.
	site.noButton.Store(true)
	began := time.Now()
	r = check.Probe(ctx)
	if r.Outcome != upstate.OutcomeFail || r.Error != "step 3 (click #login): no element matches after 2s" || r.StatusCode != 200 {
		t.Errorf("no button: %+v", r)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("a step waiting 2s took %s", took)
	}
	screenshot(r)
	noSecret(r)
	site.noButton.Store(false)

	site.hiddenButton.Store(true)
	r = check.Probe(ctx)
	if r.Error != "step 3 (click #login): #login matches 1 element(s), none visible after 2s" {
		t.Errorf("hidden button: %+v", r)
	}
	site.hiddenButton.Store(false)

	site.broken.Store(true)
	r = check.Probe(ctx)
	if r.Outcome != upstate.OutcomeFail || r.StatusCode != 500 || r.Error != "status 500 Internal Server Error" {
		t.Errorf("failing page: %+v", r)
	}
	screenshot(r)
	site.broken.Store(false)

	// A slow load is degraded, not down.
	site.slowImage.Store(400)
	slow := *check
	slow.Steps, slow.LatencyUnder = nil, 300*time.Millisecond
	r = slow.Probe(ctx)
	if r.Outcome != upstate.OutcomeSlow || r.Latency < 400*time.Millisecond || !strings.HasPrefix(r.Error, "loaded in ") || !strings.HasSuffix(r.Error, ", slower than 300 ms") || r.Artifact != nil {
		t.Errorf("slow page: %+v", r)
	}
	site.slowImage.Store(0)

	// A wrong secret is typed, and never shown.
	wrong := *check
	wrong.Steps = slices.Clone(steps)
	wrong.Steps[1].Text = "hunter2 hunter2"
	r = wrong.Probe(ctx)
	if r.Error != `step 4 (wait for text "Welcome back, ann@example.com"): the text is not on the page after 2s` || strings.Contains(r.Evidence(), "hunter2") {
		t.Errorf("wrong password: %+v", r)
	}
	screenshot(r)

	// Before the screenshot, what was typed is blanked.
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tab, release, err := chromium.Tab(tctx)
	if err != nil {
		t.Fatal(err)
	}
	typing := *check
	typing.Steps = steps[:2]
	if msg := typing.run(tab, tab, &upstate.Result{}); msg != "" {
		t.Fatal(msg)
	}
	const fields = `document.querySelector("#email").value + "|" + document.querySelector("#password").value`
	before, _ := chromedp.Run(tab, chromedp.Evaluate[string](fields))
	if typing.screenshot(tab) == nil {
		t.Error("no screenshot")
	}
	after, _ := chromedp.Run(tab, chromedp.Evaluate[string](fields))
	if before != "ann@example.com|"+password || after != "|" {
		t.Errorf("fields %q before the screenshot, %q after", before, after)
	}
	release()

	// The site is gone.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	gone := *check
	gone.URL = "http://" + ln.Addr().String() + "/"
	ln.Close()
	r = gone.Probe(ctx)
	if r.Outcome != upstate.OutcomeFail || r.Error != "loading the page: net::ERR_CONNECTION_REFUSED" || r.Evidence() != r.Error {
		t.Errorf("site gone: %+v (%s)", r, r.Evidence())
	}

	// The browser dies: the next check starts another.
	chromium.mu.Lock()
	proc := chromedpProcess(chromium.browser)
	chromium.mu.Unlock()
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !chromium.died() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the process's death reaches chromedp
	}
	if r = check.Probe(ctx); r.Outcome != upstate.OutcomeOK || chromium.Starts() != 2 {
		t.Errorf("after the browser died: %+v, %d starts", r, chromium.Starts())
	}
}

// Browser checks share the browser's tabs: one that finds none free
// within its timeout says so.
func TestBrowserTabsAreLimited(t *testing.T) {
	chromium := realChromium(t, 1)
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		}
		fmt.Fprint(w, "<!doctype html><p>ok</p>")
	}))
	defer srv.Close()
	defer close(hold)
	clk := clock.Real{}
	hung := &Browser{ID: "hung", URL: srv.URL + "/hang", Timeout: 5 * time.Second, StepTimeout: time.Second, Chromium: chromium, Clock: clk}
	other := &Browser{ID: "other", URL: srv.URL + "/", Timeout: time.Second, StepTimeout: time.Second, Chromium: chromium, Clock: clk}
	done := make(chan upstate.Result)
	go func() { done <- hung.Probe(context.Background()) }()
	for chromium.Starts() == 0 || len(chromium.tabs) == 0 {
		time.Sleep(10 * time.Millisecond) // the hung check takes the tab
	}
	if r := other.Probe(context.Background()); r.Error != "no browser tab came free before the check's timeout: all 1 are in use by other browser checks" {
		t.Errorf("no tab free: %+v", r)
	}
	if r := <-done; r.Outcome != upstate.OutcomeFail || r.Error != "loading the page: the check's timeout (5s) ran out" {
		t.Errorf("hung page: %+v", r)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// chromedpProcess is the browser process of a chromedp context.
func chromedpProcess(ctx context.Context) *os.Process {
	return chromedp.FromContext(ctx).Browser.Process()
}
