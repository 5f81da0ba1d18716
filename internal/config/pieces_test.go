package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/benchheap"
)

const piecesHead = "page: {name: P, url: https://status.example.com}\ncomponents:\n  - {id: api, name: API}\n"

// items is n checks in flow style, one a line, each indented by indent.
func pieceItems(n int, indent string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s- {id: c%d, kind: http, url: 'https://a.example.com/%d', components: [api]}\n", indent, i, i)
	}
	return b.String()
}

// Parse reads the checks list a run at a time where it can: whatever the
// layout, it gives exactly what the file parsed whole gives (the same
// configuration, or the same problems at the same lines), and where the
// cut could change that it parses the file whole.
func TestPiecesAsWhole(t *testing.T) {
	many := pieceItems(3*runItems+7, "  ")
	for _, tc := range []struct {
		name   string
		text   string
		pieces bool // read in pieces, not whole
	}{
		{"the example", Example, true},
		{"the example, every check", uncommentChecks(Example), true},
		{"runs", piecesHead + "checks:\n" + many, true},
		{"runs, then more keys", piecesHead + "checks:\n" + many + "# after\nnotifications: {}\n", true},
		{"a list at column 0", piecesHead + "checks:\n" + pieceItems(runItems+1, ""), true},
		{"a comment on the key and between items", piecesHead + "checks: # all of them\n  # first\n" + pieceItems(2, "  ") + "\n# between\n\n" + pieceItems(1, "    "[:2]), true},
		{"no newline at the end", piecesHead + "checks:\n" + strings.TrimSuffix(pieceItems(3, "  "), "\n"), true},
		{"a document marker first", "---\n" + piecesHead + "checks:\n" + pieceItems(2, "  "), true},
		{"CRLF", strings.ReplaceAll(piecesHead+"checks:\n"+pieceItems(runItems+2, "  "), "\n", "\r\n"), true},
		{"block style items", piecesHead + "checks:\n  - id: a\n    kind: http\n    url: https://a.example.com\n    components: [api]\n    expect:\n      status: [200]\n  - id: b\n    kind: tcp\n    address: a.example.com:443\n    components: [api]\n", true},
		{"a block scalar", piecesHead + "checks:\n  - id: a\n    kind: http\n    name: |\n      two\n      lines\n    url: https://a.example.com\n    components: [api]\n", true},
		{"an anchor within a run", piecesHead + "checks:\n  - &one {id: a, kind: http, url: 'https://a.example.com', components: [api]}\n  - {id: b, kind: http, url: 'https://b.example.com', components: &c [api]}\n  - {id: d, kind: http, url: 'https://d.example.com', components: *c}\n", true},
		{"problems in later runs", piecesHead + "checks:\n" + many + "  - {id: c7, kind: http, url: 'https://a.example.com', components: [nope], tiemout: 5s}\n  - {id: x, kind: htp}\n", true},
		{"an unknown key, with its line", piecesHead + "checks:\n" + pieceItems(runItems, "  ") + "  - id: late\n    kind: http\n    url: https://a.example.com\n    componets: [api]\n", true},

		{"an alias to an anchor above the list", piecesHead + "x-api: &api [api]\nchecks:\n  - {id: a, kind: http, url: 'https://a.example.com', components: *api}\n", false},
		{"an alias across runs", piecesHead + "checks:\n  - {id: a, kind: http, url: 'https://a.example.com', components: &c [api]}\n" + pieceItems(runItems, "  ") + "  - {id: z, kind: http, url: 'https://z.example.com', components: *c}\n", false},
		{"an anchor the rest defines too", piecesHead + "x: &c [api]\nchecks:\n  - {id: a, kind: http, url: 'https://a.example.com', components: &c [api]}\ny: *c\n", false},
		{"a quoted scalar across a cut", piecesHead + "checks:\n" + pieceItems(runItems-1, "  ") + "  - {id: q, kind: http, url: 'https://a.example.com', name: \"two\n  - lines\", components: [api]}\n", false},
		{"a quoted scalar that hides the key", piecesHead + "x: \"one\nchecks:\n  - {id: a}\n\"\n", false},
		{"the key twice", piecesHead + "checks:\n" + pieceItems(1, "  ") + "checks:\n" + pieceItems(1, "  "), false},
		{"the key quoted, then plain", piecesHead + "\"checks\": []\nchecks:\n" + pieceItems(1, "  "), false},
		{"an empty list, then a key", piecesHead + "checks:\nnotifications: {}\n", false},
		{"a flow list", piecesHead + "checks: [{id: a, kind: http, url: 'https://a.example.com', components: [api]}]\n", false},
		{"a tab for indentation", piecesHead + "checks:\n\t- {id: a}\n", false},
		{"a directive", "%YAML 1.2\n---\n" + piecesHead + "checks:\n" + pieceItems(1, "  "), false},
		{"two documents", piecesHead + "checks:\n" + pieceItems(1, "  ") + "---\nchecks:\n" + pieceItems(1, "  "), false},
		{"an item less indented", piecesHead + "checks:\n    - {id: a}\n  - {id: b}\n", false},
		{"broken YAML in an item", piecesHead + "checks:\n  - {id: a\n", false},
		// Found by a reviewer's fresh read.
		{"a flow mapping around it all", "{\nchecks:\n  - a\n}\n", false},
		{"a flow mapping around a whole file", "{\npage: {name: P, url: https://status.example.com},\ncomponents: [{id: api, name: API}],\nchecks:\n" + pieceItems(1, "  ") + "}\n", false},
		{"a carriage return alone", piecesHead + "checks:\n" + strings.TrimSuffix(pieceItems(1, "  "), "\n") + "\r\r\n  - {id: b, kind: htp}\nbogus: 1\n", false},
		{"a line separator in a comment", piecesHead + "checks:\n" + strings.TrimSuffix(pieceItems(1, "  "), "\n") + " # x\u2028\n  - {id: b, kind: htp}\nbogus: 1\n", false},
		{"a next line in a comment", piecesHead + "checks:\n" + strings.TrimSuffix(pieceItems(1, "  "), "\n") + " # x\u0085\n  - {id: b, kind: htp}\nbogus: 1\n", false},
		{"nested past yaml's depth", "checks:\n  " + strings.Repeat("- ", 10000) + "a\n", false},
		{"nested to yaml's depth", piecesHead + "checks:\n  - " + strings.Repeat("- ", 9990) + "a\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.text)
			if got := readInPieces(data); got != tc.pieces {
				t.Errorf("read in pieces: %v, want %v", got, tc.pieces)
			}
			if c, err := Parse("f.yaml", data, pieceEnv); err == nil && c.cut != tc.pieces {
				t.Errorf("Config.cut %v, want %v", c.cut, tc.pieces)
			}
			sameAsWhole(t, data)
		})
	}
}

