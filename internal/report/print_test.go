package report

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/markdown"
)

// The HTML report printed to PDF by a real browser: every page carries the
// title and "Page N of M" in its margins, links print their addresses, and
// no heading is left at the foot of a page without what it heads.
// pdftotext (poppler-utils) reads the pages back.
func TestPrintedReport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	real := os.Getenv("UPSTATE_REAL_SERVICES") == "1"
	chromium, err := check.NewChromium(check.ChromiumOptions{}).Find()
	pdftotext, perr := exec.LookPath("pdftotext")
	if err != nil || perr != nil {
		if real {
			t.Fatalf("chromium: %v; pdftotext: %v (.ci/run installs chromium and poppler-utils)", err, perr)
		}
		t.Skip("needs chromium and pdftotext")
	}
	in := fixtureMonth()
	in.Intro = "To our customers: this is what went wrong in August, and what we changed."
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	page, err := HTML(r, markdown.New())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox)...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitReady("body")); err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperLetter)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := strings.Split(strings.TrimRight(string(out), "\f\n"), "\f")
	if len(pages) < 2 {
		t.Fatalf("the month printed on %d page", len(pages))
	}
	headings := map[string]bool{"Summary": true, "What happened, day by day": true, "Incidents caused by providers": true, "Recurring incidents": true}
	for _, d := range r.Days {
		headings[d.Date] = true
		for _, x := range d.Incidents {
			headings[x.Name] = true
		}
	}
	for _, g := range r.Recurring {
		headings[g.Name+" — "+strconv.Itoa(g.Count)+" times, "+g.Total+" in all"] = true
	}
	for i, p := range pages {
		n := i + 1
		if want := "Page " + strconv.Itoa(n) + " of " + strconv.Itoa(len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", n, want)
		}
		if !strings.Contains(p, r.Title) {
			t.Errorf("page %d lacks the title in its margin", n)
		}
		// The last line of the body, above the footer's page number.
		var lines []string
		for _, l := range strings.Split(p, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Page ") {
				lines = append(lines, l)
			}
		}
		if n < len(pages) && len(lines) > 0 && headings[lines[len(lines)-1]] {
			t.Errorf("page %d ends with the heading %q, stranded from what it heads", n, lines[len(lines)-1])
		}
	}
	// The address follows the words (wrapped, it may break anywhere); a
	// link whose words are its address does not print it twice.
	if !strings.Contains(string(out), "“Google Drive service disruption” <https://www.google.com/") {
		t.Error("links do not print their addresses")
	}
	if strings.Contains(string(out), "incidents/drive3 <https://") {
		t.Error("a bare address is printed twice")
	}
}
