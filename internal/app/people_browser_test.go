package app

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An owner adds a person from the console; the person signs in at their
// own desk; the owner removes them, and their open console is signed out
// at its next request.
func TestPeopleInBrowser(t *testing.T) {
	browser := newChromium(t)
	_, base := startApp(t)
	owner := window(t, browser, desktopW, desktopH)
	if err := browserSignIn(owner, base, "owner@example.com", "owner password 1"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(owner,
		chromedp.Navigate(base+"/admin/users"),
		chromedp.SendKeys(`#add input[name=email]`, "nadia@example.com"),
		chromedp.SendKeys(`#add input[name=name]`, "Nadia"),
		chromedp.SendKeys(`#add input[name=password]`, "a long first password"),
		chromedp.Click(`#add button`),
		chromedp.WaitVisible(`.notice`),
	); err != nil {
		t.Fatal(err)
	}
	notice, err := chromedp.Run(owner, chromedp.Text(`.notice`))
	if err != nil || !strings.Contains(notice, "Added Nadia as responder") {
		t.Fatalf("after adding: %q %v", notice, err)
	}
	keepScreenshot(t, owner, "people-desktop")

	nadia := window(t, browser, phoneW, phoneH)
	if err := browserSignIn(nadia, base, "nadia@example.com", "a long first password"); err != nil {
		t.Fatalf("the new person cannot sign in: %v", err)
	}
	keepScreenshot(t, nadia, "console-phone")

	// The owner removes her: her card's Remove button, on the page afresh
	// (no notice on it yet, so the one awaited is the removal's).
	if err := chromedp.Do(owner, chromedp.Navigate(base+"/admin/users"), chromedp.WaitVisible(`#add`)); err != nil {
		t.Fatal(err)
	}
	id, err := chromedp.Run(owner, chromedp.Evaluate[string](`[...document.querySelectorAll('.card[id^=user-]')].find(c => c.textContent.includes('nadia@example.com')).id`))
	if err != nil || id == "" {
		t.Fatalf("Nadia's card: %q %v", id, err)
	}
	if err := chromedp.Do(owner, chromedp.Click(`#`+id+` form[action$="/remove"] button`), chromedp.WaitVisible(`.notice`)); err != nil {
		t.Fatal(err)
	}
	if notice, _ := chromedp.Run(owner, chromedp.Text(`.notice`)); !strings.Contains(notice, "Removed Nadia") {
		t.Errorf("after removing: %q", notice)
	}
	// Her window, still open on the console, is signed out at its next step.
	if err := chromedp.Do(nadia, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(`input[name=password]`)); err != nil {
		t.Fatalf("a removed person's console still opens: %v", err)
	}
	if loc, _ := chromedp.Run(nadia, chromedp.Location()); !strings.Contains(loc, "/admin/login") {
		t.Errorf("a removed person's console is at %s, not the sign-in page", loc)
	}
	if err := chromedp.Do(nadia,
		chromedp.SendKeys(`input[name=email]`, "nadia@example.com"),
		chromedp.SendKeys(`input[name=password]`, "a long first password"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`.problem`),
	); err != nil {
		t.Fatalf("signing in again as a removed person: %v", err)
	}
	if loc, _ := chromedp.Run(nadia, chromedp.Location()); !strings.Contains(loc, "/admin/login") {
		t.Errorf("a removed person signed in again: at %s", loc)
	}
}
