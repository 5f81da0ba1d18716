package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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
	_, wrong := a.Heartbeat(ctx, "nightly", "guess")
	_, unknown := a.Heartbeat(ctx, "no-such-check", "guess")
	if wrong == nil || unknown == nil || wrong.Error() != unknown.Error() {
		t.Errorf("wrong token: %v; unknown id: %v; want the same refusal", wrong, unknown)
	}
	if _, err := a.Heartbeat(ctx, "nightly", "s3cret"); err != nil {
		t.Errorf("right token: %v", err)
	}
}
