package app

import (
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/incident"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

type uiClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newUI(t *testing.T, base string) *uiClient {
	jar, _ := cookiejar.New(nil)
	return &uiClient{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (u *uiClient) get(path string) (int, string) {
	u.t.Helper()
	resp, err := u.c.Get(u.base + path)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (u *uiClient) post(path string, form url.Values, hdr map[string]string) (int, string, string) {
	u.t.Helper()
	req, _ := http.NewRequest("POST", u.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := u.c.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL.Path
}

func TestAdminUI(t *testing.T) {
	a, base := startApp(t)
	ui := newUI(t, base)

	// Anonymous visitors are sent to sign in, and brought back after.
	code, body := ui.get("/admin/incidents/new")
	if code != 200 || !strings.Contains(body, `<input type="hidden" name="next" value="/admin/incidents/new">`) {
		t.Fatalf("anonymous: %d\n%s", code, body)
	}
	code, body, _ = ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"wrong password here"}, "next": {"/admin/incidents/new"}}, nil)
	if code != 401 || !strings.Contains(body, "wrong email or password") {
		t.Errorf("wrong password: %d", code)
	}
	code, body, landed := ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}, "next": {"/admin/incidents/new"}}, nil)
	if code != 200 || landed != "/admin/incidents/new" || !strings.Contains(body, "Declare an incident") {
		t.Fatalf("sign in: %d at %s", code, landed)
	}

	// Preview renders Markdown without declaring anything.
	form := url.Values{"name": {"Word conversions failing"}, "status": {"investigating"}, "message": {"Word **fails**; PDF works."},
		"component.drive": {"partial_outage"}, "component.api": {"operational"}, "preview": {"1"}}
	code, body, _ = ui.post("/admin/incidents", form, nil)
	if code != 200 || !strings.Contains(body, "<strong>fails</strong>") || len(a.engine.Statuses()) == 0 || a.engine.Statuses()["drive"] != "operational" {
		t.Errorf("preview: %d", code)
	}
	// Declare.
	form.Del("preview")
	code, body, landed = ui.post("/admin/incidents", form, nil)
	if code != 200 || !strings.HasPrefix(landed, "/admin/incidents/") || !strings.Contains(body, "Word conversions failing") {
		t.Fatalf("declare: %d at %s", code, landed)
	}
	id := strings.TrimPrefix(landed, "/admin/incidents/")
	if st := a.engine.Statuses()["drive"]; st != "partial_outage" {
		t.Errorf("drive is %s after declaring", st)
	}
	// Post an update in two clicks: the status radio defaults to the next
	// step, so a message and "Post update" are enough.
	if !strings.Contains(body, `value="identified" checked`) {
		t.Error("the update form does not default to the next status")
	}
	code, body, landed = ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"identified"}, "message": {"The provider is fixing its Office workers."}, "component.drive": {"partial_outage"}}, nil)
	if code != 200 || !strings.Contains(body, "Update posted") || !strings.Contains(body, "The provider is fixing its Office workers.") {
		t.Errorf("update: %d at %s", code, landed)
	}
	code, body, _ = ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"identified"}, "message": {"vendor ticket 4411"}, "internal": {"on"}}, nil)
	if code != 200 || !strings.Contains(body, `class="internal"`) {
		t.Errorf("internal note: %d", code)
	}
	// Bad input shows the problem on the form.
	code, body, _ = ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"on_fire"}, "message": {"x"}}, nil)
	if code != 400 || !strings.Contains(body, `Status &#34;on_fire&#34; is not one of`) {
		t.Errorf("bad status: %d", code)
	}
	// A form posted from another site is refused.
	code, _, _ = ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"resolved"}, "message": {"pwned"}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	if code != 403 {
		t.Errorf("cross-site form: %d, want 403", code)
	}
	// Resolve from the update form; then the page offers reopening.
	code, body, _ = ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"resolved"}, "message": {"Fixed."}}, nil)
	if code != 200 || !strings.Contains(body, "/reopen") || a.engine.Statuses()["drive"] != "operational" {
		t.Errorf("resolve: %d", code)
	}

	// A viewer sees the list but not the forms.
	vic := newUI(t, base)
	vic.post("/admin/login", url.Values{"email": {"viewer@example.com"}, "password": {"viewer password 1"}}, nil)
	code, body = vic.get("/admin/")
	if code != 200 || strings.Contains(body, "Declare an incident</a>") || !strings.Contains(body, "Word conversions failing") {
		t.Errorf("viewer index: %d", code)
	}
	if code, _ := vic.get("/admin/incidents/new"); code != 403 {
		t.Errorf("viewer declare page: %d", code)
	}
	if code, _, _ := vic.post("/admin/incidents/"+id+"/reopen", url.Values{}, nil); code != 403 {
		t.Errorf("viewer reopen: %d", code)
	}
	// Sign-in redirects stay inside the admin UI.
	other := newUI(t, base)
	_, _, landed = other.post("/admin/login", url.Values{"email": {"viewer@example.com"}, "password": {"viewer password 1"}, "next": {"//evil.example/"}}, nil)
	if landed != "/admin/" {
		t.Errorf("open redirect: landed on %s", landed)
	}
}

