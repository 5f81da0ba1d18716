package typo

import (
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	names := []string{"interval", "timeout", "components", "url"}
	for _, tt := range []struct{ word, want string }{
		{"intervall", "interval"}, {"timout", "timeout"}, {"componets", "components"}, {"urll", "url"},
		{"address", ""}, {"", ""}, {strings.Repeat("x", 65), ""},
	} {
		if got := Closest(tt.word, names); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
