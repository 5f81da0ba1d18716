package store

import (
	"testing"
	"time"
)

func TestLatenciesQuantile(t *testing.T) {
	var l Latencies
	// 100 results: 90 at 40 ms (the 30–50 ms bin), 10 at 700 ms (500–800 ms).
	for range 90 {
		l.Add(40 * time.Millisecond)
	}
	for range 10 {
		l.Add(700 * time.Millisecond)
	}
	if l.Total() != 100 {
		t.Fatalf("total %d", l.Total())
	}
	p50, ok := l.Quantile(0.5, 700*time.Millisecond)
	if !ok || p50 <= 30*time.Millisecond || p50 > 50*time.Millisecond {
		t.Errorf("p50 = %v, want within the 30–50 ms bin", p50)
	}
	p95, _ := l.Quantile(0.95, 700*time.Millisecond)
	if p95 <= 500*time.Millisecond || p95 > 700*time.Millisecond {
		t.Errorf("p95 = %v, want within 500 ms and the max, 700 ms", p95)
	}
	if _, ok := (Latencies{}).Quantile(0.5, 0); ok {
		t.Error("an empty histogram has a quantile")
	}
	for _, c := range []struct {
		d   time.Duration
		bin int
	}{{0, 0}, {time.Millisecond, 0}, {1200 * time.Microsecond, 1}, {60 * time.Second, 23}, {61 * time.Second, 24}} {
		if got := BinOf(c.d); got != c.bin {
			t.Errorf("BinOf(%v) = %d, want %d", c.d, got, c.bin)
		}
	}
	var sum Latencies
	sum.Plus(l)
	sum.Plus(l)
	if sum.Total() != 200 || sum[BinOf(40*time.Millisecond)] != 180 {
		t.Errorf("sum = %v", sum)
	}
}
