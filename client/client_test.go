package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when the transport sleeps: no test waits.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 8, 17, 15, 42, 0, 0, time.UTC)

// flaky answers with the codes in turn, then 200.
type flaky struct {
	mu      sync.Mutex
	codes   []int
	headers []map[string]string
	calls   int
	bodies  []string
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	f.bodies = append(f.bodies, string(b))
	i := f.calls
	f.calls++
	if i < len(f.codes) {
		if i < len(f.headers) {
			for k, v := range f.headers[i] {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(f.codes[i])
		io.WriteString(w, "broken")
		return
	}
	io.WriteString(w, "ok")
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name      string
		method    string
		codes     []int
		headers   []map[string]string
		opts      func(*Transport)
		wantCalls int
		wantOK    bool
		wantErr   error
	}{
		{"503 then ok", "GET", []int{503, 502}, nil, nil, 3, true, nil},
		{"500 is not retried by default", "GET", []int{500}, nil, nil, 1, true, nil},
		{"500 when configured", "GET", []int{500}, nil, func(t *Transport) { t.RetryServerErrors = true }, 2, true, nil},
		{"404 is an answer", "GET", []int{404}, nil, nil, 1, true, nil},
		{"POST is not retried", "POST", []int{503}, nil, nil, 1, false, ErrRetriesExhausted},
		{"POST with an idempotency key is", "POST-KEY", []int{503}, nil, nil, 2, true, nil},
		{"POST when RetryAll", "POST", []int{503}, nil, func(t *Transport) { t.RetryAll = true }, 2, true, nil},
		{"gives up after MaxAttempts", "GET", []int{503, 503, 503, 503, 503}, nil, nil, 4, false, ErrRetriesExhausted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{codes: tc.codes, headers: tc.headers}
			srv := httptest.NewServer(f)
			defer srv.Close()
			tr := &Transport{Clock: &fakeClock{now: t0}, Rand: func() float64 { return 0.5 }, BreakAfter: -1}
			if tc.opts != nil {
				tc.opts(tr)
			}
			method := strings.TrimSuffix(tc.method, "-KEY")
			req, _ := http.NewRequest(method, srv.URL, strings.NewReader("payload"))
			if strings.HasSuffix(tc.method, "-KEY") {
				req.Header.Set("Idempotency-Key", "k1")
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if f.calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", f.calls, tc.wantCalls)
			}
			if tc.wantOK && err != nil {
				t.Fatalf("err = %v", err)
			}
			if !tc.wantOK {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				var e *Error
				if !errors.As(err, &e) || e.StatusCode != 503 || e.Attempts != tc.wantCalls {
					t.Errorf("error = %+v", e)
				}
				return
			}
			resp.Body.Close()
			for i, b := range f.bodies {
				if method != "GET" && b != "payload" {
					t.Errorf("attempt %d sent body %q: a retry must resend it", i+1, b)
				}
			}
		})
	}
}