func TestAdminUIPostmortem(t *testing.T) {
	_, base := startApp(t)
	ui := newUI(t, base)
	ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}}, nil)
	_, _, landed := ui.post("/admin/incidents", url.Values{"name": {"API errors"}, "message": {"500s"}, "component.api": {"partial_outage"}}, nil)
	id := strings.TrimPrefix(landed, "/admin/incidents/")
	_, body, _ := ui.post("/admin/incidents/"+id+"/updates", url.Values{"status": {"resolved"}, "message": {"Fixed."}}, nil)
	if !strings.Contains(body, `id="postmortem"`) {
		t.Fatal("a resolved incident offers no postmortem editor")
	}
	form := url.Values{"root_cause": {"A lock on **submissions**."}, "fix": {"A statement timeout."}, "actions": {"Add a timeout | Dana | done\nMove reports | Lee"}}
	form.Set("action", "preview")
	code, body, _ := ui.post("/admin/incidents/"+id+"/postmortem", form, nil)
	if code != 200 || !strings.Contains(body, "<strong>submissions</strong>") {
		t.Errorf("preview: %d", code)
	}
	form.Set("action", "save")
	code, body, _ = ui.post("/admin/incidents/"+id+"/postmortem", form, nil)
	if code != 200 || !strings.Contains(body, "Postmortem saved") || !strings.Contains(body, "Move reports | Lee | open") || !strings.Contains(body, `<span class="pill">draft</span>`) {
		t.Errorf("save: %d", code)
	}
	bad := url.Values{"root_cause": {"x"}, "fix": {"y"}, "actions": {"Do it | Ann | maybe"}, "action": {"save"}}
	if code, body, _ := ui.post("/admin/incidents/"+id+"/postmortem", bad, nil); code != 400 || !strings.Contains(body, "is not open or done") {
		t.Errorf("bad action item: %d", code)
	}
	form.Set("action", "publish")
	form.Set("at", "next tuesday")
	if code, body, _ := ui.post("/admin/incidents/"+id+"/postmortem", form, nil); code != 400 || !strings.Contains(body, "Published at: &#34;next tuesday&#34; is not a date and time") {
		t.Errorf("publish at a time that is none: %d", code)
	}
	form.Set("at", "2099-01-01T09:00")
	if code, body, _ := ui.post("/admin/incidents/"+id+"/postmortem", form, nil); code != 400 || !strings.Contains(body, "in the future") {
		t.Errorf("publish in the future: %d", code)
	}
	form.Del("at")
	code, body, _ = ui.post("/admin/incidents/"+id+"/postmortem", form, nil)
	if code != 200 || !strings.Contains(body, "Postmortem published") || !strings.Contains(body, "<strong>Root cause:</strong>") {
		t.Errorf("publish: %d", code)
	}
	vic := newUI(t, base)
	vic.post("/admin/login", url.Values{"email": {"viewer@example.com"}, "password": {"viewer password 1"}}, nil)
	if _, body := vic.get("/admin/incidents/" + id); strings.Contains(body, `id="postmortem"`) {
		t.Error("a viewer sees the postmortem editor")
	}
}

