package app

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// startAppOn is startApp on a fake clock.
func startAppOn(t *testing.T, clk *clock.Fake) (*App, string) {
	t.Helper()
	yaml := "page: {name: Admin test, url: 'http://127.0.0.1', time_zone: America/Los_Angeles}\ncomponents:\n  - {id: api, name: API}\n  - {id: drive, name: Cloud drive}\n"
	a := runApp(t, yaml, Options{Clock: clk})
	cfg := a.cfg.Load()
	for _, u := range []NewUser{
		{Email: "owner@example.com", Name: "Olga", Role: upstate.RoleOwner, Password: "owner password 1"},
		{Email: "responder@example.com", Name: "Rui", Role: upstate.RoleResponder, Password: "responder password"},
		{Email: "viewer@example.com", Name: "Vic", Role: upstate.RoleViewer, Password: "viewer password 1"},
	} {
		if _, err := AddUser(context.Background(), cfg, u, clk.Now); err != nil {
			t.Fatal(err)
		}
	}
	return a, "http://" + a.Addr()
}

// reportJSON is GET /api/v1/report as JSON.
func reportJSON(t *testing.T, c *apiClient, from, to string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+"/api/v1/report?format=json&from="+from+"&to="+to, nil)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("report: %d %v", resp.StatusCode, err)
	}
	return out
}

// The measured failure of issue 14: declaring counted as acknowledging,
// and a later acknowledgement changed nothing, so the report said the
// on-call took 0 s to acknowledge an incident they were woken for 1 h
// 37 min late.
func TestLateAcknowledgementIsReported(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 17, 14, 54, 0, 0, time.UTC)) // 7:54 am PDT
	_, base := startAppOn(t, clk)
	rui := browser(t, base, "responder@example.com", "responder password")
	olga := browser(t, base, "owner@example.com", "owner password 1")
	code, out, _ := olga.do("POST", "/api/v1/incidents", map[string]any{"name": "Database lock", "components": map[string]string{"api": "partial_outage"}})
	if code != 201 {
		t.Fatalf("declare: %d %v", code, out)
	}
	in := out["incident"].(map[string]any)
	if in["acknowledged_at"] != nil {
		t.Errorf("declaring acknowledged the incident: %v by %v", in["acknowledged_at"], in["acknowledged_by"])
	}
	id := in["id"].(string)
	clk.Advance(97 * time.Minute)
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/acknowledge", nil); code != 200 || out["incident"].(map[string]any)["acknowledged_by"] != "Rui" {
		t.Fatalf("acknowledge: %d %v", code, out)
	}
	clk.Advance(time.Hour)
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/resolve", map[string]any{"message": "Killed the query."}); code != 200 {
		t.Fatalf("resolve: %d %v", code, out)
	}
	rep := reportJSON(t, rui, "2026-08-01", "2026-08-31")
	inc := rep["days"].([]any)[0].(map[string]any)["incidents"].([]any)[0].(map[string]any)
	if inc["time_to_acknowledge"] != "1 h 37 min" || rep["summary"].(map[string]any)["mean_time_to_acknowledge"] != "1 h 37 min" {
		t.Errorf("time to acknowledge = %v, mean %v; want 1 h 37 min", inc["time_to_acknowledge"], rep["summary"].(map[string]any)["mean_time_to_acknowledge"])
	}
}
