package incident

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

// sharedLock is cluster.Node's Lock within one process: it remembers
// who held it last.
type sharedLock struct {
	mu        sync.Mutex
	last      string
	announced []string
	taken     int
}

type holder struct {
	l    *sharedLock
	name string
}

func (h holder) Lock(context.Context) (bool, func(bool), error) {
	h.l.mu.Lock()
	stale := h.l.last != h.name
	h.l.last = h.name
	h.l.taken++
	return stale, func(changed bool) {
		if changed {
			h.l.announced = append(h.l.announced, h.name)
		}
		h.l.mu.Unlock()
	}, nil
}

// sharedStore is the one database two engines share in these tests, and
// their clock.
func sharedStore(t *testing.T) (*sqlite.DB, *clock.Fake) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "upstate.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, clock.NewFake(t0)
}

// Two engines on one database, each deciding for its own checks, make
// one incident of one problem: the second re-reads what the first
// decided before it decides, and each announces its change.
func TestSharedEnginesDecideOnOneState(t *testing.T) {
	ctx := context.Background()
	db, clk := sharedStore(t)
	comps := []upstate.Component{
		{ID: "api", Name: "API", DependsOn: []string{"database"}},
		{ID: "database", Name: "Database"},
	}
	checks := []upstate.CheckSpec{
		{ID: "api-health", Name: "API health", Kind: "http", Interval: time.Minute, Components: []string{"api"}, Decide: &upstate.DecideSpec{RecoveryWindow: time.Minute}},
		{ID: "db-port", Name: "DB port", Kind: "tcp", Interval: time.Minute, Components: []string{"database"}, Decide: &upstate.DecideSpec{RecoveryWindow: time.Minute}},
	}
	if err := db.SyncComponents(ctx, comps, clk.Now()); err != nil {
		t.Fatal(err)
	}
	lock := &sharedLock{}
	n := 0
	var leads sync.Map
	open := func(name string) *Engine {
		e, err := New(ctx, Options{Store: db, Clock: clk, Components: comps, Checks: checks, NewID: func() string { n++; return fmt.Sprintf("id%d", n) },
			Shared: holder{lock, name}, Leads: func() bool { v, _ := leads.Load(name); return v == true }})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a, b := open("a"), open("b")
	leads.Store("a", true)
	// A check's first word that it is up is recorded without the lock:
	// it changes nothing else.
	taken := lock.taken
	now := clk.Now()
	if err := b.Handle(ctx, upstate.Transition{From: upstate.Condition{CheckID: "api-health", State: upstate.StateUnknown},
		To: upstate.Condition{CheckID: "api-health", State: upstate.StateUp, Since: now, At: now, Evidence: "HTTP 200"}}); err != nil {
		t.Fatal(err)
	}
	if lock.taken != taken {
		t.Fatal("a first word of up took the shared lock")
	}
	if conds, _ := db.ListConditions(ctx); conds["api-health"].State != upstate.StateUp {
		t.Fatalf("the first word was not recorded: %+v", conds["api-health"])
	}
	down := func(e *Engine, check string, to upstate.State) {
		t.Helper()
		now := clk.Now()
		tr := upstate.Transition{From: upstate.Condition{CheckID: check, State: upstate.StateUp},
			To: upstate.Condition{CheckID: check, State: to, Since: now, At: now, Evidence: "connection refused"}}
		if to == upstate.StateUp {
			tr.From.State = upstate.StateDown
		}
		if err := e.Handle(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	down(a, "db-port", upstate.StateDown)
	clk.Advance(20 * time.Second)
	down(b, "api-health", upstate.StateDown)
	all, err := db.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("%d open incidents, want one for one problem: %+v", len(all), all)
	}
	if !all[0].HasComponent("api") || !all[0].HasComponent("database") {
		t.Fatalf("the incident covers %+v; want api joined to database's", all[0].Components)
	}
	if st := b.Statuses(); st["database"] == upstate.Operational || st["api"] == upstate.Operational {
		t.Fatalf("b's statuses %v miss a's decision", st)
	}
	// a, which has not decided since, learns b's part by Refresh (a
	// peer's announcement) without taking the lock.
	a.Refresh()
	if _, err := a.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.Statuses()["api"]; got == upstate.Operational {
		t.Fatalf("after a refresh a still has api %s", got)
	}
	// Both recover on b; the leader, a, resolves once recovery held.
	down(b, "db-port", upstate.StateUp)
	down(b, "api-health", upstate.StateUp)
	clk.Advance(2 * time.Minute)
	if _, err := b.Tick(ctx); err != nil { // not the leader: resolves nothing
		t.Fatal(err)
	}
	if all, _ := db.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true}); len(all) != 1 {
		t.Fatalf("a follower resolved the incident")
	}
	if _, err := a.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if all, _ := db.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true}); len(all) != 0 {
		t.Fatalf("the leader left %d open after recovery held", len(all))
	}
	if len(lock.announced) < 3 {
		t.Fatalf("changes announced by %v", lock.announced)
	}
}

