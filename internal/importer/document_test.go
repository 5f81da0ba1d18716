package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/golden"
)

// now is the tests' present: after every fixture's times.
var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func opts(file string) Options {
	return Options{File: file, Now: testNow, Components: []string{"api", "web"}}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestParseYAMLAndJSON reads the same document written in YAML and in
// JSON (with tabs, as JSON tools write it) to the same value.
func TestParseYAMLAndJSON(t *testing.T) {
	var docs []*Document
	for _, name := range []string{"incidents.yaml", "incidents.json"} {
		doc, err := Parse(readFixture(t, name), opts(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, doc)
	}
	if !reflect.DeepEqual(docs[0], docs[1]) {
		t.Errorf("YAML and JSON differ:\n%+v\n%+v", docs[0], docs[1])
	}
	doc := docs[0]
	if got, want := len(doc.Incidents), 2; got != want {
		t.Fatalf("incidents = %d, want %d", got, want)
	}
	in := doc.Incidents[0]
	if got, want := *in.Scope.FailingPercent, (Percent{20, 35}); got != want {
		t.Errorf("failing_percent = %v, want %v", got, want)
	}
	if got, want := *doc.Incidents[1].Scope.FailingPercent, (Percent{5, 5}); got != want {
		t.Errorf("failing_percent = %v, want %v", got, want)
	}
	if in.Updates[1].Public {
		t.Error("an update without public: true must be an internal note")
	}
	if got, want := in.Updates[1].At, time.Date(2026, 9, 14, 8, 5, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("updates[1].at = %v, want %v (the offset kept)", got, want)
	}
}

// TestProblems pins every problem of a file wrong in many ways, each at
// its line and path, reported at once.
func TestProblems(t *testing.T) {
	_, err := Parse(readFixture(t, "invalid.yaml"), opts("invalid.yaml"))
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want *Problems", err)
	}
	golden.Check(t, "invalid.problems", []byte(err.Error()+"\n"))
	for _, it := range probs.Items {
		if it.Line == 0 {
			t.Errorf("problem without a line: %+v", it)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", "", "x.yaml: the file is empty"},
		{"not a mapping", "[1, 2]", "x.yaml:1: want a mapping with keys, got a list"},
		{"version missing", "incidents: []", "x.yaml:1: version: version is required (version: 1)"},
		{"version unknown", "version: 2\nincidents: []", "x.yaml:1: version: version 2 is not known: this Upstate reads version 1"},
		{"incidents missing", "version: 1", "x.yaml:1: incidents: incidents is required (a list; it may be empty)"},
		{"typo", "version: 1\nincidents: []\nincident: []", `x.yaml:3: unknown key "incident" (did you mean "incidents"?)`},
		{"twice", "version: 1\nincidents: []\nincidents: []", `x.yaml:3: key "incidents" appears twice`},
		{"syntax", "version: 1\nincidents: [\n", "x.yaml:2: did not find expected node content"},
		{"alias", "version: 1\nx: &a [1]\nincidents: *a", "anchors and aliases are not allowed"},
		{"not utf-8", "version: 1\nincidents: []\n# \xff", "x.yaml: the file is not UTF-8 text"},
		{"json line", "{\"version\": 1,\n \"incidents\": [\n  {\"external_id\": \"a\", \"name\": \"x\", \"status\": \"resolved\", \"impact\": \"none\",\n   \"started_at\": \"2026-01-01T00:00:00Z\"}]}", "x.yaml:3: incidents[0]: resolved_at is required with status resolved"},
		{"json duplicate key", "{\"version\": 1,\n \"version\": 1, \"incidents\": []}", `x.yaml:2: key "version" appears twice`},
		{"json string for number", `{"version": "1", "incidents": []}`, `x.yaml:1: version: want a whole number, got "1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), Options{File: "x.yaml", Now: testNow})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		_, err := Read(bytes.NewReader(make([]byte, MaxBytes+1)), Options{File: "big.yaml"})
		if err == nil || !strings.Contains(err.Error(), "larger than 32 MiB") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("incidents", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("version: 1\nincidents:\n")
		for range MaxIncidents + 1 {
			b.WriteString("- {}\n")
		}
		_, err := Parse([]byte(b.String()), Options{File: "many.yaml"})
		if err == nil || !strings.Contains(err.Error(), "100001 incidents is more than 100000") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("problems", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("version: 1\nincidents:\n")
		for range 500 {
			b.WriteString("- {}\n")
		}
		_, err := Parse([]byte(b.String()), Options{File: "bad.yaml"})
		var probs *Problems
		if !errors.As(err, &probs) || len(probs.Items) != MaxProblems || probs.More == 0 {
			t.Fatalf("err = %v", err)
		}
		if !strings.HasSuffix(err.Error(), fmt.Sprintf("bad.yaml: and %d more problems", probs.More)) {
			t.Errorf("the last line does not count the rest: %q", err.Error()[len(err.Error())-60:])
		}
	})
}

// TestIncidentConversion turns an imported incident into Upstate's own.
func TestIncidentConversion(t *testing.T) {
	doc, err := Parse(readFixture(t, "incidents.yaml"), opts("incidents.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in := doc.Incidents[0].Incident()
	if in.Status != upstate.Postmortem || in.Impact != upstate.ImpactMajor || in.ResolvedAt == nil {
		t.Errorf("status, impact, resolution = %s, %s, %v", in.Status, in.Impact, in.ResolvedAt)
	}
	if lo, hi, _ := in.Reach.Failing(); lo != 20 || hi != 35 {
		t.Errorf("failing percent = %v–%v, want the range 20–35 kept", lo, hi)
	}
	if got, want := in.Reach.Describe(), "20–35% of requests failing; regions: EU; affecting: schools on SSO"; got != want {
		t.Errorf("reach = %q, want %q", got, want)
	}
	// One number stays one figure.
	if one := doc.Incidents[1].Incident(); one.Reach.FailingMax != nil || one.Reach.Describe() != "about 5% of requests failing" {
		t.Errorf("one number: %q", one.Reach.Describe())
	}
	if in.Upstream == nil || in.Upstream.Provider != "Google Workspace" {
		t.Errorf("upstream = %+v", in.Upstream)
	}
	if got, want := in.Updates[1].Status, upstate.Investigating; got != want {
		t.Errorf("an update without a status keeps the one before: %s, want %s", got, want)
	}
	// An update with until is a span; the others are moments.
	if u := in.Updates[1].Until; u == nil || !u.Equal(time.Date(2026, 9, 14, 8, 20, 0, 0, time.UTC)) || !in.Updates[1].Span() || in.Updates[0].Until != nil {
		t.Errorf("until = %v, first %v", u, in.Updates[0].Until)
	}
	if !in.UpdatedAt.Equal(*in.ResolvedAt) || !in.CreatedAt.Equal(in.DetectedAt) {
		t.Errorf("updated %v, created %v", in.UpdatedAt, in.CreatedAt)
	}
	pm := doc.Incidents[0].PostmortemDoc()
	if pm.Status != upstate.PostmortemPublished || !strings.HasPrefix(pm.RootCause, "For 78 minutes") ||
		!strings.Contains(pm.Fix, "Prevention: Offer password") || pm.Actions[0].Text != "Add a fallback link to the SSO error page (due 2026-10-01)" || pm.Actions[1].State != "done" {
		t.Errorf("postmortem = %+v", pm)
	}
	open := doc.Incidents[1].Incident()
	if open.MonitoringAt == nil || !open.Open() || doc.Incidents[1].PostmortemDoc() != nil {
		t.Errorf("open incident = %+v", open)
	}
}

// TestFutureTimesRefused: an import records what happened.
func TestFutureTimesRefused(t *testing.T) {
	data := readFixture(t, "incidents.yaml")
	_, err := Parse(data, Options{File: "incidents.yaml", Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Components: []string{"api"}})
	if err == nil || !strings.Contains(err.Error(), "incidents[1].started_at: 2026-11-30T22:10:00-05:00 is in the future") {
		t.Errorf("err = %v", err)
	}
}

// TestMarshalRoundTrip: a Document written out (as the Statuspage
// importer does) reads back as itself.
func TestMarshalRoundTrip(t *testing.T) {
	doc, err := Parse(readFixture(t, "incidents.yaml"), opts("incidents.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out, opts("out.yaml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(normal(doc), normal(back)) {
		t.Errorf("round trip differs:\n%s", out)
	}
}

// normal puts every time in UTC, as a written document has them.
func normal(d *Document) *Document {
	b, _ := yaml.Marshal(d)
	var c Document
	_ = yaml.Unmarshal(b, &c)
	return &c
}

// TestSchemaMatchesTypes keeps the JSON Schema and the Go types in step:
// every key of every type is a property in the schema, at the same place,
// and the schema has no property the types lack; every object refuses
// keys it does not list, as Parse does.
func TestSchemaMatchesTypes(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal([]byte(Schema), &schema); err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	if got := schema["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", got)
	}
	defs, _ := schema["$defs"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		for range 10 {
			ref, ok := s["$ref"].(string)
			if !ok {
				return s
			}
			def, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			if !ok {
				t.Fatalf("$ref %s names nothing", ref)
			}
			s = def
		}
		return s
	}
	fromSchema := map[string]bool{}
	var walkSchema func(s map[string]any, path string)
	walkSchema = func(s map[string]any, path string) {
		s = resolve(s)
		if items, ok := s["items"].(map[string]any); ok && s["type"] == "array" {
			walkSchema(items, path+"[]")
			return
		}
		props, ok := s["properties"].(map[string]any)
		if !ok {
			return
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: the schema must refuse unknown keys (additionalProperties: false)", path)
		}
		for k, sub := range props {
			p := strings.TrimPrefix(path+"."+k, ".")
			fromSchema[p] = true
			walkSchema(sub.(map[string]any), p)
		}
		required, _ := s["required"].([]any)
		for _, r := range required {
			if props[r.(string)] == nil {
				t.Errorf("%s: required %s is not a property", path, r)
			}
		}
	}
	walkSchema(schema, "")

	fromTypes := map[string]bool{}
	var walkType func(t reflect.Type, path string)
	walkType = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Slice:
			walkType(t.Elem(), path+"[]")
			return
		case t.Kind() != reflect.Struct || t == timeType || t == percentType:
			return
		}
		for i := 0; i < t.NumField(); i++ {
			k := yamlKey(t.Field(i))
			if k == "" {
				continue
			}
			p := strings.TrimPrefix(path+"."+k, ".")
			fromTypes[p] = true
			walkType(t.Field(i).Type, p)
		}
	}
	walkType(reflect.TypeFor[Document](), "")

	var missing, extra []string
	for p := range fromTypes {
		if !fromSchema[p] {
			missing = append(missing, p)
		}
	}
	for p := range fromSchema {
		if !fromTypes[p] {
			extra = append(extra, p)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("keys of the Go types missing from schema.json: %s", strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("keys of schema.json the Go types lack: %s", strings.Join(extra, ", "))
	}
	if len(fromTypes) < 40 {
		t.Errorf("only %d keys found in the types: the walk is broken", len(fromTypes))
	}
}

// TestSchemaEnumsMatchRoot keeps the schema's statuses and impacts those
// of the root package.
func TestSchemaEnumsMatchRoot(t *testing.T) {
	for _, want := range []string{
		`"status": {"enum": ["` + strings.Join([]string{string(upstate.Investigating), string(upstate.Identified), string(upstate.Monitoring), string(upstate.Resolved), string(upstate.Postmortem)}, `", "`) + `"]}`,
		`"impact": {"enum": ["` + strings.Join([]string{string(upstate.ImpactNone), string(upstate.ImpactMinor), string(upstate.ImpactMajor), string(upstate.ImpactCritical)}, `", "`) + `"]}`,
	} {
		if !strings.Contains(Schema, want) {
			t.Errorf("schema.json lacks %s", want)
		}
	}
	if !strings.Contains(statusNames, string(upstate.Postmortem)) || !strings.Contains(impactNames, string(upstate.ImpactCritical)) {
		t.Error("the words in problems are out of step")
	}
}

// TestHostile: a file built to hurt gets a bounded list of problems.
func TestHostile(t *testing.T) {
	_, err := Parse(readFixture(t, "hostile.yaml"), opts("hostile.yaml"))
	if err == nil {
		t.Fatal("no problems")
	}
	golden.Check(t, "hostile.problems", []byte(err.Error()+"\n"))
}
