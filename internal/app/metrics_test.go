package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/anomaly"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
)

// metricsToken signs up an owner and makes a token that may only push numbers.
func metricsToken(t *testing.T, a *App, cfg *config.Config) string {
	t.Helper()
	ctx := context.Background()
	if _, err := AddUser(ctx, cfg, NewUser{Email: "o@example.com", Name: "O", Role: upstate.RoleOwner, Password: "owner password 1"}, time.Now); err != nil {
		t.Fatal(err)
	}
	in, err := a.auth.Login(ctx, auth.Credentials{Email: "o@example.com", Password: "owner password 1", Addr: "127.0.0.1"})
	secret := in.Session
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.auth.FromSession(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.auth.CreateToken(ctx, p, "firewall exporter", []upstate.Scope{upstate.ScopeMetrics})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestFirewallSpike: two weeks of a firewall's blocked-request rate are
// known; when schools come back at 06:00 and the rate jumps twenty-fold,
// the pushed number opens an incident within a minute that says, in
// words, how unusual it is.
func TestFirewallSpike(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	series := anomaly.Generate(7, time.Date(2026, 8, 3, 0, 0, 0, 0, la))
	spike := series.Incidents[0].From
	yaml := firewallYAML
	clk := clock.NewFake(spike.Add(-2 * time.Minute))
	// A week of history is one large write; on a machine busy with other
	// tests it may take longer than the default 5 s the store allows a
	// write before calling the disk stalled.
	a := newApp(t, yaml, Options{Clock: clk, WriteTimeout: time.Minute})
	cfg := a.cfg.Load()
	ctx := context.Background()
	var hist []upstate.Point
	for _, p := range series.Points {
		if p.At.Before(spike.Add(-time.Minute)) {
			hist = append(hist, p)
		}
	}
	if err := a.store.AddPoints(ctx, `firewall_blocked_requests{site="edge"}`, hist); err != nil {
		t.Fatal(err)
	}
	tok := metricsToken(t, a, cfg)
	push := func(ct, body string) (int, string) {
		req := httptest.NewRequest("POST", "/api/v1/metrics", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		a.web.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	// 05:59: the usual dawn rate, pushed as JSON.
	clk.Advance(time.Minute)
	if code, body := push("application/json", `{"metrics": [{"name": "firewall_blocked_requests", "labels": {"site": "edge"}, "value": 22}]}`); code != 200 || !strings.Contains(body, `"accepted": 1`) {
		t.Fatalf("push json: %d %s", code, body)
	}
	if r := runCheck(t, a, "firewall"); !r.OK() {
		t.Fatalf("05:59: %q", r.Evidence())
	}
	// 06:00: twenty-fold, pushed in the Prometheus text format.
	clk.Advance(time.Minute)
	if code, body := push("text/plain; version=0.0.4", "# TYPE firewall_blocked_requests gauge\nfirewall_blocked_requests{site=\"edge\"} 2400\n"); code != 200 {
		t.Fatalf("push text: %d %s", code, body)
	}
	clk.Advance(30 * time.Second)
	r := runCheck(t, a, "firewall")
	if r.Outcome != upstate.OutcomeFail || !strings.HasPrefix(r.Evidence(), "blocked requests 2,400/min, usual for Mon 06:00 is ") {
		t.Fatalf("06:00: %s %q", r.Outcome, r.Evidence())
	}
	ins, _ := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
	if len(ins) != 1 || !strings.Contains(evidenceOf(ins[0]), "blocked requests 2,400/min, usual for Mon 06:00 is") {
		t.Fatalf("incidents = %+v", ins)
	}
	if d := ins[0].DetectedAt.Sub(spike); d > time.Minute {
		t.Errorf("detected %s after the spike began", d)
	}
	// Bad input names what is wrong.
	for _, tc := range []struct{ ct, body, want string }{
		{"application/json", `{"metrics": [{"name": "9bad", "value": 1}]}`, `metrics[0]: name \"9bad\" is not a metric name`},
		{"application/json", `{"metrics": [{"name": "x"}]}`, "metrics[0].value is required"},
		{"application/json", `{"metrics": [{"name": "x", "value": 1, "at": "2020-01-01T00:00:00Z"}]}`, "more than a day from now"},
		{"text/plain", "x{a=1} 1", "Prometheus text: line 1: labels of x: the value of a is not quoted"},
		{"application/json", `{"metrics": []}`, "no metrics in the body"},
	} {
		if code, body := push(tc.ct, tc.body); code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %q", tc.body, code, body, tc.want)
		}
	}
}

// TestRealPrometheus runs Debian's prometheus on loopback scraping a test
// target; a metric check reads the number through its /api/v1/query_range.
func TestRealPrometheus(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("UPSTATE_REAL_SERVICES") == "1" {
			t.Fatal("prometheus is not installed; .ci/run installs it")
		}
		t.Skip("prometheus is not installed (.ci/run installs it)")
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, "# TYPE quota_used_ratio gauge\nquota_used_ratio{api=\"classroom\"} 0.97\n")
	}))
	defer target.Close()
	dir := t.TempDir()
	promLn, _ := net.Listen("tcp", "127.0.0.1:0")
	promAddr := promLn.Addr().String()
	promLn.Close()
	promCfg := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: app\n    static_configs: [{targets: ['%s']}]\n", strings.TrimPrefix(target.URL, "http://"))
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promCfg), 0o600)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	yaml := `page: {name: Classroom Cloud}
components:
  - {id: classroom, name: Classroom roster sync}
checks:
  - id: classroom-quota
    kind: metric
    prometheus: {url: 'http://` + promAddr + `', query: 'max(quota_used_ratio{api="classroom"})'}
    what: classroom API quota used
    above: 0.95
    interval: 1s
    components: [classroom]
`
	a := runApp(t, yaml, Options{})
	deadline := time.Now().Add(60 * time.Second)
	for a.engine.Statuses()["classroom"] != upstate.MajorOutage {
		if time.Now().After(deadline) {
			t.Fatalf("no incident from Prometheus' number\nprometheus:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	ins, _ := a.store.ListIncidents(context.Background(), upstate.IncidentFilter{OpenOnly: true})
	if len(ins) != 1 || !strings.Contains(evidenceOf(ins[0]), "classroom API quota used 0.97 is above 0.95") {
		t.Errorf("incident = %+v", ins)
	}
}

// TestQuotaAndSLO: the classroom API quota runs out three times in the
// bad month; the quota check warns with a forecast before it does and
// fails when it has, and an SLO over pushed counters shows its budget.
func TestQuotaAndSLO(t *testing.T) {
	yaml := `page: {name: Classroom Cloud}
components:
  - {id: classroom, name: Classroom roster sync}
  - {id: api, name: API}
checks:
  - {id: quota, kind: quota, usage: classroom_quota_used, limit: 10000, errors: classroom_quota_errors, what: classroom API quota, components: [classroom]}
  - {id: availability, kind: slo, good: api_requests_good_total, total: api_requests_total, objective: 99.9, what: API availability, components: [api]}
`
	t0 := time.Date(2026, 8, 20, 7, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	a := newApp(t, yaml, Options{Clock: clk})
	ctx := context.Background()
	var good, total float64
	for i := range 30 {
		a.pushed.PushSamples(ctx, "test", []upstate.Sample{{Name: "classroom_quota_used", Value: 6000 + float64(i)*100, At: clk.Now()},
			{Name: "api_requests_total", Value: total, At: clk.Now()}, {Name: "api_requests_good_total", Value: good, At: clk.Now()}})
		total += 1000
		good += 1000
		clk.Advance(time.Minute)
	}
	// 8,900 of 10,000 at 100 a minute: 89% and about 11 minutes left.
	r := runCheck(t, a, "quota")
	if r.Outcome != upstate.OutcomeSlow || !strings.Contains(r.Evidence(), "8,900 of 10,000 used (89%); at the current rate it runs out in about 11 minutes") {
		t.Errorf("quota: %s %q", r.Outcome, r.Evidence())
	}
	if st := a.engine.Statuses()["classroom"]; st != upstate.DegradedPerformance {
		t.Errorf("classroom = %s", st)
	}
	a.pushed.PushSamples(ctx, "test", []upstate.Sample{{Name: "classroom_quota_errors", Value: 40, At: clk.Now()}})
	if r := runCheck(t, a, "quota"); r.Outcome != upstate.OutcomeFail {
		t.Errorf("429s: %q", r.Evidence())
	}
	// The database lock: a quarter of API requests fail for five minutes.
	for range 5 {
		total += 1000
		good += 750
		a.pushed.PushSamples(ctx, "test", []upstate.Sample{{Name: "api_requests_total", Value: total, At: clk.Now()}, {Name: "api_requests_good_total", Value: good, At: clk.Now()}})
		clk.Advance(time.Minute)
	}
	if r := runCheck(t, a, "availability"); r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Evidence(), "burning its error budget") {
		t.Errorf("slo: %s %q", r.Outcome, r.Evidence())
	}
	slos := a.slos(ctx)
	if len(slos) != 1 || slos[0].Budget.Remaining >= 0 || slos[0].Budget.Total != 35000 {
		t.Errorf("budget = %+v", slos)
	}
}

// One token cannot fill the database with series: new series nothing
// reads are limited per token and in all, each series' labels are
// limited, and series a check reads are always kept.
func TestPushedSeriesLimits(t *testing.T) {
	yaml := `page: {name: T}
components: [{id: web}]
checks:
  - {id: firewall, kind: metric, metric: firewall_blocked_requests, labels: {site: edge}, above: 100, components: [web]}
`
	clk := clock.NewFake(time.Date(2026, 8, 17, 6, 0, 0, 0, time.UTC))
	a := newApp(t, yaml, Options{Clock: clk})
	tok := metricsToken(t, a, a.cfg.Load())
	push := func(body string) (int, string) {
		req := httptest.NewRequest("POST", "/api/v1/metrics", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		a.web.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	series := func(from, n int) string {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "requests_total{user=\"u%d\"} 1\n", i)
		}
		return b.String()
	}
	if code, body := push(series(0, check.SeriesPerSource)); code != 200 {
		t.Fatalf("%d new series: %d %s", check.SeriesPerSource, code, body)
	}
	code, body := push(series(check.SeriesPerSource, 1))
	if code != 400 || !strings.Contains(body, "over the limit of 1000 series no check reads") {
		t.Errorf("series 1001 from one token: %d %s", code, body)
	}
	// Series already kept, and the one a check reads, still go in.
	if code, body := push(series(0, 10) + "firewall_blocked_requests{site=\"edge\"} 22\n"); code != 200 {
		t.Errorf("known series and the check's own: %d %s", code, body)
	}
	if pts, _ := a.store.ListPoints(context.Background(), `firewall_blocked_requests{site="edge"}`, clk.Now().Add(-time.Hour), clk.Now().Add(time.Hour)); len(pts) != 1 {
		t.Errorf("the check's series has %d points, want 1", len(pts))
	}
	var labels strings.Builder
	for i := range 40 {
		fmt.Fprintf(&labels, "l%d=\"x\",", i)
	}
	if code, body := push("wide{" + strings.TrimSuffix(labels.String(), ",") + "} 1\n"); code != 400 || !strings.Contains(body, "has 40 labels: at most 32") {
		t.Errorf("40 labels on one series: %d %s", code, body)
	}
	if code, body := push("long{v=\"" + strings.Repeat("x", 2000) + "\"} 1\n"); code != 400 || !strings.Contains(body, "at most 1024") {
		t.Errorf("a 2000-byte label value: %d %.300s", code, body)
	}
	// Once old series age out, their room is the token's again.
	clk.Advance(91 * 24 * time.Hour)
	a.prune(context.Background())
	if code, body := push(series(check.SeriesPerSource, 1)); code != 200 {
		t.Errorf("a new series after the old ones aged out: %d %s", code, body)
	}
}
