package admin

import (
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// classSelectors are the classes a stylesheet styles.
func classSelectors(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	css := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`\.([a-zA-Z][\w-]*)`).FindAllStringSubmatch(css, -1) {
		out[m[1]] = true
	}
	return out
}

// The admin pages load the public stylesheet first: a class the admin
// toolbar uses that it also styles gets its looks too (.bar was the
// public uptime bar, and put the "Incidents" header on a green band).
func TestToolbarClassIsNotPublic(t *testing.T) {
	public := classSelectors(t, "../public/static/style.css")
	admin := classSelectors(t, "../public/static/admin.css")
	page, err := templates.ReadFile("templates/index.html")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<div class="([^"]+)">\s*<h1>Incidents</h1>`).FindStringSubmatch(string(page))
	if m == nil {
		t.Fatal("index.html has no toolbar around its <h1>Incidents</h1>")
	}
	for _, class := range strings.Fields(m[1]) {
		if public[class] {
			t.Errorf("the admin toolbar's class %q is styled by the public stylesheet", class)
		}
		if !admin[class] {
			t.Errorf("the admin toolbar's class %q is not styled by admin.css", class)
		}
	}
	names, err := fs.Glob(templates, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, name := range names {
		b, _ := templates.ReadFile(name)
		if regexp.MustCompile(`class="(?:[^"]* )?bar(?: [^"]*)?"`).Match(b) {
			t.Errorf("%s uses the public uptime bar's class", name)
		}
	}
}

func TestFormWords(t *testing.T) {
	comps := []componentRow{{ID: "api", Name: "API"}, {ID: "api2", Name: "Second API"}}
	for _, tc := range []struct {
		name, err string
		labels    map[string]string
		want      string
	}{
		{"a plain field", "name is required", incidentLabels(comps, "What users see"), "Title is required"},
		{"several", "name is required; message is longer than 20000 characters", incidentLabels(comps, "What users see"),
			"Title is required; What users see is longer than 20000 characters"},
		{"a component", `components.api2: "x" is not a component status`, incidentLabels(comps, "Message"), `Second API: "x" is not a component status`},
		{"a plain word later stays", `status "on_fire" is not one of investigating, identified`, incidentLabels(comps, "Message"), `Status "on_fire" is not one of investigating, identified`},
		{"maintenance", "scheduled_until must be after scheduled_for: the window ends before it starts", maintLabels(), "Ends must be after Starts: the window ends before it starts"},
		{"a whole problem", "components is required: the components the work affects", maintLabels(), "Components under maintenance: choose at least one"},
		{"an override", `person: no person "zed" under oncall.people; until is in the past`, overrideLabels(), `Who: no person "zed" under oncall.people; Until is in the past`},
		{"a silence", `matchers[0]: "x" is not NAME=VALUE; comment is required: say why, for the people it mutes`, silenceLabels(),
			`Mute notifications matching, line 1: "x" is not NAME=VALUE; Why is required: say why, for the people it mutes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formWords(upstate.Errorf(upstate.EINVALID, "%s", tc.err), tc.labels); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestIncidentQueryPeriod(t *testing.T) {
	now := time.Date(2026, 9, 2, 12, 0, 0, 0, time.UTC)
	for period, want := range map[string]time.Time{"": {}, "24h": now.AddDate(0, 0, -1), "7d": now.AddDate(0, 0, -7), "90d": now.AddDate(0, 0, -90), "bogus": {}} {
		if got := (incidentQuery{Period: period}).since(now); !got.Equal(want) {
			t.Errorf("period %q starts %s, want %s", period, got, want)
		}
	}
	for _, p := range periods() {
		if p.Value != "" && (incidentQuery{Period: p.Value}).since(now).IsZero() {
			t.Errorf("period %q offered but not understood", p.Value)
		}
	}
	if !slices.ContainsFunc(periods(), func(p struct{ Value, Label string }) bool { return p.Value == "" }) {
		t.Error("no period for any time")
	}
}
