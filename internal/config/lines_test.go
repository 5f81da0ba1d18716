package config

import (
	"strings"
	"testing"
)

// A problem is told at the line of the value it is about, whether that
// value is on a line of its own or on its mapping's (a flow mapping,
// whose keys' lines are not recorded one by one, but told by the
// mapping's); a key's presence is judged by the keys written, not by a
// line being recorded.
func TestProblemsAtTheirLines(t *testing.T) {
	const base = "page: {name: X, url: 'https://status.example.com', time_zone: UTC}\ncomponents:\n  - {id: api, name: API}\n" +
		"notifications:\n  channels:\n    - {id: m, type: email, to: [d@example.com], smtp: {host: smtp.example.com, from: s@example.com}}\n" +
		"oncall:\n  people:\n    - {id: dana, channels: [m]}\n  schedules:\n    - id: s\n      layers:\n"
	for _, tc := range []struct {
		name, text string
		want       string // "" for no problem
	}{
		{"weekday on a daily layer, flow", base + "        - {rotation: daily, weekday: tue, start: 2026-08-04, people: [dana]}\n",
			"f.yaml:13: oncall.schedules[0].layers[0].weekday: applies to weekly rotations only"},
		{"weekday on a daily layer, block", base + "        - rotation: daily\n          start: 2026-08-04\n          weekday: tue\n          people: [dana]\n",
			"f.yaml:15: oncall.schedules[0].layers[0].weekday: applies to weekly rotations only"},
		{"a daily layer without one", base + "        - {rotation: daily, start: 2026-08-04, people: [dana]}\n", ""},
		{"a weekly layer with one", base + "        - {rotation: weekly, weekday: tue, start: 2026-08-04, people: [dana]}\n", ""},
		{"a check's bad key, flow", "page: {name: X}\ncomponents:\n  - {id: api, name: API}\nchecks:\n  - {id: a, kind: http, url: 'https://a.example.com', components: [api]}\n" +
			"  - {id: b, kind: http, url: 'https://b.example.com', interval: soon, components: [api]}\n", "f.yaml:6: checks[1].interval:"},
		{"a check's bad key, block", "page: {name: X}\ncomponents:\n  - {id: api, name: API}\nchecks:\n  - id: b\n    kind: http\n    url: 'https://b.example.com'\n" +
			"    interval: soon\n    components: [api]\n", "f.yaml:8: checks[0].interval:"},
		// Found by a reviewer: a map key holding '.' or '[' is not cut to
		// its mapping's path but to a sibling's.
		{"a key with a dot, above its sibling", "page: {name: X}\ncomponents:\n  - {id: api, name: API}\nchecks:\n  - id: a\n    kind: http\n    url: 'https://a.example.com'\n" +
			"    components: [api]\n    impact:\n      down.x: major_outage\n      down: major_outage\n", "f.yaml:10: checks[0].impact.down.x:"},
		{"a key with a dot, a flow mapping over two lines", "page: {name: X}\ncomponents:\n  - {id: api, name: API}\nchecks:\n  - id: a\n    kind: http\n    url: 'https://a.example.com'\n" +
			"    components: [api]\n    impact: {down.x: major_outage,\n      down: major_outage}\n", "f.yaml:9: checks[0].impact.down.x:"},
		{"a key with a bracket", "page: {name: X}\ncomponents:\n  - {id: api, name: API}\nchecks:\n  - id: a\n    kind: http\n    url: 'https://a.example.com'\n" +
			"    components: [api]\n    impact:\n      down[1]: major_outage\n      down: major_outage\n", "f.yaml:10: checks[0].impact.down[1]:"},
		{"a missing key, at its mapping", "page: {name: X}\ncomponents:\n  - {id: api, name: API}\nchecks:\n  - {id: a, kind: http, url: 'https://a.example.com', components: [api]}\n" +
			"  - {id: b, kind: http, components: [api]}\n", "f.yaml:6: checks[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.text), noEnv)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("problems: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("problems: %v; want %q", err, tc.want)
			}
		})
	}
}

// A database password written in the file is warned of, on a flow
// mapping's line as on a line of its own; one from the environment is not.
func TestDatabasePasswordWarning(t *testing.T) {
	const warn = "holds a password written in the file"
	env := func(k string) (string, bool) { return "postgres://u:secret@db.example.com/upstate", k == "DB" }
	for _, tc := range []struct {
		name, server string
		warned       bool
	}{
		{"flow, written", "server: {database: 'postgres://u:secret@db.example.com/upstate'}\n", true},
		{"block, written", "server:\n  listen: 127.0.0.1:8080\n  database: 'postgres://u:secret@db.example.com/upstate'\n", true},
		{"flow, from the environment", "server: {database: '${DB}'}\n", false},
		{"block, from the environment", "server:\n  listen: 127.0.0.1:8080\n  database: '${DB}'\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("f.yaml", []byte("page: {name: X}\ncomponents: [{id: api, name: API}]\n"+tc.server), env)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(strings.Join(c.Warnings, "\n"), warn); got != tc.warned {
				t.Errorf("warned %v, want %v: %q", got, tc.warned, c.Warnings)
			}
		})
	}
}
