package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

const alertsConfig = `page: {name: Acme Status, url: 'https://status.acme.example'}
components:
  - {id: api, name: API}
  - {id: web, name: Web app}
inbound: {token: "in-token", hmac_secret: "grafana-secret"}
checks:
  - {id: prom-api, kind: alert, match: {service: api}, components: [api]}
  - {id: grafana-web, kind: alert, match: {service: web, alertname: "~Firewall.*"}, components: [web]}
`

func alertBody(status, service, severity, fp string) string {
	ends := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		ends = "2026-08-17T15:10:00Z"
	}
	return fmt.Sprintf(`{"version":"4","status":%q,"receiver":"upstate","alerts":[{"status":%q,"labels":{"alertname":"ProbeFailure","service":%q,"severity":%q},
		"annotations":{"summary":"Probe failing on %s"},"startsAt":"2026-08-17T14:58:00Z","endsAt":%q,"fingerprint":%q}]}`, status, status, service, severity, service, ends, fp)
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// grafanaSigned are the headers Grafana sends with a signed body: the
// hex HMAC-SHA256 of "timestamp:body" and the timestamp, in Unix seconds.
func grafanaSigned(body string, at time.Time) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte("grafana-secret"))
	mac.Write([]byte(ts + ":" + body))
	return map[string]string{"X-Grafana-Alerting-Signature": hex.EncodeToString(mac.Sum(nil)), "X-Grafana-Alerting-Signature-Timestamp": ts}
}

// Signed webhooks must be fresh and new: a stale timestamp, none at all
// (a body-only signature could be replayed for ever), or the same signed
// request twice are refused; credentials are checked before the body is
// read.
func TestGrafanaSignatureReplay(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	a := newApp(t, alertsConfig, Options{Clock: clk})
	post := func(body string, hdr map[string]string) (int, string) {
		return postTo(a, "/api/v1/alerts/grafana", body, hdr)
	}
	body := strings.Replace(alertBody("firing", "web", "warning", "g1"), `"version":"4"`, `"version":"1","orgId":1`, 1)
	body = strings.Replace(body, "ProbeFailure", "FirewallBlocks", 1)
	fresh := grafanaSigned(body, clk.Now().Add(-4*time.Minute))
	if code, out := post(body, fresh); code != 200 {
		t.Fatalf("a signature 4 minutes old: %d %s", code, out)
	}
	for name, tc := range map[string]struct {
		hdr  map[string]string
		want string
	}{
		"replayed":   {fresh, "received before"},
		"from 2001":  {grafanaSigned(body, time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC)), "outside the 5m0s window"},
		"future":     {grafanaSigned(body, clk.Now().Add(6*time.Minute)), "outside the 5m0s window"},
		"body only":  {map[string]string{"X-Grafana-Alerting-Signature": fresh["X-Grafana-Alerting-Signature"]}, "must carry its timestamp in X-Grafana-Alerting-Signature-Timestamp"},
		"not a time": {map[string]string{"X-Grafana-Alerting-Signature": "ab", "X-Grafana-Alerting-Signature-Timestamp": "yesterday"}, "not a Unix time"},
	} {
		if code, out := post(body, tc.hdr); code != 401 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: %d %s, want 401 saying %q", name, code, out, tc.want)
		}
	}
	// A wrong token is refused before a body too big to read is read.
	big := &countingReader{r: strings.NewReader(strings.Repeat("x", 5<<20))} // no Content-Length: it would be refused as too large at once
	req := httptest.NewRequest("POST", "/api/v1/alerts", big)
	req.Header.Set("Authorization", "Bearer nope")
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, req)
	if rec.Code != 401 || big.n > 0 {
		t.Errorf("wrong token with a 5 MiB body: %d after reading %d bytes, want 401 before reading any", rec.Code, big.n)
	}
}

