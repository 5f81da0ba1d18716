package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// hostPage is an app's page with a help menu and an error dialog, under
// a strict Content-Security-Policy: scripts and styles only from itself
// and the status page, nothing inline, no eval.
func hostPage(widgetBase, statusURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `window.cspViolations = 0;
document.addEventListener("securitypolicyviolation", function () { window.cspViolations++; });
window.appAlive = function () { return "alive"; };
window.showError = function () {
  var started = Date.now();
  return Upstate.status({components: ["conversion"]}).then(function (s) {
    var e = document.getElementById("explain");
    e.textContent = s && s.incidents.length ? "We're having trouble converting Word files: " + s.incidents[0].name + " (see " + s.incidents[0].url + ")" : "Please try again.";
    return {text: e.textContent, ms: Date.now() - started};
  });
};`)
		default:
			w.Header().Set("Content-Security-Policy", fmt.Sprintf("default-src 'self'; script-src 'self' %[1]s; style-src 'self' %[1]s; connect-src %[2]s; img-src 'self' %[1]s", widgetBase, statusURL))
			fmt.Fprintf(w, `<!doctype html><html><head><title>Classroom app</title><link rel="stylesheet" href="%[1]s/widget.css"></head>
<body><nav id="help">Help · <span data-upstate-status data-components="conversion"></span></nav>
<div id="dialog" role="dialog">Could not convert your file. <span id="explain"></span></div>
<script src="%[1]s/widget.js" data-url="%[2]s" data-timeout="1500" data-refresh="0" data-banner="conversion"></script>
<script src="/app.js"></script></body></html>`, widgetBase, statusURL)
		}
	})
}

// TestWidget drives the widget in headless Chromium: a status line in the
// help menu, Upstate.status() in the app's error dialog and the banner
// while an incident affects the component; then, with the status page
// stopped or answering after 30 s, the host page keeps working and its
// dialog says something sensible within the timeout.
func TestWidget(t *testing.T) {
	ctx := headless(t, 900, 600)
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

	// A hanging status page (accepts, never answers) and a stopped one.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	defer hang.Close()
	stopped, _ := net.Listen("tcp", "127.0.0.1:0")
	stoppedURL := "http://" + stopped.Addr().String()
	stopped.Close()

	type outcome struct {
		Text string  `json:"text"`
		MS   float64 `json:"ms"`
	}
	for _, tc := range []struct {
		name, statusURL string
		want            string
		maxMS           float64
	}{
		{"up", base, "We're having trouble converting Word files: Word conversions failing", 1500},
		{"hanging", hang.URL, "Please try again.", 3000},
		{"stopped", stoppedURL, "Please try again.", 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := httptest.NewServer(hostPage(base, tc.statusURL))
			defer host.Close()
			if err := chromedp.Do(ctx, chromedp.Navigate(host.URL+"/"), chromedp.WaitVisible(`#dialog`)); err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(ctx, chromedp.Evaluate[outcome](`showError()`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != tc.want && !strings.HasPrefix(got.Text, tc.want) {
				t.Errorf("dialog says %q, want %q", got.Text, tc.want)
			}
			if got.MS > tc.maxMS {
				t.Errorf("the dialog waited %.0f ms for the status page", got.MS)
			}
			alive, err := chromedp.Run(ctx, chromedp.Evaluate[string](`appAlive()`))
			if err != nil || alive != "alive" {
				t.Errorf("the host page broke: %q %v", alive, err)
			}
			violations, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.cspViolations`))
			if violations != 0 {
				t.Errorf("%d Content-Security-Policy violations", violations)
			}
			if tc.name != "up" {
				return
			}
			// The help menu's status line and the banner.
			waitFor(t, "the status line", func() bool {
				html, _ := chromedp.Run(ctx, chromedp.OuterHTML(`#help`))
				return strings.Contains(html, "Word conversions failing")
			})
			help, _ := chromedp.Run(ctx, chromedp.OuterHTML(`#help`))
			if !strings.Contains(help, `role="status"`) || !strings.Contains(help, `class="upstate-status upstate-major"`) {
				t.Errorf("status line: %s", help)
			}
			bar, err := chromedp.Run(ctx, chromedp.OuterHTML(`.upstate-banner`))
			if err != nil || !strings.Contains(bar, `aria-label="Dismiss this status message"`) || !strings.Contains(bar, "Word conversions failing") {
				t.Errorf("banner: %s %v", bar, err)
			}
			// Keyboard: the dismiss button is focusable and works with Enter.
			if err := chromedp.Do(ctx, chromedp.Focus(`.upstate-banner-close`), chromedp.KeyEvent("\r")); err != nil {
				t.Fatal(err)
			}
			if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".upstate-banner").length`)); n != 0 {
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
			after, err := chromedp.Run(ctx, chromedp.Evaluate[outcome](`Upstate.refresh(), showError()`, chromedp.EvalAwaitPromise))
			if err != nil || after.Text != "Please try again." {
				t.Errorf("after the incident ended the dialog says %q (%v)", after.Text, err)
			}
		})
	}
}
