package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate/internal/web/embed"
)

// appJS is the host app's own script. It collects Content-Security-Policy
// violations; records the page's load event and the widget files' load and
// error events in the order the browser fires them (seen waits for one);
// has the README's error-dialog code (showError); and, like a dialog shown
// while the page loads, asks for the status at DOMContentLoaded, before the
// loader can have fetched the widget, keeping the Upstate.status it used.
const appJS = `window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) { cspViolations.push(e.violatedDirective + " " + e.blockedURI); });
window.appAlive = function () { return "alive"; };
window.events = [];
var waiting = [];
function note(what) {
  events.push(what);
  waiting = waiting.filter(function (w) { return !w(what); });
}
window.addEventListener("load", function () { note("load page"); });
["load", "error"].forEach(function (type) {
  document.addEventListener(type, function (e) {
    var m = /\/(widget\.(js|css))$/.exec(e.target.src || e.target.href || "");
    if (m) note(type + " " + m[1]);
  }, true);
});
window.seen = function (file) {
  return new Promise(function (resolve) {
    var w = function (what) { if (what.split(" ")[1] === file) { resolve(what); return true; } };
    if (!events.some(w)) waiting.push(w);
  });
};
window.until = function (cond) {
  return new Promise(function (resolve) {
    var o = new MutationObserver(check);
    function check() { if (cond()) { o.disconnect(); resolve(true); } }
    o.observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
    check();
  });
};
window.showError = function () {
  return Upstate.status({components: ["conversion"]}).then(function (s) {
    var e = document.getElementById("explain");
    e.textContent = s && s.incidents.length ? "We're having trouble converting Word files: " + s.incidents[0].name + " (see " + s.incidents[0].url + ")" : "Please try again.";
    return e.textContent;
  });
};
document.addEventListener("DOMContentLoaded", function () {
  if (window.Upstate) window.early = {stub: !Upstate.mount, status: Upstate.status, answer: showError()};
});`

// widgetHost is an app's page with a help menu and an error dialog, under
// a strict Content-Security-Policy: scripts and styles only from itself
// and the status page, nothing inline but the loader by its hash, no eval.
type widgetHost struct {
	include string // "inline": the README's loader; "file": the loader served by the app; "markup": the old <link> and <script async>; "script": <script async> alone
	widget  string // the URL widget.js and widget.css are under
	api     string // data-url, when the status page is not where the widget is
	timeout int    // data-timeout, ms
}

func (h widgetHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/app.js":
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, appJS)
		return
	case "/upstate-loader.js":
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, embed.Loader)
		return
	case "/favicon.ico":
		// Answered, so that the browser's 404 for it is not in the console.
		w.WriteHeader(http.StatusNoContent)
		return
	case "/":
	default:
		http.NotFound(w, r)
		return
	}
	attrs := fmt.Sprintf(`data-timeout="%d" data-refresh="0" data-banner="conversion"`, h.timeout)
	u, _ := url.Parse(h.widget)
	widget := u.Scheme + "://" + u.Host
	api := widget
	if h.api != "" {
		attrs += fmt.Sprintf(` data-url="%s"`, h.api)
		api = h.api
	}
	var include, hash string
	switch h.include {
	case "inline":
		sum := sha256.Sum256([]byte(embed.Loader))
		hash = "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		include = fmt.Sprintf(`<script data-src="%s/widget.js" %s>%s</script>`, h.widget, attrs, embed.Loader)
	case "file":
		include = fmt.Sprintf(`<script src="/upstate-loader.js" data-src="%s/widget.js" %s></script>`, h.widget, attrs)
	case "markup":
		include = fmt.Sprintf(`<link rel="stylesheet" href="%[1]s/widget.css"><script src="%[1]s/widget.js" async %[2]s></script>`, h.widget, attrs)
	case "script":
		include = fmt.Sprintf(`<script src="%s/widget.js" async %s></script>`, h.widget, attrs)
	}
	w.Header().Set("Content-Security-Policy", fmt.Sprintf("default-src 'self'; script-src 'self' %[3]s %[1]s; style-src 'self' %[1]s; connect-src %[2]s; img-src 'self' %[1]s", widget, api, hash))
	fmt.Fprintf(w, `<!doctype html><html><head><title>Classroom app</title><script src="/app.js"></script>%s</head>
<body><nav id="help">Help · <span data-upstate-status data-components="conversion"></span></nav>
<div id="dialog" role="dialog">Could not convert your file. <span id="explain"></span></div></body></html>`, include)
}

