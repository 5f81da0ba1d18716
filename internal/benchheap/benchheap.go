// Package benchheap is what benchmarks measure the heap with: what is
// live once the collector has run, and the most it held while a
// benchmark ran. Only tests import it.
package benchheap

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// Live is the live heap once the collector has run (twice: what the
// first frees a finalizer may still hold).
func Live() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Peak samples the heap every millisecond from now until the function it
// returns is called, which reports as peak-heap-MiB the most the heap
// held beyond what it held at the start (after a collection): B/op
// counts every byte allocated, this what the process needed at once.
func Peak(b *testing.B) func() {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base, peak := read(), uint64(0)
	stop, done := make(chan struct{}), sync.WaitGroup{}
	done.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	return func() {
		close(stop)
		done.Wait()
		b.ReportMetric(float64(peak-min(base, peak))/(1<<20), "peak-heap-MiB")
	}
}
