package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
)

type roundTrip func(*http.Request) *http.Response

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r), nil }

// handlerClient serves requests with h in-process: no network, so the
// test's fake time runs as soon as everything waits.
func handlerClient(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTrip(func(r *http.Request) *http.Response {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result()
	})}
}

// fakeServer is the server's side of the agent API: it is up or down
// (503), and keeps every result id it took, with how often.
type fakeServer struct {
	mu    sync.Mutex
	down  bool
	taken map[string]int
	list  upstate.AgentChecks
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer ups_agent" {
		w.WriteHeader(401)
		return
	}
	if f.down {
		w.WriteHeader(503)
		return
	}
	switch r.URL.Path {
	case "/api/v1/agent/checks":
		json.NewEncoder(w).Encode(f.list)
	case "/api/v1/agent/results":
		var b struct{ Results []upstate.AgentResult }
		body, _ := io.ReadAll(r.Body)
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&b); err != nil {
			w.WriteHeader(400)
			return
		}
		var refused []string
		for _, res := range b.Results {
			if res.CheckID != "api" {
				refused = append(refused, res.CheckID)
			}
		}
		if len(refused) > 0 {
			w.WriteHeader(403)
			json.NewEncoder(w).Encode(map[string]any{"refused": refused})
			return
		}
		for _, res := range b.Results {
			f.taken[res.ID]++
		}
		w.Write([]byte(`{"accepted": 1}`))
	}
}

func (f *fakeServer) set(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeServer) counts() (distinct, twice int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.taken {
		if n > 1 {
			twice++
		}
	}
	return len(f.taken), twice
}

// The agent runs its region's checks on their slots and sends every
// result once: through the server's outage, and through its own restart
// in the middle of it (the check list and the results kept on disk).
func TestAgentLosesNothingThroughOutagesAndRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &fakeServer{taken: map[string]int{}, list: upstate.AgentChecks{Region: "eu", Refresh: time.Minute, Checks: []upstate.AgentCheck{
			{ID: "api", Kind: "http", Interval: 10 * time.Second, Slot: 3 * time.Second, Definition: "id: api\nkind: http\nurl: http://api.test/health\ninterval: 10s\n"},
		}}}
		var mu sync.Mutex
		var probes []time.Time
		target := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			probes = append(probes, time.Now())
			mu.Unlock()
		})
		dir := t.TempDir()
		run := func() (stop func()) {
			env := check.Env{Clock: clock.Real{}, Client: handlerClient(target), Insecure: handlerClient(target), Location: time.UTC}
			a, err := New(Options{Server: "https://status.test", Region: "eu", Token: "ups_agent", DataDir: dir, Client: handlerClient(srv), Env: &env})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				a.Run(ctx)
			}()
			return func() {
				cancel()
				<-done
			}
		}
		stop := run()
		time.Sleep(35 * time.Second)
		synctest.Wait()
		if n, _ := srv.counts(); n < 3 {
			t.Fatalf("the server took %d results in 35s of a 10s check", n)
		}
		mu.Lock()
		for _, at := range probes {
			if off := time.Duration(at.UnixNano() % int64(10*time.Second)); off != 3*time.Second {
				t.Fatalf("probed %v into the interval, not at its slot 3s", off)
			}
		}
		mu.Unlock()

		srv.set(true) // the server goes away
		time.Sleep(40 * time.Second)
		synctest.Wait()
		mu.Lock()
		t.Logf("probes before the restart: %d", len(probes))
		mu.Unlock()
		stop() // and the agent is restarted while it is away
		stop = run()
		time.Sleep(40 * time.Second)
		synctest.Wait()
		mu.Lock()
		t.Logf("probes after the restart, server away: %d", len(probes))
		mu.Unlock()
		srv.set(false)
		time.Sleep(2 * time.Minute) // backoff reaches at most a minute
		synctest.Wait()
		stop()

		mu.Lock()
		probed := len(probes)
		mu.Unlock()
		got, twice := srv.counts()
		if got != probed || twice != 0 {
			t.Fatalf("the agent probed %d times; the server took %d results, %d of them twice", probed, got, twice)
		}
		if probed < 20 {
			t.Fatalf("only %d probes in 3 min 55 s: the agent stopped probing while the server was away", probed)
		}
	})
}

// A report refused for a check the region no longer probes drops those
// results and sends the rest.
func TestAgentDropsResultsTheServerRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &fakeServer{taken: map[string]int{}, list: upstate.AgentChecks{Region: "eu", Refresh: time.Minute}}
		a, err := New(Options{Server: "https://status.test", Region: "eu", Token: "ups_agent", DataDir: t.TempDir(), Client: handlerClient(srv)})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		a.queue.Add(upstate.AgentResult{ID: "1", CheckID: "gone", At: at, Outcome: upstate.OutcomeOK},
			upstate.AgentResult{ID: "2", CheckID: "api", At: at, Outcome: upstate.OutcomeOK})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.Run(ctx)
		}()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		cancel()
		<-done
		if got, _ := srv.counts(); got != 1 || srv.taken["2"] != 1 || a.queue.Len() != 0 {
			t.Fatalf("taken %v, %d bytes left", srv.taken, a.queue.Len())
		}
	})
}

func TestAgentOptionsAreChecked(t *testing.T) {
	_, err := New(Options{Server: "status.test", Region: "local", DataDir: ""})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"--server", "--region", "a token is required", "--data is required"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}
