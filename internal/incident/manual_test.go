package incident

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

func TestDeclareUpdateResolveReopen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	no := false
	in, err := f.engine.Declare(ctx, Change{Name: "Conversions failing for Word files", Message: "Word uploads fail; PDF works.",
		Set: map[string]upstate.Status{"drive": upstate.PartialOutage}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != upstate.Investigating || in.Impact != upstate.ImpactMajor || in.Auto || !in.HasComponent("drive") {
		t.Errorf("declared = %+v", in)
	}
	if st := f.engine.Statuses()["drive"]; st != upstate.PartialOutage {
		t.Errorf("drive is %s, want the partial_outage Ann set", st)
	}
	stored := f.store.all()[0]
	if e := stored.Updates[0]; e.Actor != "Ann" || !e.Public || len(e.Affected) != 1 || e.Affected[0].NewStatus != upstate.PartialOutage {
		t.Errorf("first entry = %+v", e)
	}

	f.clock.Advance(5 * time.Minute)
	if _, err := f.engine.Update(ctx, in.ID, Change{Message: "Paged the provider's on-call.", Public: &no, Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Identified, Message: "The provider's Office workers are down.", Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	// A check failing on the same component joins the declared incident.
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false)
	if n := len(f.store.all()); n != 1 {
		t.Fatalf("%d incidents; the check's failure should join the declared one", n)
	}
	f.transition("drive-api", upstate.StateDown, upstate.StateUp, false)
	if st := f.engine.Statuses()["drive"]; st != upstate.PartialOutage {
		t.Errorf("drive is %s after its check recovered, want the held partial_outage", st)
	}
	if f.store.all()[0].Status != upstate.Identified {
		t.Error("a declared incident went to monitoring on its own")
	}

	res, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Resolved, Message: "Fixed by the provider.", Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ResolvedAt == nil || res.Overrides != nil {
		t.Errorf("resolved = %+v", res)
	}
	if st := f.engine.Statuses()["drive"]; st != upstate.Operational {
		t.Errorf("drive is %s after resolving", st)
	}
	_, err = f.engine.Update(ctx, in.ID, Change{Message: "late note", Actor: "Ann"})
	if upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(err.Error(), "reopen it") {
		t.Errorf("update of a resolved incident: %v", err)
	}
	re, err := f.engine.Reopen(ctx, in.ID, Change{Actor: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	if re.Status != upstate.Investigating || re.ResolvedAt != nil {
		t.Errorf("reopened = %+v", re)
	}
	if _, err := f.engine.Reopen(ctx, in.ID, Change{Actor: "Bob"}); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("reopening an open incident: %v", err)
	}
	ups := f.store.all()[0].Updates
	// Each automatic change is two entries: plain words and the internal evidence.
	if len(ups) != 9 || ups[1].Public || ups[4].Public || ups[6].Public || ups[8].Body != "Reopened: the problem is not over." || ups[8].Actor != "Bob" {
		for _, u := range ups {
			t.Logf("%s %v %q", u.Status, u.Public, u.Body)
		}
		t.Errorf("timeline has %d entries", len(ups))
	}
}

func TestManualChangesAreValidated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.engine.Declare(ctx, Change{Status: "panicking", Impact: "huge", Set: map[string]upstate.Status{"nope": upstate.MajorOutage, "api": "on_fire"}})
	for _, want := range []string{"name is required", `status "panicking"`, `impact "huge"`, "components.api: \"on_fire\" is not a component status", "components.nope: no such component", "actor is required"} {
		if upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if n := len(f.store.all()); n != 0 {
		t.Errorf("%d incidents written by a refused declaration", n)
	}
	if _, err := f.engine.Declare(ctx, Change{Name: "x", Status: upstate.Resolved, Actor: "Ann"}); upstate.ErrorCode(err) != upstate.EINVALID {
		t.Errorf("declaring a resolved incident: %v", err)
	}
	if _, err := f.engine.Update(ctx, "nope", Change{Message: "x", Actor: "Ann"}); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("updating an unknown incident: %v", err)
	}
}
