package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/config"
)

// chromium finds Debian's Chromium, which .ci/run installs.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("UPSTATE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if _, err := exec.LookPath("chromium"); err == nil {
		return "chromium"
	}
	if os.Getenv("UPSTATE_REAL_SERVICES") == "1" || os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// headless is a browser context: Chromium, headless with a fresh profile,
// at the window size, given 90 s. Chromium starts on the first action and
// is closed when the test ends; without it the test is skipped (or fails
// in CI).
func headless(t *testing.T, width, height int) context.Context {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// screenshot saves the page in the test's artifact directory (kept with
// go test -artifacts).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// serveWithAnn runs Upstate from yaml on loopback until the test ends,
// with Ann, a responder, able to sign in with "a long enough password".
// It returns the base URL.
func serveWithAnn(t *testing.T, yaml string) string {
	t.Helper()
	cfg, err := config.Parse("e2e.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	if _, err := app.AddUser(context.Background(), cfg, app.NewUser{Email: "ann@example.com", Name: "Ann", Role: upstate.RoleResponder, Password: "a long enough password"}, time.Now); err != nil {
		t.Fatal(err)
	}
	return "http://" + a.Addr()
}

// TestBrowserDeclareAndUpdate drives a real headless Chromium: sign in,
// declare an incident, post an update, and see it on the public page. It
// saves screenshots in the test's artifact directory (go test -artifacts).
func TestBrowserDeclareAndUpdate(t *testing.T) {
	ctx := headless(t, 1000, 1400)
	base := serveWithAnn(t, "page: {name: Classroom Cloud Status, url: 'http://127.0.0.1', time_zone: America/Los_Angeles}\ncomponents:\n"+
		"  - {id: api, name: API, group: Platform}\n  - {id: conversion, name: File conversion, group: Integrations}\n")
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, "ann@example.com"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Click(`form button.primary`),
		chromedp.WaitVisible(`a.button.primary`),
		chromedp.Click(`a.button.primary`), // Declare an incident
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "Word and PowerPoint conversions failing"),
		chromedp.SendKeys(`textarea[name=message]`, "Uploads of Word and PowerPoint files fail. **PDF still works.**"),
		chromedp.SetValue(`select[name="component.conversion"]`, "partial_outage"),
		chromedp.Click(`form button.primary`),
		chromedp.WaitVisible(`#update`),
		chromedp.SendKeys(`#update textarea[name=message]`, "The conversion provider has found the cause."),
		chromedp.Click(`#update button.primary`), // Post update: the status defaults to Identified
		// The declaration's own notice is on the page already: wait for
		// the update's.
		chromedp.WaitVisible(`//*[contains(@class, "notice")][contains(., "Update posted")]`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	incidentPage, err := chromedp.Run(ctx, chromedp.OuterHTML(`main`))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "admin-incident.png")
	if !strings.Contains(incidentPage, "Update posted") || !strings.Contains(incidentPage, "The conversion provider has found the cause.") {
		t.Errorf("admin incident page:\n%s", incidentPage)
	}
	// The public page is rebuilt from a snapshot on change; wait for it.
	var publicPage string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
			t.Fatal(err)
		}
		if publicPage, err = chromedp.Run(ctx, chromedp.OuterHTML(`main`)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(publicPage, "The conversion provider has found the cause.") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	screenshot(t, ctx, "public-page.png")
	for _, want := range []string{"Word and PowerPoint conversions failing", "Identified", "The conversion provider has found the cause.", "<strong>PDF still works.</strong>", "Partial outage"} {
		if !strings.Contains(publicPage, want) {
			t.Errorf("public page lacks %q", want)
		}
	}
}