func TestInboundAlerts(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	a := newApp(t, alertsConfig, Options{Clock: clk})
	cfg := a.cfg.Load()
	post := func(path, body string, hdr map[string]string) (int, string) { return postTo(a, path, body, hdr) }
	bearer := map[string]string{"Authorization": "Bearer in-token"}
	if code, body := post("/api/v1/alerts", alertBody("firing", "api", "critical", "fp1"), nil); code != 401 || !strings.Contains(body, "Bearer") {
		t.Errorf("no token: %d %s", code, body)
	}
	if code, _ := post("/api/v1/alerts", alertBody("firing", "api", "critical", "fp1"), map[string]string{"Authorization": "Bearer nope"}); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, body := post("/api/v1/alerts", `{"alerts": [{"status": "exploded", "labels": {"a": "b"}}]}`, bearer); code != 400 || !strings.Contains(body, `alerts[0].status: \"exploded\"`) {
		t.Errorf("bad body: %d %s", code, body)
	}
	// A critical alert on the API opens an incident at once.
	code, body := post("/api/v1/alerts/alertmanager", alertBody("firing", "api", "critical", "fp1"), bearer)
	if code != 200 || !strings.Contains(body, `"matched": 1`) || !strings.Contains(body, `"prom-api"`) {
		t.Fatalf("firing: %d %s", code, body)
	}
	if st := a.engine.Statuses()["api"]; st != upstate.MajorOutage {
		t.Errorf("api = %s", st)
	}
	ins, _ := a.store.ListIncidents(context.Background(), upstate.IncidentFilter{OpenOnly: true})
	if len(ins) != 1 || !strings.Contains(evidenceOf(ins[0]), "1 alert firing from alertmanager (critical: Probe failing on api)") {
		t.Fatalf("incident = %+v", ins)
	}
	// Sent again (Alertmanager repeats): deduplicated by fingerprint, still one incident.
	post("/api/v1/alerts", alertBody("firing", "api", "critical", "fp1"), bearer)
	if n := len(a.env.Alerts.Firing("prom-api")); n != 1 {
		t.Errorf("%d firing after a repeat", n)
	}
	// Grafana, signed: a warning on the web app makes it degraded.
	gbody := strings.Replace(alertBody("firing", "web", "warning", "g1"), `"version":"4"`, `"version":"1","orgId":1`, 1)
	gbody = strings.Replace(gbody, "ProbeFailure", "FirewallBlocks", 1)
	signed := grafanaSigned(gbody, clk.Now())
	if code, body := post("/api/v1/alerts/grafana", gbody, signed); code != 200 || !strings.Contains(body, `"source": "grafana"`) {
		t.Fatalf("grafana: %d %s", code, body)
	}
	if st := a.engine.Statuses()["web"]; st != upstate.DegradedPerformance {
		t.Errorf("web = %s", st)
	}
	if code, _ := post("/api/v1/alerts/grafana", gbody, map[string]string{"X-Grafana-Alerting-Signature": "00ff", "X-Grafana-Alerting-Signature-Timestamp": signed["X-Grafana-Alerting-Signature-Timestamp"]}); code != 401 {
		t.Errorf("bad signature: %d", code)
	}
	// Unmatched alerts are counted, not applied.
	if _, body := post("/api/v1/alerts", alertBody("firing", "billing", "critical", "b1"), bearer); !strings.Contains(body, `"matched": 0`) {
		t.Errorf("unmatched: %s", body)
	}
	// A restart remembers what is firing.
	a.store.Close()
	a = reopenApp(t, cfg, Options{Clock: clk})
	if n := len(a.env.Alerts.Firing("prom-api")); n != 1 {
		t.Fatalf("%d firing after restart", n)
	}
	// Resolved: the API recovers (monitoring, then resolved after the window).
	clk.Advance(time.Minute)
	post("/api/v1/alerts", alertBody("resolved", "api", "critical", "fp1"), bearer)
	if st := a.engine.Statuses()["api"]; st != upstate.Operational {
		t.Errorf("api after resolve = %s", st)
	}
	ins, _ = a.store.ListIncidents(context.Background(), upstate.IncidentFilter{OpenOnly: true})
	var apiIn *upstate.Incident
	for _, in := range ins {
		if in.HasComponent("api") {
			apiIn = in
		}
	}
	if apiIn == nil || apiIn.Status != upstate.Monitoring {
		t.Errorf("api incident after the alert resolved = %+v", apiIn)
	}
}

