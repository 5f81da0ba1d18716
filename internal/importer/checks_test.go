package importer

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/golden"
)

// parseConverted reads a converter's output as Upstate does, with a page
// block added, and returns the configuration.
func parseConverted(t *testing.T, c *Converted) *config.Config {
	t.Helper()
	text := "page: {name: Imported}\nserver: {data_dir: " + t.TempDir() + "}\n" + string(c.YAML)
	env := func(name string) (string, bool) {
		if strings.HasPrefix(name, "HEARTBEAT_TOKEN_") {
			return "a-token", true
		}
		return "", false
	}
	cfg, err := config.Parse("converted.yaml", []byte(text), env)
	if err != nil {
		t.Fatalf("config.Parse refuses the output:\n%v\n\n%s", err, c.YAML)
	}
	if got, want := len(cfg.Checks), c.Checks; got != want {
		t.Errorf("checks = %d, want %d", got, want)
	}
	return cfg
}

func convertFixture(t *testing.T, name string, conv func(r *bytes.Reader, file string) (*Converted, error)) *Converted {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := conv(bytes.NewReader(data), name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func warned(c *Converted, parts ...string) bool {
	for _, w := range c.Warnings {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(w.String(), p)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestGatus(t *testing.T) {
	c := convertFixture(t, "gatus.yaml", func(r *bytes.Reader, file string) (*Converted, error) { return FromGatus(r, file) })
	golden.Check(t, "gatus.out.yaml", c.YAML)
	cfg := parseConverted(t, c)

	kinds := map[string]string{}
	for _, ch := range cfg.Checks {
		kinds[ch.ID] = ch.Kind
	}
	for id, kind := range map[string]string{"website": "http", "api-health": "http", "login-page": "http", "database": "tcp",
		"gateway-ping": "icmp", "mail-tls": "tls", "live-updates": "websocket", "grading-service": "grpc", "dns-www": "dns", "dns-mail": "dns", "website-2": "http", "nightly-backup": "heartbeat"} {
		if kinds[id] != kind {
			t.Errorf("check %s is %q, want %s", id, kinds[id], kind)
		}
	}
	groups := map[string]string{}
	for _, comp := range cfg.Components {
		groups[comp.ID] = comp.Group
	}
	if groups["website"] != "Frontend" || groups["website-2"] != "Backend" || groups["nightly-backup"] != "Jobs" {
		t.Errorf("groups = %v", groups)
	}
	// Nothing is dropped silently: each of these is named.
	for _, w := range [][]string{
		{"not converted: storage, alerting, ui"},
		{"Frontend/Website", "alerts not converted"},
		{"Backend/API health", `"len([BODY].errors) == 0"`, "len()"},
		{"Backend/API health", `"[STATUS] != 500"`, "not-equal"},
		{"Frontend/Login page", `"[IP] == 203.0.113.10"`},
		{"Backend/Database", `"[RESPONSE_TIME] < 100"`, "no latency bound"},
		{"Metrics over UDP", "UDP endpoint", "no matching check kind"},
		{"Bastion", "ssh not converted"},
		{"Bastion", "SSH endpoint"},
		{"Old staging", "disabled"},
		{"Frontend/Website", "latency_under: 500ms", "degraded_performance"},
		{"Jobs/Nightly backup", "HEARTBEAT_TOKEN_NIGHTLY_BACKUP"},
		{"Pushed only", "without heartbeat.interval"},
	} {
		if !warned(c, w...) {
			t.Errorf("no warning says %q; warnings:\n%s", w, warningLines(c))
		}
	}
	if strings.Contains(string(c.YAML), "backup-job-token-not-copied") || strings.Contains(string(c.YAML), "secret") {
		t.Error("a Gatus secret was copied into the output")
	}
}

func warningLines(c *Converted) string {
	var b strings.Builder
	for _, w := range c.Warnings {
		b.WriteString("  " + w.String() + "\n")
	}
	return b.String()
}

func TestGatusRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "not a Gatus configuration"},
		{"no endpoints", "storage: {type: memory}", "no endpoints or external-endpoints"},
		{"list", "- a\n- b", "want a mapping with endpoints"},
		{"endpoints not a list", "endpoints: {name: x}", "not a Gatus configuration"},
		{"no name", "endpoints:\n  - url: https://example.com\n", "g.yaml:2: endpoints[0]: an endpoint without a name"},
		{"no url", "endpoints:\n  - name: x\n", `g.yaml:2: endpoints[0]: endpoint "x" has no url`},
		{"billion laughs", laughs("endpoints"), "more than 4000000 values once its aliases are expanded"},
		{"conditions not a list", "endpoints:\n  - name: x\n    url: https://example.com\n    conditions: 3\n", "g.yaml:2: endpoints[0]:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromGatus(strings.NewReader(tc.in), "g.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestUptimeKuma(t *testing.T) {
	c := convertFixture(t, "uptime-kuma.json", func(r *bytes.Reader, file string) (*Converted, error) { return FromUptimeKuma(r, file) })
	golden.Check(t, "uptime-kuma.out.yaml", c.YAML)
	cfg := parseConverted(t, c)
	kinds := map[string]string{}
	for _, ch := range cfg.Checks {
		kinds[ch.ID] = ch.Kind
	}
	for id, kind := range map[string]string{"web-app": "http", "login-page": "http", "api-health": "http", "database-port": "tcp",
		"gateway": "icmp", "mail-dns": "dns", "nightly-backup": "heartbeat", "maintenance-page": ""} {
		if kinds[id] != kind {
			t.Errorf("check %s is %q, want %s", id, kinds[id], kind)
		}
	}
	groups := map[string]string{}
	for _, comp := range cfg.Components {
		groups[comp.ID] = comp.Group
	}
	if groups["web-app"] != "Platform" || groups["database-port"] != "Platform / Databases" || groups["gateway"] != "" {
		t.Errorf("groups = %v", groups)
	}
	for _, w := range [][]string{
		{"notificationList: 1 notifications not converted"},
		{"No maintenance banner", "inverted keyword"},
		{"API health", "authentication (basic)"},
		{"Orders database", "postgres monitor has no matching"},
		{"Worker container", "docker monitor"},
		{"Old staging", "paused"},
		{"Maintenance page", "upside-down"},
		{"Queue depth", "JSONata"},
		{"SRV record", `record type "SRV"`},
		{"Nightly backup", "HEARTBEAT_TOKEN_NIGHTLY_BACKUP"},
	} {
		if !warned(c, w...) {
			t.Errorf("no warning says %q; warnings:\n%s", w, warningLines(c))
		}
	}
	for _, secret := range []string{"kumaPushTokenNotCopied", "hunter2", "kuma:secret"} {
		if strings.Contains(string(c.YAML), secret) {
			t.Errorf("a Kuma secret (%s) was copied into the output", secret)
		}
	}
}

func TestUptimeKumaRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "not an Uptime Kuma backup"},
		{"not json", "monitorList: []", "not an Uptime Kuma backup: line 1"},
		{"no monitors", `{"version": "1.23.0"}`, "it has no monitorList"},
		{"monitors not a list", `{"monitorList": {"1": {}}}`, "not an Uptime Kuma backup: line 1: monitorList"},
		{"bad number", "{\"monitorList\": [\n{\"interval\": \"often\"}]}", "not an Uptime Kuma backup"},
		{"bad bool", `{"monitorList": [{"active": "maybe"}]}`, "not an Uptime Kuma backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromUptimeKuma(strings.NewReader(tc.in), "k.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// laughs is a small YAML file whose aliases expand to billions of values.
func laughs(key string) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString(key + ": [*a9]\n")
	return b.String()
}
