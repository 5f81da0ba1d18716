package upstate

import "testing"

func TestReachDescribesOneFigureOrARange(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		reach Reach
		want  string
		rng   bool
	}{
		{Reach{}, "unknown", false},
		{Reach{FailingPercent: f(25)}, "about 25% of requests failing", false},
		{Reach{FailingPercent: f(12.5)}, "about 12.5% of requests failing", false},
		{Reach{FailingPercent: f(10), FailingMax: f(25)}, "10–25% of requests failing", true},
		// A range whose ends meet is one figure.
		{Reach{FailingPercent: f(25), FailingMax: f(25)}, "about 25% of requests failing", false},
		// A top without a bottom is no share at all (validation refuses it).
		{Reach{FailingMax: f(25)}, "unknown", false},
		{Reach{FailingPercent: f(10), FailingMax: f(25), Regions: []string{"EU", "us-east"}, Segments: []string{"schools on SSO"}},
			"10–25% of requests failing; regions: EU, us-east; affecting: schools on SSO", true},
	} {
		if got := c.reach.Describe(); got != c.want {
			t.Errorf("Describe() = %q, want %q", got, c.want)
		}
		if got := c.reach.IsRange(); got != c.rng {
			t.Errorf("%q: IsRange() = %v", c.want, got)
		}
	}
	lo, hi, ok := Reach{FailingPercent: f(10), FailingMax: f(25)}.Failing()
	if lo != 10 || hi != 25 || !ok {
		t.Errorf("Failing() = %v, %v, %v", lo, hi, ok)
	}
	if _, _, ok := (Reach{Regions: []string{"EU"}}).Failing(); ok {
		t.Error("a scope with no share has one")
	}
	if (Reach{FailingMax: f(3)}).Empty() != true {
		t.Error("a top alone is not empty")
	}
}
