package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// alertmanagerBody is Alertmanager's webhook (version 4), as its
// notify/webhook package sends it.
const alertmanagerBody = `{
  "version": "4",
  "groupKey": "{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}",
  "truncatedAlerts": 0,
  "status": "firing",
  "receiver": "upstate",
  "groupLabels": {"alertname": "ProbeFailure"},
  "commonLabels": {"alertname": "ProbeFailure", "job": "http_checks", "severity": "critical"},
  "commonAnnotations": {"summary": "BlackBox Probe Failure: https://api.acme.example"},
  "externalURL": "http://alertmanager.example:9093",
  "alerts": [{
    "status": "firing",
    "labels": {"alertname": "ProbeFailure", "instance": "https://api.acme.example", "job": "http_checks", "severity": "critical", "service": "api"},
    "annotations": {"summary": "BlackBox Probe Failure: https://api.acme.example", "description": "down for over 5m"},
    "startsAt": "2026-11-20T10:05:00.000Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus.example:9090/graph?g0.expr=probe_success+%3D%3D+0",
    "fingerprint": "1a30ba71cca2921f"
  }, {
    "status": "resolved",
    "labels": {"alertname": "HighLatency", "service": "api", "severity": "warning"},
    "annotations": {},
    "startsAt": "2026-11-20T09:00:00.000Z",
    "endsAt": "2026-11-20T10:00:00.000Z",
    "generatorURL": "",
    "fingerprint": "77aa"
  }]
}`

// grafanaBody is Grafana's webhook contact point body.
const grafanaBody = `{
  "receiver": "upstate", "status": "firing", "orgId": 1,
  "alerts": [{
    "status": "firing",
    "labels": {"alertname": "FirewallBlocks", "grafana_folder": "edge", "service": "web"},
    "annotations": {"summary": "Blocked requests 2,400/min"},
    "startsAt": "2026-08-18T06:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "https://grafana.example/alerting/grafana/abc/view",
    "fingerprint": "c6eadffa33fcdf37",
    "silenceURL": "https://grafana.example/alerting/silence/new",
    "dashboardURL": "https://grafana.example/d/fw", "panelURL": "https://grafana.example/d/fw?viewPanel=1",
    "values": {"B": 2400, "C": 1}, "valueString": "[ var='B' labels={} value=2400 ]"
  }],
  "groupLabels": {"alertname": "FirewallBlocks"}, "commonLabels": {"alertname": "FirewallBlocks"}, "commonAnnotations": {},
  "externalURL": "https://grafana.example/", "version": "1", "groupKey": "{}:{alertname=\"FirewallBlocks\"}", "truncatedAlerts": 0,
  "title": "[FIRING:1] FirewallBlocks", "state": "alerting", "message": "**Firing**"
}`

