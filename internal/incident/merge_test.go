package incident

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

func TestHoldStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.engine.HoldStatus(ctx, "worker", upstate.DegradedPerformance, "Dana")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != upstate.DegradedPerformance || c.Hold.By != "Dana" || f.store.holds["worker"].Status != upstate.DegradedPerformance {
		t.Errorf("held = %+v, stored %+v", c, f.store.holds)
	}
	if n := len(f.store.all()); n != 0 {
		t.Errorf("holding a status opened %d incidents", n)
	}
	if s := f.store.statuses[len(f.store.statuses)-1]; s.ComponentID != "worker" || s.Status != upstate.DegradedPerformance {
		t.Errorf("status change = %+v", s)
	}
	// Checks can make it look worse, and it comes back to the hold.
	f.transition("worker-queue", upstate.StateUp, upstate.StateDown, false)
	if st := f.engine.Statuses()["worker"]; st != upstate.MajorOutage {
		t.Errorf("worker is %s with its check down", st)
	}
	f.transition("worker-queue", upstate.StateDown, upstate.StateUp, false)
	if st := f.engine.Statuses()["worker"]; st != upstate.DegradedPerformance {
		t.Errorf("worker is %s after its check recovered, want the held degraded_performance", st)
	}
	if _, err := f.engine.HoldStatus(ctx, "worker", upstate.Operational, "Dana"); err != nil {
		t.Fatal(err)
	}
	if st := f.engine.Statuses()["worker"]; st != upstate.Operational || f.store.holds["worker"].Status != "" {
		t.Errorf("after clearing: %s, %+v", st, f.store.holds["worker"])
	}
	if _, err := f.engine.HoldStatus(ctx, "nope", upstate.MajorOutage, "Dana"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("unknown component: %v", err)
	}
	if _, err := f.engine.HoldStatus(ctx, "web", "broken", "Dana"); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), `"broken"`) {
		t.Errorf("bad status: %v", err)
	}
	f.store.fail = upstate.Errorf(upstate.EINTERNAL, "disk full")
	if _, err := f.engine.HoldStatus(ctx, "web", upstate.MajorOutage, "Dana"); err == nil {
		t.Error("a failed write was reported as done")
	}
	if st := f.engine.Statuses()["web"]; st != upstate.Operational || len(f.engine.Holds()) != 0 {
		t.Errorf("a failed hold changed memory: %s %v", st, f.engine.Holds())
	}
}

func TestAcknowledge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.transition("api-health", upstate.StateUp, upstate.StateDown, false)
	in := f.store.all()[0]
	f.clock.Advance(4 * time.Minute)
	got, err := f.engine.Acknowledge(ctx, in.ID, "Dana")
	if err != nil {
		t.Fatal(err)
	}
	if got.AcknowledgedBy != "Dana" || !got.AcknowledgedAt.Equal(f.clock.Now()) {
		t.Errorf("ack = %v by %q", got.AcknowledgedAt, got.AcknowledgedBy)
	}
	last := f.store.all()[0].Updates
	if e := last[len(last)-1]; e.Body != "Acknowledged by Dana." || e.Public || e.Actor != "Dana" {
		t.Errorf("entry = %+v", e)
	}
	f.clock.Advance(time.Minute)
	again, err := f.engine.Acknowledge(ctx, in.ID, "Lee")
	if err != nil || again.AcknowledgedBy != "Dana" || len(f.store.all()[0].Updates) != len(last) {
		t.Errorf("second acknowledgement changed things: %+v, %v", again, err)
	}
	if _, err := f.engine.Acknowledge(ctx, "nope", "Dana"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("unknown incident: %v", err)
	}
	// Declaring is not acknowledging; writing on an incident after its
	// declaration is.
	d, _ := f.engine.Declare(ctx, Change{Name: "Slow uploads", Actor: "Ann"})
	if d.AcknowledgedAt != nil {
		t.Errorf("declaring acknowledged the incident: by %q", d.AcknowledgedBy)
	}
	f.clock.Advance(3 * time.Minute)
	u, err := f.engine.Update(ctx, d.ID, Change{Message: "Looking at the upload workers.", Actor: "Lee"})
	if err != nil || u.AcknowledgedBy != "Lee" || !u.AcknowledgedAt.Equal(f.clock.Now()) {
		t.Errorf("first update after the declaration: acknowledged %v by %q (%v)", u.AcknowledgedAt, u.AcknowledgedBy, err)
	}
}

