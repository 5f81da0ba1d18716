package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// BenchmarkAppendResults measures the result write path as SQLite's
// benchmark of the same name does: batches of results from 1,000 checks
// appended and flushed (the raw results and their hourly and daily
// rollups, one transaction a flush). One op is one result.
func BenchmarkAppendResults(b *testing.B) {
	dsn := freshDatabase(b)
	db, err := Open(b.Context(), Options{DSN: dsn})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 8, 17, 13, 0, 0, 0, time.UTC)
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
			rs[i] = upstate.Result{CheckID: ids[k%checks], At: t0.Add(time.Duration(k) * time.Second), Outcome: upstate.OutcomeOK,
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
