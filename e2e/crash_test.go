package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// flakyHook is a webhook receiver that refuses every other attempt (half
// of them, but never three in a row: that would open the sender's circuit
// breaker and put every delivery off for 30 s, and the test would measure
// the breaker rather than the outbox) and deduplicates what it accepts by
// webhook-id, as the Standard Webhooks spec asks receivers to.
//
// Once holdAfter distinct messages are accepted it holds every request
// until release: the sender is then mid-delivery with the rest of its
// messages provably not delivered, and can be killed there. A held
// request is taken when released (the receiver processed it) but its
// answer goes to a sender that is gone, so the sender must deliver it
// again, under the same id.
type flakyHook struct {
	total     int // messages the test sends
	holdAfter int

	mu       sync.Mutex
	attempts int               // requests answered, held ones aside
	accepted map[string]int    // message id → times accepted
	bodies   map[string]string // message id → the update it carried
	order    map[string][]string
	held     []string       // ids of the requests held
	again    map[string]int // message id → times accepted after the restart
	released bool
	restarts bool          // the sender is being restarted: acceptances count in again
	holding  chan struct{} // closed when the first request is held
	release  chan struct{}
	holds    sync.WaitGroup // held requests not yet taken
	done     chan struct{}  // closed once every message arrived and every held one again
	finished bool
}

func newFlakyHook(total, holdAfter int) *flakyHook {
	return &flakyHook{total: total, holdAfter: holdAfter, accepted: map[string]int{}, bodies: map[string]string{},
		order: map[string][]string{}, again: map[string]int{}, holding: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
}

func (h *flakyHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	if !h.released && len(h.accepted) >= h.holdAfter {
		h.held = append(h.held, id)
		if len(h.held) == 1 {
			close(h.holding)
		}
		h.holds.Add(1)
		h.mu.Unlock()
		defer h.holds.Done()
		<-h.release
		h.mu.Lock()
		defer h.mu.Unlock()
		h.take(id, b)
		return
	}
	defer h.mu.Unlock()
	h.attempts++
	if h.attempts%2 == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	h.take(id, b)
}

// take records an accepted message. Must be called with h.mu held.
func (h *flakyHook) take(id string, b []byte) {
	var body struct {
		Data struct {
			Incident struct{ ID string } `json:"incident"`
			Updates  []struct{ ID, Body string }
		} `json:"data"`
	}
	json.Unmarshal(b, &body)
	if h.accepted[id] == 0 {
		in := body.Data.Incident.ID
		var bodies []string
		for _, u := range body.Data.Updates {
			bodies = append(bodies, u.Body)
		}
		h.bodies[id] = strings.Join(bodies, "|")
		h.order[in] = append(h.order[in], h.bodies[id])
	}
	h.accepted[id]++
	if h.restarts {
		h.again[id]++
	}
	if h.finished || len(h.accepted) < h.total {
		return
	}
	for _, id := range h.held {
		if h.again[id] == 0 {
			return
		}
	}
	h.finished = true
	close(h.done)
}

// open lets held requests be taken and stops holding new ones; it
// returns once the held ones are taken.
func (h *flakyHook) open() {
	h.mu.Lock()
	if h.released {
		h.mu.Unlock()
		return
	}
	h.released = true
	close(h.release)
	h.mu.Unlock()
	h.holds.Wait()
}

// restarting marks what arrives from now on as sent after the restart.
func (h *flakyHook) restarting() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.restarts = true
}

func (h *flakyHook) distinct() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.accepted)
}

