package app

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/certtest"
	"github.com/upstatehq/upstate/internal/check"
)

// startCheckApp runs an app with a tls check whose certificate expires in
// 40 days, a second one for the live stream, and a heartbeat (told).
func startCheckApp(t *testing.T) (*App, string) {
	t.Helper()
	now := time.Now().UTC()
	ca := certtest.NewCA(t, now.Add(-time.Hour))
	endpoint := certtest.Serve(t, ca.Leaf(now.Add(40*24*time.Hour+time.Hour), "127.0.0.1"))
	yaml := "page: {name: Check pages, url: 'http://127.0.0.1'}\ncomponents:\n  - {id: api, name: API}\n  - {id: jobs, name: Jobs}\n" +
		"checks:\n" +
		"  - {id: cert, name: API certificate, kind: tls, address: '" + endpoint.Addr + "', ca_file: '" + ca.File() + "', components: [api], interval: 1h}\n" +
		"  - {id: cert2, kind: tls, address: '" + endpoint.Addr + "', ca_file: '" + ca.File() + "', components: [api], interval: 1h}\n" +
		"  - {id: beat, name: Nightly job, kind: heartbeat, token: beat-token-0123456789abcdef, period: 24h, components: [jobs]}\n" +
		"  - {id: down, name: Reports TLS, kind: tls, address: '127.0.0.1:1', components: [jobs], interval: 1h, fail_after: 1}\n"
	a := runApp(t, yaml, Options{})
	for _, u := range []NewUser{
		{Email: "owner@example.com", Name: "Olga", Role: upstate.RoleOwner, Password: "owner password 1"},
		{Email: "responder@example.com", Name: "Rui", Role: upstate.RoleResponder, Password: "responder password"},
		{Email: "viewer@example.com", Name: "Vic", Role: upstate.RoleViewer, Password: "viewer password 1"},
	} {
		if _, err := AddUser(context.Background(), a.cfg.Load(), u, time.Now); err != nil {
			t.Fatal(err)
		}
	}
	return a, "http://" + a.Addr()
}

