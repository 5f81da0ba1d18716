// Package app is the only wiring: it compiles a configuration into each
// package's options, starts every goroutine with an owner that stops it,
// and feeds results through decide → incidents → snapshot. serve, demo and
// the end-to-end tests all run this same App.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/cluster"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/events"
	"github.com/upstatehq/upstate/internal/ids"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/metrics"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/oncall"
	"github.com/upstatehq/upstate/internal/probe/mysql"
	"github.com/upstatehq/upstate/internal/probe/postgres"
	"github.com/upstatehq/upstate/internal/probe/redis"
	"github.com/upstatehq/upstate/internal/schedule"
	"github.com/upstatehq/upstate/internal/snapshot"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/subscribe"
	"github.com/upstatehq/upstate/internal/web"
	"github.com/upstatehq/upstate/internal/web/admin"
	"github.com/upstatehq/upstate/internal/web/adminapi"
	"github.com/upstatehq/upstate/internal/web/agentapi"
)

// Options configure an App.
type Options struct {
	Config  *config.Config
	Clock   clock.Clock // default: the real clock
	Logger  *slog.Logger
	Version string
	// Listener, when set, is used instead of listening on server.listen
	// (tests pass one on a random port).
	Listener net.Listener
	// Resolver builds DNS resolvers for dns checks; default asks the
	// named server or the system.
	Resolver func(server string) check.Resolver
	// NewID makes ids; default random. Tests make them predictable.
	NewID func() string
	// Dial, when set, opens the connections of http and tcp checks instead
	// of the operating system (the demo's replay test uses an in-memory network).
	Dial check.DialFunc
	// MailTLS verifies mail servers; nil for the system roots (tests pass
	// their own).
	MailTLS *tls.Config
	// NotifyJitter, when set, replaces the random jitter of retries.
	NotifyJitter func() float64
	// ReadTimeout bounds reading a whole request, headers and body, so a
	// client dripping a body cannot hold a connection open. Default 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds how long a write waits for the database before
	// it is refused as not accepting writes (the store's default, 5s,
	// when zero).
	WriteTimeout time.Duration
}

