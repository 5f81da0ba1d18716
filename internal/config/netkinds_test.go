package config

import (
	"strings"
	"testing"

	"github.com/upstatehq/upstate/internal/check"
)

// The network kinds' problems are placed at their lines, every one at once.
func TestNetworkKindProblems(t *testing.T) {
	src := "page: {name: X}\ncomponents: [{id: web}]\nchecks:\n" +
		"  - id: g\n    kind: grpc\n    address: nohost\n    insecure_skip_verify: true\n    components: [web]\n" + // lines 4-8
		"  - id: w\n    kind: websocket\n    url: http://x/\n    expect: {reply_regex: '(', latency_under: 20s}\n    components: [web]\n" + // 9-13
		"  - id: p\n    kind: icmp\n    host: db\n    count: 0\n    partial_loss: 120\n    components: [web]\n" + // 14-19
		"  - id: m\n    kind: smtp\n    address: mx.example.com\n    starttls: maybe\n    components: [web]\n" + // 20-24
		"  - id: c\n    kind: tls\n    address: api.example.com:443\n    warn_days: 7\n    fail_days: 7\n    components: [web]\n" + // 25-30
		"  - id: h\n    kind: http\n    url: https://x/\n    expect: {cert_days_left: 10, cert_fail_days: 12}\n    components: [web]\n" // 31-35
	_, err := Parse("f.yaml", []byte(src), noEnv)
	if err == nil {
		t.Fatal("no problems")
	}
	if strings.Contains(err.Error(), "down_loss") {
		t.Errorf("down_loss is judged against a partial_loss out of range:\n%v", err)
	}
	for _, want := range []string{
		`f.yaml:6: checks[0].address: "nohost" is not host:port`,
		`f.yaml:4: checks[0].tls: is off, so server_name, ca_file and insecure_skip_verify mean nothing: set tls: true`,
		`f.yaml:11: checks[1].url: "http://x/" is not a ws:// or wss:// URL`,
		`f.yaml:12: checks[1].expect.reply_regex: does not compile`,
		`f.yaml:12: checks[1].expect.latency_under: 20s must be shorter than the timeout 10s`,
		`f.yaml:18: checks[2].partial_loss: 120 is out of range (a percentage above 0, at most 100)`,
		`f.yaml:23: checks[3].starttls: "maybe" is not one of required, optional, off`,
		`f.yaml:29: checks[4].fail_days: 7 must be fewer than warn_days 7, or the check would fail before it warns`,
		`f.yaml:34: checks[5].expect.cert_fail_days: 12 must be fewer than cert_days_left 10`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q; got:\n%v", want, err)
		}
	}
}

// Defaults: an icmp check's packet loss is a partial outage, five
// packets; an smtp address gets port 25 and STARTTLS is required; a tls
// check warns under 14 days.
func TestNetworkKindDefaults(t *testing.T) {
	src := "page: {name: X}\ncomponents: [{id: web}]\nchecks:\n" +
		"  - {id: p, kind: icmp, host: 127.0.0.1, components: [web]}\n" +
		"  - {id: p2, kind: icmp, host: 127.0.0.1, components: [web], impact: {degraded: degraded_performance}}\n" +
		"  - {id: m, kind: smtp, address: mx.example.com, components: [web]}\n" +
		"  - {id: c, kind: tls, address: 'api.example.com:443', components: [web]}\n"
	cfg, err := Parse("f.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Checks[0].Section.(*check.ICMPSection); cfg.Checks[0].Impact["degraded"] != "partial_outage" || p.Count != 5 || *p.PartialLoss != 20 || *p.DownLoss != 100 {
		t.Errorf("icmp = %+v, impact %v", p, cfg.Checks[0].Impact)
	}
	if cfg.Checks[1].Impact["degraded"] != "degraded_performance" {
		t.Errorf("icmp's impact set by hand = %v", cfg.Checks[1].Impact)
	}
	if m := cfg.Checks[2].Section.(*check.SMTPSection); m.Address != "mx.example.com:25" || m.StartTLS != "required" || m.EHLO != "localhost" {
		t.Errorf("smtp = %+v", m)
	}
	if c := cfg.Checks[3].Section.(*check.TLSSection); c.WarnDays != nil || c.Address != "api.example.com:443" {
		t.Errorf("tls = %+v", c)
	}
}
