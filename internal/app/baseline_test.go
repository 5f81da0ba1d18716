package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/anomaly"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/clock"
)

// The README's metric check with anomaly: {}, on a fresh install.
const firewallYAML = `page: {name: Classroom Cloud, url: 'https://status.classroom.example', time_zone: America/Los_Angeles}
components:
  - {id: web, name: Web app}
checks:
  - id: firewall
    kind: metric
    metric: firewall_blocked_requests
    labels: {site: edge}
    what: blocked requests
    unit: /min
    anomaly: {}
    components: [web]
`

// baselineJSON is GET /api/v1/checks/{id}/baseline's answer.
type baselineJSON struct {
	Check           string     `json:"check"`
	Source          string     `json:"source"`
	Points          int        `json:"points"`
	Oldest          *time.Time `json:"oldest"`
	Samples         int        `json:"samples"`
	Needs           int        `json:"needs"`
	Judging         bool       `json:"judging"`
	StartsJudgingAt *time.Time `json:"starts_judging_at"`
	Learning        string     `json:"learning"`
}

func getBaseline(t *testing.T, a *App, tok, id string) (int, baselineJSON, string) {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/checks/"+id+"/baseline", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, req)
	var b baselineJSON
	if rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
			t.Fatalf("baseline: %v: %s", err, rec.Body.String())
		}
	}
	return rec.Code, b, rec.Body.String()
}

