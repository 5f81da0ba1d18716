package app

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/client"
)

// detectCase is one row of the detection table: how the API breaks, and
// whether its users' traffic is reported too (the client Reporter every
// 10 s, judged by a metric check on first-attempt failures).
type detectCase struct {
	name    string
	mode    mode
	passive bool
	always  bool // burst: {always: true}: every probe measures the share
}

// detected is what one break led to, measured from the break.
type detected struct {
	open   time.Duration // the incident's detected_at
	status upstate.Status
	// partial is when the API first showed partial_outage, share when it
	// did with the measured share as the incident's scope (0: never,
	// within the run).
	partial, share time.Duration
	scope          float64
}

// detectOnce runs Upstate against the API with one 60 s http check (and,
// passive, the metric check on its users' reports), breaks the API
// offset into the check's interval, and measures until the incident is
// open and, for a share failing, until its scope is measured.
func detectOnce(t *testing.T, c detectCase, offset time.Duration, seed uint64) detected {
	var out detected
	synctest.Test(t, func(t *testing.T) {
		api := &flaky{random: seed}
		w := startDetect(t, api, func(addr string) string {
			burst := ""
			if c.always {
				burst = ", burst: {always: true}"
			}
			s := fmt.Sprintf("  - {id: api-health, kind: http, url: 'http://%s/', interval: 60s, expect: {latency_under: 2s}%s, components: [api]}\n", addr, burst)
			if c.passive {
				s += fmt.Sprintf("  - {id: api-users, kind: metric, metric: upstate_client_first_attempt_failures, labels: {app: web, host: '%s'}, above: 0, what: first-attempt failures, unit: ' in 10 s', impact: {down: partial_outage}, components: [api]}\n", addr)
				s += "  - {id: api-waits, kind: metric, metric: api_slow_answers, labels: {app: web}, degraded_above: 0, what: answers slower than 2 s, unit: ' in 10 s', components: [api]}\n"
			}
			return s
		})
		defer w.stop(t)
		ctx, cancel := context.WithCancel(context.Background())
		var users sync.WaitGroup
		defer users.Wait()
		defer cancel()
		if c.passive {
			w.traffic(t, ctx, &users)
		}
		time.Sleep(61 * time.Second) // the first probe has run
		time.Sleep(offset)
		synctest.Wait()
		api.set(c.mode)
		broke := time.Now()
		if !waitFor(30*time.Minute, func() bool { return len(w.app.Snapshot().Open) > 0 }) {
			t.Fatalf("%s, break %v into the interval: no incident within 30 minutes", c.name, offset)
		}
		in := w.app.Snapshot().Open[0]
		out.open, out.status = in.DetectedAt.Sub(broke), w.apiStatus()
		if c.mode != quarter {
			return
		}
		measured := func() *float64 {
			if open := w.app.Snapshot().Open; len(open) > 0 && w.apiStatus() == upstate.PartialOutage {
				if out.partial == 0 {
					out.partial = time.Since(broke)
				}
				return open[0].Reach.FailingPercent
			}
			return nil
		}
		if measured() != nil || waitFor(30*time.Minute, func() bool { return measured() != nil }) {
			out.share = time.Since(broke)
			out.scope = *measured()
		}
	})
	return out
}

// traffic is the API's users: a request a second through the client
// Transport, whose Reporter sends Upstate its counts of failures every
// 10 s; beside it the app pushes, every 10 s when there were any, how
// many answers took over 2 s (the Reporter counts no latency).
func (w *detectWorld) traffic(t *testing.T, ctx context.Context, wg *sync.WaitGroup) {
	t.Helper()
	token := metricsToken(t, w.app, w.app.cfg.Load())
	onMem := &http.Transport{DialContext: w.mem.Dial}
	toUpstate := &http.Client{Transport: onMem}
	rep := &client.Reporter{URL: "http://" + w.app.Addr(), Token: token, App: "web", Every: 10 * time.Second, HTTP: toUpstate}
	tr := &client.Transport{Base: onMem, RetryServerErrors: true, BreakAfter: -1, Observer: rep, Rand: func() float64 { return 0.5 }}
	users := &http.Client{Transport: tr}
	var mu sync.Mutex
	slowAnswers := 0
	wg.Add(3)
	go func() {
		defer wg.Done()
		rep.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			mu.Lock()
			n := slowAnswers
			slowAnswers = 0
			mu.Unlock()
			if n == 0 {
				continue
			}
			body := fmt.Sprintf(`{"metrics": [{"name": "api_slow_answers", "labels": {"app": "web"}, "value": %d}]}`, n)
			req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+w.app.Addr()+"/api/v1/metrics", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := toUpstate.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("push: HTTP %d", resp.StatusCode)
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		defer onMem.CloseIdleConnections()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rctx, cancel := context.WithTimeout(ctx, 3*time.Second) // users wait 3 s, no longer
			req, _ := http.NewRequestWithContext(rctx, "GET", w.srv.URL+"/", nil)
			req.Header.Set("User-Agent", "a user")
			start := time.Now()
			if resp, err := users.Do(req); err == nil {
				resp.Body.Close()
			}
			if time.Since(start) > 2*time.Second {
				mu.Lock()
				slowAnswers++
				mu.Unlock()
			}
			cancel()
		}
	}()
}

