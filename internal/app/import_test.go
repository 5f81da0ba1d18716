package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/upstatehq/upstate/internal/importer"
)

// Editors check an import file against the schema Upstate serves.
func TestImportSchemaServed(t *testing.T) {
	_, base := startApp(t)
	resp, err := http.Get(base + "/api/v1/import/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var schema map[string]any
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/schema+json" || json.Unmarshal(b, &schema) != nil || schema["$schema"] == nil {
		t.Errorf("schema: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

// A component `upstate import` makes beside a running server is kept by
// the server's next reload, not dropped because the server did not know
// of it; and the import keeps the console's components the file lacks.
func TestImportBesideARunningServer(t *testing.T) {
	a, p := startConsoleApp(t)
	if code, out, _ := p["responder"].do("POST", "/api/v1/components", map[string]any{"id": "billing", "name": "Billing"}); code != 201 {
		t.Fatalf("console component: %d %v", code, out)
	}
	file := a.file.Load()
	doc, err := importer.Parse([]byte(`version: 1
components: [{id: sso, name: Single sign-on}]
incidents:
  - {external_id: "x:1", name: SSO down, status: resolved, impact: critical, components: [sso, billing],
     started_at: "2026-09-14T07:52:00Z", resolved_at: "2026-09-14T09:10:00Z"}
`), importer.Options{File: "h.yaml", Components: ComponentIDs(context.Background(), file)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ImportHistory(context.Background(), file, doc, "h.yaml"); err != nil {
		t.Fatal(err)
	}
	comps, err := a.store.ListComponents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range comps {
		ids[c.ID] = true
	}
	if !ids["billing"] || !ids["sso"] {
		t.Fatalf("after the import the store has %v: the console's and the import's components must both be there", ids)
	}
	if err := a.Reload(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	comps, _ = a.store.ListComponents(context.Background())
	ids = map[string]bool{}
	for _, c := range comps {
		ids[c.ID] = true
	}
	if !ids["billing"] || !ids["sso"] {
		t.Errorf("after a reload the store has %v", ids)
	}
}
