// Package demo is `upstate demo`: a simulated ed-tech SaaS on loopback —
// web app, API, database, a file-conversion provider, a cloud drive and a
// classroom API — and a scenario that replays a bad back-to-school month
// against it, on a compressed clock, while the real Upstate watches.
package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/upstatehq/upstate/internal/clock"
)

// World is the simulated SaaS. Its behaviour is what the scenario sets;
// every delay is measured on the demo's clock.
type World struct {
	clock clock.Clock

	mu            sync.Mutex
	apiLatency    time.Duration
	apiFailEvery  int // every Nth API request answers 500; 0 for none
	apiCount      int
	dbLocked      bool
	brokenConvert map[string]bool
	driveDown     bool
	driveOutages  int         // how many times the drive provider went down
	driveSince    time.Time   // when it last went down
	quota         []quotaMark // the classroom API quota's use, oldest first
}

// NewWorld returns a healthy world.
func NewWorld(c clock.Clock) *World {
	return &World{clock: c, apiLatency: 120 * time.Millisecond, brokenConvert: map[string]bool{}}
}

func (w *World) set(f func(w *World)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w)
}

// Handler serves every simulated service on one listener, by path.
func (w *World) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, r *http.Request) {
		w.pause(r.Context(), 40*time.Millisecond)
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(rw, "<!doctype html><title>Classroom Cloud</title><h1>Classroom Cloud</h1>")
	})
	mux.HandleFunc("GET /api/health", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		lat, every := w.apiLatency, w.apiFailEvery
		w.apiCount++
		fail := every > 0 && w.apiCount%every == 0
		w.mu.Unlock()
		w.pause(r.Context(), lat)
		rw.Header().Set("Content-Type", "application/json")
		if fail {
			rw.WriteHeader(http.StatusInternalServerError)
			io.WriteString(rw, `{"status":"error","error":"could not obtain lock on row in relation \"submissions\""}`)
			return
		}
		io.WriteString(rw, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /db/health", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		locked := w.dbLocked
		w.mu.Unlock()
		w.pause(r.Context(), 5*time.Millisecond)
		rw.Header().Set("Content-Type", "application/json")
		if locked {
			io.WriteString(rw, `{"status":"ok","locks":{"waiting":184,"oldest_wait_s":47}}`)
			return
		}
		io.WriteString(rw, `{"status":"ok","locks":{"waiting":0,"oldest_wait_s":0}}`)
	})
	mux.HandleFunc("POST /convert", func(rw http.ResponseWriter, r *http.Request) {
		typ := r.URL.Query().Get("type")
		w.mu.Lock()
		broken := w.brokenConvert[typ]
		w.mu.Unlock()
		w.pause(r.Context(), 300*time.Millisecond)
		if broken {
			http.Error(rw, "upstream conversion service error: worker pool for Office formats unavailable", http.StatusBadGateway)
			return
		}
		rw.Header().Set("Content-Type", "application/pdf")
		io.WriteString(rw, "%PDF-1.7 simulated")
	})
	mux.HandleFunc("GET /drive/v3/about", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		down := w.driveDown
		w.mu.Unlock()
		w.pause(r.Context(), 80*time.Millisecond)
		if down {
			http.Error(rw, `{"error":{"code":503,"message":"The service is currently unavailable."}}`, http.StatusServiceUnavailable)
			return
		}
		io.WriteString(rw, `{"kind":"drive#about","user":{"displayName":"sync"}}`)
	})
	// The drive provider's own status dashboard, in Google's incidents.json
	// format: it reports the outage, with an update, while it lasts.
	mux.HandleFunc("GET /appsstatus/dashboard/incidents.json", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		down, n, since := w.driveDown, w.driveOutages, w.driveSince
		w.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		if !down {
			io.WriteString(rw, "[]")
			return
		}
		begin := since.UTC().Format(time.RFC3339)
		fmt.Fprintf(rw, `[{"id": "drive%d", "number": "%d", "begin": %q, "created": %q, "end": null, "modified": %q,
  "external_desc": "Google Drive service disruption", "severity": "high", "status_impact": "SERVICE_OUTAGE", "service_name": "Google Drive",
  "affected_products": [{"title": "Google Drive", "id": "VHNfk9g3mxpWgCtXNZxF"}],
  "updates": [{"when": %q, "status": "SERVICE_OUTAGE", "text": "We're investigating reports of an issue with Google Drive. Users may be unable to sync files."}],
  "uri": "incidents/drive%d"}]`, n, n, begin, begin, begin, since.Add(5*time.Minute).UTC().Format(time.RFC3339), n)
	})
	mux.HandleFunc("POST /prometheus/api/v1/query", w.prometheus)
	mux.HandleFunc("POST /prometheus/api/v1/query_range", w.prometheus)
	mux.HandleFunc("GET /classroom/v1/courses", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		exhausted := w.quotaUsed(w.clock.Now()) >= quotaLimit
		w.mu.Unlock()
		w.pause(r.Context(), 60*time.Millisecond)
		if exhausted {
			rw.Header().Set("Retry-After", "3600")
			http.Error(rw, `{"error":{"code":429,"message":"Quota exceeded for quota metric 'Requests' of service 'classroom.googleapis.com'","status":"RESOURCE_EXHAUSTED"}}`, http.StatusTooManyRequests)
			return
		}
		io.WriteString(rw, `{"courses":[{"id":"1","name":"Biology 101"}]}`)
	})
	return mux
}