func TestCheckPageAPI(t *testing.T) {
	a, base := startCheckApp(t)
	anon := &apiClient{t: t, base: base, http: http.DefaultClient}
	for _, path := range []string{"/api/v1/checks/cert", "/api/v1/events"} {
		if code, _, _ := anon.do("GET", path, nil); code != 401 {
			t.Errorf("anonymous GET %s: %d, want 401", path, code)
		}
	}
	if code, _, _ := anon.do("POST", "/api/v1/checks/cert/run", nil); code != 401 {
		t.Errorf("anonymous run: %d", code)
	}
	rui := browser(t, base, "responder@example.com", "responder password")
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	olga := browser(t, base, "owner@example.com", "owner password 1")
	_, out, _ := olga.do("POST", "/api/v1/tokens", map[string]any{"name": "pusher", "scopes": []string{"metrics:write"}})
	pusher := &apiClient{t: t, base: base, http: http.DefaultClient, token: out["token"].(map[string]any)["token"].(string)}
	if code, _, _ := pusher.do("GET", "/api/v1/checks/cert", nil); code != 403 {
		t.Errorf("a token without read: %d, want 403", code)
	}
	if code, _, _ := vic.do("POST", "/api/v1/checks/cert/run", nil); code != 403 {
		t.Errorf("a viewer runs a check: %d, want 403", code)
	}
	if code, out, _ := rui.do("GET", "/api/v1/checks/nope", nil); code != 404 || !strings.Contains(errMessage(out), `no check "nope"`) {
		t.Errorf("unknown check: %d %v", code, out)
	}
	if code, _, _ := rui.do("GET", "/api/v1/checks/cert?period=1y", nil); code != 400 {
		t.Errorf("unknown period: %d", code)
	}

	// Run now: stored, judged, counted, and answered.
	code, out, _ := rui.do("POST", "/api/v1/checks/cert/run", nil)
	if code != 200 {
		t.Fatalf("run now: %d %v", code, out)
	}
	if res := out["result"].(map[string]any); res["outcome"] != "ok" || res["evidence"] == "" {
		t.Errorf("run-now result = %v", res)
	}
	// The audit log says who ran it.
	if _, out, _ := olga.do("GET", "/api/v1/audit", nil); !strings.Contains(fmt.Sprint(out), "ran check now") {
		t.Errorf("the audit log does not record the run: %v", out)
	}
	// Once per few seconds per check.
	if code, out, hdr := rui.do("POST", "/api/v1/checks/cert/run", nil); code != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(errMessage(out), "a moment ago") {
		t.Errorf("run again at once: %d %v (Retry-After %q)", code, out, hdr.Get("Retry-After"))
	}
	// One run at a time: a second while one is under way is refused.
	a.runs.mu.Lock()
	a.runs.busy["cert2"] = true
	a.runs.mu.Unlock()
	if code, out, _ := rui.do("POST", "/api/v1/checks/cert2/run", nil); code != 409 || !strings.Contains(errMessage(out), "being run now already") {
		t.Errorf("run while running: %d %v", code, out)
	}
	a.runs.mu.Lock()
	delete(a.runs.busy, "cert2")
	a.runs.mu.Unlock()
	if code, _, _ := rui.do("POST", "/api/v1/checks/nope/run", nil); code != 404 {
		t.Errorf("run an unknown check: %d", code)
	}
	// A told check cannot be run.
	if code, out, _ := rui.do("POST", "/api/v1/checks/beat/run", nil); code != 400 || !strings.Contains(errMessage(out), "cannot be run now") {
		t.Errorf("run a heartbeat: %d %v", code, out)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, out, _ = rui.do("GET", "/api/v1/checks/cert?period=7d", nil)
	if code != 200 {
		t.Fatalf("get check: %d %v", code, out)
	}
	c := out["check"].(map[string]any)
	if c["name"] != "API certificate" || c["kind"] != "tls" || c["provisioned"] != true || c["state"] != "up" || c["period"] != "7d" || len(c["latency"].([]any)) != 42 {
		t.Errorf("check = %v", c)
	}
	if days, ok := c["cert_days_left"].(float64); !ok || days != 40 {
		t.Errorf("cert days left = %v, want 40", c["cert_days_left"])
	}
	if rs := c["results"].([]any); len(rs) == 0 || rs[0].(map[string]any)["outcome"] != "ok" {
		t.Errorf("results = %v", rs)
	}
	if up := c["uptime"].(map[string]any)["24h"].(map[string]any); up["ratio"] != 1.0 {
		t.Errorf("uptime 24h = %v", up)
	}
	code, out, _ = rui.do("GET", "/api/v1/checks/beat", nil)
	if code != 200 || out["check"].(map[string]any)["cert_days_left"] != nil || out["check"].(map[string]any)["told"] != true {
		t.Errorf("heartbeat check: %d %v", code, out)
	}
}

// The incidents a check opened are found from the engine's own words:
// a failing check opens one, and its page lists it.
func TestCheckPageListsTheIncidentItOpened(t *testing.T) {
	_, base := startCheckApp(t)
	rui := browser(t, base, "responder@example.com", "responder password")
	code, out, _ := rui.do("POST", "/api/v1/checks/down/run", nil)
	if code != 200 || out["result"].(map[string]any)["outcome"] != "fail" {
		t.Fatalf("run: %d %v", code, out)
	}
	code, out, _ = rui.do("GET", "/api/v1/checks/down", nil)
	if code != 200 {
		t.Fatalf("get: %d %v", code, out)
	}
	c := out["check"].(map[string]any)
	ins := c["incidents"].([]any)
	if c["state"] != "down" || c["last_error"] == nil || len(ins) != 1 || ins[0].(map[string]any)["status"] != "investigating" {
		t.Fatalf("check = %v", c)
	}
	// The others' pages do not claim it.
	if _, out, _ := rui.do("GET", "/api/v1/checks/beat", nil); len(out["check"].(map[string]any)["incidents"].([]any)) != 0 {
		t.Errorf("the heartbeat on the same component lists %v", out["check"].(map[string]any)["incidents"])
	}
	ui := signIn(t, base, "responder@example.com", "responder password")
	if _, body := ui.get("/admin/checks/down"); !strings.Contains(body, `href="/admin/incidents/`+ins[0].(map[string]any)["id"].(string)+`"`) || !strings.Contains(body, "state-down") {
		t.Errorf("the check page lacks its incident or state")
	}
}

func errMessage(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

// The live stream carries a run's result, and ends when the server stops
// without holding up its shutdown.
func TestEventsStream(t *testing.T) {
	a, base := startCheckApp(t)
	olga := browser(t, base, "owner@example.com", "owner password 1")
	_, out, _ := olga.do("POST", "/api/v1/tokens", map[string]any{"name": "watcher", "scopes": []string{"read", "incidents:write"}})
	token := out["token"].(map[string]any)["token"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/events?check=cert2", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || lines.Text() != "retry: 5000" {
		t.Fatalf("first line %q", lines.Text())
	}
	bot := &apiClient{t: t, base: base, http: http.DefaultClient, token: token}
	if code, out, _ := bot.do("POST", "/api/v1/checks/cert2/run", nil); code != 200 {
		t.Fatalf("run: %d %v", code, out)
	}
	var got []string
	for lines.Scan() {
		if l := lines.Text(); strings.HasPrefix(l, "event: ") || strings.HasPrefix(l, "data: ") {
			got = append(got, l)
			if strings.HasPrefix(l, "data: ") {
				break
			}
		}
	}
	if len(got) != 2 || got[0] != "event: result" || !strings.Contains(got[1], `"check":"cert2"`) || !strings.Contains(got[1], `"outcome":"ok"`) {
		t.Fatalf("stream events: %q", got)
	}
	// Stopping the server ends the stream, and the stop does not wait for it.
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopCancel()
	if err := a.Stop(stopCtx); err != nil {
		t.Fatalf("stop with a stream open: %v", err)
	}
	for lines.Scan() {
	}
}

func TestCheckPages(t *testing.T) {
	a, base := startCheckApp(t)
	rui := signIn(t, base, "responder@example.com", "responder password")
	code, body, landed := rui.post("/admin/checks/cert/run", url.Values{}, nil)
	if code != 200 || landed != "/admin/checks/cert" || !strings.Contains(body, "Run now: ok, after") {
		t.Fatalf("check now: %d at %s", code, landed)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body = rui.get("/admin/checks/cert")
	for _, want := range []string{`<svg class="chart"`, "<title id=\"chart-title\">Response time of API certificate, last 24h</title>", "100.00%", "API certificate", `class="state state-up"`, "Check now", "40 days left", "Managed in", `data-live="check=cert"`, `<script src="/admin/console.js" defer></script>`, "No failure in the last day"} {
		if !strings.Contains(body, want) {
			t.Errorf("check page lacks %q", want)
		}
	}
	if code != 200 || strings.Contains(body, `href="/admin/checks/cert/edit"`) {
		t.Errorf("check page: %d (a provisioned check has no Edit)", code)
	}
	code, body = rui.get("/admin/checks")
	if code != 200 || !strings.Contains(body, `href="/admin/checks/cert"`) || !strings.Contains(body, "Nightly job") || !strings.Contains(body, "Not run yet") {
		t.Errorf("checks page: %d\n%s", code, body)
	}
	// The told heartbeat has no chart and no Check now; running it says why.
	_, body = rui.get("/admin/checks/beat")
	if strings.Contains(body, "Check now") || strings.Contains(body, `<svg class="chart"`) {
		t.Error("a heartbeat's page offers a chart or Check now")
	}
	if code, body, _ := rui.post("/admin/checks/beat/run", url.Values{}, nil); code != 400 || !strings.Contains(body, "cannot be run now") {
		t.Errorf("run a heartbeat from the page: %d", code)
	}
	if code, body := rui.get("/admin/checks/nope"); code != 404 || !strings.Contains(body, `no check &#34;nope&#34;`) {
		t.Errorf("unknown check page: %d", code)
	}
	if code, _ := rui.get("/admin/checks/cert?period=1y"); code != 400 {
		t.Errorf("unknown period: %d", code)
	}
	resp, err := http.Get(base + "/admin/console.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("console.js: %d %s, CSP %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"))
	}
}

// The check pages fit a 390 px phone too: the results table scrolls in
// its own box, the chart scales to the screen.
func TestCheckPagesFitAPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	path, err := check.NewChromium(check.ChromiumOptions{}).Find()
	if err != nil {
		if os.Getenv("UPSTATE_REAL_SERVICES") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("%v; .ci/run installs Debian's chromium package", err)
		}
		t.Skip(err)
	}
	a, base := startCheckApp(t)
	if _, err := a.RunCheck(context.Background(), "cert"); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(390, 844))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/admin/login"),
		chromedp.SendKeys(`input[name=email]`, "responder@example.com"),
		chromedp.SendKeys(`input[name=password]`, "responder password"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`#incidents`),
	); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/admin/checks", "/admin/checks/cert", "/admin/checks/cert?period=30d", "/admin/checks/beat"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+page), chromedp.WaitReady("footer")); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		if width > 390 {
			t.Errorf("%s is %d px wide on a 390 px phone", page, width)
		}
	}
	// The console script runs under the admin's CSP: the stream is open.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/checks/cert2"), chromedp.WaitReady("footer")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second) // a real browser runs on real time
	for a.events.Streams() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if a.events.Streams() == 0 {
		t.Fatal("the check page opened no live stream")
	}
	if _, err := a.RunCheck(context.Background(), "cert2"); err != nil {
		t.Fatal(err)
	}
	var rows int
	for time.Now().Before(deadline) {
		if rows, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#results tr.fresh").length`)); err == nil && rows > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rows == 0 {
		t.Error("the live result was not added to the page")
	}
}

// A check's last result is kept compact, and given back as the page reads
// it: the same time in the same zone, and everything but the warnings,
// the artifact and the provider's word.
func TestLastResultKeepsWhatThePageShows(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*60*60)
	r := upstate.Result{CheckID: "api", At: time.Date(2026, 9, 1, 3, 42, 0, 123, zone), Outcome: upstate.OutcomeFail, Latency: 1234567 * time.Nanosecond,
		StatusCode: 500, Error: "status 500", Note: "n", Region: "eu", Warnings: []upstate.Warning{{Key: "certificate"}}, Provider: &upstate.ProviderReport{}}
	got := lastOf(r).result("api")
	want := r
	want.Warnings, want.Provider = nil, nil
	if !got.At.Equal(want.At) || got.At.Location() != zone || got.At.String() != want.At.String() {
		t.Errorf("at %v, want %v", got.At, want.At)
	}
	got.At = want.At
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if z := (lastResult{}).result("api"); !z.At.IsZero() || z.CheckID != "" {
		t.Errorf("none: %+v", z)
	}
	if !lastOf(r).newer(upstate.Result{At: r.At.Add(-time.Nanosecond)}) || lastOf(r).newer(r) || (lastResult{}).newer(r) {
		t.Error("newer")
	}
}