// TestRealAlertmanager runs Debian's prometheus-alertmanager on loopback:
// an alert posted to it is sent to Upstate's webhook with the bearer
// token, opens an incident, and its resolution recovers the component.
func TestRealAlertmanager(t *testing.T) {
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if bin, err = exec.LookPath("alertmanager"); err != nil {
			if os.Getenv("UPSTATE_REAL_SERVICES") == "1" {
				t.Fatal("alertmanager is not installed; .ci/run installs prometheus-alertmanager")
			}
			t.Skip("alertmanager is not installed (.ci/run installs it)")
		}
	}
	a := runApp(t, alertsConfig, Options{})

	dir := t.TempDir()
	amCfg := fmt.Sprintf(`route:
  receiver: upstate
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: upstate
    webhook_configs:
      - url: http://%s/api/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization: {type: Bearer, credentials: in-token}
`, a.Addr())
	os.WriteFile(filepath.Join(dir, "am.yml"), []byte(amCfg), 0o600)
	amLn, _ := net.Listen("tcp", "127.0.0.1:0")
	amAddr := amLn.Addr().String()
	amLn.Close()
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=", "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\nalertmanager:\n%s", what, logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	wait("alertmanager to start", func() bool {
		resp, err := http.Get("http://" + amAddr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	postAlert := func(ends time.Time) {
		body := fmt.Sprintf(`[{"labels":{"alertname":"ProbeFailure","service":"api","severity":"critical"},"annotations":{"summary":"API probe failing"},
			"startsAt":%q,"endsAt":%q,"generatorURL":"http://prometheus.example/graph"}]`, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), ends.UTC().Format(time.RFC3339))
		resp, err := http.Post("http://"+amAddr+"/api/v2/alerts", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("post alert: %s", resp.Status)
		}
	}
	postAlert(time.Now().Add(time.Hour))
	wait("the incident to open", func() bool { return a.engine.Statuses()["api"] == upstate.MajorOutage })
	postAlert(time.Now().Add(-time.Second)) // ended: Alertmanager sends it resolved
	wait("the component to recover", func() bool { return a.engine.Statuses()["api"] == upstate.Operational })
	ins, _ := a.store.ListIncidents(context.Background(), upstate.IncidentFilter{})
	if len(ins) != 1 || !strings.Contains(evidenceOf(ins[0]), "API probe failing") {
		t.Errorf("incidents = %+v", ins)
	}
}

// A signed webhook the database could not keep (503) is taken again when
// Grafana sends it again: it is not a replay, and the alert is not lost.
func TestGrafanaRetryAfterRefusedWrite(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	a := newApp(t, alertsConfig, Options{Clock: clk, WriteTimeout: 250 * time.Millisecond})
	post := func(body string, hdr map[string]string) (int, string) {
		return postTo(a, "/api/v1/alerts/grafana", body, hdr)
	}
	body := strings.Replace(alertBody("firing", "web", "warning", "g7"), `"version":"4"`, `"version":"1","orgId":1`, 1)
	body = strings.Replace(body, "ProbeFailure", "FirewallBlocks", 1)
	signed := grafanaSigned(body, clk.Now())
	release := holdWriteLock(t, a)
	if code, out := post(body, signed); code != 503 {
		t.Fatalf("with the database locked: %d %s, want 503", code, out)
	}
	release()
	if code, out := post(body, signed); code != 200 {
		t.Errorf("Grafana's retry of the same signed request: %d %s, want 200", code, out)
	}
	if code, _ := post(body, signed); code != 401 {
		t.Errorf("once kept, the same request again: %d, want 401 (a replay)", code)
	}
}
