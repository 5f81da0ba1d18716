package app

import (
	"context"
	"net"
	"slices"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
)

// idleListener accepts nothing: the app serves on it without a network,
// and inside a synctest bubble its Accept counts as idle.
type idleListener struct {
	once   sync.Once
	closed chan struct{}
}

func newIdleListener() *idleListener { return &idleListener{closed: make(chan struct{})} }

func (l *idleListener) Accept() (net.Conn, error) { <-l.closed; return nil, net.ErrClosed }
func (l *idleListener) Close() error              { l.once.Do(func() { close(l.closed) }); return nil }
func (l *idleListener) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// Heartbeat checks that look for silence every 30 s, without quick
// re-checks, so every result falls on its check's regular cadence.
//   - backup is silent from the start: down after its third silent look,
//     with an incident on batch.
//   - queue beats no more either, but with a longer period: two silent
//     looks before the reload, the third (which confirms down) after it.
//   - web-ping is healthy all along.
//   - api-ping is down too; the reload changes how it decides.
const reloadBefore = `page: {name: Reload test}
components:
  - {id: batch, name: Batch jobs}
  - {id: web, name: Website}
  - {id: api, name: API}
checks:
  - {id: backup, kind: heartbeat, period: 1m, interval: 30s, token: t1, recheck: {count: 0}, components: [batch]}
  - {id: queue, kind: heartbeat, period: 130s, interval: 30s, token: t2, recheck: {count: 0}, components: [batch]}
  - {id: web-ping, kind: heartbeat, period: 24h, interval: 30s, token: t3, recheck: {count: 0}, components: [web]}
  - {id: api-ping, kind: heartbeat, period: 1m, interval: 30s, token: t4, recheck: {count: 0}, fail_after: 3, components: [api]}
`

// The reload adds a component and its check and changes api-ping's
// fail_after (a decision setting); nothing else changes.
const reloadAfter = `page: {name: Reload test}
components:
  - {id: batch, name: Batch jobs}
  - {id: web, name: Website}
  - {id: api, name: API}
  - {id: search, name: Search}
checks:
  - {id: backup, kind: heartbeat, period: 1m, interval: 30s, token: t1, recheck: {count: 0}, components: [batch]}
  - {id: queue, kind: heartbeat, period: 130s, interval: 30s, token: t2, recheck: {count: 0}, components: [batch]}
  - {id: web-ping, kind: heartbeat, period: 24h, interval: 30s, token: t3, recheck: {count: 0}, components: [web]}
  - {id: api-ping, kind: heartbeat, period: 1m, interval: 30s, token: t4, recheck: {count: 0}, fail_after: 4, components: [api]}
  - {id: search-ping, kind: heartbeat, period: 24h, interval: 30s, token: t5, recheck: {count: 0}, components: [search]}
`

