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
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/memnet"
	"github.com/upstatehq/upstate/internal/schedule"
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
	slow // answers correctly after 5 s (or flaky.delay)
)

// flaky is the API under test; its requests are counted from the break.
type flaky struct {
	mu     sync.Mutex
	mode   mode
	n      int           // requests since the break
	random uint64        // seed for quarter at random; 0 for every fourth
	fails  int           // requests answered 500 since the break
	delay  time.Duration // how late answers are when slow; default 5 s
}

func (f *flaky) set(m mode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.n, f.fails = m, 0, 0
}

// setSlow makes every answer come after d.
func (f *flaky) setSlow(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.delay = slow, d
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
	m, fail, delay := f.mode, false, f.delay
	if delay == 0 {
		delay = 5 * time.Second
	}
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
		case <-time.After(delay):
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
	mem *memnet.MemNet
}

// startDetect starts the app with the checks yaml gives (it is handed the
// API's address) and the API healthy. Stop it before the bubble ends.
func startDetect(t *testing.T, api *flaky, checks func(addr string) string) *detectWorld {
	t.Helper()
	mem := memnet.New()
	srv := httptest.NewUnstartedServer(api)
	srv.Listener = mem.Listen()
	srv.Start()
	yaml := "page: {name: Detect}\ncomponents: [{id: api, name: API}]\nchecks:\n" + checks(srv.Listener.Addr().String())
	cfg, err := config.Parse("detect.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	ctx := context.Background()
	a, err := New(ctx, Options{Config: cfg, Listener: mem.Listen(), Dial: mem.Dial})
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
		t.Logf("partial_outage %v after the break: %s", in.DetectedAt.Sub(broke), evidenceOf(in))
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
		if body := evidenceOf(in); !strings.Contains(body, "requests answered HTTP 500") {
			t.Errorf("the first entry does not give the measured share: %s", body)
		}
	})
}

// A probe whose answer takes 45 s, over its 2 s bound: the check is slow
// at the bound, a burst of samples stopped there confirms it within
// seconds, and when the answer comes its latency goes into the evidence.
func TestSlowIsKnownAtTheBoundEndToEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &flaky{}
		w := startDetect(t, api, func(addr string) string {
			return fmt.Sprintf("  - {id: api-health, kind: http, url: 'http://%s/', interval: 60s, timeout: 50s, expect: {latency_under: 2s}, components: [api]}\n", addr)
		})
		defer w.stop(t)
		time.Sleep(61 * time.Second)
		synctest.Wait()
		api.mu.Lock()
		before := api.n
		api.mu.Unlock()
		api.setSlow(45 * time.Second)
		// The next probe starts within the minute; from it, 2 s to the
		// bound, 4.5 s of samples, 2 s for the last one's bound.
		var probed time.Time
		if !waitFor(time.Minute, func() bool {
			api.mu.Lock()
			defer api.mu.Unlock()
			if api.n > before && probed.IsZero() {
				probed = time.Now().Add(-time.Second) // waitFor looks once a second
			}
			return w.apiStatus() == upstate.DegradedPerformance
		}) {
			t.Fatalf("API is %s a minute after it turned 45 s slow", w.apiStatus())
		}
		if d := w.app.Snapshot().Open[0].DetectedAt.Sub(probed); d > 10*time.Second {
			t.Errorf("slow confirmed %v after the probe began, want within 2 s + 4.5 s + 2 s, not after the 45 s answer", d)
		}
		cond := func() upstate.Condition {
			st := w.app.checks.Load().byID["api-health"]
			st.mu.Lock()
			defer st.mu.Unlock()
			return st.machine.Condition()
		}
		if ev := cond().Evidence; ev != "10 of 10 requests slower than 2.00 s (none answered within it)" {
			t.Errorf("evidence at the bound: %q", ev)
		}
		time.Sleep(45 * time.Second)
		synctest.Wait()
		if ev := cond().Evidence; !strings.HasSuffix(ev, "; latest: HTTP 200 after 45.0 s: slower than 2.00 s") {
			t.Errorf("evidence once the answer came: %q, want its 45 s in it", ev)
		}
	})
}

// The fast interval: while the database is down, the API's check (whose
// component depends on it) probes every 15 s instead of every minute,
// and goes back to the minute once the database is well.
func TestADependencyInTroubleSpeedsUpTheChecksThatNeedIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, db := &flaky{}, &flaky{}
		mem := memnet.New()
		var srvs []*httptest.Server
		for _, f := range []*flaky{api, db} {
			srv := httptest.NewUnstartedServer(f)
			srv.Listener = mem.Listen()
			srv.Start()
			srvs = append(srvs, srv)
		}
		yaml := fmt.Sprintf(`page: {name: Detect}
components:
  - {id: api, name: API, depends_on: [database]}
  - {id: database, name: Database}
checks:
  - {id: api-health, kind: http, url: '%s/', interval: 60s, components: [api]}
  - {id: db-health, kind: http, url: '%s/', interval: 60s, components: [database]}
`, srvs[0].URL, srvs[1].URL)
		cfg, err := config.Parse("detect.yaml", []byte(yaml), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Server.DataDir = t.TempDir()
		a, err := New(context.Background(), Options{Config: cfg, Listener: mem.Listen(), Dial: mem.Dial})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer func() {
			a.Stop(context.Background())
			for _, s := range srvs {
				s.Close()
			}
		}()
		count := func() int {
			api.mu.Lock()
			defer api.mu.Unlock()
			return api.n
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		n0 := count()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := count() - n0; got != 2 {
			t.Fatalf("all well: the API was probed %d times in 2 minutes, want 2", got)
		}
		db.set(hardDown)
		time.Sleep(70 * time.Second) // the database's check sees it within the minute
		synctest.Wait()
		n1 := count()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := count() - n1; got < 7 {
			t.Errorf("database down: the API was probed %d times in 2 minutes, want about 8 (every 15 s)", got)
		}
		db.set(healthy)
		time.Sleep(70 * time.Second) // the database recovers within the fast interval and its burst
		synctest.Wait()
		n2 := count()
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		if got := count() - n2; got != 3 {
			t.Errorf("database well again: the API was probed %d times in 3 minutes, want 3", got)
		}
	})
}

