package incident

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// The fake store corrects as the real one does (store.Corrections).

func (m *memStore) EditEntry(_ context.Context, incidentID, entryID, body, actor string, at time.Time) (upstate.EntryEdit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.incidents[incidentID]
	if !ok {
		return upstate.EntryEdit{}, upstate.Errorf(upstate.ENOTFOUND, "no incident %q", incidentID)
	}
	i := slices.IndexFunc(in.Updates, func(u upstate.TimelineEntry) bool { return u.ID == entryID })
	if i < 0 {
		return upstate.EntryEdit{}, upstate.Errorf(upstate.ENOTFOUND, "no entry %q", entryID)
	}
	ed := upstate.EntryEdit{EntryID: entryID, At: at, By: actor, Previous: in.Updates[i].Body}
	in.Updates[i].Body, in.Updates[i].EditedAt, in.Updates[i].EditedBy = body, &at, actor
	return ed, nil
}

func (m *memStore) HideIncident(_ context.Context, id string, h *upstate.Hidden) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.incidents[id]
	if !ok {
		return upstate.Errorf(upstate.ENOTFOUND, "no incident %q", id)
	}
	in.Hidden = h
	return nil
}

func (m *memStore) DeleteIncident(_ context.Context, id string, record upstate.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.incidents[id]; !ok {
		return upstate.Errorf(upstate.ENOTFOUND, "no incident %q", id)
	}
	delete(m.incidents, id)
	m.order = slices.DeleteFunc(m.order, func(x string) bool { return x == id })
	m.audit = append(m.audit, record)
	return nil
}

// correcting is a fixture whose engine counts what it owes and how often
// it tells the snapshot.
func correcting(t *testing.T) (f *fixture, owed, changed *int) {
	f = newFixture(t)
	owed, changed = new(int), new(int)
	f.engine.opts.Route = func(upstate.Event) upstate.Owed {
		*owed++
		return upstate.Owed{}
	}
	f.engine.opts.Changed = func(map[string]upstate.Status) { *changed++ }
	return f, owed, changed
}

// A person corrects Upstate's automatic words: the words are replaced,
// the entry says who edited it and when, the public page is told, and
// nobody is notified again. Bad words are refused naming the field; an
// unknown entry is not found.
func TestEditAutomaticWords(t *testing.T) {
	f, owed, changed := correcting(t)
	ctx := context.Background()
	f.transition("api-health", upstate.StateUp, upstate.StateDown, false)
	in := f.store.all()[0]
	words := in.Updates[0]
	if words.Kind != upstate.EntryAutomatic || in.Updates[1].Kind != upstate.EntryEvidence {
		t.Fatalf("entries = %+v", in.Updates)
	}
	f.clock.Advance(3 * time.Minute)
	o, c := *owed, *changed
	in.Updates[0].BodyHTML = "<p>the words before</p>" // as a store that kept them rendered reads them
	got, err := f.engine.Edit(ctx, in.ID, words.ID, "  The API is down for EU customers.  ", "Ann")
	if err != nil {
		t.Fatal(err)
	}
	e := got.Updates[0]
	if e.Body != "The API is down for EU customers." || e.EditedBy != "Ann" || e.EditedAt == nil || !e.EditedAt.Equal(f.clock.Now()) || !e.Public || e.BodyHTML != "" {
		t.Errorf("edited = %+v", e)
	}
	if stored := f.store.all()[0].Updates[0]; stored.Body != e.Body {
		t.Errorf("stored = %+v", stored)
	}
	if *owed != o || *changed != c+1 {
		t.Errorf("an edit owed %d events (want none) and told the snapshot %d times (want once)", *owed-o, *changed-c)
	}
	for _, tc := range []struct {
		name, entry, body string
		code              string
		want              string
	}{
		{"empty", words.ID, "  ", upstate.EINVALID, "body is required"},
		{"too long", words.ID, strings.Repeat("x", 20001), upstate.EINVALID, "body is longer than 20000 characters"},
		{"unknown entry", "nope", "x", upstate.ENOTFOUND, "has no entry nope"},
	} {
		_, err := f.engine.Edit(ctx, in.ID, tc.entry, tc.body, "Ann")
		if upstate.ErrorCode(err) != tc.code || !strings.Contains(upstate.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.want)
		}
	}
}

