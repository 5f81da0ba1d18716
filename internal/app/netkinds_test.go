package app

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/emersion/go-smtp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/upstatehq/upstate"
)

// The network kinds end to end, against real servers on loopback: a gRPC
// health service, a WebSocket echo server and an SMTP server are probed,
// found well, then broken (NOT_SERVING, gone, gone), and each breakage is
// decided, opens an incident and shows on the public page.
func TestNetworkKindsEndToEnd(t *testing.T) {
	// gRPC's standard health service.
	hs := health.NewServer()
	gln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	go gs.Serve(gln)
	defer gs.Stop()
	// A WebSocket server that answers pong to ping.
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		if _, msg, err := c.Read(r.Context()); err == nil && string(msg) == "ping" {
			c.Write(r.Context(), websocket.MessageText, []byte("pong"))
		}
		c.Close(websocket.StatusNormalClosure, "")
	}))
	defer ws.Close()
	// A mail server with no STARTTLS (the check is told not to ask).
	mail := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return refuseMail{}, nil }))
	mail.Domain, mail.ReadTimeout, mail.WriteTimeout = "mx.test", 10*time.Second, 10*time.Second
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go mail.Serve(mln)
	defer mail.Close()

	once := "fail_after: 1, recover_after: 1, recheck: {count: 0}, burst: {count: 0}"
	a := newApp(t, `page: {name: Acme Status}
components:
  - {id: users, name: Users service}
  - {id: live, name: Live updates}
  - {id: mail, name: Mail}
checks:
  - {id: users-grpc, kind: grpc, address: '`+gln.Addr().String()+`', `+once+`, components: [users]}
  - {id: live-ws, kind: websocket, url: 'ws://`+strings.TrimPrefix(ws.URL, "http://")+`/live', send: ping, expect: {reply_regex: pong}, `+once+`, components: [live]}
  - {id: mx, kind: smtp, address: '`+mln.Addr().String()+`', starttls: off, fail_after: 1, recover_after: 1, recheck: {count: 0}, components: [mail]}
`, Options{})
	status := func(id string) upstate.Status {
		t.Helper()
		if err := a.snaps.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, c := range a.Snapshot().Components {
			if c.ID == id {
				return c.Status
			}
		}
		t.Fatalf("no component %s on the page", id)
		return ""
	}
	checks := map[string]string{"users-grpc": "users", "live-ws": "live", "mx": "mail"}
	for id, comp := range checks {
		if r := runCheck(t, a, id); r.Outcome != upstate.OutcomeOK {
			t.Fatalf("%s while well: %s (%s)", id, r.Outcome, r.Evidence())
		}
		if st := status(comp); st != upstate.Operational {
			t.Errorf("%s while well: %s", comp, st)
		}
	}

	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	ws.Close()
	mail.Close()
	for id, comp := range checks {
		r := runCheck(t, a, id)
		if r.Outcome != upstate.OutcomeFail {
			t.Errorf("%s broken: %s (%s), want a failure", id, r.Outcome, r.Evidence())
		}
		if st := status(comp); st != upstate.MajorOutage {
			t.Errorf("%s broken: the page says %s, want major_outage (evidence %q)", comp, st, r.Evidence())
		}
	}
	ins, err := a.store.ListIncidents(context.Background(), upstate.IncidentFilter{OpenOnly: true})
	if err != nil || len(ins) == 0 {
		t.Fatalf("open incidents: %d, %v", len(ins), err)
	}
	var on []string
	for _, in := range ins {
		on = append(on, in.Components...)
	}
	for _, comp := range checks {
		if !strings.Contains(strings.Join(on, " "), comp) {
			t.Errorf("no open incident on %s (incidents on %v)", comp, on)
		}
	}
	if r := runCheck(t, a, "users-grpc"); !strings.Contains(r.Evidence(), "NOT_SERVING") {
		t.Errorf("gRPC evidence %q does not say NOT_SERVING", r.Evidence())
	}
}

// refuseMail takes no mail: a check never sends any.
type refuseMail struct{}

func (refuseMail) Mail(string, *smtp.MailOptions) error { return errors.New("no mail today") }
func (refuseMail) Rcpt(string, *smtp.RcptOptions) error { return errors.New("no mail today") }
func (refuseMail) Data(io.Reader) error                 { return errors.New("no mail today") }
func (refuseMail) Reset()                               {}
func (refuseMail) Logout() error                        { return nil }
