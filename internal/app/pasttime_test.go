package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
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

// The admin API takes times as they happened, refuses those in the
// future, out of order or unreadable with a 400 naming the field, and
// asks for the same sign-in and scopes as ever.
func TestPastTimesAPI(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 24, 16, 0, 0, 0, time.UTC))
	a, base := startAppOn(t, clk)
	rui := browser(t, base, "responder@example.com", "responder password")
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	anon := &apiClient{t: t, base: base, http: http.DefaultClient}
	week := "2026-08-17T"
	code, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": "Database lock", "components": map[string]string{"api": "partial_outage"},
		"started_at": week + "07:54:00-07:00", "detected_at": week + "07:55:00-07:00", "at": week + "08:00:00-07:00", "message": "Requests fail."})
	if code != 201 {
		t.Fatalf("declare in the past: %d %v", code, out)
	}
	in := out["incident"].(map[string]any)
	id := in["id"].(string)
	first := in["updates"].([]any)[0].(map[string]any)
	if in["started_at"] != "2026-08-17T14:54:00Z" || in["detected_at"] != "2026-08-17T14:55:00Z" || in["created_at"] != "2026-08-17T15:00:00Z" ||
		first["at"] != "2026-08-17T15:00:00Z" || first["written_at"] != "2026-08-24T16:00:00Z" || in["acknowledged_at"] != nil {
		t.Errorf("declared = %v", in)
	}
	for _, tc := range []struct {
		path string
		body any
		want string
	}{
		{"/updates", map[string]any{"message": "x", "at": "2026-08-25T09:00:00Z"}, "at: 2026-08-25T09:00:00Z is in the future (it is 2026-08-24T16:00:00Z now)"},
		{"/updates", map[string]any{"message": "x", "at": week + "07:59:00-07:00"}, "at: 2026-08-17T14:59:00Z is before the incident's last entry (2026-08-17T15:00:00Z)"},
		{"/updates", map[string]any{"message": "x", "at": week + "07:00:00-07:00"}, "at: 2026-08-17T14:00:00Z is before the incident started (2026-08-17T14:54:00Z)"},
		{"/updates", map[string]any{"message": "x", "at": "last Monday"}, `at: "last Monday" is not an RFC 3339 time`},
		{"/acknowledge", map[string]any{"at": "2026-08-17 09:31"}, `at: "2026-08-17 09:31" is not an RFC 3339 time`},
		{"/acknowledge", map[string]any{"at": "2027-01-01T00:00:00Z"}, "at: 2027-01-01T00:00:00Z is in the future"},
		{"/acknowledge", map[string]any{"when": "2026-08-17T09:31:00Z"}, `"when"`},
		{"/resolve", map[string]any{"at": week + "07:10:00-07:00"}, "before the incident started"},
	} {
		if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+tc.path, tc.body); code != 400 || !strings.Contains(errMsg(out), tc.want) {
			t.Errorf("%s %v: %d %v, want 400 %q", tc.path, tc.body, code, out, tc.want)
		}
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": "x", "started_at": "2026-08-17", "detected_at": "soon"}); code != 400 ||
		!strings.Contains(errMsg(out), `started_at: "2026-08-17" is not an RFC 3339 time`) || !strings.Contains(errMsg(out), `detected_at: "soon"`) {
		t.Errorf("declare with bad times: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents", map[string]any{"name": "x", "started_at": "2026-09-01T00:00:00Z"}); code != 400 || !strings.Contains(errMsg(out), "started_at: 2026-09-01T00:00:00Z is in the future") {
		t.Errorf("declare in the future: %d %v", code, out)
	}
	if code, _, _ := anon.do("POST", "/api/v1/incidents/"+id+"/acknowledge", map[string]any{"at": week + "09:31:00-07:00"}); code != 401 {
		t.Errorf("anonymous acknowledge: %d", code)
	}
	if code, _, _ := vic.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"message": "x", "at": week + "09:31:00-07:00"}); code != 403 {
		t.Errorf("viewer update: %d", code)
	}
	code, out, _ = rui.do("POST", "/api/v1/incidents/"+id+"/acknowledge", map[string]any{"at": week + "09:31:00-07:00"})
	if in := out["incident"].(map[string]any); code != 200 || in["acknowledged_at"] != "2026-08-17T16:31:00Z" || in["acknowledged_by"] != "Rui" {
		t.Errorf("acknowledge in the past: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/updates", map[string]any{"message": "A report query holds a lock.", "status": "identified", "at": week + "09:42:00-07:00"}); code != 200 {
		t.Errorf("update in the past: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/resolve", map[string]any{"message": "Killed it.", "at": week + "10:15:00-07:00"}); code != 200 || out["incident"].(map[string]any)["resolved_at"] != "2026-08-17T17:15:00Z" {
		t.Errorf("resolve in the past: %d %v", code, out)
	}
	if code, out, _ := rui.do("PUT", "/api/v1/incidents/"+id+"/postmortem", map[string]any{"root_cause": "A lock.", "fix_and_prevention": "A timeout."}); code != 200 {
		t.Fatalf("postmortem: %d %v", code, out)
	}
	if code, out, _ := rui.do("POST", "/api/v1/incidents/"+id+"/postmortem/publish", map[string]any{"at": week + "10:00:00-07:00"}); code != 400 || !strings.Contains(errMsg(out), "at: 2026-08-17T17:00:00Z is before the incident was resolved (2026-08-17T17:15:00Z)") {
		t.Errorf("postmortem published before the resolution: %d %v", code, out)
	}
	code, out, _ = rui.do("POST", "/api/v1/incidents/"+id+"/postmortem/publish", map[string]any{"at": "2026-08-20T09:00:00-07:00"})
	if pm, _ := out["postmortem"].(map[string]any); code != 200 || pm["published_at"] != "2026-08-20T16:00:00Z" {
		t.Errorf("postmortem published in the past: %d %v", code, out)
	}
	rep := reportJSON(t, rui, "2026-08-01", "2026-08-31")
	inc := rep["days"].([]any)[0].(map[string]any)["incidents"].([]any)[0].(map[string]any)
	if inc["time_to_acknowledge"] != "1 h 37 min" || inc["time_to_detect"] != "1 min" || inc["duration"] != "2 h 21 min" {
		t.Errorf("report: acknowledge %v detect %v duration %v", inc["time_to_acknowledge"], inc["time_to_detect"], inc["duration"])
	}
	// Both times show: the public page, the admin page, and Statuspage's
	// JSON (display_at is when it happened, created_at when posted).
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	get := func(c *http.Client, path string) string {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if page := get(http.DefaultClient, "/incidents/"+id); !strings.Contains(page, "Aug 17, 2026 09:42 PDT</time> <span class=\"written\">(written <time datetime=\"2026-08-24T16:00:00Z\">Aug 24, 2026 09:00 PDT</time>)") {
		t.Errorf("the public incident page does not show when an entry was written:\n%s", page)
	}
	var feed struct {
		Incidents []struct {
			Updates []struct {
				Body      string `json:"body"`
				CreatedAt string `json:"created_at"`
				DisplayAt string `json:"display_at"`
				Deliver   bool   `json:"deliver_notifications"`
			} `json:"incident_updates"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(get(http.DefaultClient, "/api/v2/incidents.json")), &feed); err != nil || len(feed.Incidents) != 1 {
		t.Fatalf("incidents.json: %v %+v", err, feed)
	}
	for _, u := range feed.Incidents[0].Updates {
		if u.Body == "A report query holds a lock." && (!strings.HasPrefix(u.DisplayAt, "2026-08-17T16:42:00") || !strings.HasPrefix(u.CreatedAt, "2026-08-24T16:00:00") || u.Deliver) {
			t.Errorf("statuspage update = %+v", u)
		}
	}
	if page := get(rui.http, "/admin/incidents/"+id); !strings.Contains(page, "(written Aug 24") {
		t.Errorf("the admin page does not show when an entry was written")
	}
}

// The admin's forms offer "happened at" in the page's zone: the declare,
// the update and the acknowledge button; a bad or future time comes back
// in the form's words with what was typed.
func TestPastTimesAdminUI(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 24, 16, 0, 0, 0, time.UTC)) // 9:00 am PDT
	a, base := startAppOn(t, clk)
	ui := newUI(t, base)
	ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}}, nil)
	if _, body := ui.get("/admin/incidents/new"); !strings.Contains(body, `name="started_at" type="datetime-local"`) || !strings.Contains(body, "PDT, America/Los_Angeles") {
		t.Errorf("the declare form offers no start time in the page's zone")
	}
	code, body, _ := ui.post("/admin/incidents", url.Values{"name": {"Lock"}, "component.api": {"partial_outage"}, "started_at": {"2026-08-25T07:54"}}, nil)
	if code != 400 || !strings.Contains(body, "Started at: Aug 25, 2026 07:54 PDT is in the future") || !strings.Contains(body, `value="2026-08-25T07:54"`) {
		t.Errorf("a start in the future: %d", code)
	}
	code, body, _ = ui.post("/admin/incidents", url.Values{"name": {"Lock"}, "at": {"Monday"}}, nil)
	if code != 400 || !strings.Contains(body, `Happened at: &#34;Monday&#34; is not a date and time`) {
		t.Errorf("an unreadable time: %d\n%s", code, body)
	}
	_, body, landed := ui.post("/admin/incidents", url.Values{"name": {"Lock"}, "component.api": {"partial_outage"}, "message": {"Requests fail."},
		"started_at": {"2026-08-17T07:54"}, "at": {"2026-08-17T08:00"}}, nil)
	id := strings.TrimPrefix(landed, "/admin/incidents/")
	in := mustIncident(t, a, id)
	if !in.StartedAt.Equal(time.Date(2026, 8, 17, 14, 54, 0, 0, time.UTC)) || !in.CreatedAt.Equal(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("declared from the form: start %v created %v", in.StartedAt, in.CreatedAt)
	}
	if !strings.Contains(body, "(written Aug 24 09:00 PDT)") || !strings.Contains(body, `name="at" type="datetime-local"`) {
		t.Errorf("the incident page lacks the written time or the acknowledge fold")
	}
	if code, _, _ := ui.post("/admin/incidents/"+id+"/acknowledge", url.Values{"at": {"2026-08-17T09:31"}}, nil); code != 200 {
		t.Errorf("acknowledge in the past: %d", code)
	}
	if got := mustIncident(t, a, id); got.AcknowledgedAt == nil || !got.AcknowledgedAt.Equal(time.Date(2026, 8, 17, 16, 31, 0, 0, time.UTC)) {
		t.Errorf("acknowledged at %v", got.AcknowledgedAt)
	}
	code, body, _ = ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"identified"}, "message": {"A lock."}, "at": {"2026-08-17T09:00"}}, nil)
	if code != 400 || !strings.Contains(body, "Happened at: Aug 17, 2026 09:00 PDT is before the incident&#39;s last entry (Aug 17, 2026 09:31 PDT)") || !strings.Contains(body, `value="2026-08-17T09:00"`) {
		t.Errorf("an update out of order: %d %s", code, body[strings.Index(body, "<main"):][:600])
	}
	// The two-click update still works: no time, now.
	if code, _, _ := ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"identified"}, "message": {"A lock."}}, nil); code != 200 {
		t.Errorf("update now: %d", code)
	}
	if got := mustIncident(t, a, id); !got.Updates[len(got.Updates)-1].At.Equal(clk.Now()) || !got.Updates[len(got.Updates)-1].WrittenAt.IsZero() {
		t.Errorf("an update now = %+v", got.Updates[len(got.Updates)-1])
	}
}
