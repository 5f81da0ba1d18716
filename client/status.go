// Package client is for apps that run behind an Upstate status page: read
// its status API, make outgoing HTTP calls resilient (retries with
// exponential backoff and full jitter, Retry-After, the request's deadline
// as the budget, a circuit breaker per host) with errors that carry the
// incident explaining them, tell users about incidents in 5xx answers
// (RFC 9457 problem+json and a Link to the status page), and report what
// retries hide back to Upstate. It uses only the standard library.
package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Summary is the status page's /api/v2/summary.json (the Statuspage v2
// format), the parts an app needs.
type Summary struct {
	Page struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"page"`
	Status struct {
		Indicator   string `json:"indicator"` // none, minor, major, critical, maintenance
		Description string `json:"description"`
	} `json:"status"`
	Components []Component `json:"components"`
	Incidents  []Incident  `json:"incidents"`
}

// Component is a part of the service and its status.
type Component struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"` // operational, degraded_performance, partial_outage, major_outage, under_maintenance
}

// Incident is an unresolved incident.
type Incident struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Status     string      `json:"status"`
	Impact     string      `json:"impact"`
	Shortlink  string      `json:"shortlink"`
	StartedAt  time.Time   `json:"started_at"`
	Components []Component `json:"components"`
	Updates    []Update    `json:"incident_updates"` // newest first
}

// Update is one of an incident's public updates.
type Update struct {
	Status    string    `json:"status"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// Affects reports whether the incident is on the component (by id or name).
func (in Incident) Affects(component string) bool {
	for _, c := range in.Components {
		if c.ID == component || strings.EqualFold(c.Name, component) {
			return true
		}
	}
	return false
}

// Status reads a status page's API, caching the summary briefly so an
// error path can ask it on every failure.
type Status struct {
	// URL is the status page's address, e.g. https://status.example.com.
	URL string
	// HTTP is the client to use; default a client with a 5 s timeout.
	HTTP *http.Client
	// TTL is how long a summary is reused; default 30 s.
	TTL time.Duration
	// Now tells the time; default time.Now.
	Now func() time.Time

	mu      sync.Mutex
	cached  *Summary
	fetched time.Time
}

// Summary returns the page's summary, from the cache when fresh.
func (s *Status) Summary(ctx context.Context) (*Summary, error) {
	now := s.now()
	s.mu.Lock()
	if s.cached != nil && now.Sub(s.fetched) < s.ttl() {
		c := s.cached
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(s.URL, "/")+"/api/v2/summary.json", nil)
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status page answered HTTP %d", resp.StatusCode)
	}
	var sum Summary
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&sum); err != nil {
		return nil, fmt.Errorf("status page: not a summary.json: %w", err)
	}
	s.mu.Lock()
	s.cached, s.fetched = &sum, now
	s.mu.Unlock()
	return &sum, nil
}

// Incident returns the worst unresolved incident on a component, or nil.
func (s *Status) Incident(ctx context.Context, component string) (*Incident, error) {
	sum, err := s.Summary(ctx)
	if err != nil {
		return nil, err
	}
	rank := map[string]int{"none": 0, "minor": 1, "major": 2, "critical": 3}
	var worst *Incident
	for i := range sum.Incidents {
		in := &sum.Incidents[i]
		if in.Affects(component) && (worst == nil || rank[in.Impact] > rank[worst.Impact]) {
			worst = in
		}
	}
	return worst, nil
}

func (s *Status) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Status) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return 30 * time.Second
}
