package check

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// websocketKind connects to a WebSocket endpoint and, optionally, sends a
// message and judges the reply.
func websocketKind() Kind {
	return Kind{Name: "websocket", New: func() Section { return &WebSocketSection{} }, Repeat: true}
}

// WebSocketSection is a websocket check's configuration.
type WebSocketSection struct {
	URL     string            `yaml:"url"` // ws:// or wss://
	Headers map[string]string `yaml:"headers"`
	// Send is a text message sent once connected.
	Send               string                 `yaml:"send"`
	InsecureSkipVerify bool                   `yaml:"insecure_skip_verify"`
	Expect             WebSocketExpectSection `yaml:"expect"`
}

// WebSocketExpectSection is what a websocket check's answer must look like.
type WebSocketExpectSection struct {
	// ReplyRegex is matched against the first message that arrives (after
	// Send, when set).
	ReplyRegex   string        `yaml:"reply_regex"`
	LatencyUnder time.Duration `yaml:"latency_under"`
}

// Validate implements Section: the latency bound is checked once the
// timeout is settled (ValidateSettled).
func (s *WebSocketSection) Validate(v Validator, _ *Common) {
	if s.URL == "" {
		v.Errorf("", "url is required for websocket checks (ws:// or wss://)")
	} else if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		v.Errorf("url", "%q is not a ws:// or wss:// URL", s.URL)
	}
	for name := range s.Headers {
		if name == "" || strings.ContainsAny(name, " :\r\n") {
			v.Errorf("headers", "%q is not a header name", name)
		}
	}
	if s.Expect.ReplyRegex != "" {
		if _, err := regexp.Compile(s.Expect.ReplyRegex); err != nil {
			v.Errorf("expect.reply_regex", "does not compile: %v", err)
		}
	}
}

// ValidateSettled implements Settled.
func (s *WebSocketSection) ValidateSettled(v Validator, c Common) {
	latencyUnder(v, s.Expect.LatencyUnder, c.Timeout)
}

// Prober implements Section.
func (s *WebSocketSection) Prober(c Common, env Env) (Prober, error) {
	w := &WebSocket{ID: c.ID, URL: s.URL, Header: http.Header{}, Send: s.Send, LatencyUnder: s.Expect.LatencyUnder, Timeout: c.Timeout, Clock: env.Clock}
	for k, v := range s.Headers {
		w.Header.Set(k, v)
	}
	if s.Expect.ReplyRegex != "" {
		re, err := regexp.Compile(s.Expect.ReplyRegex)
		if err != nil {
			return nil, err
		}
		w.Reply = re
	}
	// Its own client: a WebSocket handshake is HTTP/1.1, which the shared
	// client (HTTP/2 first) would not offer over TLS.
	w.Client = &http.Client{Transport: &http.Transport{DialContext: env.Dial, TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: s.InsecureSkipVerify}}} //nolint:gosec // opt-in per check
	return w, nil
}

// WebSocket connects, optionally sends a message and judges the first
// message that comes back; latency is the whole exchange.
type WebSocket struct {
	ID     string
	URL    string
	Header http.Header
	Send   string
	// Reply, when set, must match the first message received.
	Reply        *regexp.Regexp
	LatencyUnder time.Duration
	Timeout      time.Duration
	Client       *http.Client
	Clock        clock.Clock
}

// Target implements Aimed: the URL's host and port.
func (w *WebSocket) Target() string {
	u, err := url.Parse(w.URL)
	if err != nil {
		return w.URL
	}
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "wss" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// LatencyBound implements Bounded.
func (w *WebSocket) LatencyBound() time.Duration { return w.LatencyUnder }

// maxReply is how much of a reply a websocket check reads.
const maxReply = 1 << 20

// Probe implements Prober.
func (w *WebSocket) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, w.Clock, w.Timeout)
	defer cancel()
	t := startTiming(w.Clock)
	header := w.Header.Clone()
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", "Upstate/1 (+status checks)")
	}
	c, resp, err := websocket.Dial(ctx, w.URL, &websocket.DialOptions{HTTPClient: w.Client, HTTPHeader: header})
	if err != nil {
		r := t.result(w.ID)
		if resp != nil {
			r.StatusCode = resp.StatusCode
			return fail(r, fmt.Sprintf("the server refused the WebSocket upgrade (HTTP %d %s)", resp.StatusCode, http.StatusText(resp.StatusCode)))
		}
		return fail(r, describeHTTPErr(ctx, err, w.Timeout))
	}
	defer c.CloseNow()
	c.SetReadLimit(maxReply)
	if w.Send != "" {
		if err := c.Write(ctx, websocket.MessageText, []byte(w.Send)); err != nil {
			return fail(t.result(w.ID), "sending the message: "+w.describe(ctx, err))
		}
	}
	if w.Reply != nil {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return fail(t.result(w.ID), "waiting for a reply: "+w.describe(ctx, err))
		}
		if !w.Reply.Match(msg) {
			return fail(t.result(w.ID), fmt.Sprintf("reply %s does not match /%s/", quoteShort(msg), w.Reply))
		}
	}
	r := t.result(w.ID)
	_ = c.Close(websocket.StatusNormalClosure, "")
	if w.LatencyUnder > 0 && r.Latency >= w.LatencyUnder {
		r.Outcome = upstate.OutcomeSlow
		r.Error = "slower than " + upstate.FormatLatency(w.LatencyUnder)
	}
	return r
}

func (w *WebSocket) describe(ctx context.Context, err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Reason != "" {
			return fmt.Sprintf("the server closed the connection (%d %s)", int(ce.Code), ce.Reason)
		}
		return fmt.Sprintf("the server closed the connection (%d)", int(ce.Code))
	}
	if ctx.Err() != nil {
		return describeErr(ctx, ctx.Err(), w.Timeout)
	}
	return describeErr(ctx, err, w.Timeout)
}

// quoteShort quotes a message for evidence, cut at 120 bytes.
func quoteShort(b []byte) string {
	if len(b) > 120 {
		return fmt.Sprintf("%q…", b[:120])
	}
	return fmt.Sprintf("%q", b)
}
