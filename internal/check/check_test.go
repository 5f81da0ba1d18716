package check

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/dnstest"
)

// stepClock advances by step every time it is read, so a probe measures a
// fixed, machine-independent latency.
type stepClock struct {
	clock.Real
	now  time.Time
	step time.Duration
}

func (s *stepClock) Now() time.Time {
	t := s.now
	s.now = s.now.Add(s.step)
	return t
}

func newHTTP(url string, e HTTPExpect) *HTTP {
	return &HTTP{ID: "h", Method: "GET", URL: url, Timeout: 2 * time.Second, FollowRedirects: true, Expect: &e,
		Client: NewHTTPClient(false, 2, nil), Clock: clock.Real{}}
}

func TestHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":"ok","data":{"items":[{"state":"green","n":3}]}}`)
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.Header.Get("X-Probe")+" "+string(b))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name    string
		path    string
		expect  HTTPExpect
		follow  bool
		outcome upstate.Outcome
		code    int
		err     string
	}{
		{"ok", "/ok", HTTPExpect{}, true, upstate.OutcomeOK, 200, ""},
		{"500 is a failure", "/500", HTTPExpect{}, true, upstate.OutcomeFail, 500, "status 500 Internal Server Error"},
		{"expected status list", "/500", HTTPExpect{Status: []int{200, 204}}, true, upstate.OutcomeFail, 500, "status 500, expected 200 or 204"},
		{"body contains", "/ok", HTTPExpect{BodyContains: `"ok"`}, true, upstate.OutcomeOK, 200, ""},
		{"body lacks", "/ok", HTTPExpect{BodyContains: "healthy"}, true, upstate.OutcomeFail, 200, `body does not contain "healthy"`},
		{"regex", "/ok", HTTPExpect{BodyRegex: regexp.MustCompile(`"n":\d`)}, true, upstate.OutcomeOK, 200, ""},
		{"regex miss", "/ok", HTTPExpect{BodyRegex: regexp.MustCompile(`"n":9`)}, true, upstate.OutcomeFail, 200, `body does not match /"n":9/`},
		{"json path", "/ok", HTTPExpect{JSON: []JSONAssertion{{Path: "data.items[0].state", Equals: "green"}, {Path: "$.data.items[0].n", Equals: 3}}}, true, upstate.OutcomeOK, 200, ""},
		{"json mismatch", "/ok", HTTPExpect{JSON: []JSONAssertion{{Path: "data.items[0].state", Equals: "red"}}}, true, upstate.OutcomeFail, 200, `JSON data.items[0].state is "green", expected "red"`},
		{"json missing key", "/ok", HTTPExpect{JSON: []JSONAssertion{{Path: "data.nope", Equals: 1}}}, true, upstate.OutcomeFail, 200, `JSON data.nope: no key "nope"`},
		{"json on html", "/500", HTTPExpect{Status: []int{500}, JSON: []JSONAssertion{{Path: "a", Equals: 1}}}, true, upstate.OutcomeFail, 500, "body is not JSON"},
		{"redirect followed", "/redirect", HTTPExpect{}, true, upstate.OutcomeOK, 200, ""},
		{"redirect refused", "/redirect", HTTPExpect{}, false, upstate.OutcomeFail, 302, "redirect (status 302 to /ok) not followed"},
		{"redirect expected", "/redirect", HTTPExpect{Status: []int{302}}, false, upstate.OutcomeOK, 302, ""},
		{"cert days on plain http", "/ok", HTTPExpect{CertDaysLeft: 10}, true, upstate.OutcomeFail, 200, "no TLS certificate to check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHTTP(srv.URL+tt.path, tt.expect)
			h.FollowRedirects = tt.follow
			r := h.Probe(context.Background())
			if r.Outcome != tt.outcome || r.StatusCode != tt.code || !strings.Contains(r.Error, tt.err) || (tt.err == "" && r.Error != "") {
				t.Errorf("got %s %d %q, want %s %d %q", r.Outcome, r.StatusCode, r.Error, tt.outcome, tt.code, tt.err)
			}
			if r.CheckID != "h" || r.At.IsZero() {
				t.Errorf("result lacks id or time: %+v", r)
			}
		})
	}

	t.Run("method headers body", func(t *testing.T) {
		h := newHTTP(srv.URL+"/echo", HTTPExpect{BodyContains: "POST yes payload"})
		h.Method, h.Header, h.Body = "POST", http.Header{"X-Probe": {"yes"}}, []byte("payload")
		if r := h.Probe(context.Background()); r.Outcome != upstate.OutcomeOK {
			t.Errorf("got %+v", r)
		}
	})
}

