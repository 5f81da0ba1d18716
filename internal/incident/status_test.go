package incident

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// say mirrors one provider update with its status onto the incident
// linked to drive's, and returns the incident as stored.
func say(t *testing.T, f *fixture, e *Engine, id string, status upstate.IncidentStatus) *upstate.Incident {
	t.Helper()
	f.clock.Advance(time.Minute)
	if _, err := e.Mirror(context.Background(), drive, []upstate.ProviderUpdate{{Key: "id:" + id, At: f.clock.Now(), Text: "Update " + id + ".", Status: status}}); err != nil {
		t.Fatal(err)
	}
	for _, in := range f.store.all() {
		if in.Upstream != nil && in.Upstream.URL == drive.URL {
			got, _ := f.store.GetIncident(context.Background(), in.ID)
			return got
		}
	}
	t.Fatal("no linked incident")
	return nil
}

// lastEntry is the newest timeline entry's status and body.
// lastEntry is the newest public entry, as "status: body".
func lastEntry(in *upstate.Incident) string {
	for i := len(in.Updates) - 1; i >= 0; i-- {
		if u := in.Updates[i]; u.Public {
			return fmt.Sprintf("%s: %s", u.Status, u.Body)
		}
	}
	return ""
}

// TestLinkedStatusFollowsTheirs: a linked incident declared by hand takes
// the provider's status as their updates move it, back as well as forward,
// but never back past what our team last set by hand; their "resolved"
// is only words; and the floor holds across a restart.
func TestLinkedStatusFollowsTheirs(t *testing.T) {
	f, in, _ := linked(t) // declared by Ann: investigating, by hand
	ctx := context.Background()
	steps := []struct {
		id     string
		theirs upstate.IncidentStatus
		want   upstate.IncidentStatus
	}{
		{"u1", upstate.Investigating, upstate.Investigating},
		{"u2", upstate.Identified, upstate.Identified},
		{"u3", upstate.Monitoring, upstate.Monitoring},
		{"u4", upstate.Identified, upstate.Identified}, // their fix did not hold: back, as they say
		{"u5", upstate.Investigating, upstate.Investigating},
		{"u6", "", upstate.Investigating}, // an update without a status (Google, RSS)
	}
	for _, s := range steps {
		got := say(t, f, f.engine, s.id, s.theirs)
		if got.Status != s.want || !strings.HasPrefix(lastEntry(got), string(s.want)+": **Google Workspace**") || !strings.Contains(lastEntry(got), "Update "+s.id) {
			t.Errorf("%s (%s): incident %s, last entry %q", s.id, s.theirs, got.Status, lastEntry(got))
		}
	}
	// Ann says it is identified; they step back: ours stays identified.
	if _, err := f.engine.Update(ctx, in.ID, Change{Status: upstate.Identified, Message: "It is theirs: their Drive API fails.", Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if got := say(t, f, f.engine, "u7", upstate.Investigating); got.Status != upstate.Identified || !strings.HasPrefix(lastEntry(got), "identified: ") {
		t.Errorf("back past ours: %s, %q", got.Status, lastEntry(got))
	}
	// Moving beyond what we set is followed; and back to it, not past.
	// (A declared incident's monitoring_at is when it first entered
	// monitoring, as when people set it.)
	if got := say(t, f, f.engine, "u8", upstate.Monitoring); got.Status != upstate.Monitoring || got.MonitoringAt == nil {
		t.Errorf("beyond ours: %s %v", got.Status, got.MonitoringAt)
	}
	// After a restart the floor is read from the timeline.
	e, err := New(ctx, f.engine.opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := say(t, f, e, "u9", upstate.Investigating); got.Status != upstate.Identified {
		t.Errorf("after a restart, back past ours: %s", got.Status)
	}
	// Their resolution is words: a declared incident is ours to resolve.
	if got := say(t, f, e, "u10", upstate.Resolved); got.Status != upstate.Identified || !got.Open() {
		t.Errorf("their resolution: %s", got.Status)
	}
}

// TestAutomaticLinkedIncidentStatus: the incident a provider's outage
// opens follows their status too; their "monitoring" while our component
// still fails starts no recovery watch (nothing resolves it, and another
// check's news does not send it back to investigating); once our checks
// pass, our own watch runs and their words no longer move it; it resolves
// when recovery has held.
func TestAutomaticLinkedIncidentStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	up := drive
	open := upstate.Transition{From: upstate.Condition{CheckID: "drive-api", State: upstate.StateUp},
		To: upstate.Condition{CheckID: "drive-api", State: upstate.StateDegraded, Partial: true, Since: f.clock.Now(), At: f.clock.Now(),
			Evidence: `Google Workspace reports "Drive outage" (partial outage)`, Samples: 1, Upstream: &up}}
	if err := f.engine.Handle(ctx, open); err != nil {
		t.Fatal(err)
	}
	if st := f.engine.Statuses()["drive"]; st != upstate.PartialOutage {
		t.Errorf("drive = %s, want their partial outage", st)
	}
	if got := say(t, f, f.engine, "a1", upstate.Identified); got.Status != upstate.Identified || !got.Auto ||
		strings.Contains(got.Updates[0].Body, "of the last") {
		t.Fatalf("identified: %s, %+v", got.Status, got.Updates[0])
	}
	got := say(t, f, f.engine, "a2", upstate.Monitoring)
	if got.Status != upstate.Monitoring || got.MonitoringAt != nil {
		t.Fatalf("their monitoring: %s %v", got.Status, got.MonitoringAt)
	}
	// An hour on, with another check failing and recovering meanwhile.
	f.clock.Advance(time.Hour)
	f.transition("web-home", upstate.StateUp, upstate.StateDown, false)
	f.transition("web-home", upstate.StateDown, upstate.StateUp, false)
	f.tick()
	if got, _ := f.store.GetIncident(ctx, got.ID); got.Status != upstate.Monitoring || got.MonitoringAt != nil {
		t.Fatalf("an hour into their monitoring: %s %v", got.Status, got.MonitoringAt)
	}
	// Our check passes: our watch begins; their step back is only words.
	f.transition("drive-api", upstate.StateDegraded, upstate.StateUp, false)
	watched, _ := f.store.GetIncident(ctx, got.ID)
	if watched.Status != upstate.Monitoring || watched.MonitoringAt == nil || !watched.MonitoringAt.Equal(f.clock.Now()) ||
		!strings.Contains(lastEntry(watched), "All affected components are operational again") {
		t.Fatalf("our watch: %s %v %q", watched.Status, watched.MonitoringAt, lastEntry(watched))
	}
	if got := say(t, f, f.engine, "a3", upstate.Identified); got.Status != upstate.Monitoring || !strings.HasPrefix(lastEntry(got), "monitoring: **Google Workspace**") {
		t.Errorf("their step back during our watch: %s %q", got.Status, lastEntry(got))
	}
	f.clock.Advance(3 * time.Minute)
	f.tick()
	if got, _ := f.store.GetIncident(ctx, got.ID); got.Status != upstate.Resolved {
		t.Errorf("after recovery held: %s", got.Status)
	}
}
