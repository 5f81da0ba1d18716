package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/anomaly"
	"github.com/upstatehq/upstate/internal/clock"
)

// memSeries is pushed numbers in memory.
type memSeries struct{ points []upstate.Point }

func (m *memSeries) Points(_ context.Context, from, to time.Time) ([]upstate.Point, error) {
	var out []upstate.Point
	for _, p := range m.points {
		if !p.At.Before(from) && p.At.Before(to) {
			out = append(out, p)
		}
	}
	return out, nil
}

func f(v float64) *float64 { return &v }

func TestMetricThresholdsAndChange(t *testing.T) {
	t0 := time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	s := &memSeries{}
	m := &Metric{ID: "latency", What: "p95 latency", Unit: " ms", Series: s, Above: f(12000), DegradedAbove: f(2000),
		Change: &Change{Percent: 300, Over: 10 * time.Minute}, MaxAge: 5 * time.Minute, Clock: clk}
	push := func(v float64) {
		s.points = append(s.points, upstate.Point{At: clk.Now().Truncate(time.Minute), Value: v})
	}
	if r := m.Probe(context.Background()); !r.OK() || r.Evidence() != "has no recent data" {
		t.Errorf("no data: %+v %q", r, r.Evidence())
	}
	for range 12 {
		push(400)
		clk.Advance(time.Minute)
	}
	if r := m.Probe(context.Background()); !r.OK() || r.Evidence() != "reads p95 latency 400 ms" {
		t.Errorf("normal: %q", r.Evidence())
	}
	push(2500)
	clk.Advance(30 * time.Second)
	if r := m.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || r.Evidence() != "p95 latency 2,500 ms rose 525% in 10 min (from 400 ms)" {
		t.Errorf("jump: %s %q", r.Outcome, r.Evidence())
	}
	for range 12 {
		clk.Advance(time.Minute)
		push(2500)
	}
	if r := m.Probe(context.Background()); r.Outcome != upstate.OutcomeSlow || r.Evidence() != "p95 latency 2,500 ms is above 2,000 ms" {
		t.Errorf("degraded: %s %q", r.Outcome, r.Evidence())
	}
	clk.Advance(time.Minute)
	push(12500)
	if r := m.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || r.Evidence() != "p95 latency 12,500 ms is above 12,000 ms" {
		t.Errorf("failing: %q", r.Evidence())
	}
	clk.Advance(10 * time.Minute)
	m.NoDataFails = true
	if r := m.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Evidence(), "no p95 latency data for 5 min") {
		t.Errorf("stale with no_data: fail: %q", r.Evidence())
	}
}

func TestMetricAnomaly(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	s := anomaly.Generate(1, time.Date(2026, 8, 3, 0, 0, 0, 0, la))
	spike := s.Incidents[0].From
	series := &memSeries{}
	for _, p := range s.Points {
		if p.At.Before(spike.Add(time.Minute)) {
			series.points = append(series.points, p)
		}
	}
	clk := clock.NewFake(spike.Add(-30 * time.Minute))
	m := &Metric{ID: "fw", What: "blocked requests", Unit: "/min", Series: series, MaxAge: 5 * time.Minute, Clock: clk,
		Anomaly: &anomaly.Detector{Location: la, Weekly: true}}
	// Until the spike, nothing: the morning ramp is usual.
	for clk.Now().Before(spike) {
		if r := m.Probe(context.Background()); !r.OK() {
			t.Fatalf("%s: %q", clk.Now().In(la).Format("15:04"), r.Evidence())
		}
		clk.Advance(30 * time.Second)
	}
	clk.Advance(30 * time.Second)
	r := m.Probe(context.Background())
	if r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Evidence(), "/min, usual for Mon 06:00 is ") {
		t.Errorf("spike: %s %q", r.Outcome, r.Evidence())
	}
}

func TestParsePromText(t *testing.T) {
	now := time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC)
	ss, err := ParsePromText([]byte(`# HELP firewall_blocked_requests Blocked requests per minute.
# TYPE firewall_blocked_requests gauge
firewall_blocked_requests{site="edge",zone="a\"b"} 2400
classroom_quota_used 9500 1786978800000

quota_limit 10000
`), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 || ss[0].Labels["zone"] != `a"b` || ss[0].Value != 2400 || !ss[0].At.Equal(now) || ss[1].At.UnixMilli() != 1786978800000 {
		t.Errorf("samples = %+v", ss)
	}
	if k := SeriesKey("x", map[string]string{"b": "2", "a": "1"}); k != `x{a="1",b="2"}` {
		t.Errorf("key = %s", k)
	}
	for body, want := range map[string]string{
		"x{a=\"1\" 5":   "line 1: labels of x are not closed",
		"x 1\ny abc":    `line 2: y: "abc" is not a number`,
		"9x 1":          `is not a metric name`,
		"x{a=1} 1":      "the value of a is not quoted",
		"x 1 2 3":       "want a value and an optional timestamp",
		"x NaN":         "not a finite number",
		"x{1a=\"b\"} 1": `label "1a" is not a label name`,
	} {
		if _, err := ParsePromText([]byte(body), now); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

func TestPrometheusSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		switch r.Form.Get("query") {
		case "bad":
			w.WriteHeader(400)
			w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"parse error at char 4"}`))
		case "scalar":
			w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`))
		default:
			w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[
				{"metric":{"site":"a"},"values":[[1786978800,"10"],[1786978860,"12"]]},
				{"metric":{"site":"b"},"values":[[1786978800,"5"],[1786978860,"NaN"]]}]}}`))
		}
	}))
	defer srv.Close()
	p := &Prometheus{URL: srv.URL, Query: "sum(x)", Client: http.DefaultClient, Timeout: time.Second}
	ps, err := p.Points(context.Background(), time.Unix(1786978800, 0), time.Unix(1786978900, 0))
	if err != nil || len(ps) != 2 || ps[0].Value != 15 || ps[1].Value != 12 {
		t.Errorf("points = %+v, %v", ps, err)
	}
	for q, want := range map[string]string{"bad": "prometheus: bad_data: parse error at char 4", "scalar": "gives a scalar"} {
		p.Query = q
		if _, err := p.Points(context.Background(), time.Unix(1786978800, 0), time.Unix(1786978900, 0)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", q, err)
		}
	}
}
