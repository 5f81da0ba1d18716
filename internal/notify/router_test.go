package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

func TestRouter(t *testing.T) {
	confirmed := t0
	subs := []upstate.Subscriber{
		{ID: "all", Kind: upstate.SubscriberEmail, ConfirmedAt: &confirmed},
		{ID: "drive", Kind: upstate.SubscriberEmail, Components: []string{"drive"}, ConfirmedAt: &confirmed},
		{ID: "unconfirmed", Kind: upstate.SubscriberEmail},
	}
	r := NewRouter([]Route{
		{Channel: "ops"},
		{Channel: "pd", Incidents: true},
		{Channel: "api-only", Components: []string{"api"}, Events: []upstate.EventType{upstate.EventIncidentCreated}},
		{Channel: "public", PublicOnly: true},
	}, nil, func() []upstate.Subscriber { return subs })
	ev := func(typ upstate.EventType, public bool, comps ...string) upstate.Event {
		return upstate.Event{ID: "e", Type: typ, At: t0, Incident: upstate.Incident{ID: "inc", Components: comps},
			Entries: []upstate.TimelineEntry{{Public: public}}}
	}
	channels := func(o upstate.Owed) string {
		var out []string
		for _, m := range o.Messages {
			out = append(out, m.Channel)
		}
		return strings.Join(out, ",")
	}
	m := upstate.Maintenance{ID: "m1", Components: []string{"drive"}, ScheduledFor: t0, ScheduledUntil: t0.Add(time.Hour)}
	for _, tc := range []struct {
		name string
		ev   upstate.Event
		want string
	}{
		{"created on api", ev(upstate.EventIncidentCreated, true, "api"), "ops,pd,api-only,public,subscriber:all"},
		{"internal note", ev(upstate.EventIncidentUpdated, false, "api"), "ops,pd"},
		{"drive update", ev(upstate.EventIncidentUpdated, true, "drive"), "ops,pd,public,subscriber:all,subscriber:drive"},
		{"acknowledged", ev(upstate.EventIncidentAcknowledged, false, "api"), "ops,pd"},
		{"maintenance", upstate.Event{ID: "m", Type: upstate.EventMaintenanceScheduled, At: t0, Maintenance: &m, Entries: []upstate.TimelineEntry{{Public: true}}},
			"ops,public,subscriber:all,subscriber:drive"},
	} {
		o := r.Route(tc.ev)
		if got := channels(o); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		for _, msg := range o.Messages {
			if msg.ID != msg.Channel+":"+tc.ev.ID || msg.Stream != tc.ev.Stream() || msg.State != upstate.MessagePending {
				t.Errorf("%s: message %+v", tc.name, msg)
			}
		}
	}
}
