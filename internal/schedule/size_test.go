package schedule

import (
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/upstatehq/upstate/internal/benchheap"
	"github.com/upstatehq/upstate/internal/clock"
)

// BenchmarkApply100k measures what the scheduler keeps per check (its
// entry, the heap's slot, the index by id) when 100,000 jobs are applied,
// and what applying them allocates in all (kept or not): issue 16's
// budget is 100,000 checks under 400 MiB.
func BenchmarkApply100k(b *testing.B) {
	const n = 100_000
	jobs := make([]Job, n)
	for i := range jobs {
		id := fmt.Sprintf("check-%06d", i)
		jobs[i] = Job{ID: id, Interval: time.Minute, Prober: prober(id)}
	}
	var kept, total uint64
	for range b.N {
		s, err := New(Options{Clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), Sink: (&recorder{}).sink})
		if err != nil {
			b.Fatal(err)
		}
		before := benchheap.Live()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		s.Update(jobs)
		runtime.ReadMemStats(&m1)
		kept += benchheap.Live() - before
		total += m1.TotalAlloc - m0.TotalAlloc
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(kept)/float64(b.N)/n, "kept-B/check")
	b.ReportMetric(float64(total)/float64(b.N)/n, "alloc-B/check")
}

// The scheduler keeps one entry per check: at 100,000 checks each byte of
// it is 100 kB (issue 16: 100,000 checks under 400 MiB). Four time.Time
// and five bools made it 128 bytes; int64 offsets, flag bits and an int32
// index make it 48, the size class it fills. A field added here should
// say why it is worth 100 kB per byte.
func TestEntryStaysSmall(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n > 48 {
		t.Errorf("entry is %d bytes, want at most 48", n)
	}
}

// Offsets saturate as time.Time's Add and Sub do, so a far-off time never
// wraps round to the past.
func TestOffsetsSaturate(t *testing.T) {
	const maxD, minD = time.Duration(math.MaxInt64), time.Duration(math.MinInt64)
	if got := add(math.MaxInt64-1, time.Hour); got != math.MaxInt64 {
		t.Errorf("add up = %d", got)
	}
	if got := add(math.MinInt64+1, -time.Hour); got != math.MinInt64 {
		t.Errorf("add down = %d", got)
	}
	if got := add(never, time.Minute); got != never+int64(time.Minute) {
		t.Errorf("add from never = %d", got)
	}
	if got := sub(none, -1); got != maxD {
		t.Errorf("sub up = %v", got)
	}
	if got := sub(never, 1); got != minD {
		t.Errorf("sub down = %v", got)
	}
	if got := sub(5, 7); got != -2 {
		t.Errorf("sub = %v", got)
	}
}
