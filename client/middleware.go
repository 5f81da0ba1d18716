package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Problem is an RFC 9457 problem details body, with the incident that
// explains it when there is one.
type Problem struct {
	Type       string    `json:"type"`
	Title      string    `json:"title"`
	Status     int       `json:"status"`
	Detail     string    `json:"detail,omitempty"`
	Instance   string    `json:"instance,omitempty"`
	StatusPage string    `json:"status_page,omitempty"`
	Incident   *Incident `json:"incident,omitempty"`
}

// Middleware tells users about incidents when a handler fails: every 5xx
// answer gets a Link to the status page (rel="status"), and one that is
// not already JSON becomes an RFC 9457 application/problem+json body
// carrying the active incident on the component, if any. The status page
// is asked at most once per Status.TTL, briefly; if it does not answer,
// the problem is sent without the incident.
func Middleware(status *Status, component string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pw := &problemWriter{ResponseWriter: w, r: r, status: status, component: component}
			next.ServeHTTP(pw, r)
		})
	}
}

// problemWriter intercepts a 5xx before it is written.
type problemWriter struct {
	http.ResponseWriter
	r         *http.Request
	status    *Status
	component string
	wrote     bool
	swallow   bool // the handler's own body is replaced by the problem
}

func (p *problemWriter) WriteHeader(code int) {
	if p.wrote {
		return
	}
	p.wrote = true
	if code < 500 {
		p.ResponseWriter.WriteHeader(code)
		return
	}
	h := p.Header()
	page := strings.TrimRight(p.status.URL, "/")
	h.Add("Link", "<"+page+">; rel=\"status\"")
	ct := h.Get("Content-Type")
	if strings.Contains(ct, "json") {
		p.ResponseWriter.WriteHeader(code)
		return
	}
	prob := Problem{Type: "about:blank", Title: http.StatusText(code), Status: code, Instance: p.r.URL.Path, StatusPage: page}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.r.Context()), time.Second)
	defer cancel()
	if in, err := p.status.Incident(ctx, p.component); err == nil && in != nil {
		prob.Incident = in
		prob.Detail = "A known incident affects this: " + in.Name + ". See " + page + " for updates."
		if in.Shortlink != "" {
			prob.Detail = "A known incident affects this: " + in.Name + ". Updates: " + in.Shortlink
		}
	}
	h.Set("Content-Type", "application/problem+json")
	h.Del("Content-Length")
	h.Set("X-Content-Type-Options", "nosniff")
	p.ResponseWriter.WriteHeader(code)
	p.swallow = true
	_ = json.NewEncoder(p.ResponseWriter).Encode(prob)
}

func (p *problemWriter) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	if p.swallow {
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (p *problemWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