// readInPieces reports whether Parse reads data's checks list in pieces.
func readInPieces(data []byte) bool {
	root, p, _ := parseCut("f.yaml", data)
	if p == nil {
		return false
	}
	_, err := decodeRoot("f.yaml", data, nil, root, p, pieceEnv, nil)
	return !errors.Is(err, errWhole)
}

func pieceEnv(string) (string, bool) { return "x", true }

// sameAsWhole fails t unless Parse gives for data what parsing it whole
// gives.
func sameAsWhole(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := parseWhole("f.yaml", data, pieceEnv, nil)
	got, gotErr := Parse("f.yaml", data, pieceEnv)
	sameConfig(t, got, gotErr, want, wantErr)
}

// sameConfig fails t unless got and gotErr, read in pieces, are want and
// wantErr, read whole: the same problems, or the same configuration.
func sameConfig(t *testing.T, got *Config, gotErr error, want *Config, wantErr error) {
	t.Helper()
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("problems:\n%v\nread whole:\n%v", gotErr, wantErr)
	}
	if got == nil || want == nil {
		return
	}
	got.Lookup, want.Lookup = nil, nil
	got.cut = false // how it was read, not what
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the configuration differs from the file's read whole")
	}
}

// Whatever the text, reading it in pieces changes nothing.
func FuzzPiecesAsWhole(f *testing.F) {
	was := runItems
	runItems = 2 // cuts in small inputs
	f.Cleanup(func() { runItems = was })
	f.Add(piecesHead + "checks:\n" + pieceItems(3, "  "))
	f.Add(piecesHead + "checks:\n  - id: a\n    kind: http\n    name: |\n      x\n    url: https://a.example.com\n    components: [api]\n# c\nnotifications: {}\n")
	f.Add(piecesHead + "x: &c [api]\nchecks:\n  - {id: a, kind: http, url: 'https://a.example.com', components: &c [api]}\ny: *c\n")
	f.Add(piecesHead + "checks:\n- {id: a, kind: tcp, address: 'a:1', components: [api], name: \"q\n  - r\"}\n- {id: b}\n")
	f.Fuzz(func(t *testing.T, text string) {
		sameAsWhole(t, []byte(text))
	})
}

