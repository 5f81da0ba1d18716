package check

import (
	"context"
	"fmt"
	"io"
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
	if gc, err := ParseFeed(FeedGoogleCloud, g, []string{"VHNfk9g3mxpWgCtXNZxF"}, feedNamed(FeedGoogleCloud).Base, now, 0); err != nil || len(gc) != 1 ||
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

// TestUpstreamResultCarriesTheLink: a result says which provider
// incident it fails on and carries the updates to mirror, the closing
// words of an incident that ended first, so the engine needs nothing
// else from the prober.
func TestUpstreamResultCarriesTheLink(t *testing.T) {
	p := &provider{body: fixture(t, "statuspage-active.json"), contentType: "application/json"}
	srv := httptest.NewServer(p)
	defer srv.Close()
	clk := clock.NewFake(time.Date(2026, 8, 19, 10, 40, 0, 0, time.UTC))
	u := &Upstream{ID: "classroom", Provider: "Classroom API", Format: FeedStatuspage, URL: srv.URL, Products: []string{"Rosters API"},
		Interval: time.Minute, Timeout: 5 * time.Second, Client: http.DefaultClient, Clock: clk}
	r := u.Probe(context.Background())
	active := u.Active()
	if len(active) != 1 {
		t.Fatalf("%d active incidents", len(active))
	}
	want := upstate.Upstream{Provider: "Classroom API", Title: active[0].Title, URL: active[0].URL}
	if r.Provider == nil || r.Provider.Cause == nil || *r.Provider.Cause != want {
		t.Fatalf("failing result's link = %+v, want %+v", r.Provider, want)
	}
	if n := r.Provider.News; len(n) != 1 || n[0].Link != want || len(n[0].Updates) != len(active[0].Updates) || n[0].Updates[0].Key != active[0].Updates[0].Key {
		t.Errorf("news = %+v", n)
	}
	p.mu.Lock()
	p.body = fixture(t, "statuspage-resolved.json")
	p.mu.Unlock()
	clk.Advance(time.Minute)
	r = u.Probe(context.Background())
	if !r.OK() || r.Provider == nil || r.Provider.Cause != nil {
		t.Fatalf("resolved: %s, %+v", r.Outcome, r.Provider)
	}
	closed := u.Closed()
	if len(closed) != 1 || len(closed[0].Updates) == 0 || len(r.Provider.News) != 1 || r.Provider.News[0].Link != want || len(r.Provider.News[0].Updates) != len(closed[0].Updates) {
		t.Errorf("the passing read's news = %+v, want the closing updates of %+v", r.Provider.News, closed)
	}
}

// TestUpdateKeys: an update is known by the provider's id, or by what it
// says, never by its time, which feeds rewrite on every read.
func TestUpdateKeys(t *testing.T) {
	now := time.Date(2026, 8, 19, 18, 30, 0, 0, time.UTC)
	keys := func(format string, body []byte) []string {
		t.Helper()
		ins, err := ParseFeed(format, body, nil, "https://www.google.com/appsstatus/dashboard/", now, 6*time.Hour)
		if err != nil || len(ins) == 0 {
			t.Fatalf("%s: %v", format, err)
		}
		var out []string
		for _, u := range ins[0].Updates {
			out = append(out, u.Key)
		}
		return out
	}
	sp := fixture(t, "statuspage-active.json")
	if got := strings.Join(keys(FeedStatuspage, sp), ","); got != "id:r2kq,id:h0d1" {
		t.Errorf("statuspage keys = %s", got)
	}
	retimed := strings.ReplaceAll(strings.ReplaceAll(string(sp), "2026-08-19T10:30:00.000Z", "2026-08-19T10:31:07.000Z"), "2026-08-19T10:05:12.345Z", "2026-08-19T10:06:00.000Z")
	if a, b := keys(FeedStatuspage, sp), keys(FeedStatuspage, []byte(retimed)); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("re-timed statuspage updates: %v, then %v", a, b)
	}
	g := fixture(t, "google-workspace.json")
	gk := keys(FeedGoogleWorkspace, g)
	for _, tc := range []struct {
		name, from, to string
		same           bool
	}{
		{"new times", `"2026-08-19T18:00:00+00:00", "status": "SERVICE_OUTAGE", "text": "Mitigation`, `"2026-08-19T18:07:00+00:00", "status": "SERVICE_OUTAGE", "text": "Mitigation`, true},
		{"spacing and case", `"Mitigation is underway."`, `"  mitigation   is\nunderway. "`, true},
		{"new words", `"Mitigation is underway."`, `"Mitigation is complete."`, false},
	} {
		got := keys(FeedGoogleWorkspace, []byte(strings.Replace(string(g), tc.from, tc.to, 1)))
		if same := strings.Join(got, ",") == strings.Join(gk, ","); same != tc.same || len(got) != 2 || got[0] != gk[0] {
			t.Errorf("%s: %v, then %v", tc.name, gk, got)
		}
	}
}

