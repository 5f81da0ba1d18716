package public

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"
)

// TestPageOf1000InAPhone loads the page of 1,000 components in headless
// Chromium at a phone's size (390×844, CPU slowed four times) under the
// page's Content-Security-Policy, and reports how long it takes to parse
// and lay out (issue 16). A measurement, not a check: it runs only with
// UPSTATE_PAGE_TIMING=1 (about 5 s), and skips without Chromium.
// UPSTATE_PAGE_HTML=file loads that file as the page instead (to measure
// another version of the markup); UPSTATE_PAGE_SHOT=file.png keeps a
// screenshot of the first screen.
func TestPageOf1000InAPhone(t *testing.T) {
	if os.Getenv("UPSTATE_PAGE_TIMING") != "1" {
		t.Skip("a measurement: UPSTATE_PAGE_TIMING=1 runs it")
	}
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium")
	}
	page := renderIndex(t, newRenderer(t), bigPage(1000))
	if f := os.Getenv("UPSTATE_PAGE_HTML"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		page = b
	}
	static, _ := fs.Sub(Static, ".")
	files := http.FileServerFS(static)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The public page's policy (internal/web's hdrCSP).
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", ContentTypeHTML)
			w.Write(page)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, performance.Enable, performance.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	metrics := func() map[string]float64 {
		res, err := chromedp.Call(ctx, performance.GetMetrics, cdp.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, m := range res.Metrics {
			out[m.Name] = m.Value
		}
		return out
	}
	var parse, layout, style, total []float64
	for range 3 {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
			t.Fatal(err)
		}
		nav, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`document.body.offsetHeight; (() => { const n = performance.getEntriesByType("navigation")[0]; return [n.responseStart, n.domInteractive, n.loadEventEnd]; })()`))
		if err != nil {
			t.Fatal(err)
		}
		after := metrics() // counted from the document's start
		parse = append(parse, nav[1]-nav[0])
		total = append(total, nav[2]-nav[0])
		layout = append(layout, 1000*after["LayoutDuration"])
		style = append(style, 1000*after["RecalcStyleDuration"])
	}
	med := func(v []float64) string { slices.Sort(v); return fmt.Sprintf("%.0f ms", v[len(v)/2]) }
	t.Logf("%d bytes: parse %s, style %s, layout %s, to load's end %s (median of 3, 390x844, CPU/4)", len(page), med(parse), med(style), med(layout), med(total))
	if f := os.Getenv("UPSTATE_PAGE_SHOT"); f != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(f, png, 0o644)
	}
}
