package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

func TestSLOBurn(t *testing.T) {
	t0 := time.Date(2026, 8, 17, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	good, total := &memSeries{}, &memSeries{}
	var g, n float64
	minute := func(requests, errors float64) {
		n += requests
		g += requests - errors
		good.points = append(good.points, upstate.Point{At: clk.Now(), Value: g})
		total.points = append(total.points, upstate.Point{At: clk.Now(), Value: n})
		clk.Advance(time.Minute)
	}
	s := &SLO{ID: "api", What: "API availability", Good: good, Total: total, Objective: 0.999, Period: 30 * 24 * time.Hour, Burns: DefaultBurns(), Clock: clk}
	for range 3 * 24 * 60 { // three healthy days: 0.01% errors
		minute(1000, 0.1)
	}
	if r := s.Probe(context.Background()); !r.OK() || !strings.Contains(r.Evidence(), "is within its objective: 90.0% of the error budget left") {
		t.Errorf("healthy: %q", r.Evidence())
	}
	// A slow leak: 0.3% errors (three times the budget's pace) for a day
	// is a ticket, not a page.
	for range 24 * 60 {
		minute(1000, 3)
	}
	b, _ := s.Status(context.Background())
	if r := s.Probe(context.Background()); r.Outcome != upstate.OutcomeSlow {
		t.Errorf("slow burn: %s %q (burns %v)", r.Outcome, r.Evidence(), b.Burn)
	}
	// The database lock: 25% of requests fail. Five minutes of it pages.
	for range 5 {
		minute(1000, 250)
	}
	r := s.Probe(context.Background())
	if r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Evidence(), "API availability is burning its error budget") || !strings.Contains(r.Evidence(), "of 99.9% over 720 h") {
		t.Errorf("fast burn: %s %q", r.Outcome, r.Evidence())
	}
	// A counter reset (a restart of the app) is not a burst of good events.
	g, n = 0, 0
	minute(1000, 0)
	if b, _ := s.Status(context.Background()); b.Total < 3*24*60*1000 {
		t.Errorf("the reset lost the period's events: %v", b.Total)
	}
}
