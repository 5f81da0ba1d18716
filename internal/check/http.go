package check

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// maxBody is how much of an answer an HTTP check reads for its assertions.
const maxBody = 1 << 20

// httpKind probes a URL and asserts on the answer.
func httpKind() Kind {
	return Kind{Name: "http", New: func() Section { return &HTTPSection{} }, Repeat: true}
}

// HTTPSection is an http check's configuration.
type HTTPSection struct {
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	// FollowRedirects defaults to true.
	FollowRedirects    *bool             `yaml:"follow_redirects"`
	InsecureSkipVerify bool              `yaml:"insecure_skip_verify"`
	Expect             HTTPExpectSection `yaml:"expect"`
}

// HTTPExpectSection is what an http check's answer must look like.
type HTTPExpectSection struct {
	Status       []int           `yaml:"status"`
	LatencyUnder time.Duration   `yaml:"latency_under"`
	BodyContains string          `yaml:"body_contains"`
	BodyRegex    string          `yaml:"body_regex"`
	JSON         []JSONAssertion `yaml:"json"`
	// CertDaysLeft warns (operators only) when the TLS certificate has
	// fewer days left: the warn_days of tls and smtp checks.
	CertDaysLeft int `yaml:"cert_days_left"`
	// CertFailDays fails the check when it has fewer days left (0: once
	// expired): their fail_days.
	CertFailDays int `yaml:"cert_fail_days"`
}

// Validate implements Section: an http check checks itself once the
// common fields are settled (ValidateSettled).
func (s *HTTPSection) Validate(Validator, *Common) {}

var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// ValidateSettled implements Settled.
func (s *HTTPSection) ValidateSettled(v Validator, c Common) {
	if s.URL == "" {
		v.Errorf("", "url is required for http checks")
	} else if !upstate.IsHTTPURL(s.URL) {
		v.Errorf("url", "%q is not an http(s) URL", s.URL)
	}
	if s.Method == "" {
		s.Method = http.MethodGet
	}
	s.Method = strings.ToUpper(s.Method)
	if !slices.Contains(methods, s.Method) {
		v.Errorf("method", "%q is not an HTTP method (one of %s)", s.Method, strings.Join(methods, ", "))
	}
	for name := range s.Headers {
		if name == "" || strings.ContainsAny(name, " :\r\n") {
			v.Errorf("headers", "%q is not a header name", name)
		}
	}
	for j, st := range s.Expect.Status {
		if st < 100 || st > 599 {
			v.Errorf(fmt.Sprintf("expect.status[%d]", j), "%d is not an HTTP status code", st)
		}
	}
	if s.Expect.BodyRegex != "" {
		if _, err := regexp.Compile(s.Expect.BodyRegex); err != nil {
			v.Errorf("expect.body_regex", "does not compile: %v", err)
		}
	}
	for j, je := range s.Expect.JSON {
		if je.Path == "" {
			v.Errorf(fmt.Sprintf("expect.json[%d]", j), "path is required (e.g. status or data.items[0].state)")
		}
	}
	if s.Expect.CertDaysLeft < 0 {
		v.Errorf("expect.cert_days_left", "must not be negative")
	}
	if s.Expect.CertFailDays < 0 {
		v.Errorf("expect.cert_fail_days", "must not be negative")
	} else if s.Expect.CertDaysLeft > 0 && s.Expect.CertFailDays >= s.Expect.CertDaysLeft {
		v.Errorf("expect.cert_fail_days", "%d must be fewer than cert_days_left %d, or the check would fail before it warns", s.Expect.CertFailDays, s.Expect.CertDaysLeft)
	}
	latencyUnder(v, s.Expect.LatencyUnder, c.Timeout)
}

// latencyUnder checks a latency bound against the timeout: an answer
// slower than the timeout is no answer.
func latencyUnder(v Validator, d, timeout time.Duration) {
	if d < 0 || (d > 0 && d >= timeout) {
		v.Errorf("expect.latency_under", "%s must be shorter than the timeout %s", d, timeout)
	}
}

// Prober implements Section.
func (s *HTTPSection) Prober(c Common, env Env) (Prober, error) {
	h := &HTTP{
		ID: c.ID, Method: s.Method, URL: s.URL, Timeout: c.Timeout,
		FollowRedirects: s.FollowRedirects == nil || *s.FollowRedirects,
		Client:          env.Client, Clock: env.Clock,
	}
	if s.InsecureSkipVerify {
		h.Client = env.Insecure
	}
	if len(s.Headers) > 0 { // most checks have none: no map each
		h.Header = make(http.Header, len(s.Headers))
	}
	for k, v := range s.Headers {
		h.Header.Set(k, v)
	}
	if s.Body != "" {
		h.Body = []byte(s.Body)
	}
	x := s.Expect
	e := HTTPExpect{Status: x.Status, LatencyUnder: x.LatencyUnder, BodyContains: x.BodyContains, CertDaysLeft: x.CertDaysLeft, CertFailDays: x.CertFailDays}
	if x.BodyRegex != "" {
		re, err := regexp.Compile(x.BodyRegex)
		if err != nil {
			return nil, err
		}
		e.BodyRegex = re
	}
	for _, j := range x.JSON {
		e.JSON = append(e.JSON, JSONAssertion{Path: j.Path, Equals: j.Equals})
	}
	if !e.none() { // most checks expect a 2xx and nothing more: no HTTPExpect each
		h.Expect = &e
	}
	return h, nil
}