func TestAdminUIComponentsMaintenanceMerge(t *testing.T) {
	a, base := startApp(t)
	ui := newUI(t, base)
	ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}}, nil)

	// Hold a component's status from the incident list, then clear it.
	code, body, landed := ui.post("/admin/components/drive", url.Values{"status": {"degraded_performance"}}, nil)
	if code != 200 || landed != "/admin/" || !strings.Contains(body, "Cloud drive is now degraded performance") || !strings.Contains(body, "set to Degraded performance by Rui") {
		t.Errorf("hold: %d at %s", code, landed)
	}
	if a.engine.Statuses()["drive"] != "degraded_performance" {
		t.Errorf("drive = %s", a.engine.Statuses()["drive"])
	}
	if code, _, _ := ui.post("/admin/components/drive", url.Values{"status": {"bogus"}}, nil); code != 400 {
		t.Errorf("bad status: %d", code)
	}
	ui.post("/admin/components/drive", url.Values{"status": {"operational"}}, nil)

	// Plan maintenance in the page's zone; a window ending before it starts is refused.
	code, body = ui.get("/admin/maintenances")
	if code != 200 || !strings.Contains(body, `type="datetime-local"`) || !strings.Contains(body, "No maintenance planned") {
		t.Fatalf("maintenance page: %d", code)
	}
	la := mustLoc(t, "America/Los_Angeles")
	start := a.opts.Clock.Now().In(la).Add(-time.Minute)
	plan := url.Values{"name": {"Drive connector upgrade"}, "message": {"Sync pauses."}, "component": {"drive"},
		"from": {start.Format("2006-01-02T15:04")}, "until": {start.Add(-time.Hour).Format("2006-01-02T15:04")}}
	if code, body, _ := ui.post("/admin/maintenances", plan, nil); code != 400 || !strings.Contains(body, "ends before it starts") || !strings.Contains(body, "Drive connector upgrade") {
		t.Errorf("bad window: %d", code)
	}
	plan.Set("until", "tomorrow")
	if code, body, _ := ui.post("/admin/maintenances", plan, nil); code != 400 || !strings.Contains(body, "Ends: give a date and time") || !strings.Contains(body, `value="tomorrow"`) {
		t.Errorf("unreadable end: %d", code)
	}
	plan.Set("until", start.Add(time.Hour).Format("2006-01-02T15:04"))
	code, body, _ = ui.post("/admin/maintenances", plan, nil)
	if code != 200 || !strings.Contains(body, "Maintenance planned") || !strings.Contains(body, "In progress") {
		t.Fatalf("plan: %d\n%s", code, body)
	}
	if st := a.engine.Statuses()["drive"]; st != "under_maintenance" {
		t.Errorf("drive = %s during maintenance", st)
	}
	id := a.engine.Maintenances()[0].ID
	if code, body, _ := ui.post("/admin/maintenances/"+id+"/cancel", nil, nil); code != 200 || !strings.Contains(body, "Maintenance cancelled") {
		t.Errorf("cancel: %d", code)
	}

	// Declare with scope and an upstream cause, acknowledge, merge.
	_, body, landed = ui.post("/admin/incidents", url.Values{"name": {"Drive sync failing"}, "message": {"Sync fails."}, "component.drive": {"major_outage"},
		"failing_percent": {"40"}, "regions": {"EU, us-east"}, "upstream_provider": {"Google Workspace"}, "upstream_url": {"https://www.google.com/appsstatus/dashboard/"}}, nil)
	keep := strings.TrimPrefix(landed, "/admin/incidents/")
	// Declaring is not acknowledging: the page offers the button.
	if !strings.Contains(body, "about 40% of requests failing; regions: EU, us-east") || !strings.Contains(body, "Google Workspace") || strings.Contains(body, "Acknowledged by Rui") || !strings.Contains(body, "/acknowledge") {
		t.Errorf("declared incident page lacks scope, upstream or the acknowledge button:\n%s", body)
	}
	// An incident nobody has taken on offers the acknowledge button.
	in, err := a.engine.Declare(t.Context(), incident.Change{Name: "Sync errors", Set: map[string]upstate.Status{"api": "degraded_performance"}, Actor: upstate.ActorUpstate})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := ui.get("/admin/incidents/" + in.ID); !strings.Contains(body, "/acknowledge") {
		t.Error("no acknowledge button on an unacknowledged incident")
	}
	code, body, _ = ui.post("/admin/incidents/"+in.ID+"/acknowledge", nil, nil)
	if code != 200 || !strings.Contains(body, "Acknowledged by Rui") || strings.Contains(body, "/acknowledge\"") {
		t.Errorf("acknowledge: %d", code)
	}
	if _, body := ui.get("/admin/incidents/" + keep); !strings.Contains(body, `id="merge"`) || !strings.Contains(body, "Sync errors") {
		t.Error("no merge form offering the other incident")
	}
	code, body, _ = ui.post("/admin/incidents/"+keep+"/merge", url.Values{"incident": {in.ID}}, nil)
	if code != 200 || !strings.Contains(body, "Merged") || !strings.Contains(body, "Merged &#34;Sync errors&#34;") {
		t.Errorf("merge: %d\n%s", code, body)
	}
	if code, _, _ := ui.post("/admin/incidents/"+keep+"/merge", url.Values{"incident": {in.ID}}, nil); code != 409 {
		t.Errorf("merging twice: %d", code)
	}
	// Changing only the scope on an update sends it.
	code, body, _ = ui.post("/admin/incidents/"+keep+"/updates", url.Values{"status": {"identified"}, "message": {"Provider confirmed."}, "failing_percent": {"abc"}}, nil)
	if code != 400 || !strings.Contains(body, `Share of requests failing: &#34;abc&#34; is not a number`) {
		t.Errorf("bad percent: %d", code)
	}
}

