package app

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
)

// A flaky API, as the tests below break it.
type mode int

const (
	healthy mode = iota
	hardDown
	// quarter answers HTTP 500 to a quarter of requests: those whose
	// number since the break is 1 modulo 4 (the first, the fifth, ...),
	// or, with random set, a quarter of them chosen by a seeded generator.
	quarter
	slow // answers correctly after 5 s
)

// flaky is the API under test; its requests are counted from the break.
type flaky struct {
	mu     sync.Mutex
	mode   mode
	n      int    // requests since the break
	random uint64 // seed for quarter at random; 0 for every fourth
	fails  int    // requests answered 500 since the break
}

func (f *flaky) set(m mode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.n, f.fails = m, 0, 0
}

// failing reports whether a request fails in the quarter mode: the n-th
// since the break when n is 1 modulo 4, or, at random, one in four by a
// hash of the seed, the moment and the client, so that the draw does not
// depend on which of two requests at one moment arrives first.
func (f *flaky) failing(r *http.Request, n int) bool {
	if f.random == 0 {
		return n%4 == 1
	}
	h := fnv.New64a()
	fmt.Fprint(h, f.random, time.Now().UnixNano(), r.UserAgent())
	z := h.Sum64() // splitmix64's finaliser, to spread fnv's low bits
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return z%4 == 0
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	m, fail := f.mode, false
	if m == quarter && f.failing(r, f.n) {
		fail = true
		f.fails++
	}
	f.mu.Unlock()
	switch {
	case m == hardDown:
		http.Error(w, "down", http.StatusServiceUnavailable)
	case fail:
		http.Error(w, "could not obtain lock", http.StatusInternalServerError)
	case m == slow:
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "ok")
	default:
		io.WriteString(w, "ok")
	}
}

// detectWorld is Upstate watching the flaky API on an in-memory network,
// inside a synctest bubble.
type detectWorld struct {
	app *App
	api *flaky
	srv *httptest.Server
	mem *memNet
}

// startDetect starts the app with the checks yaml gives (it is handed the
// API's address) and the API healthy. Stop it before the bubble ends.
func startDetect(t *testing.T, api *flaky, checks func(addr string) string) *detectWorld {
	t.Helper()
	mem := newMemNet()
	srv := httptest.NewUnstartedServer(api)
	srv.Listener = mem.listen()
	srv.Start()
	yaml := "page: {name: Detect}\ncomponents: [{id: api, name: API}]\nchecks:\n" + checks(srv.Listener.Addr().String())
	cfg, err := config.Parse("detect.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	ctx := context.Background()
	a, err := New(ctx, Options{Config: cfg, Listener: mem.listen(), Dial: mem.dial})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return &detectWorld{app: a, api: api, srv: srv, mem: mem}
}

func (w *detectWorld) stop(t *testing.T) {
	if err := w.app.Stop(context.Background()); err != nil {
		t.Error(err)
	}
	w.srv.Close()
}

// apiStatus is the API component's status on the public snapshot.
func (w *detectWorld) apiStatus() upstate.Status {
	if s := w.app.Snapshot(); s != nil {
		for _, c := range s.Components {
			if c.ID == "api" {
				return c.Status
			}
		}
	}
	return ""
}

// waitFor lets bubble time pass, a second at a time, until ok or the
// limit, and reports whether ok came.
func waitFor(limit time.Duration, ok func() bool) bool {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		time.Sleep(time.Second)
		synctest.Wait()
		if ok() {
			return true
		}
	}
	return false
}

// get reads a public document from the app's handler.
func (w *detectWorld) get(t *testing.T, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	w.app.web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	return rec.Body.String()
}

// The issue as a new user found it: a 60 s check on an API where a
// quarter of requests answer 500. The first probe after the break fails;
// what follows must measure the share and say partial_outage, with it as
// the incident's scope, within two intervals, end to end: check → decide
// → incident → the public page and API.
func TestAQuarterFailingIsAPartialOutageWithItsShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &flaky{}
		w := startDetect(t, api, func(addr string) string {
			return fmt.Sprintf("  - {id: api-health, kind: http, url: 'http://%s/', interval: 60s, components: [api]}\n", addr)
		})
		defer w.stop(t)
		time.Sleep(61 * time.Second) // the first probe has run
		synctest.Wait()
		api.set(quarter)
		broke := time.Now()
		if !waitFor(2*time.Minute, func() bool { return w.apiStatus() == upstate.PartialOutage }) {
			t.Fatalf("API is %s two intervals after a quarter of its requests began to fail, want partial_outage", w.apiStatus())
		}
		snap := w.app.Snapshot()
		if len(snap.Open) != 1 {
			t.Fatalf("%d open incidents, want 1", len(snap.Open))
		}
		in := snap.Open[0]
		t.Logf("partial_outage %v after the break: %s", in.DetectedAt.Sub(broke), in.Updates[0].Body)
		if in.Reach.FailingPercent == nil {
			t.Fatalf("incident %q has no measured scope: %+v", in.Name, in.Reach)
		}
		got := *in.Reach.FailingPercent
		if got < 10 || got > 40 {
			t.Errorf("scope: %v%% of requests failing, want the measured share of about 25%%", got)
		}
		want := fmt.Sprintf("about %s%% of requests failing", strings.TrimSuffix(fmt.Sprintf("%g", got), ".0"))
		if page := w.get(t, "/"); !strings.Contains(page, want) {
			t.Errorf("the public page does not say %q", want)
		}
		var comps struct {
			Components []struct{ ID, Status string } `json:"components"`
		}
		if err := json.Unmarshal([]byte(w.get(t, "/api/v2/components.json")), &comps); err != nil {
			t.Fatal(err)
		}
		for _, c := range comps.Components {
			if c.ID == "api" && c.Status != "partial_outage" {
				t.Errorf("components.json: api is %s, want partial_outage", c.Status)
			}
		}
		if body := in.Updates[0].Body; !strings.Contains(body, "requests answered HTTP 500") {
			t.Errorf("the first entry does not give the measured share: %s", body)
		}
	})
}