// BenchmarkParseChecks reads a file of 100,000 checks (bench/checks.sh's)
// whole and in pieces; peak-heap-MiB is the most the heap held beyond
// what it held before, sampled every millisecond.
//
//	go test -run '^$' -bench ParseChecks -benchtime 3x -benchmem ./internal/config
func BenchmarkParseChecks(b *testing.B) {
	data := benchChecks()
	for _, tc := range []struct {
		name  string
		parse func() (*Config, error)
	}{
		{"whole", func() (*Config, error) { return parseWhole("upstate.yaml", data, noEnv, nil) }},
		{"pieces", func() (*Config, error) { return Parse("upstate.yaml", data, noEnv) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			defer benchheap.Peak(b)()
			for b.Loop() {
				if c, err := tc.parse(); err != nil || len(c.Checks) != 100000 {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchChecks is bench/checks.sh's file of 100,000 checks.
func benchChecks() []byte {
	var text strings.Builder
	text.WriteString("page: {name: Bench, url: http://127.0.0.1:19080, time_zone: UTC}\nserver: {listen: 127.0.0.1:19080, data_dir: ./data}\ncomponents:\n")
	for c := range 100 {
		fmt.Fprintf(&text, "  - {id: c%d, name: Component %d, group: G%d}\n", c, c, c/10)
	}
	text.WriteString("checks:\n")
	for i := range 100000 {
		fmt.Fprintf(&text, "  - {id: k%d, kind: http, url: 'http://127.0.0.1:19000/k%d', interval: 30s, timeout: 5s, components: [c%d]}\n", i, i, i%100)
	}
	return []byte(text.String())
}

// BenchmarkFileKeys is what the console's list of checks reads of a file
// of 100,000: every check's keys (GET /api/v1/checks), a page of 500 from
// the middle (?limit=500&offset=50000) and one (GET /api/v1/checks/{id});
// and whether it has an id, as a console change asks.
//
//	go test -run '^$' -bench FileKeys -benchtime 3x -benchmem ./internal/config
func BenchmarkFileKeys(b *testing.B) {
	c, err := Parse("upstate.yaml", benchChecks(), noEnv)
	if err != nil || !c.cut {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		lo, hi int
	}{{"all", 0, 100000}, {"page", 50000, 50500}, {"one", 99999, 100000}} {
		b.Run(tc.name, func(b *testing.B) {
			defer benchheap.Peak(b)()
			for b.Loop() {
				if keys := FileKeysIn(c, upstate.ConsoleCheck, tc.lo, tc.hi); len(keys) != tc.hi-tc.lo {
					b.Fatal(len(keys))
				}
			}
		})
	}
	// FileHas, what a console change asks: the first time for a file
	// read (its ids walked and kept), and after.
	for _, tc := range []struct {
		name  string
		fresh bool
	}{{"has-first", true}, {"has-again", false}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if tc.fresh {
					c.fileIDs = &fileIDs{}
				}
				if !FileHas(c, upstate.ConsoleCheck, "k77777") || FileHas(c, upstate.ConsoleCheck, "nope") {
					b.Fatal("FileHas")
				}
			}
		})
	}
}

// WithConsole reads the file's checks list in pieces as Parse does, the
// console's checks after them: the merged configuration, what is
// shadowed and every problem (the file's at their lines, an item's at
// its paths) are what merging into the whole tree gives.
func TestConsoleInPiecesAsWhole(t *testing.T) {
	long := piecesHead + "checks:\n" + pieceItems(runItems+3, "  ")
	for _, tc := range []struct {
		name  string
		file  string
		items []upstate.ConsoleItem
	}{
		{"checks and a component", long, []upstate.ConsoleItem{
			item(upstate.ConsoleComponent, "drive", `{"id":"drive","name":"Drive"}`),
			item(upstate.ConsoleCheck, "drive-up", `{"id":"drive-up","kind":"tcp","address":"127.0.0.1:9","components":["drive","api"]}`),
			item(upstate.ConsoleCheck, "drive-dns", `{"id":"drive-dns","kind":"dns","host":"drive.example.com","components":["drive"],"regions":["local"]}`),
		}},
		{"one the file has, past a run", long, []upstate.ConsoleItem{
			item(upstate.ConsoleCheck, "c258", `{"id":"c258","kind":"tcp","address":"a:1","components":["api"]}`),
			item(upstate.ConsoleCheck, "new", `{"id":"new","kind":"tcp","address":"a:1","components":["api"]}`),
		}},
		{"an item's problem", long, []upstate.ConsoleItem{
			item(upstate.ConsoleCheck, "bad", `{"id":"bad","kind":"tcp","components":["nope"],"tiemout":"5s"}`),
		}},
		{"the file's problem past a run", long + "  - {id: c1, kind: http, url: 'https://a.example.com', components: [api]}\n", []upstate.ConsoleItem{
			item(upstate.ConsoleCheck, "new", `{"id":"new","kind":"tcp","address":"a:1","components":["api"]}`),
		}},
		{"components only", long, []upstate.ConsoleItem{item(upstate.ConsoleComponent, "drive", `{"id":"drive","name":"Drive"}`)}},
		{"problems without lines, in the file's order", "page: {name: P, url: https://status.example.com}\nchecks:\n" + pieceItems(1, "  ") + "components:\n  - {id: api, name: API}\n", []upstate.ConsoleItem{
			item(upstate.ConsoleComponent, "drive", `{"id":"drive","name":"Drive","nmae":"x"}`),
			item(upstate.ConsoleCheck, "new", `{"id":"new","kind":"tcp","address":"a:1","components":["api"],"tiemout":"5s"}`),
		}},
		{"a console check without an id, a file's check without one", piecesHead + "checks:\n  - {kind: http, url: 'https://a.example.com', components: [api]}\n", []upstate.ConsoleItem{
			item(upstate.ConsoleCheck, "", `{"kind":"tcp","address":"a:1","components":["api"]}`),
		}},
		{"a file read whole", "page: {name: P, url: https://status.example.com}\ncomponents:\n  - {id: &c api, name: API}\nchecks:\n  - {id: a, kind: http, url: 'https://a.example.com', components: [*c]}\n", []upstate.ConsoleItem{
			item(upstate.ConsoleCheck, "new", `{"id":"new","kind":"tcp","address":"a:1","components":["api"]}`),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The base is taken as it stands (problems and all): what is
			// compared is the merge.
			base := &Config{File: "f.yaml", Lookup: pieceEnv, source: packSource([]byte(tc.file))}
			want, wantErr := withConsole(base, tc.items, false, nil)
			got, gotErr := WithConsole(base, tc.items)
			sameConfig(t, got, gotErr, want, wantErr)
		})
	}
}

// What reads the file's checks again (an agent's definitions, the
// console's view of the file's keys) reads them in pieces too, and finds
// what the whole tree holds.
func TestFileReadsInPiecesAsWhole(t *testing.T) {
	text := piecesHead + "checks:\n" + pieceItems(2*runItems+5, "  ") +
		"  - {id: far, kind: http, url: 'https://far.example.com', headers: {X: '${T}'}, regions: [local, eu], components: [api]}\n"
	c, err := Parse("f.yaml", []byte(text), pieceEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !readInPieces([]byte(text)) {
		t.Fatal("the file was not read in pieces")
	}
	root, probs := parseNode("f.yaml", []byte(text))
	if probs != nil {
		t.Fatal(probs)
	}
	doc, _ := document(root)
	whole := mappingValue(doc, "checks").Content

	ids := []string{"far", "c0", fmt.Sprint("c", runItems), fmt.Sprint("c", 2*runItems+4)}
	defs, err := c.AgentYAMLs(ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range whole {
		id := scalar(mappingValue(n, "id"))
		if !slices.Contains(ids, id) {
			continue
		}
		want, _ := c.agentMapping(n)
		if string(defs[id]) != string(want) {
			t.Errorf("%s's definition:\n%s\nfrom the whole tree:\n%s", id, defs[id], want)
		}
	}
	if _, err := c.AgentYAMLs([]string{"far", "nope"}); err == nil || !strings.Contains(err.Error(), "check nope: not found") {
		t.Errorf("an unknown check: %v", err)
	}

	keys := FileKeys(c, upstate.ConsoleCheck)
	if len(keys) != len(whole) {
		t.Fatalf("%d checks' keys, the file has %d", len(keys), len(whole))
	}
	for i, n := range whole {
		var want map[string]any
		if err := n.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(keys[i], stringKeys(want)) {
			t.Fatalf("check %d's keys %v, the whole tree's %v", i, keys[i], want)
		}
	}
	for _, i := range []int{0, runItems, len(whole) - 1} {
		if got := FileKeysAt(c, upstate.ConsoleCheck, i); !reflect.DeepEqual(got, keys[i]) {
			t.Errorf("FileKeysAt %d: %v, FileKeys' %v", i, got, keys[i])
		}
	}
	if got := FileKeysAt(c, upstate.ConsoleCheck, len(whole)); got != nil {
		t.Errorf("FileKeysAt past the last: %v", got)
	}
	// A window parses only the runs that hold it (c.cut), and gives what
	// FileKeys gives there; so does a file parsed whole.
	whole2, err := parseWhole("f.yaml", []byte(text), pieceEnv, nil)
	if err != nil || !c.cut || whole2.cut {
		t.Fatalf("read in pieces %v, whole %v, %v", c.cut, whole2.cut, err)
	}
	n := len(whole)
	for _, w := range [][2]int{{0, 1}, {0, n}, {1, runItems + 2}, {runItems, runItems + 1}, {runItems - 1, 2*runItems + 1}, {n - 1, n + 5}, {-3, 2}, {n, n + 1}, {5, 5}, {7, 3}} {
		want := keys[min(max(w[0], 0), n):min(max(w[1], max(w[0], 0)), n)]
		for _, base := range []*Config{c, whole2} {
			got := FileKeysIn(base, upstate.ConsoleCheck, w[0], w[1])
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("FileKeysIn %v (cut %v): %d keys %v; FileKeys' %d %v", w, base.cut, len(got), got, len(want), want)
			}
		}
	}
	if comps := FileKeys(c, upstate.ConsoleComponent); len(comps) != 1 || comps[0]["id"] != "api" {
		t.Errorf("the components' keys: %v", comps)
	}
}

// FileHas finds what a search of FileKeys finds, without making every
// item's keys.
func TestFileHasAsFileKeys(t *testing.T) {
	text := piecesHead + "checks:\n" + pieceItems(runItems+2, "  ") +
		"  - {id: &n named, kind: http, url: 'https://a.example.com', components: [api]}\n" +
		"  - {id: *n, kind: http, url: 'https://b.example.com', components: [api]}\n" +
		"  - {id: '123', kind: http, url: 'https://c.example.com', components: [api]}\n" +
		"  - {id: 456, kind: http, url: 'https://d.example.com', components: [api]}\n" +
		"  - just a string\n"
	base := &Config{File: "f.yaml", source: packSource([]byte(text))}
	cached := &Config{File: "f.yaml", source: packSource([]byte(text)), fileIDs: &fileIDs{}}
	search := func(kind upstate.ConsoleKind, id string) bool {
		for _, k := range FileKeys(base, kind) {
			if s, _ := k["id"].(string); s == id {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		kind upstate.ConsoleKind
		id   string
	}{
		{upstate.ConsoleCheck, "c0"}, {upstate.ConsoleCheck, fmt.Sprint("c", runItems+1)}, {upstate.ConsoleCheck, "named"},
		{upstate.ConsoleCheck, "123"}, {upstate.ConsoleCheck, "456"}, {upstate.ConsoleCheck, "nope"},
		{upstate.ConsoleComponent, "api"}, {upstate.ConsoleComponent, "c0"},
	} {
		if got, want := FileHas(base, tc.kind, tc.id), search(tc.kind, tc.id); got != want {
			t.Errorf("FileHas(%s %q) = %v, a search of FileKeys %v", tc.kind, tc.id, got, want)
		}
		// A Config read by Parse keeps the ids of its first walk.
		if got, want := FileHas(cached, tc.kind, tc.id), search(tc.kind, tc.id); got != want {
			t.Errorf("FileHas(%s %q), ids kept, = %v, a search of FileKeys %v", tc.kind, tc.id, got, want)
		}
	}
	if !FileHas(base, upstate.ConsoleCheck, "c0") || FileHas(base, upstate.ConsoleCheck, "456") {
		t.Error("FileHas misses a check, or finds an id that is a number")
	}
	// The empty id is no item's, though the file has one without an id
	// (a search of FileKeys found it).
	if FileHas(base, upstate.ConsoleCheck, "") {
		t.Error(`FileHas found the id ""`)
	}
}
