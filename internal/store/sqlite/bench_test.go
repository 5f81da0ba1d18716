package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
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

// BenchmarkRenderStale is RenderStale over entries another renderer
// version kept HTML for (an upgrade): 10,000 and 100,000 entries of a
// sentence of Markdown each, made stale and rendered again in each op;
// rows/s is what an upgrade renders at start, the same at both sizes if
// each batch is found by its key.
func BenchmarkRenderStale(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			db, err := Open(b.Context(), Options{Path: filepath.Join(b.TempDir(), "upstate.db")})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for i := range n / 500 {
				in := &upstate.Incident{ID: fmt.Sprintf("inc%05d", i), Name: "API down", Status: upstate.Resolved, Impact: upstate.ImpactMajor,
					CreatedAt: storetestT0, UpdatedAt: storetestT0, StartedAt: storetestT0, DetectedAt: storetestT0}
				c := store.Change{Incidents: []*upstate.Incident{in}}
				for j := range 500 {
					c.Entries = append(c.Entries, upstate.TimelineEntry{ID: fmt.Sprintf("%s-%03d", in.ID, j), IncidentID: in.ID, At: storetestT0.Add(time.Duration(j) * time.Second),
						Status: upstate.Identified, Public: true, Actor: "Sam", Body: fmt.Sprintf("**API down**: update %d. About %d%% of requests answer HTTP 500; see `runbook/%d`.", j, j%90, i)})
				}
				if err := db.Apply(b.Context(), c); err != nil {
					b.Fatal(err)
				}
			}
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				if err := db.exec(b.Context(), func(tx *sql.Tx) error {
					_, err := tx.Exec(`UPDATE incident_updates SET html_v = 'older'`)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t := time.Now()
				if got, err := db.RenderStale(b.Context()); err != nil || got != n {
					b.Fatal(got, err)
				}
				took += time.Since(t)
			}
			b.ReportMetric(float64(n*b.N)/took.Seconds(), "rows/s")
		})
	}
}