// HTTP probes a URL and asserts on the answer.
type HTTP struct {
	ID      string
	Method  string
	URL     string
	Header  http.Header
	Body    []byte
	Timeout time.Duration
	// FollowRedirects follows up to 10 redirects; when false a redirect is
	// the answer and is judged by Expect like any other.
	FollowRedirects bool
	// Expect is nil for a 2xx and nothing more, as most checks ask: at
	// 100,000 checks an HTTPExpect each was 9.6 MB of zeros.
	Expect *HTTPExpect
	// Client sends the requests; share one so connections are kept alive.
	Client *http.Client
	Clock  clock.Clock
}

// HTTPExpect is what a healthy answer looks like. Zero values assert nothing,
// except Status, which defaults to any 2xx.
type HTTPExpect struct {
	Status       []int
	LatencyUnder time.Duration // slower answers are "slow", not failures
	BodyContains string
	BodyRegex    *regexp.Regexp
	JSON         []JSONAssertion
	// CertDaysLeft, when positive, warns when the certificate has fewer
	// days left, and CertFailDays fails the check (0: once expired);
	// either looks at the certificate (see CertDays).
	CertDaysLeft int
	CertFailDays int
}

// JSONAssertion asserts the value at Path (dots and [i] indexes, an
// optional leading "$.") equals Equals, compared as JSON values.
type JSONAssertion struct {
	Path   string `yaml:"path"`
	Equals any    `yaml:"equals"`
}

var errRedirect = errors.New("redirect not followed")

// maxIdle bounds the idle connections a client keeps, over every host.
const maxIdle = 1024

// NewHTTPClient returns the client HTTP checks share: keep-alive
// connections pooled per host, proxies from the environment ignored
// (probes measure the target, not a proxy), and redirect handling left to
// each check. insecure skips certificate verification. idlePerHost is
// how many idle connections a host keeps: as many as its checks' probes
// that start together, or each start dials again (at 100,000 checks on a
// few hosts, 32 made half the probes dial: a third of all the memory the
// server allocated). Idle connections are bounded in all (maxIdle), so
// 100,000 checks of as many hosts do not keep 100,000 open; past that
// many hosts the least recently used is closed, and a probe of its host
// connects afresh (its latency then counts the connecting, as it does for
// any host probed less often than the idle timeout).
func NewHTTPClient(insecure bool, idlePerHost int, dial DialFunc) *http.Client {
	tr := &http.Transport{
		DialContext:         dial,
		MaxIdleConns:        maxIdle,
		MaxIdleConnsPerHost: idlePerHost,
		IdleConnTimeout:     5 * time.Minute,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // opt-in per check
	}
	return &http.Client{Transport: tr}
}

// DialFunc opens connections; nil means the operating system's network.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

var (
	_ Aimed   = (*HTTP)(nil)
	_ Bounded = (*HTTP)(nil)
)

// Target implements Aimed: the URL's host and port.
func (h *HTTP) Target() string {
	u, err := url.Parse(h.URL)
	if err != nil {
		return h.URL
	}
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// LatencyBound implements Bounded.
func (h *HTTP) LatencyBound() time.Duration { return h.expect().LatencyUnder }

// expect is what the check expects, the zero HTTPExpect for nil.
func (h *HTTP) expect() HTTPExpect {
	if h.Expect == nil {
		return HTTPExpect{}
	}
	return *h.Expect
}

// none reports whether e asks for nothing beyond a 2xx.
func (e *HTTPExpect) none() bool {
	return len(e.Status) == 0 && e.LatencyUnder == 0 && e.BodyContains == "" && e.BodyRegex == nil && len(e.JSON) == 0 && e.CertDaysLeft == 0 && e.CertFailDays == 0
}

// Probe implements Prober.
func (h *HTTP) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, h.Clock, h.Timeout)
	defer cancel()
	var body io.Reader
	if h.Body != nil {
		body = bytes.NewReader(h.Body)
	}
	t := startTiming(h.Clock)
	req, err := http.NewRequestWithContext(ctx, h.Method, h.URL, body)
	if err != nil {
		return fail(t.result(h.ID), "bad request: "+err.Error())
	}
	for k, v := range h.Header {
		req.Header[k] = v
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "Upstate/1 (+status checks)")
	}
	client := *h.Client
	redirects := 0
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !h.FollowRedirects {
			return http.ErrUseLastResponse
		}
		redirects++
		if redirects > 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		r := t.result(h.ID)
		return fail(r, describeHTTPErr(ctx, err, h.Timeout))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	r := t.result(h.ID)
	r.StatusCode = resp.StatusCode
	if err != nil {
		return fail(r, "reading the answer: "+describeHTTPErr(ctx, err, h.Timeout))
	}
	// Drain a little more so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)

	if msg := h.assert(resp, data); msg != "" {
		return fail(r, msg)
	}
	if resp.TLS != nil {
		r.CertExpiry = certExpiry(resp.TLS.PeerCertificates)
	}
	e := h.expect()
	if e.CertDaysLeft > 0 || e.CertFailDays > 0 {
		if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
			return fail(r, "no TLS certificate to check (is the URL https?)")
		}
		days := CertDays{Warn: e.CertDaysLeft, Fail: e.CertFailDays}
		msg, w := days.judge(h.ID, resp.Request.URL.Host, resp.TLS.PeerCertificates, h.Clock.Now())
		if msg != "" {
			return fail(r, msg)
		}
		r = withWarning(r, w)
	}
	if e.LatencyUnder > 0 && r.Latency >= e.LatencyUnder {
		r.Outcome = upstate.OutcomeSlow
		r.Error = fmt.Sprintf("slower than %s", upstate.FormatLatency(e.LatencyUnder))
	}
	return r
}

