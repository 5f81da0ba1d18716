package cluster

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/upstatehq/upstate/internal/probe/probetest"
)

// clocked is a node's local clock, moved by the test.
type clocked struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clocked) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clocked) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type testNode struct {
	*Node
	clock *clocked
	mu    sync.Mutex
	heard []string
}

func (n *testNode) topics() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.heard)
}

func join(t *testing.T, dsn, name string) *testNode {
	t.Helper()
	tn := &testNode{clock: &clocked{now: time.Now()}}
	n, err := Open(t.Context(), Options{DSN: dsn, Name: name, Addr: "127.0.0.1:1", Version: "test", Now: tn.clock.Now,
		Notified: func(topic string) { tn.mu.Lock(); tn.heard = append(tn.heard, topic); tn.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	t.Cleanup(func() { _ = n.Leave(context.Background()) })
	return tn
}

func exec(t *testing.T, dsn, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// Instances see each other, one leads, a name is refused while its
// instance lives, and one gone silent past the lease is gone: its checks
// go to the others and another takes the lead.
func TestMembershipOnPostgres(t *testing.T) {
	dsn := probetest.FreshPostgres(t, "upstate_cluster_")
	ctx := t.Context()
	a, b := join(t, dsn, "a"), join(t, dsn, "b")
	if _, err := Open(ctx, Options{DSN: dsn, Name: "a"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("a second live instance named a: %v, want ErrNameTaken", err)
	}
	for _, n := range []*testNode{a, b, a} {
		if err := n.Beat(ctx); err != nil {
			t.Fatal(err)
		}
	}
	v := b.View()
	if !slices.Equal(v.Live, []string{"a", "b"}) || v.Fenced {
		t.Fatalf("b sees %+v", v)
	}
	if v.Leader != "a" || !a.Leader() || b.Leader() {
		t.Fatalf("leader %q (a says %v, b says %v); want a, which beat first", v.Leader, a.Leader(), b.Leader())
	}
	// a falls silent: its heartbeat and lease are made older than the
	// lease, as if it had been killed that long ago.
	exec(t, dsn, `UPDATE cluster_instances SET heartbeat_at = now() - interval '1 minute' WHERE name = 'a'`)
	exec(t, dsn, `UPDATE cluster_locks SET until = now() - interval '1 second' WHERE name = 'leader'`)
	if err := b.Beat(ctx); err != nil {
		t.Fatal(err)
	}
	v = b.View()
	if !slices.Equal(v.Live, []string{"b"}) || v.Leader != "b" || !b.Leader() {
		t.Fatalf("after a went silent b sees %+v (leads: %v)", v, b.Leader())
	}
	if len(v.Members) != 2 || v.Members[1].Name != "a" || v.Members[1].Live {
		t.Fatalf("the gone instance is listed as %+v", v.Members)
	}
	// a comes back: it beats again and is live, but no longer leads.
	if err := a.Beat(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Leader() {
		t.Fatal("a took the lead back while b holds it")
	}
	// b's local clock runs past the fence with no heartbeat: it runs
	// nothing and does not lead, though its row still looks live.
	b.clock.add(b.Timings().Fence + time.Second)
	if v := b.View(); !v.Fenced || b.Leader() {
		t.Fatalf("past the fence b is %+v, leads %v", v, b.Leader())
	}
}

// The engine lock is stale to an instance after another has held it, and
// a change is announced to the others (and not to the one that made it).
func TestEngineLockOnPostgres(t *testing.T) {
	dsn := probetest.FreshPostgres(t, "upstate_cluster_")
	ctx := t.Context()
	a, b := join(t, dsn, "a"), join(t, dsn, "b")
	go a.Run(ctx)
	go b.Run(ctx)
	lock := func(n *testNode, changed bool) bool {
		t.Helper()
		stale, unlock, err := n.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		unlock(changed)
		return stale
	}
	if !lock(a, true) {
		t.Fatal("a's first lock is not stale: it has read nothing yet")
	}
	if lock(a, false) {
		t.Fatal("a's second lock, nobody else between, is stale")
	}
	if !lock(b, true) {
		t.Fatal("b's first lock is not stale")
	}
	if !lock(a, false) {
		t.Fatal("a's lock after b held it is not stale")
	}
	// Mutual exclusion: b waits while a holds it.
	_, unlock, err := a.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		_, u, err := b.Lock(ctx)
		if err == nil {
			u(false)
		}
		close(got)
	}()
	// Only this test's database: other packages' tests take the same
	// advisory lock in theirs.
	probetest.Eventually(t, "b waiting on the engine lock", func(ctx context.Context) (bool, error) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return false, err
		}
		defer conn.Close(context.Background())
		var n int
		err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		return n == 1, err
	})
	select {
	case <-got:
		t.Fatal("b took the lock a holds")
	default:
	}
	unlock(false)
	<-got
	// a's announced change reached b, b's reached a.
	probetest.Eventually(t, "announcements", func(context.Context) (bool, error) {
		return slices.Contains(b.topics(), TopicEngine) && slices.Contains(a.topics(), TopicEngine), nil
	})
}

// An instance killed while holding the engine lock does not keep it: its
// session ends and another instance takes it, finding it stale.
func TestEngineLockDiesWithItsHolder(t *testing.T) {
	dsn := probetest.FreshPostgres(t, "upstate_cluster_")
	ctx := t.Context()
	a, b := join(t, dsn, "a"), join(t, dsn, "b")
	_, held, err := a.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The process dies: its connections close.
	_ = a.lockConn.Conn().Close(ctx)
	defer held(false)
	stale, unlock, err := b.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(false)
	if !stale {
		t.Fatal("the lock a dead instance held is not stale")
	}
}
