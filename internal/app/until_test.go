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

// A span shows as one: the admin's update form takes until in the page's
// zone (a bad one comes back in the form's words), the admin and public
// pages read "10:40 to 11:03", and Statuspage's JSON keeps its shape.
func TestEntryUntilShown(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 17, 19, 0, 0, 0, time.UTC)) // noon PDT
	a, base := startAppOn(t, clk)
	ui := newUI(t, base)
	ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}}, nil)
	if _, body := ui.get("/admin/incidents/new"); !strings.Contains(body, `name="until" type="datetime-local"`) {
		t.Errorf("the declare form offers no until")
	}
	if code, body, _ := ui.post("/admin/incidents", url.Values{"name": {"Lock"}, "at": {"2026-08-17T10:35"}, "until": {"2026-08-17T10:30"}}, nil); code != 400 ||
		!strings.Contains(body, "Until: Aug 17, 2026 10:30 PDT is before the entry&#39;s at") || !strings.Contains(body, `value="2026-08-17T10:30"`) {
		t.Errorf("a declare whose until is before its at: %d", code)
	}
	_, _, landed := ui.post("/admin/incidents", url.Values{"name": {"Lock"}, "component.api": {"partial_outage"}, "message": {"Requests fail."},
		"started_at": {"2026-08-17T10:30"}, "at": {"2026-08-17T10:35"}, "until": {"2026-08-17T10:38"}}, nil)
	id := strings.TrimPrefix(landed, "/admin/incidents/")
	if first := mustIncident(t, a, id).Updates[0]; first.Until == nil || !first.Until.Equal(time.Date(2026, 8, 17, 17, 38, 0, 0, time.UTC)) {
		t.Errorf("declared from the form: until %v", first.Until)
	}
	if _, body := ui.get(landed); !strings.Contains(body, `name="until" type="datetime-local"`) {
		t.Fatalf("the update form offers no until")
	}
	for _, tc := range []struct{ until, want string }{
		{"soon", `Until: &#34;soon&#34; is not a date and time`},
		{"2026-08-17T10:20", "Until: Aug 17, 2026 10:20 PDT is before the entry&#39;s at (Aug 17, 2026 10:40 PDT)"},
		{"2026-08-17T13:00", "Until: Aug 17, 2026 13:00 PDT is in the future"},
	} {
		code, body, _ := ui.post("/admin/incidents/"+id+"/updates", url.Values{"message": {"x"}, "at": {"2026-08-17T10:40"}, "until": {tc.until}}, nil)
		if code != 400 || !strings.Contains(body, tc.want) || !strings.Contains(body, `value="`+tc.until+`"`) {
			t.Errorf("until %q: %d, want 400 %q", tc.until, code, tc.want)
		}
	}
	code, body, _ := ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"identified"}, "message": {"25% of requests answered HTTP 500 while the lock was held."},
		"at": {"2026-08-17T10:40"}, "until": {"2026-08-17T11:03"}}, nil)
	if code != 200 || !strings.Contains(body, "Aug 17 10:40 to 11:03 PDT") {
		t.Errorf("the admin page does not show the span: %d\n%s", code, body)
	}
	in := mustIncident(t, a, id)
	if e := in.Updates[len(in.Updates)-1]; e.Until == nil || !e.Until.Equal(time.Date(2026, 8, 17, 18, 3, 0, 0, time.UTC)) {
		t.Fatalf("until from the form = %v", e.Until)
	}
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	want := `<time datetime="2026-08-17T17:40:00Z">Aug 17, 2026 10:40</time> to <time datetime="2026-08-17T18:03:00Z">11:03 PDT</time>`
	if page := get("/incidents/" + id); !strings.Contains(page, want) {
		t.Errorf("the public incident page does not show the span %s", want)
	}
	if page := get("/"); !strings.Contains(page, `>Aug 17 10:40</time> to <time datetime="2026-08-17T18:03:00Z">11:03 PDT</time>`) {
		t.Errorf("the public page does not show the span")
	}
	var feed struct {
		Incidents []struct {
			Updates []map[string]any `json:"incident_updates"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(get("/api/v2/incidents.json")), &feed); err != nil || len(feed.Incidents) != 1 {
		t.Fatalf("incidents.json: %v %+v", err, feed)
	}
	for _, u := range feed.Incidents[0].Updates {
		if _, has := u["until"]; has {
			t.Errorf("Statuspage's JSON grew a field: %v", u)
		}
		if strings.HasPrefix(u["body"].(string), "25%") && !strings.HasPrefix(u["display_at"].(string), "2026-08-17T17:40:00") {
			t.Errorf("the span's update = %v", u)
		}
	}
}
