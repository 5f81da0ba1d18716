package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store/sqlcore"
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

// BenchmarkRollupWrite measures the rollups' share of the write path
// alone: one minute's upserts of 1,000 checks' hourly and daily buckets,
// each bucket's results in three latency bins, in one transaction. One op
// is one bucket upserted.
func BenchmarkRollupWrite(b *testing.B) {
	db, err := Open(b.Context(), Options{Path: filepath.Join(b.TempDir(), "upstate.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	agg := sqlcore.NewPending(1000)
	for i := range 1000 {
		rs := make([]upstate.Result, 0, 3)
		for _, ms := range []int{40, 90, 250} {
			rs = append(rs, upstate.Result{CheckID: fmt.Sprintf("check-%04d", i), At: storetestT0, Outcome: upstate.OutcomeOK, Latency: time.Duration(ms) * time.Millisecond})
		}
		agg.Add(rs)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n += agg.Len() {
		tx, err := db.write.BeginTx(b.Context(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := writeRollups(b.Context(), tx, agg); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
