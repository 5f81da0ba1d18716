package config

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/check"
)

func noEnv(string) (string, bool) { return "", false }

// The example as written watches only Upstate itself (its own /healthz at
// server.listen), so the first serve shows nothing false; every other check
// is a commented example, and they load too when uncommented.
func TestExampleLoads(t *testing.T) {
	c, err := Parse("upstate.yaml", []byte(Example), noEnv)
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if len(c.Checks) != 1 || c.Checks[0].ID != "upstate-self" {
		t.Fatalf("the example's live checks = %v, want only upstate-self", c.Checks)
	}
	self := c.Checks[0].Section.(*check.HTTPSection)
	if want := "http://" + c.Server.Listen + "/healthz"; self.URL != want {
		t.Errorf("upstate-self watches %s, want %s (server.listen)", self.URL, want)
	}
	if c.Location.String() != "America/Los_Angeles" {
		t.Errorf("location = %v", c.Location)
	}
	if c.Components[1].DependsOn[0] != "database" {
		t.Errorf("depends_on = %v", c.Components[1].DependsOn)
	}
	if c.Page.AutomaticUpdates != "public" {
		t.Errorf("automatic_updates = %q, want the default public", c.Page.AutomaticUpdates)
	}
	if got := c.Components[1].Messages; got.Down != "The API is not answering: we are on it." || got.Resolved == "" {
		t.Errorf("the api component's messages = %+v", got)
	}

	all, err := Parse("upstate.yaml", []byte(uncommentChecks(Example)), func(string) (string, bool) { return "x", true })
	if err != nil {
		t.Fatalf("the example with every check uncommented: %v", err)
	}
	byID := map[string]Check{}
	for _, ch := range all.Checks {
		byID[ch.ID] = ch
	}
	api := byID["api-health"]
	apiHTTP := api.Section.(*check.HTTPSection)
	if apiHTTP.Expect.LatencyUnder != 2*time.Second || api.Timeout.D() != 10*time.Second || apiHTTP.Method != "GET" {
		t.Errorf("api-health = %+v %+v", api, apiHTTP)
	}
	if byID["web-home"].Timeout.D() != 10*time.Second {
		t.Errorf("default timeout = %v", byID["web-home"].Timeout.D())
	}
	hb := byID["nightly-drive-sync"]
	hbBeat := hb.Section.(*check.HeartbeatSection)
	if hb.Interval.D() != time.Minute || hbBeat.Period != 24*time.Hour || hbBeat.Grace != time.Hour {
		t.Errorf("heartbeat = %+v %+v", hb, hbBeat)
	}
	if byID["convert-docx"].Impact["down"] != "partial_outage" {
		t.Errorf("impact = %v", byID["convert-docx"].Impact)
	}
}

// uncommentChecks is text with every commented check example ("  # - id:"
// and the "  #   " lines under it) and the inbound section uncommented.
func uncommentChecks(text string) string {
	lines := strings.Split(text, "\n")
	in := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "  # - id: "):
			in = true
		case in && strings.HasPrefix(l, "  #   "):
		default:
			in = false
			if strings.HasPrefix(l, "# inbound:") {
				lines[i] = strings.TrimPrefix(l, "# ")
			}
			continue
		}
		lines[i] = strings.Replace(l, "  # ", "  ", 1)
	}
	return strings.Join(lines, "\n")
}

