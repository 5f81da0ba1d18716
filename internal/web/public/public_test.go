package public

import (
	"bytes"
	"encoding/binary"
	"html/template"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/snapshot"
)

func TestSparklineFewPoints(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 30, 0, 0, time.UTC)
	start := now.Truncate(time.Hour).Add(-23 * time.Hour)
	at := func(h int, ms int) snapshot.Latency {
		return snapshot.Latency{Start: start.Add(time.Duration(h) * time.Hour), Mean: time.Duration(ms) * time.Millisecond, Count: 1}
	}
	if got := sparkline(nil, start); got != "" {
		t.Errorf("no points drew %q", got)
	}
	one := string(sparkline([]snapshot.Latency{at(23, 40)}, start))
	if !strings.Contains(one, "<circle") || strings.Contains(one, "<polyline") || !strings.Contains(one, "40 ms") {
		t.Errorf("one hour of data is not a dot with its value: %s", one)
	}
	// The dot sits at the right, where the last hour is: a check an hour
	// old does not pretend to a day of history.
	if !strings.Contains(one, `cx="118.0"`) {
		t.Errorf("the latest hour is not at the right edge: %s", one)
	}
	gappy := string(sparkline([]snapshot.Latency{at(0, 10), at(1, 20), at(2, 30), at(10, 50), at(20, 15), at(21, 15)}, start))
	if n := strings.Count(gappy, "<polyline"); n != 2 {
		t.Errorf("two runs of hours drew %d lines: %s", n, gappy)
	}
	if n := strings.Count(gappy, "<circle"); n != 1 {
		t.Errorf("one lone hour drew %d dots: %s", n, gappy)
	}
	if !strings.Contains(gappy, "(6 with data)") {
		t.Errorf("the title does not say how many hours have data: %s", gappy)
	}
}

func TestBarTooltipsNameIncidents(t *testing.T) {
	day := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	html := string(bars("API", 0.995, []snapshot.Day{
		{Date: day.AddDate(0, 0, -3), NoData: true, Uptime: -1},
		{Date: day.AddDate(0, 0, -2), NoData: true, Uptime: -1},
		{Date: day.AddDate(0, 0, -1), Worst: upstate.Operational, Uptime: 1},
		{Date: day, Worst: upstate.MajorOutage, Uptime: 0.9, Outage: time.Hour, Incidents: []string{"Drive <sync> down"}},
		{Date: day.AddDate(0, 0, 1), Worst: upstate.PartialOutage, Uptime: 0.99, Incidents: []string{"a", "b", "c", "d", "e"}},
		{Date: day.AddDate(0, 0, 2), Worst: upstate.Operational, Uptime: 1},
		{Date: day.AddDate(0, 0, 3), Worst: upstate.Operational, Uptime: 1},
		{Date: day.AddDate(0, 0, 4), Worst: upstate.Operational, Uptime: 1},
	}))
	for _, want := range []string{
		`<svg viewBox="0 0 8 1" preserveAspectRatio="none" role="group" aria-label="API: 99.50% uptime over 8 days">`,
		`<rect x="0" width="2" height="1" fill="url(#pn)"><title>Aug 29 – Aug 30, 2026: no data</title></rect>`,
		// The days with data are one rect of green bars, telling of the
		// clean ones once; each other day is drawn on top with its words.
		`<rect x="2" width="6" height="1" fill="url(#po)"><title>Other days of Aug 31 – Sep 5, 2026: 100.00% uptime</title></rect>`,
		`<use href="#bm" x="3"><title>Tue Sep 1, 2026: 90.00% uptime, worst: major outage, 1 h of downtime. Incident: Drive &lt;sync&gt; down</title></use>`,
		`<use href="#bp" x="4"><title>Wed Sep 2, 2026: 99.00% uptime, worst: partial outage. Incidents: a; b; c; and 2 more</title></use></svg>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the bars lack %s:\n%s", want, html)
		}
	}
	if strings.Count(html, "Incident") != 2 {
		t.Errorf("a clean day names incidents: %s", html)
	}
	if n := strings.Count(html, "<rect") + strings.Count(html, "<use"); n != 4 {
		t.Errorf("%d rects for 8 days: want one without data, one with, two days not clean", n)
	}
	clean := string(bars("Web", 1, []snapshot.Day{{Date: day, Worst: upstate.Operational, Uptime: 1}, {Date: day.AddDate(0, 0, 1), Worst: upstate.Operational, Uptime: 1}}))
	if want := `<rect x="0" width="2" height="1" fill="url(#po)"><title>Sep 1 – Sep 2, 2026: 100.00% uptime each day</title></rect></svg>`; !strings.Contains(clean, want) || strings.Count(clean, "<rect") != 1 {
		t.Errorf("clean days are not one rect %s:\n%s", want, clean)
	}
}

// An operational day with an incident (a notice, or one that changed no
// status) is not clean: its bar is green but of its own, naming it.
func TestBarOfAnOperationalDayWithAnIncident(t *testing.T) {
	day := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	html := string(bars("API", 1, []snapshot.Day{
		{Date: day, Worst: upstate.Operational, Uptime: 1},
		{Date: day.AddDate(0, 0, 1), Worst: upstate.Operational, Uptime: 1, Incidents: []string{"Planned notice"}},
		{Date: day.AddDate(0, 0, 2), Worst: upstate.DegradedPerformance, Uptime: 1},
	}))
	for _, want := range []string{
		`<use href="#bo" x="1"><title>Wed Sep 2, 2026: 100.00% uptime. Incident: Planned notice</title></use>`,
		`<use href="#bd" x="2"><title>Thu Sep 3, 2026: 100.00% uptime, worst: degraded performance</title></use>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the bars lack %s:\n%s", want, html)
		}
	}
}

