package upstate_test

import (
	"os"
	"strings"
	"testing"
)

// The README's inline widget loader is the loader file, word for word:
// people paste it, and a copy that drifted would be a loader nobody tests.
func TestReadmeLoaderIsTheLoader(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	loader, err := os.ReadFile("internal/web/embed/static/loader.js")
	if err != nil {
		t.Fatal(err)
	}
	const open = "data-banner=\"conversion,drive\" data-timeout=\"3000\" data-refresh=\"60\">\n"
	_, rest, ok := strings.Cut(string(readme), open)
	inline, _, ok2 := strings.Cut(rest, "</script>")
	if !ok || !ok2 {
		t.Fatal("the README has no inline loader snippet")
	}
	if strings.TrimSpace(inline) != strings.TrimSpace(string(loader)) {
		t.Errorf("the README's inline loader differs from internal/web/embed/static/loader.js:\n%s", inline)
	}
}