// TestDetectionTable measures, in a synctest bubble (exact, whatever the
// machine), how long after the API breaks the incident is open, for a
// 60 s check: hard down, a quarter of requests answering 500, every
// answer 5 s late (over its 2 s bound); each alone and with the users'
// traffic reported every 10 s. Breaks come every 5 s across the interval;
// a quarter failing is drawn at random, another seed for each break. Run
// with -v for the table BENCHMARKS.md records.
func TestDetectionTable(t *testing.T) {
	if testing.Short() {
		t.Skip("72 runs of the whole app: not in -short")
	}
	cases := []detectCase{
		{"hard down", hardDown, false, false},
		{"25% answer 500", quarter, false, false},
		{"5 s slow", slow, false, false},
		{"hard down, users reported", hardDown, true, false},
		{"25% answer 500, users reported", quarter, true, false},
		{"5 s slow, users reported", slow, true, false},
		{"25% answer 500, burst always", quarter, false, true},
	}
	var lines []string
	for _, c := range cases {
		var opens, partials, shares []time.Duration
		var scopes []float64
		for i := range 12 {
			off := time.Duration(i) * 5 * time.Second
			d := detectOnce(t, c, off, uint64(i+1))
			opens = append(opens, d.open)
			want := map[mode]upstate.Status{hardDown: upstate.MajorOutage, quarter: upstate.PartialOutage, slow: upstate.DegradedPerformance}[c.mode]
			if c.passive && c.mode != slow {
				want = upstate.PartialOutage // the users' failures, by the metric check's impact; a probe may add more
			}
			if upstate.Worse(d.status, want) != d.status {
				t.Errorf("%s, break %v into the interval: API %s at the incident, want at least %s", c.name, off, d.status, want)
			}
			if c.mode == quarter {
				if d.share == 0 {
					t.Errorf("%s, break %v: the share was never measured", c.name, off)
				}
				partials, shares, scopes = append(partials, d.partial), append(shares, d.share), append(scopes, d.scope)
			}
			// The promise: a hard failure seen by the first probe after
			// the break, confirmed by its burst (4.5 s); slowness known at
			// the bound (2 s) and confirmed by a burst of samples stopped
			// there (4.5 s + 2 s).
			limit := map[mode]time.Duration{hardDown: 65 * time.Second, slow: 69 * time.Second, quarter: 30 * time.Minute}[c.mode]
			if c.passive {
				limit = 21 * time.Second // a report every 10 s, judged as it arrives
			}
			if c.always {
				limit = 2*time.Minute + 5*time.Second // two intervals, and the burst that measures the share
			}
			if d.open > limit {
				t.Errorf("%s, break %v into the interval: incident after %v, want at most %v", c.name, off, d.open, limit)
			}
		}
		line := fmt.Sprintf("| %s | %s |", c.name, spread(opens))
		if c.mode == quarter {
			line += fmt.Sprintf(" partial_outage: %s; with its share: %s; scope %v |", spread(partials), spread(shares), scopes)
		} else {
			line += " |"
		}
		lines = append(lines, line)
	}
	t.Logf("break → incident open, 12 breaks 5 s apart across a 60 s interval (min / median / max):\n%s", strings.Join(lines, "\n"))
}

// spread is min / median / max.
func spread(ds []time.Duration) string {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	r := func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }
	return fmt.Sprintf("%s / %s / %s", r(ds[0]), r(ds[len(ds)/2]), r(ds[len(ds)-1]))
}