func TestBrandDocs(t *testing.T) {
	r, err := New(func(s string) template.HTML { return template.HTML(template.HTMLEscapeString(s)) })
	if err != nil {
		t.Fatal(err)
	}
	page := snapshot.Page{Name: "Acme", Location: time.UTC}
	built := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	api := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: "api", Name: "API"}, Status: upstate.MajorOutage},
		Latency: []snapshot.Latency{{Start: built, Mean: 40 * time.Millisecond, Count: 1}}, LatencySince: built.Add(-23 * time.Hour)}
	snap := &snapshot.Snapshot{BuiltAt: built, Page: page, Indicator: "critical", Components: []*snapshot.Component{api},
		Groups: []*snapshot.Group{{ID: "api", Name: "API", Status: upstate.MajorOutage, Components: []*snapshot.Component{api}, Single: true}}}
	docs := byPath(t, r, snap)
	ico := docs["/favicon.ico"]
	if ico == nil || ico.ContentType != "image/x-icon" {
		t.Fatalf("no drawn favicon: %v", ico)
	}
	// An ICO with one 32×32 PNG in the colour of the status.
	var hdr [3]uint16
	_ = binary.Read(bytes.NewReader(ico.Body), binary.LittleEndian, &hdr)
	if hdr != [3]uint16{0, 1, 1} || ico.Body[6] != 32 {
		t.Fatalf("favicon.ico header % x", ico.Body[:22])
	}
	img, err := png.Decode(bytes.NewReader(ico.Body[22:]))
	if err != nil {
		t.Fatalf("the icon's image: %v", err)
	}
	if c := img.At(16, 16); !sameRGB(c, 0xd9, 0x3b, 0x3b) {
		t.Errorf("a critical page's dot is %v, not the critical red", c)
	}
	if svg := docs["/favicon.svg"]; svg == nil || !strings.Contains(string(svg.Body), `fill="#d93b3b"`) {
		t.Errorf("favicon.svg = %v", svg)
	}
	if docs["/logo"] != nil || docs["/theme.css"] != nil {
		t.Error("a page without a logo or colour serves one")
	}
	index := string(docs["/"].Body)
	if !strings.Contains(index, `<circle cx="118.0"`) {
		t.Error("the component's sparkline is not drawn")
	}
	if !strings.Contains(index, `<link rel="icon" href="/favicon.svg?v=critical" type="image/svg+xml">`) || strings.Contains(index, "theme.css") || strings.Contains(index, `class="logo"`) {
		t.Errorf("the page's head and header without a brand:\n%s", index[:min(len(index), 1200)])
	}

	snap.Page.Logo = snapshot.Image{Type: "image/svg+xml", Data: []byte("<svg/>"), Version: "abc"}
	snap.Page.Favicon = snapshot.Image{Type: "image/png", Data: []byte("\x89PNG"), Version: "def"}
	snap.Page.Accent = "#0b5fff"
	docs = byPath(t, r, snap)
	if d := docs["/logo"]; d == nil || d.ContentType != "image/svg+xml" {
		t.Errorf("logo = %v", d)
	}
	if d := docs["/favicon.ico"]; d == nil || d.ContentType != "image/png" || docs["/favicon.svg"] != nil {
		t.Errorf("the page's own icon is not the one served: %v", d)
	}
	if d := docs["/theme.css"]; d == nil || string(d.Body) != ":root { --accent: #0b5fff; }\n" {
		t.Errorf("theme.css = %v", d)
	}
	index = string(docs["/"].Body)
	for _, want := range []string{`<link rel="stylesheet" href="/theme.css">`, `<link rel="icon" href="/favicon.ico?v=def">`, `<img class="logo" src="/logo?v=abc" alt="">Acme</a>`} {
		if !strings.Contains(index, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

func byPath(t *testing.T, r *Renderer, s *snapshot.Snapshot) map[string]*Doc {
	t.Helper()
	docs, err := r.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*Doc{}
	for i := range docs {
		out[docs[i].Path] = &docs[i]
	}
	return out
}

func sameRGB(c interface{ RGBA() (r, g, b, a uint32) }, r, g, b uint8) bool {
	cr, cg, cb, _ := c.RGBA()
	return uint8(cr>>8) == r && uint8(cg>>8) == g && uint8(cb>>8) == b
}

// A component whose check is probed from several regions shows what each
// region saw last, in words as well as marks; one without shows nothing.
func TestRegionsLine(t *testing.T) {
	r, err := New(func(s string) template.HTML { return template.HTML(template.HTMLEscapeString(s)) })
	if err != nil {
		t.Fatal(err)
	}
	built := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	api := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: "api", Name: "API"}, Status: upstate.Operational},
		Regional: []snapshot.Regional{{CheckID: "api-health", Name: "API health", Regions: []snapshot.RegionReport{
			{Region: "us-west", Outcome: upstate.OutcomeOK, At: built.Add(-10 * time.Second)},
			{Region: "us-east", Outcome: upstate.OutcomeFail, At: built.Add(-20 * time.Second)},
			{Region: "eu"},
		}}}}
	web := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: "web", Name: "Web"}, Status: upstate.Operational}}
	snap := &snapshot.Snapshot{BuiltAt: built, Page: snapshot.Page{Name: "Acme", Location: time.UTC}, Indicator: "none", Components: []*snapshot.Component{api, web},
		Groups: []*snapshot.Group{{ID: "api", Name: "API", Components: []*snapshot.Component{api}, Single: true}, {ID: "web", Name: "Web", Components: []*snapshot.Component{web}, Single: true}}}
	index := string(byPath(t, r, snap)["/"].Body)
	for _, want := range []string{
		`<span class="rcheck">API health:</span>`,
		`<span class="rg rg-ok" title="us-west: up, last result 1 Sep 11:59:50 UTC">us-west <span aria-hidden="true">✓</span><span class="vh">up</span></span>`,
		` · <span class="rg rg-fail" title="us-east: failing, last result 1 Sep 11:59:40 UTC">us-east <span aria-hidden="true">✗</span><span class="vh">failing</span></span>`,
		`<span class="rg rg-none" title="eu: no recent report">eu <span class="rg-word">no recent report</span></span>`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := strings.Count(index, `class="regions"`); n != 1 {
		t.Errorf("%d lines of regions, want one (the web component has no regional check)", n)
	}
}

