package app

import (
	"context"
	"net/http"
	"net/http/httptest"
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
		ins, _ := a.store.ListIncidents(ctx, store.IncidentFilter{OpenOnly: true})
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
