package oncall

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// memOverrides is an OverrideStore in memory.
type memOverrides struct{ list []upstate.OnCallOverride }

func (m *memOverrides) SaveOverride(_ context.Context, o upstate.OnCallOverride) error {
	m.list = append(m.list, o)
	return nil
}

func (m *memOverrides) DeleteOverride(_ context.Context, id string) error {
	for i, o := range m.list {
		if o.ID == id {
			m.list = slices.Delete(m.list, i, i+1)
			return nil
		}
	}
	return upstate.Errorf(upstate.ENOTFOUND, "no override %q", id)
}

func (m *memOverrides) ListOverrides(_ context.Context, since time.Time) ([]upstate.OnCallOverride, error) {
	var out []upstate.OnCallOverride
	for _, o := range m.list {
		if o.Until.After(since) {
			out = append(out, o)
		}
	}
	return out, nil
}

// TestRoster: an override people add is validated, kept, and put above
// the configured ones in the directory handed on; a reload keeps it; the
// views show it.
func TestRoster(t *testing.T) {
	now := time.Date(2026, 8, 18, 3, 42, 0, 0, time.UTC)
	n := 0
	var changed []Directory
	store := &memOverrides{}
	r, err := NewRoster(RosterOptions{Store: store, Now: func() time.Time { return now }, NewID: func() string { n++; return fmt.Sprint("o", n) },
		Changed: func(d Directory, p []Policy) { changed = append(changed, d) }})
	if err != nil {
		t.Fatal(err)
	}
	plan := Plan{People: []Person{{ID: "dana", Name: "Dana", Channels: []string{"dana-hook"}}, {ID: "lee", Name: "Lee"}},
		Schedules: []Schedule{{ID: "primary", Location: time.UTC, Layers: []Layer{{Rotation: Weekly, HandoffHour: 9, Start: now.AddDate(0, 0, -14), People: []string{"dana"}}},
			Overrides: []Override{{Person: "dana", From: now.Add(-time.Hour), Until: now.Add(time.Hour)}}}},
		Policies: []Policy{{ID: "default", Levels: []Level{{Notify: []Target{{"schedule", "primary"}}}}}}}
	r.Configure(plan)
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.Directory().Schedules["primary"].OnCall(now).Person; got != "dana" || len(changed) != 2 {
		t.Errorf("on call %q, %d changes", got, len(changed))
	}
	for _, tc := range []struct {
		sched, person string
		from, until   time.Time
		want          string
	}{
		{"nope", "lee", now, now.Add(time.Hour), `schedule: no schedule "nope"`},
		{"primary", "sam", now, now.Add(time.Hour), `person: no person "sam" under oncall.people`},
		{"primary", "lee", now, now.Add(-time.Hour), "until must be after from: the override ends before it starts"},
		{"primary", "lee", now.Add(-2 * time.Hour), now.Add(-time.Hour), "until is in the past"},
		{"primary", "lee", time.Time{}, now.Add(time.Hour), "from and until are required"},
	} {
		if _, err := r.AddOverride(context.Background(), tc.sched, tc.person, tc.from, tc.until, "Lee"); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	o, err := r.AddOverride(context.Background(), "primary", "lee", now, now.Add(5*time.Hour), "Lee")
	if err != nil {
		t.Fatal(err)
	}
	// The latest word wins: the runtime override over the configured one.
	if got := changed[len(changed)-1].Schedules["primary"].OnCall(now).Person; got != "lee" {
		t.Errorf("after the override the directory handed on has %q on call", got)
	}
	r.Configure(plan) // a reload
	if got := r.Directory().Schedules["primary"].OnCall(now).Person; got != "lee" {
		t.Errorf("a reload lost the runtime override: %q on call", got)
	}
	v := r.OnCallNow(context.Background())
	if len(v) != 1 || v[0].Name != "primary" || v[0].Zone != "UTC" || v[0].Shifts[0].Name != "Lee" || !v[0].Shifts[0].Override || len(v[0].People) != 2 {
		t.Errorf("views = %+v", v)
	}
	if name, ok := r.Name("lee"); !ok || name != "Lee" {
		t.Errorf("Name(lee) = %q, %v", name, ok)
	}
	if err := r.RemoveOverride(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	if got := r.Directory().Schedules["primary"].OnCall(now).Person; got != "dana" {
		t.Errorf("after removing it: %q", got)
	}
	if err := r.RemoveOverride(context.Background(), o.ID); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("remove twice: %v", err)
	}
}
