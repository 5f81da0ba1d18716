package public

import (
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/snapshot"
)

// The page and the incident's own page say a scope's share as it is
// known: "about 25%" for one figure, "10–25%" for a range.
func TestThePageSaysTheScope(t *testing.T) {
	r, err := New(func(s string) template.HTML { return template.HTML(template.HTMLEscapeString(s)) })
	if err != nil {
		t.Fatal(err)
	}
	built := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	lo, hi, one := 10.0, 25.0, 40.0
	resolved := built.Add(-time.Hour)
	open := &upstate.Incident{ID: "open1", Name: "Uploads failing", Status: upstate.Identified, Impact: upstate.ImpactMajor, CreatedAt: built.Add(-time.Hour),
		UpdatedAt: built, StartedAt: built.Add(-time.Hour), Components: []string{"api"},
		Reach:   upstate.Reach{FailingPercent: &lo, FailingMax: &hi, Regions: []string{"EU"}},
		Updates: []upstate.TimelineEntry{{ID: "e1", At: built.Add(-time.Hour), Status: upstate.Identified, Body: "Uploads fail.", Public: true, Kind: upstate.EntryUpdate}}}
	done := &upstate.Incident{ID: "done1", Name: "Sign-in slow", Status: upstate.Resolved, Impact: upstate.ImpactMinor, CreatedAt: built.Add(-3 * time.Hour),
		UpdatedAt: resolved, StartedAt: built.Add(-3 * time.Hour), ResolvedAt: &resolved, Components: []string{"api"},
		Reach:   upstate.Reach{FailingPercent: &one},
		Updates: []upstate.TimelineEntry{{ID: "e2", At: resolved, Status: upstate.Resolved, Body: "Fixed.", Public: true, Kind: upstate.EntryUpdate}}}
	api := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: "api", Name: "API"}, Status: upstate.PartialOutage}}
	snap := &snapshot.Snapshot{BuiltAt: built, Page: snapshot.Page{Name: "Acme", Location: time.UTC}, Indicator: "major", Components: []*snapshot.Component{api},
		Groups: []*snapshot.Group{{ID: "api", Name: "API", Status: upstate.PartialOutage, Components: []*snapshot.Component{api}, Single: true}},
		Open:   []*upstate.Incident{open}, Recent: []*upstate.Incident{open, done}}
	docs := byPath(t, r, snap)
	for path, want := range map[string][]string{
		"/":                {"Scope: 10–25% of requests failing; regions: EU", "Scope: about 40% of requests failing"},
		"/incidents/open1": {"Scope: 10–25% of requests failing; regions: EU"},
		"/incidents/done1": {"Scope: about 40% of requests failing"},
	} {
		d := docs[path]
		if d == nil {
			t.Errorf("no %s", path)
			continue
		}
		for _, w := range want {
			if !strings.Contains(string(d.Body), w) {
				t.Errorf("%s does not say %q:\n%s", path, w, d.Body)
			}
		}
	}
}

// The page and an incident's page show the HTML the store kept for an
// entry's body (rendered as it was written) and render only bodies it
// kept none for.
func TestPagesTakeKeptHTML(t *testing.T) {
	var asked []string
	r, err := New(func(s string) template.HTML {
		asked = append(asked, s)
		return template.HTML("rendered:" + template.HTMLEscapeString(s)) //nolint:gosec // escaped
	})
	if err != nil {
		t.Fatal(err)
	}
	built := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	in := &upstate.Incident{ID: "open1", Name: "Uploads failing", Status: upstate.Identified, Impact: upstate.ImpactMajor, CreatedAt: built.Add(-time.Hour),
		UpdatedAt: built, StartedAt: built.Add(-time.Hour), Components: []string{"api"},
		Updates: []upstate.TimelineEntry{
			{ID: "e1", At: built.Add(-time.Hour), Status: upstate.Investigating, Body: "Uploads fail.", BodyHTML: "<p>kept words</p>", Public: true, Kind: upstate.EntryUpdate},
			{ID: "e2", At: built.Add(-time.Minute), Status: upstate.Identified, Body: "Found it.", Public: true, Kind: upstate.EntryUpdate}}}
	api := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: "api", Name: "API"}, Status: upstate.PartialOutage}}
	snap := &snapshot.Snapshot{BuiltAt: built, Page: snapshot.Page{Name: "Acme", Location: time.UTC}, Indicator: "major", Components: []*snapshot.Component{api},
		Groups: []*snapshot.Group{{ID: "api", Name: "API", Status: upstate.PartialOutage, Components: []*snapshot.Component{api}, Single: true}},
		Open:   []*upstate.Incident{in}, Recent: []*upstate.Incident{in}}
	docs := byPath(t, r, snap)
	for _, path := range []string{"/", "/incidents/open1"} {
		body := string(docs[path].Body)
		if !strings.Contains(body, "<p>kept words</p>") || !strings.Contains(body, "rendered:Found it.") {
			t.Errorf("%s: kept HTML shown %v, the other body rendered %v", path, strings.Contains(body, "<p>kept words</p>"), strings.Contains(body, "rendered:Found it."))
		}
	}
	for _, s := range asked {
		if s == "Uploads fail." {
			t.Errorf("a body the store kept HTML for was rendered")
		}
	}
}
