package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/incident"
)

// lifecycle is a Statuspage page whose one incident goes through its
// statuses: each update has an id and a status; the component shows
// component's status while the incident is open.
type lifecycle struct {
	mu        sync.Mutex
	updates   [][2]string // {id, status}, oldest first
	component string
	impact    string
	over      bool
}

func (f *lifecycle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	page := `"page": {"id": "kctbh9vrtdwd", "name": "Classroom API", "url": "https://status.classroom.example"}`
	incident := func(updates [][2]string) string {
		var ups []string
		for i := len(updates) - 1; i >= 0; i-- { // newest first
			u := updates[i]
			ups = append(ups, fmt.Sprintf(`{"id": %q, "status": %q, "body": "Update %s (%s).", "created_at": "2026-08-19T17:%02d:00Z"}`, u[0], u[1], u[0], u[1], i))
		}
		return fmt.Sprintf(`{"id": "w4l9cm3fz1qk", "name": "Some roster syncs failing", "status": %q, "impact": %q, "shortlink": "https://stspg.io/w4l9",
		  "started_at": "2026-08-19T17:00:00Z", "incident_updates": [%s],
		  "components": [{"id": "b13yz5g2cw10", "name": "Rosters API", "status": %q}]}`, updates[len(updates)-1][1], f.impact, strings.Join(ups, ","), f.component)
	}
	if r.URL.Path == "/api/v2/incidents.json" {
		fmt.Fprintf(w, `{%s, "incidents": [%s]}`, page, incident(append(f.updates, [2]string{"r1", "resolved"})))
		return
	}
	if f.over {
		fmt.Fprintf(w, `{%s, "components": [{"id": "b13yz5g2cw10", "name": "Rosters API", "status": "operational"}], "incidents": []}`, page)
		return
	}
	fmt.Fprintf(w, `{%s, "components": [{"id": "b13yz5g2cw10", "name": "Rosters API", "status": %q}], "incidents": [%s]}`, page, f.component, incident(f.updates))
}

func (f *lifecycle) post(id, status string) {
	f.mu.Lock()
	f.updates = append(f.updates, [2]string{id, status})
	f.mu.Unlock()
}

