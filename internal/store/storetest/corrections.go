package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// testEntryKinds: an entry's kind is kept, and one written without a
// kind is guessed by who wrote it for whom, Upstate's internal ones taken
// for evidence.
func testEntryKinds(t *testing.T, s store.Store) {
	a := incident("aaaaaaaaaaaa", t0, upstate.Investigating)
	until := t0.Add(25 * time.Minute)
	entries := []upstate.TimelineEntry{
		{ID: "words", IncidentID: a.ID, At: t0, Body: "The API is not responding.", Actor: upstate.ActorUpstate, Kind: upstate.EntryAutomatic},
		{ID: "evidence", IncidentID: a.ID, At: t0, Body: "api-health: 503", Actor: upstate.ActorUpstate, Kind: upstate.EntryEvidence},
		{ID: "mirrored", IncidentID: a.ID, At: t0, Body: "**Google** says", Actor: upstate.ActorUpstate, Kind: upstate.EntryProvider},
		{ID: "unknown", IncidentID: a.ID, At: t0, Body: "?", Actor: upstate.ActorUpstate},
		{ID: "note", IncidentID: a.ID, At: t0, Body: "looking", Actor: "Dana"},
		{ID: "update", IncidentID: a.ID, At: t0, Body: "We are on it", Actor: "Dana", Public: true},
		// Told of a week later: both times are kept.
		{ID: "late", IncidentID: a.ID, At: t0.Add(time.Minute), WrittenAt: t0.Add(7 * 24 * time.Hour), Body: "Paged the DBA", Actor: "Dana"},
		// A span: its end is kept.
		{ID: "span", IncidentID: a.ID, At: t0.Add(2 * time.Minute), Until: &until, Body: "25% of requests answered HTTP 500", Actor: "Dana", Public: true},
	}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{a}, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIncident(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]upstate.EntryKind{"words": upstate.EntryAutomatic, "evidence": upstate.EntryEvidence, "mirrored": upstate.EntryProvider,
		"unknown": upstate.EntryEvidence, "note": upstate.EntryNote, "update": upstate.EntryUpdate, "late": upstate.EntryNote, "span": upstate.EntryUpdate}
	for _, e := range got.Updates {
		if e.Kind != want[e.ID] {
			t.Errorf("entry %s: kind %q, want %q", e.ID, e.Kind, want[e.ID])
		}
		if late := e.ID == "late"; late != !e.WrittenAt.IsZero() || late && (!e.WrittenAt.Equal(t0.Add(7*24*time.Hour)) || !e.At.Equal(t0.Add(time.Minute))) {
			t.Errorf("entry %s: at %v, written %v", e.ID, e.At, e.WrittenAt)
		}
		if span := e.ID == "span"; span != (e.Until != nil) || span && !e.Until.Equal(until) {
			t.Errorf("entry %s: until %v", e.ID, e.Until)
		}
	}
}