// readToken makes a read-only token as the owner metricsToken signed up.
func readToken(t *testing.T, a *App) string {
	t.Helper()
	ctx := context.Background()
	in, err := a.auth.Login(ctx, auth.Credentials{Email: "o@example.com", Password: "owner password 1", Addr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.auth.FromSession(ctx, in.Session)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.auth.CreateToken(ctx, p, "dashboard", []upstate.Scope{upstate.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// historyJSON is points of the firewall series as a history push.
func historyJSON(ps []upstate.Point) string {
	var b strings.Builder
	b.WriteString(`{"metrics": [`)
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name": "firewall_blocked_requests", "labels": {"site": "edge"}, "value": %g, "at": %q}`, p.Value, p.At.UTC().Format(time.RFC3339Nano))
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestBaselineOnFreshInstall is issue 12's item 6: on a fresh install the
// README's anomaly: {} check could not flag a twenty-fold spike until a
// day and a half hour after the first push, since a push older than a day
// was refused and the baseline needs 60 points around the same time of
// day. Now the days before can be pushed as history (idempotently), the
// check says when its baseline starts judging, and the spike pages at once.
func TestBaselineOnFreshInstall(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	series := anomaly.Generate(7, time.Date(2026, 8, 3, 0, 0, 0, 0, la))
	spike := series.Incidents[0].From // Monday 06:00, a week in
	clk := clock.NewFake(spike.Add(-3 * time.Minute))
	a := newApp(t, firewallYAML, Options{Clock: clk})
	ctx := context.Background()
	tok := metricsToken(t, a, a.cfg.Load())
	reader := readToken(t, a)
	hdr := map[string]string{"Authorization": "Bearer " + tok}

	// Nothing pushed yet: the baseline says when it will start judging if
	// numbers come each minute from now: a day and half an hour on.
	runCheck(t, a, "firewall")
	code, b, raw := getBaseline(t, a, reader, "firewall")
	if code != 200 || b.Points != 0 || b.Judging || b.Needs != 60 || b.StartsJudgingAt == nil || b.Source != "pushed" {
		t.Fatalf("fresh: %d %s", code, raw)
	}
	if want := spike.Add(24*time.Hour + 26*time.Minute); !b.StartsJudgingAt.Equal(want) {
		t.Errorf("fresh: starts judging at %s, want %s (a day and the tolerance after the first minute)", b.StartsJudgingAt.In(la), want.In(la))
	}

	// The week before, pushed as history in pushes of at most 10,000.
	var hist []upstate.Point
	for _, p := range series.Points {
		if p.At.Before(clk.Now().Truncate(time.Minute)) {
			hist = append(hist, p)
		}
	}
	for i := 0; i < len(hist); i += 5000 {
		chunk := hist[i:min(i+5000, len(hist))]
		if code, body := postTo(a, "/api/v1/metrics/history", historyJSON(chunk), hdr); code != 200 || !strings.Contains(body, fmt.Sprintf(`"accepted": %d`, len(chunk))) {
			t.Fatalf("history push %d: %d %.300s", i, code, body)
		}
	}
	// Pushed again (a retried backfill, an overlap): stored once. The
	// last minute had a live push before; history replaces it.
	last := hist[len(hist)-1]
	if code, body := postTo(a, "/api/v1/metrics", fmt.Sprintf(`{"metrics": [{"name": "firewall_blocked_requests", "labels": {"site": "edge"}, "value": 9999, "at": %q}]}`,
		last.At.Format(time.RFC3339)), hdr); code != 200 {
		t.Fatalf("live push into a past minute: %d %s", code, body)
	}
	for range 2 {
		if code, body := postTo(a, "/api/v1/metrics/history", historyJSON(hist[len(hist)-5000:]), hdr); code != 200 {
			t.Fatalf("history again: %d %.300s", code, body)
		}
	}
	stored, err := a.store.ListPoints(ctx, `firewall_blocked_requests{site="edge"}`, hist[0].At, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(hist) {
		t.Fatalf("%d points stored, pushed %d", len(stored), len(hist))
	}
	for i, p := range stored {
		if want := hist[i]; !p.At.Equal(want.At.Truncate(time.Minute)) || p.Value != want.Value {
			t.Fatalf("point %d = %v %g, pushed %v %g", i, p.At, p.Value, want.At, want.Value)
		}
	}

	// 05:58: the usual dawn rate; the check has read the history, and the
	// baseline judges now.
	clk.Advance(time.Minute)
	if code, body := postTo(a, "/api/v1/metrics", `{"metrics": [{"name": "firewall_blocked_requests", "labels": {"site": "edge"}, "value": 22}]}`, hdr); code != 200 {
		t.Fatalf("push: %d %s", code, body)
	}
	if r := runCheck(t, a, "firewall"); !r.OK() {
		t.Fatalf("05:58: %q", r.Evidence())
	}
	code, b, raw = getBaseline(t, a, reader, "firewall")
	if code != 200 || !b.Judging || b.Points < len(hist) || b.Samples < 60 || b.StartsJudgingAt == nil || !b.StartsJudgingAt.Equal(clk.Now().Truncate(time.Minute)) ||
		b.Oldest == nil || !b.Oldest.Equal(hist[0].At) {
		t.Errorf("with history: %d %s", code, raw)
	}

	// 06:00: twenty-fold, and said in the unit it was pushed in.
	clk.Advance(2 * time.Minute)
	if code, body := postTo(a, "/api/v1/metrics", `{"metrics": [{"name": "firewall_blocked_requests", "labels": {"site": "edge"}, "value": 2400}]}`, hdr); code != 200 {
		t.Fatalf("push: %d %s", code, body)
	}
	clk.Advance(30 * time.Second)
	r := runCheck(t, a, "firewall")
	if r.Outcome != upstate.OutcomeFail || !strings.HasPrefix(r.Evidence(), "blocked requests 2,400/min, usual for Mon 06:00 is ") || !strings.HasSuffix(r.Evidence(), "/min") {
		t.Fatalf("06:00: %s %q", r.Outcome, r.Evidence())
	}
	if ins, _ := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true}); len(ins) != 1 {
		t.Errorf("%d incidents open after the spike", len(ins))
	}

	// What history refuses, naming the sample and the bound.
	now := clk.Now()
	for _, tc := range []struct{ body, want string }{
		{historyJSON([]upstate.Point{{At: now.Add(-15 * 24 * time.Hour), Value: 1}}), "metrics[0]: at " + now.Add(-15*24*time.Hour).UTC().Format(time.RFC3339) + " is more than 14 days ago"},
		{historyJSON([]upstate.Point{{At: now.Add(-time.Hour), Value: 1}, {At: now, Value: 1}}), "metrics[1]: at " + now.UTC().Format(time.RFC3339) + " is not over yet"},
		{`{"metrics": [{"name": "firewall_blocked_requests", "value": 1}]}`, "metrics[0].at is required"},
		{historyJSON(slices.Repeat([]upstate.Point{{At: now.Add(-time.Hour), Value: 1}}, 10_001)), "10001 samples in one push: at most 10000"},
	} {
		if code, body := postTo(a, "/api/v1/metrics/history", tc.body, hdr); code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%.120s: %d %.300s, want %q", tc.body, code, body, tc.want)
		}
	}
	if code, _, raw := getBaseline(t, a, reader, "nope"); code != 404 || !strings.Contains(raw, "no metric check nope") {
		t.Errorf("unknown check: %d %s", code, raw)
	}
}

// TestRealPrometheusBaseline runs Debian's prometheus over a week of a
// firewall's rate backfilled with promtool: a metric check with an
// anomaly rule learns its baseline from query_range at its first probe,
// and flags the twenty-fold spike at once, in the query's unit.
func TestRealPrometheusBaseline(t *testing.T) {
	var bins []string
	for _, name := range []string{"prometheus", "promtool"} {
		bin, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("UPSTATE_REAL_SERVICES") == "1" {
				t.Fatalf("%s is not installed; .ci/run installs prometheus, which has it", name)
			}
			t.Skipf("%s is not installed (.ci/run installs prometheus, which has it)", name)
		}
		bins = append(bins, bin)
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	// The generated week ends in a spike on a Monday at 06:00: the latest
	// one at least three hours ago, so its samples are in blocks of the
	// past rather than the head Prometheus is writing now.
	now := time.Now().In(la)
	y, m, d := now.Date()
	monday := time.Date(y, m, d-(int(now.Weekday())+6)%7, 0, 0, 0, 0, la)
	if monday.Add(6 * time.Hour).After(now.Add(-3 * time.Hour)) {
		monday = monday.AddDate(0, 0, -7)
	}
	series := anomaly.Generate(11, monday.AddDate(0, 0, -7))
	spike := series.Incidents[0].From
	dir := t.TempDir()
	var om strings.Builder
	om.WriteString("# TYPE firewall_blocked gauge\n")
	for _, p := range series.Points {
		if p.At.After(spike) {
			break
		}
		fmt.Fprintf(&om, "firewall_blocked{site=\"edge\"} %g %d\n", p.Value, p.At.Unix())
	}
	om.WriteString("# EOF\n")
	os.WriteFile(filepath.Join(dir, "week.om"), []byte(om.String()), 0o600)
	if out, err := exec.Command(bins[1], "tsdb", "create-blocks-from", "openmetrics", "-q", filepath.Join(dir, "week.om"), filepath.Join(dir, "tsdb")).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	promLn, _ := net.Listen("tcp", "127.0.0.1:0")
	promAddr := promLn.Addr().String()
	promLn.Close()
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte("global: {scrape_interval: 1m}\n"), 0o600)
	cmd := exec.Command(bins[0], "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--storage.tsdb.retention.time=60d", "--web.listen-address="+promAddr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// Prometheus is a real process on real time: wait for it to answer.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + promAddr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	yaml := `page: {name: Classroom Cloud, time_zone: America/Los_Angeles}
components:
  - {id: web, name: Web app}
checks:
  - id: firewall
    kind: metric
    prometheus: {url: 'http://` + promAddr + `', query: 'sum(firewall_blocked{site="edge"})'}
    what: blocked requests
    unit: /min
    anomaly: {}
    components: [web]
`
	clk := clock.NewFake(spike.Add(-3 * time.Minute))
	a := newApp(t, yaml, Options{Clock: clk})
	if r := runCheck(t, a, "firewall"); !r.OK() {
		t.Fatalf("05:57: %q\nprometheus:\n%s", r.Evidence(), logs.String())
	}
	b, ok := a.checks.Load().compiled.metrics["firewall"].Baseline()
	if !ok || !b.Judging || b.Source != "prometheus" || b.Points < 7*24*60-60 || !strings.HasPrefix(b.Learning, "learning the past from prometheus: ") {
		t.Fatalf("after the first probe: %+v\nprometheus:\n%s", b, logs.String())
	}
	clk.Advance(3*time.Minute + 30*time.Second)
	r := runCheck(t, a, "firewall")
	if r.Outcome != upstate.OutcomeFail || !strings.HasPrefix(r.Evidence(), "blocked requests ") || !strings.Contains(r.Evidence(), "/min, usual for Mon 06:00 is ") {
		t.Errorf("06:00: %s %q", r.Outcome, r.Evidence())
	}
}

// The admin incident list shows each baseline: how much history it has
// and when it starts judging.
func TestBaselinesOnTheAdminPage(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 10, 5, 57, 0, 0, time.UTC))
	a := runApp(t, firewallYAML, Options{Clock: clk})
	if _, err := AddUser(context.Background(), a.cfg.Load(), NewUser{Email: "rui@example.com", Name: "Rui", Role: upstate.RoleResponder, Password: "responder password"}, clk.Now); err != nil {
		t.Fatal(err)
	}
	runCheck(t, a, "firewall")
	if bs := a.baselines(); len(bs) != 1 || bs[0].ID != "firewall" || bs[0].Judging {
		t.Fatalf("baselines: %+v, want the firewall check's, not judging yet", bs)
	}
	ui := newUI(t, "http://"+a.Addr())
	if code, _, _ := ui.post("/admin/login", url.Values{"email": {"rui@example.com"}, "password": {"responder password"}, "next": {"/admin/"}}, nil); code != 200 {
		t.Fatalf("sign in: %d", code)
	}
	code, page := ui.get("/admin/")
	if code != 200 || !strings.Contains(page, "Anomaly baselines") || !strings.Contains(page, "0 points") || !strings.Contains(page, "of the 60 points this time of day needs") || !strings.Contains(page, "from Aug 11") {
		t.Errorf("admin page: %d\n%s", code, page)
	}
}
