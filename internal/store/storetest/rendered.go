package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/store"
)

// rendered is src as the store must keep it: the markdown package's HTML.
func rendered(src string) string {
	if src == "" {
		return ""
	}
	return string(markdown.New().HTML(src))
}

// testRenderedMarkdown: every way Markdown is written (an entry, an
// edit, a postmortem, an import) keeps its HTML, which the reads give
// back; what a caller puts in the HTML fields is never what is kept.
func testRenderedMarkdown(t *testing.T, s store.Store) {
	in := incident("mdmdmdmdmdmd", t0, upstate.Resolved)
	entries := []upstate.TimelineEntry{
		{ID: "md1", IncidentID: in.ID, At: t0, Status: upstate.Investigating, Body: "**Down**: see <script>alert(1)</script> [x](javascript:alert(1))",
			Public: true, Actor: "Dana", BodyHTML: "<script>alert('kept')</script>"},
		{ID: "md2", IncidentID: in.ID, At: t0.Add(time.Minute), Status: upstate.Resolved, Public: true, Actor: "upstate"},
		// What a database may not keep as sent (PostgreSQL's text takes
		// no NUL and no broken UTF-8): the HTML is of the words kept.
		{ID: "md3", IncidentID: in.ID, At: t0.Add(2 * time.Minute), Status: upstate.Resolved, Public: true, Actor: "upstate",
			Body: "[docs](https://a\x00.example/) `x\xffy`"},
	}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{in}, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, want ...string) {
		t.Helper()
		got, err := s.GetIncident(ctx(t), in.ID)
		if err != nil || len(got.Updates) != len(want) {
			t.Fatalf("%s: %+v, %v", when, got, err)
		}
		for i, u := range got.Updates {
			if u.BodyHTML != rendered(u.Body) || (i < 2 && u.Body != want[i]) {
				t.Errorf("%s: entry %s: %q, its HTML %q; want %q, %q", when, u.ID, u.Body, u.BodyHTML, want[min(i, 1)], rendered(u.Body))
			}
		}
	}
	check("written", entries[0].Body, "", entries[2].Body)
	if _, err := s.EditEntry(ctx(t), in.ID, "md2", "Back since _14:05_.", "Olga", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("edited", entries[0].Body, "Back since _14:05_.", entries[2].Body)

	p := upstate.PostmortemDoc{IncidentID: in.ID, RootCause: "A `lock` held <b>too</b> long.", Fix: "1. Timeouts\n2. Alerts", Status: upstate.PostmortemDraft,
		Author: "Dana", UpdatedAt: t0, RootCauseHTML: "<script>kept</script>", ContributingHTML: "<p>none</p>"}
	for _, fix := range []string{p.Fix, "Statement timeouts."} {
		p.Fix = fix
		if err := s.SavePostmortem(ctx(t), p, store.Change{}); err != nil {
			t.Fatal(err)
		}
		for _, read := range []func() (upstate.PostmortemDoc, error){
			func() (upstate.PostmortemDoc, error) { return s.GetPostmortem(ctx(t), in.ID) },
			func() (upstate.PostmortemDoc, error) {
				all, err := s.ListPostmortems(ctx(t), []string{in.ID})
				return all[in.ID], err
			},
		} {
			got, err := read()
			if err != nil || got.RootCauseHTML != rendered(p.RootCause) || got.ContributingHTML != "" || got.FixHTML != rendered(fix) {
				t.Errorf("postmortem's HTML = %q, %q, %q, %v; want %q, \"\", %q", got.RootCauseHTML, got.ContributingHTML, got.FixHTML, err, rendered(p.RootCause), rendered(fix))
			}
		}
	}

	im := incident("mdimported01", t0, upstate.Resolved)
	im.Updates = []upstate.TimelineEntry{{ID: "mdi1", IncidentID: im.ID, At: t0, Status: upstate.Resolved, Body: "Imported _words_.", Public: true, Actor: "Dana"}}
	if _, err := s.ImportIncidents(ctx(t), []store.Imported{{Incident: im, Postmortem: &upstate.PostmortemDoc{IncidentID: im.ID, RootCause: "Imported cause.",
		Status: upstate.PostmortemPublished, UpdatedAt: t0}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIncident(ctx(t), im.ID)
	if err != nil || len(got.Updates) != 1 || got.Updates[0].BodyHTML != rendered("Imported _words_.") {
		t.Errorf("imported entry = %+v, %v", got, err)
	}
	if pm, err := s.GetPostmortem(ctx(t), im.ID); err != nil || pm.RootCauseHTML != rendered("Imported cause.") {
		t.Errorf("imported postmortem = %+v, %v", pm, err)
	}
	if n, err := s.RenderStale(ctx(t)); n != 0 || err != nil {
		t.Errorf("RenderStale with nothing stale = %d, %v", n, err)
	}
}

// RenderStale is the conformance test of RenderStale, which needs the
// backend's help to make rows stale: stale runs each statement it is
// given on the backend's database. Rows another renderer made are read
// without their HTML (readers render them), and RenderStale renders them
// again, once.
func RenderStale(t *testing.T, s store.Store, stale func(q string) error) {
	in := incident("stalestale01", t0, upstate.Resolved)
	var entries []upstate.TimelineEntry
	for i := range 450 { // more than a batch, twice
		entries = append(entries, upstate.TimelineEntry{ID: fmt.Sprintf("st%03d", i), IncidentID: in.ID,
			At: t0.Add(time.Duration(i) * time.Second), Status: upstate.Investigating, Body: fmt.Sprintf("Entry *%d*", i), Public: true, Actor: "Dana"})
	}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{in}, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	pm := upstate.PostmortemDoc{IncidentID: in.ID, RootCause: "Old _cause_.", Contributing: "Some.", Fix: "A fix.", Status: upstate.PostmortemPublished, UpdatedAt: t0}
	if err := s.SavePostmortem(ctx(t), pm, store.Change{}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE incident_updates SET body_html = '<p>old</p>', html_v = 'an older renderer'`,
		`UPDATE postmortems SET root_cause_html = '<p>old</p>', contributing_html = '', fix_html = '', html_v = ''`} {
		if err := stale(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	read := func(when string, kept bool) {
		t.Helper()
		got, err := s.GetIncident(ctx(t), in.ID)
		if err != nil || len(got.Updates) != len(entries) {
			t.Fatalf("%s: %d entries, %v", when, len(got.Updates), err)
		}
		for _, u := range got.Updates {
			if want := map[bool]string{true: rendered(u.Body)}[kept]; u.BodyHTML != want {
				t.Fatalf("%s: entry %s's HTML = %q; want %q", when, u.ID, u.BodyHTML, want)
			}
		}
		p, err := s.GetPostmortem(ctx(t), in.ID)
		if want := map[bool]string{true: rendered(pm.RootCause)}[kept]; err != nil || p.RootCauseHTML != want || (p.FixHTML != "") != kept {
			t.Fatalf("%s: postmortem's HTML = %q, %q, %v; want %q", when, p.RootCauseHTML, p.FixHTML, err, want)
		}
	}
	read("stale", false)
	if n, err := s.RenderStale(ctx(t)); n != len(entries)+1 || err != nil {
		t.Fatalf("RenderStale = %d, %v; want %d rows", n, err, len(entries)+1)
	}
	read("rendered again", true)
	if n, err := s.RenderStale(ctx(t)); n != 0 || err != nil {
		t.Errorf("RenderStale a second time = %d, %v; want 0", n, err)
	}
}
