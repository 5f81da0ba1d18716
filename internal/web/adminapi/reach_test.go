package adminapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

func decodeChange(t *testing.T, body string) (changeBody, error) {
	t.Helper()
	var b changeBody
	r := httptest.NewRequest("POST", "/api/v1/incidents", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	err := respond.Decode(httptest.NewRecorder(), r, &b)
	return b, err
}

func TestReachTakesOneFigureOrARange(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"reach":{"failing_percent":25}}`, "about 25% of requests failing"},
		{`{"reach":{"failing_percent":[10, 25]}}`, "10–25% of requests failing"},
		{`{"reach":{"failing_percent_min":10,"failing_percent_max":25,"regions":["EU"]}}`, "10–25% of requests failing; regions: EU"},
		{`{"reach":{"failing_percent":[25, 25]}}`, "about 25% of requests failing"},
		{`{"reach":{"failing_percent":null,"regions":["EU"]}}`, "regions: EU"},
		// What the API answers may be sent back as it is.
		{`{"reach":{"failing_percent":25,"failing_percent_min":25,"failing_percent_max":25}}`, "about 25% of requests failing"},
		{`{"reach":{"failing_percent":null,"failing_percent_min":10,"failing_percent_max":25,"regions":[],"segments":[]}}`, "10–25% of requests failing"},
		{`{"reach":{"failing_percent":[10,25],"failing_percent_min":10,"failing_percent_max":25}}`, "10–25% of requests failing"},
	} {
		b, err := decodeChange(t, c.body)
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if got := b.Reach.reach().Describe(); got != c.want {
			t.Errorf("%s: %q, want %q", c.body, got, c.want)
		}
	}
	if b, err := decodeChange(t, `{"reach":null}`); err != nil || b.Reach != nil {
		t.Errorf("no reach: %+v, %v", b.Reach, err)
	}
}

func TestReachIsRefusedNamingTheField(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"reach":{"failing_percent":101}}`, "reach.failing_percent: 101 is not between 0 and 100"},
		{`{"reach":{"failing_percent":[25, 10]}}`, "reach.failing_percent: the range [25, 10] is backwards: give [min, max]"},
		{`{"reach":{"failing_percent":[10, 120]}}`, "reach.failing_percent[1]: 120 is not between 0 and 100"},
		{`{"reach":{"failing_percent":[10]}}`, "reach.failing_percent: want a number or a range [min, max]"},
		{`{"reach":{"failing_percent":[1, 2, 3]}}`, "reach.failing_percent: want a number or a range [min, max]"},
		{`{"reach":{"failing_percent":"many"}}`, `reach.failing_percent: want a number or a range [min, max] of two numbers from 0 to 100, got "many"`},
		{`{"reach":{"failing_percent_min":10}}`, "reach.failing_percent_min and reach.failing_percent_max go together"},
		{`{"reach":{"failing_percent_max":10}}`, "reach.failing_percent_min and reach.failing_percent_max go together"},
		{`{"reach":{"failing_percent_min":30,"failing_percent_max":10}}`, "reach.failing_percent_min: 30 is above failing_percent_max 10"},
		{`{"reach":{"failing_percent_min":-1,"failing_percent_max":10}}`, "reach.failing_percent_min: -1 is not between 0 and 100"},
		{`{"reach":{"failing_percent":20,"failing_percent_min":10,"failing_percent_max":25}}`, "reach.failing_percent disagrees with failing_percent_min"},
		{`{"reach":{"regions":"EU"}}`, "field reach.regions: want []string, got string"},
		{`{"reach":{"failing":25}}`, `unknown field "failing"`},
	} {
		_, err := decodeChange(t, c.body)
		if upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want EINVALID saying %q", c.body, err, c.want)
		}
	}
}

func TestReachIsAnsweredBothWays(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		reach upstate.Reach
		want  string
	}{
		{upstate.Reach{}, `{"failing_percent":null,"failing_percent_min":null,"failing_percent_max":null,"regions":[],"segments":[]}`},
		{upstate.Reach{FailingPercent: v(25)}, `{"failing_percent":25,"failing_percent_min":25,"failing_percent_max":25,"regions":[],"segments":[]}`},
		{upstate.Reach{FailingPercent: v(10), FailingMax: v(25), Regions: []string{"EU"}},
			`{"failing_percent":null,"failing_percent_min":10,"failing_percent_max":25,"regions":["EU"],"segments":[]}`},
	} {
		got, err := json.Marshal(reachOf(c.reach))
		if err != nil || string(got) != c.want {
			t.Errorf("%q: %s, want %s", c.reach.Describe(), got, c.want)
		}
		// And what is answered reads back as the same scope.
		b, err := decodeChange(t, `{"reach":`+string(got)+`}`)
		if err != nil || b.Reach.reach().Describe() != c.reach.Describe() {
			t.Errorf("%s read back: %v", got, err)
		}
	}
}
