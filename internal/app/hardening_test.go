package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// A client that sends its body slowly is cut off once the read timeout
// passes, instead of holding the connection open for ever.
func TestSlowBodiesAreCutOff(t *testing.T) {
	a := runApp(t, "page: {name: T}\ncomponents: [{id: api}]\n", Options{ReadTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	// ... and the rest never comes (or comes a byte every few seconds:
	// the timeout bounds the whole request, however it trickles).
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a bound for the test, not the behaviour: the server's is 300 ms
	_, rerr := io.ReadAll(bufio.NewReader(conn))
	if ne, ok := rerr.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a dripping body's connection open for 20 s")
	}
}

// A body larger than the route takes, sent without a length, is cut off
// at the limit with a clear answer.
func TestOversizedStreamedBody(t *testing.T) {
	a := runApp(t, "page: {name: T}\ncomponents: [{id: api}]\n", Options{})
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"email": "`))
		for range 40 {
			pw.Write([]byte(strings.Repeat("a", 64<<10)))
		}
		pw.Write([]byte(`"}`))
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", "http://"+a.Addr()+"/api/v1/login", pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "larger than 1048576 bytes") {
		t.Errorf("2.5 MiB streamed to sign-in: %d %s", resp.StatusCode, b)
	}
}

// Unknown heartbeat ids get the same answer as a wrong token, so the
// answer does not tell which checks exist.
func TestHeartbeatAnswersDoNotEnumerate(t *testing.T) {
	a := newApp(t, "page: {name: T}\ncomponents: [{id: batch}]\nchecks:\n  - {id: nightly, kind: heartbeat, period: 24h, token: s3cret, components: [batch]}\n", Options{})
	ctx := context.Background()
	_, wrong := a.pings.Heartbeat(ctx, "nightly", "guess")
	_, unknown := a.pings.Heartbeat(ctx, "no-such-check", "guess")
	if wrong == nil || unknown == nil || wrong.Error() != unknown.Error() {
		t.Errorf("wrong token: %v; unknown id: %v; want the same refusal", wrong, unknown)
	}
	if _, err := a.pings.Heartbeat(ctx, "nightly", "s3cret"); err != nil {
		t.Errorf("right token: %v", err)
	}
}

// The database stops taking writes (another process holds its lock, as
// a backup or a sqlite3 shell may) while a check starts failing: writes
// answer 503 with the reason at once, /healthz and the admin UI say so,
// and the failure is not forgotten: its incident opens once writes go
// through again. (A full disk is refused the same way; the store's own
// tests make one.)
func TestRefusedWritesKeepDecisions(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	a := newApp(t, `page: {name: T}
components: [{id: api, name: API}, {id: batch, name: Batch}]
checks:
  - {id: api-health, kind: http, url: 'http://127.0.0.1:1/', components: [api]}
  - {id: nightly, kind: heartbeat, period: 24h, token: s3cret, components: [batch]}
`, Options{Clock: clk, WriteTimeout: 250 * time.Millisecond})
	ctx := context.Background()
	release := holdWriteLock(t, a)
	for range 3 {
		clk.Advance(10 * time.Second)
		a.onResult(ctx, upstate.Result{CheckID: "api-health", At: clk.Now(), Outcome: upstate.OutcomeFail, Error: "connection refused"})
	}
	if st := a.engine.Statuses()["api"]; st != upstate.Operational {
		t.Fatalf("api = %s while nothing could be saved; the engine must not show what it could not keep", st)
	}
	h := a.web.Handler()
	get := func(method, path string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	const why = "the database is not accepting writes: another process holds its write lock"
	// A write answers 503 at once, with the reason and when to try again.
	if rec := get("POST", "/api/v1/heartbeats/nightly", map[string]string{"Authorization": "Bearer s3cret"}); rec.Code != 503 || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(rec.Body.String(), why) {
		t.Errorf("a write the database refuses: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	a.snaps.Rebuild(ctx)
	for _, path := range []string{"/healthz", "/readyz"} {
		if rec := get("GET", path, nil); rec.Code != 503 || !strings.Contains(rec.Body.String(), why) || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s while writes are refused: %d %s", path, rec.Code, rec.Body)
		}
	}
	if rec := get("GET", "/livez", nil); rec.Code != 200 {
		t.Errorf("/livez: %d (the process itself is alive)", rec.Code)
	}
	if rec := get("GET", "/admin/login", nil); !strings.Contains(rec.Body.String(), "Changes cannot be saved right now.") || !strings.Contains(rec.Body.String(), "another process holds its write lock") {
		t.Errorf("the admin UI shows no banner while writes are refused:\n%s", rec.Body)
	}

	// Writes go through again: the engine's next tick (Run retries every
	// 5 s) writes the decision it kept.
	release()
	if _, err := a.engine.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	ins, err := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
	if err != nil || len(ins) != 1 || !strings.Contains(evidenceOf(ins[0]), "connection refused") {
		t.Fatalf("open incidents once writes go through: %+v, %v; want the one the failure opens, with its evidence", ins, err)
	}
	if st := a.engine.Statuses()["api"]; st != upstate.MajorOutage {
		t.Errorf("api = %s", st)
	}
	a.onResult(ctx, upstate.Result{CheckID: "api-health", At: clk.Now(), Outcome: upstate.OutcomeFail, Error: "connection refused"})
	conds, _ := a.store.ListConditions(ctx)
	if conds["api-health"].State != upstate.StateDown {
		t.Errorf("stored condition = %+v, want the transition saved once writes go through", conds["api-health"])
	}
	if err := a.store.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := get("GET", "/healthz", nil); rec.Code != 200 {
		t.Errorf("/healthz once writes go through: %d %s", rec.Code, rec.Body)
	}
}

// In the admin UI, a change the database refuses answers 503 with the
// reason and a Retry-After, not a bad request.
func TestAdminUIWhenWritesAreRefused(t *testing.T) {
	a := runApp(t, "page: {name: T, url: 'http://127.0.0.1'}\ncomponents: [{id: api, name: API}]\n", Options{WriteTimeout: 250 * time.Millisecond})
	if _, err := AddUser(context.Background(), a.cfg.Load(), NewUser{Email: "rui@example.com", Name: "Rui", Role: upstate.RoleResponder, Password: "responder password"}, time.Now); err != nil {
		t.Fatal(err)
	}
	ui := newUI(t, "http://"+a.Addr())
	if code, _, landed := ui.post("/admin/login", url.Values{"email": {"rui@example.com"}, "password": {"responder password"}}, nil); code != 200 || landed != "/admin/" {
		t.Fatalf("sign in: %d at %s", code, landed)
	}
	release := holdWriteLock(t, a)
	defer release()
	code, body, _ := ui.post("/admin/incidents", url.Values{"name": {"API errors"}, "status": {"investigating"}, "message": {"Errors."}, "component.api": {"major_outage"}}, nil)
	if code != 503 || !strings.Contains(body, "another process holds its write lock") {
		t.Errorf("declaring while writes are refused: %d\n%s", code, body)
	}
}
