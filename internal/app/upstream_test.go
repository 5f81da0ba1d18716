package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/report"
	"github.com/upstatehq/upstate/internal/store"
)

// fakeGoogle is a Google Workspace status dashboard.
type fakeGoogle struct {
	mu   sync.Mutex
	body string
}

func (f *fakeGoogle) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(f.body))
}

func (f *fakeGoogle) set(s string) { f.mu.Lock(); f.body = s; f.mu.Unlock() }

const driveOutage = `[{"id": "drive1", "begin": "2026-08-19T17:00:00+00:00", "end": %END%,
  "external_desc": "Google Drive service disruption", "severity": "high", "status_impact": "SERVICE_OUTAGE", "service_name": "Google Drive",
  "affected_products": [{"title": "Google Drive", "id": "VHNfk9g3mxpWgCtXNZxF"}],
  "updates": [%UPDATES%], "uri": "incidents/drive1"}]`

func google(end string, updates ...string) string {
	s := strings.Replace(driveOutage, "%END%", end, 1)
	return strings.Replace(s, "%UPDATES%", strings.Join(updates, ","), 1)
}

func TestLinkedUpstreamIncident(t *testing.T) {
	prov := &fakeGoogle{body: "[]"}
	psrv := httptest.NewServer(prov)
	defer psrv.Close()
	var ownDown sync.Map
	own := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, down := ownDown.Load("x"); down {
			w.WriteHeader(502)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer own.Close()
	yaml := `page: {name: Classroom Cloud, url: 'https://status.classroom.example', time_zone: America/Los_Angeles}
components:
  - {id: drive, name: Cloud drive sync}
checks:
  - {id: drive-google, kind: upstream, feed: google-workspace, url: '` + psrv.URL + `', products: [Google Drive], components: [drive]}
  - {id: drive-sync, kind: http, url: '` + own.URL + `', components: [drive], fail_after: 1, recheck: {count: 0}}
`
	clk := clock.NewFake(time.Date(2026, 8, 19, 17, 10, 0, 0, time.UTC))
	a := newApp(t, yaml, Options{Clock: clk})
	cfg := a.cfg.Load()
	ctx := context.Background()
	open := func() []*upstate.Incident {
		ins, _ := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
		return ins
	}
	runCheck(t, a, "drive-google")
	if len(open()) != 0 {
		t.Fatal("an incident with nothing reported")
	}
	prov.set(google("null", `{"when": "2026-08-19T17:05:00+00:00", "text": "We are investigating reports of an issue with Google Drive."}`))
	clk.Advance(2 * time.Minute)
	runCheck(t, a, "drive-google")
	ins := open()
	if len(ins) != 1 {
		t.Fatalf("%d open incidents", len(ins))
	}
	in := ins[0]
	if in.Name != "Issue linked to Google Workspace: Google Drive service disruption" || in.Upstream == nil ||
		in.Upstream.URL != "https://www.google.com/appsstatus/dashboard/incidents/drive1" || a.engine.Statuses()["drive"] != upstate.MajorOutage {
		t.Fatalf("linked incident = %+v (%+v)", in, in.Upstream)
	}
	bodies := func() string {
		got, _ := a.store.GetIncident(ctx, in.ID)
		var out []string
		for _, u := range got.Updates {
			out = append(out, u.Body)
		}
		return strings.Join(out, "\n---\n")
	}
	if b := bodies(); !strings.Contains(b, "**Google Workspace** (Aug 19 10:05:00 PDT): We are investigating reports") || !strings.Contains(b, "[Their status page](https://www.google.com/appsstatus/dashboard/incidents/drive1)") {
		t.Errorf("mirrored:\n%s", b)
	}
	// A new provider update is mirrored once, however often we poll.
	prov.set(google("null", `{"when": "2026-08-19T17:05:00+00:00", "text": "We are investigating reports of an issue with Google Drive."}`,
		`{"when": "2026-08-19T17:40:00+00:00", "text": "Mitigation is underway."}`))
	for range 3 {
		clk.Advance(2 * time.Minute)
		runCheck(t, a, "drive-google")
	}
	if n := strings.Count(bodies(), "Mitigation is underway."); n != 1 {
		t.Errorf("the update was mirrored %d times", n)
	}
	// Our own probe of the same dependency fails too: it joins the linked incident.
	ownDown.Store("x", true)
	runCheck(t, a, "drive-sync")
	if ins := open(); len(ins) != 1 {
		t.Errorf("own failure: %d incidents, want the linked one only", len(ins))
	}
	// The provider resolves, and so does our probe: monitoring, then resolved.
	ownDown.Delete("x")
	prov.set(google(`"2026-08-19T18:30:00+00:00"`))
	clk.Advance(2 * time.Minute)
	runCheck(t, a, "drive-google")
	runCheck(t, a, "drive-sync")
	runCheck(t, a, "drive-sync") // recover_after 2
	if st := a.engine.Statuses()["drive"]; st != upstate.Operational {
		t.Errorf("drive = %s after the provider resolved", st)
	}
	clk.Advance(5 * time.Minute)
	a.engine.Tick(ctx)
	got, _ := a.store.GetIncident(ctx, in.ID)
	if got.Status != upstate.Resolved {
		t.Errorf("status = %s", got.Status)
	}
	// The report lists it with the provider's link.
	r, err := report.Gather(ctx, a.store, report.Params{From: "2026-08-19", To: "2026-08-19"}, "Classroom Cloud", cfg.Location, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Upstream) != 1 || r.Upstream[0].Provider != "Google Workspace" || r.Upstream[0].Occurrences[0].URL != "https://www.google.com/appsstatus/dashboard/incidents/drive1" {
		t.Errorf("report upstream = %+v", r.Upstream)
	}
}

// fakeStatuspage is a Statuspage page whose summary.json rewrites every
// update's time on every read, as the feed in issue 10 did.
type fakeStatuspage struct {
	mu        sync.Mutex
	updates   []string // ids, oldest first
	over      bool     // resolved: gone from summary.json
	reads     int
	incidents int // reads of incidents.json
}

func (f *fakeStatuspage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	page := `"page": {"id": "kctbh9vrtdwd", "name": "Classroom API", "url": "javascript:alert(document.cookie)//"}`
	incident := func(status string, ids []string, at time.Time) string {
		var ups []string
		for i := len(ids) - 1; i >= 0; i-- { // newest first
			ups = append(ups, fmt.Sprintf(`{"id": %q, "status": %q, "body": "Update %s.", "created_at": %q}`, ids[i], status, ids[i], at.Add(time.Duration(i)*time.Second).Format(time.RFC3339)))
		}
		return fmt.Sprintf(`{"id": "p31zjtct2jer", "name": "Rosters API unavailable", "status": %q, "impact": "critical", "shortlink": "javascript:alert(1)",
		  "started_at": "2026-08-19T17:00:00Z", "incident_updates": [%s], "components": [{"id": "b13yz5g2cw10", "name": "Rosters API"}]}`, status, strings.Join(ups, ","))
	}
	if r.URL.Path == "/api/v2/incidents.json" {
		f.incidents++
		closing := append(slices.Clone(f.updates), "resolved")
		fmt.Fprintf(w, `{%s, "incidents": [%s]}`, page, strings.Replace(incident("resolved", closing, time.Date(2026, 8, 19, 17, 0, 0, 0, time.UTC)),
			`"body": "Update resolved."`, `"body": "This incident has been resolved."`, 1))
		return
	}
	f.reads++
	at := time.Date(2026, 8, 19, 17, 0, 0, 0, time.UTC).Add(time.Duration(f.reads) * time.Minute) // a new time on every read
	status, incidents := "major_outage", "["+incident("identified", f.updates, at)+"]"
	if f.over {
		status, incidents = "operational", "[]"
	}
	fmt.Fprintf(w, `{%s, "components": [{"id": "b13yz5g2cw10", "name": "Rosters API", "status": %q}], "incidents": %s}`, page, status, incidents)
}

func (f *fakeStatuspage) set(ids ...string) { f.mu.Lock(); f.updates = ids; f.mu.Unlock() }

// TestUpstreamFloodAndClose: a provider's updates are mirrored once
// however the feed re-times them, a burst is capped, mirrored news
// notifies at most every ten minutes, a javascript: link never reaches
// the incident, and the provider's closing update lands on our timeline
// before our resolution.
func TestUpstreamFloodAndClose(t *testing.T) {
	prov := &fakeStatuspage{}
	psrv := httptest.NewServer(prov)
	defer psrv.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer hook.Close()
	feed := psrv.URL + "/api/v2/summary.json"
	yaml := `page: {name: Classroom Cloud, url: 'https://status.classroom.example'}
components:
  - {id: rosters, name: Rosters}
checks:
  - {id: rosters-api, kind: upstream, feed: statuspage, url: '` + feed + `', provider: Classroom API, components: [rosters]}
notifications:
  channels:
    - {id: hook, type: webhook, url: '` + hook.URL + `', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
`
	clk := clock.NewFake(time.Date(2026, 8, 19, 17, 10, 0, 0, time.UTC))
	a := newApp(t, yaml, Options{Clock: clk})
	ctx := context.Background()
	prov.set("a1", "a2", "a3")
	runCheck(t, a, "rosters-api")
	ins, _ := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
	if len(ins) != 1 {
		t.Fatalf("%d open incidents", len(ins))
	}
	id := ins[0].ID
	if up := ins[0].Upstream; up == nil || up.URL != feed {
		t.Errorf("link = %+v, want the configured feed (their links were javascript:)", up)
	}
	entries := func() []upstate.TimelineEntry {
		in, _ := a.store.GetIncident(ctx, id)
		var out []upstate.TimelineEntry
		for _, u := range in.Updates {
			if strings.HasPrefix(u.Body, "**Classroom API**") {
				out = append(out, u)
			}
		}
		return out
	}
	updated := func() int {
		ms, _ := a.store.ListMessages(ctx, store.MessageFilter{})
		n := 0
		for _, m := range ms {
			if m.Event.Incident.ID == id && m.Event.Type == upstate.EventIncidentUpdated {
				n++
			}
		}
		return n
	}
	// The same three updates, re-timed on every read.
	for range 10 {
		clk.Advance(30 * time.Second)
		runCheck(t, a, "rosters-api")
	}
	if got := len(entries()); got != 3 {
		t.Errorf("%d mirrored entries after 11 reads of 3 updates, want 3", got)
	}
	// A burst of 600 new updates: the newest five and a count of the rest.
	burst := []string{"a1", "a2", "a3"}
	for i := range 600 {
		burst = append(burst, fmt.Sprintf("b%d", i))
	}
	prov.set(burst...)
	clk.Advance(30 * time.Second)
	runCheck(t, a, "rosters-api")
	if got := entries(); len(got) != 3+6 || !strings.Contains(got[3].Body, "posted 595 more updates") || !strings.Contains(got[8].Body, "Update b599.") {
		t.Errorf("after the burst: %d entries", len(got))
	}
	// News on every read for nine minutes: told once, the rest held.
	before := updated()
	for i := range 9 {
		burst = append(burst, fmt.Sprintf("c%d", i))
		prov.set(burst...)
		clk.Advance(time.Minute)
		runCheck(t, a, "rosters-api")
		a.engine.Tick(ctx)
	}
	// (The burst was held too: the first read told at 17:10, the held
	// ones go out together at 17:20.)
	if got := updated() - before; got != 1 {
		t.Errorf("%d incident.updated in nine minutes of news, want 1", got)
	}
	// The provider resolves: summary.json drops the incident, and its
	// closing update is read from incidents.json, once.
	prov.mu.Lock()
	prov.over = true
	prov.mu.Unlock()
	clk.Advance(time.Minute)
	runCheck(t, a, "rosters-api")
	clk.Advance(time.Minute)
	runCheck(t, a, "rosters-api")
	clk.Advance(10 * time.Minute)
	a.engine.Tick(ctx)
	in, _ := a.store.GetIncident(ctx, id)
	if in.Status != upstate.Resolved {
		t.Fatalf("status = %s", in.Status)
	}
	closing, resolution := -1, -1
	for i, u := range in.Updates {
		if strings.Contains(u.Body, "This incident has been resolved.") {
			closing = i
		}
		if u.Status == upstate.Resolved {
			resolution = i
		}
	}
	if closing < 0 || closing > resolution {
		t.Errorf("closing update at %d, our resolution at %d", closing, resolution)
	}
	// The resolution is told at once, and carries the closing update held
	// back since the last incident.updated.
	ms, _ := a.store.ListMessages(ctx, store.MessageFilter{})
	if ev := ms[0].Event; ev.Type != upstate.EventIncidentResolved || len(ev.Entries) != 2 || !strings.Contains(ev.Entries[0].Body, "This incident has been resolved.") {
		t.Errorf("newest message: %s with %d entries", ev.Type, len(ev.Entries))
	}
	if prov.incidents != 1 {
		t.Errorf("incidents.json read %d times, want 1", prov.incidents)
	}
	for _, u := range in.Updates {
		if strings.Contains(u.Body, "javascript:") {
			t.Errorf("a javascript: link on the timeline: %q", u.Body)
		}
	}
}