func (w *World) pause(ctx context.Context, d time.Duration) {
	_ = clock.Sleep(ctx, w.clock, d)
}

// Serve runs the world's HTTP server on ln and a database port on db until
// ctx is done.
func (w *World) Serve(ctx context.Context, ln, db net.Listener) {
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	wg.Go(func() {
		for {
			c, err := db.Accept()
			if err != nil {
				return
			}
			c.Close() // the port answers; that is all a TCP check asks
		}
	})
	<-ctx.Done()
	_ = srv.Close()
	_ = db.Close()
	wg.Wait()
}

// Config is the Upstate configuration the demo runs with: the same YAML a
// user writes, pointed at the simulated services.
func Config(listen, world, db string) string {
	return fmt.Sprintf(`page:
  name: Classroom Cloud Status
  url: http://%[1]s
  time_zone: America/Los_Angeles
  description: Live status of Classroom Cloud. This is a demo replaying a simulated back-to-school month.
server:
  listen: %[1]s
components:
  - {id: web, name: Web app, group: Platform, depends_on: [api]}
  - {id: api, name: API, group: Platform, depends_on: [database]}
  - {id: database, name: Database, group: Platform}
  - {id: conversion, name: File conversion, group: Integrations, description: Word and PowerPoint to PDF}
  - {id: drive, name: Cloud drive sync, group: Integrations}
  - {id: classroom, name: Classroom roster sync, group: Integrations}
checks:
  - {id: web-home, name: Home page, kind: http, url: "http://%[2]s/", interval: 30s, components: [web]}
  - id: api-health
    name: API health
    kind: http
    url: http://%[2]s/api/health
    interval: 60s
    timeout: 20s
    expect: {status: [200], latency_under: 2s, body_contains: '"ok"'}
    components: [api]
  - id: db-locks
    name: Database lock waits
    kind: http
    url: http://%[2]s/db/health
    interval: 60s
    expect: {json: [{path: locks.waiting, equals: 0}]}
    components: [database]
    impact: {down: degraded_performance}
  - {id: db-port, name: Database port, kind: tcp, address: "%[3]s", interval: 30s, components: [database]}
  - {id: convert-docx, name: Convert Word, kind: http, method: POST, url: "http://%[2]s/convert?type=docx", interval: 60s, components: [conversion], impact: {down: partial_outage}}
  - {id: convert-pptx, name: Convert PowerPoint, kind: http, method: POST, url: "http://%[2]s/convert?type=pptx", interval: 60s, components: [conversion], impact: {down: partial_outage}}
  - {id: convert-pdf, name: Convert PDF, kind: http, method: POST, url: "http://%[2]s/convert?type=pdf", interval: 60s, components: [conversion], impact: {down: partial_outage}}
  - {id: drive-api, name: Cloud drive API, kind: http, url: "http://%[2]s/drive/v3/about", interval: 60s, components: [drive]}
  - {id: classroom-api, name: Classroom API, kind: http, url: "http://%[2]s/classroom/v1/courses", interval: 60s, components: [classroom]}
  - id: classroom-quota
    name: Classroom API quota
    kind: quota
    prometheus: {url: "http://%[2]s/prometheus", query: classroom_api_quota_used}
    limit: 10000
    what: classroom API quota
    components: [classroom]
  - {id: nightly-drive-sync, name: Nightly drive sync, kind: heartbeat, period: 24h, grace: 1h, token: `+HeartbeatToken+`, components: [drive]}
  - id: drive-google
    name: Google Workspace status
    kind: upstream
    feed: google-workspace
    url: http://%[2]s/appsstatus/dashboard/incidents.json
    products: [Google Drive]
    interval: 60s
    components: [drive]
`, listen, world, db)
}