func TestBackoffJitterAndRetryAfter(t *testing.T) {
	// Full jitter: within [0, min(max, base·2ⁿ⁻¹)).
	tr := &Transport{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for n := 1; n <= 8; n++ {
		bound := min(time.Second, 100*time.Millisecond<<(n-1))
		for range 200 {
			if d := tr.Delay(n); d < 0 || d >= bound {
				t.Fatalf("attempt %d waited %s, want within [0, %s)", n, d, bound)
			}
		}
	}
	// Retry-After wins over a shorter backoff.
	f := &flaky{codes: []int{429, 503}, headers: []map[string]string{{"Retry-After": "3"}, {"Retry-After": t0.Add(10 * time.Second).Format(http.TimeFormat)}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	clk := &fakeClock{now: t0}
	tr = &Transport{Clock: clk, Rand: func() float64 { return 0 }, BreakAfter: -1}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(clk.slept) != 2 || clk.slept[0] != 3*time.Second || clk.slept[1] != 7*time.Second {
		t.Errorf("slept %v, want [3s 7s] (Retry-After in seconds, then as a date)", clk.slept)
	}
}

func TestBudget(t *testing.T) {
	f := &flaky{codes: []int{503, 503, 503}, headers: []map[string]string{{}, {"Retry-After": "60"}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	clk := &fakeClock{now: time.Now()}
	tr := &Transport{Clock: clk, Rand: func() float64 { return 1 }, BreakAfter: -1}
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(5*time.Second))
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	_, err := (&http.Client{Transport: tr}).Do(req)
	var e *Error
	if !errors.Is(err, ErrBudget) || !errors.As(err, &e) || e.Attempts != 2 || f.calls != 2 {
		t.Errorf("err = %v (%d calls): a 60 s Retry-After does not fit a 5 s deadline", err, f.calls)
	}
}

func TestCircuitBreaker(t *testing.T) {
	f := &flaky{codes: []int{503, 503, 503, 503, 503, 503}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	clk := &fakeClock{now: t0}
	tr := &Transport{Clock: clk, Rand: func() float64 { return 0 }, MaxAttempts: 1, BreakAfter: 3, OpenFor: 30 * time.Second}
	c := &http.Client{Transport: tr}
	host := strings.TrimPrefix(srv.URL, "http://")
	for range 3 {
		c.Get(srv.URL)
	}
	if s := tr.State(host, clk.Now()); s != "open" {
		t.Fatalf("after 3 failures: %s", s)
	}
	_, err := c.Get(srv.URL)
	if !errors.Is(err, ErrCircuitOpen) || f.calls != 3 {
		t.Errorf("open circuit: %v, %d calls", err, f.calls)
	}
	clk.advance(31 * time.Second)
	if s := tr.State(host, clk.Now()); s != "half-open" {
		t.Errorf("after OpenFor: %s", s)
	}
	c.Get(srv.URL) // the probe fails: open again
	if s := tr.State(host, clk.Now()); s != "open" || f.calls != 4 {
		t.Errorf("failed probe: %s, %d calls", s, f.calls)
	}
	clk.advance(31 * time.Second)
	f.mu.Lock()
	f.codes = nil
	f.mu.Unlock()
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if s := tr.State(host, clk.Now()); s != "closed" {
		t.Errorf("after a good probe: %s", s)
	}
}

// statusPage is a fake Upstate summary with one incident on "conversion".
func statusPage(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/summary.json" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `{"page":{"id":"p","name":"Acme","url":"https://status.acme.example"},"status":{"indicator":"major","description":"Partial System Outage"},
			"components":[{"id":"conversion","name":"File conversion","status":"partial_outage"}],
			"incidents":[{"id":"inc1","name":"Word conversions failing","status":"identified","impact":"major","shortlink":"https://status.acme.example/incidents/inc1",
			"components":[{"id":"conversion","name":"File conversion","status":"partial_outage"}],
			"incident_updates":[{"status":"identified","body":"The provider is fixing it.","created_at":"2026-08-21T17:05:00Z"}]}]}`)
	}))
}

func TestErrorCarriesTheIncident(t *testing.T) {
	page := statusPage(t)
	defer page.Close()
	f := &flaky{codes: []int{503, 503}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	tr := &Transport{Clock: &fakeClock{now: t0}, Rand: func() float64 { return 0 }, MaxAttempts: 2, BreakAfter: -1,
		Status: &Status{URL: page.URL}, Component: func(*http.Request) string { return "conversion" }}
	_, err := (&http.Client{Transport: tr}).Get(srv.URL + "/convert")
	var e *Error
	if !errors.As(err, &e) || e.Incident == nil || e.Incident.Name != "Word conversions failing" || !strings.Contains(err.Error(), "(known incident: Word conversions failing)") {
		t.Fatalf("err = %v", err)
	}
	// With the status page down too, the error still comes, without an incident.
	page.Close()
	f.mu.Lock()
	f.calls = 0
	f.mu.Unlock()
	tr.Status = &Status{URL: page.URL}
	_, err = (&http.Client{Transport: tr}).Get(srv.URL + "/convert")
	if !errors.As(err, &e) || e.Incident != nil {
		t.Errorf("status page down: %v", err)
	}
}

func TestMiddleware(t *testing.T) {
	page := statusPage(t)
	defer page.Close()
	st := &Status{URL: page.URL}
	h := Middleware(st, "conversion")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			http.Error(w, "conversion backend unavailable", http.StatusBadGateway)
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			io.WriteString(w, `{"error":"own"}`)
		default:
			io.WriteString(w, "fine")
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/fail", nil))
	var p Problem
	json.Unmarshal(rec.Body.Bytes(), &p)
	if rec.Code != 502 || rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("Link") != "<"+page.URL+`>; rel="status"` ||
		p.Status != 502 || p.Incident == nil || p.Incident.ID != "inc1" || !strings.Contains(p.Detail, "Word conversions failing") || p.Instance != "/fail" {
		t.Errorf("problem: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/json", nil))
	if rec.Body.String() != `{"error":"own"}` || rec.Header().Get("Link") == "" {
		t.Errorf("a JSON 5xx keeps its body and gets the link: %s %v", rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Body.String() != "fine" || rec.Header().Get("Link") != "" {
		t.Errorf("a 200 is untouched: %s %v", rec.Body, rec.Header())
	}
}

func TestReporter(t *testing.T) {
	var mu sync.Mutex
	var got []string
	fail := true
	upstate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/api/v1/metrics" || r.Header.Get("Authorization") != "Bearer ups_x" || r.Header.Get("Content-Type") != "text/plain; version=0.0.4" {
			w.WriteHeader(400)
			return
		}
		if fail {
			fail = false
			w.WriteHeader(503)
			return
		}
		got = append(got, string(b))
	}))
	defer upstate.Close()
	rep := &Reporter{URL: upstate.URL, Token: "ups_x", App: "web"}
	f := &flaky{codes: []int{503, 503, 503, 503, 503}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	tr := &Transport{Clock: &fakeClock{now: t0}, Rand: func() float64 { return 0 }, BreakAfter: -1, Observer: rep}
	c := &http.Client{Transport: tr}
	c.Get(srv.URL) // 4 failed attempts: given up
	resp, _ := c.Get(srv.URL)
	resp.Body.Close() // one failed attempt, then ok
	if err := rep.Flush(context.Background()); err == nil {
		t.Fatal("a refused report was taken as sent")
	}
	if err := rep.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	want := `upstate_client_attempts{app="web",host="` + host + `"} 6` + "\n" +
		`upstate_client_first_attempt_failures{app="web",host="` + host + `"} 2` + "\n" +
		`upstate_client_giveups{app="web",host="` + host + `"} 1` + "\n"
	if len(got) != 1 || got[0] != want {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(got, "--\n"), want)
	}
	if rep.Text() != "" {
		t.Errorf("after a good flush the next interval starts at zero: %q", rep.Text())
	}
}
