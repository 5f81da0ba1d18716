package check

import (
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// TestProviderSeverityAndStatus: what a provider's incident does to the
// watched products is said in their component statuses' words (their
// partial outage is a partial outage, not a degradation), by the impact
// when the components do not say; and each update carries their status.
func TestProviderSeverityAndStatus(t *testing.T) {
	now := time.Date(2026, 8, 19, 11, 30, 0, 0, time.UTC)
	sp := fixture(t, "statuspage-partial.json")
	type want struct {
		severity upstate.State
		partial  bool
	}
	for _, tc := range []struct {
		name    string
		watched []string
		title   string
		want    want
	}{
		// Impact critical, but the watched component is partly out: partial.
		{"their partial outage", []string{"Rosters API"}, "Some roster syncs failing", want{upstate.StateDegraded, true}},
		// The same incident, watched where it only degrades.
		{"their degradation", []string{"Dashboard"}, "Some roster syncs failing", want{upstate.StateDegraded, false}},
		// Components without statuses, and operational on the page: the
		// impact says it (major is Statuspage's partial outage).
		{"impact major", []string{"Webhooks"}, "Webhook delivery delayed", want{upstate.StateDegraded, true}},
	} {
		got, err := ParseFeed(FeedStatuspage, sp, tc.watched, "", now, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Title != tc.title || (want{got[0].Severity, got[0].Partial}) != tc.want {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
	// A component in trouble without an incident: its status, as ever,
	// and a partial outage is partial.
	all, _ := ParseFeed(FeedStatuspage, fixture(t, "statuspage-active.json"), nil, "", now, 0)
	if len(all) != 3 || all[0].Severity != upstate.StateDown || all[0].Partial || all[1].Title != "Core Platform: partial outage" || !all[1].Partial ||
		all[2].Partial || all[2].Severity != upstate.StateDegraded {
		t.Errorf("statuspage-active: %+v", all)
	}
	// The statuses of their updates, oldest first.
	rosters, _ := ParseFeed(FeedStatuspage, sp, []string{"Rosters API"}, "", now, 0)
	var statuses []string
	for _, u := range rosters[0].Updates {
		statuses = append(statuses, string(ourStatus(u.Status)))
	}
	if got := strings.Join(statuses, ","); got != "investigating,identified,monitoring" {
		t.Errorf("update statuses = %s", got)
	}
	// Statuspage's (and Upstate's) history feed: the newest status word,
	// not "Update", nor a bold word in a body.
	atom, err := ParseFeed(FeedRSS, fixture(t, "statuspage-history.atom"), nil, "", time.Date(2026, 8, 19, 18, 0, 0, 0, time.UTC), 6*time.Hour)
	if err != nil || len(atom) != 1 || atom[0].Updates[0].Status != "identified" {
		t.Errorf("history.atom = %+v, %v", atom, err)
	}
	if rss, _ := ParseFeed(FeedRSS, fixture(t, "feed.rss"), []string{"Drive sync"}, "", time.Date(2026, 8, 19, 18, 0, 0, 0, time.UTC), 6*time.Hour); len(rss) != 1 || rss[0].Updates[0].Status != "" {
		t.Errorf("a feed without statuses: %+v", rss)
	}
	for _, tc := range []struct{ in, want string }{
		{"<strong>Monitoring</strong> - ok", "monitoring"},
		{"<strong>Update</strong> - x <strong>Resolved</strong> - y", "resolved"},
		{"<strong>Investigating</strong>: no dash", ""},
		{"<strong>unclosed", ""},
		{"", ""},
	} {
		if got := feedStatus(tc.in); got != tc.want {
			t.Errorf("feedStatus(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUpstreamVerdictPartial: the verdict on their partial outage is a
// degraded result that says partial, for decide to make it a partial
// outage; their major outage still fails; the updates carry their status.
func TestUpstreamVerdictPartial(t *testing.T) {
	now := time.Date(2026, 8, 19, 11, 30, 0, 0, time.UTC)
	u := &Upstream{ID: "rosters", Provider: "Classroom API", Format: FeedStatuspage, URL: "https://status.classroom.example/api/v2/summary.json"}
	ins, _ := ParseFeed(FeedStatuspage, fixture(t, "statuspage-partial.json"), []string{"Rosters API"}, "", now, 0)
	u.last = ins
	r := u.verdict(now)
	if r.Outcome != upstate.OutcomeSlow || r.Provider == nil || !r.Provider.Partial || r.Provider.Cause == nil || r.Provider.Cause.URL != "https://stspg.io/w4l9" {
		t.Fatalf("partial: %+v %+v", r, r.Provider)
	}
	if n := r.Provider.News[0].Updates; len(n) != 3 || n[2].Status != upstate.Monitoring || n[0].Status != upstate.Investigating {
		t.Errorf("news = %+v", n)
	}
	// A major outage among them is the worst: it fails, not partial.
	major, _ := ParseFeed(FeedStatuspage, fixture(t, "statuspage-active.json"), []string{"Rosters API"}, "", now, 0)
	u.last = append(ins, major...)
	if r := u.verdict(now); r.Outcome != upstate.OutcomeFail || r.Provider.Partial || r.Provider.Cause.Title != "Rosters API unavailable" {
		t.Errorf("with a major outage: %s %+v", r.Outcome, r.Provider)
	}
}
