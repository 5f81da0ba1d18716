package check

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/anomaly"
	"github.com/upstatehq/upstate/internal/clock"
)

// fakeProm is a Prometheus HTTP API over a per-minute series: query_range
// at any step (each step reads its minute), and instant queries. It
// records the steps asked for, and fails the long reads (a minute's step)
// while down is set.
type fakeProm struct {
	mu     sync.Mutex
	values map[int64]float64 // unix minute → value
	steps  []string
	down   bool
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	if r.URL.Path == "/api/v1/query" {
		at := int64(num(r.Form.Get("time")))
		v, ok := f.values[at/60]
		if !ok {
			w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
			return
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,"%g"]}]}}`, at, v)
		return
	}
	f.steps = append(f.steps, r.Form.Get("step"))
	if f.down && r.Form.Get("step") == "60" {
		w.WriteHeader(503)
		w.Write([]byte(`{"status":"error","errorType":"unavailable","error":"too many queries"}`))
		return
	}
	start, end, step := int64(num(r.Form.Get("start"))), int64(num(r.Form.Get("end"))), int64(num(r.Form.Get("step")))
	var vals []string
	for ts := start; ts <= end; ts += step {
		if v, ok := f.values[ts/60]; ok {
			vals = append(vals, fmt.Sprintf(`[%d,"%g"]`, ts, v))
		}
	}
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[%s]}]}}`, strings.Join(vals, ","))
}

func (f *fakeProm) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *fakeProm) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.steps
	f.steps = nil
	return out
}

// TestMetricLearnsFromPrometheus: a metric check over Prometheus with an
// anomaly rule learns its baseline's days from query_range at a minute's
// step, a chunk a probe, newest first, so it judges from its first probe
// rather than a day later; a Prometheus that cannot answer the long query
// is no verdict on the number, and the check tries again later.
func TestMetricLearnsFromPrometheus(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	s := anomaly.Generate(1, time.Date(2026, 8, 3, 0, 0, 0, 0, la))
	spike := s.Incidents[0].From
	prom := &fakeProm{values: map[int64]float64{}}
	for _, p := range s.Points {
		if p.At.Before(spike.Add(time.Minute)) {
			prom.values[p.At.Unix()/60] = p.Value
		}
	}
	srv := httptest.NewServer(prom)
	defer srv.Close()
	clk := clock.NewFake(spike.Add(-10 * time.Minute))
	m := &Metric{ID: "fw", What: "blocked requests", Unit: "/min", MaxAge: 5 * time.Minute, Clock: clk, Source: "prometheus",
		Series:  &Prometheus{URL: srv.URL, Query: "sum(rate(blocked[1m]))*60", Client: srv.Client(), Timeout: time.Second},
		Anomaly: &anomaly.Detector{Location: la, Weekly: true}}
	ctx := context.Background()

	// Prometheus cannot answer the long query at first: the number is
	// judged all the same, and the baseline says why it waits.
	prom.set(true)
	if r := m.Probe(ctx); !r.OK() {
		t.Fatalf("05:50, learning failed: %q", r.Evidence())
	}
	if got := strings.Join(prom.asked(), ","); got != "15,60" {
		t.Errorf("steps asked = %s, want 15 (the conditions, at Prometheus' own step) then 60 (the baseline)", got)
	}
	b, _ := m.Baseline()
	if b.Judging || b.Learning != "could not read the past from prometheus (trying again at 2026-08-10T12:55:00Z): prometheus: unavailable: too many queries" {
		t.Errorf("learning failed: %+v", b)
	}
	prom.set(false)
	clk.Advance(30 * time.Second)
	m.Probe(ctx)
	if got := strings.Join(prom.asked(), ","); got != "15" {
		t.Errorf("before the retry: steps asked = %s", got)
	}
	// Then the week before, in one read: the baseline judges at once.
	clk.Advance(learnRetry)
	if r := m.Probe(ctx); !r.OK() {
		t.Fatalf("%s: %q", clk.Now().In(la).Format("15:04"), r.Evidence())
	}
	b, _ = m.Baseline()
	if !b.Judging || b.Samples < 60 || b.Learning != "learning the past from prometheus: 6 days of 28 days so far" || b.Source != "prometheus" {
		t.Errorf("after the first chunk: %+v", b)
	}
	// The rest of the 29 days it reads, a chunk a probe.
	for range 4 {
		clk.Advance(30 * time.Second)
		m.Probe(ctx)
	}
	b, _ = m.Baseline()
	if b.Learning != "" || !b.Oldest.Equal(s.Points[0].At.UTC()) || b.Days != 28 {
		t.Errorf("learned: %+v", b)
	}
	if got := strings.Count(strings.Join(prom.asked(), ","), "60"); got != 5 {
		t.Errorf("%d reads at a minute's step, want 5 (29 days in chunks of 10,000 minutes)", got)
	}
	// 06:00: twenty-fold, in the unit the query gives.
	for clk.Now().Before(spike.Add(30 * time.Second)) {
		clk.Advance(30 * time.Second)
	}
	if r := m.Probe(ctx); r.Outcome != upstate.OutcomeFail || !strings.HasPrefix(r.Evidence(), "blocked requests ") || !strings.Contains(r.Evidence(), "/min, usual for Mon 06:00 is ") {
		t.Errorf("spike: %s %q", r.Outcome, r.Evidence())
	}
}

