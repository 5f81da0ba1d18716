// Package cluster lets several `upstate serve` processes share one
// PostgreSQL database and its work without a protocol of their own: every
// fact they agree on is a row or a lock in that database, and its clock is
// the only one compared across machines.
//
//   - Membership: each instance keeps a row in cluster_instances, its
//     heartbeat written with the database's now() every Beat (Lease/5).
//     An instance whose heartbeat is older than Lease−Beat is gone.
//   - Checks: each live instance runs the checks it ranks first for by
//     rendezvous hashing over the live instances' names (View.Owner), so a
//     change of membership moves only the checks of the instance that came
//     or went. Planner says when a gained check may start so that no check
//     runs twice in one slot: at once when its last owner is gone, after
//     Grace when its last owner is alive (a newcomer waits until every
//     other instance has seen it and let go). An instance that cannot
//     renew its heartbeat for Fence runs nothing (View.Fenced) until it
//     can, so one cut off from the database has stopped long before the
//     others take its checks over.
//   - Singleton work (retention, the incident engine's timers, reminders)
//     runs on the leader: the holder of the lease row in cluster_locks,
//     renewed with each heartbeat and given up when it cannot be.
//   - The incident engine's decisions are serialised across instances by
//     Lock, a PostgreSQL advisory lock; whether someone else decided since
//     this instance last did tells the engine to re-read its state first.
//   - Changes are announced with NOTIFY on the channel "upstate" and heard
//     by every other instance's LISTEN (Options.Notified), so each rebuilds
//     its own public snapshot within a second, and serves its last one
//     while the database is unreachable.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// channel is the NOTIFY channel every instance listens on.
const channel = "upstate"

// Advisory lock keys ("upsteng" and "upstsch" in ASCII), apart from the
// store's migration lock.
const (
	engineLock int64 = 0x75707374656e67
	schemaLock int64 = 0x75707374736368
)

// Topics announced between instances.
const (
	// TopicEngine: an incident or status changed (the engine decided).
	TopicEngine = "engine"
	// TopicPage: something else the public page shows changed (a
	// postmortem published, an incident hidden).
	TopicPage = "page"
	// TopicConsole: a check or component was made, changed or removed in
	// the console.
	TopicConsole = "console"
	// TopicMembers: an instance joined or left.
	TopicMembers = "members"
	// TopicAll is passed to Notified after the listener reconnects: what
	// was announced meanwhile was missed, so everything is re-read.
	TopicAll = "*"
)

// Options configure a Node.
type Options struct {
	// DSN is the PostgreSQL database the store uses; never logged.
	DSN string
	// Name is the instance's stable name, unique among live instances:
	// server.cluster.name, else the host name and listening port. Checks
	// are ranked by it, so a restarted instance gets its checks back.
	Name string
	// Addr is where the instance's HTTP server listens, for the cluster
	// page.
	Addr    string
	Version string
	// Lease is how long an instance may go without a heartbeat before it
	// is gone and its checks are taken over. Default 10 s, at least 2 s.
	Lease  time.Duration
	Logger *slog.Logger
	// Changed is called after each heartbeat with the view it read, from
	// the heartbeat's goroutine.
	Changed func(View)
	// Notified is called with each topic another instance announced (and
	// TopicAll after a reconnect), from the listener's goroutine.
	Notified func(topic string)
	// Now is the local clock, for the fence (how long since the last
	// heartbeat went through); default time.Now.
	Now func() time.Time
}

// Timings derived from the lease.
type Timings struct {
	Lease time.Duration // an instance silent for longer is gone
	Beat  time.Duration // how often each instance writes its heartbeat
	// Fence is how long an instance goes on running its checks without a
	// heartbeat going through; it is shorter than the Lease−Beat after
	// which the others take them.
	Fence time.Duration
	// Grace is how long a check taken from a live instance waits: longer
	// than Fence, so that instance has seen the change or stopped.
	Grace time.Duration
}

// TimingsFor derives the timings from a lease.
func TimingsFor(lease time.Duration) Timings {
	if lease <= 0 {
		lease = 10 * time.Second
	}
	lease = max(lease, 2*time.Second)
	beat := lease / 5
	return Timings{Lease: lease, Beat: beat, Fence: lease / 2, Grace: lease/2 + beat}
}

