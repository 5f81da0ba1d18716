package app

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate/internal/check"
)

// The console's browser tests share one way to start Chromium, open a
// separate person's window in it, sign in and keep screenshots.

// Viewports the console is looked at in: a phone and a desktop.
const (
	phoneW, phoneH     = 390, 844
	desktopW, desktopH = 1280, 900
)

// newChromium starts a headless Chromium for the test, or skips it when
// there is none (and fails when CI says there must be one).
func newChromium(t *testing.T) context.Context {
	t.Helper()
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
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	// The browser starts with its first tab; windows are then contexts of
	// their own in it.
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// window opens a window of its own (its own cookies: another person at
// another desk) at the given size; the test's deadline bounds it.
func window(t *testing.T, browser context.Context, w, h int64) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// browserSignIn signs in through the form and waits for the console.
func browserSignIn(ctx context.Context, base, email, password string) error {
	return chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/login"),
		chromedp.SendKeys(`input[name=email]`, email),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`#incidents`),
	)
}

// keepScreenshot saves what the window shows, whole page, under
// artifacts/screenshots (or $UPSTATE_ARTIFACTS/screenshots), for people
// to look at after a run; CI keeps the directory.
func keepScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv("UPSTATE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}
