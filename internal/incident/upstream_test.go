package incident

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

var drive = upstate.Upstream{Provider: "Google Workspace", Title: "Drive outage", URL: "https://www.google.com/appsstatus/dashboard/incidents/drive1"}

// linked declares an incident linked to the provider's, and counts the
// events the engine owes from then on.
func linked(t *testing.T) (*fixture, *upstate.Incident, func(upstate.EventType) int) {
	t.Helper()
	f := newFixture(t)
	f.engine.opts.Route = func(ev upstate.Event) upstate.Owed {
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Incident.ID, Event: ev}}}
	}
	up := drive
	in, err := f.engine.Declare(context.Background(), Change{Name: "Drive sync failing", Actor: "Ann", Upstream: &up,
		Set: map[string]upstate.Status{"drive": upstate.MajorOutage}})
	if err != nil {
		t.Fatal(err)
	}
	f.store.messages = nil
	count := func(typ upstate.EventType) int {
		n := 0
		for _, m := range f.store.messages {
			if m.Event.Type == typ {
				n++
			}
		}
		return n
	}
	return f, in, count
}

// mirrored is the incident's entries in the provider's name.
func mirrored(f *fixture, id string) []upstate.TimelineEntry {
	in, _ := f.store.GetIncident(context.Background(), id)
	var out []upstate.TimelineEntry
	for _, u := range in.Updates {
		if strings.HasPrefix(u.Body, "**Google Workspace**") {
			out = append(out, u)
		}
	}
	return out
}