// Member is one instance as the database knows it.
type Member struct {
	ID        string    `json:"id"` // this process's own, new at each start
	Name      string    `json:"name"`
	Addr      string    `json:"addr"`
	Version   string    `json:"version"`
	Started   time.Time `json:"started_at"`
	Heartbeat time.Time `json:"heartbeat_at"`
	// Checks is how many checks it runs, and Lag its schedule's start
	// lag (p99 over the last minute), as it last reported them.
	Checks int           `json:"checks"`
	Lag    time.Duration `json:"-"`
	Leader bool          `json:"leader"`
	Live   bool          `json:"live"`
}

// View is the membership as one heartbeat read it.
type View struct {
	// At is the database's time of the read.
	At time.Time
	// Self is this instance's name.
	Self string
	// Members are every instance seen lately (gone ones for an hour),
	// live ones first, each group by name.
	Members []Member
	// Live are the live instances' names, sorted.
	Live []string
	// Leader is the live instance holding the leader's lease, if any.
	Leader string
	// Fenced says this instance could not renew its heartbeat for Fence:
	// it must run nothing.
	Fenced bool
}

// Owner is the live instance that runs the check: the one ranked first by
// rendezvous hashing of its name with the check's id. Empty with none.
func (v View) Owner(check string) string { return owner(v.Live, check) }

func owner(live []string, check string) string {
	best, bestScore := "", uint64(0)
	for _, name := range live {
		h := fnv.New64a()
		_, _ = h.Write([]byte(name))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(check))
		if s := mix(h.Sum64()); best == "" || s > bestScore || (s == bestScore && name < best) {
			best, bestScore = name, s
		}
	}
	return best
}

// mix spreads FNV's output (whose high bits barely move with the last
// bytes) so each name's share of the checks comes out even.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// Node is this instance's membership.
type Node struct {
	opts Options
	t    Timings
	id   string
	pool *pgxpool.Pool

	mu       sync.Mutex
	view     View
	lastBeat time.Time // local time the last heartbeat that went through began
	leader   bool
	checks   int
	lag      time.Duration
	stopped  bool

	// lockConn is the engine lock's own connection, kept between uses
	// (an advisory lock is the session's); lockMu serialises its users.
	lockMu   sync.Mutex
	lockConn *pgxpool.Conn
	// held says this instance was the last to take the engine lock and
	// nobody has taken it since, as far as it knows.
	held bool

	kick chan struct{}
	// listening is the listener's connection, LISTENing since Open, so
	// nothing announced after Open returns is missed; Run takes it (under
	// mu), and Leave closes it if Run never did.
	listening *pgxpool.Conn
}

