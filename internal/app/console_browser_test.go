package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A responder adds a check from the console, watches it run on its own
// page, runs it now, pauses it and sees it paused; screenshots of the
// form and the page at phone and desktop widths are kept.
func TestConsoleChecksInBrowser(t *testing.T) {
	browser := newChromium(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer target.Close()
	_, base := startApp(t)
	desk := window(t, browser, desktopW, desktopH)
	if err := browserSignIn(desk, base, "responder@example.com", "responder password"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(desk,
		chromedp.Navigate(base+"/admin/checks/new"),
		chromedp.SendKeys(`#check input[name=id]`, "api-health"),
		chromedp.SendKeys(`#check input[name=name]`, "API health"),
		chromedp.SetValue(`#check select[name=kind]`, "http"),
		chromedp.SendKeys(`#check input[name=interval]`, "30s"),
		chromedp.Click(`#check input[name=components][value=api]`),
		// The form offers the kind's keys to fill in; they are replaced whole.
		chromedp.SetValue(`#check textarea[name=keys]`, "url: "+target.URL+"/health"),
	); err != nil {
		t.Fatal(err)
	}
	keepScreenshot(t, desk, "new-check-desktop")
	if err := chromedp.Do(desk, chromedp.Click(`#check button.primary`), chromedp.WaitVisible(`#state, .problem`)); err != nil {
		t.Fatalf("creating the check: %v", err)
	}
	if problem, _ := chromedp.Run(desk, chromedp.Evaluate[string](`(document.querySelector('.problem') || {}).textContent || ''`)); problem != "" {
		keepScreenshot(t, desk, "new-check-refused")
		t.Fatalf("creating the check was refused: %s", problem)
	}
	if loc, _ := chromedp.Run(desk, chromedp.Location()); !strings.Contains(loc, "/admin/checks/api-health?") {
		t.Fatalf("after creating, at %s", loc)
	}
	if meta, _ := chromedp.Run(desk, chromedp.Text(`.meta`)); !strings.Contains(meta, "API") || !strings.Contains(meta, "every 30 s") {
		t.Errorf("the new check's page says %q: not its components and interval", meta)
	}
	// It runs: "Check now" runs it at once and says what it found (the
	// page is loaded afresh, so the notice awaited is the run's).
	if err := chromedp.Do(desk, chromedp.Navigate(base+"/admin/checks/api-health"), chromedp.WaitVisible(`#state`),
		chromedp.Click(`#state form[action$="/run"] button`), chromedp.WaitVisible(`.notice`)); err != nil {
		t.Fatalf("check now: %v", err)
	}
	notice, _ := chromedp.Run(desk, chromedp.Text(`.notice`))
	if !strings.Contains(notice, "Run now: ok") {
		t.Errorf("check now said %q", notice)
	}
	rows, _ := chromedp.Run(desk, chromedp.Text(`#results`))
	if !strings.Contains(rows, "ok") || !strings.Contains(rows, "HTTP 200") {
		t.Errorf("the page's results after a run: %q", rows)
	}
	keepScreenshot(t, desk, "check-page-desktop")

	phone := window(t, browser, phoneW, phoneH)
	if err := browserSignIn(phone, base, "responder@example.com", "responder password"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(phone, chromedp.Navigate(base+"/admin/checks/api-health"), chromedp.WaitVisible(`#state`)); err != nil {
		t.Fatal(err)
	}
	keepScreenshot(t, phone, "check-page-phone")
	if err := chromedp.Do(phone, chromedp.Navigate(base+"/admin/checks"), chromedp.WaitReady(`footer`)); err != nil {
		t.Fatal(err)
	}
	if list, _ := chromedp.Run(phone, chromedp.Text(`main`)); !strings.Contains(list, "API health") {
		t.Errorf("the checks list lacks the new check: %q", list)
	}
	keepScreenshot(t, phone, "checks-phone")

	// Paused from its page, it says so there.
	if err := chromedp.Do(desk, chromedp.Navigate(base+"/admin/checks/api-health"), chromedp.WaitVisible(`#state`),
		chromedp.Click(`#state form[action$="/pause"] button`), chromedp.WaitVisible(`#state form[action$="/resume"]`)); err != nil {
		t.Fatalf("pausing: %v", err)
	}
	if h1, _ := chromedp.Run(desk, chromedp.Text(`h1`)); !strings.Contains(h1, "Paused") {
		t.Errorf("a paused check's page heading: %q", h1)
	}
}
