package importer

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/upstatehq/upstate/internal/config"
)

// FuzzDocument feeds Parse and the converters arbitrary bytes: each
// returns a document or an error, never panics, and a document it
// returns is valid when read again.
func FuzzDocument(f *testing.F) {
	for _, name := range []string{"incidents.yaml", "incidents.json", "invalid.yaml", "hostile.yaml", "gatus.yaml", "uptime-kuma.json", "statuspage-incidents.json"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\nincidents: [{external_id: a, name: b, status: resolved, impact: none, started_at: 2026-01-01T00:00:00Z, resolved_at: 2026-01-01T00:00:00Z, scope: {failing_percent: [1, 2]}}]"))
	f.Add([]byte(`{"version":1,"incidents":[{"updates":[{"at":"2026-01-01T00:00:00+14:00"}]}]}`))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := Options{File: "fuzz", Now: testNow, Components: []string{"api"}}
		if doc, err := Parse(data, o); err == nil {
			out, err := doc.Marshal()
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if _, err := Parse(out, o); err != nil && !strings.Contains(err.Error(), "bytes is longer") {
				t.Fatalf("a valid document written out does not read back: %v\n%s", err, out)
			}
		}
		if doc, _, err := FromStatuspage(bytes.NewReader(data), o); err == nil {
			if _, err := doc.Marshal(); err != nil {
				t.Fatalf("marshal: %v", err)
			}
		}
		// What a converter writes, config reads: a converted file that
		// `upstate validate` refused would be the converter's bug.
		for _, conv := range []func() (*Converted, error){
			func() (*Converted, error) { return FromGatus(bytes.NewReader(data), "fuzz") },
			func() (*Converted, error) { return FromUptimeKuma(bytes.NewReader(data), "fuzz") },
		} {
			c, err := conv()
			if err != nil {
				continue
			}
			text := "page: {name: Fuzz}\nserver: {data_dir: /nonexistent}\n" + string(c.YAML)
			if _, err := config.Parse("fuzz.yaml", []byte(text), func(string) (string, bool) { return "x", true }); err != nil {
				t.Fatalf("config.Parse refuses a converter's output: %v\n%s", err, c.YAML)
			}
		}
	})
}