func TestProblems(t *testing.T) {
	const base = "page: {name: X, time_zone: UTC}\ncomponents:\n  - {id: web, name: Web}\n"
	tests := []struct {
		name string
		yaml string
		want []string // every line must appear, in order
	}{
		{"automatic updates", "page: {name: X, automatic_updates: later}\ncomponents:\n  - {id: web, name: Web}\n",
			[]string{`f.yaml:1: page.automatic_updates: "later" is not public or internal`}},
		{"accent colour", "page: {name: X, accent_color: blue}\ncomponents:\n  - {id: web, name: Web}\n",
			[]string{`f.yaml:1: page.accent_color: "blue" is not a colour as #rgb or #rrggbb (e.g. #0b5fff)`}},
		{"unknown message", base + "  - {id: api, messages: {broken: x}}\n",
			[]string{`f.yaml:4: components[1].messages: unknown key "broken"`}},
		{"unknown key", base + "checks:\n  - id: a\n    kind: http\n    url: http://x/\n    components: [web]\n    intervall: 5s\n",
			[]string{`f.yaml:9: checks[0]: unknown key "intervall" (did you mean "interval"?)`}},
		{"bad duration", base + "checks:\n  - id: a\n    kind: tcp\n    address: x:1\n    timeout: \"10\"\n    components: [web]\n",
			[]string{`f.yaml:8: checks[0].timeout: "10" is not a duration (e.g. 10s, 5m, 1h, 7d)`}},
		{"wrong type", base + "checks:\n  - id: a\n    kind: tcp\n    address: x:1\n    fail_after: many\n    components: [web]\n",
			[]string{`f.yaml:8: checks[0].fail_after: "many" is not a whole number`}},
		{"missing component", base + "checks:\n  - id: a\n    kind: tcp\n    address: x:1\n    components: [api]\n",
			[]string{`f.yaml:8: checks[0].components[0]: no component has id "api" (components: web)`}},
		{"duplicate ids", base + "  - {id: web, name: Again}\n",
			[]string{`f.yaml:4: components[1].id: duplicate component id "web" (first at line 3)`}},
		{"all at once", base + "checks:\n  - id: a\n    kind: http\n    components: [web]\n  - id: a\n    kind: dns\n    host: x\n    url: http://x\n    components: [nope]\n",
			[]string{
				`f.yaml:5: checks[0]: url is required for http checks`,
				`f.yaml:8: checks[1].id: duplicate check id "a" (first at line 5)`,
				`f.yaml:11: checks[1].url: url applies to http, upstream, websocket and browser checks, not dns`,
				`f.yaml:12: checks[1].components[0]: no component has id "nope" (components: web)`,
			}},
		{"unknown kind", base + "checks:\n  - {id: a, kind: ping, components: [web]}\n",
			[]string{`f.yaml:5: checks[0].kind: unknown kind "ping" (one of http, tcp, dns, heartbeat, alert, upstream, metric, quota, slo, grpc, websocket, icmp, smtp, tls, postgres, mysql, redis, browser)`}},
		{"bad zone", "page: {name: X, time_zone: Mars/Olympus}\ncomponents: [{id: a}]\n",
			[]string{`f.yaml:1: page.time_zone: "Mars/Olympus" is not a time zone name`}},
		{"dependency cycle", "page: {name: X}\ncomponents:\n  - {id: a, depends_on: [b]}\n  - {id: b, depends_on: [a]}\n",
			[]string{`dependencies form a cycle: a → b → a`}},
		{"missing env", base + "checks:\n  - {id: h, kind: heartbeat, period: 1h, token: '${HB_TOKEN}', components: [web]}\n",
			[]string{`f.yaml:5: checks[0].token: environment variable HB_TOKEN is not set`}},
		{"syntax", "page: [\n", []string{`f.yaml:`}},
		{"bad trusted proxy", base + "server:\n  trusted_proxies: [10.0.0.0/8, proxy.local]\n",
			[]string{`f.yaml:5: server.trusted_proxies[1]: "proxy.local" is not an address or CIDR (e.g. 10.0.0.0/8, 127.0.0.1 or fd00::/8)`}},
		{"latency over timeout", base + "checks:\n  - {id: a, kind: http, url: 'http://x', timeout: 1s, expect: {latency_under: 2s}, components: [web]}\n",
			[]string{`checks[0].expect.latency_under: 2s must be shorter than the timeout 1s`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.yaml), noEnv)
			if err == nil {
				t.Fatal("no error")
			}
			got := err.Error()
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error lacks %q\ngot:\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte("page: {name: X}\ncomponents: [{id: a}]\nchecks:\n  - {id: nightly, kind: heartbeat, period: 24h, components: [a]}\n  - {id: safe, kind: heartbeat, period: 1h, token: t0ken, components: [a]}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := `f.yaml:4: checks[0]: heartbeat check "nightly" has no token: anyone who can reach the server can ping it and hide a dead job (set token: ${ENV_VAR})`
	if len(cfg.Warnings) != 1 || cfg.Warnings[0] != want {
		t.Errorf("warnings = %q, want [%q]", cfg.Warnings, want)
	}
}

func TestTrustedProxies(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte("page: {name: X}\ncomponents: [{id: a}]\nserver: {trusted_proxies: [10.0.0.0/8, 127.0.0.1, '::ffff:192.0.2.1', 'fd00::1/8']}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.Server.Proxies); got != "[10.0.0.0/8 127.0.0.1/32 192.0.2.1/32 fd00::/8]" {
		t.Errorf("proxies = %s", got)
	}
	if cfg.Server.ForwardedHeader != "X-Forwarded-For" || len(cfg.Warnings) != 0 {
		t.Errorf("forwarded header %q, warnings %q", cfg.Server.ForwardedHeader, cfg.Warnings)
	}
	cfg, err = Parse("f.yaml", []byte("page: {name: X}\ncomponents: [{id: a}]\nserver: {trusted_proxies: ['0.0.0.0/0'], forwarded_header: forwarded}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.ForwardedHeader != "Forwarded" || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], `"0.0.0.0/0" trusts every address`) {
		t.Errorf("forwarded header %q, warnings %q", cfg.Server.ForwardedHeader, cfg.Warnings)
	}
	if _, err := Parse("f.yaml", []byte("page: {name: X}\ncomponents: [{id: a}]\nserver: {forwarded_header: X-Real-IP}\n"), noEnv); err == nil ||
		!strings.Contains(err.Error(), `server.forwarded_header: "X-Real-IP" is not X-Forwarded-For or Forwarded`) {
		t.Errorf("an unknown header: %v", err)
	}
}

// server.gogc: the collector's target, 30 unless given; outside 10 to 1000
// refused by its key, -1 (off) warned about.
func TestServerGOGC(t *testing.T) {
	parse := func(server string) (*Config, error) {
		return Parse("f.yaml", []byte("page: {name: X}\ncomponents: [{id: a}]\nserver: {"+server+"}\n"), noEnv)
	}
	for server, want := range map[string]int{"": DefaultGOGC, "gogc: 0": DefaultGOGC, "gogc: 200": 200, "gogc: 10": 10, "gogc: -1": -1} {
		cfg, err := parse(server)
		if err != nil || cfg.Server.GOGC != want {
			t.Errorf("%q: gogc %d, %v; want %d", server, cfg.Server.GOGC, err, want)
			continue
		}
		if off := len(cfg.Warnings) == 1 && strings.Contains(cfg.Warnings[0], "server.gogc: -1 turns Go's collector off"); off != (want == -1) {
			t.Errorf("%q: warnings %q", server, cfg.Warnings)
		}
	}
	for _, bad := range []string{"gogc: 5", "gogc: -2", "gogc: 5000"} {
		if _, err := parse(bad); err == nil || !strings.Contains(err.Error(), "server.gogc: ") || !strings.Contains(err.Error(), "is outside 10 to 1000") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// server.database: empty is SQLite; a postgres URL or keyword DSN, often
// from ${ENV}, is PostgreSQL; anything else is refused in words that never
// repeat it (it may hold a password).
func TestServerDatabase(t *testing.T) {
	env := map[string]string{"DB": "postgres://upstate:s3cret@db.internal:5432/upstate?sslmode=require"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	parse := func(db string) (*Config, error) {
		return Parse("f.yaml", []byte("page: {name: X}\ncomponents: [{id: a}]\nserver: {database: '"+db+"'}\n"), lookup)
	}
	cfg, err := Parse("f.yaml", []byte("page: {name: X}\ncomponents: [{id: a}]\n"), noEnv)
	if err != nil || cfg.Server.Database != "" {
		t.Fatalf("no database: %q, %v; want SQLite (empty)", cfg.Server.Database.Reveal(), err)
	}
	for _, ok := range []string{"${DB}", "postgresql://u@localhost/upstate", "postgres:///upstate?host=/run/postgresql",
		"host=db.internal port=5432 user=upstate password=s3cret dbname=upstate sslmode=disable", "host=db password=''a b'' dbname=x"} {
		cfg, err := parse(ok)
		if err != nil {
			t.Errorf("%s: %v", ok, err)
			continue
		}
		if ok == "${DB}" && cfg.Server.Database.Reveal() != env["DB"] {
			t.Errorf("${DB} = %q", cfg.Server.Database.Reveal())
		}
		if strings.Contains(fmt.Sprintf("%v %+v", cfg.Server, cfg.Server), "s3cret") {
			t.Errorf("printing the server section shows the password")
		}
	}
	cfg, err = parse("${DB}")
	if err != nil || len(cfg.Warnings) != 0 {
		t.Errorf("a DSN from the environment: %v, warnings %q", err, cfg.Warnings)
	}
	for _, literal := range []string{"postgres://u:s3cret@db/upstate", "host=db password=s3cret dbname=upstate"} {
		cfg, err = parse(literal)
		if err != nil || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "server.database: holds a password written in the file") ||
			strings.Contains(cfg.Warnings[0], "s3cret") {
			t.Errorf("%s: %v, warnings %q, want one warning of the password written in the file, without it", literal, err, cfg.Warnings)
		}
	}
	for _, bad := range []string{"mysql://u:s3cret@h/db", "/var/lib/upstate.db", "postgres://u:s3cret@/db", "s3cret"} {
		_, err := parse(bad)
		if err == nil || !strings.Contains(err.Error(), "server.database") {
			t.Errorf("%s: %v, want a problem at server.database", bad, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the problem repeats the value: %v", bad, err)
		}
	}
}

func TestEnvExpansion(t *testing.T) {
	env := map[string]string{"HB": "s3cret"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	src := "page: {name: '${NAME:-Acme}'}\ncomponents: [{id: a}]\nchecks:\n  - {id: h, kind: heartbeat, period: 1h, token: '${HB}', components: [a]}\n"
	c, err := Parse("f.yaml", []byte(src), lookup)
	if err != nil {
		t.Fatal(err)
	}
	token := c.Checks[0].Section.(*check.HeartbeatSection).Token
	if c.Page.Name != "Acme" || token.Reveal() != "s3cret" {
		t.Errorf("page.name=%q token=%q", c.Page.Name, token.Reveal())
	}
	if s := token.String(); s != "<secret>" {
		t.Errorf("token prints as %q", s)
	}
}

func TestPageBrandPaths(t *testing.T) {
	c, err := Parse("/etc/upstate/upstate.yaml", []byte("page: {name: X, logo: img/logo.svg, favicon: /srv/icon.png, accent_color: '#0B5FFF'}\ncomponents: [{id: a}]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Page.Logo != "/etc/upstate/img/logo.svg" || c.Page.Favicon != "/srv/icon.png" || c.Page.AccentColor != "#0b5fff" {
		t.Errorf("page = %+v: a relative image is the config file's neighbour, an absolute one is kept, the colour is lower case", c.Page)
	}
}

// The file's text is kept compressed and given back whole, as read.
func TestSourceKeptCompressed(t *testing.T) {
	var b strings.Builder
	b.WriteString("page: {name: X}\ncomponents: [{id: a}]\nchecks:\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "  - {id: k%d, kind: http, url: 'http://127.0.0.1:19000/k%d', components: [a]}\n", i, i)
	}
	text := []byte(b.String())
	cfg, err := Parse("f.yaml", text, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.FromFile() || !bytes.Equal(cfg.Source(), text) {
		t.Fatalf("Source gives %d bytes back, want the %d read", len(cfg.Source()), len(text))
	}
	if len(cfg.source.packed)*5 > len(text) {
		t.Errorf("kept %d bytes of a %d-byte file: want a fifth or less", len(cfg.source.packed), len(text))
	}
	if (&Config{}).FromFile() || (&Config{}).Source() != nil {
		t.Error("a configuration not read from a file has text")
	}
}
