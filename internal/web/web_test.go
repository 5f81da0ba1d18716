package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/golden"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/metrics"
	"github.com/upstatehq/upstate/internal/snapshot"
	"github.com/upstatehq/upstate/internal/web/statusapi"
)

var t0 = time.Date(2026, 8, 17, 14, 55, 11, 152_000_000, time.UTC)

func ptr(t time.Time) *time.Time { return &t }

// fixture is a snapshot in the middle of the bad month: an open partial
// outage on the API that the database joined, a resolved drive outage,
// and three maintenance windows: one completed yesterday, one in progress
// on the drive, one scheduled for later in the week.
func fixture() *snapshot.Snapshot {
	la, _ := time.LoadLocation("America/Los_Angeles")
	created := time.Date(2026, 7, 20, 15, 0, 0, 0, time.UTC)
	comp := func(id, name, group, desc string, st upstate.Status, pos int) *snapshot.Component {
		c := &snapshot.Component{ComponentState: upstate.ComponentState{
			Component: upstate.Component{ID: id, Name: name, Group: group, Description: desc, Position: pos, CreatedAt: created},
			Status:    st, UpdatedAt: created}}
		if st != upstate.Operational {
			c.UpdatedAt = t0
		}
		if group != "" {
			c.GroupID = snapshot.GroupID(group)
		}
		for d := range snapshot.Days {
			day := snapshot.Day{Date: time.Date(2026, 5, 20, 0, 0, 0, 0, la).AddDate(0, 0, d), Worst: upstate.Operational, Uptime: 1}
			if d < 61 {
				day = snapshot.Day{Date: day.Date, NoData: true, Uptime: -1}
			}
			c.Days = append(c.Days, day)
		}
		c.Uptime = 0.9995
		c.Latency = []snapshot.Latency{{Start: t0.Add(-2 * time.Hour), Mean: 120 * time.Millisecond, Count: 60}, {Start: t0.Add(-time.Hour), Mean: 2400 * time.Millisecond, Count: 70}}
		return c
	}
	web := comp("web", "Web app", "Platform", "", upstate.Operational, 1)
	api := comp("api", "API", "Platform", "", upstate.PartialOutage, 2)
	db := comp("database", "Database", "Platform", "", upstate.DegradedPerformance, 3)
	drive := comp("drive", "Cloud drive sync", "", "Google Drive & OneDrive <sync>", upstate.UnderMaintenance, 4)
	open := &upstate.Incident{ID: "p31zjtct2jer", Name: "Partial outage of API", Status: upstate.Investigating, Impact: upstate.ImpactMajor,
		CreatedAt: t0, UpdatedAt: t0.Add(30 * time.Minute), StartedAt: t0.Add(-20 * time.Second), DetectedAt: t0, Components: []string{"api", "database"}, Auto: true,
		Updates: []upstate.TimelineEntry{
			{ID: "u1", IncidentID: "p31zjtct2jer", At: t0, Status: upstate.Investigating, Public: true, Actor: "upstate",
				Body:     "API: degraded performance. API health (api-health) is slow since Aug 17 07:54:53 PDT; latest: HTTP 200 after 2.59 s: slower than 2.00 s.",
				Affected: []upstate.AffectedComponent{{ComponentID: "api", OldStatus: upstate.Operational, NewStatus: upstate.DegradedPerformance}}},
			{ID: "u2", IncidentID: "p31zjtct2jer", At: t0.Add(12 * time.Minute), Status: upstate.Investigating, Public: false, Actor: "ann", Body: "internal: paging the DBA"},
			{ID: "u3", IncidentID: "p31zjtct2jer", At: t0.Add(30 * time.Minute), Status: upstate.Investigating, Public: true, Actor: "upstate",
				Body:     "API worsened from degraded performance to partial outage. <script>alert(1)</script>",
				Affected: []upstate.AffectedComponent{{ComponentID: "api", OldStatus: upstate.DegradedPerformance, NewStatus: upstate.PartialOutage}}},
		}}
	resolvedAt := time.Date(2026, 8, 14, 20, 30, 0, 0, time.UTC)
	past := &upstate.Incident{ID: "z9yx8w7v6u5t", Name: "Major outage of Cloud drive sync", Status: upstate.Resolved, Impact: upstate.ImpactCritical,
		CreatedAt: resolvedAt.Add(-90 * time.Minute), UpdatedAt: resolvedAt, StartedAt: resolvedAt.Add(-91 * time.Minute), DetectedAt: resolvedAt.Add(-90 * time.Minute),
		MonitoringAt: ptr(resolvedAt.Add(-2 * time.Minute)), ResolvedAt: ptr(resolvedAt), Components: []string{"drive"}, Auto: true,
		Updates: []upstate.TimelineEntry{
			{ID: "d1", IncidentID: "z9yx8w7v6u5t", At: resolvedAt.Add(-90 * time.Minute), Status: upstate.Investigating, Public: true, Body: "Cloud drive sync: major outage."},
			{ID: "d2", IncidentID: "z9yx8w7v6u5t", At: resolvedAt.Add(-2 * time.Minute), Status: upstate.Monitoring, Public: true, Body: "All affected components are operational again."},
			{ID: "d3", IncidentID: "z9yx8w7v6u5t", At: resolvedAt, Status: upstate.Resolved, Public: true, Body: "Every check has passed for 2 minutes."},
		}}
	s := &snapshot.Snapshot{
		Version: 7, BuiltAt: t0.Add(31 * time.Minute), UpdatedAt: t0.Add(30 * time.Minute),
		Page:       snapshot.Page{ID: "kctbh9vrtdwd", Name: "Classroom Cloud Status", URL: "https://status.example.com", Location: la},
		Components: []*snapshot.Component{web, api, db, drive},
		Open:       []*upstate.Incident{open},
		Recent:     []*upstate.Incident{open, past},
		Indicator:  "major", Description: "Partial System Outage",
		// In the order the store lists them: by start.
		Maintenances: []upstate.Maintenance{
			{ID: "k7w2xq9rplm3", Name: "Network switch replacement", ScheduledFor: t0.Add(-26 * time.Hour), ScheduledUntil: t0.Add(-25 * time.Hour),
				Components: []string{"web"}, Author: "ann", CreatedAt: t0.Add(-72 * time.Hour), UpdatedAt: t0.Add(-72 * time.Hour)},
			{ID: "h4d8sn2vbq6c", Name: "Drive connector upgrade", Message: "Sync pauses for **an hour**; files already on your computer stay available.",
				ScheduledFor: t0, ScheduledUntil: t0.Add(90 * time.Minute),
				Components: []string{"drive"}, Author: "ann", CreatedAt: t0.Add(-48 * time.Hour), UpdatedAt: t0.Add(-48 * time.Hour)},
			{ID: "r5t1yc8fgz0e", Name: "Database engine upgrade", Message: "Writes pause for up to ten minutes; reads keep working.",
				ScheduledFor: time.Date(2026, 8, 20, 9, 0, 0, 0, time.UTC), ScheduledUntil: time.Date(2026, 8, 20, 10, 0, 0, 0, time.UTC),
				Components: []string{"database", "api"}, Author: "ann", CreatedAt: t0.Add(-24 * time.Hour), UpdatedAt: t0.Add(-24 * time.Hour)},
		},
	}
	s.Groups = []*snapshot.Group{
		{ID: snapshot.GroupID("Platform"), Name: "Platform", Status: upstate.PartialOutage, Components: []*snapshot.Component{web, api, db}},
		{ID: "drive", Name: "Cloud drive sync", Status: upstate.UnderMaintenance, Components: []*snapshot.Component{drive}, Single: true},
	}
	return s
}

