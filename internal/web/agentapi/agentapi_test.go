package agentapi

import (
	_ "embed"
	"regexp"
	"strings"
	"testing"

	"github.com/upstatehq/upstate/internal/web/adminapi"
)

//go:embed agentapi.go
var source string

// Every agent route is in the API's description (adminapi's openapi.yaml,
// which documents the whole /api/v1).
func TestRoutesAreDocumented(t *testing.T) {
	routes := regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+) ([^"]+)"`).FindAllStringSubmatch(source, -1)
	if len(routes) == 0 {
		t.Fatal("no routes found")
	}
	for _, r := range routes {
		at := strings.Index(adminapi.OpenAPI, "\n  "+r[2]+":\n")
		if at < 0 {
			t.Errorf("%s %s is not in openapi.yaml", r[1], r[2])
			continue
		}
		if !strings.Contains(adminapi.OpenAPI[at:], "\n    "+strings.ToLower(r[1])+":") {
			t.Errorf("%s %s: no %s in openapi.yaml", r[1], r[2], strings.ToLower(r[1]))
		}
	}
}