// hungServer accepts connections and, but for the files it is given,
// never answers while the test runs; arrived gets the path of each request
// it holds as it comes in, so that the test knows the browser is waiting
// on it.
func hungServer(t *testing.T, files map[string][]byte) (addr string, arrived <-chan string) {
	paths, release := make(chan string, 16), make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := files[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(b)
			return
		}
		select {
		case paths <- r.URL.Path:
		case <-release:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(release) }) // first: Close waits for the handlers
	return s.URL, paths
}

// widgetPage is a host page open in the browser.
type widgetPage struct {
	t   *testing.T
	ctx context.Context
	// messages ends the console's collection and returns what it got.
	messages func() []string
}

// openHost serves h and shows it. With wait, it returns once the page's load
// event has fired; without, as soon as the browser has started to go there.
func openHost(t *testing.T, ctx context.Context, h widgetHost, wait bool) *widgetPage {
	t.Helper()
	host := httptest.NewServer(h)
	t.Cleanup(host.Close)
	p := &widgetPage{t: t, ctx: ctx, messages: console(t, ctx)}
	// Leave for a blank page at the end, so that nothing of this one (a
	// pending request, a timer) reaches the next test.
	t.Cleanup(func() { chromedp.Do(ctx, chromedp.Navigate("about:blank")) })
	nav := chromedp.Navigate(host.URL + "/")
	if !wait {
		nav = chromedp.Evaluate[chromedp.Void](fmt.Sprintf("location.assign(%q)", host.URL+"/"))
	}
	if err := chromedp.Do(ctx, nav); err != nil {
		t.Fatal(err)
	}
	return p
}

// console collects the page's console: what its scripts wrote, uncaught
// exceptions and errors, and the browser's own entries (a failed load, a
// refused policy), as "type: text url". The returned func ends the
// collection and returns every message until then.
func console(t *testing.T, ctx context.Context) func() []string {
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	msgs := chromedp.Console(ctx)
	return func() []string {
		defer cancel()
		// The browser reports messages in order: everything before a
		// message of our own has arrived when it does.
		const mark = "upstate-test: end of messages"
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`console.debug("`+mark+`")`)); err != nil {
			t.Fatal(err)
		}
		var got []string
		for m, err := range msgs {
			if err != nil {
				t.Fatal(err)
			}
			if m.Text == mark {
				break
			}
			got = append(got, strings.TrimSpace(m.String()+" "+m.URL))
		}
		return got
	}
}

