package adminapi

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPICoversEveryRoute keeps the served description and the routes
// in step: every route registered is documented, and every documented
// path exists.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal([]byte(OpenAPI), &doc); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	mux := http.NewServeMux()
	s := &Server{}
	s.Register(mux)
	// The routes, read back from Register's source of truth: the patterns.
	routes := regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+ [^"]+)"`).FindAllStringSubmatch(registerSource, -1)
	if len(routes) == 0 {
		t.Fatal("no routes found")
	}
	for _, r := range routes {
		if r[1] == "GET /api/v1/openapi.yaml" {
			continue
		}
		if !documented[r[1]] {
			t.Errorf("route %s is not in openapi.yaml", r[1])
		}
		delete(documented, r[1])
	}
	// Served by the web package, beside the public page, and by agentapi
	// (its own test keeps its routes documented here).
	for _, r := range []string{"POST /api/v1/heartbeats/{id}", "POST /api/v1/alerts", "POST /api/v1/alerts/alertmanager", "POST /api/v1/alerts/grafana",
		"GET /api/v1/agent/checks", "POST /api/v1/agent/results"} {
		delete(documented, r)
	}
	for d := range documented {
		t.Errorf("openapi.yaml documents %s, which is not a route", d)
	}
}
