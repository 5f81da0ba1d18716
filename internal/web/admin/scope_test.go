package admin

import (
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
)

func TestTheFormsShareIsOneFigureOrARange(t *testing.T) {
	for _, c := range []struct{ in, want, shown string }{
		{"", "unknown", ""},
		{"25", "about 25% of requests failing", "25"},
		{" 25% ", "about 25% of requests failing", "25"},
		{"10-25", "10–25% of requests failing", "10–25"},
		{"10–25", "10–25% of requests failing", "10–25"},
		{"10% — 25%", "10–25% of requests failing", "10–25"},
		{"12.5 - 30", "12.5–30% of requests failing", "12.5–30"},
		{"25-25", "about 25% of requests failing", "25"},
	} {
		var r upstate.Reach
		if err := parseFailing(c.in, &r); err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := r.Describe(); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
		if got := formatFailing(r); got != c.shown {
			t.Errorf("%q shown again as %q, want %q", c.in, got, c.shown)
		}
	}
	// A minus sign is a number, for the engine to refuse as out of range.
	var r upstate.Reach
	if err := parseFailing("-5", &r); err != nil || *r.FailingPercent != -5 || r.FailingMax != nil {
		t.Errorf("-5: %v %+v", err, r)
	}
	for _, bad := range []string{"abc", "10-", "-", "10-x", strings.Repeat("1", 50)} {
		err := parseFailing(bad, &upstate.Reach{})
		if upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), "share of requests failing: ") || !strings.Contains(err.Error(), "is not a number, nor a range such as 10–25") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// The engine's words for a range, in the form's.
	got := formWords(upstate.Errorf(upstate.EINVALID, "reach.failing_percent: the range 25–10 is backwards: give the minimum first; reach.failing_percent_max: 120 is not between 0 and 100"),
		incidentLabels(nil, "What users see"))
	if want := "Share of requests failing: the range 25–10 is backwards: give the minimum first; Share of requests failing: 120 is not between 0 and 100"; got != want {
		t.Errorf("form words %q, want %q", got, want)
	}
}
