package app

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/incident"
)

// The admin pages fit a 390 px phone: nothing makes the page wider than
// the screen (a wide table scrolls inside its own box). The incident list
// was 547 px wide.
func TestAdminFitsAPhone(t *testing.T) {
	browser := newChromium(t)
	a, base := startApp(t)
	if _, err := a.engine.Declare(context.Background(), incident.Change{Name: "Word and PowerPoint conversions failing for every school on the west coast",
		Status: upstate.Investigating, Set: map[string]upstate.Status{"drive": upstate.DegradedPerformance}, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	ctx := window(t, browser, phoneW, phoneH)
	if err := browserSignIn(ctx, base, "responder@example.com", "responder password"); err != nil {
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
		if width > phoneW {
			t.Errorf("%s is %d px wide on a %d px phone", page, width, phoneW)
		}
	}
}
