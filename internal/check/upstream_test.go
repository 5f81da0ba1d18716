package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func titles(ins []ProviderIncident) string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Title)
	}
	return strings.Join(out, "|")
}

func TestParseFeeds(t *testing.T) {
	now := time.Date(2026, 8, 21, 10, 30, 0, 0, time.UTC)
	sp := fixture(t, "statuspage-active.json")
	all, err := ParseFeed(FeedStatuspage, sp, nil, "", now, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The active incident, and the degraded component that has none; the
	// resolved incident is left out, and so is the group.
	if got := titles(all); got != "Rosters API unavailable|Core Platform: partial outage|Webhooks: degraded performance" {
		t.Errorf("statuspage, everything: %s", got)
	}
	in := all[0]
	if in.Severity != upstate.StateDown || in.URL != "https://stspg.io/abc123" || len(in.Updates) != 2 || in.Updates[0].Text != "We are investigating errors on the Rosters API." {
		t.Errorf("incident = %+v", in)
	}
	rosters, _ := ParseFeed(FeedStatuspage, sp, []string{"b13yz5g2cw10"}, "", now, 0)
	if got := titles(rosters); got != "Rosters API unavailable" {
		t.Errorf("by id: %s", got)
	}
	if dash, _ := ParseFeed(FeedStatuspage, sp, []string{"dashboard"}, "", now, 0); len(dash) != 0 {
		t.Errorf("a resolved incident counted: %+v", dash)
	}
	if ok, _ := ParseFeed(FeedStatuspage, fixture(t, "statuspage-resolved.json"), nil, "", now, 0); len(ok) != 0 {
		t.Errorf("all operational: %+v", ok)
	}

	g := fixture(t, "google-workspace.json")
	drive, err := ParseFeed(FeedGoogleWorkspace, g, []string{"Google Drive"}, "https://www.google.com/appsstatus/dashboard/", now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(drive) != 1 || drive[0].Title != "We're investigating reports of an issue with Google Drive." || drive[0].Severity != upstate.StateDown ||
		drive[0].URL != "https://www.google.com/appsstatus/dashboard/incidents/drive1" || drive[0].Updates[1].Text != "Mitigation is underway." {
		t.Errorf("google drive = %+v", drive)
	}
	if gc, err := ParseFeed(FeedGoogleCloud, g, []string{"VHNfk9g3mxpWgCtXNZxF"}, FeedDefaults[FeedGoogleCloud].Base, now, 0); err != nil || len(gc) != 1 ||
		gc[0].URL != "https://status.cloud.google.com/incidents/drive1" {
		t.Errorf("google cloud (the same schema) = %+v, %v", gc, err)
	}
	if gm, _ := ParseFeed(FeedGoogleWorkspace, g, []string{"NMp5GF7ugZ2a4uYtLbUW"}, "", now, 0); len(gm) != 1 || gm[0].Severity != upstate.StateDegraded {
		t.Errorf("gmail by product id = %+v", gm)
	}

	atom, err := ParseFeed(FeedRSS, fixture(t, "feed.atom"), []string{"Office"}, "", now, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(atom) != 1 || atom[0].URL != "https://status.convertly.example/incidents/77" || !strings.Contains(atom[0].Updates[0].Text, "PDF is not affected") {
		t.Errorf("atom = %+v", atom)
	}
	rss, err := ParseFeed(FeedRSS, fixture(t, "feed.rss"), []string{"Drive sync"}, "", time.Date(2026, 8, 19, 18, 0, 0, 0, time.UTC), 6*time.Hour)
	if err != nil || len(rss) != 1 || rss[0].Title != "Drive sync - Service disruption" {
		t.Errorf("rss = %+v, %v", rss, err)
	}

	bad := []struct {
		format, body, want string
	}{
		{FeedStatuspage, `{"page": {"id": "x"}, "components": [`, "not a Statuspage summary.json"},
		{FeedStatuspage, `{"page": {"id": "x"}, "components": [{"id": "a", "name": "A", "status": "operational"}], "incidents": [{"id": 5}]}`, "not what the format has"},
		{FeedStatuspage, `{"status": "ok"}`, "no page or components"},
		{FeedStatuspage, `<html><body>Sign in</body></html>`, "not a Statuspage summary.json"},
		{FeedGoogleCloud, `{"incidents": []}`, "not a Google status incidents.json"},
		{FeedGoogleCloud, `[{"id": "x", "begin": "yesterday"}]`, "not a Google status incidents.json"},
		{FeedRSS, `{"items": []}`, "not an RSS or Atom feed"},
		{FeedRSS, `<html><head></head></html>`, "the document is <html>"},
		{"carrier-pigeon", `{}`, "unknown feed format"},
	}
	for _, tc := range bad {
		if _, err := ParseFeed(tc.format, []byte(tc.body), nil, "", now, time.Hour); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.format, tc.body, err, tc.want)
		}
	}
	// Truncated: a clear error, never a crash.
	for i := 1; i < len(sp); i += 97 {
		if _, err := ParseFeed(FeedStatuspage, sp[:i], nil, "", now, 0); err == nil {
			t.Errorf("truncated at %d parsed", i)
		}
	}
}

// provider is a fake status page: it serves a body with an ETag and
// counts conditional requests.
type provider struct {
	mu          sync.Mutex
	body        []byte
	contentType string
	code        int
	hits, not   int
	slow        func() // called while answering, before the answer
}

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hits++
	if p.slow != nil {
		p.slow()
	}
	if p.code != 0 {
		w.WriteHeader(p.code)
		return
	}
	etag := `"` + string(rune('a'+len(p.body)%26)) + `"`
	if r.Header.Get("If-None-Match") == etag {
		p.not++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", p.contentType)
	w.Write(p.body)
}

func TestUpstreamProbe(t *testing.T) {
	p := &provider{body: fixture(t, "statuspage-active.json"), contentType: "application/json"}
	srv := httptest.NewServer(p)
	defer srv.Close()
	clk := clock.NewFake(time.Date(2026, 8, 19, 10, 40, 0, 0, time.UTC))
	var errs []string
	u := &Upstream{ID: "classroom", Provider: "Classroom API", Format: FeedStatuspage, URL: srv.URL, Products: []string{"Rosters API"},
		Interval: time.Minute, Timeout: 5 * time.Second, Client: http.DefaultClient, Clock: clk, OnError: func(err error) { errs = append(errs, err.Error()) }}
	r := u.Probe(context.Background())
	if r.Outcome != upstate.OutcomeFail || r.Evidence() != `Classroom API reports "Rosters API unavailable" (critical): The issue has been identified and a fix is being implemented` {
		t.Errorf("active: %s %q", r.Outcome, r.Evidence())
	}
	// Unchanged: the provider answers 304 and the verdict stands.
	clk.Advance(time.Minute)
	if r := u.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || p.not != 1 {
		t.Errorf("304: %s, %d not-modified", r.Outcome, p.not)
	}
	// The provider breaks: not our outage; the last verdict stands, the
	// error is told, and the provider is polled less often.
	p.mu.Lock()
	p.code = 503
	p.mu.Unlock()
	clk.Advance(time.Minute)
	hits := p.hits
	if r := u.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || len(errs) != 1 || !strings.Contains(errs[0], "Classroom API answered HTTP 503") {
		t.Errorf("provider down: %s %v", r.Outcome, errs)
	}
	clk.Advance(time.Minute)
	u.Probe(context.Background())
	if p.hits != hits+1 {
		t.Errorf("polled again after one interval while failing (%d hits)", p.hits-hits)
	}
	// Back, resolved, with an HTML error page first: that is a feed error, not a verdict.
	p.mu.Lock()
	p.code, p.contentType, p.body = 0, "text/html", []byte("<html>maintenance</html>")
	p.mu.Unlock()
	clk.Advance(3 * time.Minute)
	u.Probe(context.Background())
	if n := len(errs); n < 2 || !strings.Contains(errs[n-1], "sent an HTML page") {
		t.Errorf("html: %v", errs)
	}
	p.mu.Lock()
	p.contentType, p.body = "application/json", fixture(t, "statuspage-resolved.json")
	p.mu.Unlock()
	clk.Advance(10 * time.Minute)
	if r := u.Probe(context.Background()); !r.OK() || r.Evidence() != "Classroom API reports no incident" {
		t.Errorf("resolved: %s %q", r.Outcome, r.Evidence())
	}
	// A slow provider (over half the timeout), though it answers, is
	// polled less often too; once quick again, every interval.
	p.mu.Lock()
	p.slow = func() { clk.Advance(3 * time.Second) }
	p.mu.Unlock()
	clk.Advance(time.Minute)
	hits = p.hits
	if r := u.Probe(context.Background()); !r.OK() || p.hits != hits+1 {
		t.Errorf("slow: %s, %d hits", r.Outcome, p.hits-hits)
	}
	p.mu.Lock()
	p.slow = nil
	p.mu.Unlock()
	clk.Advance(time.Minute)
	u.Probe(context.Background())
	if p.hits != hits+1 {
		t.Errorf("polled again one interval after a slow answer (%d hits)", p.hits-hits)
	}
	clk.Advance(time.Minute)
	u.Probe(context.Background())
	clk.Advance(time.Minute)
	u.Probe(context.Background())
	if p.hits != hits+3 {
		t.Errorf("after quick answers: %d hits, want one each interval", p.hits-hits)
	}
	// Huge feeds are refused.
	p.mu.Lock()
	p.body = []byte(`{"page":{"id":"x"},"components":[],"x":"` + strings.Repeat("a", maxFeed) + `"}`)
	p.mu.Unlock()
	clk.Advance(10 * time.Minute)
	u.Probe(context.Background())
	if n := len(errs); !strings.Contains(errs[n-1], "larger than 5 MiB") {
		t.Errorf("huge: %v", errs[n-1])
	}
}