// testEditEntry: an edit replaces the words, marks the entry edited and
// keeps the words before; an unknown entry, or one of another incident,
// is ENOTFOUND.
func testEditEntry(t *testing.T, s store.Store) {
	a, b := incident("aaaaaaaaaaaa", t0, upstate.Investigating), incident("bbbbbbbbbbbb", t0, upstate.Investigating)
	e := upstate.TimelineEntry{ID: "e1", IncidentID: a.ID, At: t0, Body: "The APi is down", Public: true, Actor: "Dana", Kind: upstate.EntryUpdate}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{a, b}, Entries: []upstate.TimelineEntry{e}}); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(5 * time.Minute)
	ed, err := s.EditEntry(ctx(t), a.ID, "e1", "The API is down", "Olga", at)
	if err != nil || ed.Previous != "The APi is down" {
		t.Fatalf("edit = %+v, %v", ed, err)
	}
	if _, err := s.EditEntry(ctx(t), a.ID, "e1", "The API is down.", "Rui", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIncident(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	u := got.Updates[0]
	if u.Body != "The API is down." || u.EditedAt == nil || !u.EditedAt.Equal(at.Add(time.Minute)) || u.EditedBy != "Rui" || !u.At.Equal(t0) || !u.Public {
		t.Errorf("edited entry = %+v", u)
	}
	edits, err := s.ListEntryEdits(ctx(t), a.ID)
	if err != nil || len(edits) != 2 || edits[0].Previous != "The APi is down" || edits[1].Previous != "The API is down" || edits[1].By != "Rui" {
		t.Errorf("edits = %+v, %v", edits, err)
	}
	for _, tc := range []struct{ incident, entry string }{{a.ID, "nope"}, {b.ID, "e1"}, {"nope", "e1"}} {
		if _, err := s.EditEntry(ctx(t), tc.incident, tc.entry, "x", "Olga", at); upstate.ErrorCode(err) != upstate.ENOTFOUND {
			t.Errorf("edit %s/%s: %v, want ENOTFOUND", tc.incident, tc.entry, err)
		}
	}
}

// testHideIncident: hidden incidents carry why; the Hidden filter leaves
// them out or keeps only them; showing one again clears it.
func testHideIncident(t *testing.T, s store.Store) {
	a, b := incident("aaaaaaaaaaaa", t0, upstate.Resolved), incident("bbbbbbbbbbbb", t0.Add(time.Minute), upstate.Resolved)
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{a, b}}); err != nil {
		t.Fatal(err)
	}
	h := &upstate.Hidden{Reason: "opened by mistake", By: "Olga", At: t0.Add(time.Hour)}
	if err := s.HideIncident(ctx(t), a.ID, h); err != nil {
		t.Fatal(err)
	}
	// An upsert by the engine keeps what people hid.
	a.UpdatedAt = t0.Add(2 * time.Hour)
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{a}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIncident(ctx(t), a.ID)
	if err != nil || got.Hidden == nil || *got.Hidden != *h {
		t.Errorf("hidden = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		f    upstate.HiddenFilter
		want string
	}{{upstate.HiddenAny, "bbbbbbbbbbbb aaaaaaaaaaaa"}, {upstate.HiddenExclude, "bbbbbbbbbbbb"}, {upstate.HiddenOnly, "aaaaaaaaaaaa"}} {
		ins, err := s.ListIncidents(ctx(t), upstate.IncidentFilter{Hidden: tc.f})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, in := range ins {
			ids = append(ids, in.ID)
		}
		if got := strings.Join(ids, " "); got != tc.want {
			t.Errorf("Hidden %q: %s, want %s", tc.f, got, tc.want)
		}
	}
	if err := s.HideIncident(ctx(t), a.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetIncident(ctx(t), a.ID); got.Hidden != nil {
		t.Errorf("shown again, still hidden: %+v", got.Hidden)
	}
	if err := s.HideIncident(ctx(t), "nope", h); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("hide unknown: %v", err)
	}
}

// testDeleteIncident: the incident, its timeline, edits and postmortem go;
// its pending messages and pages are cancelled, others' are not; the audit
// entry is written with it; an unknown one is ENOTFOUND and records
// nothing.
func testDeleteIncident(t *testing.T, s store.Store) {
	a, b := incident("aaaaaaaaaaaa", t0, upstate.Resolved), incident("bbbbbbbbbbbb", t0, upstate.Resolved)
	b.MergedInto = a.ID
	e := upstate.TimelineEntry{ID: "e1", IncidentID: a.ID, At: t0, Body: "Down", Public: true, Actor: "Dana"}
	msg := func(id, stream string) upstate.Message {
		return upstate.Message{ID: id, Channel: "x", Stream: stream, CreatedAt: t0, NextAt: t0,
			Event: upstate.Event{ID: "ev-" + id, Type: upstate.EventIncidentCreated, Incident: upstate.Incident{ID: stream, Name: "API is down"}}}
	}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{a, b}, Entries: []upstate.TimelineEntry{e},
		Statuses: []upstate.StatusChange{{ComponentID: "api", At: t0, Status: upstate.MajorOutage, IncidentID: a.ID}},
		Messages: []upstate.Message{msg("m1", a.ID), msg("p1", upstate.PageStream(a.ID)+"1:1"), msg("other", b.ID)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EditEntry(ctx(t), a.ID, "e1", "Down!", "Olga", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePostmortem(ctx(t), upstate.PostmortemDoc{IncidentID: a.ID, RootCause: "x", Status: "draft", Author: "Dana", UpdatedAt: t0}, store.Change{}); err != nil {
		t.Fatal(err)
	}
	rec := upstate.AuditEntry{At: t0.Add(time.Hour), Actor: "Olga <o@example.com>", ActorKind: upstate.ActorUser, Action: "deleted incident 'API is down'",
		Route: "DELETE /api/v1/incidents/{id}", Targets: []string{a.ID}, Status: 204, Detail: `{"name":"API is down"}`}
	if err := s.DeleteIncident(ctx(t), a.ID, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIncident(ctx(t), a.ID); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("deleted incident: %v", err)
	}
	if _, err := s.GetPostmortem(ctx(t), a.ID); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("deleted incident's postmortem: %v", err)
	}
	if edits, _ := s.ListEntryEdits(ctx(t), a.ID); len(edits) != 0 {
		t.Errorf("deleted incident's edits: %v", edits)
	}
	if got, err := s.GetIncident(ctx(t), b.ID); err != nil || got.MergedInto != "" {
		t.Errorf("incident merged into the deleted one: %+v, %v", got, err)
	}
	for id, want := range map[string]upstate.MessageState{"m1": upstate.MessageCancelled, "p1": upstate.MessageCancelled, "other": upstate.MessagePending} {
		ms, err := s.ListMessages(ctx(t), store.MessageFilter{ID: id})
		if err != nil || len(ms) != 1 || ms[0].State != want {
			t.Errorf("message %s: %+v, %v; want %s", id, ms, err, want)
		}
	}
	got, err := s.ListAudit(ctx(t), upstate.AuditFilter{Target: a.ID})
	if err != nil || len(got) != 1 || got[0].Detail != rec.Detail || got[0].Action != rec.Action || got[0].Status != 204 {
		t.Errorf("audit = %+v, %v", got, err)
	}
	if err := s.DeleteIncident(ctx(t), a.ID, rec); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("delete again: %v", err)
	}
	if got, _ := s.ListAudit(ctx(t), upstate.AuditFilter{}); len(got) != 1 {
		t.Errorf("a refused delete recorded: %+v", got)
	}
}