func TestParseAlertWebhook(t *testing.T) {
	w, err := ParseAlertWebhook([]byte(alertmanagerBody))
	if err != nil {
		t.Fatal(err)
	}
	if w.Source() != "alertmanager" || len(w.Alerts) != 2 || w.Alerts[0].Fingerprint != "1a30ba71cca2921f" || !w.Alerts[0].EndsAt.IsZero() && w.Alerts[0].EndsAt.Year() != 1 {
		t.Errorf("alertmanager = %+v", w)
	}
	if a := w.Alerts[0]; a.Summary() != "BlackBox Probe Failure: https://api.acme.example" || !strings.HasPrefix(a.URL(), "http://prometheus.example:9090/graph") {
		t.Errorf("summary %q url %q", a.Summary(), a.URL())
	}
	if a := w.Alerts[1]; a.Summary() != "HighLatency" || a.URL() != "" {
		t.Errorf("fallbacks: %q %q", a.Summary(), a.URL())
	}
	g, err := ParseAlertWebhook([]byte(grafanaBody))
	if err != nil {
		t.Fatal(err)
	}
	if g.Source() != "grafana" || g.Alerts[0].URL() != "https://grafana.example/d/fw?viewPanel=1" || g.Alerts[0].Summary() != "Blocked requests 2,400/min" {
		t.Errorf("grafana = %+v", g.Alerts[0])
	}
	noFP := strings.Replace(grafanaBody, `"fingerprint": "c6eadffa33fcdf37",`, "", 1)
	g2, _ := ParseAlertWebhook([]byte(noFP))
	if fp := g2.Alerts[0].Fingerprint; len(fp) != 16 || fp != LabelsFingerprint(g2.Alerts[0].Labels) {
		t.Errorf("fingerprint from labels = %q", fp)
	}
	for body, want := range map[string]string{
		`{"alerts": [`:      "not an Alertmanager or Grafana webhook body",
		`{"receiver": "x"}`: "no alerts array",
		`{"alerts": [{"status": "pending", "labels": {"a": "b"}}]}`: `alerts[0].status: "pending" is not firing or resolved`,
		`{"alerts": [{"status": "firing"}]}`:                        "alerts[0]: no labels",
		`[1, 2]`:                                                    "not an Alertmanager or Grafana webhook body",
	} {
		if _, err := ParseAlertWebhook([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}

func TestMatcher(t *testing.T) {
	m, err := CompileMatcher(map[string]string{"service": "api", "alertname": "~Probe.*|HighLatency"})
	if err != nil {
		t.Fatal(err)
	}
	for labels, want := range map[string]bool{
		"service=api,alertname=ProbeFailure": true, "service=api,alertname=HighLatency": true,
		"service=api,alertname=DiskFull": false, "service=web,alertname=ProbeFailure": false, "alertname=ProbeFailure": false,
		"service=api,alertname=XProbeFailure": false, // anchored
	} {
		l := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			l[k] = v
		}
		if got := m(l); got != want {
			t.Errorf("%s: %v, want %v", labels, got, want)
		}
	}
	if _, err := CompileMatcher(map[string]string{"x": "~("}); err == nil {
		t.Error("a bad regex compiled")
	}
}

func TestAlertProbe(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	book := NewAlertBook()
	c := &Alert{ID: "prom", Book: book, StaleAfter: time.Hour, Clock: clk}
	if r := c.Probe(context.Background()); !r.OK() || r.Evidence() != "reports no alert firing" {
		t.Errorf("quiet: %+v %q", r, r.Evidence())
	}
	book.Put(upstate.FiringAlert{CheckID: "prom", Fingerprint: "w", Severity: "warning", Summary: "p99 over 2s", Source: "alertmanager", StartsAt: t0, SeenAt: t0})
	if r := c.Probe(context.Background()); r.Outcome != upstate.OutcomeSlow || r.Evidence() != "1 alert firing from alertmanager (warning: p99 over 2s)" {
		t.Errorf("warning: %+v %q", r, r.Evidence())
	}
	book.Put(upstate.FiringAlert{CheckID: "prom", Fingerprint: "c", Severity: "critical", Summary: "API down", Source: "alertmanager", StartsAt: t0.Add(time.Minute), SeenAt: t0})
	if r := c.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || !strings.HasPrefix(r.Evidence(), "2 alerts firing from alertmanager (critical: API down; warning: p99 over 2s)") {
		t.Errorf("critical: %q", r.Evidence())
	}
	book.Put(upstate.FiringAlert{CheckID: "prom", Fingerprint: "i", Severity: "info", Summary: "deploy", SeenAt: t0})
	if !book.Drop("prom", "c") || book.Drop("prom", "c") {
		t.Error("drop")
	}
	clk.Advance(2 * time.Hour) // the warning was not re-sent: stale
	if r := c.Probe(context.Background()); !r.OK() {
		t.Errorf("stale and info alerts count: %+v", r)
	}
	if Severity("") != upstate.StateDown || Severity("Warning") != upstate.StateDegraded || Severity("info") != upstate.StateUp {
		t.Error("severity mapping")
	}
}
