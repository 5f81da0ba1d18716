package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Clock is the time the transport waits on; tests give a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Errors the transport gives up with; Error wraps one of them.
var (
	// ErrCircuitOpen means the host failed so often lately that calls to
	// it fail at once for a while.
	ErrCircuitOpen = errors.New("circuit open: the host is failing; not calling it for now")
	// ErrBudget means the next wait would pass the request's deadline.
	ErrBudget = errors.New("retry budget spent: the next attempt would come after the request's deadline")
	// ErrRetriesExhausted means every attempt failed.
	ErrRetriesExhausted = errors.New("every attempt failed")
)

// Error is a call that failed after its attempts, with the incident on
// the status page that explains it, if there is one.
type Error struct {
	Method, URL string
	Attempts    int
	StatusCode  int   // the last answer's status, 0 without one
	Err         error // the last network error, if any
	Reason      error // ErrCircuitOpen, ErrBudget or ErrRetriesExhausted
	// Incident is the status page's active incident on the component the
	// call depends on, if any: tell users about it.
	Incident *Incident
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %v after %d attempt", e.Method, e.URL, e.Reason, e.Attempts)
	if e.Attempts != 1 {
		s += "s"
	}
	switch {
	case e.Err != nil:
		s += ": " + e.Err.Error()
	case e.StatusCode != 0:
		s += fmt.Sprintf(": HTTP %d", e.StatusCode)
	}
	if e.Incident != nil {
		s += fmt.Sprintf(" (known incident: %s)", e.Incident.Name)
	}
	return s
}

// Unwrap lets errors.Is find the reason and the network error.
func (e *Error) Unwrap() []error { return []error{e.Reason, e.Err} }

// Observer is told what the transport does (Reporter is one).
type Observer interface {
	// Attempt is called after each attempt; failed says it will be retried
	// or given up on.
	Attempt(host string, n int, failed bool)
	// GaveUp is called when a call fails after its attempts.
	GaveUp(host string)
}

// Transport is an http.RoundTripper that retries idempotent requests on
// network errors and 502, 503 and 504 (and 500 when RetryServerErrors),
// with exponential backoff and full jitter, never sooner than a
// Retry-After and never past the request's context deadline, and keeps a
// circuit breaker per host. Its zero value works, over
// http.DefaultTransport.
type Transport struct {
	Base http.RoundTripper
	// MaxAttempts bounds the attempts of one call; default 4.
	MaxAttempts int
	// BaseDelay and MaxDelay shape the backoff: attempt n waits a random
	// time up to min(MaxDelay, BaseDelay·2ⁿ). Defaults 100 ms and 5 s.
	BaseDelay, MaxDelay time.Duration
	// RetryServerErrors retries HTTP 500 too.
	RetryServerErrors bool
	// RetryAll retries non-idempotent methods as well; without it only
	// GET, HEAD, OPTIONS, TRACE, PUT, DELETE and requests with an
	// Idempotency-Key header are.
	RetryAll bool
	// BreakAfter consecutive failed calls to a host open its circuit for
	// OpenFor; then one call tries it. Defaults 5 and 30 s; BreakAfter < 0
	// turns the breaker off.
	BreakAfter int
	OpenFor    time.Duration
	// Status and Component attach the active incident to errors: the
	// component the request depends on.
	Status    *Status
	Component func(*http.Request) string
	// Observer is told of attempts and give-ups.
	Observer Observer
	// Clock and Rand are for tests; defaults are real time and math/rand.
	Clock Clock
	Rand  func() float64

	mu       sync.Mutex
	breakers map[string]*breaker
}

// breaker is one host's circuit.
type breaker struct {
	failures  int
	openUntil time.Time
	probing   bool
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) clock() Clock {
	if t.Clock != nil {
		return t.Clock
	}
	return realClock{}
}

// Delay is the wait before attempt n+1 (n from 1): full jitter over the
// exponential bound.
func (t *Transport) Delay(n int) time.Duration {
	base, top := t.BaseDelay, t.MaxDelay
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	if top <= 0 {
		top = 5 * time.Second
	}
	bound := math.Min(float64(top), float64(base)*math.Pow(2, float64(n-1)))
	r := t.Rand
	if r == nil {
		r = rand.Float64
	}
	return time.Duration(r() * bound)
}