func (o *Options) validate() error {
	if o.Config == nil {
		return errors.New("app: Options.Config is required")
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Resolver == nil {
		o.Resolver = func(server string) check.Resolver { return check.NewResolver(server) }
	}
	if o.NewID == nil {
		o.NewID = ids.New
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 30 * time.Second
	}
	return nil
}

// App is a running Upstate.
type App struct {
	opts    Options
	log     *slog.Logger
	store   store.Store
	metrics *metrics.Metrics
	engine  *incident.Engine
	snaps   *snapshot.Holder
	web     *web.Server
	sched   *schedule.Scheduler
	beats   *check.Beats
	auth    *auth.Service
	env     check.Env
	// chromium is the browser every browser check shares.
	chromium *check.Chromium

	// cfg is the configuration in force: the file's (file) with the
	// console's items merged in.
	cfg    atomic.Pointer[config.Config]
	file   atomic.Pointer[config.Config]
	checks atomic.Pointer[checkSet]

	// consoleMu serialises console changes and reloads; items are every
	// console item stored, applied those in force (console.go).
	consoleMu sync.Mutex
	items     []upstate.ConsoleItem
	applied   []upstate.ConsoleItem
	// limits lower the console's limits in tests; zero for the defaults.
	limits struct{ checks, components int }

	// The notification services (notify.go wires them).
	board        *notify.Switchboard // routes and channels, swapped on change
	silences     *notify.Silences    // the mute stage
	roster       *oncall.Roster      // on call, and runtime overrides
	subs         *subscribe.Service
	desk         *notify.Desk
	acks         *notify.Acks
	notifyClient *http.Client
	dispatcher   *notify.Dispatcher
	ackKey       []byte        // signs acknowledgement links
	pushed       *check.Pushed // numbers pushed to us, within the series limits
	inbox        *check.Inbox  // inbound alert webhooks
	pings        *check.Pings  // heartbeat pings
	// warnings are the checks' warnings, for operators only.
	warnings *incident.Warnings
	// events is the console's live feed; runs is run-now's state.
	events *events.Broker
	runs   *runNow
	// agentSeen are the results probe agents reported lately (agents.go).
	agentSeen *agentIDs
	// cluster is this instance's part among several on one PostgreSQL
	// database (cluster.go); nil on SQLite. lagMax is the longest start
	// lag since the last heartbeat reported it, in nanoseconds.
	cluster *clustered
	lagMax  atomic.Int64

	httpSrv  *http.Server
	listener net.Listener

	mu      sync.Mutex
	stops   []stopFn
	cancel  context.CancelFunc
	started bool
}

type stopFn struct {
	name string
	fn   func(ctx context.Context) error
}

// checkSet is the compiled checks, swapped whole on reload.
type checkSet struct {
	byID     map[string]*checkState
	compiled *compiled
}

// checkState is one check's decision state. mu serialises its results:
// probes and heartbeat pings may arrive at once.
type checkState struct {
	mu      sync.Mutex
	spec    *upstate.CheckSpec // into the compiled set's specs
	machine decider
	// regions, for a check probed from several places: where, and how
	// many must agree (the machine is then a regionalDecider).
	regions regional
	// last is the check's newest stored result since start, and
	// certExpiry the expiry of the last certificate a probe saw: the
	// check page's.
	last       lastResult
	certExpiry time.Time
}

// New opens the store and builds every part; nothing runs until Start.
func New(ctx context.Context, opts Options) (*App, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cfg := opts.Config
	a := &App{opts: opts, log: opts.Logger, metrics: metrics.New(opts.Version), beats: check.NewBeats(), runs: newRunNow(), agentSeen: newAgentIDs(),
		events: events.New(events.Options{Clock: opts.Clock})}
	a.cfg.Store(cfg)
	// Nothing runs until a browser check needs it; Stop closes it, started
	// or not, after the checks have stopped.
	a.chromium = check.NewChromium(check.ChromiumOptions{Path: cfg.Server.Chromium, Logger: opts.Logger})
	a.onStop("browser", a.chromium.Close)
	a.env = check.Env{
		Clock: opts.Clock, Client: check.NewHTTPClient(false, 256, opts.Dial), Insecure: check.NewHTTPClient(true, 256, opts.Dial),
		Beats: a.beats, Alerts: check.NewAlertBook(), Started: opts.Clock.Now(), Resolver: opts.Resolver, Dial: opts.Dial,
		Location: cfg.Location,
		Postgres: postgres.Dialer{}, MySQL: mysql.Dialer{}, Redis: redis.Dialer{},
		Chromium: a.chromium,
		Points: func(ctx context.Context, series string, from, to time.Time) ([]upstate.Point, error) {
			return a.store.ListPoints(ctx, series, from, to)
		},
		Rewritten: func(series string) uint64 { return a.pushed.Rewritten(series) },
		FeedError: func(id string, err error) {
			a.metrics.FeedErrors.WithLabelValues(id).Inc()
			a.log.Warn("upstream feed unreadable; keeping the last verdict", "component", "check", "check", id, "err", err)
		},
	}
	db, err := openStore(ctx, cfg, storeOptions{Logger: opts.Logger, WriteTimeout: opts.WriteTimeout, Now: opts.Clock.Now})
	if err != nil {
		return nil, err
	}
	a.store = db
	ok := false
	defer func() {
		if !ok {
			if a.cluster != nil {
				_ = a.cluster.node.Leave(context.WithoutCancel(ctx))
			}
			db.Close()
		}
	}()
	if err := a.openCluster(ctx, cfg); err != nil {
		return nil, err
	}
	// What runs is the file's configuration with the console's items.
	if a.items, err = db.ListConsoleItems(ctx); err != nil {
		return nil, fmt.Errorf("read console items: %w", err)
	}
	a.file.Store(cfg)
	cfg, a.applied = a.effective(cfg, a.items)
	a.cfg.Store(cfg)
	comp, err := compile(cfg, a.env)
	if err != nil {
		return nil, err
	}
	a.notifyClient = newNotifyClient(cfg.Notifications.Timeout.D())
	if err := db.SyncComponents(ctx, comp.components, opts.Clock.Now()); err != nil {
		return nil, fmt.Errorf("store components: %w", err)
	}
	if a.ackKey, err = secretKey(ctx, db, "ack_link_key"); err != nil {
		return nil, err
	}
	deviceKey, err := secretKey(ctx, db, "device_key")
	if err != nil {
		return nil, err
	}
	if err := a.newNotify(ctx, cfg); err != nil {
		return nil, err
	}
	// Results from outside the schedule: inbound alerts, pings, pushed numbers.
	sink := func(ctx context.Context, r upstate.Result) { a.onResult(ctx, r) }
	if a.inbox, err = check.NewInbox(ctx, db, a.env.Alerts, opts.Clock, sink, opts.Logger); err != nil {
		return nil, err
	}
	if a.pings, err = check.NewPings(ctx, db, a.beats, opts.Clock, sink); err != nil {
		return nil, err
	}
	if a.pushed, err = check.NewPushed(ctx, db); err != nil {
		return nil, err
	}
	a.snaps, err = snapshot.New(snapshot.Options{
		Source: db, Clock: opts.Clock, Page: a.page(cfg), ChecksOf: comp.checksOf, Regional: regionalOf(comp), Logger: opts.Logger,
		Published: func(s *snapshot.Snapshot) {
			if err := a.web.Publish(s); err != nil {
				a.log.Error("render snapshot", "component", "web", "err", err)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if err := a.newSubscriptions(ctx, cfg); err != nil {
		return nil, err
	}
	// The scheduler before the engine: the engine's statuses set which
	// checks run at their fast interval.
	a.sched, err = schedule.New(schedule.Options{
		Clock: opts.Clock, Sink: a.onReport, Logger: opts.Logger,
		Started: func(_ string, lag time.Duration) {
			a.metrics.ScheduleLag.Observe(lag.Seconds())
			for {
				old := a.lagMax.Load()
				if int64(lag) <= old || a.lagMax.CompareAndSwap(old, int64(lag)) {
					break
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	var shared incident.Shared
	var leads func() bool
	if a.cluster != nil {
		shared, leads = a.cluster.node, a.leads
	}
	a.engine, err = incident.New(ctx, incident.Options{
		Shared: shared, Leads: leads,
		Store: db, Clock: opts.Clock, Components: comp.components, Checks: comp.specs, Location: cfg.Location,
		NewID: opts.NewID, Logger: opts.Logger, Route: a.route, Renotify: cfg.Notifications.Renotify.D(),
		HoldAutomatic: cfg.Page.AutomaticUpdates == "internal",
		Changed: func(st map[string]upstate.Status) {
			a.snaps.Trigger()
			a.metrics.SetStatuses(st)
			a.sched.SetStatuses(st)
			a.dispatcher.Wake()
		},
	})
	if err != nil {
		return nil, err
	}
	a.metrics.SetStatuses(a.engine.Statuses())
	a.warnings, err = incident.NewWarnings(ctx, incident.WarningOptions{Store: db, Clock: opts.Clock, Components: comp.components, Checks: comp.specs,
		Route: a.board.Route, Changed: func() { a.dispatcher.Wake() }, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	a.sched.SetStatuses(a.engine.Statuses())
	conds, err := db.ListConditions(ctx)
	if err != nil {
		return nil, err
	}
	a.setChecks(a.checkSet(comp, conds, nil))
	if a.acks, err = notify.NewAcks(notify.AckOptions{Key: a.ackKey, People: a.roster, Incidents: a.engine, Reads: db}); err != nil {
		return nil, err
	}
	a.auth = auth.NewService(db, opts.Clock.Now, opts.NewID, opts.Logger, deviceKey)
	md := markdown.New()
	page := func() string { return a.cfg.Load().Page.Name }
	zone := func() *time.Location { return a.cfg.Load().Location }
	reviews := &incident.Reviews{Store: db, Clock: opts.Clock, NewID: opts.NewID, Logger: opts.Logger, Changed: func() {
		a.snaps.Trigger()
		a.announce(context.Background(), cluster.TopicPage)
	}}
	views, err := a.checkViews()
	if err != nil {
		return nil, err
	}
	api, err := adminapi.New(adminapi.Options{Auth: a.auth, Incidents: a.engine, Components: a.engine, Maintenances: a.engine, Outbox: a.desk, OnCall: a.roster, Silences: a.silences, Subscribers: a.subs, Samples: judgedSamples{a}, SLOs: a.slos, Reviews: reviews, Reads: db, Logger: opts.Logger,
		Now: opts.Clock.Now, PageName: page, Location: zone, Markdown: md, SecureCookies: strings.HasPrefix(cfg.Page.URL, "https://"),
		Baseline: a.baseline, Warnings: a.warnings.List, Console: a.Console(), Audit: db, Corrections: a.engine,
		CheckInfos: a.checkInfos, CheckPages: views, RunCheck: a.RunCheck, Events: a.events, Cluster: a.clusterStatus})
	if err != nil {
		return nil, err
	}
	ui, err := admin.New(admin.Options{Auth: a.auth, Incidents: a.engine, Outbox: a.desk, OnCall: a.roster, Silences: a.silences, Acks: a.acks, Subscriptions: a.subs, Reviews: reviews, Reads: db, Markdown: md.HTML, Logger: opts.Logger,
		Location: zone, PageName: page, Now: opts.Clock.Now, SLOs: a.slos, StoreHealth: db.WriteHealth, Warnings: a.warnings.List,
		Artifacts: db, Baselines: a.baselines, People: auth.NewPeople(db, opts.Clock.Now, opts.NewID, opts.Logger), Console: a.Console(),
		SecureCookies: strings.HasPrefix(cfg.Page.URL, "https://"), Audit: db, Corrections: a.engine,
		CheckPages: views, RunCheck: a.RunCheck, Cluster: a.clusterStatus})
	if err != nil {
		return nil, err
	}
	agents, err := agentapi.New(agentapi.Options{Auth: a.auth, Checks: a, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	a.web, err = web.New(web.Options{Logger: opts.Logger, Metrics: a.metrics, Heartbeats: a.pings, Alerts: a.inbox, Healthy: a.healthy, Role: a.role, Markdown: md, Now: opts.Clock.Now,
		Inbound: func() web.Inbound {
			in := a.cfg.Load().Inbound
			return web.Inbound{Token: in.Token, HMACSecret: in.HMACSecret, TimestampHeader: in.HMACTimestampHeader}
		},
		Proxies: func() web.Proxies {
			sv := a.cfg.Load().Server
			return web.Proxies{Trusted: sv.Proxies, Header: sv.ForwardedHeader}
		},
		Admin: []interface{ Register(*http.ServeMux) }{api, ui, agents}})
	if err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// page is what the public page says about itself, its images read.
func (a *App) page(cfg *config.Config) snapshot.Page {
	p := pageOf(cfg)
	a.brand(cfg, &p)
	return p
}

func pageOf(cfg *config.Config) snapshot.Page {
	return snapshot.Page{ID: ids.Stable("page:" + cfg.Page.URL + "|" + cfg.Page.Name), Name: cfg.Page.Name, URL: cfg.Page.URL, Description: cfg.Page.Description, Location: cfg.Location,
		Subscribe: SubscriptionKinds(cfg)}
}

// setChecks puts a compiled set of checks in force: the decisions, and
// what the receivers of alerts, pings and pushed numbers take.
func (a *App) setChecks(set *checkSet) {
	a.checks.Store(set)
	a.inbox.Configure(set.compiled.alerts)
	a.pings.Configure(set.compiled.tokens)
	a.pushed.SetRead(set.compiled.pushed)
}

// slos reports each SLO check's error budget and burn rates.
func (a *App) slos(ctx context.Context) []check.SLOReport {
	var out []check.SLOReport
	for _, s := range a.checks.Load().compiled.slos {
		out = append(out, s.Report(ctx))
	}
	return out
}

// checkSet builds decision state for the compiled checks, keeping the
// machines of checks whose decision settings did not change.
func (a *App) checkSet(comp *compiled, conds map[string]upstate.Condition, old *checkSet) *checkSet {
	set := &checkSet{byID: map[string]*checkState{}, compiled: comp}
	var fresh []*checkState // new regional deciders
	for i := range comp.specs {
		spec := &comp.specs[i]
		if old != nil {
			if prev, ok := old.byID[spec.ID]; ok && prev.spec.Deciding() == spec.Deciding() && sameRegions(prev.regions, comp.regions[spec.ID]) {
				prev.mu.Lock()
				prev.spec = spec
				prev.mu.Unlock()
				set.byID[spec.ID] = prev
				continue
			}
		}
		start := conds[spec.ID]
		var last lastResult
		var certExpiry time.Time
		if old != nil {
			if prev, ok := old.byID[spec.ID]; ok {
				prev.mu.Lock()
				start, last, certExpiry = prev.machine.Condition(), prev.last, prev.certExpiry
				prev.mu.Unlock()
			}
		}
		rg := comp.regions[spec.ID]
		set.byID[spec.ID] = &checkState{spec: spec, machine: newDecider(*spec, rg, start), regions: rg, last: last, certExpiry: certExpiry}
		if len(rg.names) > 0 {
			fresh = append(fresh, set.byID[spec.ID])
		}
	}
	a.judged(fresh)
	return set
}

// onResult is the pipeline every result goes through: count it, queue it
// for storage, decide, and hand a confirmed change to the incident engine.
// It returns what the scheduler should do next: a re-check or a burst when
// the result was suspect, the fast interval while the check is in trouble.
// A pending result (slow at its bound, its answer to follow) is decided
// only: its answer is what is counted and stored.
func (a *App) onResult(ctx context.Context, r upstate.Result) schedule.Next {
	st := a.checks.Load().byID[r.CheckID]
	if st == nil {
		return schedule.Next{} // removed by a reload
	}
	if !r.Pending {
		a.keepArtifact(ctx, st, &r)
		a.keep(ctx, st, r)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	d := st.machine.Observe(r)
	if t := d.Transition; t != nil {
		a.events.Publish(events.StateOf(*t))
		a.metrics.Transitions.WithLabelValues(string(t.To.State)).Inc()
		a.log.Info("condition changed", "component", "decide", "check", r.CheckID, "from", t.From.State.String(), "to", t.To.State.String(), "partial", t.To.Partial, "evidence", t.To.Evidence)
	}
	// The engine saves a transition with the incident change it causes,
	// in one transaction, and keeps what the store refuses to write it
	// again on its own. The result carries what an upstream check's read
	// found (the provider's incident, their updates) with it.
	if err := a.engine.Observe(ctx, r, d.Transition); err != nil {
		a.log.Error("incident decision not saved yet; it will be retried", "component", "incident", "check", r.CheckID, "err", err)
	}
	// Warnings (a certificate expiring soon) go to operators alone and
	// never change the condition above. A pending result carries none
	// yet: its answer, when it comes, says.
	// An agent's result carries no warnings (they are not sent): it
	// would clear the server's as over.
	if !r.Pending && r.Region == "" {
		if err := a.warnings.Observe(ctx, r); err != nil {
			a.log.Error("warning not saved yet; the check's next result brings it again", "component", "incident", "check", r.CheckID, "err", err)
		}
	}
	next := schedule.Next{Burst: d.Burst, Troubled: st.machine.Condition().State.Failing()}
	if d.Recheck {
		next.Recheck = st.spec.Deciding().RecheckEvery
	}
	return next
}

// keepArtifacts is how many failures of each check keep what the check
// saw (a browser check's screenshot).
const keepArtifacts = 5

// keepArtifact stores what a failing check saw, apart from its result, and
// takes it off the result: the decision window holds results, and need not
// hold their screenshots.
func (a *App) keepArtifact(ctx context.Context, st *checkState, r *upstate.Result) {
	art := r.Artifact
	r.Artifact = nil
	if art == nil || r.Outcome != upstate.OutcomeFail {
		return
	}
	st.mu.Lock()
	comps := st.spec.Components
	st.mu.Unlock()
	art.ID, art.CheckID, art.At, art.Note, art.Components = a.opts.NewID(), r.CheckID, r.At, r.Evidence(), comps
	if err := a.store.SaveArtifact(ctx, *art, keepArtifacts); err != nil {
		a.log.Warn("screenshot not stored", "component", "app", "check", r.CheckID, "err", err)
	}
}

// healthy is /healthz's question: the store answers reads and accepts
// writes.
func (a *App) healthy(ctx context.Context) error {
	if _, err := a.store.ListHeartbeats(ctx); err != nil {
		return err
	}
	return a.store.WriteHealth()
}

// probeStore makes a small write when nothing else has, so the store's
// health is current (the store logs when writes stop and start going
// through).
func (a *App) probeStore(ctx context.Context) { _ = a.store.Probe(ctx) }

// renderStale has the store render the Markdown it kept from another
// renderer version (an upgrade of this binary or its Markdown libraries),
// once at start, so reports and pages after it render none; until it is
// done, and should it fail, readers render those rows themselves.
func (a *App) renderStale(ctx context.Context) {
	start := time.Now()
	n, err := a.store.RenderStale(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Warn("stored Markdown not rendered again; readers render it as they read it", "component", "store", "rendered", n, "err", err)
	case n > 0:
		a.log.Info("stored Markdown rendered again for this version", "component", "store", "rows", n, "took", time.Since(start).Round(time.Millisecond))
	}
}

// Start builds the first snapshot, starts listening and runs every loop.
func (a *App) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return errors.New("app already started")
	}
	a.started = true
	if err := a.snaps.Rebuild(ctx); err != nil {
		return fmt.Errorf("first snapshot: %w", err)
	}
	ln := a.opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", a.cfg.Load().Server.Listen); err != nil {
			return fmt.Errorf("listen on %s: %w (is another upstate running? change server.listen)", a.cfg.Load().Server.Listen, err)
		}
	}
	a.listener = ln
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel

	a.onStop("store", func(context.Context) error {
		a.env.Client.CloseIdleConnections()
		a.env.Insecure.CloseIdleConnections()
		return a.store.Close()
	})
	if c := a.cluster; c != nil {
		// Left after every loop has stopped (stops run in reverse), so
		// the others take its checks at once and none runs twice.
		a.onStop("cluster", c.node.Leave)
		a.goLoop("cluster-heartbeat", func() { c.node.Run(runCtx) })
	}
	a.goLoop("snapshot", func() { a.snaps.Run(runCtx) })
	a.goLoop("incidents", func() { a.engine.Run(runCtx) })
	a.goLoop("pruner", func() { a.every(runCtx, time.Minute, time.Hour, a.prune) })
	a.goLoop("scheduler", func() { a.sched.Run(runCtx, a.jobs(a.checks.Load().compiled)) })
	a.goLoop("outbox", func() { a.dispatcher.Run(runCtx) })
	a.goLoop("outbox-gauges", func() { a.every(runCtx, 0, time.Minute, a.countOutbox) })
	a.goLoop("store-probe", func() { a.every(runCtx, 0, 10*time.Second, a.probeStore) })
	a.goLoop("markdown", func() { a.renderStale(runCtx) })

	// A burst of readers' connections leaves its buffers and stacks
	// behind when it is over: hand them back (connmem.go).
	conns := newConnMemory()
	a.goLoop("connection-memory", func() { conns.run(runCtx) })
	a.httpSrv = &http.Server{Handler: a.web.Handler(), ReadHeaderTimeout: min(10*time.Second, a.opts.ReadTimeout), ReadTimeout: a.opts.ReadTimeout,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		ConnState: conns.state}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := a.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server stopped", "component", "web", "err", err)
		}
	}()
	// Live streams never end by themselves: the broker ends them when
	// shutdown begins, so they do not hold it up.
	a.httpSrv.RegisterOnShutdown(a.events.Close)
	a.onStop("http", func(ctx context.Context) error {
		err := a.httpSrv.Shutdown(ctx)
		<-served
		return err
	})
	cfg := a.cfg.Load()
	a.log.Info("upstate started", "component", "app", "listen", ln.Addr().String(), "checks", len(cfg.Checks), "components", len(cfg.Components), "data_dir", cfg.Server.DataDir)
	for _, w := range cfg.Warnings {
		a.log.Warn("configuration: "+w, "component", "config")
	}
	return nil
}

// goLoop runs fn in a goroutine that Stop cancels and waits for.
func (a *App) goLoop(name string, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	a.onStop(name, func(ctx context.Context) error {
		a.cancel()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%s did not stop in time", name)
		}
	})
}

func (a *App) onStop(name string, fn func(ctx context.Context) error) {
	a.stops = append(a.stops, stopFn{name, fn})
}

// Addr is the address the HTTP server listens on.
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Stop stops everything in the reverse order it started, flushing writes;
// ctx bounds how long it may take.
func (a *App) Stop(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for i := len(a.stops) - 1; i >= 0; i-- {
		s := a.stops[i]
		if err := s.fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", s.name, err))
		}
	}
	a.stops = nil
	if !a.started {
		errs = append(errs, a.store.Close())
	}
	a.log.Info("upstate stopped", "component", "app")
	return errors.Join(errs...)
}

// Reload applies a new configuration file without losing history or the
// state of unchanged checks; the console's items are merged into it as at
// start. Listening address and data directory need a restart.
func (a *App) Reload(ctx context.Context, cfg *config.Config) error {
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	// The console's items as stored now: `upstate import` may have added
	// components beside the running server.
	items, err := a.store.ListConsoleItems(ctx)
	if err != nil {
		return fmt.Errorf("read the console's checks and components: %w", err)
	}
	if len(items) > 0 && cfg.FromFile() {
		// An item the new file refuses is left out, shown with why; a
		// problem the items cause as a whole (not within one) would leave
		// them all out, and their components' rows with them: that
		// reload is refused, and the running configuration stays.
		var probs *config.Problems
		if _, err := config.WithConsole(cfg, items, ConfigRules()...); errors.As(err, &probs) {
			for _, p := range probs.Items {
				if p.Item == "" {
					return fmt.Errorf("the new configuration would leave out every check and component made in the console (fix the file, or remove them in the console first): %w", err)
				}
			}
		}
	}
	eff, applied := a.effective(cfg, items)
	if err := a.apply(ctx, eff); err != nil {
		return err
	}
	a.file.Store(cfg)
	a.items, a.applied = items, applied
	return nil
}

// apply puts an effective configuration in force: a reload's, or one a
// console change made. Must be called with consoleMu held.
func (a *App) apply(ctx context.Context, cfg *config.Config) error {
	old := a.cfg.Load()
	if cfg.Server.Chromium != old.Server.Chromium {
		a.log.Warn("a server.chromium change needs a restart; browser checks keep the running browser", "component", "app")
	}
	if cfg.Server.Listen != old.Server.Listen || cfg.Server.DataDir != old.Server.DataDir {
		a.log.Warn("server.listen and server.data_dir changes need a restart; keeping the old ones", "component", "app")
		cfg.Server.Listen, cfg.Server.DataDir = old.Server.Listen, old.Server.DataDir
	}
	comp, err := compile(cfg, a.env)
	if err != nil {
		return upstate.Errorf(upstate.EINVALID, "%v", err)
	}
	conf, err := compileChannels(cfg, a.channelDeps(cfg), a.ackKey)
	if err != nil {
		return err
	}
	if err := a.store.SyncComponents(ctx, comp.components, a.opts.Clock.Now()); err != nil {
		return fmt.Errorf("store components: %w", err)
	}
	// The engine learns the new checks before any result of theirs can
	// reach it.
	if err := a.engine.Reconfigure(ctx, comp.components, comp.specs); err != nil {
		return err
	}
	a.engine.HoldAutomatic(cfg.Page.AutomaticUpdates == "internal")
	a.warnings.Configure(ctx, comp.components, comp.specs)
	a.setChecks(a.checkSet(comp, nil, a.checks.Load()))
	a.cfg.Store(cfg)
	a.reconfigureNotify(cfg, conf)
	a.schedule(comp)
	a.snaps.Reconfigure(a.page(cfg), comp.checksOf, regionalOf(comp))
	a.log.Info("configuration reloaded", "component", "app", "checks", len(cfg.Checks), "components", len(cfg.Components))
	for _, w := range cfg.Warnings {
		a.log.Warn("configuration: "+w, "component", "config")
	}
	return nil
}

// every runs fn after first and then once each period, on the app's
// clock, until ctx is done.
func (a *App) every(ctx context.Context, first, period time.Duration, fn func(context.Context)) {
	t := a.opts.Clock.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		fn(ctx)
		t.Reset(period)
	}
}

// prune drops results, sessions, pushed numbers and notifications past
// retention; it runs hourly.
func (a *App) prune(ctx context.Context) {
	if !a.leads() {
		return // the leader prunes for every instance
	}
	cfg := a.cfg.Load()
	now := a.opts.Clock.Now()
	n, err := a.store.Prune(ctx, now.Add(-cfg.Retention.Raw.D()), now.Add(-cfg.Retention.Hourly.D()))
	if err != nil && ctx.Err() == nil {
		a.log.Error("prune", "component", "store", "err", err)
	} else if n > 0 {
		a.log.Debug("pruned old results", "component", "store", "rows", n)
	}
	if _, err := a.store.DeleteExpiredSessions(ctx, now); err != nil && ctx.Err() == nil {
		a.log.Error("delete expired sessions", "component", "store", "err", err)
	}
	// Pushed numbers are kept as long as hourly rollups: baselines need weeks.
	if n, err := a.store.PrunePoints(ctx, now.Add(-cfg.Retention.Hourly.D())); err != nil && ctx.Err() == nil {
		a.log.Error("prune metric points", "component", "store", "err", err)
	} else if n > 0 {
		if err := a.pushed.Refresh(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("refresh pushed series", "component", "store", "err", err)
		}
	}
	// What failing checks saw is kept as long as their results.
	if _, err := a.store.PruneArtifacts(ctx, now.Add(-cfg.Retention.Raw.D())); err != nil && ctx.Err() == nil {
		a.log.Error("prune screenshots", "component", "store", "err", err)
	}
	// Delivered and failed notifications are kept as long as raw results.
	if _, err := a.store.PruneMessages(ctx, now.Add(-cfg.Retention.Raw.D())); err != nil && ctx.Err() == nil {
		a.log.Error("prune notifications", "component", "store", "err", err)
	}
	if _, err := a.store.PruneAudit(ctx, now.Add(-cfg.Retention.Audit.D())); err != nil && ctx.Err() == nil {
		a.log.Error("prune audit log", "component", "store", "err", err)
	}
}

// Snapshot returns the current public snapshot (for tests and the demo).
func (a *App) Snapshot() *snapshot.Snapshot { return a.snaps.Current() }

// Incident returns one incident with its whole timeline, internal entries
// too (for tests and the demo's).
func (a *App) Incident(ctx context.Context, id string) (*upstate.Incident, error) {
	return a.store.GetIncident(ctx, id)
}

// Flush waits until every accepted write is durable.
func (a *App) Flush(ctx context.Context) error { return a.store.Flush(ctx) }
