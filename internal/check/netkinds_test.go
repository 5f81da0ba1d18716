package check

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/certtest"
	"github.com/upstatehq/upstate/internal/clock"
)

// grpcServer runs a gRPC server on loopback until the test ends, with the
// health service hs (none when nil).
func grpcServer(t *testing.T, hs healthpb.HealthServer, opts ...grpc.ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	if hs != nil {
		healthpb.RegisterHealthServer(s, hs)
	}
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	return ln.Addr().String()
}

// unknownHealth answers SERVICE_UNKNOWN, as a Watch does for a service
// it does not know; some servers answer Check so too.
type unknownHealth struct {
	healthpb.UnimplementedHealthServer
}

func (unknownHealth) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVICE_UNKNOWN}, nil
}

func TestGRPCCheck(t *testing.T) {
	hs := health.NewServer()
	hs.SetServingStatus("users.v1.Users", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("billing.v1.Billing", healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus("search.v1.Search", healthpb.HealthCheckResponse_UNKNOWN)
	plain := grpcServer(t, hs)

	now := time.Now()
	ca := certtest.NewCA(t, now)
	secured := grpcServer(t, hs, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{ca.Leaf(now.Add(90*24*time.Hour), "127.0.0.1")}})))
	bare := grpcServer(t, nil)
	unknown := grpcServer(t, unknownHealth{})
	caFile := ca.File()

	tests := []struct {
		name    string
		section GRPCSection
		outcome upstate.Outcome
		err     string
	}{
		{"the server as a whole", GRPCSection{Address: plain}, upstate.OutcomeOK, ""},
		{"a serving service", GRPCSection{Address: plain, Service: "users.v1.Users"}, upstate.OutcomeOK, ""},
		{"NOT_SERVING is down", GRPCSection{Address: plain, Service: "billing.v1.Billing"}, upstate.OutcomeFail, `service "billing.v1.Billing" is NOT_SERVING`},
		{"UNKNOWN is down", GRPCSection{Address: plain, Service: "search.v1.Search"}, upstate.OutcomeFail,
			`the health service cannot tell whether service "search.v1.Search" is serving (UNKNOWN)`},
		{"a service it does not know", GRPCSection{Address: plain, Service: "nope.v1.Nope"}, upstate.OutcomeFail,
			`the health service does not know service "nope.v1.Nope" (NotFound)`},
		{"SERVICE_UNKNOWN is down", GRPCSection{Address: unknown, Service: "x"}, upstate.OutcomeFail, `the health service does not know service "x" (SERVICE_UNKNOWN)`},
		{"no health service", GRPCSection{Address: bare}, upstate.OutcomeFail, "the server does not implement grpc.health.v1.Health (Unimplemented)"},
		{"TLS with ca_file", GRPCSection{Address: secured, TLS: true, CAFile: caFile, Service: "users.v1.Users"}, upstate.OutcomeOK, ""},
		{"TLS, insecure_skip_verify", GRPCSection{Address: secured, TLS: true, InsecureSkipVerify: true}, upstate.OutcomeOK, ""},
		{"TLS not trusted", GRPCSection{Address: secured, TLS: true}, upstate.OutcomeFail, "TLS: "},
		{"TLS to a plaintext server", GRPCSection{Address: plain, TLS: true, InsecureSkipVerify: true}, upstate.OutcomeFail, "TLS handshake failed"},
		{"refused", GRPCSection{Address: closedPort(t)}, upstate.OutcomeFail, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.section
			r := sectionProber(t, &s, Common{ID: "g"}, Env{Clock: clock.Real{}}).Probe(context.Background())
			if r.Outcome != tt.outcome || !strings.Contains(r.Error, tt.err) {
				t.Errorf("got %s %q, want %s with %q", r.Outcome, r.Error, tt.outcome, tt.err)
			}
		})
	}
	t.Run("validation", func(t *testing.T) {
		v := &problems{}
		(&GRPCSection{Address: "api:443", InsecureSkipVerify: true}).Validate(v, &Common{})
		(&GRPCSection{}).Validate(v, &Common{})
		if want := "tls: is off, so server_name, ca_file and insecure_skip_verify mean nothing: set tls: true; address is required for grpc checks (host:port)"; strings.Join(v.errs, "; ") != want {
			t.Errorf("got %q", v.errs)
		}
	})
}

// echoServer is a WebSocket server on loopback: it echoes each message,
// or greets first when greet is set.
func echoHandler(greet string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		if greet != "" {
			_ = c.Write(ctx, websocket.MessageText, []byte(greet))
		}
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if string(msg) == "bye" {
				c.Close(websocket.StatusPolicyViolation, "not today")
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})
}

