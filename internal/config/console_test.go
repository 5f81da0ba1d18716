package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
)

const consoleBase = `# the team's file
page: {name: Console test}
server: {console_env: [PG_DSN]}
components:
  - {id: api, name: API}   # the API
checks:
  - id: api-up
    kind: http
    url: ${API_URL:-http://127.0.0.1:1/}
    components: [api]
`

func consoleEnv(name string) (string, bool) {
	if name == "PG_DSN" {
		return "postgres://u:p@db/x", true
	}
	return "", false
}

func baseConfig(t *testing.T) *Config {
	t.Helper()
	c, err := Parse("upstate.yaml", []byte(consoleBase), consoleEnv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func item(kind upstate.ConsoleKind, id, keys string) upstate.ConsoleItem {
	return upstate.ConsoleItem{Kind: kind, ID: id, Keys: []byte(keys)}
}

func TestWithConsoleMergesItems(t *testing.T) {
	c, err := WithConsole(baseConfig(t), []upstate.ConsoleItem{
		item(upstate.ConsoleComponent, "drive", `{"id":"drive","name":"Drive","order":1}`),
		item(upstate.ConsoleCheck, "drive-up", `{"id":"drive-up","kind":"tcp","address":"127.0.0.1:9","components":["drive","api"],"paused":true}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Checks) != 2 || c.Checks[0].Console || !c.Checks[1].Console || !c.Checks[1].Paused || c.Checks[1].Timeout == 0 {
		t.Errorf("checks = %+v", c.Checks)
	}
	if len(c.Components) != 2 || c.Components[0].Console || !c.Components[1].Console || c.Components[1].Order != 1 {
		t.Errorf("components = %+v", c.Components)
	}
}

// An item is judged by the same code and words as the same keys in the
// file, at its own paths and without a line.
func TestConsoleProblemsAreYAMLsAtTheItemsPaths(t *testing.T) {
	cases := []struct{ name, keys string }{
		{"unknown component", `{"id":"x","kind":"http","url":"http://a/","components":["nope"]}`},
		{"other kind's key", `{"id":"x","kind":"http","url":"http://a/","address":"a:1","components":["api"]}`},
		{"typo", `{"id":"x","kind":"http","url":"http://a/","timout":"1s","components":["api"]}`},
		{"bad duration", `{"id":"x","kind":"http","url":"http://a/","timeout":"soon","components":["api"]}`},
		{"timeout over interval", `{"id":"x","kind":"http","url":"http://a/","interval":"5s","timeout":"10s","components":["api"]}`},
		{"no kind", `{"id":"x","components":["api"]}`},
		{"bad id", `{"id":"X Y","kind":"http","url":"http://a/","components":["api"]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WithConsole(baseConfig(t), []upstate.ConsoleItem{item(upstate.ConsoleCheck, "x", tc.keys)})
			got, ok := err.(*Problems)
			if !ok {
				t.Fatalf("err = %v, want *Problems", err)
			}
			// The same keys as the file's second check.
			yml := consoleBase + "  - " + tc.keys + "\n"
			_, yerr := Parse("upstate.yaml", []byte(yml), consoleEnv)
			want, ok := yerr.(*Problems)
			if !ok {
				t.Fatalf("YAML: %v", yerr)
			}
			if len(got.Items) != len(want.Items) {
				t.Fatalf("console: %v\nYAML: %v", got, want)
			}
			for i, g := range got.Items {
				w := want.Items[i]
				wantPath := strings.TrimPrefix(strings.TrimPrefix(w.Path, "checks[1]"), ".")
				if g.Item != `check "x"` || g.Line != 0 || g.Path != wantPath || g.Message != w.Message {
					t.Errorf("problem %d = %+v, want item check \"x\", path %q, %q", i, g, wantPath, w.Message)
				}
			}
			t.Log(got)
			if !strings.HasPrefix(got.Error(), `console check "x": `) {
				t.Errorf("Error() = %q", got.Error())
			}
		})
	}
}

func TestConsoleItemsTheFileHasAreShadowed(t *testing.T) {
	c, err := WithConsole(baseConfig(t), []upstate.ConsoleItem{
		item(upstate.ConsoleCheck, "api-up", `{"id":"api-up","kind":"tcp","address":"a:1","components":["api"]}`),
		item(upstate.ConsoleComponent, "api", `{"id":"api","name":"Other"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Shadowed) != 2 || len(c.Checks) != 1 || c.Checks[0].Kind != "http" || c.Components[0].Name != "API" {
		t.Errorf("shadowed = %v, checks = %+v", c.Shadowed, c.Checks)
	}
}

func TestExportThenParseIsTheSameConfiguration(t *testing.T) {
	base := baseConfig(t)
	items := []upstate.ConsoleItem{
		item(upstate.ConsoleComponent, "db", `{"description":"Postgres","id":"db","name":"Database","group":"Platform"}`),
		item(upstate.ConsoleCheck, "db-up", `{"components":["db"],"dsn":"${PG_DSN}","id":"db-up","kind":"postgres","interval":"30s"}`),
	}
	want, err := WithConsole(base, items)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Export(base, items)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, s := range []string{"# the team's file", "# the API", "${API_URL:-http://127.0.0.1:1/}", "${PG_DSN}", "# made in the console\n", "- id: db-up\n"} {
		if !strings.Contains(text, s) {
			t.Errorf("export lacks %q:\n%s", s, text)
		}
	}
	got, err := Parse("upstate.yaml", out, consoleEnv)
	if err != nil {
		t.Fatalf("export does not parse: %v\n%s", err, text)
	}
	same(t, got, want)

	// Nothing made in the console: the file, as it means.
	out, err = Export(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err = Parse("upstate.yaml", out, consoleEnv)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, base)
}

// same compares what two configurations run: checks and components,
// without where each came from.
func same(t *testing.T, got, want *Config) {
	t.Helper()
	strip := func(c *Config) ([]Component, []Check) {
		comps := append([]Component(nil), c.Components...)
		for i := range comps {
			comps[i].Console = false
		}
		checks := append([]Check(nil), c.Checks...)
		for i := range checks {
			checks[i].Console = false
		}
		return comps, checks
	}
	gc, gk := strip(got)
	wc, wk := strip(want)
	if !reflect.DeepEqual(gc, wc) {
		t.Errorf("components = %+v\nwant %+v", gc, wc)
	}
	if !reflect.DeepEqual(gk, wk) {
		t.Errorf("checks = %+v\nwant %+v", gk, wk)
	}
}

func TestSecretsAreRedactedUnlessReferences(t *testing.T) {
	keys := map[string]any{"id": "db", "kind": "postgres", "dsn": "postgres://u:hunter2@db/x"}
	red := RedactSecrets(keys)
	if red["dsn"] != Redacted || keys["dsn"] == Redacted {
		t.Errorf("redacted = %v (original %v)", red, keys)
	}
	if ref := RedactSecrets(map[string]any{"kind": "postgres", "dsn": "${PG_DSN}"}); ref["dsn"] != "${PG_DSN}" {
		t.Errorf("reference = %v", ref)
	}
	next := map[string]any{"id": "db", "kind": "postgres", "dsn": Redacted, "interval": "30s"}
	KeepSecrets(next, keys)
	if next["dsn"] != "postgres://u:hunter2@db/x" {
		t.Errorf("kept = %v", next)
	}
}

func TestFileKeysAreJSONs(t *testing.T) {
	c, err := Parse("upstate.yaml", []byte("page: {name: x}\ncomponents:\n  - {id: api, messages: {down: \"Down\"}}\nchecks:\n  - {id: a, kind: tcp, address: \"a:1\", components: [api], impact: {down: partial_outage}}\n"), consoleEnv)
	if err != nil {
		t.Fatal(err)
	}
	checks := FileKeys(c, upstate.ConsoleCheck)
	if len(checks) != 1 || checks[0]["address"] != "a:1" || checks[0]["impact"].(map[string]any)["down"] != "partial_outage" {
		t.Errorf("check keys = %v", checks)
	}
	if comps := FileKeys(c, upstate.ConsoleComponent); len(comps) != 1 || comps[0]["messages"].(map[string]any)["down"] != "Down" {
		t.Errorf("component keys = %v", comps)
	}
	if got := stringKeys(map[any]any{1: []any{map[any]any{true: "x"}}}); !reflect.DeepEqual(got, map[string]any{"1": []any{map[string]any{"true": "x"}}}) {
		t.Errorf("stringKeys = %#v", got)
	}
}

func TestUnknownKey(t *testing.T) {
	if err := UnknownKey(upstate.ConsoleComponent, map[string]any{"name": "x", "gruop": "y"}); err == nil || err.Error() != `unknown key "gruop" (did you mean "group"?)` {
		t.Errorf("component: %v", err)
	}
	if err := UnknownKey(upstate.ConsoleCheck, map[string]any{"interval": "1m", "url": "http://x", "address": "x:1"}); err != nil {
		t.Errorf("a check's common and kinds' keys: %v", err)
	}
	if err := UnknownKey(upstate.ConsoleCheck, map[string]any{"intervall": "1m"}); err == nil {
		t.Error("a misspelt check key is accepted")
	}
}

// Someone with checks:write is not the server's owner: a console item may
// not read the server's environment outside the secret keys the file
// allows, nor name a file on the server.
func TestConsoleLimits(t *testing.T) {
	base := baseConfig(t)
	for _, tt := range []struct{ keys, want string }{
		{`{"id":"leak","kind":"http","url":"http://x/","timeout":"${PG_DSN}","components":["api"]}`, `timeout: ${PG_DSN}: a check made in the console may reference the environment only in its secret keys`},
		{`{"id":"leak","kind":"postgres","dsn":"${HOME}","components":["api"]}`, `dsn: ${HOME} is not one the configuration lets the console use (server.console_env lists them)`},
		{`{"id":"leak","kind":"http","url":"https://x/","ca_file":"/dev/zero","components":["api"]}`, `ca_file: reads a file on the server: a check made in the console may not`},
		{`{"id":"leak","kind":"http","url":"http://x/","headers":{"X":"${PG_DSN}"},"components":["api"]}`, `headers.X: ${PG_DSN}: a check made in the console may reference the environment only in its secret keys`},
	} {
		_, err := WithConsole(base, []upstate.ConsoleItem{item(upstate.ConsoleCheck, "leak", tt.keys)})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.keys, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "postgres://") {
			t.Errorf("%s: the error shows the variable's value: %v", tt.keys, err)
		}
	}
	if _, err := WithConsole(base, []upstate.ConsoleItem{item(upstate.ConsoleCheck, "db", `{"id":"db","kind":"postgres","dsn":"${PG_DSN}","components":["api"]}`)}); err != nil {
		t.Errorf("an allowed variable in a secret key: %v", err)
	}
}