func TestHTTPSlowIsDegradedNotDown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	h := newHTTP(srv.URL, HTTPExpect{LatencyUnder: 2 * time.Second})
	// Every reading of the clock moves it 3 s: the probe measures 3 s.
	h.Clock = &stepClock{now: time.Unix(0, 0), step: 3 * time.Second}
	r := h.Probe(context.Background())
	if r.Outcome != upstate.OutcomeSlow || r.Latency != 3*time.Second || r.Error != "slower than 2.00 s" {
		t.Errorf("got %+v", r)
	}
}

func TestHTTPTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	fake := clock.NewFake(time.Unix(0, 0))
	h := newHTTP(srv.URL, HTTPExpect{})
	h.Clock, h.Timeout = fake, 10*time.Second
	done := make(chan upstate.Result)
	go func() { done <- h.Probe(context.Background()) }()
	// The deadline is on the fake clock: nothing times out until it moves.
	for fake.Pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	fake.Advance(10 * time.Second)
	r := <-done
	if r.Outcome != upstate.OutcomeFail || r.Error != "timed out after 10.0 s" {
		t.Errorf("got %+v", r)
	}
}

func TestHTTPBadTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	r := newHTTP(srv.URL, HTTPExpect{}).Probe(context.Background())
	if r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Error, "TLS certificate not trusted") {
		t.Errorf("self-signed certificate: got %+v", r)
	}
	// Trusting it, the certificate's expiry can be asserted: httptest's
	// certificate is valid for decades, so 36500 days left is too few,
	// which warns (operators only) and does not fail the check.
	h := newHTTP(srv.URL, HTTPExpect{CertDaysLeft: 36500 * 3})
	h.Client = srv.Client()
	r = h.Probe(context.Background())
	if r.Outcome != upstate.OutcomeOK || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].What, "TLS certificate of "+srv.Listener.Addr().String()+" expires in") ||
		r.Warnings[0].Key != "certificate" || r.Warnings[0].Stage != 36500*3 {
		t.Errorf("cert days: got %+v", r)
	}
	// cert_fail_days is what fails it (cert_days_left's old meaning).
	h.Expect.CertFailDays = 36500 * 2
	if r := h.Probe(context.Background()); r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Error, "under fail_days 73000") || len(r.Warnings) != 0 {
		t.Errorf("cert fail days: got %+v", r)
	}
	h.Expect.CertDaysLeft, h.Expect.CertFailDays = 30, 0
	if r := h.Probe(context.Background()); r.Outcome != upstate.OutcomeOK || len(r.Warnings) != 0 {
		t.Errorf("cert with plenty of days: got %+v", r)
	}
	// Speaking TLS to a plain HTTP port.
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	r = newHTTP(strings.Replace(plain.URL, "http:", "https:", 1), HTTPExpect{}).Probe(context.Background())
	if r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Error, "does not speak TLS") {
		t.Errorf("TLS to plain port: got %+v", r)
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestHTTPClosedPort(t *testing.T) {
	r := newHTTP("http://"+closedPort(t)+"/", HTTPExpect{}).Probe(context.Background())
	if r.Outcome != upstate.OutcomeFail || r.Error != "connection refused" {
		t.Errorf("got %+v", r)
	}
}

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if r := (&TCP{ID: "t", Address: ln.Addr().String(), Timeout: time.Second, Clock: clock.Real{}}).Probe(context.Background()); r.Outcome != upstate.OutcomeOK {
		t.Errorf("open port: %+v", r)
	}
	if r := (&TCP{ID: "t", Address: closedPort(t), Timeout: time.Second, Clock: clock.Real{}}).Probe(context.Background()); r.Outcome != upstate.OutcomeFail || r.Error != "connection refused" {
		t.Errorf("closed port: %+v", r)
	}
	dial := func(context.Context, string, string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "db.internal", IsNotFound: true}
	}
	if r := (&TCP{ID: "t", Address: "db.internal:5432", Timeout: time.Second, Clock: clock.Real{}, Dial: dial}).Probe(context.Background()); r.Error != "DNS: no such host db.internal" {
		t.Errorf("unknown host: %+v", r)
	}
}

type fakeResolver struct {
	ips   []net.IPAddr
	cname string
	mx    []*net.MX
	txt   []string
	ns    []*net.NS
	err   error
}

func (f fakeResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	return f.ips, f.err
}
func (f fakeResolver) LookupCNAME(context.Context, string) (string, error) { return f.cname, f.err }
func (f fakeResolver) LookupMX(context.Context, string) ([]*net.MX, error) { return f.mx, f.err }
func (f fakeResolver) LookupTXT(context.Context, string) ([]string, error) { return f.txt, f.err }
func (f fakeResolver) LookupNS(context.Context, string) ([]*net.NS, error) { return f.ns, f.err }

