package incident

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// publicBodies are the incident's public entries, oldest first.
func publicBodies(in *upstate.Incident) []string {
	var out []string
	for _, u := range in.Updates {
		if u.Public {
			out = append(out, u.Body)
		}
	}
	return out
}

// What the public reads of an automatic incident names no check and shows
// no evidence: plain words by the status a component takes, or the
// component's own messages; the evidence is kept as internal notes.
func TestAutomaticEntriesSpeakToUsers(t *testing.T) {
	tests := []struct {
		name     string
		messages upstate.ComponentMessages
		want     []string
	}{
		{"defaults", upstate.ComponentMessages{}, []string{
			"The API is slow.", "We are seeing errors on the API for some requests.", "The API is not responding.",
			"The API is working normally again.",
		}},
		{"the component's own words", upstate.ComponentMessages{Down: "Sign-in is down.", Partial: "Some sign-ins fail.", Degraded: "Sign-in is slow.", Resolved: "Sign-in works."},
			[]string{"Sign-in is slow.", "Some sign-ins fail.", "Sign-in is down.", "Sign-in works."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			comps := []upstate.Component{{ID: "api", Name: "API", Messages: tc.messages}}
			if err := f.engine.Reconfigure(context.Background(), comps, []upstate.CheckSpec{{ID: "api-health", Kind: "http", Interval: time.Minute, Components: []string{"api"}}}); err != nil {
				t.Fatal(err)
			}
			f.transition("api-health", upstate.StateUp, upstate.StateDegraded, false)
			f.clock.Advance(time.Minute)
			f.transition("api-health", upstate.StateDegraded, upstate.StateDegraded, true)
			f.clock.Advance(time.Minute)
			f.transition("api-health", upstate.StateDegraded, upstate.StateDown, false)
			f.clock.Advance(time.Minute)
			f.transition("api-health", upstate.StateDown, upstate.StateUp, false)
			in := f.store.all()[0]
			got := publicBodies(in)
			if len(got) < len(tc.want) {
				t.Fatalf("public entries = %q, want %q first", got, tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("public entry %d = %q, want %q", i, got[i], w)
				}
			}
			for _, b := range got {
				for _, bad := range []string{"api-health", "HTTP 500", "35 ms", "Internal Server Error", "200"} {
					if strings.Contains(b, bad) {
						t.Errorf("a public entry shows evidence %q: %q", bad, b)
					}
				}
			}
			var notes int
			for _, u := range in.Updates {
				if !u.Public && strings.Contains(u.Body, "api-health") && strings.Contains(u.Body, "HTTP") {
					notes++
				}
			}
			if notes != 4 {
				t.Errorf("%d internal entries hold the evidence, want 4: %+v", notes, in.Updates)
			}
		})
	}
}

// page.automatic_updates: internal holds every entry Upstate writes as an
// internal note: nothing reaches the public (or subscribers) until a
// person publishes it; switching back makes new entries public again.
func TestHeldAutomaticEntries(t *testing.T) {
	f := newFixture(t)
	f.engine.HoldAutomatic(true)
	f.transition("api-health", upstate.StateUp, upstate.StateDown, false)
	in := f.store.all()[0]
	if got := publicBodies(in); len(got) != 0 {
		t.Errorf("held, yet public: %q", got)
	}
	if len(in.Updates) != 2 || in.Updates[0].Body != "The API is not responding." {
		t.Errorf("held entries = %+v, want the plain words and the evidence", in.Updates)
	}
	f.clock.Advance(time.Minute)
	f.transition("api-health", upstate.StateDown, upstate.StateUp, false)
	f.clock.Advance(time.Hour)
	f.tick()
	in = f.store.all()[0]
	if in.Status != upstate.Resolved {
		t.Fatalf("status %s", in.Status)
	}
	if got := publicBodies(in); len(got) != 0 {
		t.Errorf("held, yet public: %q", got)
	}

	f.engine.HoldAutomatic(false)
	f.clock.Advance(time.Minute)
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false)
	for _, in := range f.store.all() {
		if in.HasComponent("drive") {
			if got := publicBodies(in); len(got) != 1 || got[0] != "The Cloud drive is not responding." {
				t.Errorf("public again: %q", got)
			}
		}
	}
}
