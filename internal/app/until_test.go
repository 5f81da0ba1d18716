package app

import (
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/clock"
)

// An entry may tell of a span: the admin API takes until beside at on a
// declare, an update and a resolution, answers with it, refuses one that
// is unreadable, in the future or before its at with a 400 naming the
// field, and the report tells it "8:42 am to 9:05 am".
func TestEntryUntilAPI(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 17, 17, 0, 0, 0, time.UTC)) // 10 am PDT
	_, base := startAppOn(t, clk)
	rui := browser(t, base, "responder@example.com", "responder password")
	day := "2026-08-17T"
	code, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": "Database lock", "components": map[string]string{"api": "partial_outage"},
		"started_at": day + "07:54:00-07:00", "at": day + "08:00:00-07:00", "until": day + "08:10:00-07:00", "message": "Requests were slow."})
	if code != 201 {
		t.Fatalf("declare with until: %d %v", code, out)
	}
	in := out["incident"].(map[string]any)
	id := in["id"].(string)
	if first := in["updates"].([]any)[0].(map[string]any); first["until"] != "2026-08-17T15:10:00Z" {
		t.Errorf("declared entry = %v", first)
	}
	for _, tc := range []struct {
		path string
		body any
		want string
	}{
		{"/updates", map[string]any{"message": "x", "at": day + "08:42:00-07:00", "until": "soon"}, `until: "soon" is not an RFC 3339 time`},
		{"/updates", map[string]any{"message": "x", "at": day + "08:42:00-07:00", "until": "2026-08-18T09:00:00Z"}, "until: 2026-08-18T09:00:00Z is in the future (it is 2026-08-17T17:00:00Z now)"},
		{"/updates", map[string]any{"message": "x", "at": day + "08:42:00-07:00", "until": day + "08:30:00-07:00"}, "until: 2026-08-17T15:30:00Z is before the entry's at (2026-08-17T15:42:00Z)"},
		{"/updates", map[string]any{"message": "x", "until": day + "08:30:00-07:00"}, "until: 2026-08-17T15:30:00Z is before the entry's at (2026-08-17T17:00:00Z)"},
		{"/resolve", map[string]any{"until": "tomorrow"}, `until: "tomorrow" is not an RFC 3339 time`},
		{"/reopen", map[string]any{"until": day + "09:00:00-07:00"}, "until: a reopening is a moment"},
	} {
		if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+tc.path, tc.body); code != 400 || !strings.Contains(errMsg(out), tc.want) {
			t.Errorf("%s %v: %d %v, want 400 %q", tc.path, tc.body, code, out, tc.want)
		}
	}
	code, out, _ = rui.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"status": "identified", "at": day + "08:42:00-07:00", "until": day + "09:05:00-07:00",
		"message": "25% of requests answered HTTP 500 while the lock was held."})
	if code != 200 {
		t.Fatalf("update with until: %d %v", code, out)
	}
	if last := out["incident"].(map[string]any)["updates"].([]any)[0].(map[string]any); last["until"] != "2026-08-17T16:05:00Z" || last["at"] != "2026-08-17T15:42:00Z" {
		t.Errorf("update = %v", last)
	}
	code, out, _ = rui.do("POST", "/api/v1/incidents/"+id+"/resolve", map[string]any{"at": day + "09:15:00-07:00", "until": day + "09:20:00-07:00", "message": "Rolled back."})
	if code != 200 {
		t.Fatalf("resolve with until: %d %v", code, out)
	}
	ups := out["incident"].(map[string]any)["updates"].([]any)
	if last := ups[0].(map[string]any); last["until"] != "2026-08-17T16:20:00Z" || last["status"] != "resolved" {
		t.Errorf("resolution = %v", last)
	}
	rep := reportJSON(t, rui, "2026-08-01", "2026-08-31")
	inc := rep["days"].([]any)[0].(map[string]any)["incidents"].([]any)[0].(map[string]any)
	var found bool
	for _, e := range inc["entries"].([]any) {
		e := e.(map[string]any)
		if e["until"] == "2026-08-17T16:05:00Z" {
			found = true
			if e["time"] != "8:42 am to 9:05 am" {
				t.Errorf("report entry time = %v", e["time"])
			}
		}
	}
	if !found {
		t.Errorf("the report lost the span: %v", inc["entries"])
	}
}