// TestFeedLinksAreHTTP: a feed's links reach our pages, API and
// notifications only when they are absolute http(s) URLs.
func TestFeedLinksAreHTTP(t *testing.T) {
	now := time.Date(2026, 8, 21, 10, 30, 0, 0, time.UTC)
	sp := string(fixture(t, "statuspage-active.json"))
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"javascript shortlink", `"https://stspg.io/abc123"`, `"javascript:alert(1)"`, "https://status.classroom.example/incidents/p31zjtct2jer"},
		{"no host", `"https://stspg.io/abc123"`, `"https:alert(1)"`, "https://status.classroom.example/incidents/p31zjtct2jer"},
		{"javascript page too", `"https://stspg.io/abc123"`, `"JavaScript:alert(1)"`, ""},
	} {
		body := strings.Replace(sp, tc.from, tc.to, 1)
		if tc.want == "" {
			body = strings.Replace(body, `"url": "https://status.classroom.example"`, `"url": "javascript:alert(1)//"`, 1)
		}
		ins, err := ParseFeed(FeedStatuspage, []byte(body), []string{"Rosters API", "Webhooks"}, "", now, 0)
		if err != nil || len(ins) != 2 {
			t.Fatalf("%s: %+v, %v", tc.name, ins, err)
		}
		if ins[0].URL != tc.want || (tc.want == "" && ins[1].URL != "") {
			t.Errorf("%s: links %q and %q, want %q", tc.name, ins[0].URL, ins[1].URL, tc.want)
		}
	}
	atom := strings.Replace(string(fixture(t, "feed.atom")), "https://status.convertly.example/incidents/77", "javascript:alert(1)", 1)
	if ins, err := ParseFeed(FeedRSS, []byte(atom), []string{"Office"}, "", now, 6*time.Hour); err != nil || len(ins) != 1 || ins[0].URL != "" {
		t.Errorf("atom with a javascript: link: %+v, %v", ins, err)
	}
	rss := strings.Replace(string(fixture(t, "feed.rss")), "https://status.drive.example/i/9", "javascript:alert(1)", 1)
	if ins, err := ParseFeed(FeedRSS, []byte(rss), []string{"Drive sync"}, "", time.Date(2026, 8, 19, 18, 0, 0, 0, time.UTC), 6*time.Hour); err != nil || len(ins) != 1 || ins[0].URL != "" {
		t.Errorf("rss with a javascript: link: %+v, %v", ins, err)
	}
	if ins, _ := ParseFeed(FeedGoogleWorkspace, fixture(t, "google-workspace.json"), []string{"Google Drive"}, "", now, 0); len(ins) != 1 || ins[0].URL != "" {
		t.Errorf("google without a base: %+v", ins)
	}
}

// statuspage is a fake Statuspage page: summary.json and incidents.json,
// each with validators, counting requests and conditional hits.
type statuspage struct {
	mu                  sync.Mutex
	summary, incidents  string
	etagOnly, modOnly   bool
	hits, conditional   map[string]int
	notModified         map[string]int
	sentETag            []string
	rotateETagOn304     bool
	version, incVersion int
}

