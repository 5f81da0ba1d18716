package embed

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/snapshot"
)

func page(n int) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Page: snapshot.Page{Name: "Bench", Location: time.UTC}, Indicator: "minor", Description: "Minor Service Outage"}
	for i := range n {
		c := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("Component %d", i)},
			Status: upstate.Operational}}
		for d := range snapshot.Days {
			c.Days = append(c.Days, snapshot.Day{Uptime: 1 - float64(d%7)/1000})
		}
		s.Components = append(s.Components, c)
	}
	return s
}

func TestRender(t *testing.T) {
	docs, err := Render(page(2))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range docs {
		paths = append(paths, d.Path)
	}
	want := "/badges/status.svg /badges/uptime-7d.svg /badges/uptime-30d.svg /badges/uptime-90d.svg /badges/c0.svg /badges/c0/uptime-7d.svg /badges/c0/uptime-30d.svg /badges/c0/uptime-90d.svg /badges/c1.svg /badges/c1/uptime-7d.svg /badges/c1/uptime-30d.svg /badges/c1/uptime-90d.svg /embed"
	if strings.Join(paths, " ") != want {
		t.Errorf("paths:\n%s", strings.Join(paths, " "))
	}
	if b := string(docs[1].Body); !strings.Contains(b, "uptime 7d: 99.70%") || !strings.Contains(b, `fill="#d9a300"`) {
		t.Errorf("uptime badge: %s", b)
	}
	if w := textWidth("major outage"); w < 60 || w > 90 {
		t.Errorf("width of 'major outage' = %d", w)
	}
}

// TestWidgetBudget keeps what every page of an app downloads small: the
// README promises under 3 KB gzipped for the script, and the loader is
// pasted into pages.
func TestWidgetBudget(t *testing.T) {
	for _, tc := range []struct {
		name      string
		body      []byte
		maxGzip   int
		maxPasted int
	}{
		{"widget.js", []byte(Widget), 3 << 10, 0},
		{"widget.css", []byte(WidgetCSS), 1 << 10, 0},
		{"loader.js", []byte(Loader), 768, 1400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(tc.body)
			zw.Close()
			if got := b.Len(); got > tc.maxGzip {
				t.Errorf("%d bytes gzipped, want at most %d", got, tc.maxGzip)
			}
			if got := len(tc.body); tc.maxPasted > 0 && got > tc.maxPasted {
				t.Errorf("%d bytes to paste, want at most %d", got, tc.maxPasted)
			}
		})
	}
}

// TestWidgetStrictCSP rules out, in the scripts' text, what a strict
// Content-Security-Policy refuses: eval in any form and inline styles.
// The browser test runs them under such a policy; this catches a use on a
// path it does not take.
func TestWidgetStrictCSP(t *testing.T) {
	forbidden := regexp.MustCompile(`\beval\(|\bFunction\(|setTimeout\(\s*["'\x60]|setInterval\(\s*["'\x60]|innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.style\b|cssText|["']style["']|insertRule|<style`)
	for name, body := range map[string][]byte{"widget.js": []byte(Widget), "loader.js": []byte(Loader)} {
		if m := forbidden.FindAll(body, -1); m != nil {
			t.Errorf("%s uses %q", name, m)
		}
	}
	// The loader is pasted between <script> and </script>.
	if l := bytes.ToLower([]byte(Loader)); bytes.Contains(l, []byte("</script")) || bytes.Contains(l, []byte("<!--")) {
		t.Error("loader.js cannot be pasted inline: it would end its <script> element early")
	}
}

// BenchmarkRender1000 is the badges and compact page of a 1,000-component
// page, rendered on every snapshot.
func BenchmarkRender1000(b *testing.B) {
	s := page(1000)
	for b.Loop() {
		if _, err := Render(s); err != nil {
			b.Fatal(err)
		}
	}
}
