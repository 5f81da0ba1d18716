package admin

import (
	"context"
	"html/template"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/checkview"
)

type incidentsStub struct{ Incidents }

func (incidentsStub) Statuses() map[string]upstate.Status { return nil }

type readsStub struct{ Reads }

func (readsStub) ListComponents(context.Context) ([]upstate.ComponentState, error) {
	return []upstate.ComponentState{{Component: upstate.Component{ID: "api", Name: "Public API"}}}, nil
}

type pagesStub struct{ rep checkview.Report }

func (p pagesStub) Report(context.Context, string, string) (checkview.Report, error) {
	return p.rep, nil
}
func (p pagesStub) List(context.Context) ([]checkview.Summary, error) { return nil, nil }

func checkServer(t *testing.T, rep checkview.Report) *Server {
	t.Helper()
	s, err := New(Options{Auth: struct{ Auth }{}, Incidents: incidentsStub{}, Outbox: struct{ Outbox }{}, OnCall: struct{ OnCall }{}, Silences: struct{ Silences }{},
		Acks: struct{ Acks }{}, Subscriptions: struct{ Subscriptions }{}, Reviews: struct{ Reviews }{}, Reads: readsStub{},
		Markdown: func(s string) template.HTML { return template.HTML(template.HTMLEscapeString(s)) }, Location: func() *time.Location { return time.UTC },
		PageName: func() string { return "Acme" }, Console: struct{ Console }{}, CheckPages: pagesStub{rep}, RunCheck: func(context.Context, string) (upstate.Result, error) { return upstate.Result{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A check the console made (not from the file) offers Edit, Pause and
// Delete to those who may write; one from the file says where it is
// managed; a viewer gets neither buttons nor Check now.
func TestCheckPageActions(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	rep := checkview.Report{Info: upstate.CheckInfo{Spec: upstate.CheckSpec{ID: "api", Name: "API <health>", Kind: "http", Interval: 30 * time.Second, Components: []string{"api"}},
		Target: "https://api.example.com/health"}, Known: true, Condition: upstate.Condition{State: upstate.StateDown, Since: now, At: now, Evidence: "HTTP 500"},
		Period: checkview.Periods()[0], Now: now}
	page := func(rep checkview.Report, role upstate.Role) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/admin/checks/api", nil)
		req.SetPathValue("id", "api")
		checkServer(t, rep).check(rec, req, upstate.Principal{User: upstate.User{Name: "Rui", Role: role}, Scopes: role.Grants()})
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	body := page(rep, upstate.RoleResponder)
	for _, want := range []string{"API &lt;health&gt;", `href="/admin/checks/api/edit"`, `action="/admin/checks/api/pause"`, `action="/admin/checks/api/delete"`, `action="/admin/checks/api/run"`,
		`class="state state-down"`, "Failing", "Public API", "every 30 s"} {
		if !strings.Contains(body, want) {
			t.Errorf("console check page lacks %q", want)
		}
	}
	rep.Info.Paused = true
	if body := page(rep, upstate.RoleResponder); !strings.Contains(body, `action="/admin/checks/api/resume"`) || strings.Contains(body, "/pause") {
		t.Error("a paused check offers no Resume")
	}
	rep.Info.Provisioned, rep.Info.File = true, "/etc/upstate/upstate.yaml"
	body = page(rep, upstate.RoleResponder)
	if !strings.Contains(body, "Managed in /etc/upstate/upstate.yaml") || strings.Contains(body, "/edit") {
		t.Error("a provisioned check is editable")
	}
	if body := page(rep, upstate.RoleViewer); strings.Contains(body, "Check now") {
		t.Error("a viewer may run a check")
	}
}
