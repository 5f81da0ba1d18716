// Package embed renders what other pages embed: SVG status and uptime
// badges, a compact status page made to sit in an iframe, and the
// widget script and stylesheet an app includes once. Badges and the page
// are rendered from each snapshot like the rest of the public side.
package embed

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/snapshot"
	"github.com/upstatehq/upstate/internal/web/statusapi"
)

// Doc is one rendered document.
type Doc = statusapi.Doc

// Widget is the widget script, served at /widget.js. It adds its
// stylesheet, /widget.css, itself.
//
//go:embed static/widget.js
var Widget string

// WidgetCSS is the widget's stylesheet: classes only, themed by CSS
// variables, so a strict Content-Security-Policy needs no inline styles.
//
//go:embed static/widget.css
var WidgetCSS string

// Loader is the snippet an app puts in its own page, inline or as a file
// on its own origin, to load the widget: it defines a queueing
// Upstate.status() at once and fetches widget.js after the page's load
// event. The status page does not serve it: loaded from there it would
// hold the page, as the script it defers would.
//
//go:embed static/loader.js
var Loader string

//go:embed embed.html
var embedHTML string

// Periods are the uptime badges' periods, in days.
func Periods() []int { return []int{7, 30, 90} }

// colours of badge values.
var colours = map[upstate.Status]string{
	upstate.Operational: "#2e9e5b", upstate.DegradedPerformance: "#d9a300", upstate.PartialOutage: "#e8720c",
	upstate.MajorOutage: "#d93b3b", upstate.UnderMaintenance: "#3d7dd8",
}

var indicatorStatus = map[string]upstate.Status{
	"none": upstate.Operational, "minor": upstate.DegradedPerformance, "major": upstate.PartialOutage,
	"critical": upstate.MajorOutage, "maintenance": upstate.UnderMaintenance,
}

// Render makes the badges and the compact page for a snapshot:
// /badges/status.svg, /badges/uptime-30d.svg, /badges/{component}.svg,
// /badges/{component}/uptime-30d.svg (7d, 30d and 90d too) and /embed.
func Render(s *snapshot.Snapshot) ([]Doc, error) {
	var docs []Doc
	overall := indicatorStatus[s.Indicator]
	docs = append(docs, badge("/badges/status.svg", "status", strings.ToLower(s.Description), colours[overall]))
	for _, days := range Periods() {
		var sum float64
		n := 0
		for _, c := range s.Components {
			if u, ok := uptime(c, days); ok {
				sum += u
				n++
			}
		}
		path := fmt.Sprintf("/badges/uptime-%dd.svg", days)
		if n == 0 {
			docs = append(docs, badge(path, fmt.Sprintf("uptime %dd", days), "no data", "#9aa5b1"))
		} else {
			docs = append(docs, uptimeBadge(path, fmt.Sprintf("uptime %dd", days), sum/float64(n)))
		}
	}
	for _, c := range s.Components {
		docs = append(docs, badge("/badges/"+c.ID+".svg", c.Name, strings.ToLower(c.Status.Label()), colours[c.Status]))
		for _, days := range Periods() {
			path := fmt.Sprintf("/badges/%s/uptime-%dd.svg", c.ID, days)
			label := fmt.Sprintf("%s %dd", c.Name, days)
			if u, ok := uptime(c, days); ok {
				docs = append(docs, uptimeBadge(path, label, u))
			} else {
				docs = append(docs, badge(path, label, "no data", "#9aa5b1"))
			}
		}
	}
	page, err := compact(s)
	if err != nil {
		return nil, err
	}
	return append(docs, page), nil
}

// uptime is a component's uptime over its last days, where known.
func uptime(c *snapshot.Component, days int) (float64, bool) {
	var sum float64
	n := 0
	for i := max(len(c.Days)-days, 0); i < len(c.Days); i++ {
		if d := c.Days[i]; !d.NoData && d.Uptime >= 0 {
			sum += d.Uptime
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

func uptimeBadge(path, label string, u float64) Doc {
	colour := colours[upstate.Operational]
	switch {
	case u < 0.99:
		colour = colours[upstate.MajorOutage]
	case u < 0.995:
		colour = colours[upstate.PartialOutage]
	case u < 0.999:
		colour = colours[upstate.DegradedPerformance]
	}
	return badge(path, label, pct(u), colour)
}

func pct(u float64) string {
	if u >= 1 {
		return "100%"
	}
	return fmt.Sprintf("%.2f%%", math.Floor(u*10000)/100)
}

// textWidth estimates the width of 11px Verdana text, as badges are
// drawn without measuring fonts.
func textWidth(s string) int {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("ijlt.,:;|!'", r):
			w += 3.5
		case strings.ContainsRune("mwMW%", r):
			w += 10
		case r >= 'A' && r <= 'Z':
			w += 7.5
		default:
			w += 6.6
		}
	}
	return int(math.Ceil(w))
}

// badge draws a two-part badge: a grey label and a coloured value,
// readable by screen readers (role img, a title). It is built by hand, not
// with fmt: a thousand-component page has four thousand of them to draw
// on every snapshot.
func badge(path, label, value, colour string) Doc {
	lw, vw := textWidth(label)+12, textWidth(value)+12
	l, v := template.HTMLEscapeString(label), template.HTMLEscapeString(value)
	tw, lx, vx := strconv.Itoa(lw+vw), strconv.Itoa(lw/2), strconv.Itoa(lw+vw/2)
	var b strings.Builder
	b.Grow(900 + 4*(len(l)+len(v)))
	for _, part := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" width="`, tw, `" height="20" role="img" aria-label="`, l, `: `, v, `">`,
		`<title>`, l, `: `, v, `</title>`,
		`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`,
		`<clipPath id="r"><rect width="`, tw, `" height="20" rx="3" fill="#fff"/></clipPath>`,
		`<g clip-path="url(#r)"><rect width="`, strconv.Itoa(lw), `" height="20" fill="#555"/><rect x="`, strconv.Itoa(lw), `" width="`, strconv.Itoa(vw),
		`" height="20" fill="`, colour, `"/><rect width="`, tw, `" height="20" fill="url(#s)"/></g>`,
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`,
		`<text x="`, lx, `" y="15" fill="#010101" fill-opacity=".3">`, l, `</text><text x="`, lx, `" y="14">`, l, `</text>`,
		`<text x="`, vx, `" y="15" fill="#010101" fill-opacity=".3">`, v, `</text><text x="`, vx, `" y="14">`, v, `</text></g></svg>`,
	} {
		b.WriteString(part)
	}
	return Doc{Path: path, ContentType: "image/svg+xml", Body: []byte(b.String())}
}

var compactTmpl = template.Must(template.New("embed").Funcs(template.FuncMap{
	"label": func(s upstate.Status) string { return s.Label() },
}).Parse(embedHTML))

// compact is the iframe-able page: the overall status, the components
// and what is going on, in a few lines.
func compact(s *snapshot.Snapshot) (Doc, error) {
	var b bytes.Buffer
	if err := compactTmpl.Execute(&b, s); err != nil {
		return Doc{}, fmt.Errorf("render the compact page: %w", err)
	}
	return Doc{Path: "/embed", ContentType: "text/html; charset=utf-8", Body: b.Bytes()}, nil
}
