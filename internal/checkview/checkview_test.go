package checkview

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

var now = time.Date(2026, 9, 1, 12, 30, 0, 0, time.UTC)

func views(t *testing.T, src Source, live map[string]Live) *Views {
	t.Helper()
	v, err := New(Options{Source: src, Now: func() time.Time { return now },
		Checks: func() []upstate.CheckInfo {
			return []upstate.CheckInfo{
				{Spec: upstate.CheckSpec{ID: "api", Name: "API", Kind: "http", Components: []string{"api"}}, Target: "https://api.example.com/health", Provisioned: true, File: "upstate.yaml"},
				{Spec: upstate.CheckSpec{ID: "beat", Kind: "heartbeat", Components: []string{"jobs"}}, Provisioned: true, File: "upstate.yaml"},
			}
		},
		Live: func(id string) (Live, bool) { l, ok := live[id]; return l, ok },
		Told: func(kind string) bool { return kind == "heartbeat" }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A check with known latencies through the real store: p50 and p95 per
// bucket, uptime over each period, the last results and error, the cert
// days, the incident it opened.
func TestReportFigures(t *testing.T) {
	db, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "upstate.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hour := now.Truncate(time.Hour).Add(-2 * time.Hour) // 10:00
	var rs []upstate.Result
	for i := range 20 {
		r := upstate.Result{CheckID: "api", At: hour.Add(time.Duration(i) * time.Minute), Outcome: upstate.OutcomeOK, Latency: 40 * time.Millisecond, StatusCode: 200}
		if i >= 10 {
			r.Latency = 700 * time.Millisecond
		}
		if i == 15 || i == 18 {
			r.Outcome, r.StatusCode, r.Error = upstate.OutcomeFail, 500, "status 500"
		}
		rs = append(rs, r)
	}
	for i := range 10 { // ten days ago, all failing: only the 30 d figures see them
		rs = append(rs, upstate.Result{CheckID: "api", At: now.Add(-10*24*time.Hour + time.Duration(i)*time.Minute), Outcome: upstate.OutcomeFail, Latency: time.Second})
	}
	if err := db.AppendResults(t.Context(), rs); err != nil {
		t.Fatal(err)
	}
	created := hour.Add(16 * time.Minute)
	in := &upstate.Incident{ID: "inc1", Name: "API is down", Status: upstate.Investigating, Impact: upstate.ImpactMajor, Components: []string{"api"}, Auto: true, CreatedAt: created, UpdatedAt: created}
	other := &upstate.Incident{ID: "inc2", Name: "Jobs late", Status: upstate.Investigating, Components: []string{"api"}, Auto: true, CreatedAt: created, UpdatedAt: created}
	if err := db.Apply(t.Context(), store.Change{Incidents: []*upstate.Incident{in, other}, Entries: []upstate.TimelineEntry{
		{ID: "e1", IncidentID: "inc1", At: created, Status: upstate.Investigating, Body: "API (api) is failing since 10:15; latest: HTTP 500.", Actor: upstate.ActorUpstate},
		{ID: "e2", IncidentID: "inc2", At: created, Status: upstate.Investigating, Body: "Check beat is failing since 10:15.", Actor: upstate.ActorUpstate},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	expires := now.Add(29*24*time.Hour + 20*time.Hour)
	v := views(t, db, map[string]Live{"api": {Condition: upstate.Condition{CheckID: "api", State: upstate.StateDown, Since: hour.Add(15 * time.Minute)}, CertExpiry: expires}})

	rep, err := v.Report(t.Context(), "api", "24h")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Known || rep.Condition.State != upstate.StateDown || rep.Info.Target != "https://api.example.com/health" {
		t.Errorf("state = %+v %+v", rep.Condition, rep.Info)
	}
	if len(rep.Buckets) != 24 {
		t.Fatalf("%d buckets, want 24", len(rep.Buckets))
	}
	// 10:00 is the 22nd of 24 hourly buckets ending with 12:00.
	b := rep.Buckets[21]
	if !b.Start.Equal(hour) || b.Count != 20 || b.Fail != 2 || b.FromMean {
		t.Fatalf("bucket = %+v", b)
	}
	// p50: rank 10 of 20 is the top of the 30–50 ms bin; p95: rank 19 is
	// in the 500–800 ms bin, never above the largest seen (700 ms).
	if b.P50 != 50*time.Millisecond || b.P95 != 700*time.Millisecond {
		t.Errorf("p50 %v p95 %v, want 50ms and 700ms", b.P50, b.P95)
	}
	if rep.Buckets[20].Count != 0 || rep.Buckets[23].Count != 0 {
		t.Error("empty hours have results")
	}
	want := map[string]float64{"24h": 18.0 / 20, "7d": 18.0 / 20, "30d": 18.0 / 30}
	for _, u := range rep.Uptime {
		if u.Ratio() != want[u.Period] {
			t.Errorf("uptime %s = %v (%d/%d), want %v", u.Period, u.Ratio(), u.Up, u.Count, want[u.Period])
		}
	}
	if len(rep.Results) != LastResults || !rep.Results[0].At.Equal(hour.Add(19*time.Minute)) {
		t.Errorf("last results: %d, newest %v", len(rep.Results), rep.Results[0].At)
	}
	if rep.LastError == nil || !rep.LastError.At.Equal(hour.Add(18*time.Minute)) || rep.LastError.Evidence() != "HTTP 500 after 700 ms: status 500" {
		t.Errorf("last error = %+v", rep.LastError)
	}
	if rep.CertDays == nil || *rep.CertDays != 29 {
		t.Errorf("cert days = %v, want 29", rep.CertDays)
	}
	if len(rep.Opened) != 1 || rep.Opened[0].ID != "inc1" {
		t.Errorf("opened = %+v, want inc1 only", rep.Opened)
	}

	rep, err = v.Report(t.Context(), "api", "30d")
	if err != nil {
		t.Fatal(err)
	}
	// 120 buckets of 6 hours ending with 12:00–18:00: 10:00 is in the
	// one before; ten days ago (02:30) 40 buckets earlier, in 00:00–06:00.
	if len(rep.Buckets) != 120 || rep.Buckets[118].Count != 20 || rep.Buckets[79].Count != 10 || rep.Buckets[118].P50 != 50*time.Millisecond {
		t.Errorf("30d buckets: %d, this morning %+v, ten days ago %+v", len(rep.Buckets), rep.Buckets[118], rep.Buckets[79])
	}
	if !rep.Buckets[118].Start.Equal(time.Date(2026, 9, 1, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("30d bucket 118 starts %v, want 06:00", rep.Buckets[118].Start)
	}
	if rep, err = v.Report(t.Context(), "api", "7d"); err != nil || len(rep.Buckets) != 42 {
		t.Errorf("7d: %d buckets, %v", len(rep.Buckets), err)
	}
	if _, err := v.Report(t.Context(), "nope", ""); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("unknown check: %v", err)
	}
	if _, err := v.Report(t.Context(), "api", "1y"); upstate.ErrorCode(err) != upstate.EINVALID {
		t.Errorf("unknown period: %v", err)
	}
	list, err := v.List(t.Context())
	if err != nil || len(list) != 2 || list[0].Uptime24h.Ratio() != 0.9 || !list[1].Told || list[1].Known {
		t.Errorf("list = %+v, %v", list, err)
	}
}

// Rollups stored before the histogram was kept chart their mean.
func TestBucketsWithoutHistogram(t *testing.T) {
	from := now.Truncate(time.Hour)
	var h store.Latencies
	h.Add(10 * time.Millisecond)
	got := buckets([]store.Rollup{
		{Start: from, Count: 4, LatencySum: 400 * time.Millisecond, LatencyMax: 200 * time.Millisecond},
		{Start: from.Add(time.Hour), Count: 1, LatencySum: 10 * time.Millisecond, LatencyMax: 10 * time.Millisecond, Latencies: h},
	}, from, time.Hour, 2)
	if b := got[0]; !b.FromMean || b.P50 != 100*time.Millisecond || b.P95 != 100*time.Millisecond {
		t.Errorf("old bucket = %+v", b)
	}
	if b := got[1]; b.FromMean || b.P95 != 10*time.Millisecond {
		t.Errorf("new bucket = %+v", b)
	}
}