func TestDNS(t *testing.T) {
	res := fakeResolver{
		ips:   []net.IPAddr{{IP: net.ParseIP("192.0.2.10")}, {IP: net.ParseIP("2001:db8::1")}},
		cname: "edge.example.net.",
		mx:    []*net.MX{{Host: "mx1.example.com.", Pref: 10}},
		txt:   []string{"v=spf1 -all"},
		ns:    []*net.NS{{Host: "ns1.example.com."}},
	}
	tests := []struct {
		typ     string
		answers []string
		res     Resolver
		want    string // "" for ok, else part of the error
	}{
		{"A", []string{"192.0.2.10"}, res, ""},
		{"A", []string{"192.0.2.99"}, res, "example.com A answered 192.0.2.10, missing 192.0.2.99"},
		{"AAAA", []string{"2001:db8::1"}, res, ""},
		{"CNAME", []string{"EDGE.example.net"}, res, ""},
		{"MX", []string{"mx1.example.com"}, res, ""},
		{"TXT", []string{"v=spf1 -all"}, res, ""},
		{"NS", []string{"ns2.example.com"}, res, "missing ns2.example.com"},
		{"A", nil, fakeResolver{}, "no A records for example.com"},
		{"A", nil, fakeResolver{err: &net.DNSError{Err: "server misbehaving", Name: "example.com"}}, "DNS: server misbehaving"},
	}
	for _, tt := range tests {
		d := &DNS{ID: "d", Host: "example.com", RecordType: tt.typ, Answers: tt.answers, Timeout: time.Second, Resolver: tt.res, Clock: clock.Real{}}
		r := d.Probe(context.Background())
		if tt.want == "" && r.Outcome != upstate.OutcomeOK || tt.want != "" && (r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Error, tt.want)) {
			t.Errorf("%s %v: got %s %q, want %q", tt.typ, tt.answers, r.Outcome, r.Error, tt.want)
		}
	}
}

// TestDNSLocalResolver asks a real resolver: a tiny DNS server on loopback
// answering one A record, through NewResolver's direct dial.
func TestDNSLocalResolver(t *testing.T) {
	srv := dnstest.Start(t, netip.MustParseAddr("192.0.2.7"))
	d := &DNS{ID: "d", Host: "status.example.", RecordType: "A", Answers: []string{"192.0.2.7"}, Timeout: 2 * time.Second,
		Resolver: NewResolver(srv.Addr()), Clock: clock.Real{}}
	if r := d.Probe(context.Background()); r.Outcome != upstate.OutcomeOK {
		t.Errorf("got %+v", r)
	}
}

func TestHeartbeat(t *testing.T) {
	start := time.Date(2026, 8, 17, 2, 0, 0, 0, time.UTC)
	fake := clock.NewFake(start)
	beats := NewBeats()
	h := &Heartbeat{ID: "nightly", Period: 24 * time.Hour, Grace: time.Hour, Beats: beats, Started: start, Clock: fake}
	fake.Advance(24 * time.Hour)
	if r := h.Probe(context.Background()); !r.OK() {
		t.Errorf("within period+grace of start: %+v", r)
	}
	fake.Advance(90 * time.Minute)
	r := h.Probe(context.Background())
	if r.OK() || !strings.Contains(r.Error, "no heartbeat received in 25h30m0s") {
		t.Errorf("never called in: %+v", r)
	}
	beats.Beat("nightly", fake.Now())
	if r := h.Probe(context.Background()); !r.OK() {
		t.Errorf("right after a beat: %+v", r)
	}
	beats.Beat("nightly", fake.Now().Add(-time.Hour)) // a late, older ping does not move time back
	fake.Advance(25*time.Hour + time.Second)
	r = h.Probe(context.Background())
	if r.OK() || !strings.Contains(r.Error, "no heartbeat since 2026-08-18T03:30:00Z, 25h0m0s ago (expected every 24h0m0s, grace 1h0m0s)") {
		t.Errorf("silent too long: %+v", r)
	}
}

func TestJSONPath(t *testing.T) {
	doc := map[string]any{"a": []any{map[string]any{"b": 1.0}}}
	if _, err := JSONPath(doc, "a[3].b"); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("err = %v", err)
	}
	if _, err := JSONPath(doc, "a.b"); err == nil {
		t.Error("object access on a list should fail")
	}
	if v, err := JSONPath(doc, "$.a[0].b"); err != nil || v != 1.0 {
		t.Errorf("v = %v, err = %v", v, err)
	}
	if _, err := JSONPath(doc, "a[x]"); err == nil || errors.Is(err, nil) {
		t.Error("bad index should fail")
	}
}
