package app

import (
	"context"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate/internal/cluster"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/schedule"
)

// clustered is an instance's part in a cluster (several serve processes on
// one PostgreSQL database; internal/cluster): which checks it runs, and
// what it hears from the others. Nil on SQLite, where one instance does
// everything.
type clustered struct {
	node *cluster.Node

	// mu serialises planning and handing the plan to the scheduler (a
	// heartbeat's view and a reload's new checks), so an older plan never
	// replaces a newer one.
	mu      sync.Mutex
	planner *cluster.Planner
	view    cluster.View
	// leader is what the last view said, to tell the engine when it
	// changes.
	leader bool
	// runs is how many checks the last plan gave this instance.
	runs atomic.Int64
}

// instanceName is server.cluster.name, else the host's name and the
// listening port: stable across restarts, apart on one host.
func instanceName(cfg *config.Config) string {
	if n := cfg.Server.Cluster.Name; n != "" {
		return n
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "upstate"
	}
	if _, port, err := net.SplitHostPort(cfg.Server.Listen); err == nil && port != "" {
		return host + "-" + port
	}
	return host
}

// openCluster joins the cluster when the store is PostgreSQL.
func (a *App) openCluster(ctx context.Context, cfg *config.Config) error {
	dsn := cfg.Server.Database.Reveal()
	if dsn == "" {
		return nil
	}
	addr := cfg.Server.Listen
	if a.opts.Listener != nil {
		addr = a.opts.Listener.Addr().String()
	}
	name := cfg.Server.Cluster.Name
	if name == "" {
		c := *cfg
		c.Server.Listen = addr
		name = instanceName(&c)
	}
	c := &clustered{}
	node, err := cluster.Open(ctx, cluster.Options{DSN: dsn, Name: name, Addr: addr, Version: a.opts.Version, Lease: cfg.Server.Cluster.Lease.D(),
		Logger: a.log, Changed: a.onView, Notified: a.onNotified})
	if err != nil {
		return err
	}
	c.node, c.planner = node, cluster.NewPlanner(node.Timings())
	a.cluster = c
	return nil
}

// leads reports whether this instance runs the singleton work: always
// alone, the leader in a cluster.
func (a *App) leads() bool { return a.cluster == nil || a.cluster.node.Leader() }

// schedule hands the scheduler the compiled checks this instance runs:
// all of them alone; in a cluster, those the last view gives it, each
// slotted on the wall clock so an instance taking one over runs the slot
// after its last owner's. Nil before the scheduler runs: start is its
// first list (see jobs).
func (a *App) schedule(comp *compiled) {
	if a.cluster == nil {
		a.sched.Update(comp.jobs)
		return
	}
	c := a.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	jobs, _ := a.planLocked(comp, c.view)
	a.sched.Update(jobs)
}

// jobs is the scheduler's first list (Run's).
func (a *App) jobs(comp *compiled) []schedule.Job {
	if a.cluster == nil {
		return comp.jobs
	}
	c := a.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	jobs, _ := a.planLocked(comp, c.view)
	return jobs
}

// planLocked plans comp's checks on the view: the jobs this instance
// runs, and whether they moved. Must be called with cluster.mu held.
func (a *App) planLocked(comp *compiled, v cluster.View) ([]schedule.Job, bool) {
	c := a.cluster
	plan := c.planner.Next(v, jobIDs(comp.jobs), a.opts.Clock.Now())
	c.runs.Store(int64(len(plan.Run)))
	if plan.Gained > 0 {
		a.takeOver(plan)
	}
	if plan.Changed {
		a.log.Info("checks moved", "component", "cluster", "runs", len(plan.Run), "gained", plan.Gained, "lost", plan.Lost,
			"live", len(v.Live), "fenced", v.Fenced)
	}
	return owned(comp.jobs, plan), plan.Changed
}

func jobIDs(jobs []schedule.Job) []string {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return ids
}

func owned(jobs []schedule.Job, plan cluster.Plan) []schedule.Job {
	out := make([]schedule.Job, 0, len(plan.Run))
	for _, j := range jobs {
		notBefore, ok := plan.Run[j.ID]
		if !ok {
			continue
		}
		if !j.Aligned {
			j.Aligned, j.Slot = true, schedule.Slot(j.ID, j.Interval, 0, 1)
		}
		j.NotBefore = notBefore
		out = append(out, j)
	}
	return out
}

