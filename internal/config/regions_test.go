package config

import (
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
)

func TestRegions(t *testing.T) {
	const base = "page: {name: X}\ncomponents:\n  - {id: web, name: Web}\nchecks:\n"
	bad := []struct{ name, check, want string }{
		{"quorum too big", "  - {id: a, kind: http, url: 'http://x/', regions: [local, eu], quorum: 3, components: [web]}\n",
			"checks[0].quorum: 3 is out of range (1 to 2, the number of regions)"},
		{"quorum without regions", "  - {id: a, kind: http, url: 'http://x/', quorum: 1, components: [web]}\n",
			"checks[0].quorum: applies to a check that names regions"},
		{"told kind", "  - {id: h, kind: heartbeat, period: 1h, regions: [eu], components: [web]}\n",
			"checks[0].regions: applies to checks Upstate probes itself, not heartbeat"},
		{"bad name", "  - {id: a, kind: tcp, address: 'x:1', regions: [EU West], components: [web]}\n",
			`checks[0].regions[0]: "EU West" is not a region name`},
		{"twice", "  - {id: a, kind: tcp, address: 'x:1', regions: [eu, eu], components: [web]}\n",
			`checks[0].regions[1]: "eu" is named twice`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(base+tt.check), noEnv)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	c, err := Parse("f.yaml", []byte(base+"  - {id: a, kind: http, url: 'http://x/', regions: [us-west, us-east, eu], components: [web]}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if q := c.Checks[0].Quorum; q != 2 {
		t.Fatalf("default quorum of three regions: %d, want 2 (a majority)", q)
	}
}

// An agent compiles the check the server sends it with the same kinds,
// its ${ENV} references resolved by the server, the server's own keys left
// out.
func TestAgentYAMLRoundTrip(t *testing.T) {
	src := "page: {name: X}\ncomponents:\n  - {id: web, name: Web}\nchecks:\n" +
		"  - id: api\n    kind: http\n    url: 'https://api.example.com/health'\n    headers: {Authorization: 'Bearer ${API_TOKEN}'}\n" +
		"    interval: 30s\n    regions: [local, eu]\n    quorum: 1\n    fail_after: 2\n    components: [web]\n"
	env := func(k string) (string, bool) { return "s3cret", k == "API_TOKEN" }
	c, err := Parse("f.yaml", []byte(src), env)
	if err != nil {
		t.Fatal(err)
	}
	def, err := c.AgentYAML("api")
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"regions", "quorum", "fail_after", "components", "${"} {
		if strings.Contains(string(def), gone) {
			t.Fatalf("the agent's copy has %q:\n%s", gone, def)
		}
	}
	ac, err := AgentChecks([][]byte{def})
	if err != nil {
		t.Fatalf("%v\n%s", err, def)
	}
	if len(ac.Checks) != 1 || ac.Checks[0].ID != "api" || ac.Checks[0].Interval.D().String() != "30s" {
		t.Fatalf("agent's checks: %+v", ac.Checks)
	}
	if !strings.Contains(string(def), "Bearer s3cret") {
		t.Fatalf("the header's secret was not resolved:\n%s", def)
	}
	if _, err := c.AgentYAML("nope"); err == nil {
		t.Fatal("an unknown check was found")
	}
	if _, err := AgentChecks(nil); err != nil {
		t.Fatalf("no checks: %v", err)
	}
}

// A check made in the console may name regions, judged as the file's
// are (at its own paths), and its agents are sent its keys.
func TestConsoleChecksNameRegions(t *testing.T) {
	c, err := WithConsole(baseConfig(t), []upstate.ConsoleItem{item(upstate.ConsoleCheck, "x", `{"id":"x","kind":"http","url":"http://a/","interval":"30s","regions":["local","eu","us"],"quorum":2,"fail_after":2,"components":["api"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	var x *Check
	for i := range c.Checks {
		if c.Checks[i].ID == "x" {
			x = &c.Checks[i]
		}
	}
	if x == nil || !x.Console || len(x.Regions) != 3 || x.Quorum != 2 {
		t.Fatalf("the console's check: %+v", x)
	}
	def, err := c.AgentYAML("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"regions", "quorum", "fail_after", "components"} {
		if strings.Contains(string(def), gone) {
			t.Fatalf("the agent's copy has %q:\n%s", gone, def)
		}
	}
	if ac, err := AgentChecks([][]byte{def}); err != nil || len(ac.Checks) != 1 || ac.Checks[0].ID != "x" || ac.Checks[0].Interval.D().String() != "30s" {
		t.Fatalf("the agent's compile of %s: %+v %v", def, ac, err)
	}
	for _, tc := range []struct{ keys, path, want string }{
		{`{"id":"y","kind":"http","url":"http://a/","regions":["EU"],"components":["api"]}`, "regions[0]", "is not a region name"},
		{`{"id":"y","kind":"http","url":"http://a/","regions":["eu","us"],"quorum":3,"components":["api"]}`, "quorum", "out of range"},
		{`{"id":"y","kind":"http","url":"http://a/","quorum":1,"components":["api"]}`, "quorum", "give regions too"},
	} {
		_, err := WithConsole(baseConfig(t), []upstate.ConsoleItem{item(upstate.ConsoleCheck, "y", tc.keys)})
		p, ok := err.(*Problems)
		if !ok || len(p.Items) != 1 || p.Items[0].Item != `check "y"` || p.Items[0].Path != tc.path || !strings.Contains(p.Items[0].Message, tc.want) {
			t.Errorf("%s: got %#v, want %s: %s", tc.keys, err, tc.path, tc.want)
		}
	}
}