// The evidence behind an automatic entry is never published, with a
// clear refusal; Upstate's held words are.
func TestPublishRefusesEvidence(t *testing.T) {
	f, _, _ := correcting(t)
	f.engine.HoldAutomatic(true)
	ctx := context.Background()
	f.transition("api-health", upstate.StateUp, upstate.StateDown, false)
	in := f.store.all()[0]
	words, evidence := in.Updates[0], in.Updates[1]
	if words.Public || words.Kind != upstate.EntryAutomatic || evidence.Kind != upstate.EntryEvidence {
		t.Fatalf("entries = %+v", in.Updates)
	}
	_, err := f.engine.Publish(ctx, in.ID, evidence.ID, "Ann")
	if upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(upstate.ErrorMessage(err), "is the evidence behind an automatic update") {
		t.Errorf("publish evidence: %v", err)
	}
	if _, err := f.engine.Publish(ctx, in.ID, words.ID, "Ann"); err != nil {
		t.Errorf("publish the held words: %v", err)
	}
}

// Hiding and deleting are for resolved incidents: an open one is refused
// (it holds its components' public status); a reason is required; a
// hidden incident is not reopened until it is shown again.
func TestHideAndDelete(t *testing.T) {
	f, owed, _ := correcting(t)
	ctx := context.Background()
	in, err := f.engine.Declare(ctx, Change{Name: "Test incident", Message: "ignore", Set: map[string]upstate.Status{"drive": upstate.MajorOutage}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Hide(ctx, in.ID, "test", "Ann"); upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(err.Error(), "resolve it first") {
		t.Errorf("hide open: %v", err)
	}
	if _, err := f.engine.Delete(ctx, in.ID, "test", upstate.AuditEntry{}); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("delete open: %v", err)
	}
	if _, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Resolved, Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Hide(ctx, in.ID, " ", "Ann"); upstate.ErrorCode(err) != upstate.EINVALID || upstate.ErrorMessage(err) != "reason is required" {
		t.Errorf("hide without reason: %v", err)
	}
	o := *owed
	h, err := f.engine.Hide(ctx, in.ID, "declared on the wrong page", "Ann")
	if err != nil || h.Hidden == nil || h.Hidden.Reason != "declared on the wrong page" || h.Hidden.By != "Ann" {
		t.Fatalf("hide = %+v, %v", h, err)
	}
	if *owed != o {
		t.Errorf("hiding owed %d events", *owed-o)
	}
	if _, err := f.engine.Hide(ctx, in.ID, "again", "Ann"); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("hide twice: %v", err)
	}
	if _, err := f.engine.Reopen(ctx, in.ID, Change{Actor: "Ann"}); upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(err.Error(), "hidden") {
		t.Errorf("reopen hidden: %v", err)
	}
	if _, err := f.engine.Unhide(ctx, in.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Unhide(ctx, in.ID); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("unhide shown: %v", err)
	}
	if _, err := f.engine.Delete(ctx, in.ID, "", upstate.AuditEntry{}); upstate.ErrorCode(err) != upstate.EINVALID {
		t.Errorf("delete without reason: %v", err)
	}
	if _, err := f.engine.Delete(ctx, in.ID, "declared by mistake", upstate.AuditEntry{Actor: "Olga <o@example.com>", Status: 204}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetIncident(ctx, in.ID); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("deleted: %v", err)
	}
	rec := f.store.audit[0]
	if rec.Action != "deleted incident 'Test incident' ("+in.ID+"): declared by mistake" || rec.Targets[0] != in.ID || rec.Actor != "Olga <o@example.com>" || rec.At.IsZero() {
		t.Errorf("record = %+v", rec)
	}
	var kept struct {
		Name     string `json:"name"`
		Reason   string `json:"reason"`
		Timeline []struct {
			Body, Actor string
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(rec.Detail), &kept); err != nil || kept.Name != "Test incident" || kept.Reason != "declared by mistake" ||
		len(kept.Timeline) != 2 || kept.Timeline[0].Body != "ignore" {
		t.Errorf("kept = %+v, %v (%s)", kept, err, rec.Detail)
	}
	if _, err := f.engine.Delete(ctx, "nope", "x", upstate.AuditEntry{}); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("delete unknown: %v", err)
	}
}