func TestMirrorOnceByKey(t *testing.T) {
	f, in, _ := linked(t)
	ctx := context.Background()
	poll := func(e *Engine) int {
		t.Helper()
		// The feed rewrites every update's time on every read; the keys stay.
		at := f.clock.Now()
		n, err := e.Mirror(ctx, drive, []upstate.ProviderUpdate{
			{Key: "id:r2kq", At: at.Add(-time.Second), Text: "We are investigating."},
			{Key: "id:h0d1", At: at, Text: "Mitigation is underway."},
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := poll(f.engine); n != 2 {
		t.Errorf("first read: %d entries, want 2", n)
	}
	for range 5 {
		f.clock.Advance(time.Minute)
		if n := poll(f.engine); n != 0 {
			t.Errorf("a re-timed update was mirrored again (%d)", n)
		}
	}
	// A restart: what was mirrored is known from the stored timeline.
	e, err := New(ctx, f.engine.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if n := poll(e); n != 0 {
		t.Errorf("after a restart: mirrored again (%d)", n)
	}
	if got := len(mirrored(f, in.ID)); got != 2 {
		t.Errorf("%d mirrored entries, want 2", got)
	}
	// An update older than one we show (an edit, a late arrival) is not news.
	if n, _ := e.Mirror(ctx, drive, []upstate.ProviderUpdate{{Key: "id:old", Text: "Earlier."}, {Key: "id:r2kq", Text: "We are investigating."}}); n != 0 {
		t.Errorf("an older update was added (%d)", n)
	}
}

func TestMirrorLimits(t *testing.T) {
	f, in, _ := linked(t)
	ctx := context.Background()
	burst := func(from, n int) []upstate.ProviderUpdate {
		var ups []upstate.ProviderUpdate
		for i := from; i < from+n; i++ {
			ups = append(ups, upstate.ProviderUpdate{Key: fmt.Sprintf("id:%d", i), At: t0, Text: fmt.Sprintf("Update %d.", i)})
		}
		return ups
	}
	// 600 updates in one read: the newest five, and one entry counting the rest.
	n, err := f.engine.Mirror(ctx, drive, burst(0, 600))
	if err != nil {
		t.Fatal(err)
	}
	got := mirrored(f, in.ID)
	if n != mirrorPerPoll+1 || len(got) != mirrorPerPoll+1 || !strings.Contains(got[0].Body, "posted 595 more updates than we copy at once") ||
		!strings.Contains(got[1].Body, "Update 595.") || !strings.Contains(got[5].Body, "Update 599.") {
		t.Fatalf("burst: %d added; %d entries, first %q", n, len(got), got[0].Body)
	}
	// The same read again adds nothing: the skipped ones are older than what we show.
	if n, _ := f.engine.Mirror(ctx, drive, burst(0, 600)); n != 0 {
		t.Errorf("the burst again: %d added", n)
	}
	// A feed that makes up new updates on every read stops at the incident's limit.
	for i := range 20 {
		f.clock.Advance(time.Minute)
		if _, err := f.engine.Mirror(ctx, drive, burst(1000+10*i, 10)); err != nil {
			t.Fatal(err)
		}
	}
	got = mirrored(f, in.ID)
	last := got[len(got)-1].Body
	if len(got) != mirrorPerIncident+1 || !strings.Contains(last, "further updates are on [their status page](https://www.google.com/appsstatus/dashboard/incidents/drive1)") {
		t.Errorf("after many reads: %d entries, want %d and a pointer to their page; last %q", len(got), mirrorPerIncident+1, last)
	}
	if n, _ := f.engine.Mirror(ctx, drive, burst(5000, 1)); n != 0 {
		t.Errorf("mirrored past the limit (%d)", n)
	}
}

func TestMirrorNotifiesCoalesced(t *testing.T) {
	f, in, count := linked(t)
	ctx := context.Background()
	// A provider posting every minute for ten minutes.
	for i := range 10 {
		if _, err := f.engine.Mirror(ctx, drive, []upstate.ProviderUpdate{{Key: fmt.Sprint(i), At: f.clock.Now(), Text: fmt.Sprintf("Update %d.", i)}}); err != nil {
			t.Fatal(err)
		}
		f.tick()
		f.clock.Advance(time.Minute)
	}
	if got := count(upstate.EventIncidentUpdated); got != 1 {
		t.Errorf("ten reads with news in ten minutes: %d incident.updated, want 1 (the first)", got)
	}
	// When the interval ends, one event tells all that was held, in order.
	next, err := f.engine.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(upstate.EventIncidentUpdated); got != 2 {
		t.Fatalf("after the interval: %d incident.updated, want 2", got)
	}
	ev := f.store.messages[len(f.store.messages)-1].Event
	if len(ev.Entries) != 9 || !strings.Contains(ev.Entries[0].Body, "Update 1.") || !strings.Contains(ev.Entries[8].Body, "Update 9.") {
		t.Errorf("the held event has %d entries: %+v", len(ev.Entries), ev.Entries)
	}
	if !next.IsZero() {
		t.Errorf("nothing is held, yet the next tick is due at %v", next)
	}
	// Held news goes out with the resolution: the provider's last word is
	// never lost, and the resolution is not delayed.
	f.clock.Advance(time.Minute)
	f.engine.Mirror(ctx, drive, []upstate.ProviderUpdate{{Key: "closing", At: f.clock.Now(), Text: "The issue is resolved."}})
	if _, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Resolved, Message: "Drive sync is back.", Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	ev = f.store.messages[len(f.store.messages)-1].Event
	if ev.Type != upstate.EventIncidentResolved || len(ev.Entries) != 2 || !strings.Contains(ev.Entries[0].Body, "The issue is resolved.") {
		t.Errorf("resolution: %s with %+v", ev.Type, ev.Entries)
	}
	f.clock.Advance(time.Hour)
	f.tick()
	if got := count(upstate.EventIncidentUpdated); got != 2 {
		t.Errorf("held news was told again after the resolution (%d incident.updated)", got)
	}
}

func TestMirrorLinksAreHTTP(t *testing.T) {
	f, _, _ := linked(t)
	ctx := context.Background()
	for _, link := range []string{"javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>", "https:alert(1)", "//evil.example/x", ""} {
		bad := drive
		bad.URL = link
		if _, err := f.engine.Mirror(ctx, bad, []upstate.ProviderUpdate{{Key: "x", Text: "Hi."}}); upstate.ErrorCode(err) != upstate.EINVALID {
			t.Errorf("mirror with link %q: %v", link, err)
		}
		_, err := f.engine.Declare(ctx, Change{Name: "X", Actor: "Ann", Upstream: &upstate.Upstream{Provider: "X", URL: link}})
		if upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), "upstream.url: ") || !strings.Contains(err.Error(), "is not an http(s) URL") {
			t.Errorf("declare with upstream.url %q: %v", link, err)
		}
	}
}

// TestObserveLinksAndMirrors: the provider's incident travels on the
// transition an upstream check's result confirms, and its updates on the
// result: the incident it opens is linked to theirs and shows their
// updates, from that one result, and the next read that finds their
// incident over brings its closing words.
func TestObserveLinksAndMirrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	up := drive
	news := []upstate.ProviderNews{{Link: drive, Updates: []upstate.ProviderUpdate{{Key: "id:1", At: now.Add(-time.Minute), Text: "We are investigating."}}}}
	r := upstate.Result{CheckID: "drive-api", At: now, Outcome: upstate.OutcomeFail, Error: "Google Workspace reports \"Drive outage\"",
		Provider: &upstate.ProviderReport{Cause: &up, News: news}}
	tr := upstate.Transition{From: upstate.Condition{CheckID: "drive-api", State: upstate.StateUp},
		To: upstate.Condition{CheckID: "drive-api", State: upstate.StateDown, Since: now, At: now, Evidence: r.Error, Upstream: &up}}
	if err := f.engine.Observe(ctx, r, &tr); err != nil {
		t.Fatal(err)
	}
	ins := f.store.all()
	if len(ins) != 1 || ins[0].Upstream == nil || *ins[0].Upstream != drive || ins[0].Name != "Issue linked to Google Workspace: Drive outage" {
		t.Fatalf("incidents = %+v", ins)
	}
	if got := mirrored(f, ins[0].ID); len(got) != 1 || !strings.Contains(got[0].Body, "We are investigating.") {
		t.Errorf("mirrored = %+v", got)
	}
	// The same read again, with no transition: nothing new.
	f.clock.Advance(time.Minute)
	if err := f.engine.Observe(ctx, upstate.Result{CheckID: "drive-api", Provider: &upstate.ProviderReport{Cause: &up, News: news}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := mirrored(f, ins[0].ID); len(got) != 1 {
		t.Errorf("the same update mirrored again: %d entries", len(got))
	}
	// Their incident is over: a passing result carries the closing words.
	closing := []upstate.ProviderNews{{Link: drive, Updates: append(news[0].Updates, upstate.ProviderUpdate{Key: "id:2", At: f.clock.Now(), Text: "Resolved."})}}
	if err := f.engine.Observe(ctx, upstate.Result{CheckID: "drive-api", Outcome: upstate.OutcomeOK, Provider: &upstate.ProviderReport{News: closing}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := mirrored(f, ins[0].ID); len(got) != 2 || !strings.Contains(got[1].Body, "Resolved.") {
		t.Errorf("closing update: %+v", got)
	}
	// A result without a provider report asks nothing of the engine.
	if err := f.engine.Observe(ctx, upstate.Result{CheckID: "web-home", Outcome: upstate.OutcomeOK}, nil); err != nil {
		t.Error(err)
	}
}
