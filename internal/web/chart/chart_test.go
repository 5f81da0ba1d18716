package chart

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestPointsSplitsAtGaps(t *testing.T) {
	got := Points([]float64{0, 0.5, 1}, []float64{0, math.NaN(), 10}, 100, 20, 10, 0)
	if len(got) != 2 || got[0] != "0.0,20.0" || got[1] != "100.0,0.0" {
		t.Errorf("runs = %q", got)
	}
}

func TestLatencyChart(t *testing.T) {
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	starts := []time.Time{t0, t0.Add(time.Hour), t0.Add(2 * time.Hour), t0.Add(3 * time.Hour)}
	svg := string(Latency(`Response time of <script>alert(1)</script>`, "p50 & p95", starts, time.Hour, []Series{
		{Name: "p95", Class: "p95", Values: []time.Duration{200 * time.Millisecond, 300 * time.Millisecond, -1, 250 * time.Millisecond}},
		{Name: "p50", Class: "p50", Values: []time.Duration{50 * time.Millisecond, 60 * time.Millisecond, -1, 55 * time.Millisecond}},
	}, func(t time.Time) string { return t.Format("15:04") }))
	for _, want := range []string{`<svg class="chart"`, `role="img"`, `&lt;script&gt;`, "p50 &amp; p95", `<polyline class="p95"`, `<circle class="p50"`, ">300 ms<", ">00:00<", ">03:00<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<script>") {
		t.Error("the title is not escaped")
	}
	// Two lines, each broken by the gap: one polyline and one lone dot each.
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Errorf("%d polylines, want 2", n)
	}
	if Latency("t", "d", nil, time.Hour, nil, nil) != "" {
		t.Error("a chart of nothing")
	}
}