func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// retryable says whether an answer is worth another attempt.
func (t *Transport) retryable(code int) bool {
	switch code {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusInternalServerError:
		return t.RetryServerErrors
	}
	return false
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	clk := t.clock()
	host := req.URL.Host
	attempts := t.MaxAttempts
	if attempts <= 0 {
		attempts = 4
	}
	canRetry := (t.RetryAll || idempotent(req)) && (req.Body == nil || req.Body == http.NoBody || req.GetBody != nil)
	if !canRetry {
		attempts = 1
	}
	if !t.allow(host, clk.Now()) {
		return nil, t.fail(req, &Error{Method: req.Method, URL: req.URL.String(), Reason: ErrCircuitOpen})
	}
	var last *Error
	for n := 1; ; n++ {
		r := req
		if n > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := t.base().RoundTrip(r)
		switch {
		case err == nil && !t.retryable(resp.StatusCode):
			t.record(host, true, clk.Now())
			t.observe(host, n, false)
			return resp, nil
		case err != nil && ctx.Err() != nil:
			return nil, err // the caller gave up: not the host's fault
		}
		t.observe(host, n, true)
		last = &Error{Method: req.Method, URL: req.URL.String(), Attempts: n, Err: err, Reason: ErrRetriesExhausted}
		var wait time.Duration
		if resp != nil {
			last.StatusCode = resp.StatusCode
			wait = retryAfter(resp.Header.Get("Retry-After"), clk.Now())
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if n >= attempts {
			break
		}
		wait = max(wait, t.Delay(n))
		if dl, ok := ctx.Deadline(); ok && clk.Now().Add(wait).After(dl) {
			last.Reason = ErrBudget
			break
		}
		if err := clk.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	t.record(host, false, clk.Now())
	return nil, t.fail(req, last)
}

// fail attaches the incident and tells the observer.
func (t *Transport) fail(req *http.Request, e *Error) error {
	if t.Observer != nil {
		t.Observer.GaveUp(req.URL.Host)
	}
	if t.Status != nil && t.Component != nil {
		if c := t.Component(req); c != "" {
			// The status page may be down too: a short look, never long.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), 2*time.Second)
			defer cancel()
			if in, err := t.Status.Incident(ctx, c); err == nil {
				e.Incident = in
			}
		}
	}
	return e
}

func (t *Transport) observe(host string, n int, failed bool) {
	if t.Observer != nil {
		t.Observer.Attempt(host, n, failed)
	}
}

// allow says whether a call to the host may go ahead now: yes while its
// circuit is closed, one probe once it has been open for OpenFor.
func (t *Transport) allow(host string, now time.Time) bool {
	if t.BreakAfter < 0 {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.breakers[host]
	if b == nil || b.openUntil.IsZero() {
		return true
	}
	if now.Before(b.openUntil) || b.probing {
		return false
	}
	b.probing = true // half open: this call decides
	return true
}

// record counts a call's outcome against its host's circuit.
func (t *Transport) record(host string, ok bool, now time.Time) {
	if t.BreakAfter < 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.breakers == nil {
		t.breakers = map[string]*breaker{}
	}
	b := t.breakers[host]
	if b == nil {
		b = &breaker{}
		t.breakers[host] = b
	}
	if ok {
		*b = breaker{}
		return
	}
	b.failures++
	after, open := t.BreakAfter, t.OpenFor
	if after == 0 {
		after = 5
	}
	if open <= 0 {
		open = 30 * time.Second
	}
	if b.probing || b.failures >= after {
		b.openUntil, b.probing = now.Add(open), false
	}
}

// State is a host's circuit: "closed", "open" or "half-open".
func (t *Transport) State(host string, now time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.breakers[host]
	switch {
	case b == nil || b.openUntil.IsZero():
		return "closed"
	case now.Before(b.openUntil):
		return "open"
	}
	return "half-open"
}

// retryAfter reads Retry-After: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