// onView takes each heartbeat's view: the checks move when the live set
// does, and the engine learns when this instance starts or stops leading.
func (a *App) onView(v cluster.View) {
	c := a.cluster
	set := a.checks.Load()
	if c == nil || set == nil || a.sched == nil {
		return
	}
	c.mu.Lock()
	c.view = v
	if jobs, moved := a.planLocked(set.compiled, v); moved {
		a.sched.Update(jobs)
	}
	leader := v.Leader == v.Self && !v.Fenced
	leadChanged := leader != c.leader
	c.leader = leader
	c.mu.Unlock()
	c.node.Report(int(c.runs.Load()), time.Duration(a.lagMax.Swap(0)))
	a.readPings()
	if leadChanged {
		a.engine.Refresh() // its timers run, or stop, at its next tick
	}
}

// takeOver starts the checks this instance was just given from their
// stored conditions, so one failing when its last owner died goes on
// failing here instead of starting over as up.
func (a *App) takeOver(plan cluster.Plan) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conds, err := a.store.ListConditions(ctx)
	if err != nil {
		a.log.Warn("checks taken over start from a fresh decision state: their conditions could not be read", "component", "cluster", "err", err)
		return
	}
	set := a.checks.Load()
	var fresh []*checkState
	for _, id := range plan.Taken {
		st := set.byID[id]
		cond, ok := conds[id]
		if st == nil || !ok {
			continue
		}
		st.mu.Lock()
		if st.machine.Condition() != cond {
			st.machine = newDecider(set.compiled.decides, *st.spec, st.regions, cond)
			if len(st.regions.names) > 0 {
				fresh = append(fresh, st)
			}
		}
		st.mu.Unlock()
	}
	a.judged(fresh)
}

// readPings takes the pings other instances received: a heartbeat check
// is judged by its owner, and the ping may have come to any instance.
func (a *App) readPings() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	last, err := a.store.ListHeartbeats(ctx)
	if err != nil {
		return // the next heartbeat reads them again
	}
	for id, at := range last {
		a.beats.Beat(id, at)
	}
}

// onNotified takes what another instance announced.
func (a *App) onNotified(topic string) {
	switch topic {
	case cluster.TopicEngine:
		a.engine.Refresh()
	case cluster.TopicPage:
		a.snaps.Trigger()
	case cluster.TopicConsole:
		a.reloadConsole()
	case cluster.TopicAll:
		a.engine.Refresh()
		a.snaps.Trigger()
		a.reloadConsole()
	}
}

// reloadConsole puts in force the console's items another instance
// changed.
func (a *App) reloadConsole() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Reload(ctx, a.file.Load()); err != nil {
		a.log.Error("another instance changed the console's checks; they could not be put in force here", "component", "cluster", "err", err)
	}
}

// claimant is who claims the outbox's messages before sending them: this
// process in a cluster; nobody alone.
func (a *App) claimant() string {
	if a.cluster == nil {
		return ""
	}
	return a.cluster.node.ID()
}

// announce tells the other instances of a change, if there are any.
func (a *App) announce(ctx context.Context, topic string) {
	if a.cluster != nil {
		a.cluster.node.Notify(ctx, topic)
	}
}

// Role is this instance's part, for /healthz and the cluster's API: nil
// alone.
func (a *App) role() any {
	if a.cluster == nil {
		return nil
	}
	v := a.cluster.node.View()
	role := "member"
	switch {
	case v.Fenced:
		role = "fenced"
	case v.Leader == v.Self:
		role = "leader"
	}
	return map[string]any{"name": v.Self, "role": role, "checks": a.cluster.runs.Load(), "live": len(v.Live)}
}

// clusterStatus is the cluster as this instance sees it; false alone (on
// SQLite).
func (a *App) clusterStatus() (cluster.Status, bool) {
	if a.cluster == nil {
		return cluster.Status{}, false
	}
	return a.cluster.node.Status(jobIDs(a.checks.Load().compiled.jobs)), true
}