// Many checks failing at once on two instances: every transition is
// decided and recorded, whoever held the lock when it came, and they make
// one incident.
func TestSharedEnginesTakeAStorm(t *testing.T) {
	ctx := context.Background()
	db, clk := sharedStore(t)
	comps := []upstate.Component{{ID: "api", Name: "API"}}
	var checks []upstate.CheckSpec
	for i := range 40 {
		checks = append(checks, upstate.CheckSpec{ID: fmt.Sprintf("c%02d", i), Name: fmt.Sprintf("Check %d", i), Kind: "http", Interval: time.Minute,
			Components: []string{"api"}, Decide: &upstate.DecideSpec{RecoveryWindow: time.Minute}})
	}
	if err := db.SyncComponents(ctx, comps, clk.Now()); err != nil {
		t.Fatal(err)
	}
	lock := &sharedLock{}
	var mu sync.Mutex
	n := 0
	var engines []*Engine
	for _, name := range []string{"a", "b"} {
		e, err := New(ctx, Options{Store: db, Clock: clk, Components: comps, Checks: checks, Shared: holder{lock, name},
			NewID: func() string { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("id%d", n) }})
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	taken := lock.taken
	var wg sync.WaitGroup
	now := clk.Now()
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := upstate.Transition{From: upstate.Condition{CheckID: c.ID, State: upstate.StateUp},
				To: upstate.Condition{CheckID: c.ID, State: upstate.StateDown, Since: now, At: now, Evidence: "refused"}}
			if err := engines[i%2].Handle(ctx, tr); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Whatever is left in an inbox is decided by the caller holding the
	// lock before it returns; nothing waits for a tick.
	conds, _ := db.ListConditions(ctx)
	for _, c := range checks {
		if conds[c.ID].State != upstate.StateDown {
			t.Fatalf("%s is %q in the store; every transition must be recorded", c.ID, conds[c.ID].State)
		}
	}
	open, _ := db.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
	if len(open) != 1 {
		t.Fatalf("%d open incidents for one component's outage", len(open))
	}
	t.Logf("40 transitions took the lock %d times", lock.taken-taken)
}

// Saving a postmortem gives back no HTML of the words it replaced: the
// store renders the new ones, and reads give them back.
func TestSavedPostmortemCarriesNoOldHTML(t *testing.T) {
	ctx := context.Background()
	db, clk := sharedStore(t)
	in := &upstate.Incident{ID: "pmpmpmpmpmpm", Name: "API down", Status: upstate.Resolved, Impact: upstate.ImpactMajor, CreatedAt: t0, UpdatedAt: t0, StartedAt: t0, DetectedAt: t0}
	if err := db.Apply(ctx, store.Change{Incidents: []*upstate.Incident{in}}); err != nil {
		t.Fatal(err)
	}
	r := &Reviews{Store: db, Clock: clk}
	if _, err := r.Save(ctx, in.ID, Draft{RootCause: "A *lock*.", Fix: "Timeouts.", Actor: "Dana"}); err != nil {
		t.Fatal(err)
	}
	if p, err := db.GetPostmortem(ctx, in.ID); err != nil || p.RootCauseHTML == "" {
		t.Fatalf("the store kept no HTML: %+v, %v", p, err)
	}
	got, err := r.Save(ctx, in.ID, Draft{RootCause: "A long *query*.", Fix: "Statement timeouts.", Actor: "Dana"})
	if err != nil || got.RootCauseHTML != "" || got.FixHTML != "" || got.ContributingHTML != "" {
		t.Errorf("saved = %+v, %v; want no HTML of the words before", got, err)
	}
	if p, _ := db.GetPostmortem(ctx, in.ID); !strings.Contains(p.RootCauseHTML, "<em>query</em>") {
		t.Errorf("the store's HTML after the save: %q", p.RootCauseHTML)
	}
}