// Open connects, makes the cluster's tables if they are missing and joins:
// it refuses a name a live instance already has.
func Open(ctx context.Context, opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Changed == nil {
		opts.Changed = func(View) {}
	}
	if opts.Notified == nil {
		opts.Notified = func(string) {}
	}
	if opts.Name == "" {
		return nil, errors.New("cluster: an instance needs a name")
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	cfg.MaxConns = 4 // heartbeat, listener, engine lock, NOTIFY
	cfg.MinConns = 0
	// The server notices a client that vanished (power lost, cable cut)
	// within about ten seconds and ends its session, releasing the
	// engine lock it may hold.
	cfg.ConnConfig.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.ConnConfig.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.ConnConfig.RuntimeParams["tcp_keepalives_count"] = "3"
	cfg.ConnConfig.RuntimeParams["application_name"] = "upstate cluster " + opts.Name
	cfg.ConnConfig.DialFunc = (&net.Dialer{KeepAlive: 5 * time.Second, Timeout: 10 * time.Second}).DialContext
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{opts: opts, t: TimingsFor(opts.Lease), id: newID(), pool: pool, kick: make(chan struct{}, 1)}
	if err := n.schema(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if n.listening, err = n.listenConn(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cluster: listen: %w", err)
	}
	if err := n.join(ctx); err != nil {
		_ = n.listening.Hijack().Close(context.Background())
		pool.Close()
		return nil, err
	}
	return n, nil
}

// listenConn is a connection of its own LISTENing on the channel.
func (n *Node) listenConn(ctx context.Context) (*pgxpool.Conn, error) {
	conn, err := n.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		_ = conn.Hijack().Close(context.Background())
		return nil, err
	}
	return conn, nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// schema makes the cluster's tables, once, under a lock so instances
// starting together do not race.
func (n *Node) schema(ctx context.Context) error {
	tx, err := n.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	stmts := []string{
		`SELECT pg_advisory_xact_lock(` + fmt.Sprint(schemaLock) + `)`,
		`CREATE TABLE IF NOT EXISTS cluster_instances (
			name         TEXT COLLATE "C" PRIMARY KEY,
			id           TEXT COLLATE "C" NOT NULL,
			addr         TEXT COLLATE "C" NOT NULL,
			version      TEXT COLLATE "C" NOT NULL,
			started_at   TIMESTAMPTZ NOT NULL,
			heartbeat_at TIMESTAMPTZ NOT NULL,
			checks       INTEGER NOT NULL DEFAULT 0,
			lag_ms       BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE IF NOT EXISTS cluster_locks (
			name   TEXT COLLATE "C" PRIMARY KEY,
			holder TEXT COLLATE "C" NOT NULL,
			until  TIMESTAMPTZ NOT NULL
		)`,
		`INSERT INTO cluster_locks (name, holder, until) VALUES ('leader', '', 'epoch'), ('engine', '', 'epoch') ON CONFLICT (name) DO NOTHING`,
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("cluster: make its tables: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("cluster: make its tables: %w", err)
	}
	return nil
}

// ErrNameTaken is Open's answer when a live instance has the name.
var ErrNameTaken = errors.New("a live instance already has this name")

// join writes this instance's row: a new one, or one a gone instance of
// the same name left.
func (n *Node) join(ctx context.Context) error {
	began := n.opts.Now()
	tag, err := n.pool.Exec(ctx, `INSERT INTO cluster_instances AS c (name, id, addr, version, started_at, heartbeat_at)
		VALUES ($1, $2, $3, $4, now(), now())
		ON CONFLICT (name) DO UPDATE SET id = EXCLUDED.id, addr = EXCLUDED.addr, version = EXCLUDED.version,
			started_at = now(), heartbeat_at = now(), checks = 0, lag_ms = 0
		WHERE c.heartbeat_at < now() - $5::interval`,
		n.opts.Name, n.id, n.opts.Addr, n.opts.Version, interval(n.t.Lease-n.t.Beat))
	if err != nil {
		return fmt.Errorf("cluster: join: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("cluster: instance name %q: %w (set server.cluster.name to a name of its own on each instance)", n.opts.Name, ErrNameTaken)
	}
	n.mu.Lock()
	n.lastBeat = began
	n.mu.Unlock()
	n.notify(ctx, TopicMembers)
	n.opts.Logger.Info("joined the cluster", "component", "cluster", "name", n.opts.Name, "lease", n.t.Lease)
	return nil
}

// interval is d as PostgreSQL's interval literal.
func interval(d time.Duration) string { return fmt.Sprintf("%d milliseconds", d.Milliseconds()) }

// Timings are the node's lease, heartbeat, fence and grace.
func (n *Node) Timings() Timings { return n.t }

// ID is this process's own id, new at each start: what it claims the
// outbox's messages as.
func (n *Node) ID() string { return n.id }

// Name is this instance's name.
func (n *Node) Name() string { return n.opts.Name }

// View is the membership as the last heartbeat read it, fenced when that
// is older than the fence.
func (n *Node) View() View {
	n.mu.Lock()
	defer n.mu.Unlock()
	v := n.view
	v.Members = slices.Clone(v.Members)
	v.Live = slices.Clone(v.Live)
	v.Fenced = n.fencedLocked()
	return v
}

func (n *Node) fencedLocked() bool {
	return n.lastBeat.IsZero() || n.opts.Now().Sub(n.lastBeat) > n.t.Fence
}

// Leader reports whether this instance holds the leader's lease and has
// renewed it within the fence.
func (n *Node) Leader() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leader && !n.fencedLocked()
}

// Report sets what the next heartbeat says this instance runs.
func (n *Node) Report(checks int, lag time.Duration) {
	n.mu.Lock()
	n.checks, n.lag = checks, lag
	n.mu.Unlock()
}

// Run beats and listens until ctx is done.
func (n *Node) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.listen(ctx)
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		case <-n.kick:
		}
		if err := n.Beat(ctx); err != nil && ctx.Err() == nil {
			n.opts.Logger.Warn("cluster heartbeat failed; this instance stops its checks once the fence passes", "component", "cluster",
				"fence", n.t.Fence, "err", err)
		}
		t.Reset(n.t.Beat)
	}
}

