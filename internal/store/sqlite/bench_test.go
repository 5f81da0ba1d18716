package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// BenchmarkAppendResults measures the result write path: batches of
// results from 1,000 checks appended and flushed, which commits the raw
// results and writes their hourly and daily rollups. One op is one
// result.
func BenchmarkAppendResults(b *testing.B) {
	db, err := Open(b.Context(), Options{Path: filepath.Join(b.TempDir(), "upstate.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const checks, batch = 1000, 1000
	ids := make([]string, checks)
	for i := range ids {
		ids[i] = fmt.Sprintf("check-%04d", i)
	}
	rs := make([]upstate.Result, batch)
	b.ResetTimer()
	for n := 0; n < b.N; n += batch {
		for i := range rs {
			k := n + i
			rs[i] = upstate.Result{CheckID: ids[k%checks], At: storetestT0.Add(time.Duration(k) * time.Second), Outcome: upstate.OutcomeOK,
				Latency: time.Duration(k%5000) * 100 * time.Microsecond}
		}
		if err := db.AppendResults(b.Context(), rs); err != nil {
			b.Fatal(err)
		}
		if err := db.Flush(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