// eval runs expr in the page and waits for its value (a promise's too):
// 30 s at most, so that one that never settles fails rather than hangs.
func eval[T any](p *widgetPage, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// check is what every page must hold at the end: it still works, the
// policy refused nothing, and the console has exactly want: no uncaught
// error, no ReferenceError.
func (p *widgetPage) check(want ...string) {
	p.t.Helper()
	if alive := eval[string](p, `appAlive()`); alive != "alive" {
		p.t.Errorf("the host page broke: %q", alive)
	}
	if v := eval[[]string](p, `cspViolations`); len(v) != 0 {
		p.t.Errorf("Content-Security-Policy violations: %q", v)
	}
	if got := p.messages(); !slices.Equal(got, want) {
		p.t.Errorf("console:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestWidget drives the widget in headless Chromium on an app's page
// under a strict Content-Security-Policy: a status line in the help menu,
// Upstate.status() in the app's error dialog and the banner while an
// incident affects the component; then, with the status page hung, down,
// or answering 404 for the widget, the page's load event still fires
// first, the dialog's code gets null and nothing throws.
func TestWidget(t *testing.T) {
	ctx := headless(t, 900, 600)
	// The browser lives as long as the context of its first action.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	base := serveWithAnn(t, "page: {name: Classroom Cloud Status, time_zone: America/Los_Angeles}\ncomponents:\n  - {id: api, name: API}\n  - {id: conversion, name: File conversion}\n")
	// Declare an incident on the conversion component through the API.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(path string, v any) {
		b, _ := json.Marshal(v)
		resp, err := c.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}
	post("/api/v1/login", map[string]string{"email": "ann@example.com", "password": "a long enough password"})
	post("/api/v1/incidents", map[string]any{"name": "Word conversions failing", "message": "PDF works.", "components": map[string]string{"conversion": "partial_outage"}})
	waitFor(t, "the incident in the public API", func() bool {
		var doc incidentsDoc
		getJSON(t, base+"/api/v2/incidents/unresolved.json", &doc)
		return len(doc.Incidents) == 1
	})
	stopped, _ := net.Listen("tcp", "127.0.0.1:0")
	stoppedURL := "http://" + stopped.Addr().String()
	stopped.Close()

	const incident = "We're having trouble converting Word files: Word conversions failing (see "

	// Those who kept the old snippet: an explicit <link> is neither
	// broken nor doubled by the one the widget adds.
	t.Run("old markup", func(t *testing.T) {
		p := openHost(t, ctx, widgetHost{include: "markup", widget: base, timeout: 60000}, true)
		eval[string](p, `seen("widget.js")`)
		eval[bool](p, `until(function () { return document.querySelector(".upstate-dot"); })`)
		if got := eval[string](p, `getComputedStyle(document.querySelector(".upstate-dot")).borderRadius`); got != "50%" {
			t.Errorf("the status line is not styled: border-radius %q", got)
		}
		if n := eval[int](p, `document.querySelectorAll('link[href$="/widget.css"]').length`); n != 1 {
			t.Errorf("%d links to widget.css, want the page's one", n)
		}
		if got := eval[string](p, `showError()`); !strings.HasPrefix(got, incident) {
			t.Errorf("dialog says %q", got)
		}
		p.check()
	})

	t.Run("up", func(t *testing.T) {
		p := openHost(t, ctx, widgetHost{include: "file", widget: base, timeout: 60000}, true)
		eval[string](p, `seen("widget.css")`)
		// The widget came after the page's load event, and brought its
		// stylesheet.
		if got, want := eval[loadState](p, stateJS), (loadState{"complete", []string{"load page", "load widget.js", "load widget.css"}, false}); !got.equal(want) {
			t.Errorf("state %+v, want %+v", got, want)
		}
		// The dialog asked the loader's stub; the answer is the widget's.
		if !eval[bool](p, `early.stub`) {
			t.Error("the early call did not go through the loader's stub")
		}
		if got := eval[string](p, `early.answer`); !strings.HasPrefix(got, incident) {
			t.Errorf("the early dialog says %q", got)
		}
		if got := eval[string](p, `showError()`); !strings.HasPrefix(got, incident) {
			t.Errorf("dialog says %q", got)
		}
		// Code that kept the stub's function still gets answers.
		if got := eval[int](p, `early.status({components: ["conversion"]}).then(function (s) { return s.incidents.length; })`); got != 1 {
			t.Errorf("the stub's Upstate.status, called after the widget came, found %d incidents", got)
		}
		// The help menu's status line and the banner.
		eval[bool](p, `until(function () { return document.getElementById("help").textContent.indexOf("Word conversions failing") >= 0; })`)
		help, _ := chromedp.Run(ctx, chromedp.OuterHTML(`#help`))
		if !strings.Contains(help, `role="status"`) || !strings.Contains(help, `class="upstate-status upstate-major"`) {
			t.Errorf("status line: %s", help)
		}
		if got := eval[string](p, `getComputedStyle(document.querySelector(".upstate-dot")).borderRadius`); got != "50%" {
			t.Errorf("the status line is not styled: border-radius %q", got)
		}
		bar, err := chromedp.Run(ctx, chromedp.OuterHTML(`.upstate-banner`))
		if err != nil || !strings.Contains(bar, `aria-label="Dismiss this status message"`) || !strings.Contains(bar, "Word conversions failing") {
			t.Errorf("banner: %s %v", bar, err)
		}
		// Keyboard: the dismiss button is focusable and works with Enter.
		if err := chromedp.Do(ctx, chromedp.Focus(`.upstate-banner-close`), chromedp.KeyEvent("\r")); err != nil {
			t.Fatal(err)
		}
		if n := eval[int](p, `document.querySelectorAll(".upstate-banner").length`); n != 0 {
			t.Error("the banner did not go away")
		}
		screenshot(t, ctx, "widget.png")
		// The incident ends: the next look says so.
		var doc incidentsDoc
		getJSON(t, base+"/api/v2/incidents/unresolved.json", &doc)
		post("/api/v1/incidents/"+doc.Incidents[0].ID+"/resolve", map[string]string{"message": "Fixed."})
		waitFor(t, "the incident resolved in the public API", func() bool {
			var d incidentsDoc
			getJSON(t, base+"/api/v2/incidents/unresolved.json", &d)
			return len(d.Incidents) == 0
		})
		if got := eval[string](p, `Upstate.refresh(), showError()`); got != "Please try again." {
			t.Errorf("after the incident ended the dialog says %q", got)
		}
		p.check()
	})

	// The status page accepts and never answers, and the browser has
	// nothing of it cached: the page loads while the widget's request is
	// held, and the dialog's code gets null from the stub's timeout.
	t.Run("status page hung", func(t *testing.T) {
		hung, arrived := hungServer(t, nil)
		p := openHost(t, ctx, widgetHost{include: "inline", widget: hung, timeout: 1500}, false)
		select {
		case path := <-arrived:
			if path != "/widget.js" {
				t.Fatalf("the hung status page got %s first, want /widget.js", path)
			}
		case <-ctx.Done():
			t.Fatal("widget.js was never asked for")
		}
		if got, want := eval[loadState](p, stateJS), (loadState{"complete", []string{"load page"}, true}); !got.equal(want) {
			t.Errorf("with widget.js held by the status page: %+v, want %+v", got, want)
		}
		if got := eval[string](p, `early.answer`); got != "Please try again." {
			t.Errorf("the early dialog says %q", got)
		}
		if got := eval[string](p, `showError()`); got != "Please try again." {
			t.Errorf("dialog says %q", got)
		}
		if got, want := eval[loadState](p, stateJS), (loadState{"complete", []string{"load page"}, true}); !got.equal(want) {
			t.Errorf("after the dialog: %+v, want %+v", got, want)
		}
		p.check()
	})

	// An old page's <script async> came through but the status page holds
	// the stylesheet: the widget adds it only after the page's load event,
	// which an async script's own load does hold.
	t.Run("stylesheet hung", func(t *testing.T) {
		hung, arrived := hungServer(t, map[string][]byte{"/widget.js": []byte(embed.Widget)})
		p := openHost(t, ctx, widgetHost{include: "script", widget: hung, api: base, timeout: 60000}, false)
		select {
		case path := <-arrived:
			if path != "/widget.css" {
				t.Fatalf("the hung status page got %s first, want /widget.css", path)
			}
		case <-ctx.Done():
			t.Fatal("widget.css was never asked for")
		}
		if got, want := eval[loadState](p, stateJS), (loadState{"complete", []string{"load widget.js", "load page"}, false}); !got.equal(want) {
			t.Errorf("with widget.css held by the status page: %+v, want %+v", got, want)
		}
		if got := eval[string](p, `Upstate.status().then(function (s) { return s ? "an answer" : "null"; })`); got != "an answer" {
			t.Errorf("Upstate.status() read %q", got)
		}
		p.check()
	})

	// widget.js cannot load. data-timeout is long: the stub answers
	// because the script failed, not because time passed. When the
	// connection is refused, Chromium's network stack writes the failure
	// to the console itself, where no script can catch or silence it: that
	// line is the one message expected. Upstate's own 404 (JSON, nosniff)
	// Chromium refuses as a script without a message.
	for _, tc := range []struct {
		name, widget, include string
		console               []string
	}{
		{"widget.js 404", base + "/nowhere", "inline", nil},
		{"status page down", stoppedURL, "file", []string{"error: Failed to load resource: net::ERR_CONNECTION_REFUSED " + stoppedURL + "/widget.js"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openHost(t, ctx, widgetHost{include: tc.include, widget: tc.widget, timeout: 600000}, true)
			if got := eval[string](p, `seen("widget.js")`); got != "error widget.js" {
				t.Fatalf("widget.js: %s", got)
			}
			if got := eval[string](p, `early.answer`); got != "Please try again." {
				t.Errorf("the early dialog says %q", got)
			}
			if got := eval[string](p, `showError()`); got != "Please try again." {
				t.Errorf("dialog says %q", got)
			}
			if got, want := eval[loadState](p, stateJS), (loadState{"complete", []string{"load page", "error widget.js"}, true}); !got.equal(want) {
				t.Errorf("state %+v, want %+v", got, want)
			}
			p.check(tc.console...)
		})
	}

	// The widget loads but its status page's API hangs: the widget's own
	// timeout answers, and shows nothing.
	t.Run("API hung", func(t *testing.T) {
		hung, arrived := hungServer(t, nil)
		p := openHost(t, ctx, widgetHost{include: "file", widget: base, api: hung, timeout: 1500}, true)
		select {
		case path := <-arrived:
			if path != "/api/v2/summary.json" {
				t.Fatalf("the hung API got %s, want /api/v2/summary.json", path)
			}
		case <-ctx.Done():
			t.Fatal("the summary was never asked for")
		}
		if got := eval[string](p, `showError()`); got != "Please try again." {
			t.Errorf("dialog says %q", got)
		}
		if got := eval[string](p, `early.answer`); got != "Please try again." {
			t.Errorf("the early dialog says %q", got)
		}
		if n := eval[int](p, `document.querySelector("[data-upstate-status]").childNodes.length + document.querySelectorAll(".upstate-banner").length`); n != 0 {
			t.Errorf("with no answer the widget shows %d things", n)
		}
		p.check()
	})

	// The API is down: once the widget has failed to read it, the dialog
	// uses that failure and does not ask again (one failed load, not one
	// per question).
	t.Run("API down", func(t *testing.T) {
		p := openHost(t, ctx, widgetHost{include: "file", widget: base, api: stoppedURL, timeout: 60000}, true)
		eval[string](p, `seen("widget.js")`)
		if got := eval[*struct{}](p, `Upstate.status()`); got != nil {
			t.Errorf("Upstate.status() = %v, want null", got)
		}
		if got := eval[string](p, `showError()`); got != "Please try again." {
			t.Errorf("dialog says %q", got)
		}
		p.check("error: Failed to load resource: net::ERR_CONNECTION_REFUSED " + stoppedURL + "/api/v2/summary.json")
	})
}

// loadState is how far the page has come, as the browser has it: its
// document.readyState, the load and error events app.js saw in order, and
// whether Upstate is still the loader's stub (the widget has not run).
type loadState struct {
	ReadyState string   `json:"readyState"`
	Events     []string `json:"events"`
	Stub       bool     `json:"stub"`
}

const stateJS = `({readyState: document.readyState, events: events, stub: !(window.Upstate && Upstate.mount)})`

func (s loadState) equal(o loadState) bool {
	return s.ReadyState == o.ReadyState && slices.Equal(s.Events, o.Events) && s.Stub == o.Stub
}