// testAudit: entries come back newest first, filtered by actor, action,
// target and time, a page at a time before an id; fields are bounded;
// pruning drops the old ones.
func testAudit(t *testing.T, s store.Store) {
	add := func(min int, actor, action string, targets ...string) {
		t.Helper()
		e := upstate.AuditEntry{At: t0.Add(time.Duration(min) * time.Minute), Actor: actor, ActorKind: upstate.ActorUser, ActorID: "u-" + actor[:3],
			Action: action, Route: "POST /api/v1/incidents", Targets: targets, Status: 201, Addr: "192.0.2.7", UserAgent: "curl/8"}
		if err := s.AppendAudit(ctx(t), e); err != nil {
			t.Fatal(err)
		}
	}
	add(0, "Olga <o@example.com>", "declared incident 'API errors' (inc1)", "inc1")
	add(1, "Rui <r@example.com>", "updated incident 'API errors' (inc1)", "inc1")
	add(2, "token 'ci' of Olga <o@example.com>", "created API token 'bot' (tok1)", "tok1")
	add(3, "Rui <r@example.com>", "50% done_x", "inc10")
	actions := func(f upstate.AuditFilter) string {
		t.Helper()
		es, err := s.ListAudit(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, fmt.Sprintf("%d", e.At.Sub(t0)/time.Minute))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		name string
		f    upstate.AuditFilter
		want string
	}{
		{"all, newest first", upstate.AuditFilter{}, "3 2 1 0"},
		{"actor words", upstate.AuditFilter{Actor: "olga"}, "2 0"},
		{"actor id", upstate.AuditFilter{Actor: "u-Rui"}, "3 1"},
		{"action words", upstate.AuditFilter{Action: "token"}, "2"},
		{"action route", upstate.AuditFilter{Action: "/api/v1/incidents"}, "3 2 1 0"},
		{"LIKE signs are plain", upstate.AuditFilter{Action: "50%"}, "3"},
		{"underscore is plain", upstate.AuditFilter{Action: "e_x"}, "3"},
		{"target exactly", upstate.AuditFilter{Target: "inc1"}, "1 0"},
		{"from", upstate.AuditFilter{From: t0.Add(2 * time.Minute)}, "3 2"},
		{"to", upstate.AuditFilter{To: t0.Add(2 * time.Minute)}, "1 0"},
		{"limit", upstate.AuditFilter{Limit: 2}, "3 2"},
	} {
		if got := actions(tc.f); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	page, _ := s.ListAudit(ctx(t), upstate.AuditFilter{Limit: 2})
	if got := actions(upstate.AuditFilter{Before: page[1].ID}); got != "1 0" {
		t.Errorf("the page before %d: %s", page[1].ID, got)
	}
	one := page[0]
	if one.Addr != "192.0.2.7" || one.UserAgent != "curl/8" || one.Status != 201 || one.Route != "POST /api/v1/incidents" || one.ActorKind != upstate.ActorUser {
		t.Errorf("entry = %+v", one)
	}

	big := upstate.AuditEntry{At: t0.Add(time.Hour), Actor: strings.Repeat("a", 5000), Action: strings.Repeat("é", 5000), Detail: strings.Repeat("d", 1<<20)}
	if err := s.AppendAudit(ctx(t), big); err != nil {
		t.Fatal(err)
	}
	got, _ := s.ListAudit(ctx(t), upstate.AuditFilter{Limit: 1})
	if len(got[0].Actor) > upstate.AuditTextMax || len(got[0].Action) > upstate.AuditTextMax || len(got[0].Detail) > upstate.AuditDetailMax || !strings.HasSuffix(got[0].Action, "…") {
		t.Errorf("an entry is not bounded: actor %d, action %d, detail %d bytes", len(got[0].Actor), len(got[0].Action), len(got[0].Detail))
	}
	if n, err := s.PruneAudit(ctx(t), t0.Add(2*time.Minute)); err != nil || n != 2 {
		t.Errorf("prune = %d, %v", n, err)
	}
	if got := actions(upstate.AuditFilter{}); got != "60 3 2" {
		t.Errorf("after prune: %s", got)
	}
}

// testIncidentFilters: each filter of the incident list is the store's,
// with its count and paging, newest first.
func testIncidentFilters(t *testing.T, s store.Store) {
	mk := func(id string, min int, status upstate.IncidentStatus, name string, comps ...string) *upstate.Incident {
		in := incident(id, t0.Add(time.Duration(min)*time.Minute), status)
		in.Name, in.Components = name, comps
		return in
	}
	ins := []*upstate.Incident{
		mk("i1", 0, upstate.Resolved, "API errors", "api"),
		mk("i2", 1, upstate.Investigating, "Drive sync slow", "drive"),
		mk("i3", 2, upstate.Monitoring, "ÉCOLE logins failing", "api", "drive"),
		mk("i4", 3, upstate.Postmortem, "API latency", "api"),
		mk("i5", 4, upstate.Identified, "api-gateway errors", "api-gateway"),
	}
	if err := s.Apply(ctx(t), store.Change{Incidents: ins}); err != nil {
		t.Fatal(err)
	}
	if err := s.HideIncident(ctx(t), "i1", &upstate.Hidden{Reason: "test", By: "Olga", At: t0}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    upstate.IncidentFilter
		want string
	}{
		{"all", upstate.IncidentFilter{}, "i5 i4 i3 i2 i1"},
		{"open", upstate.IncidentFilter{OpenOnly: true}, "i5 i3 i2"},
		{"resolved", upstate.IncidentFilter{ResolvedOnly: true}, "i4 i1"},
		{"one status", upstate.IncidentFilter{Status: upstate.Monitoring}, "i3"},
		{"component, exactly", upstate.IncidentFilter{Component: "api"}, "i4 i3 i1"},
		{"words, any case", upstate.IncidentFilter{Words: []string{"api", "ERRORS"}}, "i5 i1"},
		{"words beyond ASCII", upstate.IncidentFilter{Words: []string{"école"}}, "i3"},
		{"since", upstate.IncidentFilter{Since: t0.Add(3 * time.Minute)}, "i5 i4"},
		{"a page", upstate.IncidentFilter{Limit: 2, Offset: 2}, "i3 i2"},
		{"past the last", upstate.IncidentFilter{Limit: 2, Offset: 6}, ""},
		{"not hidden", upstate.IncidentFilter{Hidden: upstate.HiddenExclude, Component: "api"}, "i4 i3"},
		{"only hidden", upstate.IncidentFilter{Hidden: upstate.HiddenOnly}, "i1"},
	} {
		got, err := s.ListIncidents(ctx(t), tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, in := range got {
			ids = append(ids, in.ID)
		}
		if strings.Join(ids, " ") != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, ids, tc.want)
		}
		count := tc.f
		count.Limit, count.Offset = 0, 0
		n, err := s.CountIncidents(ctx(t), count)
		all, _ := s.ListIncidents(ctx(t), count)
		if err != nil || n != len(all) {
			t.Errorf("%s: count %d, %v; want %d", tc.name, n, err, len(all))
		}
	}
	// A rename moves the search with it.
	ins[1].Name = "Drive uploads failing"
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{ins[1]}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListIncidents(ctx(t), upstate.IncidentFilter{Words: []string{"uploads"}}); len(got) != 1 || got[0].ID != "i2" {
		t.Errorf("after a rename: %v", got)
	}
}
