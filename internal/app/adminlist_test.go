package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/incident"
)

// adminUI is a responder signed in to the admin UI of a fresh app.
func adminUI(t *testing.T) (*App, *uiClient) {
	t.Helper()
	a, base := startApp(t)
	ui := newUI(t, base)
	if code, _, landed := ui.post("/admin/login", url.Values{"email": {"responder@example.com"}, "password": {"responder password"}}, nil); code != 200 || landed != "/admin/" {
		t.Fatalf("sign in: %d at %s", code, landed)
	}
	return a, ui
}

// listed is the names the incident list shows, in order.
func listed(body string) []string {
	_, list, _ := strings.Cut(body, `id="incidents"`)
	var names []string
	for _, part := range strings.Split(list, `class="card row-link`)[1:] {
		_, rest, _ := strings.Cut(part, "<strong>")
		name, _, _ := strings.Cut(rest, "</strong>")
		names = append(names, name)
	}
	return names
}

func TestAdminIncidentListSearchFilterPage(t *testing.T) {
	a, ui := adminUI(t)
	ctx := context.Background()
	declare := func(name, comp string) *upstate.Incident {
		t.Helper()
		in, err := a.engine.Declare(ctx, incident.Change{Name: name, Status: upstate.Investigating, Set: map[string]upstate.Status{comp: upstate.PartialOutage}, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	for i := 1; i <= 34; i++ {
		in := declare(fmt.Sprintf("Sync errors %02d", i), "drive")
		if _, err := a.engine.Update(ctx, in.ID, incident.Change{Status: upstate.Resolved, Message: "Fixed.", Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	declare("Login failing", "api")

	// Incidents made in the same instant come in any order, so pages are
	// judged by how many they show and that together they show each once.
	seen := map[string]int{}
	for _, tc := range []struct {
		name, query string
		n           int      // how many shown
		only        []string // when set, the names shown
		more        bool     // a link to older incidents
		says        string
	}{
		{"the first page", "", 30, nil, true, "1–30 of 35"},
		{"past the last 30", "?page=2", 5, nil, false, "31–35 of 35"},
		{"search by name", "?q=LOGIN", 1, []string{"Login failing"}, false, "1–1 of 1"},
		{"search by words", "?q=errors+07", 1, []string{"Sync errors 07"}, false, "1–1 of 1"},
		{"by component", "?component=api", 1, []string{"Login failing"}, false, "1–1 of 1"},
		{"open", "?status=open", 1, []string{"Login failing"}, false, "1–1 of 1"},
		{"an incident status", "?status=investigating", 1, []string{"Login failing"}, false, "1–1 of 1"},
		{"resolved and searched", "?status=resolved&q=sync", 30, nil, true, "1–30 of 34"},
		{"the last day, page 2", "?period=24h&component=drive&page=2", 4, nil, false, "31–34 of 34"},
		{"a page past the end shows the last", "?page=9", 5, nil, false, "31–35 of 35"},
		{"nothing matches", "?q=nothing+like+it", 0, nil, false, "No incident matches."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := ui.get("/admin/" + tc.query)
			if code != 200 {
				t.Fatalf("%d", code)
			}
			got := listed(body)
			if len(got) != tc.n || tc.only != nil && fmt.Sprint(got) != fmt.Sprint(tc.only) {
				t.Errorf("shows %d: %v, want %d %v", len(got), got, tc.n, tc.only)
			}
			if tc.query == "" || tc.query == "?page=2" {
				for _, n := range got {
					seen[n]++
				}
			}
			if !strings.Contains(body, tc.says) {
				t.Errorf("does not say %q", tc.says)
			}
			if more := strings.Contains(body, `rel="next"`); more != tc.more {
				t.Errorf("link to older: %v, want %v", more, tc.more)
			}
		})
	}
	if len(seen) != 35 {
		t.Errorf("the two pages show %d different incidents, want all 35 once: %v", len(seen), seen)
	}
	// The filters are kept as chosen, and in the paging links.
	_, body := ui.get("/admin/?component=drive&status=resolved&period=7d")
	for _, want := range []string{`<option value="drive" selected>`, `<option value="resolved" selected>`, `<option value="7d" selected>`,
		`href="/admin/?component=drive&amp;page=2&amp;period=7d&amp;status=resolved#incidents" rel="next"`} {
		if !strings.Contains(body, want) {
			t.Errorf("filtered page lacks %s", want)
		}
	}
	// What is typed in the search is escaped.
	if _, body := ui.get("/admin/?q=" + url.QueryEscape(`"><script>x</script>`)); strings.Contains(body, "<script>x") {
		t.Error("the search is not escaped")
	}
}

func TestAdminComponentDropdownShowsCurrentStatus(t *testing.T) {
	a, ui := adminUI(t)
	if _, err := a.engine.Declare(context.Background(), incident.Change{Name: "Slow sync", Status: upstate.Investigating,
		Set: map[string]upstate.Status{"drive": upstate.DegradedPerformance}, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	_, body := ui.get("/admin/")
	selected := func(name string) string {
		_, sel, _ := strings.Cut(body, `aria-label="Set the status of `+name+`"`)
		sel, _, _ = strings.Cut(sel, "</select>")
		_, opt, ok := strings.Cut(sel, `" selected>`)
		if !ok {
			return "nothing"
		}
		opt, _, _ = strings.Cut(opt, "<")
		return opt
	}
	if got := selected("Cloud drive"); got != "Degraded performance" {
		t.Errorf("the degraded component's dropdown shows %q", got)
	}
	if got := selected("API"); got != "Operational" {
		t.Errorf("the operational component's dropdown shows %q", got)
	}
}

func TestAdminDeclareConfirms(t *testing.T) {
	_, ui := adminUI(t)
	code, body, landed := ui.post("/admin/incidents", url.Values{"name": {"Uploads failing"}, "status": {"investigating"}, "message": {"Looking."}}, nil)
	if code != 200 || !strings.HasPrefix(landed, "/admin/incidents/") || !strings.Contains(body, `<p class="notice" role="status">Incident declared</p>`) {
		t.Errorf("declare: %d at %s, no confirmation", code, landed)
	}
}

func TestAdminFormErrorsUseLabels(t *testing.T) {
	_, ui := adminUI(t)
	for _, tc := range []struct {
		name, path string
		form       url.Values
		want, not  []string
	}{
		{"declare without a title", "/admin/incidents", url.Values{"name": {" "}, "status": {"investigating"}},
			[]string{"Title is required"}, []string{"name is required", "name: required"}},
		{"declare with a bad link", "/admin/incidents", url.Values{"name": {"x"}, "status": {"investigating"}, "upstream_provider": {"Acme"}, "upstream_url": {"javascript:alert(1)"}},
			[]string{"Link to their status page: &#34;javascript:alert(1)&#34; is not an http(s) URL"}, []string{"upstream.url"}},
		{"declare with a bad share", "/admin/incidents", url.Values{"name": {"x"}, "status": {"investigating"}, "failing_percent": {"150"}},
			[]string{"Share of requests failing: 150 is not between 0 and 100"}, []string{"reach.failing_percent"}},
		{"maintenance without a title or components", "/admin/maintenances", url.Values{"name": {""}, "from": {"2099-01-01T10:00"}, "until": {"2099-01-01T11:00"}},
			[]string{"Title is required", "Components under maintenance: choose at least one"}, []string{"name is required", "components is required"}},
		{"maintenance ending before it starts", "/admin/maintenances", url.Values{"name": {"Upgrade"}, "from": {"2099-01-01T10:00"}, "until": {"2099-01-01T09:00"}, "component": {"api"}},
			[]string{"Ends must be after Starts"}, []string{"scheduled_until"}},
		{"silence with a bad line and no reason", "/admin/silences", url.Values{"matchers": {"component=api\nteam=ops"}, "for": {"2h"}, "comment": {" "}},
			[]string{"Mute notifications matching, line 2: &#34;team=ops&#34; is not", "Why is required"}, []string{"matchers[1]", "comment is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := ui.post(tc.path, tc.form, nil)
			if code != 400 {
				t.Errorf("%d, want 400", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(body, w) {
					t.Errorf("says %q", w)
				}
			}
		})
	}
}
