package config

import (
	"strings"
	"testing"
	"time"
)

// The keys of detection (issue 12): burst and fast_interval, for checks
// whose probe may be repeated, each problem at its line.
func TestBurstAndFastInterval(t *testing.T) {
	const base = "page: {name: X}\ncomponents: [{id: web}]\nchecks:\n"
	tests := []struct {
		name, check, want string
	}{
		{"burst on a told kind", "  - id: m\n    kind: metric\n    metric: errors\n    above: 5\n    burst: {count: 10}\n    components: [web]\n",
			`f.yaml:8: checks[0].burst: applies to checks whose probe is a request one may repeat (http, tcp, dns, grpc and websocket), not metric: a metric check is told its results`},
		{"fast interval on a heartbeat", "  - id: h\n    kind: heartbeat\n    period: 1h\n    token: t\n    fast_interval: 10s\n    components: [web]\n",
			`f.yaml:8: checks[0].fast_interval: applies to checks Upstate probes itself, not heartbeat: a heartbeat check is told its results`},
		{"always without samples", "  - id: a\n    kind: http\n    url: http://x/\n    burst: {count: 0, always: true}\n    components: [web]\n",
			`f.yaml:7: checks[0].burst.always: with count 0 there is no burst to take: give count, or leave always out`},
		{"too many samples", "  - id: a\n    kind: tcp\n    address: x:1\n    burst:\n      count: 50\n    components: [web]\n",
			`f.yaml:8: checks[0].burst.count: 50 is out of range (0 to 20; 0 turns bursts off)`},
		{"a burst longer than the interval", "  - id: a\n    kind: http\n    url: http://x/\n    interval: 10s\n    burst: {count: 5, over: 30s}\n    components: [web]\n",
			`f.yaml:8: checks[0].burst.over: 30s is longer than the interval 10s`},
		{"a burst too short", "  - id: a\n    kind: http\n    url: http://x/\n    burst: {over: 10ms}\n    components: [web]\n",
			`f.yaml:7: checks[0].burst.over: 10ms is too short: at least 100ms`},
		{"fast slower than the interval", "  - id: a\n    kind: dns\n    host: example.com\n    interval: 30s\n    fast_interval: 1m\n    components: [web]\n",
			`f.yaml:8: checks[0].fast_interval: 1m0s is longer than the interval 30s: it is how often the check runs while in trouble`},
		{"fast too fast", "  - id: a\n    kind: tcp\n    address: x:1\n    fast_interval: 500ms\n    components: [web]\n",
			`f.yaml:7: checks[0].fast_interval: 500ms is too short: at least 1s`},
		{"not a burst", "  - id: a\n    kind: tcp\n    address: x:1\n    burst: {count: 10, every: 1s}\n    components: [web]\n",
			`f.yaml:7: checks[0].burst: unknown key "every"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(base+tt.check), noEnv)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v\nwant %s", err, tt.want)
			}
		})
	}
	cfg, err := Parse("f.yaml", []byte(base+"  - {id: a, kind: http, url: 'http://x/', burst: {count: 0}, fast_interval: 20s, components: [web]}\n  - {id: b, kind: tcp, address: 'x:1', burst: {count: 6, over: 3s}, components: [web]}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Checks[0], cfg.Checks[1]
	if a.Burst == nil || a.Burst.Count == nil || *a.Burst.Count != 0 || a.FastInterval.D() != 20*time.Second {
		t.Errorf("check a: burst %+v, fast_interval %v", a.Burst, a.FastInterval.D())
	}
	if b.Burst == nil || *b.Burst.Count != 6 || b.Burst.Over.D() != 3*time.Second {
		t.Errorf("check b: burst %+v", b.Burst)
	}
}
