package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/oncall"
)

// TestSwitchboard: the configured channels, the subscribers and the
// on-call pager are swapped separately, and each swap keeps the others.
func TestSwitchboard(t *testing.T) {
	sb := NewSwitchboard()
	ev := upstate.Event{ID: "e", Type: upstate.EventIncidentCreated, At: t0, Incident: upstate.Incident{ID: "inc", Components: []string{"api"}},
		Entries: []upstate.TimelineEntry{{Public: true}}}
	route := func() string {
		var out []string
		for _, m := range sb.Route(ev).Messages {
			out = append(out, m.Channel)
		}
		return strings.Join(out, ",")
	}
	if got := route(); got != "" {
		t.Errorf("nothing configured routes to %q", got)
	}
	ops := &fakeChannel{}
	sb.Configure(Configured{Channels: map[string]Channel{"ops": ops, "dana-hook": &fakeChannel{}}, Routes: []Route{{Channel: "ops"}}, Order: []string{"ops", "dana-hook"}})
	confirmed := t0
	sub := &fakeChannel{}
	sb.SetSubscribers([]upstate.Subscriber{{ID: "s1", ConfirmedAt: &confirmed}, {ID: "s2"}},
		map[string]Channel{upstate.SubscriberChannel("s1"): sub, upstate.SubscriberChannel("s2"): &fakeChannel{}})
	if got := route(); got != "ops" {
		t.Errorf("with subscriptions off: %q", got)
	}
	c := sb.Configured()
	c.Subscriptions = true
	sb.Configure(c)
	if got := route(); got != "ops,subscriber:s1" {
		t.Errorf("with subscriptions on: %q (s2 is unconfirmed)", got)
	}
	dir := oncall.Directory{People: map[string]oncall.Person{"dana": {ID: "dana", Channels: []string{"dana-hook"}}}}
	sb.SetOnCall(dir, []oncall.Policy{{ID: "p", Levels: []oncall.Level{{Notify: []oncall.Target{{Kind: "person", ID: "dana"}}}}}})
	if got := route(); got != "ops,subscriber:s1,dana-hook" {
		t.Errorf("with a policy: %q", got)
	}
	sb.Configure(c) // a reload keeps the pager and the subscribers
	if got := route(); got != "ops,subscriber:s1,dana-hook" {
		t.Errorf("after a reload: %q", got)
	}
	if ch, ok := sb.Channel("ops"); !ok || ch != ops {
		t.Error("the configured channel is not found")
	}
	if ch, ok := sb.Channel(upstate.SubscriberChannel("s1")); !ok || ch != sub {
		t.Error("the subscriber's channel is not found")
	}
	if _, ok := sb.Channel(upstate.SubscriberChannel("gone")); ok {
		t.Error("a channel for nobody")
	}
	if !slices.Equal(sb.Configured().Order, []string{"ops", "dana-hook"}) {
		t.Errorf("order %v", sb.Configured().Order)
	}
}

// memSilences is a SilenceStore in memory.
type memSilences struct{ list []upstate.Silence }

func (m *memSilences) SaveSilence(_ context.Context, s upstate.Silence) error {
	m.list = append(m.list, s)
	return nil
}

func (m *memSilences) ListSilences(_ context.Context, since time.Time) ([]upstate.Silence, error) {
	var out []upstate.Silence
	for _, s := range m.list {
		if s.EndsAt.After(since) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memSilences) DeleteSilence(_ context.Context, id string) error {
	for i, s := range m.list {
		if s.ID == id {
			m.list = slices.Delete(m.list, i, i+1)
			return nil
		}
	}
	return upstate.Errorf(upstate.ENOTFOUND, "no silence %q", id)
}

// TestSilences: the mute stage validates what it is given, mutes what
// matches from when it starts, and stops when removed.
func TestSilences(t *testing.T) {
	n := 0
	ss, err := NewSilences(SilenceOptions{Store: &memSilences{}, Now: func() time.Time { return t0 }, NewID: func() string { n++; return fmt.Sprint("s", n) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, bad := range []struct {
		matchers []string
		ends     time.Time
		comment  string
		want     string
	}{
		{nil, t0.Add(time.Hour), "x", "matchers is required"},
		{[]string{"team=ops"}, t0.Add(time.Hour), "x", `matchers[0]: "team=ops" is not NAME=VALUE`},
		{[]string{"component=api"}, t0.Add(-time.Hour), "x", "ends before it starts"},
		{[]string{"component=api"}, time.Time{}, "x", "ends_at is required"},
		{[]string{"component=api"}, t0.Add(time.Hour), " ", "comment is required"},
	} {
		if _, err := ss.Add(ctx, bad.matchers, time.Time{}, bad.ends, bad.comment, "Ann"); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("silence %v: %v, want %q", bad.matchers, err, bad.want)
		}
	}
	s, err := ss.Add(ctx, []string{"channel=ops"}, t0.Add(time.Minute), t0.Add(time.Hour), "DB upgrade", "Ann")
	if err != nil {
		t.Fatal(err)
	}
	m := upstate.Message{ID: "ops:e", Channel: "ops"}
	if _, muted := ss.Muted(m, t0); muted {
		t.Error("muted before the silence starts")
	}
	if why, muted := ss.Muted(m, t0.Add(2*time.Minute)); !muted || why != s.ID+" by Ann (DB upgrade)" {
		t.Errorf("Muted = %q, %v", why, muted)
	}
	if _, muted := ss.Muted(upstate.Message{ID: "pd:e", Channel: "pd"}, t0.Add(2*time.Minute)); muted {
		t.Error("muted another channel")
	}
	if err := ss.Remove(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, muted := ss.Muted(m, t0.Add(2*time.Minute)); muted {
		t.Error("still muted after removing the silence")
	}
}

// TestSwitchboardHold: changes made while held are published together at
// release, so Route and Channel never see half of a reload.
func TestSwitchboardHold(t *testing.T) {
	sb := NewSwitchboard()
	sb.Configure(Configured{Channels: map[string]Channel{"old": &fakeChannel{}}, Routes: []Route{{Channel: "old"}}})
	release := sb.Hold()
	sb.Configure(Configured{Channels: map[string]Channel{"new": &fakeChannel{}}, Routes: []Route{{Channel: "new"}}})
	sb.SetSubscribers(nil, map[string]Channel{upstate.SubscriberChannel("s1"): &fakeChannel{}})
	if _, ok := sb.Channel("old"); !ok {
		t.Error("a held change was published before release")
	}
	if _, ok := sb.Channel(upstate.SubscriberChannel("s1")); ok {
		t.Error("a held subscriber change was published before release")
	}
	release()
	release() // a second call does nothing
	if _, ok := sb.Channel("new"); !ok {
		t.Error("the held configuration was not published at release")
	}
	if _, ok := sb.Channel(upstate.SubscriberChannel("s1")); !ok {
		t.Error("the held subscribers were not published at release, or the configuration dropped them")
	}
	sb.Configure(Configured{})
	if _, ok := sb.Channel("new"); ok {
		t.Error("after release, changes are not published at once")
	}
}
