package check

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

func TestForecast(t *testing.T) {
	t0 := time.Date(2026, 8, 20, 7, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	// 100 calls a minute with noise, from 6,000 of 10,000: 40 minutes left.
	var ps []upstate.Point
	for i := range 30 {
		ps = append(ps, upstate.Point{At: t0.Add(time.Duration(i) * time.Minute), Value: 6000 - 2900 + float64(i)*100 + r.NormFloat64()*20})
	}
	left, ok := Forecast(ps, 10000)
	if !ok || left < 39*time.Minute || left > 41*time.Minute {
		t.Errorf("forecast = %s, %v, want about 40 min", left, ok)
	}
	// A reset: only the points after it count.
	reset := append([]upstate.Point{{At: t0.Add(-2 * time.Minute), Value: 9990}, {At: t0.Add(-time.Minute), Value: 9995}}, ps...)
	reset[2].Value = 10 // the first point after midnight's reset
	if left, ok := Forecast(reset[2:], 10000); !ok || left <= 0 {
		t.Errorf("after a reset: %s %v", left, ok)
	}
	flat := []upstate.Point{{At: t0, Value: 5}, {At: t0.Add(time.Minute), Value: 5}, {At: t0.Add(2 * time.Minute), Value: 5}}
	if _, ok := Forecast(flat, 100); ok {
		t.Error("a flat usage has no exhaustion")
	}
	if _, ok := Forecast(ps[:2], 10000); ok {
		t.Error("two points are too few")
	}
	if left, ok := Forecast([]upstate.Point{{At: t0, Value: 90}, {At: t0.Add(time.Minute), Value: 100}, {At: t0.Add(2 * time.Minute), Value: 120}}, 100); !ok || left != 0 {
		t.Errorf("already over: %s %v", left, ok)
	}
}

func TestQuotaProbe(t *testing.T) {
	t0 := time.Date(2026, 8, 20, 7, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	usage, errs := &memSeries{}, &memSeries{}
	q := &Quota{ID: "classroom", What: "classroom API quota", Usage: usage, Limit: 10000, Errors: errs, ErrorsAbove: 5, WarnAt: 0.8, FailAt: 1,
		Window: 30 * time.Minute, WarnWithin: time.Hour, MaxAge: 5 * time.Minute, Clock: clk}
	step := func(v float64) {
		usage.points = append(usage.points, upstate.Point{At: clk.Now(), Value: v})
		clk.Advance(time.Minute)
	}
	for i := range 10 {
		step(1000 + float64(i)*10)
	}
	if r := q.Probe(context.Background()); !r.OK() {
		t.Errorf("slow use: %q", r.Evidence())
	}
	for i := range 10 {
		step(6000 + float64(i)*100) // a sync job starts: 100 a minute
	}
	r := q.Probe(context.Background())
	if r.Outcome != upstate.OutcomeSlow || !strings.Contains(r.Evidence(), "runs out in about") {
		t.Errorf("forecast: %s %q", r.Outcome, r.Evidence())
	}
	for i := range 5 {
		step(8500 + float64(i)*100)
	}
	if r := q.Probe(context.Background()); r.Outcome != upstate.OutcomeSlow || !strings.HasPrefix(r.Evidence(), "classroom API quota 8,900 of 10,000 used (89%)") {
		t.Errorf("warn: %q", r.Evidence())
	}
	step(10000)
	if r := q.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || r.Evidence() != "classroom API quota 10,000 of 10,000 used (100%)" {
		t.Errorf("used up: %q", r.Evidence())
	}
	errs.points = append(errs.points, upstate.Point{At: clk.Now().Add(-30 * time.Second), Value: 42})
	if r := q.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Evidence(), "errors: 42 a minute") {
		t.Errorf("429 burst: %q", r.Evidence())
	}
}