// rewrittenSeries is pushed numbers in memory that history can rewrite.
type rewrittenSeries struct {
	memSeries
	version uint64
}

func (r *rewrittenSeries) Rewritten() uint64 { return r.version }

// TestMetricRereadsPushedHistory: history pushed after a check has read
// its series is read again, so the baseline has it at the next probe.
func TestMetricRereadsPushedHistory(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	s := anomaly.Generate(2, time.Date(2026, 8, 3, 0, 0, 0, 0, la))
	spike := s.Incidents[0].From
	clk := clock.NewFake(spike.Add(-2 * time.Minute))
	series := &rewrittenSeries{}
	m := &Metric{ID: "fw", What: "blocked requests", Unit: "/min", Series: series, MaxAge: 5 * time.Minute, Clock: clk, Source: "pushed",
		Anomaly: &anomaly.Detector{Location: la, Weekly: true}}
	ctx := context.Background()
	m.Probe(ctx)
	if b, _ := m.Baseline(); b.Judging || b.Points != 0 {
		t.Fatalf("nothing pushed: %+v", b)
	}
	for _, p := range s.Points {
		if p.At.Before(clk.Now()) {
			series.points = append(series.points, p)
		}
	}
	m.Probe(ctx)
	if b, _ := m.Baseline(); b.Judging {
		t.Fatalf("history the check was not told of was read: %+v", b)
	}
	series.version++
	clk.Advance(30 * time.Second)
	m.Probe(ctx)
	if b, _ := m.Baseline(); !b.Judging || b.Points != len(series.points) || b.Learning != "" {
		t.Errorf("after history: %+v", b)
	}
	if _, ok := (&Metric{}).Baseline(); ok {
		t.Error("a metric check without an anomaly rule reports a baseline")
	}
}

// TestBaselineDoesNotWaitForAProbe: the admin API's report is read while a
// probe waits on a slow Prometheus (were it to wait, this test would hang).
func TestBaselineDoesNotWaitForAProbe(t *testing.T) {
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	slow := SeriesFunc(func(ctx context.Context, from, to time.Time) ([]upstate.Point, error) {
		close(started)
		<-release
		return nil, nil
	})
	m := &Metric{ID: "fw", What: "blocked requests", Series: slow, MaxAge: 5 * time.Minute, Clock: clock.NewFake(time.Date(2026, 8, 17, 6, 0, 0, 0, time.UTC)),
		Anomaly: &anomaly.Detector{}}
	go func() { m.Probe(context.Background()); close(done) }()
	<-started
	if b, ok := m.Baseline(); !ok || b.Judging || b.Points != 0 {
		t.Errorf("during a probe: %+v", b)
	}
	close(release)
	<-done
}
