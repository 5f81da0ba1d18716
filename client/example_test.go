package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/upstatehq/upstate/client"
)

// summary is the status page's summary.json during an incident on
// conversion.
const summary = `{
  "page": {"id": "kctbh9vrtdwd", "name": "Acme Status", "url": "https://status.example.com"},
  "status": {"indicator": "major", "description": "Partial System Outage"},
  "components": [{"id": "conversion", "name": "File conversion", "status": "major_outage"}],
  "incidents": [{"id": "p31zjtct2jer", "name": "Major outage of File conversion", "status": "investigating", "impact": "critical",
    "shortlink": "https://status.example.com/incidents/p31zjtct2jer", "started_at": "2026-08-17T14:55:11.152Z",
    "components": [{"id": "conversion", "name": "File conversion", "status": "major_outage"}],
    "incident_updates": [{"status": "investigating", "body": "Conversions fail.", "created_at": "2026-08-17T14:55:11.152Z"}]}]
}`

// via is an HTTP client for which every host is srv: the example's
// names (status.example.com, convert.example.com) stand for real ones.
func via(srv *httptest.Server) *http.Client {
	addr := srv.Listener.Addr().String()
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}}
}

// The README's example, run against stand-ins: a status page with an
// incident on conversion, a conversion service that is down, and Upstate
// taking the reporter's counts.
func Example() {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, summary)
	}))
	defer page.Close()
	convert := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "worker pool exhausted", http.StatusServiceUnavailable)
	}))
	defer convert.Close()
	reported := make(chan string, 1)
	upstate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reported <- r.Method + " " + r.URL.Path + " (" + r.Header.Get("Authorization") + ")\n" + string(b)
	}))
	defer upstate.Close()

	ctx, stop := context.WithCancel(context.Background())
	status := &client.Status{URL: "http://status.example.com", HTTP: via(page)}

	// Outgoing calls: retried, then failed with the incident that explains them.
	reporter := &client.Reporter{URL: "http://upstate.example.com", Token: "ups_metrics_only", App: "web", HTTP: via(upstate)}
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		reporter.Run(ctx)
	}()
	hc := &http.Client{Transport: &client.Transport{
		Base:      via(convert).Transport,
		Status:    status,
		Component: func(r *http.Request) string { return "conversion" },
		Observer:  reporter,
	}}
	_, err := hc.Get("http://convert.example.com/v1/convert")
	var e *client.Error
	if errors.As(err, &e) && e.Incident != nil {
		fmt.Printf("conversion is down: %s (%s)\n", e.Incident.Name, e.Incident.Shortlink)
		fmt.Printf("after %d attempts, the last answered HTTP %d\n", e.Attempts, e.StatusCode)
	}

	// Incoming: a 5xx answer links the status page and carries the incident.
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/convert", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "conversion backend unavailable", http.StatusBadGateway)
	})
	rec := httptest.NewRecorder()
	client.Middleware(status, "conversion")(mux).ServeHTTP(rec, httptest.NewRequest("POST", "/v1/convert", nil))
	var prob client.Problem
	json.NewDecoder(rec.Body).Decode(&prob)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Link"))
	fmt.Println(prob.Detail)

	// Stopping the reporter sends what it counted.
	stop()
	<-ran
	select {
	case r := <-reported:
		fmt.Print(r)
	default:
		fmt.Println("nothing reported")
	}
	// Output:
	// conversion is down: Major outage of File conversion (https://status.example.com/incidents/p31zjtct2jer)
	// after 4 attempts, the last answered HTTP 503
	// 502 application/problem+json <http://status.example.com>; rel="status"
	// A known incident affects this: Major outage of File conversion. Updates: https://status.example.com/incidents/p31zjtct2jer
	// POST /api/v1/metrics (Bearer ups_metrics_only)
	// upstate_client_attempts{app="web",host="convert.example.com"} 4
	// upstate_client_first_attempt_failures{app="web",host="convert.example.com"} 1
	// upstate_client_giveups{app="web",host="convert.example.com"} 1
}
