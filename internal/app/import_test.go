package app

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
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