func TestWebSocketCheck(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/echo", echoHandler(""))
	mux.Handle("/greet", echoHandler(`{"hello":"upstate","version":3}`))
	mux.Handle("/needs-token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0k" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		echoHandler("").ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	secure := httptest.NewTLSServer(mux)
	defer secure.Close()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http")
	wss := "wss" + strings.TrimPrefix(secure.URL, "https")

	tests := []struct {
		name    string
		section WebSocketSection
		outcome upstate.Outcome
		err     string
		code    int
	}{
		{"connects", WebSocketSection{URL: ws + "/echo"}, upstate.OutcomeOK, "", 0},
		{"echo matches", WebSocketSection{URL: ws + "/echo", Send: "ping 42", Expect: WebSocketExpectSection{ReplyRegex: `^ping \d+$`}}, upstate.OutcomeOK, "", 0},
		{"a reply that does not match", WebSocketSection{URL: ws + "/echo", Send: "pong", Expect: WebSocketExpectSection{ReplyRegex: `^ping`}}, upstate.OutcomeFail,
			`reply "pong" does not match /^ping/`, 0},
		{"a greeting, nothing sent", WebSocketSection{URL: ws + "/greet", Expect: WebSocketExpectSection{ReplyRegex: `"version":3`}}, upstate.OutcomeOK, "", 0},
		{"the server closes", WebSocketSection{URL: ws + "/echo", Send: "bye", Expect: WebSocketExpectSection{ReplyRegex: "."}}, upstate.OutcomeFail,
			"waiting for a reply: the server closed the connection (1008 not today)", 0},
		{"headers", WebSocketSection{URL: ws + "/needs-token", Headers: map[string]string{"Authorization": "Bearer t0k"}}, upstate.OutcomeOK, "", 0},
		{"upgrade refused", WebSocketSection{URL: ws + "/needs-token"}, upstate.OutcomeFail, "the server refused the WebSocket upgrade (HTTP 401 Unauthorized)", 401},
		{"not a WebSocket endpoint", WebSocketSection{URL: ws + "/nothing"}, upstate.OutcomeFail, "(HTTP 404 Not Found)", 404},
		{"wss not trusted", WebSocketSection{URL: wss + "/echo"}, upstate.OutcomeFail, "TLS certificate not trusted", 0},
		{"wss, insecure_skip_verify", WebSocketSection{URL: wss + "/echo", Send: "x", InsecureSkipVerify: true, Expect: WebSocketExpectSection{ReplyRegex: "^x$"}},
			upstate.OutcomeOK, "", 0},
		{"refused", WebSocketSection{URL: "ws://" + closedPort(t) + "/"}, upstate.OutcomeFail, "connection refused", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.section
			r := sectionProber(t, &s, Common{ID: "ws"}, Env{Clock: clock.Real{}}).Probe(context.Background())
			if r.Outcome != tt.outcome || !strings.Contains(r.Error, tt.err) || r.StatusCode != tt.code {
				t.Errorf("got %s %d %q, want %s %d with %q", r.Outcome, r.StatusCode, r.Error, tt.outcome, tt.code, tt.err)
			}
		})
	}
	t.Run("slow", func(t *testing.T) {
		s := &WebSocketSection{URL: ws + "/echo", Send: "x", Expect: WebSocketExpectSection{ReplyRegex: "x", LatencyUnder: 300 * time.Millisecond}}
		// Every reading of this clock is 400 ms after the last.
		r := sectionProber(t, s, Common{ID: "ws"}, Env{Clock: &stepClock{now: time.Now(), step: 400 * time.Millisecond}}).Probe(context.Background())
		if r.Outcome != upstate.OutcomeSlow || r.Error != "slower than 300 ms" {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("validation", func(t *testing.T) {
		v := &problems{}
		(&WebSocketSection{URL: "https://example.com/socket", Expect: WebSocketExpectSection{ReplyRegex: "("}}).Validate(v, &Common{})
		got := strings.Join(v.errs, "; ")
		if !strings.Contains(got, `url: "https://example.com/socket" is not a ws:// or wss:// URL`) || !strings.Contains(got, "expect.reply_regex: does not compile") {
			t.Errorf("got %q", got)
		}
	})
}

func TestICMPCheckOnLoopback(t *testing.T) {
	conn, err := ListenICMP(false)
	if errors.Is(err, ErrICMPNotPermitted) {
		t.Skipf("this sandbox allows neither unprivileged nor raw ICMP sockets: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	kind := "unprivileged (datagram)"
	if conn.Raw() {
		kind = "raw"
	}
	conn.Close()
	t.Logf("ICMP sockets here: %s", kind)
	s := &ICMPSection{Host: "127.0.0.1", Count: 3}
	r := sectionProber(t, s, Common{ID: "ping"}, Env{Clock: clock.Real{}}).Probe(context.Background())
	if r.Outcome != upstate.OutcomeOK || r.Error != "" {
		t.Errorf("ping 127.0.0.1: got %+v", r)
	}
}

// lossy answers the echo requests written to it, except those whose
// sequence numbers it drops; once the answers are read it waits for its
// deadline, as a socket does.
type lossy struct {
	drop    map[int]bool
	replies chan []byte
	done    chan struct{}
}

func newLossy(drop ...int) *lossy {
	l := &lossy{drop: map[int]bool{}, replies: make(chan []byte, 100), done: make(chan struct{})}
	for _, d := range drop {
		l.drop[d] = true
	}
	return l
}

func (l *lossy) Raw() bool { return false }
func (l *lossy) WriteTo(b []byte, dst net.Addr) (int, error) {
	m, err := icmpParse(b)
	if err != nil {
		return 0, err
	}
	if !l.drop[m.Seq] {
		l.replies <- icmpReply(m)
	}
	return len(b), nil
}
func (l *lossy) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case r := <-l.replies:
		return copy(b, r), &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1)}, nil
	case <-l.done:
		return 0, nil, errors.New("i/o timeout")
	}
}
func (l *lossy) SetReadDeadline(time.Time) error {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}
func (l *lossy) Close() error { return nil }

func TestICMPLoss(t *testing.T) {
	tests := []struct {
		name    string
		drop    []int
		partial *float64
		outcome upstate.Outcome
		err     string
	}{
		{"none lost", nil, nil, upstate.OutcomeOK, ""},
		{"under partial_loss", []int{2}, ptr(25.0), upstate.OutcomeOK, ""},
		{"partial", []int{0, 3}, nil, upstate.OutcomeSlow, "2 of 5 packets to 192.0.2.1 lost (40%)"},
		{"all lost", []int{0, 1, 2, 3, 4}, nil, upstate.OutcomeFail, "no reply from 192.0.2.1: all 5 packets lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// In a bubble, the lost packets are waited for until the
			// timeout without the test waiting at all.
			var r upstate.Result
			synctest.Test(t, func(t *testing.T) {
				s := &ICMPSection{Host: "192.0.2.1", PartialLoss: tt.partial}
				p := sectionProber(t, s, Common{ID: "ping"}, Env{Clock: clock.Real{}}).(*ICMP)
				l := newLossy(tt.drop...)
				p.Listen = func(bool) (PingConn, error) { return l, nil }
				r = p.Probe(context.Background())
			})
			if r.Outcome != tt.outcome || r.Error != tt.err {
				t.Errorf("got %s %q, want %s %q", r.Outcome, r.Error, tt.outcome, tt.err)
			}
		})
	}
	t.Run("partial loss is a partial outage by default", func(t *testing.T) {
		c := Common{}
		v := &problems{}
		(&ICMPSection{Host: "db"}).Validate(v, &c)
		if c.Impact["degraded"] != "partial_outage" || len(v.errs) > 0 {
			t.Errorf("impact %v, problems %v", c.Impact, v.errs)
		}
		c = Common{Impact: map[string]string{"degraded": "degraded_performance"}}
		(&ICMPSection{Host: "db", Count: 101, PartialLoss: ptr(50.0), DownLoss: ptr(40.0)}).Validate(v, &c)
		if c.Impact["degraded"] != "degraded_performance" || strings.Join(v.errs, "; ") != "count: 101 is out of range (1 to 100); down_loss: 40 is under partial_loss 50" {
			t.Errorf("impact %v, problems %v", c.Impact, v.errs)
		}
	})
}

func icmpParse(b []byte) (*icmp.Echo, error) {
	m, err := icmp.ParseMessage(1, b)
	if err != nil {
		return nil, err
	}
	e, ok := m.Body.(*icmp.Echo)
	if !ok {
		return nil, errors.New("not an echo")
	}
	return e, nil
}

func icmpReply(e *icmp.Echo) []byte {
	b, _ := (&icmp.Message{Type: ipv4.ICMPTypeEchoReply, Body: e}).Marshal(nil)
	return b
}