func (h *HTTP) assert(resp *http.Response, body []byte) string {
	e := h.expect()
	if len(e.Status) > 0 {
		if !slices.Contains(e.Status, resp.StatusCode) {
			return fmt.Sprintf("status %d, expected %s", resp.StatusCode, joinInts(e.Status))
		}
	} else if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return fmt.Sprintf("redirect (status %d to %s) not followed", resp.StatusCode, resp.Header.Get("Location"))
		}
		return fmt.Sprintf("status %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if e.BodyContains != "" && !bytes.Contains(body, []byte(e.BodyContains)) {
		return fmt.Sprintf("body does not contain %q", e.BodyContains)
	}
	if e.BodyRegex != nil && !e.BodyRegex.Match(body) {
		return fmt.Sprintf("body does not match /%s/", e.BodyRegex)
	}
	if len(e.JSON) > 0 {
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			return "body is not JSON: " + err.Error()
		}
		for _, a := range e.JSON {
			got, err := JSONPath(doc, a.Path)
			if err != nil {
				return fmt.Sprintf("JSON %s: %v", a.Path, err)
			}
			if !jsonEqual(got, a.Equals) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(a.Equals)
				return fmt.Sprintf("JSON %s is %s, expected %s", a.Path, g, w)
			}
		}
	}
	return ""
}

func describeHTTPErr(ctx context.Context, err error, timeout time.Duration) string {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return "TLS certificate not trusted: " + cv.Err.Error()
	}
	var he x509.HostnameError
	if errors.As(err, &he) {
		return "TLS certificate is for another host: " + he.Error()
	}
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return "TLS handshake failed: the server does not speak TLS"
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return "TLS handshake failed: the server does not speak TLS (it answered in plain HTTP)"
	}
	if strings.Contains(err.Error(), "stopped after 10 redirects") {
		return "too many redirects (more than 10)"
	}
	return describeErr(ctx, err, timeout)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " or ")
}

// JSONPath finds the value at a dotted path with [i] indexes in a decoded
// JSON document: "status", "$.data.items[0].state".
func JSONPath(doc any, path string) (any, error) {
	p := strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	cur := doc
	for p != "" {
		var key string
		if p[0] == '[' {
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in path")
			}
			i, err := strconv.Atoi(p[1:end])
			if err != nil {
				return nil, fmt.Errorf("index %q is not a number", p[1:end])
			}
			arr, ok := cur.([]any)
			if !ok {
				return nil, fmt.Errorf("not a list at [%d]", i)
			}
			if i < 0 || i >= len(arr) {
				return nil, fmt.Errorf("index %d out of range (length %d)", i, len(arr))
			}
			cur = arr[i]
			p = strings.TrimPrefix(p[end+1:], ".")
			continue
		}
		end := strings.IndexAny(p, ".[")
		if end < 0 {
			key, p = p, ""
		} else {
			key, p = p[:end], strings.TrimPrefix(p[end:], ".")
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object at %q", key)
		}
		v, ok := obj[key]
		if !ok {
			return nil, fmt.Errorf("no key %q", key)
		}
		cur = v
	}
	return cur, nil
}

// jsonEqual compares a decoded JSON value with a configured one, treating
// numbers by value whatever their Go type.
func jsonEqual(got, want any) bool {
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(normalise(want))
	if err1 != nil || err2 != nil {
		return false
	}
	var gv, wv any
	_ = json.Unmarshal(g, &gv)
	_ = json.Unmarshal(w, &wv)
	gb, _ := json.Marshal(gv)
	wb, _ := json.Marshal(wv)
	return bytes.Equal(gb, wb)
}

// normalise turns YAML-decoded maps (map[string]any with any keys) into
// JSON-marshalable values.
func normalise(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, val := range x {
			m[fmt.Sprint(k)] = normalise(val)
		}
		return m
	case map[string]any:
		for k, val := range x {
			x[k] = normalise(val)
		}
		return x
	case []any:
		for i := range x {
			x[i] = normalise(x[i])
		}
	}
	return v
}