func TestStatusAPIGolden(t *testing.T) {
	docs, err := statusapi.Render(fixture(), markdown.New().HTML)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		name := strings.NewReplacer("/api/v2/", "", "/", "_").Replace(strings.TrimPrefix(d.Path, "/"))
		body := d.Body
		if strings.HasSuffix(name, ".json") {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%s is not JSON: %v", d.Path, err)
			}
			body, _ = json.MarshalIndent(v, "", "  ")
			body = append(body, '\n')
		} else {
			if err := xml.Unmarshal(body, new(any)); err != nil && !strings.Contains(err.Error(), "unknown type") {
				var v struct{}
				if err := xml.Unmarshal(body, &v); err != nil {
					t.Fatalf("%s is not XML: %v", d.Path, err)
				}
			}
		}
		golden.Check(t, name, body)
	}
}

// The feeds take the HTML the store kept for an entry's body, and render
// a body it kept none for.
func TestFeedsTakeKeptHTML(t *testing.T) {
	snap := fixture()
	u := &snap.Open[0].Updates[0]
	u.BodyHTML = "<p>kept <em>words</em></p>"
	docs, err := statusapi.Render(snap, func(s string) template.HTML {
		if s == u.Body {
			t.Errorf("a body the store kept HTML for was rendered")
		}
		return markdown.New().HTML(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	feeds := 0
	for _, d := range docs {
		if d.Path != statusapi.PathAtom && d.Path != statusapi.PathRSS {
			continue
		}
		feeds++
		if body := string(d.Body); !strings.Contains(body, "kept &lt;em&gt;words&lt;/em&gt;") || !strings.Contains(body, "partial outage.") {
			t.Errorf("%s: kept HTML shown %v, the other body rendered %v", d.Path, strings.Contains(body, "kept &lt;em&gt;words&lt;/em&gt;"), strings.Contains(body, "partial outage."))
		}
	}
	if feeds != 2 {
		t.Errorf("%d feeds; want the Atom and the RSS", feeds)
	}
}

// Each maintenance list holds the windows Statuspage's does: all of them,
// those yet to start, those under way, and in the summary the last two.
func TestMaintenanceLists(t *testing.T) {
	docs, err := statusapi.Render(fixture(), markdown.New().HTML)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range docs {
		var doc struct {
			Maintenances []struct{ Name, Status string } `json:"scheduled_maintenances"`
		}
		if err := json.Unmarshal(d.Body, &doc); err != nil {
			continue // the feeds
		}
		var names []string
		for _, m := range doc.Maintenances {
			names = append(names, m.Name+" ("+m.Status+")")
		}
		got[d.Path] = strings.Join(names, ", ")
	}
	for _, tt := range []struct{ path, want string }{
		{statusapi.PathMaintenances, "Network switch replacement (completed), Drive connector upgrade (in_progress), Database engine upgrade (scheduled)"},
		{statusapi.PathUpcoming, "Database engine upgrade (scheduled)"},
		{statusapi.PathActive, "Drive connector upgrade (in_progress)"},
		{statusapi.PathSummary, "Drive connector upgrade (in_progress), Database engine upgrade (scheduled)"},
	} {
		if got[tt.path] != tt.want {
			t.Errorf("%s lists %q, want %q", tt.path, got[tt.path], tt.want)
		}
	}
}

// TestSummaryFieldForField decodes summary.json into the field set of
// Statuspage's documented objects and checks nothing is missing: every
// key present, null where empty, never omitted.
func TestSummaryFieldForField(t *testing.T) {
	docs, _ := statusapi.Render(fixture(), markdown.New().HTML)
	var raw map[string]any
	for _, d := range docs {
		if d.Path == statusapi.PathSummary {
			_ = json.Unmarshal(d.Body, &raw)
		}
	}
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		return out
	}
	has := func(what string, m any, want ...string) {
		got := map[string]bool{}
		for _, k := range keys(m) {
			got[k] = true
		}
		for _, w := range want {
			if !got[w] {
				t.Errorf("%s lacks %q", what, w)
			}
		}
	}
	has("summary", raw, "page", "components", "incidents", "scheduled_maintenances", "status")
	has("page", raw["page"], "id", "name", "url", "time_zone", "updated_at")
	has("status", raw["status"], "indicator", "description")
	for _, c := range raw["components"].([]any) {
		has("component", c, "id", "name", "status", "created_at", "updated_at", "position", "description", "showcase", "start_date", "group_id", "page_id", "group", "only_show_if_degraded")
	}
	in := raw["incidents"].([]any)[0]
	has("incident", in, "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact", "shortlink", "started_at", "page_id", "incident_updates", "components")
	ups := in.(map[string]any)["incident_updates"].([]any)
	if len(ups) != 2 {
		t.Errorf("%d public updates, want 2 (internal notes stay internal)", len(ups))
	}
	has("incident_update", ups[0], "id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components", "deliver_notifications", "custom_tweet", "tweet_id")
	if ups[0].(map[string]any)["id"] != "u3" {
		t.Error("incident_updates are not newest first")
	}
	aff := ups[0].(map[string]any)["affected_components"].([]any)[0]
	has("affected_component", aff, "code", "name", "old_status", "new_status")
	if name := aff.(map[string]any)["name"]; name != "Platform - API" {
		t.Errorf("affected component name = %v, want the group-qualified name", name)
	}
	if ts := in.(map[string]any)["created_at"]; ts != "2026-08-17T14:55:11.152Z" {
		t.Errorf("timestamp format: %v", ts)
	}
}

type fakeBeats struct {
	got []string
}

func (f *fakeBeats) Heartbeat(_ context.Context, id, token string) (time.Time, error) {
	switch {
	case id != "nightly":
		return time.Time{}, upstate.Errorf(upstate.ENOTFOUND, "no heartbeat check %q", id)
	case token != "s3cret":
		return time.Time{}, upstate.Errorf(upstate.EUNAUTHORIZED, "wrong or missing token")
	}
	f.got = append(f.got, id)
	return t0, nil
}

func newServer(t *testing.T) (*Server, *fakeBeats) {
	b := &fakeBeats{}
	s, err := New(Options{Metrics: metrics.New("test"), Heartbeats: b})
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

func do(s *Server, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

func TestServingPublishedDocuments(t *testing.T) {
	s, _ := newServer(t)
	if w := do(s, "GET", "/api/v2/summary.json", nil); w.Code != http.StatusServiceUnavailable {
		t.Errorf("before the first snapshot: %d", w.Code)
	}
	if err := s.Publish(fixture()); err != nil {
		t.Fatal(err)
	}
	w := do(s, "GET", "/api/v2/summary.json", nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json; charset=utf-8" ||
		w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("Cache-Control") != "public, max-age=30" {
		t.Fatalf("summary: %d %v", w.Code, w.Header())
	}
	etag := w.Header().Get("ETag")
	plain := w.Body.Bytes()
	if w := do(s, "GET", "/api/v2/summary.json", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	w = do(s, "GET", "/api/v2/summary.json", map[string]string{"Accept-Encoding": "br, gzip"})
	if w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip: %v", w.Header())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, plain) {
		t.Error("gzip body differs from the plain one")
	}
	if w := do(s, "OPTIONS", "/api/v2/status.json", nil); w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	if w := do(s, "HEAD", "/api/v2/status.json", nil); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", w.Code, w.Body.Len())
	}
	if w := do(s, "POST", "/api/v2/summary.json", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST to a read-only document: %d", w.Code)
	}
	for _, p := range []string{"/", "/incidents/p31zjtct2jer", "/incidents/z9yx8w7v6u5t", "/history.atom", "/history.rss", "/static/style.css",
		"/api/v2/components.json", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json", "/api/v2/scheduled-maintenances.json",
		"/api/v2/scheduled-maintenances/upcoming.json", "/api/v2/scheduled-maintenances/active.json"} {
		if w := do(s, "GET", p, nil); w.Code != 200 {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	w = do(s, "GET", "/incidents/nope", nil)
	if w.Code != 404 || !strings.Contains(w.Body.String(), `"code": "not_found"`) {
		t.Errorf("unknown incident: %d %s", w.Code, w.Body)
	}
	// A newer snapshot replaces the documents and their ETag.
	next := fixture()
	next.Version++
	next.Indicator, next.Description = "none", "All Systems Operational"
	_ = s.Publish(next)
	if w := do(s, "GET", "/api/v2/summary.json", map[string]string{"If-None-Match": etag}); w.Code != 200 {
		t.Errorf("stale ETag still matches: %d", w.Code)
	}
}

// A component's page is rendered the first time it is asked for, kept
// with the snapshot (one answer, with its ETag and gzip, for every reader)
// and rendered again from the next snapshot; only the snapshot's
// components have one.
func TestComponentPages(t *testing.T) {
	s, _ := newServer(t)
	if w := do(s, "GET", "/components/api", nil); w.Code != http.StatusServiceUnavailable {
		t.Errorf("before the first snapshot: %d", w.Code)
	}
	if err := s.Publish(fixture()); err != nil {
		t.Fatal(err)
	}
	if page := do(s, "GET", "/", nil).Body.String(); !strings.Contains(page, `<a class="bars" href="/components/api">`) {
		t.Error("the page's bars do not link to the component's page")
	}
	w := do(s, "GET", "/components/api", nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" || w.Header().Get("Cache-Control") != "public, max-age=15" ||
		w.Header().Get("Content-Security-Policy") == "" || !strings.Contains(w.Body.String(), "<h1>API</h1>") || !strings.Contains(w.Body.String(), `<table class="days">`) {
		t.Fatalf("the component's page: %d %v\n%s", w.Code, w.Header(), w.Body)
	}
	etag := w.Header().Get("ETag")
	if w := do(s, "GET", "/components/api", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := do(s, "GET", "/components/api", map[string]string{"Accept-Encoding": "gzip"}); w.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("not compressed: %v", w.Header())
	}
	for _, p := range []string{"/components/nope", "/components/", "/components/api/x"} {
		if w := do(s, "GET", p, nil); w.Code != 404 {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	next := fixture()
	next.Version++
	next.BuiltAt = next.BuiltAt.Add(time.Minute)
	_ = s.Publish(next)
	if w := do(s, "GET", "/components/api", map[string]string{"If-None-Match": etag}); w.Code != 200 {
		t.Errorf("the last snapshot's page is still served: %d", w.Code)
	}
	if n := len(s.assets.Load().later); n != 1 {
		t.Errorf("%d pages kept for one asked for", n)
	}
}

func TestStatusPage(t *testing.T) {
	s, _ := newServer(t)
	if err := s.Publish(fixture()); err != nil {
		t.Fatal(err)
	}
	page := do(s, "GET", "/", nil).Body.String()
	for _, want := range []string{
		"<title>Classroom Cloud Status</title>",
		"Partial System Outage",
		"Partial outage of API",
		"Aug 17 07:55 PDT",                     // times in the page's zone
		"All times are in America/Los_Angeles", // and the zone named
		"99.95% uptime",
		`fill="url(#pn)"><title>`, // days before the component existed
		`: no data</title></rect>`,
		`<svg class="spark"`,
		"Google Drive &amp; OneDrive &lt;sync&gt;",
		"Major outage of Cloud drive sync",
		"API worsened from degraded performance to partial outage.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "internal: paging the DBA"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	detail := do(s, "GET", "/incidents/p31zjtct2jer", nil).Body.String()
	if !strings.Contains(detail, "Affects: API, Database") || !strings.Contains(detail, "API: degraded performance → partial outage") {
		t.Errorf("incident page lacks affects or changes:\n%s", detail)
	}
	feed := do(s, "GET", "/history.atom", nil).Body.String()
	if strings.Contains(feed, "script") || !strings.Contains(feed, "API worsened from degraded performance") {
		t.Errorf("feed does not sanitise update bodies:\n%s", feed)
	}
	if csp := do(s, "GET", "/", nil).Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestHeartbeatEndpoint(t *testing.T) {
	s, beats := newServer(t)
	tests := []struct {
		path, auth string
		want       int
	}{
		{"/api/v1/heartbeats/nightly", "Bearer s3cret", 200},
		{"/api/v1/heartbeats/nightly?token=s3cret", "", 200},
		{"/api/v1/heartbeats/nightly", "", 401},
		{"/api/v1/heartbeats/nightly", "Basic czNjcmV0", 401},
		{"/api/v1/heartbeats/other", "Bearer s3cret", 404},
	}
	for _, tt := range tests {
		w := do(s, "POST", tt.path, map[string]string{"Authorization": tt.auth})
		if w.Code != tt.want {
			t.Errorf("%s with %q: %d, want %d: %s", tt.path, tt.auth, w.Code, tt.want, w.Body)
		}
		if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	}
	if len(beats.got) != 2 {
		t.Errorf("%d heartbeats recorded, want 2", len(beats.got))
	}
	if w := do(s, "GET", "/api/v1/heartbeats/nightly", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET heartbeat: %d (state changes only by POST)", w.Code)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	s, _ := newServer(t)
	_ = s.Publish(fixture())
	etag := do(s, "GET", "/api/v2/summary.json", nil).Header().Get("ETag")
	do(s, "GET", "/api/v2/summary.json", map[string]string{"If-None-Match": etag})
	do(s, "HEAD", "/", nil)
	do(s, "GET", "/incidents/p31zjtct2jer", nil)
	do(s, "GET", "/incidents/none-such", nil)
	do(s, "GET", "/nope", nil)
	body := do(s, "GET", "/metrics", nil).Body.String()
	// Published documents are answered before routing, under the route
	// the mux would have named.
	for _, want := range []string{
		`upstate_http_requests_total{code="200",route="GET /api/v2/summary.json"} 1`,
		`upstate_http_requests_total{code="304",route="GET /api/v2/summary.json"} 1`,
		`upstate_http_requests_total{code="200",route="GET /{$}"} 1`,
		`upstate_http_requests_total{code="200",route="GET /incidents/{id}"} 1`,
		`upstate_http_requests_total{code="404",route="GET /incidents/{id}"} 1`,
		`upstate_http_requests_total{code="404",route="unmatched"} 1`,
		`upstate_snapshot_rebuilds_total 1`,
		`upstate_incidents_open 1`,
		`upstate_build_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if w := do(s, "GET", "/healthz", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"snapshot_version": 7`) {
		t.Errorf("healthz: %d %s", w.Code, w.Body)
	}
}

func TestPanicsBecomeInternalErrors(t *testing.T) {
	s, _ := newServer(t)
	s.mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	w := do(s, "GET", "/boom", nil)
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"message": "internal error"`) || !strings.Contains(w.Body.String(), w.Header().Get("X-Request-Id")) {
		t.Errorf("panic: %d %s", w.Code, w.Body)
	}
}

func TestBadgesEmbedAndWidget(t *testing.T) {
	s, _ := newServer(t)
	if err := s.Publish(fixture()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, ctype string
		want        []string
	}{
		{"/badges/status.svg", "image/svg+xml", []string{`aria-label="status: partial system outage"`, `#e8720c`}},
		{"/badges/api.svg", "image/svg+xml", []string{`role="img"`, `<title>API: partial outage</title>`}},
		{"/badges/web/uptime-30d.svg", "image/svg+xml", []string{`Web app 30d: 100%`}},
		{"/badges/uptime-90d.svg", "image/svg+xml", []string{`uptime 90d: 100%`}}, // days before the components existed do not count
		{"/badges/drive.svg", "image/svg+xml", []string{`<title>Cloud drive sync: under maintenance</title>`}},
		{"/embed", "text/html; charset=utf-8", []string{`Partial System Outage`, `/incidents/p31zjtct2jer" target="_top"`, `href="/widget.css"`}},
		{"/widget.css", "text/css; charset=utf-8", []string{`--upstate-critical`}},
	} {
		w := do(s, "GET", tc.path, nil)
		if w.Code != 200 || w.Header().Get("Content-Type") != tc.ctype {
			t.Errorf("%s: %d %s", tc.path, w.Code, w.Header().Get("Content-Type"))
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("%s lacks %q:\n%s", tc.path, want, w.Body)
			}
		}
	}
	if w := do(s, "GET", "/badges/api.svg", nil); w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("Cache-Control") != "public, max-age=30" {
		t.Errorf("badge headers: %v", w.Header())
	}
	w := do(s, "GET", "/widget.js", map[string]string{"Accept-Encoding": "gzip"})
	if w.Header().Get("Cache-Control") != "public, max-age=86400, stale-while-revalidate=604800" || w.Header().Get("Access-Control-Allow-Origin") != "*" ||
		w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("Etag") == "" {
		t.Errorf("widget headers: %v", w.Header())
	}
	if n := w.Body.Len(); n > 5*1024 {
		t.Errorf("the widget is %d bytes gzipped, over 5 KB", n)
	}
	if w := do(s, "GET", "/badges/nope.svg", nil); w.Code != 404 {
		t.Errorf("unknown badge: %d", w.Code)
	}
	if h := do(s, "GET", "/embed", nil).Header(); h.Get("X-Frame-Options") != "" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors *") {
		t.Errorf("the compact page cannot be framed: %v", h)
	}
}

// Bodies are bounded on every route before any handler reads them, and
// multipart bodies (which net/http spools to disk) are refused.
func TestBodyLimits(t *testing.T) {
	s, _ := newServer(t)
	for _, tc := range []struct {
		name, path, ct string
		length         int64
		want           int
		says           string
	}{
		{"multipart to a form", "/admin/login", "multipart/form-data; boundary=x", 10, 415, "multipart bodies are not accepted"},
		{"multipart anywhere", "/api/v1/heartbeats/nightly", "Multipart/Mixed; boundary=x", 10, 415, "multipart"},
		{"200 MB to a public form", "/unsubscribe", "application/x-www-form-urlencoded", 200 << 20, 413, "this route takes at most 16384"},
		{"a form just too big", "/ack/inc-1", "application/x-www-form-urlencoded", 16<<10 + 1, 413, "at most 16384"},
		{"JSON over 1 MiB", "/api/v1/incidents", "application/json", 1<<20 + 1, 413, "at most 1048576"},
		{"alerts take 4 MiB", "/api/v1/alerts", "application/json", 4<<20 + 1, 413, "at most 4194304"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", tc.path, strings.NewReader("x"))
			req.Header.Set("Content-Type", tc.ct)
			req.ContentLength = tc.length
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, req)
			if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.says) {
				t.Errorf("%d %s, want %d saying %q", w.Code, w.Body, tc.want, tc.says)
			}
		})
	}
}

func TestStaticFilesAndFraming(t *testing.T) {
	s, _ := newServer(t)
	if err := s.Publish(fixture()); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/static/style.css": 200, "/static/": 404, "/static/%ff": 404, "/static/..%2fpublic.go": 404, "/static/nope.css": 404} {
		if w := do(s, "GET", path, nil); w.Code != want {
			t.Errorf("GET %s: %d, want %d", path, w.Code, want)
		}
	}
	if csp := do(s, "GET", "/", nil).Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("the page's CSP %q lets other sites frame it", csp)
	}
	if csp := do(s, "GET", "/embed", nil).Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") {
		t.Errorf("/embed's CSP %q does not let sites frame it", csp)
	}
}

// Every maintenance's shortlink leads somewhere: the status page, where
// the ones not over yet are shown under that anchor.
func TestMaintenanceShortlinksResolve(t *testing.T) {
	s, _ := newServer(t)
	if err := s.Publish(fixture()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Maintenances []struct {
			Status, Shortlink string
		} `json:"scheduled_maintenances"`
	}
	if err := json.Unmarshal(do(s, "GET", "/api/v2/scheduled-maintenances.json", nil).Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	page := do(s, "GET", "/", nil).Body.String()
	if len(doc.Maintenances) == 0 {
		t.Fatal("the fixture has no maintenances")
	}
	for _, m := range doc.Maintenances {
		path, anchor, ok := strings.Cut(strings.TrimPrefix(m.Shortlink, "https://status.example.com"), "#")
		if !ok || path != "/" {
			t.Errorf("shortlink %s is not an anchor on the page", m.Shortlink)
			continue
		}
		if m.Status != "completed" && !strings.Contains(page, `id="`+anchor+`"`) {
			t.Errorf("the page has no %q for a %s maintenance", anchor, m.Status)
		}
	}
}
