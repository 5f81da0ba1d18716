package app

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// A scope's share as a range, end to end: declared and updated through
// the API (both ways of giving it, and refused naming the field), kept,
// answered both ways, said on the public page and its incident page,
// left out of Statuspage's JSON (which has no scope) without breaking it,
// and typed as "10-25" in the admin form.
func TestScopeAsARange(t *testing.T) {
	a, base := startApp(t)
	rui := browser(t, base, "responder@example.com", "responder password")
	code, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": "Uploads failing", "components": map[string]string{"drive": "partial_outage"},
		"reach": map[string]any{"failing_percent": []float64{10, 25}, "regions": []string{"EU"}}})
	if code != 201 {
		t.Fatalf("declare with a range: %d %v", code, out)
	}
	in := out["incident"].(map[string]any)
	id := in["id"].(string)
	if r := in["reach"].(map[string]any); r["failing_percent"] != nil || r["failing_percent_min"] != 10.0 || r["failing_percent_max"] != 25.0 {
		t.Errorf("a range answered as %v", r)
	}
	if got, err := a.store.GetIncident(t.Context(), id); err != nil || got.Reach.Describe() != "10–25% of requests failing; regions: EU" {
		t.Errorf("kept as %q (%v)", got.Reach.Describe(), err)
	}
	page := publicGet(t, a, "/incidents/"+id)
	if !strings.Contains(page, "Scope: 10–25% of requests failing; regions: EU") {
		t.Errorf("the incident page does not say the range:\n%s", page)
	}
	if !strings.Contains(publicGet(t, a, "/"), "Scope: 10–25% of requests failing") {
		t.Error("the page does not say the range")
	}
	for _, path := range []string{"/api/v2/incidents.json", "/api/v2/incidents/unresolved.json", "/api/v2/summary.json"} {
		var doc map[string]any
		if err := json.Unmarshal([]byte(publicGet(t, a, path)), &doc); err != nil {
			t.Errorf("%s is no longer JSON: %v", path, err)
		}
	}

	// An update by failing_percent_min/max; the timeline says it.
	code, out, _ = rui.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"reach": map[string]any{"failing_percent_min": 20, "failing_percent_max": 40}})
	if code != 200 {
		t.Fatalf("update with min/max: %d %v", code, out)
	}
	in = out["incident"].(map[string]any)
	if body := in["updates"].([]any)[0].(map[string]any)["body"]; body != "Scope: 20–40% of requests failing." {
		t.Errorf("the update says %q", body)
	}
	// One figure again: answered as before ranges, min and max beside it.
	code, out, _ = rui.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"reach": map[string]any{"failing_percent": 30}})
	if r := out["incident"].(map[string]any)["reach"].(map[string]any); code != 200 || r["failing_percent"] != 30.0 || r["failing_percent_min"] != 30.0 || r["failing_percent_max"] != 30.0 {
		t.Errorf("one figure: %d %v", code, r)
	}
	for _, tc := range []struct {
		reach map[string]any
		want  string
	}{
		{map[string]any{"failing_percent": []float64{40, 20}}, "reach.failing_percent: the range [40, 20] is backwards"},
		{map[string]any{"failing_percent_min": 20, "failing_percent_max": 140}, "reach.failing_percent_max: 140 is not between 0 and 100"},
		{map[string]any{"failing_percent_min": 20}, "reach.failing_percent_min and reach.failing_percent_max go together"},
		{map[string]any{"failing_percent": []any{"a", "b"}}, "reach.failing_percent: want a number or a range [min, max]"},
	} {
		if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"reach": tc.reach}); code != 400 || !strings.Contains(errMsg(out), tc.want) {
			t.Errorf("%v: %d %q, want 400 saying %q", tc.reach, code, errMsg(out), tc.want)
		}
	}

	// The admin form: "10-25" is a range, shown back as it reads.
	ui := newUI(t, base)
	ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}}, nil)
	code, body, _ := ui.post("/admin/incidents/"+id+"/updates", url.Values{"message": {"Narrowed down."}, "failing_percent": {"10-25"}}, nil)
	if code != 200 || !strings.Contains(body, "10–25% of requests failing") || !strings.Contains(body, `value="10–25"`) {
		t.Errorf("form range: %d\n%s", code, body)
	}
	for in, want := range map[string]string{
		"25-10":  "Share of requests failing: the range 25–10 is backwards: give the minimum first",
		"10-120": "Share of requests failing: 120 is not between 0 and 100",
		"ten":    "Share of requests failing: &#34;ten&#34; is not a number, nor a range such as 10–25",
	} {
		code, body, _ := ui.post("/admin/incidents/"+id+"/updates", url.Values{"message": {"x"}, "failing_percent": {in}}, nil)
		if code != 400 || !strings.Contains(body, want) {
			t.Errorf("form %q: %d, want %q", in, code, want)
		}
	}
}
