package public

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html/template"
	"regexp"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/snapshot"
)

// bigPage is a page of n components in groups of 50 over snapshot.Days
// days, as bench/page.sh serves but with a history: mostly clean days,
// one in 40 with an incident (of each kind of status), a tenth of the
// components added 40 days ago (no data before), every tenth with a check
// and its sparkline, one incident open.
func bigPage(n int) *snapshot.Snapshot {
	built := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	first := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(snapshot.Days - 1))
	s := &snapshot.Snapshot{BuiltAt: built, Page: snapshot.Page{Name: "Bench", Location: time.UTC}, Indicator: "minor", Description: "Minor Service Outage"}
	worst := []upstate.Status{upstate.DegradedPerformance, upstate.PartialOutage, upstate.MajorOutage, upstate.UnderMaintenance}
	rnd := uint32(1)
	next := func() uint32 { rnd ^= rnd << 13; rnd ^= rnd >> 17; rnd ^= rnd << 5; return rnd }
	var g *snapshot.Group
	for i := range n {
		c := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("Component %d", i),
			Description: fmt.Sprintf("Component number %d", i)}, Status: upstate.Operational}, Uptime: 1}
		born := 0
		if i%10 == 3 {
			born = 40
		}
		for d := range snapshot.Days {
			day := snapshot.Day{Date: first.AddDate(0, 0, d), Worst: upstate.Operational, Uptime: 1}
			switch {
			case d < born:
				day = snapshot.Day{Date: day.Date, NoData: true, Uptime: -1}
			case next()%40 == 0:
				day.Worst = worst[next()%4]
				if w := day.Worst.OutageWeight(); w > 0 {
					day.Outage = time.Duration(next()%7200) * time.Second
					day.Uptime = 1 - w*day.Outage.Seconds()/86400
				}
				day.Incidents = []string{fmt.Sprintf("Elevated errors on component %d", i)}
			}
			c.Days = append(c.Days, day)
		}
		if i%10 == 0 {
			c.LatencySince = built.Truncate(time.Hour).Add(-23 * time.Hour)
			for h := range 24 {
				c.Latency = append(c.Latency, snapshot.Latency{Start: c.LatencySince.Add(time.Duration(h) * time.Hour), Mean: time.Duration(40+h) * time.Millisecond, Count: 120})
			}
		}
		if i == 7 {
			c.Status = upstate.MajorOutage
			s.Open = []*upstate.Incident{{ID: "open1", Name: "Component 7 is failing", Status: upstate.Investigating, Impact: upstate.ImpactCritical,
				CreatedAt: built.Add(-time.Hour), StartedAt: built.Add(-time.Hour), Components: []string{c.ID}}}
		}
		if i%50 == 0 {
			g = &snapshot.Group{ID: fmt.Sprintf("g%d", i/50), Name: fmt.Sprintf("Group %d", i/50), Status: upstate.Operational}
			s.Groups = append(s.Groups, g)
		}
		c.GroupID = g.ID
		g.Components = append(g.Components, c)
		s.Components = append(s.Components, c)
	}
	s.Recent = s.Open
	return s
}

func renderIndex(tb testing.TB, r *Renderer, s *snapshot.Snapshot) []byte {
	tb.Helper()
	docs, err := r.Render(s)
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range docs {
		if d.Path == "/" {
			return d.Body
		}
	}
	tb.Fatal("no index page")
	return nil
}

func gzipSize(b []byte) int {
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return z.Len()
}

func newRenderer(tb testing.TB) *Renderer {
	tb.Helper()
	r, err := New(func(s string) template.HTML { return template.HTML(template.HTMLEscapeString(s)) })
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestPageOf1000Light keeps a page of 1,000 components light enough for a
// phone to parse (issue 16): under 1 MB plain.
func TestPageOf1000Light(t *testing.T) {
	page := renderIndex(t, newRenderer(t), bigPage(1000))
	t.Logf("a page of 1,000 components: %d bytes plain, %d gzip", len(page), gzipSize(page))
	if len(page) >= 1_000_000 {
		t.Errorf("a page of 1,000 components is %d bytes, want under 1 MB", len(page))
	}
	// The bars' parts are drawn once, and every part a bar uses is there.
	if n := bytes.Count(page, []byte(`<svg class="defs"`)); n != 1 {
		t.Errorf("the bars' parts are drawn %d times", n)
	}
	for _, ref := range regexp.MustCompile(`(?:href="|url\()#(\w+)`).FindAllSubmatch(page, -1) {
		if !bytes.Contains(page, []byte(` id="`+string(ref[1])+`"`)) {
			t.Fatalf("a bar uses #%s, which the page does not draw", ref[1])
		}
	}
}

// BenchmarkRenderPage1000 renders the page of 1,000 components (done once
// per snapshot) and reports its size.
func BenchmarkRenderPage1000(b *testing.B) {
	r, s := newRenderer(b), bigPage(1000)
	var page []byte
	for b.Loop() {
		page = renderIndex(b, r, s)
	}
	b.ReportMetric(float64(len(page)), "B/page")
	b.ReportMetric(float64(gzipSize(page)), "gzB/page")
}
