package app

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/incident"
)

// The admin pages fit a 390 px phone: nothing makes the page wider than
// the screen (a wide table scrolls inside its own box). The incident list
// was 547 px wide.
func TestAdminFitsAPhone(t *testing.T) {
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
	a, base := startApp(t)
	if _, err := a.engine.Declare(context.Background(), incident.Change{Name: "Word and PowerPoint conversions failing for every school on the west coast",
		Status: upstate.Investigating, Set: map[string]upstate.Status{"drive": upstate.DegradedPerformance}, Actor: "test"}); err != nil {
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
	for _, page := range []string{"/admin/", "/admin/incidents/new", "/admin/maintenances", "/admin/notifications"} {
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
}