// TestCrashLosesNoNotification kills the server (SIGKILL) in the middle of
// deliveries to a receiver that fails half the time, while most messages
// are provably still pending and the receiver holds those in flight,
// restarts it, and checks that every message arrives, in order per
// incident, that those whose answers the kill cut off arrive again, and
// that any repeat carries the same idempotency key.
func TestCrashLosesNoNotification(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	// Three incidents, twenty updates each: 63 messages, each acknowledged
	// (2xx) only once durable. The receiver takes five, then holds.
	const incidents, updates = 3, 20
	const total = incidents * (updates + 1)
	hook := newFlakyHook(total, 5)
	hsrv := httptest.NewServer(hook)
	defer hsrv.Close()
	defer hook.open() // a failing test must not leave requests held
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "upstate.yaml")
	cfg := `page: {name: Crash Status, url: 'http://127.0.0.1'}
server: {listen: '127.0.0.1:0', data_dir: ./data}
components:
  - {id: api, name: API}
notifications:
  backoff: 20ms
  max_backoff: 200ms
  channels:
    - {id: hook, type: webhook, url: '` + hsrv.URL + `', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := build(t)
	addUser(t, bin, cfgPath, "ops@example.com", "Ops", "responder", "crash test password")
	p := start(t, bin, cfgPath)
	base := "http://" + p.addr
	post := signIn(t, base, "ops@example.com", "crash test password")

	want := map[string][]string{}
	var ids []string
	for i := range incidents {
		out := post("/api/v1/incidents", map[string]any{"name": fmt.Sprintf("Incident %d", i), "message": fmt.Sprintf("i%d-u0", i)})
		id := out["incident"].(map[string]any)["id"].(string)
		ids = append(ids, id)
		want[id] = append(want[id], fmt.Sprintf("i%d-u0", i))
	}
	for u := 1; u <= updates; u++ {
		for i, id := range ids {
			msg := fmt.Sprintf("i%d-u%d", i, u)
			post("/api/v1/incidents/"+id+"/updates", map[string]any{"message": msg})
			want[id] = append(want[id], msg)
		}
	}

	// Kill it mid-delivery: every message is in the outbox (each post was
	// acknowledged), five are delivered, and the receiver holds the
	// request in flight.
	select {
	case <-hook.holding:
	case <-time.After(60 * time.Second):
		t.Fatalf("the receiver took %d messages and was never sent another\n%s", hook.distinct(), logsOf(t))
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	hook.mu.Lock()
	delivered, held := len(hook.accepted), slices.Clone(hook.held)
	hook.mu.Unlock()
	if pending := total - delivered; pending == 0 || len(held) == 0 {
		t.Fatalf("at the kill %d of %d messages were pending and %d requests in flight; the restart would prove nothing", pending, total, len(held))
	}
	// The receiver processes what it held; the answers are lost with
	// the process.
	hook.open()
	hook.restarting()

	p2 := start(t, bin, cfgPath)
	select {
	case <-hook.done:
	case <-time.After(90 * time.Second):
		hook.mu.Lock()
		got, again := len(hook.accepted), map[string]int{}
		for _, id := range held {
			again[id] = hook.again[id]
		}
		hook.mu.Unlock()
		t.Fatalf("after restart %d of %d messages arrived (%d before the kill); of those in flight at the kill, accepted after the restart: %v\n%s",
			got, total, delivered, again, logsOf(t))
	}
	p2.cmd.Process.Signal(syscall.SIGTERM)
	<-p2.done

	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.accepted) != total {
		t.Errorf("%d distinct message ids arrived, want %d", len(hook.accepted), total)
	}
	// The messages whose answers the kill cut off came again, under their ids.
	for _, id := range held {
		if hook.accepted[id] < 2 || hook.again[id] < 1 {
			t.Errorf("message %s, in flight at the kill, was accepted %d times (%d after the restart); want it sent again after the restart", id, hook.accepted[id], hook.again[id])
		}
	}
	// No message is duplicated under a different id: each update arrived
	// under one id only.
	seen := map[string]string{}
	for id, body := range hook.bodies {
		if other, ok := seen[body]; ok {
			t.Errorf("update %q arrived under two ids: %s and %s", body, other, id)
		}
		seen[body] = id
	}
	for _, id := range ids {
		if got := strings.Join(hook.order[id], ","); got != strings.Join(want[id], ",") {
			t.Errorf("incident %s: arrived in order\n %s\nwant\n %s", id, got, strings.Join(want[id], ","))
		}
	}
	repeats := 0
	for _, n := range hook.accepted {
		repeats += n - 1
	}
	t.Logf("%d messages, %d delivered before the kill, %d in flight at it, %d accepted again under the same id", total, delivered, len(held), repeats)
}