func newStatuspage(summary string) *statuspage {
	return &statuspage{summary: summary, hits: map[string]int{}, conditional: map[string]int{}, notModified: map[string]int{}}
}

func (p *statuspage) set(f func(p *statuspage)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
	p.version++
}

func (p *statuspage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := strings.TrimPrefix(r.URL.Path, "/api/v2/")
	body, version := p.summary, p.version
	if name == "incidents.json" {
		body = p.incidents
	} else if name != "summary.json" {
		http.NotFound(w, r)
		return
	}
	p.hits[name]++
	etag := fmt.Sprintf(`W/"%s-%d"`, name, version)
	modified := time.Date(2026, 8, 19, 10, 0, 0, 0, time.UTC).Add(time.Duration(version) * time.Minute).Format(http.TimeFormat)
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if name == "summary.json" {
		p.sentETag = append(p.sentETag, inm)
	}
	if inm != "" || ims != "" {
		p.conditional[name]++
	}
	if !p.modOnly {
		w.Header().Set("ETag", etag)
	}
	if !p.etagOnly {
		w.Header().Set("Last-Modified", modified)
	}
	if (!p.modOnly && inm == etag) || (p.modOnly && ims == modified) {
		p.notModified[name]++
		if p.rotateETagOn304 {
			// The validator moved on though the body did not (some CDNs).
			p.version++
			w.Header().Set("ETag", fmt.Sprintf(`W/"%s-%d"`, name, p.version))
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

func (p *statuspage) count(m map[string]int, name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return m[name]
}

// TestUpstreamConditional: the validators of a good read are sent back,
// a 304 keeps the last verdict without reading anything again, and the
// closing-updates read does not disturb them.
func TestUpstreamConditional(t *testing.T) {
	for _, mode := range []string{"etag", "last-modified", "both"} {
		t.Run(mode, func(t *testing.T) {
			p := newStatuspage(string(fixture(t, "statuspage-active.json")))
			p.etagOnly, p.modOnly = mode == "etag", mode == "last-modified"
			p.incidents = `{"page": {"id": "k", "url": "https://status.classroom.example"}, "incidents": []}`
			srv := httptest.NewServer(p)
			defer srv.Close()
			clk := clock.NewFake(time.Date(2026, 8, 19, 10, 40, 0, 0, time.UTC))
			var errs []string
			u := &Upstream{ID: "classroom", Provider: "Classroom API", Format: FeedStatuspage, URL: srv.URL + "/api/v2/summary.json", Products: []string{"Rosters API"},
				Interval: time.Minute, Timeout: 5 * time.Second, Client: srv.Client(), Clock: clk, OnError: func(err error) { errs = append(errs, err.Error()) }}
			first := u.Probe(context.Background())
			for range 5 {
				clk.Advance(time.Minute)
				if r := u.Probe(context.Background()); r.Outcome != first.Outcome || r.Evidence() != first.Evidence() {
					t.Errorf("304: %s %q, want the last verdict %s %q", r.Outcome, r.Evidence(), first.Outcome, first.Evidence())
				}
			}
			if c, n := p.count(p.conditional, "summary.json"), p.count(p.notModified, "summary.json"); c != 5 || n != 5 {
				t.Errorf("%d conditional requests, %d answered 304; want 5 and 5", c, n)
			}
			if len(u.Active()) != 1 || len(u.Closed()) != 0 || p.count(p.hits, "incidents.json") != 0 {
				t.Errorf("after 304s: active %d, closed %d, incidents.json read %d times", len(u.Active()), len(u.Closed()), p.count(p.hits, "incidents.json"))
			}
			// It resolves: summary.json changes, incidents.json is read once,
			// unconditionally, and the next summary read is conditional on
			// summary.json's validators.
			p.set(func(p *statuspage) { p.summary = string(fixture(t, "statuspage-resolved.json")) })
			clk.Advance(time.Minute)
			if r := u.Probe(context.Background()); !r.OK() {
				t.Errorf("resolved: %s %q", r.Outcome, r.Evidence())
			}
			clk.Advance(time.Minute)
			u.Probe(context.Background())
			if h, c := p.count(p.hits, "incidents.json"), p.count(p.conditional, "incidents.json"); h != 1 || c != 0 {
				t.Errorf("incidents.json: %d reads, %d conditional; want 1 and 0", h, c)
			}
			if n := p.count(p.notModified, "summary.json"); n != 6 {
				t.Errorf("after the change: %d 304s for summary.json, want 6", n)
			}
			if len(errs) != 0 {
				t.Errorf("errors: %v", errs)
			}
		})
	}
	// A 304 that carries a new validator: the next request sends it.
	p := newStatuspage(string(fixture(t, "statuspage-resolved.json")))
	p.etagOnly, p.rotateETagOn304 = true, true
	srv := httptest.NewServer(p)
	defer srv.Close()
	clk := clock.NewFake(time.Date(2026, 8, 19, 10, 40, 0, 0, time.UTC))
	u := &Upstream{ID: "c", Provider: "C", Format: FeedStatuspage, URL: srv.URL + "/api/v2/summary.json", Interval: time.Minute, Timeout: 5 * time.Second,
		Client: srv.Client(), Clock: clk}
	for range 4 {
		u.Probe(context.Background())
		clk.Advance(time.Minute)
	}
	if n := p.count(p.notModified, "summary.json"); n != 3 {
		t.Errorf("rotating validators: %d 304s of 3 conditional requests (sent %q)", n, p.sentETag)
	}
}

// TestUpstreamClosingUpdates: when an incident we report ends, the
// provider's final updates are read (Statuspage: from incidents.json,
// once; Google: the incident stays in the feed with end set) and kept
// with the link the incident had, for mirroring.
func TestUpstreamClosingUpdates(t *testing.T) {
	active := string(fixture(t, "statuspage-active.json"))
	p := newStatuspage(active)
	p.incidents = `{"page": {"id": "kctbh9vrtdwd", "url": "https://status.classroom.example"}, "incidents": [
	  {"id": "p31zjtct2jer", "name": "Rosters API unavailable", "status": "resolved", "impact": "critical", "shortlink": "https://stspg.io/abc123",
	   "incident_updates": [
	     {"id": "z9r1", "status": "resolved", "body": "This incident has been resolved.", "created_at": "2026-08-19T11:20:00.000Z"},
	     {"id": "h0d1", "status": "identified", "body": "The issue has been <b>identified</b> and a fix is being implemented.", "created_at": "2026-08-19T10:30:00.000Z"},
	     {"id": "r2kq", "status": "investigating", "body": "We are investigating errors on the Rosters API.", "created_at": "2026-08-19T10:05:12.345Z"}],
	   "components": [{"id": "b13yz5g2cw10", "name": "Rosters API"}]}]}`
	srv := httptest.NewServer(p)
	defer srv.Close()
	clk := clock.NewFake(time.Date(2026, 8, 19, 10, 40, 0, 0, time.UTC))
	var errs []string
	u := &Upstream{ID: "classroom", Provider: "Classroom API", Format: FeedStatuspage, URL: srv.URL + "/api/v2/summary.json", Products: []string{"Rosters API"},
		Interval: time.Minute, Timeout: 5 * time.Second, Client: srv.Client(), Clock: clk, OnError: func(err error) { errs = append(errs, err.Error()) }}
	u.Probe(context.Background())
	if len(u.Closed()) != 0 {
		t.Fatalf("closed before anything ended: %+v", u.Closed())
	}
	// summary.json drops it, as Statuspage does with resolved incidents.
	p.set(func(p *statuspage) { p.summary = string(fixture(t, "statuspage-resolved.json")) })
	clk.Advance(time.Minute)
	if r := u.Probe(context.Background()); !r.OK() {
		t.Errorf("verdict: %s", r.Outcome)
	}
	closed := u.Closed()
	if len(closed) != 1 || closed[0].URL != "https://stspg.io/abc123" || !closed[0].Ended || len(closed[0].Updates) != 3 {
		t.Fatalf("closed = %+v", closed)
	}
	if last := closed[0].Updates[2]; last.Key != "id:z9r1" || last.Status != "resolved" || last.Text != "This incident has been resolved." {
		t.Errorf("closing update = %+v", last)
	}
	// Read once: the next reads, changed or not, have nothing newly closed.
	p.set(func(p *statuspage) {})
	clk.Advance(time.Minute)
	u.Probe(context.Background())
	if len(u.Closed()) != 0 || p.count(p.hits, "incidents.json") != 1 || len(errs) != 0 {
		t.Errorf("after: closed %+v, incidents.json read %d times, errors %v", u.Closed(), p.count(p.hits, "incidents.json"), errs)
	}
	// An incidents.json that cannot be read is told, and the verdict stands.
	p.set(func(p *statuspage) { p.summary, p.incidents = active, "<html>" })
	clk.Advance(time.Minute)
	u.Probe(context.Background())
	p.set(func(p *statuspage) { p.summary = string(fixture(t, "statuspage-resolved.json")) })
	clk.Advance(time.Minute)
	if r := u.Probe(context.Background()); !r.OK() || len(errs) != 1 || !strings.Contains(errs[0], "closing updates") || len(u.Closed()) != 1 {
		t.Errorf("broken incidents.json: %s, %v, closed %d", r.Outcome, errs, len(u.Closed()))
	}

	// Google keeps an ended incident in incidents.json, with its final update.
	g := &provider{body: fixture(t, "google-workspace.json"), contentType: "application/json"}
	gsrv := httptest.NewServer(g)
	defer gsrv.Close()
	gu := &Upstream{ID: "drive", Provider: "Google Workspace", Format: FeedGoogleWorkspace, URL: gsrv.URL, Base: feedNamed(FeedGoogleWorkspace).Base,
		Products: []string{"Google Drive"}, Interval: time.Minute, Timeout: 5 * time.Second, Client: gsrv.Client(), Clock: clk}
	gu.Probe(context.Background())
	g.mu.Lock()
	g.body = []byte(strings.Replace(strings.Replace(string(g.body), `"end": null`, `"end": "2026-08-19T18:30:00+00:00"`, 1), `"updates": [`,
		`"updates": [{"when": "2026-08-19T18:30:00+00:00", "status": "AVAILABLE", "text": "The issue with Google Drive has been resolved."},`, 1))
	g.mu.Unlock()
	clk.Advance(time.Minute)
	if r := gu.Probe(context.Background()); !r.OK() {
		t.Errorf("google ended: %s %q", r.Outcome, r.Evidence())
	}
	gc := gu.Closed()
	if len(gc) != 1 || gc[0].URL != "https://www.google.com/appsstatus/dashboard/incidents/drive1" || len(gc[0].Updates) != 3 ||
		gc[0].Updates[2].Status != "AVAILABLE" || gc[0].Updates[2].Text != "The issue with Google Drive has been resolved." {
		t.Errorf("google closed = %+v", gc)
	}
}

// TestUpstreamRSSAgesOn304: an RSS item stops counting once older than
// the window, though the feed answers 304 and is not read again.
func TestUpstreamRSSAgesOn304(t *testing.T) {
	p := &provider{body: fixture(t, "feed.rss"), contentType: "application/rss+xml"}
	srv := httptest.NewServer(p)
	defer srv.Close()
	clk := clock.NewFake(time.Date(2026, 8, 19, 18, 0, 0, 0, time.UTC))
	u := &Upstream{ID: "drive", Provider: "Drive", Format: FeedRSS, URL: srv.URL, Products: []string{"Drive sync"}, Window: 6 * time.Hour,
		Interval: time.Minute, Timeout: 5 * time.Second, Client: srv.Client(), Clock: clk}
	if r := u.Probe(context.Background()); r.OK() {
		t.Fatalf("fresh item: %s", r.Outcome)
	}
	clk.Advance(6 * time.Hour)
	if r := u.Probe(context.Background()); !r.OK() || p.not != 1 {
		t.Errorf("after the window: %s %q (%d 304s)", r.Outcome, r.Evidence(), p.not)
	}
}