func TestNotificationsPages(t *testing.T) {
	_, base := startApp(t)
	ui := newUI(t, base)
	ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}}, nil)
	if code, body := ui.get("/admin/notifications"); code != 200 || !strings.Contains(body, "No channels") || !strings.Contains(body, "Nothing has failed") {
		t.Errorf("notifications page: %d", code)
	}
	if code, body, _ := ui.post("/admin/notifications/channels/nope/test", nil, nil); code != 404 || !strings.Contains(body, `no channel &#34;nope&#34;`) {
		t.Errorf("test unknown channel: %d", code)
	}
	rui := browser(t, base, "responder@example.com", "responder password")
	if code, out, _ := rui.do("GET", "/api/v1/notifications", nil); code != 200 || out["channels"] == nil || out["failed"] == nil {
		t.Errorf("api: %d %v", code, out)
	}
	if code, _, _ := rui.do("POST", "/api/v1/notifications/channels/nope/test", nil); code != 404 {
		t.Errorf("api test unknown: %d", code)
	}
	// Silences from the page and the API.
	code, body, _ := ui.post("/admin/silences", url.Values{"matchers": {"component=api\nchannel!=pd"}, "for": {"2h"}, "comment": {"DB upgrade"}}, nil)
	if code != 200 || !strings.Contains(body, "Silenced for 2h") || !strings.Contains(body, "<code>channel!=pd</code>") {
		t.Errorf("silence: %d", code)
	}
	if code, body, _ := ui.post("/admin/silences", url.Values{"matchers": {"team=ops"}, "for": {"soon"}, "comment": {"x"}}, nil); code != 400 || !strings.Contains(body, "is not a length of time") {
		t.Errorf("bad silence: %d", code)
	}
	code, out, _ := rui.do("POST", "/api/v1/silences", map[string]any{"matchers": []string{"component=drive"}, "duration": "30m", "comment": "provider outage"})
	if code != 201 {
		t.Fatalf("api silence: %d %v", code, out)
	}
	id := out["silence"].(map[string]any)["id"].(string)
	if code, out, _ := rui.do("GET", "/api/v1/silences", nil); code != 200 || len(out["silences"].([]any)) != 2 {
		t.Errorf("list: %d %v", code, out)
	}
	if code, _, _ := rui.do("DELETE", "/api/v1/silences/"+id, nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, out, _ := rui.do("POST", "/api/v1/silences", map[string]any{"matchers": []string{"component=drive"}, "comment": "x"}); code != 400 || !strings.Contains(errMsg(out), "ends_at is required") {
		t.Errorf("no end: %d %v", code, out)
	}
	vic := browser(t, base, "viewer@example.com", "viewer password 1")
	if code, _, _ := vic.do("POST", "/api/v1/silences", map[string]any{"matchers": []string{"component=drive"}, "duration": "1h", "comment": "x"}); code != 403 {
		t.Errorf("viewer silence: %d", code)
	}
	if code, _, _ := vic.do("POST", "/api/v1/notifications/messages/x/retry", nil); code != 403 {
		t.Errorf("viewer retry: %d", code)
	}
}