// A component's bars link to its page, where every day they draw is a row
// of words: what a tooltip tells a mouse, a finger or a keyboard reads
// there.
func TestComponentPageTellsEachDay(t *testing.T) {
	r := newRenderer(t)
	day := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	c := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: "api", Name: "API <v2>", Description: "The public API"},
		Status: upstate.PartialOutage}, Uptime: 0.995, Days: []snapshot.Day{
		{Date: day.AddDate(0, 0, -2), NoData: true, Uptime: -1},
		{Date: day.AddDate(0, 0, -1), Worst: upstate.Operational, Uptime: 1},
		{Date: day, Worst: upstate.MajorOutage, Uptime: 0.9, Outage: time.Hour, Incidents: []string{"Drive <sync> down", "Quota"}},
	}}
	s := &snapshot.Snapshot{BuiltAt: day.Add(12 * time.Hour), Page: snapshot.Page{Name: "Acme", Location: time.UTC}, Components: []*snapshot.Component{c},
		Groups: []*snapshot.Group{{ID: "api", Name: "API", Single: true, Components: []*snapshot.Component{c}}}}
	doc, err := r.RenderComponent(s, c)
	if err != nil {
		t.Fatal(err)
	}
	page := string(doc.Body)
	if doc.Path != "/components/api" || doc.ContentType != ContentTypeHTML {
		t.Errorf("path %q, type %q", doc.Path, doc.ContentType)
	}
	for _, want := range []string{
		`<title>API &lt;v2&gt; · Acme</title>`, `<h1>API &lt;v2&gt;</h1>`, `Partial outage</span> · 99.50% uptime over 3 days`, `The public API`,
		`<svg viewBox="0 0 3 1"`, `<svg class="defs"`,
		// Newest first, each with its words.
		`<tr class="day-m"><th scope="row">Tue Sep 1, 2026</th><td>90.00%</td><td>Major outage</td><td>1 h</td><td>Drive &lt;sync&gt; down; Quota</td></tr>`,
		`<tr class="day-o"><th scope="row">Mon Aug 31, 2026</th><td>100.00%</td><td></td><td></td><td></td></tr>`,
		`<tr class="day-n"><th scope="row">Sun Aug 30, 2026</th><td>no data</td><td></td><td></td><td></td></tr>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the component's page lacks %s:\n%s", want, page)
		}
	}
	if strings.Index(page, "Sep 1") > strings.Index(page, "Aug 30, 2026</th>") {
		t.Error("the days are not newest first")
	}
	index := string(renderIndex(t, r, s))
	if !strings.Contains(index, `<a class="bars" href="/components/api"><svg`) {
		t.Errorf("the page's bars do not link to the component's page:\n%s", index)
	}
}