// Beat renews this instance's heartbeat and the leader's lease (taking it
// when free), reads the membership and hands it to Options.Changed.
func (n *Node) Beat(ctx context.Context) error {
	began := n.opts.Now()
	n.mu.Lock()
	checks, lag, stopped := n.checks, n.lag, n.stopped
	n.mu.Unlock()
	if stopped {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, n.t.Fence)
	defer cancel()
	v, leader, err := n.beat(ctx, checks, lag)
	if err != nil {
		n.mu.Lock()
		v := n.view
		v.Fenced = n.fencedLocked()
		n.mu.Unlock()
		n.opts.Changed(v)
		return err
	}
	n.mu.Lock()
	was := n.leader
	n.view, n.leader, n.lastBeat = v, leader, began
	v.Fenced = n.fencedLocked()
	n.mu.Unlock()
	if leader != was {
		if leader {
			n.opts.Logger.Info("this instance leads: it runs retention, the incident timers and reminders", "component", "cluster")
		} else {
			n.opts.Logger.Info("this instance no longer leads", "component", "cluster")
		}
	}
	n.opts.Changed(v)
	return nil
}

func (n *Node) beat(ctx context.Context, checks int, lag time.Duration) (View, bool, error) {
	var v View
	tx, err := n.pool.Begin(ctx)
	if err != nil {
		return v, false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	tag, err := tx.Exec(ctx, `UPDATE cluster_instances SET heartbeat_at = now(), checks = $3, lag_ms = $4, addr = $5 WHERE name = $1 AND id = $2`,
		n.opts.Name, n.id, checks, lag.Milliseconds(), n.opts.Addr)
	if err != nil {
		return v, false, err
	}
	if tag.RowsAffected() == 0 {
		// Our row was taken over after we were gone too long (another
		// process of our name joined) or removed: join again as new,
		// unless a live one has the name now.
		tag, err = tx.Exec(ctx, `INSERT INTO cluster_instances AS c (name, id, addr, version, started_at, heartbeat_at, checks, lag_ms)
			VALUES ($1, $2, $3, $4, now(), now(), $5, $6)
			ON CONFLICT (name) DO UPDATE SET id = EXCLUDED.id, addr = EXCLUDED.addr, version = EXCLUDED.version,
				started_at = now(), heartbeat_at = now(), checks = EXCLUDED.checks, lag_ms = EXCLUDED.lag_ms
			WHERE c.heartbeat_at < now() - $7::interval`,
			n.opts.Name, n.id, n.opts.Addr, n.opts.Version, checks, lag.Milliseconds(), interval(n.t.Lease-n.t.Beat))
		if err != nil {
			return v, false, err
		}
		if tag.RowsAffected() == 0 {
			return v, false, fmt.Errorf("instance name %q: %w", n.opts.Name, ErrNameTaken)
		}
	}
	// The leader's lease: renewed by its holder, taken by anyone once it
	// has run out.
	var leader string
	err = tx.QueryRow(ctx, `UPDATE cluster_locks SET holder = $1, until = now() + $2::interval
		WHERE name = 'leader' AND (holder = $1 OR until < now()) RETURNING holder`, n.id, interval(n.t.Lease-n.t.Beat)).Scan(&leader)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return v, false, err
	}
	isLeader := leader == n.id
	var leaderID string
	if err := tx.QueryRow(ctx, `SELECT holder FROM cluster_locks WHERE name = 'leader' AND until >= now()`).Scan(&leaderID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return v, false, err
	}
	// Gone instances are kept an hour for the cluster page.
	if _, err := tx.Exec(ctx, `DELETE FROM cluster_instances WHERE heartbeat_at < now() - interval '1 hour'`); err != nil {
		return v, false, err
	}
	rows, err := tx.Query(ctx, `SELECT name, id, addr, version, started_at, heartbeat_at, checks, lag_ms,
			heartbeat_at >= now() - $1::interval, now() FROM cluster_instances ORDER BY name`, interval(n.t.Lease-n.t.Beat))
	if err != nil {
		return v, false, err
	}
	for rows.Next() {
		var m Member
		var lagMS int64
		if err := rows.Scan(&m.Name, &m.ID, &m.Addr, &m.Version, &m.Started, &m.Heartbeat, &m.Checks, &lagMS, &m.Live, &v.At); err != nil {
			rows.Close()
			return v, false, err
		}
		m.Lag = time.Duration(lagMS) * time.Millisecond
		m.Leader = m.Live && m.ID == leaderID
		if m.Leader {
			v.Leader = m.Name
		}
		if m.Live {
			v.Live = append(v.Live, m.Name)
		}
		v.Members = append(v.Members, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return v, false, err
	}
	slices.SortStableFunc(v.Members, func(a, b Member) int {
		switch {
		case a.Live == b.Live:
			return 0
		case a.Live:
			return -1
		}
		return 1
	})
	v.Self = n.opts.Name
	return v, isLeader, nil
}

// Kick asks for a heartbeat now (a peer joined or left).
func (n *Node) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Notify announces a topic to the other instances; best effort: an
// instance that misses it re-reads on its next reconnect or change.
func (n *Node) Notify(ctx context.Context, topic string) { n.notify(ctx, topic) }

func (n *Node) notify(ctx context.Context, topic string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := n.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, n.id+" "+topic); err != nil {
		n.opts.Logger.Debug("announce a change", "component", "cluster", "topic", topic, "err", err)
	}
}

