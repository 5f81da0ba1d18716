// Package chart draws the server-rendered SVG charts of the public page
// (latency sparklines) and the admin's check page (p50/p95 latency):
// only numbers and escaped text go into the markup, so the result is safe
// to put in a page as it is, and it needs no script.
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Points maps values onto a w×h box as SVG polyline points, one string
// per unbroken run: a NaN value is a gap. xs are 0..1 across, ys are
// scaled to top (the box's top edge), pad keeps lines off the edges.
func Points(xs, ys []float64, w, h, top, pad float64) []string {
	if top <= 0 {
		top = 1
	}
	var runs []string
	var b strings.Builder
	for i := range xs {
		if math.IsNaN(ys[i]) {
			if b.Len() > 0 {
				runs = append(runs, b.String())
				b.Reset()
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", xs[i]*w, h-pad-ys[i]/top*(h-2*pad))
	}
	if b.Len() > 0 {
		runs = append(runs, b.String())
	}
	return runs
}

// Series is one line of a latency chart.
type Series struct {
	Name   string          // "p95"
	Class  string          // its CSS class
	Values []time.Duration // one per bucket; negative for no data
}

// Latency draws a chart of latency lines over buckets starting at
// starts, each step long, with the y axis from 0 to the largest value
// and the x axis labelled by label(t). title and desc say what it shows,
// for screen readers (and as the SVG's tooltip).
func Latency(title, desc string, starts []time.Time, step time.Duration, series []Series, label func(time.Time) string) template.HTML {
	const w, h, left, bottom, pad = 640.0, 200.0, 56.0, 22.0, 4.0
	n := len(starts)
	if n == 0 {
		return ""
	}
	var top time.Duration
	for _, s := range series {
		for _, v := range s.Values {
			top = max(top, v)
		}
	}
	if top <= 0 {
		top = time.Millisecond
	}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = (float64(i) + 0.5) / float64(n)
	}
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title chart-desc">`, w, h)
	fmt.Fprintf(&b, `<title id="chart-title">%s</title><desc id="chart-desc">%s</desc>`, esc(title), esc(desc))
	plotW, plotH := w-left, h-bottom
	// Axes and the y labels: 0, half, top.
	fmt.Fprintf(&b, `<g class="axis"><line x1="%.0f" y1="0" x2="%.0f" y2="%.0f"/><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/>`, left, left, plotH, left, plotH, w, plotH)
	for _, f := range []float64{0, 0.5, 1} {
		y := plotH - pad - f*(plotH-2*pad)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`, left-4, y+4, esc(upstate.FormatLatency(time.Duration(f*float64(top)))))
	}
	for _, i := range []int{0, n / 2, n - 1} {
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case n - 1:
			anchor = "end"
		}
		x := left + xs[i]*plotW
		if i == 0 {
			x = left
		} else if i == n-1 {
			x = w
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="%s">%s</text>`, x, h-6, anchor, esc(label(starts[i])))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<g transform="translate(%.0f 0)">`, left)
	for _, s := range series {
		ys := make([]float64, n)
		for i, v := range s.Values {
			ys[i] = float64(v)
			if v < 0 {
				ys[i] = math.NaN()
			}
		}
		for _, pts := range Points(xs, ys, plotW, plotH, float64(top), pad) {
			if !strings.Contains(pts, " ") { // a lone point: a dot, so it shows
				fmt.Fprintf(&b, `<circle class="%s" r="2.5" cx="%s" cy="%s"/>`, esc(s.Class), strings.Split(pts, ",")[0], strings.Split(pts, ",")[1])
				continue
			}
			fmt.Fprintf(&b, `<polyline class="%s" points="%s"><title>%s</title></polyline>`, esc(s.Class), pts, esc(s.Name))
		}
	}
	b.WriteString(`</g></svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text only
}