// Reloading keeps what the running system knows: unchanged checks keep
// their decision machines (condition and the results on the way to the
// next one), open incidents stay open under their ids and the next
// failures do not open others, every check keeps its place on the
// schedule, and a check whose decision settings changed starts its new
// machine from the condition it had. The whole app runs on the bubble's
// clock (testing/synctest): time moves only when everything is idle.
func TestReloadKeepsState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		parse := func(yaml, dataDir string) *config.Config {
			t.Helper()
			cfg, err := config.Parse("t.yaml", []byte(yaml), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Server.DataDir = dataDir
			return cfg
		}
		cfg := parse(reloadBefore, t.TempDir())
		a, err := New(ctx, Options{Config: cfg, Listener: newIdleListener()})
		if err != nil {
			t.Fatal(err)
		}
		// The scheduler spreads checks from when it starts; the
		// heartbeats count silence from when the app was made. Both are
		// now: nothing has waited yet.
		t0 := time.Now()
		if !a.env.Started.Equal(t0) {
			t.Fatalf("the app was made at %v, the test started at %v", a.env.Started, t0)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		stopped := false
		defer func() {
			if !stopped {
				a.Stop(ctx)
			}
		}()
		// until moves the bubble's clock to t0+d: every timer due before
		// fires at its own instant, and everything settles in between.
		until := func(d time.Duration) {
			time.Sleep(t0.Add(d).Sub(time.Now()))
			synctest.Wait()
		}
		state := func(id string) (decider, upstate.Condition, upstate.DecideSpec) {
			st := a.checks.Load().byID[id]
			if st == nil {
				t.Fatalf("no check %s", id)
			}
			st.mu.Lock()
			defer st.mu.Unlock()
			return st.machine, st.machine.Condition(), st.spec.Deciding()
		}
		openIDs := func() []string {
			t.Helper()
			ins, err := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, in := range ins {
				ids = append(ids, in.ID)
			}
			sort.Strings(ids)
			return ids
		}
		allIncidents := func() int {
			t.Helper()
			ins, err := a.store.ListIncidents(ctx, upstate.IncidentFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return len(ins)
		}
		wantStatuses := func(when string, want map[string]upstate.Status) {
			t.Helper()
			got := a.engine.Statuses()
			for id, w := range want {
				if got[id] != w {
					t.Errorf("%s: %s is %s, want %s", when, id, got[id], w)
				}
			}
		}

		// Before: backup and api-ping confirmed down, each with its
		// incident; queue has failed twice, not enough to confirm.
		const reloadAt = 190 * time.Second
		until(reloadAt)
		backupM, backupC, _ := state("backup")
		queueM, queueC, _ := state("queue")
		webM, webC, _ := state("web-ping")
		apiM, apiC, _ := state("api-ping")
		if backupC.State != upstate.StateDown || apiC.State != upstate.StateDown || webC.State != upstate.StateUp || queueC.State != upstate.StateUp {
			t.Fatalf("before the reload: backup %s, api-ping %s, web-ping %s, queue %s; want down, down, up, up (two silent looks)",
				backupC.State, apiC.State, webC.State, queueC.State)
		}
		wantStatuses("before the reload", map[string]upstate.Status{"batch": upstate.MajorOutage, "api": upstate.MajorOutage, "web": upstate.Operational})
		open := openIDs()
		total := allIncidents()
		if len(open) != 2 || total != 2 {
			t.Fatalf("before the reload: open incidents %v of %d, want 2 of 2", open, total)
		}

		if err := a.Reload(ctx, parse(reloadAfter, cfg.Server.DataDir)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()

		// Unchanged checks keep their machines, so their conditions.
		for _, c := range []struct {
			id   string
			m    decider
			cond upstate.Condition
		}{{"backup", backupM, backupC}, {"queue", queueM, queueC}, {"web-ping", webM, webC}} {
			m, cond, _ := state(c.id)
			if m != c.m || cond != c.cond {
				t.Errorf("%s after the reload: machine %p with %+v, want the same machine %p with %+v", c.id, m, cond, c.m, c.cond)
			}
		}
		// A changed decision setting makes a new machine with the new
		// setting, starting from the stored condition rather than unknown.
		m, cond, spec := state("api-ping")
		stored, err := a.store.ListConditions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m == apiM || spec.FailAfter != 4 {
			t.Errorf("api-ping after fail_after changed: same machine %v, fail_after %d; want a new machine deciding on 4", m == apiM, spec.FailAfter)
		}
		if s := stored["api-ping"]; cond.State != s.State || cond.Partial != s.Partial || !cond.Since.Truncate(time.Millisecond).Equal(s.Since) || cond != apiC {
			t.Errorf("api-ping's new machine starts from %+v, want the stored condition %+v (%+v before the reload)", cond, s, apiC)
		}
		if _, ok := a.checks.Load().byID["search-ping"]; !ok {
			t.Error("the added check is not running")
		}
		wantStatuses("right after the reload", map[string]upstate.Status{"batch": upstate.MajorOutage, "api": upstate.MajorOutage, "web": upstate.Operational, "search": upstate.Operational})
		if got := openIDs(); !slices.Equal(got, open) {
			t.Errorf("open incidents after the reload: %v, want %v", got, open)
		}

		// Two more looks at each check.
		const end = 250 * time.Second
		until(end)
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		results := func(id string) []upstate.Result {
			t.Helper()
			rs, err := a.store.ListResults(ctx, id, t0, t0.Add(end))
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		// queue's third silent look confirms down: its machine kept the
		// two before the reload, so the outage began at the first.
		var silent []time.Time
		for _, r := range results("queue") {
			if !r.OK() {
				silent = append(silent, r.At)
			}
		}
		if len(silent) < 3 || !silent[1].Before(t0.Add(reloadAt)) || silent[2].Before(t0.Add(reloadAt)) {
			t.Fatalf("queue's silent looks at %v; want two before the reload at %v and the third after", silent, t0.Add(reloadAt))
		}
		if _, cond, _ := state("queue"); cond.State != upstate.StateDown || !cond.Since.Truncate(time.Millisecond).Equal(silent[0]) {
			t.Errorf("queue after its third silent look: %s since %v, want down since its first silent look at %v", cond.State, cond.Since.Sub(t0), silent[0].Sub(t0))
		}
		for _, c := range []struct {
			id   string
			cond upstate.Condition
		}{{"backup", backupC}, {"api-ping", apiC}} {
			if _, cond, _ := state(c.id); cond.State != c.cond.State || !cond.Since.Equal(c.cond.Since) {
				t.Errorf("%s after more failures: %s since %v, want %s since %v, unchanged", c.id, cond.State, cond.Since.Sub(t0), c.cond.State, c.cond.Since.Sub(t0))
			}
		}
		wantStatuses("after more failures", map[string]upstate.Status{"batch": upstate.MajorOutage, "api": upstate.MajorOutage, "web": upstate.Operational, "search": upstate.Operational})
		if got, n := openIDs(), allIncidents(); !slices.Equal(got, open) || n != total {
			t.Errorf("after the failures that followed the reload: open %v of %d incidents, want %v of %d", got, n, open, total)
		}

		// Every kept check went on at its old cadence: a result every 30 s
		// on the dot, through the reload, none missed and none early.
		for _, id := range []string{"backup", "queue", "web-ping", "api-ping"} {
			rs := results(id)
			var after int
			for i, r := range rs {
				if i > 0 {
					if gap := r.At.Sub(rs[i-1].At); gap != 30*time.Second {
						t.Errorf("%s: results at %v and %v, %v apart; want 30s (the reload must not move a kept check)", id, rs[i-1].At.Sub(t0), r.At.Sub(t0), gap)
					}
				}
				if r.At.After(t0.Add(reloadAt)) {
					after++
				}
			}
			if len(rs) == 0 || rs[0].At.Sub(t0) >= 30*time.Second || t0.Add(end).Sub(rs[len(rs)-1].At) > 30*time.Second || after != 2 {
				t.Errorf("%s: %d results, %d after the reload; want the first within 30s, the last within 30s of %v, 2 after the reload", id, len(rs), after, end)
			}
		}
		// The added check runs from the reload on, spread over its interval.
		if rs := results("search-ping"); len(rs) < 2 || !rs[0].At.After(t0.Add(reloadAt)) || rs[0].At.Sub(t0.Add(reloadAt)) >= 30*time.Second {
			t.Errorf("the added check's results: %+v; want them from within 30s of the reload on", rs)
		}
		if err := a.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		stopped = true
	})
}
