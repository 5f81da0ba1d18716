package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/oncall"
)

// A warning reaches the team's channels and no one else: not alerting
// services, not channels that take only public news, not subscribers, no
// page.
func TestWarningsReachTheTeamOnly(t *testing.T) {
	confirmed := t0
	subs := []upstate.Subscriber{{ID: "all", Kind: upstate.SubscriberEmail, ConfirmedAt: &confirmed}}
	pager := &Pager{Policies: []oncall.Policy{{ID: "default", Levels: []oncall.Level{{After: 0}}}}}
	r := NewRouter([]Route{{Channel: "ops"}, {Channel: "pd", Incidents: true}, {Channel: "public", PublicOnly: true},
		{Channel: "api-only", Components: []string{"api"}}, {Channel: "drive-only", Components: []string{"drive"}},
		{Channel: "created-only", Events: []upstate.EventType{upstate.EventIncidentCreated}}}, pager, func() []upstate.Subscriber { return subs })
	w := upstate.Warning{CheckID: "api-cert", Key: "certificate", What: "TLS certificate of api.example.com:443 expires in 5 days (Aug 22, 2026 13:00 UTC)",
		Stage: 7, Due: t0.Add(5 * 24 * time.Hour), Since: t0, CheckName: "API certificate", Components: []string{"api"}}
	for _, typ := range []upstate.EventType{upstate.EventWarningRaised, upstate.EventWarningCleared} {
		ev := upstate.Event{ID: w.EventID(typ == upstate.EventWarningCleared, t0), Type: typ, At: t0, Warning: &w, Names: map[string]string{"api": "API"},
			Entries: []upstate.TimelineEntry{{ID: "warning", At: t0, Body: "API certificate warns."}}}
		o := r.Route(ev)
		var got []string
		for _, m := range o.Messages {
			got = append(got, m.Channel)
			if m.Lane() != upstate.LaneOperator || m.Stream != "warning:api-cert:certificate" {
				t.Errorf("%s: message %+v", typ, m)
			}
		}
		if strings.Join(got, ",") != "ops,api-only" || len(o.Cancel) != 0 {
			t.Errorf("%s went to %v (cancelling %v), want ops,api-only", typ, got, o.Cancel)
		}
		x, err := Render(ev, Page{Name: "Acme", URL: "https://status.acme.example"}, Templates{}, false)
		if err != nil {
			t.Fatal(err)
		}
		want := "[Warning] TLS certificate of api.example.com:443 expires in 5 days (Aug 22, 2026 13:00 UTC) — Raised"
		if typ == upstate.EventWarningCleared {
			want = strings.Replace(want, "Raised", "Cleared", 1)
		}
		if x.Headline != want || x.Body != "API certificate warns." || x.Components != "API" || x.URL != "https://status.acme.example/admin/#warnings" {
			t.Errorf("%s rendered %+v", typ, x)
		}
	}
}
