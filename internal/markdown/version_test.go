package markdown

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// Version names the configuration and what the libraries make of the
// probe, so HTML kept from a binary whose libraries render otherwise is
// made again; it is the same on every call.
func TestVersionNamesWhatIsRendered(t *testing.T) {
	v := Version()
	sum := sha256.Sum256([]byte(New().HTML(probe)))
	if want := "upstate-md/" + policyVersion + " " + hex.EncodeToString(sum[:8]); !strings.HasPrefix(v, want) {
		t.Errorf("Version() = %q; want it to begin %q", v, want)
	}
	if Version() != v {
		t.Error("Version() changed between calls")
	}
	// The probe reaches what New configures: each extension (the task
	// list's box the policy takes out), the hard wraps, raw HTML left out
	// and the policy's link attributes.
	h := string(New().HTML(probe))
	for _, want := range []string{"<del>c</del>", "<li> task</li>", "<table>", `<a href="https://example.com/a" rel="nofollow noreferrer noopener" target="_blank">`,
		`<a href="/c" rel="nofollow">r</a> j <img`, "line<br>\nbreak", "raw x<br>"} {
		if !strings.Contains(h, want) {
			t.Errorf("the probe's HTML has no %q: %s", want, h)
		}
	}
}
