package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// flakyHook is a webhook receiver that refuses about half of all attempts
// (decided by a hash of the message id and the attempt number, so runs are
// repeatable) and deduplicates what it accepts by webhook-id, as the
// Standard Webhooks spec asks receivers to.
type flakyHook struct {
	mu       sync.Mutex
	attempts map[string]int
	accepted map[string]int    // message id → times accepted
	bodies   map[string]string // message id → the update it carried
	order    map[string][]string
}

func (h *flakyHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts[id]++
	sum := sha256.Sum256(fmt.Appendf(nil, "%s#%d", id, h.attempts[id]))
	if sum[0]%2 == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
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
}

func (h *flakyHook) distinct() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.accepted)
}

// TestCrashLosesNoNotification kills the server (SIGKILL) in the middle of
// deliveries to a receiver that fails half the time, restarts it, and
// checks that every message arrives, in order per incident, and that any
// repeat carries the same idempotency key.
func TestCrashLosesNoNotification(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	hook := &flakyHook{attempts: map[string]int{}, accepted: map[string]int{}, bodies: map[string]string{}, order: map[string][]string{}}
	hsrv := httptest.NewServer(hook)
	defer hsrv.Close()
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
	add := exec.Command(bin, "user", "add", "--config", cfgPath, "--email", "ops@example.com", "--name", "Ops", "--role", "responder")
	add.Stdin = strings.NewReader("crash test password\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	p := start(t, bin, cfgPath)
	base := "http://" + p.addr
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	post := func(path string, body any) map[string]any {
		b, _ := json.Marshal(body)
		resp, err := client.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	post("/api/v1/login", map[string]string{"email": "ops@example.com", "password": "crash test password"})

	// Three incidents, twenty updates each: 63 messages, each acknowledged
	// (2xx) only once durable.
	const incidents, updates = 3, 20
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
	total := incidents * (updates + 1)

	// Kill it mid-delivery.
	waitFor(t, "some deliveries", func() bool { return hook.distinct() >= 5 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	delivered := hook.distinct()
	if delivered == total {
		t.Log("every message was delivered before the kill; the restart has nothing left to prove")
	}
	p2 := start(t, bin, cfgPath)
	deadline := time.Now().Add(90 * time.Second)
	for hook.distinct() < total {
		if time.Now().After(deadline) {
			t.Fatalf("after restart %d of %d messages arrived (%d before the kill)\n%s", hook.distinct(), total, delivered, p2.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	p2.cmd.Process.Signal(syscall.SIGTERM)
	<-p2.done

	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.accepted) != total {
		t.Errorf("%d distinct message ids arrived, want %d", len(hook.accepted), total)
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
	t.Logf("%d messages, %d delivered before the kill, %d accepted again after it under the same id", total, delivered, repeats)
}