func TestMerge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false)
	auto := f.store.all()[0]
	f.clock.Advance(10 * time.Minute)
	pct := 30.0
	decl, err := f.engine.Declare(ctx, Change{Name: "Drive provider outage", Message: "Google Drive is down.", Actor: "Ann",
		Set: map[string]upstate.Status{"worker": upstate.PartialOutage}, Reach: &upstate.Reach{FailingPercent: &pct}})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	m, err := f.engine.Merge(ctx, decl.ID, []string{auto.ID}, "Ann")
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasComponent("drive") || !m.HasComponent("worker") || !m.StartedAt.Equal(auto.StartedAt) || m.Impact != upstate.ImpactCritical || m.Auto {
		t.Errorf("merged = %+v", m)
	}
	if m.Updates[0].Body != auto.Updates[0].Body {
		t.Errorf("the target's timeline does not start with the merged incident's first entry: %+v", m.Updates[0])
	}
	if e := m.Updates[len(m.Updates)-1]; !strings.Contains(e.Body, "Merged \"Major outage of Cloud drive\"") || e.Public {
		t.Errorf("merge entry = %+v", e)
	}
	src, _ := f.store.GetIncident(ctx, auto.ID)
	if src.MergedInto != decl.ID || src.Status != upstate.Resolved || src.ResolvedAt == nil {
		t.Errorf("source after merge = %+v", src)
	}
	if st := f.engine.Statuses(); st["drive"] != upstate.MajorOutage || st["worker"] != upstate.PartialOutage {
		t.Errorf("statuses changed by a merge: %v", st)
	}
	// The check now belongs to the target: its recovery improves it.
	f.transition("drive-api", upstate.StateDown, upstate.StateUp, false)
	if n := len(f.store.all()); n != 2 {
		t.Errorf("%d incidents after recovery, want 2", n)
	}
	tgt, _ := f.store.GetIncident(ctx, decl.ID)
	if e := tgt.Updates[len(tgt.Updates)-1]; !strings.Contains(e.Body, "operational again") {
		t.Errorf("recovery went elsewhere: %+v", e)
	}

	for name, tc := range map[string]struct {
		into string
		from []string
		code string
		want string
	}{
		"itself":   {decl.ID, []string{decl.ID}, upstate.EINVALID, "cannot be merged into itself"},
		"none":     {decl.ID, nil, upstate.EINVALID, "incidents is required"},
		"unknown":  {decl.ID, []string{"nope"}, upstate.EINVALID, `no incident "nope"`},
		"twice":    {decl.ID, []string{auto.ID}, upstate.ECONFLICT, "merged into " + decl.ID + " already"},
		"into src": {auto.ID, []string{decl.ID}, upstate.ECONFLICT, "was itself merged"},
		"no such":  {"nope", []string{decl.ID}, upstate.ENOTFOUND, "no incident"},
	} {
		if _, err := f.engine.Merge(ctx, tc.into, tc.from, "Ann"); upstate.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %s containing %q", name, err, tc.code, tc.want)
		}
	}
	// Open into resolved is refused.
	if _, err := f.engine.Update(ctx, decl.ID, Change{Status: upstate.Resolved, Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	other, _ := f.engine.Declare(ctx, Change{Name: "Other", Actor: "Ann"})
	if _, err := f.engine.Merge(ctx, decl.ID, []string{other.ID}, "Ann"); upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(err.Error(), "reopen") {
		t.Errorf("open into resolved: %v", err)
	}
	if _, err := f.engine.Reopen(ctx, auto.ID, Change{Actor: "Ann"}); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("reopening a merged incident: %v", err)
	}
}

func TestReachAndUpstream(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in, err := f.engine.Declare(ctx, Change{Name: "Drive sync failing", Actor: "Ann",
		Upstream: &upstate.Upstream{Provider: "Google Workspace", Title: "Drive service disruption", URL: "https://www.google.com/appsstatus/dashboard/"}})
	if err != nil {
		t.Fatal(err)
	}
	if in.Upstream == nil || in.Upstream.Provider != "Google Workspace" {
		t.Errorf("upstream = %+v", in.Upstream)
	}
	pct := 25.0
	up, err := f.engine.Update(ctx, in.ID, Change{Reach: &upstate.Reach{FailingPercent: &pct, Regions: []string{" EU ", "EU", "us-east"}, Segments: []string{"schools on SSO"}}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Reach.Regions) != 2 || up.Reach.Regions[0] != "EU" {
		t.Errorf("regions = %q", up.Reach.Regions)
	}
	entries := f.store.all()[0].Updates
	if want := "Scope: about 25% of requests failing; regions: EU, us-east; affecting: schools on SSO."; entries[len(entries)-1].Body != want {
		t.Errorf("entry = %q, want %q", entries[len(entries)-1].Body, want)
	}
	if up, _ := f.engine.Update(ctx, in.ID, Change{Upstream: &upstate.Upstream{}, Actor: "Ann"}); up.Upstream != nil {
		t.Errorf("upstream not cleared: %+v", up.Upstream)
	}
	bad := 120.0
	_, err = f.engine.Update(ctx, in.ID, Change{Reach: &upstate.Reach{FailingPercent: &bad, Regions: []string{""}}, Actor: "Ann",
		Upstream: &upstate.Upstream{Provider: "X", URL: "javascript:alert(1)"}})
	for _, want := range []string{"reach.failing_percent: 120 is not between 0 and 100", "reach.regions[0]", `upstream.url: "javascript:alert(1)" is not an http(s) URL`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad reach: %v, want %q", err, want)
		}
	}
}