// TestLinkedIncidentFollowsProvider is issue 12's item 7 end to end: their
// partial outage is ours, and our linked incident's status moves with
// theirs (investigating, identified, monitoring, and back when their fix
// does not hold), but never back past what our own team set by hand; their
// monitoring starts no recovery of ours while our component still fails;
// their resolution resolves ours through our own recovery.
func TestLinkedIncidentFollowsProvider(t *testing.T) {
	prov := &lifecycle{component: "partial_outage", impact: "critical"}
	prov.post("v1", "investigating")
	psrv := httptest.NewServer(prov)
	defer psrv.Close()
	var webDown sync.Map
	own := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if _, down := webDown.Load("x"); down {
			w.WriteHeader(502)
		}
	}))
	defer own.Close()
	yaml := `page: {name: Classroom Cloud, url: 'https://status.classroom.example'}
components:
  - {id: rosters, name: Rosters}
  - {id: web, name: Web app}
checks:
  - {id: rosters-api, kind: upstream, feed: statuspage, url: '` + psrv.URL + `/api/v2/summary.json', provider: Classroom API, products: [Rosters API], components: [rosters]}
  - {id: web-home, kind: http, url: '` + own.URL + `', components: [web], fail_after: 1, recover_after: 1, recheck: {count: 0}}
`
	clk := clock.NewFake(time.Date(2026, 8, 19, 17, 10, 0, 0, time.UTC))
	a := newApp(t, yaml, Options{Clock: clk})
	ctx := context.Background()
	read := func() *upstate.Incident {
		t.Helper()
		clk.Advance(2 * time.Minute)
		runCheck(t, a, "rosters-api")
		ins, _ := a.store.ListIncidents(ctx, upstate.IncidentFilter{})
		for _, in := range ins {
			if in.Upstream != nil {
				got, _ := a.store.GetIncident(ctx, in.ID)
				return got
			}
		}
		t.Fatal("no linked incident")
		return nil
	}
	in := read()
	// Their incident is "critical", but the component we watch is partly
	// out: a partial outage of ours, not a degradation nor a major outage.
	if in.Status != upstate.Investigating || a.engine.Statuses()["rosters"] != upstate.PartialOutage || !in.Auto {
		t.Fatalf("opened: %s, rosters %s", in.Status, a.engine.Statuses()["rosters"])
	}
	steps := []struct {
		id, theirs string
		want       upstate.IncidentStatus
	}{
		{"i1", "identified", upstate.Identified},
		{"m1", "monitoring", upstate.Monitoring},
	}
	for _, s := range steps {
		prov.post(s.id, s.theirs)
		in = read()
		last := in.Updates[len(in.Updates)-1]
		if in.Status != s.want || last.Status != s.want || !strings.Contains(last.Body, "Update "+s.id) {
			t.Fatalf("they say %s: ours %s, last entry %s %q", s.theirs, in.Status, last.Status, last.Body)
		}
	}
	if in.MonitoringAt != nil {
		t.Errorf("their monitoring started our recovery watch at %v", in.MonitoringAt)
	}
	// Half an hour of their monitoring, our component still partly out,
	// and another check failing and recovering meanwhile: still theirs.
	for range 15 {
		in = read()
		a.engine.Tick(ctx)
	}
	webDown.Store("x", true)
	runCheck(t, a, "web-home")
	webDown.Delete("x")
	runCheck(t, a, "web-home")
	a.engine.Tick(ctx)
	if in, _ = a.store.GetIncident(ctx, in.ID); in.Status != upstate.Monitoring {
		t.Fatalf("half an hour into their monitoring: %s", in.Status)
	}
	// Their fix did not hold: back to identified, as they say.
	prov.post("i2", "identified")
	if in = read(); in.Status != upstate.Identified {
		t.Errorf("their step back: %s", in.Status)
	}
	// Dana, on our side, says identified too; they then say investigating
	// again: ours stays at what Dana set.
	if _, err := a.engine.Update(ctx, in.ID, incident.Change{Status: upstate.Identified, Message: "Their shard; we wait for them.", Actor: "Dana"}); err != nil {
		t.Fatal(err)
	}
	prov.post("v2", "investigating")
	if in = read(); in.Status != upstate.Identified || !strings.Contains(in.Updates[len(in.Updates)-1].Body, "Update v2") {
		t.Errorf("back past what Dana set: %s", in.Status)
	}
	// Forward past it, as they move.
	prov.post("m2", "monitoring")
	if in = read(); in.Status != upstate.Monitoring {
		t.Errorf("beyond what Dana set: %s", in.Status)
	}
	// Their partial outage eases to a degradation: ours follows at once.
	prov.mu.Lock()
	prov.component = "degraded_performance"
	prov.mu.Unlock()
	if read(); a.engine.Statuses()["rosters"] != upstate.DegradedPerformance {
		t.Errorf("rosters = %s once theirs is degraded", a.engine.Statuses()["rosters"])
	}
	// They resolve: their closing words are mirrored, our check passes,
	// our own watch runs, and the incident resolves when it has held.
	prov.mu.Lock()
	prov.over = true
	prov.mu.Unlock()
	in = read()
	pub := publicUpdates(in)
	n := len(pub)
	if in.Status != upstate.Monitoring || in.MonitoringAt == nil || !strings.Contains(pub[n-2].Body, "All affected components are operational again") ||
		!strings.Contains(pub[n-1].Body, "Update r1 (resolved)") {
		t.Fatalf("their resolution: %s %v %+v", in.Status, in.MonitoringAt, pub[n-2:])
	}
	clk.Advance(5 * time.Minute)
	a.engine.Tick(ctx)
	in, _ = a.store.GetIncident(ctx, in.ID)
	var trail []string
	for _, u := range in.Updates {
		trail = append(trail, string(u.Status))
	}
	if in.Status != upstate.Resolved {
		t.Errorf("status = %s; timeline: %s", in.Status, strings.Join(trail, " "))
	}
	t.Logf("timeline statuses: %s", strings.Join(trail, " "))
}

// TestProviderPartialOutageImpact: their partial outage is our partial
// outage on the linked component, unless the check's impact says
// otherwise.
func TestProviderPartialOutageImpact(t *testing.T) {
	prov := &lifecycle{component: "partial_outage", impact: "major"}
	prov.post("v1", "investigating")
	psrv := httptest.NewServer(prov)
	defer psrv.Close()
	feed := psrv.URL + "/api/v2/summary.json"
	yaml := `page: {name: Classroom Cloud}
components:
  - {id: rosters, name: Rosters}
  - {id: classroom, name: Classroom sync}
checks:
  - {id: rosters-api, kind: upstream, feed: statuspage, url: '` + feed + `', products: [Rosters API], components: [rosters]}
  - {id: classroom-api, kind: upstream, feed: statuspage, url: '` + feed + `', provider: Classroom, products: [Rosters API], components: [classroom], impact: {partial: degraded_performance}}
`
	a := newApp(t, yaml, Options{Clock: clock.NewFake(time.Date(2026, 8, 19, 17, 10, 0, 0, time.UTC))})
	runCheck(t, a, "rosters-api")
	runCheck(t, a, "classroom-api")
	if st := a.engine.Statuses(); st["rosters"] != upstate.PartialOutage || st["classroom"] != upstate.DegradedPerformance {
		t.Errorf("statuses = %v", st)
	}
}
