package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/upstatehq/upstate/internal/check"
)

// The check kinds' registry (check.Kinds), the README and the example
// `upstate init` writes list the same kinds; these tests keep them so.

// keyPaths are the dotted paths of every key a section type takes, at
// every depth ("expect", "expect.status").
func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for _, f := range yamlFields(t) {
		p := joinKey(prefix, f.name)
		out = append(out, p)
		if inner := elemType(f.typ); inner.Kind() == reflect.Struct {
			out = append(out, keyPaths(inner, p)...)
		}
	}
	return out
}

func sectionType(k check.Kind) reflect.Type { return reflect.TypeOf(k.New()).Elem() }

func commonKeys() []string {
	var out []string
	for _, f := range yamlFields(checkType) {
		out = append(out, f.name)
	}
	return out
}

// readmeChecks returns the README's kind sentence ("Every check: ...
// `kind` (`http`, ...)") and its check table, kind → the row's keys.
func readmeChecks(t *testing.T) (sentence []string, table map[string]string, order []string) {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, ref, ok := strings.Cut(string(data), "## Configuration reference")
	if !ok {
		t.Fatal(`the README has no "Configuration reference"`)
	}
	_, rest, ok := strings.Cut(ref, "Every check: `id`, `kind` (")
	list, _, ok2 := strings.Cut(rest, ")")
	if !ok || !ok2 {
		t.Fatal("the README has no \"Every check: `id`, `kind` (...)\" sentence")
	}
	sentence = backticked(list)
	_, rest, ok = strings.Cut(ref, "| kind | keys |\n| --- | --- |\n")
	if !ok {
		t.Fatal("the README has no `| kind | keys |` table")
	}
	table = map[string]string{}
	row := regexp.MustCompile("^\\| `([^`]+)` \\| (.*) \\|$")
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("a row of the README's check table is not | `kind` | keys |: %s", line)
		}
		table[m[1]], order = m[2], append(order, m[1])
	}
	return sentence, table, order
}

var backtickRe = regexp.MustCompile("`([^`]+)`")

func backticked(s string) []string {
	var out []string
	for _, m := range backtickRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestKindsAreDocumented(t *testing.T) {
	sentence, table, order := readmeChecks(t)
	names := check.KindNames()
	if !sameSet(sentence, names) {
		t.Errorf("the README's \"Every check: ... `kind` (...)\" lists %v; the registry has %v", sentence, names)
	}
	if !sameSet(order, names) || len(order) != len(table) {
		t.Errorf("the README's check table has rows for %v; the registry has %v", order, names)
	}

	// Which key names (at any depth) each kind takes, and which any does.
	kindKeys := map[string][]string{}
	anyKind := map[string]bool{}
	for _, k := range check.Kinds() {
		for _, p := range keyPaths(sectionType(k), "") {
			kindKeys[k.Name] = append(kindKeys[k.Name], p)
			anyKind[lastKey(p)] = true
		}
	}
	keyLike := regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)*$`)
	for _, k := range check.Kinds() {
		row, ok := table[k.Name]
		if !ok {
			continue
		}
		words := backticked(row)
		// Every key the kind takes is in its row.
		for _, f := range yamlFields(sectionType(k)) {
			if !slices.ContainsFunc(words, func(w string) bool { return w == f.name || strings.HasPrefix(w, f.name+".") }) {
				t.Errorf("the README's %s row does not mention %s", k.Name, f.name)
			}
		}
		// A key the row names is the kind's own, or every check's.
		for _, w := range words {
			if !keyLike.MatchString(w) {
				continue
			}
			first, _, dotted := strings.Cut(w, ".")
			switch {
			case dotted && anyKind[first]:
				if !slices.Contains(kindKeys[k.Name], w) {
					t.Errorf("the README's %s row names %s, which %s checks do not take", k.Name, w, k.Name)
				}
			case !dotted && anyKind[w]:
				if !slices.ContainsFunc(kindKeys[k.Name], func(p string) bool { return lastKey(p) == w }) && !slices.Contains(commonKeys(), w) {
					t.Errorf("the README's %s row names %s, which %s checks do not take", k.Name, w, k.Name)
				}
			}
		}
	}
}

func lastKey(path string) string { return path[strings.LastIndex(path, ".")+1:] }

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Every kind has an example in the file `upstate init` writes, and the
// example loads: the commented ones too, once uncommented.
func TestEveryKindHasAnExample(t *testing.T) {
	lines := strings.Split(string(Example), "\n")
	any := func(string) (string, bool) { return "x", true }
	for _, k := range check.KindNames() {
		t.Run(k, func(t *testing.T) {
			want := regexp.MustCompile(`^  (# )?  kind: ` + regexp.QuoteMeta(k) + `(\s|$)`)
			at := slices.IndexFunc(lines, want.MatchString)
			if at < 0 {
				t.Fatalf("the example has no %s check", k)
			}
			start := at
			for start > 0 && !strings.Contains(lines[start], "- id: ") {
				start--
			}
			id := strings.TrimSpace(lines[start][strings.Index(lines[start], "- id: ")+len("- id: "):])
			text := slices.Clone(lines)
			if strings.HasPrefix(lines[at], "  # ") {
				// Uncomment the block (and inbound, which alert checks need).
				for i := start; i < len(text) && (i == start || strings.HasPrefix(text[i], "  #   ")); i++ {
					text[i] = strings.Replace(text[i], "  # ", "  ", 1)
				}
				for i, l := range text {
					if strings.HasPrefix(l, "# inbound:") {
						text[i] = strings.TrimPrefix(l, "# ")
					}
				}
			}
			cfg, err := Parse("upstate.yaml", []byte(strings.Join(text, "\n")), any)
			if err != nil {
				t.Fatalf("the example's %s check %s does not load:\n%v", k, id, err)
			}
			if !slices.ContainsFunc(cfg.Checks, func(c Check) bool { return c.ID == id && c.Kind == k }) {
				t.Errorf("no %s check %q in the example as loaded", k, id)
			}
		})
	}
}