// Pushed numbers are judged as they arrive: a metric check judged every
// 10 minutes still opens its incident the moment a bad number comes.
func TestPushedNumbersAreJudgedAsTheyArrive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := startDetect(t, &flaky{}, func(string) string {
			return "  - {id: api-errors, kind: metric, metric: api_errors, labels: {app: web}, above: 5, interval: 10m, components: [api]}\n"
		})
		defer w.stop(t)
		token := metricsToken(t, w.app, w.app.cfg.Load())
		time.Sleep(11 * time.Minute) // the check has run once, on schedule
		synctest.Wait()
		pushed := time.Now()
		code, body := postTo(w.app, "/api/v1/metrics", `{"metrics": [{"name": "api_errors", "labels": {"app": "web"}, "value": 40}]}`, map[string]string{"Authorization": "Bearer " + token})
		if code != http.StatusOK {
			t.Fatalf("push: %d %s", code, body)
		}
		synctest.Wait()
		snap := w.app.Snapshot()
		if len(snap.Open) != 1 {
			t.Fatalf("%d open incidents right after the push, want 1", len(snap.Open))
		}
		if d := snap.Open[0].DetectedAt.Sub(pushed); d != 0 {
			t.Errorf("incident detected %v after the push, want at once", d)
		}
		if !strings.Contains(evidenceOf(snap.Open[0]), "api_errors 40 is above 5") {
			t.Errorf("first entry: %s", evidenceOf(snap.Open[0]))
		}
	})
}

// What a check whose probe may be repeated compiles to: its burst, fast
// interval, the components it watches, its host and latency bound; a told
// check takes none of it.
func TestRepeatedChecksCompile(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`page: {name: X}
components:
  - {id: web, depends_on: [api]}
  - {id: api, depends_on: [database]}
  - {id: database}
  - {id: queue}
checks:
  - {id: home, kind: http, url: 'https://example.com/', expect: {latency_under: 2s}, components: [web]}
  - {id: port, kind: tcp, address: 'db:5432', interval: 10s, burst: {count: 0}, fast_interval: 2s, depends_on: [queue], components: [database]}
  - {id: name, kind: dns, host: example.com, server: 1.1.1.1, interval: 2m, burst: {count: 6, over: 3s}, components: [api]}
  - {id: errors, kind: metric, metric: errors, above: 5, components: [api]}
  - {id: quiet, kind: tcp, address: 'q:1', recheck: {count: 0}, components: [queue]}
  - {id: asked, kind: tcp, address: 'q:1', recheck: {count: 0}, burst: {count: 3}, components: [queue]}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := compile(cfg, check.Env{Resolver: func(string) check.Resolver { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		burst     schedule.Burst
		fast      time.Duration
		watch     []string
		host      string
		slowAfter time.Duration
		decide    int
	}
	wants := map[string]want{
		"home":   {schedule.Burst{Count: 10, Over: 5 * time.Second}, 15 * time.Second, []string{"api", "database", "web"}, "example.com:443", 2 * time.Second, 10},
		"port":   {schedule.Burst{}, 2 * time.Second, []string{"database", "queue"}, "db:5432", 0, 0},
		"name":   {schedule.Burst{Count: 6, Over: 3 * time.Second}, 30 * time.Second, []string{"api", "database"}, "1.1.1.1:53", 0, 6},
		"errors": {},
		// No re-checks said no extra requests: no bursts either, unless asked for.
		"quiet": {schedule.Burst{}, 15 * time.Second, []string{"queue"}, "q:1", 0, 0},
		"asked": {schedule.Burst{Count: 3, Over: 5 * time.Second}, 15 * time.Second, []string{"queue"}, "q:1", 0, 3},
	}
	for i, j := range c.jobs {
		w := wants[j.ID]
		got := want{j.Burst, j.Fast, j.Watch, j.Host, j.SlowAfter, c.specs[i].Decide.Burst}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: %+v, want %+v", j.ID, got, w)
		}
	}
	// Numbers arrive for their readers.
	if got := c.readers[check.SeriesKey("errors", nil)]; len(got) != 1 || got[0] != "errors" {
		t.Errorf("readers of errors: %v", got)
	}
}