// listen hands other instances' announcements to Options.Notified, and
// TopicAll after each reconnect.
func (n *Node) listen(ctx context.Context) {
	wait := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := n.listenOnce(ctx, &first)
		if ctx.Err() != nil {
			return
		}
		n.opts.Logger.Warn("cluster listener lost its connection; reconnecting", "component", "cluster", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func (n *Node) listenOnce(ctx context.Context, first *bool) error {
	n.mu.Lock()
	conn := n.listening
	n.listening = nil
	n.mu.Unlock()
	if conn == nil {
		var err error
		if conn, err = n.listenConn(ctx); err != nil {
			return err
		}
	}
	defer func() {
		// A connection that listened is not handed back to the pool.
		_ = conn.Hijack().Close(context.Background())
	}()
	if !*first {
		n.opts.Notified(TopicAll)
	}
	*first = false
	for {
		msg, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		from, topic, ok := cut(msg.Payload)
		if !ok || from == n.id {
			continue
		}
		if topic == TopicMembers {
			n.Kick()
		}
		n.opts.Notified(topic)
	}
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// Lock takes the cluster-wide lock the incident engine decides under,
// waiting at most the lease. stale says another instance held it since
// this one last did (or this one cannot know): the engine re-reads its
// state before deciding. unlock releases it; changed says the holder
// wrote a change, which is announced (TopicEngine).
func (n *Node) Lock(ctx context.Context) (stale bool, unlock func(changed bool), err error) {
	n.lockMu.Lock()
	ctx, cancel := context.WithTimeout(ctx, n.t.Lease)
	defer cancel()
	stale, err = n.lock(ctx)
	if err != nil {
		n.dropLockConn()
		n.lockMu.Unlock()
		return true, nil, fmt.Errorf("take the cluster's engine lock: %w", err)
	}
	return stale, func(changed bool) {
		ctx, cancel := context.WithTimeout(context.Background(), n.t.Lease)
		defer cancel()
		if _, err := n.lockConn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, engineLock); err != nil {
			// Ending the session releases it.
			n.dropLockConn()
		}
		n.lockMu.Unlock()
		if changed {
			n.notify(ctx, TopicEngine)
		}
	}, nil
}

// lock must be called with lockMu held.
func (n *Node) lock(ctx context.Context) (bool, error) {
	if n.lockConn == nil {
		c, err := n.pool.Acquire(ctx)
		if err != nil {
			return true, err
		}
		n.lockConn, n.held = c, false
	}
	if _, err := n.lockConn.Exec(ctx, `SELECT pg_advisory_lock($1)`, engineLock); err != nil {
		return true, err
	}
	// Who held it last, and that it is us now, committed before we
	// decide: if we die mid-decision the next holder knows to re-read.
	var last string
	err := n.lockConn.QueryRow(ctx, `WITH old AS (SELECT holder FROM cluster_locks WHERE name = 'engine')
		UPDATE cluster_locks SET holder = $1 WHERE name = 'engine' RETURNING (SELECT holder FROM old)`, n.id).Scan(&last)
	if err != nil {
		_, _ = n.lockConn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, engineLock)
		return true, err
	}
	stale := !(n.held && last == n.id)
	n.held = true
	return stale, nil
}

// dropLockConn ends the lock's session (releasing the lock if held).
// Must be called with lockMu held.
func (n *Node) dropLockConn() {
	if n.lockConn != nil {
		_ = n.lockConn.Hijack().Close(context.Background())
		n.lockConn, n.held = nil, false
	}
}

// Leave removes this instance's row and gives up the leader's lease, so
// the others take its checks at once instead of after the lease; then
// closes the pool. It runs nothing after.
func (n *Node) Leave(ctx context.Context) error {
	n.mu.Lock()
	n.stopped = true
	n.leader = false
	if n.listening != nil {
		_ = n.listening.Hijack().Close(context.Background())
		n.listening = nil
	}
	n.mu.Unlock()
	n.lockMu.Lock()
	n.dropLockConn()
	n.lockMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := n.pool.Exec(ctx, `DELETE FROM cluster_instances WHERE name = $1 AND id = $2`, n.opts.Name, n.id)
	if err == nil {
		_, err = n.pool.Exec(ctx, `UPDATE cluster_locks SET until = 'epoch' WHERE name = 'leader' AND holder = $1`, n.id)
	}
	n.notify(ctx, TopicMembers)
	n.pool.Close()
	if err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	n.opts.Logger.Info("left the cluster", "component", "cluster", "name", n.opts.Name)
	return nil
}

// Status is the cluster as one instance sees it, for the cluster's API
// and admin page.
type Status struct {
	// Self is the instance answering; Leader the one that leads ("" when
	// none does right now).
	Self   string `json:"self"`
	Leader string `json:"leader"`
	// At is the database's time of the heartbeat the view is from, and
	// Fenced whether the answering instance runs nothing for want of one.
	At     time.Time `json:"at"`
	Fenced bool      `json:"fenced"`
	// Lease, Beat and Grace are the timings (lease: how long an instance
	// may be silent before the others take its checks).
	Lease time.Duration `json:"-"`
	Beat  time.Duration `json:"-"`
	Grace time.Duration `json:"-"`
	// Instances are every instance seen in the last hour, live ones
	// first.
	Instances []Instance `json:"instances"`
}

// Instance is one instance in Status.
type Instance struct {
	Member
	// Runs are the checks it runs by this view's ranking, sorted (empty
	// for one gone).
	Runs []string `json:"runs"`
	// Age is how long ago its last heartbeat was, by the database's clock.
	Age time.Duration `json:"-"`
}

// Status ranks ids (every check in force) over the last view.
func (n *Node) Status(ids []string) Status {
	v := n.View()
	st := Status{Self: v.Self, Leader: v.Leader, At: v.At, Fenced: v.Fenced, Lease: n.t.Lease, Beat: n.t.Beat, Grace: n.t.Grace}
	runs := map[string][]string{}
	for _, id := range ids {
		if o := v.Owner(id); o != "" {
			runs[o] = append(runs[o], id)
		}
	}
	for _, m := range v.Members {
		in := Instance{Member: m, Runs: runs[m.Name], Age: v.At.Sub(m.Heartbeat)}
		slices.Sort(in.Runs)
		if in.Runs == nil {
			in.Runs = []string{}
		}
		st.Instances = append(st.Instances, in)
	}
	return st
}