// A key only other kinds take is refused, naming the kinds that take it:
// for every kind, every key of every other kind, and every key within a
// key two kinds take in different shapes (expect).
func TestKeysOfOtherKindsAreRefused(t *testing.T) {
	const base = "page: {name: X}\ncomponents: [{id: web}]\ninbound: {token: t}\nchecks:\n"
	takes := func(path string) []string {
		var names []string
		for _, k := range check.Kinds() {
			if slices.Contains(keyPaths(sectionType(k), ""), path) {
				names = append(names, k.Name)
			}
		}
		return names
	}
	refused := func(t *testing.T, kind, yamlKey, path string) {
		t.Helper()
		src := base + fmt.Sprintf("  - {id: a, kind: %s, components: [web], %s}\n", kind, yamlKey)
		_, err := Parse("f.yaml", []byte(src), noEnv)
		want := fmt.Sprintf("f.yaml:5: checks[0].%s: %s applies to %s checks, not %s", path, lastKey(path), list(takes(path)), kind)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s on a %s check: want %q, got:\n%v", path, kind, want, err)
		}
	}
	n := 0
	for _, k := range check.Kinds() {
		own := map[string]reflect.Type{}
		for _, f := range yamlFields(sectionType(k)) {
			own[f.name] = f.typ
		}
		for _, o := range check.Kinds() {
			if o.Name == k.Name {
				continue
			}
			for _, f := range yamlFields(sectionType(o)) {
				mine, ok := own[f.name]
				if !ok {
					refused(t, k.Name, f.name+": ~", f.name)
					n++
					continue
				}
				theirs, ours := elemType(f.typ), elemType(mine)
				if theirs == ours || theirs.Kind() != reflect.Struct || ours.Kind() != reflect.Struct {
					continue
				}
				for _, sub := range yamlFields(theirs) {
					if !slices.ContainsFunc(yamlFields(ours), func(x yamlField) bool { return x.name == sub.name }) {
						refused(t, k.Name, fmt.Sprintf("%s: {%s: ~}", f.name, sub.name), f.name+"."+sub.name)
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no kind takes a key another does not: nothing was tried")
	}
	t.Logf("%d keys of other kinds tried", n)
}

// The common keys are the check's own: no kind's section may take one,
// or it would never be decoded into the section.
func TestSectionsTakeNoCommonKey(t *testing.T) {
	for _, k := range check.Kinds() {
		for _, f := range yamlFields(sectionType(k)) {
			if slices.Contains(commonKeys(), f.name) {
				t.Errorf("the %s section takes %s, a key every check has", k.Name, f.name)
			}
		}
	}
}

// Each kind's section holds what the check says: a heartbeat's token and
// an upstream's feed defaults are there after loading.
func TestSectionsAreDecoded(t *testing.T) {
	src := "page: {name: X}\ncomponents: [{id: web}]\nchecks:\n" +
		"  - {id: hb, kind: heartbeat, period: 1h, token: s3cret, components: [web], grace: 5m}\n" +
		"  - {id: gw, kind: upstream, feed: google-workspace, components: [web]}\n" +
		"  - {id: dns, kind: dns, host: example.com, server: 1.1.1.1, expect: {latency_under: 1s}, components: [web]}\n"
	cfg, err := Parse("f.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	hb := cfg.Checks[0].Section.(*check.HeartbeatSection)
	// The interval is a twentieth of the period, at most a minute.
	if hb.Token.Reveal() != "s3cret" || hb.Grace.Minutes() != 5 || cfg.Checks[0].Interval.D().Seconds() != 60 {
		t.Errorf("heartbeat = %+v, interval %v", hb, cfg.Checks[0].Interval.D())
	}
	up := cfg.Checks[1].Section.(*check.UpstreamSection)
	if up.URL != "https://www.google.com/appsstatus/dashboard/incidents.json" || up.Provider != "Google Workspace" || cfg.Checks[1].FailAfter != 1 || cfg.Checks[1].Recheck == nil {
		t.Errorf("upstream = %+v, common %+v", up, cfg.Checks[1])
	}
	if d := cfg.Checks[2].Section.(*check.DNSSection); d.Server != "1.1.1.1:53" || d.RecordType != "A" || d.Expect.LatencyUnder.Seconds() != 1 {
		t.Errorf("dns = %+v", d)
	}
}
