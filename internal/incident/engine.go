// Package incident turns check conditions into component statuses and
// incidents: it opens an incident for a confirmed failure (or joins the
// open one on the same component or on a failing dependency), adds plain
// timeline entries as things worsen or improve, moves the incident to
// monitoring when everything is operational again, and resolves it once
// recovery has held for the recovery window.
package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/store"
)

// Store is what the engine reads and writes.
type Store interface {
	Apply(ctx context.Context, c store.Change) error
	ListIncidents(ctx context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error)
	GetIncident(ctx context.Context, id string) (*upstate.Incident, error)
	ListComponents(ctx context.Context) ([]upstate.ComponentState, error)
	ListConditions(ctx context.Context) (map[string]upstate.Condition, error)
	// ConditionsSince: see store.Conditions. A shared engine re-reads
	// only the conditions other instances changed.
	ConditionsSince(ctx context.Context, after int64) (map[string]upstate.Condition, int64, error)
	// ListTransitions are a check's confirmed changes in [from, to): a
	// declare written up later finds there when its checks saw it.
	ListTransitions(ctx context.Context, checkID string, from, to time.Time) ([]upstate.Transition, error)
	SaveMaintenance(ctx context.Context, m upstate.Maintenance, owed ...upstate.Message) error
	DeleteMaintenance(ctx context.Context, id string, owed ...upstate.Message) error
	EnqueueMessages(ctx context.Context, ms []upstate.Message) error
	ListMaintenances(ctx context.Context, since time.Time) ([]upstate.Maintenance, error)
}

// Options configure an Engine.
type Options struct {
	Store      Store
	Clock      clock.Clock
	Components []upstate.Component
	Checks     []upstate.CheckSpec // kept, not copied: see Reconfigure
	Location   *time.Location      // times in timeline entries are written in this zone
	NewID      func() string
	Logger     *slog.Logger
	// Changed is called after every committed change with the components'
	// statuses, to rebuild the public snapshot. It is called with the
	// engine's lock held: it must not block or call back into the engine.
	Changed func(statuses map[string]upstate.Status)
	// DefaultRecovery is how long recovery must hold before an incident
	// resolves when none of its checks says otherwise.
	DefaultRecovery time.Duration
	// Route turns an incident event into what it owes (messages, and
	// pages to cancel); it is written in the same transaction as the
	// change. Nil sends nothing. Called with the engine's lock held.
	Route func(upstate.Event) upstate.Owed
	// Renotify, when positive, sends an incident.reminder for an open
	// incident nobody has updated for that long, and again each interval.
	Renotify time.Duration
	// HoldAutomatic writes the entries Upstate words itself as internal
	// notes, for a person to publish (page.automatic_updates: internal);
	// otherwise they are public at once. Evidence is internal either way.
	HoldAutomatic bool
	// Shared, when several instances share the database (cluster.Node),
	// is the lock every engine decides under: each change is decided on
	// the state the last one left, whoever made it.
	Shared Shared
	// Leads, when set, says whether this instance runs the timed work
	// (resolving incidents whose recovery held, maintenance boundaries,
	// reminders, held updates): one instance of several does. Nil: this
	// one.
	Leads func() bool
}

// Shared is a lock the engines of several instances decide under.
type Shared interface {
	// Lock takes it; stale says another instance held it since this one
	// last did, so the engine re-reads its state before deciding. unlock
	// releases it, announcing a change when there was one.
	Lock(ctx context.Context) (stale bool, unlock func(changed bool), err error)
}

func (o *Options) validate() error {
	switch {
	case o.Store == nil:
		return errors.New("incident: Options.Store is required")
	case o.Clock == nil:
		return errors.New("incident: Options.Clock is required")
	case o.NewID == nil:
		return errors.New("incident: Options.NewID is required")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Changed == nil {
		o.Changed = func(map[string]upstate.Status) {}
	}
	if o.Route == nil {
		o.Route = func(upstate.Event) upstate.Owed { return upstate.Owed{} }
	}
	if o.DefaultRecovery <= 0 {
		o.DefaultRecovery = 2 * time.Minute
	}
	return nil
}

// Engine owns component statuses and automatic incident lifecycles. Its
// methods are safe for concurrent use; they serialise on one mutex so each
// decision sees the last one's result.
type Engine struct {
	opts Options

	mu       sync.Mutex
	comps    map[string]upstate.Component
	order    []string
	checks   map[string]*upstate.CheckSpec // into the slice Configure was given
	checksOf map[string][]string           // component → the checks that affect it
	// unsaved are transitions not decided yet because the store refused
	// an earlier change (a full disk); stashed is that change, with what
	// it does to memory. Before anything else, and on every tick, the
	// stashed change is written again as it was (same transition, incident
	// and entry ids: if it did commit after all, writing it again changes
	// nothing) and then the transitions are decided in order, so a failure
	// seen while the disk was full still opens its incident once there is
	// room, and only one. Each transition is written with the change it
	// causes, in one transaction, or alone when it causes none: the
	// condition stored never disagrees with the incidents.
	unsaved  []upstate.Transition
	stashed  *plan
	rederive bool            // a reload changed components or checks: derive them all
	conds    map[string]cond // see cond
	statuses map[string]upstate.Status
	// holds are statuses people set on components outside incidents.
	holds map[string]upstate.Hold
	open  []*upstate.Incident
	// maint are the maintenances not yet over, soonest first.
	maint []upstate.Maintenance
	// recovery remembers, per open incident, how long its recovery must
	// hold: the longest window of the checks that failed in it.
	recovery map[string]time.Duration
	wake     chan struct{}
	lastLook time.Time // when maintenance windows were last looked at
	// reminded is when each open incident was last reminded of.
	reminded map[string]time.Time
	// news is what each open linked incident's mirrored updates have
	// told; held ones are lost on restart (they are on the timeline).
	news map[string]*mirrorNews
	// measured is, per open incident, the share of requests failing the
	// engine last set as its scope from its checks' bursts: it follows
	// them while the scope still says it, and never replaces what people
	// wrote there. Lost on restart, when a scope is kept as it is.
	measured map[string]float64
	// hold is Options.HoldAutomatic, as the last reload set it.
	hold bool
	// wrote says a write went through since the shared lock was taken;
	// refresh that another instance announced a change (Refresh).
	wrote, refresh bool
	// condSeq is the number of the last transition the conditions were
	// read up to, in a cluster (conditions).
	condSeq int64
	// inbox are the transitions waiting for the caller that holds the
	// shared lock to decide them too; settling says one does
	// (handleShared). Guarded by inboxMu, which is taken after mu when
	// both are.
	inboxMu  sync.Mutex
	inbox    []upstate.Transition
	settling bool
}

// New loads the current statuses, conditions and open incidents, and
// reconciles them with the configuration.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Shared != nil {
		opts.Store = &noting{Store: opts.Store}
	}
	e := &Engine{opts: opts, hold: opts.HoldAutomatic, wake: make(chan struct{}, 1), recovery: map[string]time.Duration{}, measured: map[string]float64{}, lastLook: opts.Clock.Now(),
		reminded: map[string]time.Time{}, news: map[string]*mirrorNews{}}
	// Not under the shared lock yet: the first decision reads the
	// conditions again, whole, under it.
	if err := e.load(ctx, false); err != nil {
		return nil, err
	}
	if err := e.Reconfigure(ctx, opts.Components, opts.Checks); err != nil {
		return nil, err
	}
	return e, nil
}

// load reads the statuses, holds, conditions, open incidents and
// maintenances from the store: at start, and in a cluster whenever
// another instance has changed them. locked says the shared lock is held:
// see conditions. Must be called with e.mu held (or before the engine is
// used).
func (e *Engine) load(ctx context.Context, locked bool) error {
	comps, err := e.opts.Store.ListComponents(ctx)
	if err != nil {
		return fmt.Errorf("load components: %w", err)
	}
	statuses := map[string]upstate.Status{}
	holds := map[string]upstate.Hold{}
	for _, c := range comps {
		statuses[c.ID] = c.Status
		if c.Hold.Status != "" {
			holds[c.ID] = c.Hold
		}
	}
	conds, err := e.conditions(ctx, locked)
	if err != nil {
		return err
	}
	open, err := e.opts.Store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
	if err != nil {
		return fmt.Errorf("load open incidents: %w", err)
	}
	slices.Reverse(open) // oldest first
	maint, err := e.opts.Store.ListMaintenances(ctx, e.opts.Clock.Now())
	if err != nil {
		return fmt.Errorf("load maintenances: %w", err)
	}
	if e.checks != nil {
		for id := range conds {
			if _, ok := e.checks[id]; !ok {
				delete(conds, id)
			}
		}
	}
	e.statuses, e.holds, e.conds, e.open, e.maint = statuses, holds, conds, open, maint
	return nil
}

// conditions are every check's condition as stored: all of them read at
// start; in a cluster, afterwards, only those recorded since the last
// read merged into what the engine knows (a thousand transitions a second
// among 50,000 checks would otherwise read 50,000 rows for each). The
// read moves on from where it got to only under the shared lock: no
// decision is being written then, so every number below the last one is
// committed; read without the lock (a follower's refresh), a decision
// still being written could have a lower number than one committed, and
// would be skipped for good. Must be called with e.mu held.
func (e *Engine) conditions(ctx context.Context, locked bool) (map[string]cond, error) {
	if e.opts.Shared != nil && e.condSeq > 0 {
		changed, last, err := e.opts.Store.ConditionsSince(ctx, e.condSeq)
		if err != nil {
			return nil, fmt.Errorf("load conditions: %w", err)
		}
		conds := maps.Clone(e.conds)
		for id, c := range changed {
			conds[id] = compact(c)
		}
		if locked {
			e.condSeq = last
		}
		return conds, nil
	}
	var seq int64
	if e.opts.Shared != nil {
		// The number first: what is recorded meanwhile is read again
		// next time, which changes nothing.
		var err error
		if _, seq, err = e.opts.Store.ConditionsSince(ctx, 0); err != nil {
			return nil, fmt.Errorf("load conditions: %w", err)
		}
	}
	conds, err := e.opts.Store.ListConditions(ctx)
	if err != nil {
		return nil, fmt.Errorf("load conditions: %w", err)
	}
	if locked {
		e.condSeq = seq
	}
	return compactAll(conds), nil
}

// lock takes the engine's lock, and in a cluster the shared one, first
// re-reading what another instance changed since this one last decided.
// A change the store refused and that was stashed is decided again from
// the state read (its transitions go back in the queue): another
// instance may have moved on since. The function returned releases both.
func (e *Engine) lock(ctx context.Context) (func(), error) {
	e.mu.Lock()
	if e.opts.Shared == nil {
		return e.mu.Unlock, nil
	}
	stale, unlock, err := e.opts.Shared.Lock(ctx)
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	if stale || e.refresh {
		if err := e.reread(ctx); err != nil {
			unlock(false)
			e.mu.Unlock()
			return nil, err
		}
		e.opts.Changed(maps.Clone(e.statuses))
	}
	e.opts.Store.(*noting).wrote = false
	return func() {
		unlock(e.opts.Store.(*noting).wrote)
		e.mu.Unlock()
	}, nil
}

// reread loads the state another instance may have changed, keeping
// what this one has not written yet. Must be called with e.mu held.
func (e *Engine) reread(ctx context.Context) error {
	if err := e.load(ctx, true); err != nil {
		return err
	}
	e.refresh = false
	if e.stashed != nil {
		e.unsaved = append(slices.Clone(e.stashed.change.Transitions), e.unsaved...)
		e.stashed = nil
	}
	for _, t := range e.unsaved {
		if _, ok := e.checks[t.To.CheckID]; ok {
			e.conds[t.To.CheckID] = compact(t.To)
		}
	}
	open := map[string]bool{}
	for _, in := range e.open {
		open[in.ID] = true
	}
	gone := func(id string) bool { return !open[id] }
	maps.DeleteFunc(e.recovery, func(id string, _ time.Duration) bool { return gone(id) })
	maps.DeleteFunc(e.measured, func(id string, _ float64) bool { return gone(id) })
	maps.DeleteFunc(e.reminded, func(id string, _ time.Time) bool { return gone(id) })
	return nil
}

// Refresh says another instance changed incidents or statuses: the
// engine re-reads them (on its own goroutine, Run) and reports the
// statuses through Options.Changed.
func (e *Engine) Refresh() {
	e.mu.Lock()
	e.refresh = true
	e.mu.Unlock()
	e.poke()
}

// noting is the store as a shared engine writes to it: it remembers that
// a write went through, so the change is announced.
type noting struct {
	Store
	wrote bool
}

func (n *noting) Apply(ctx context.Context, c store.Change) error {
	err := n.Store.Apply(ctx, c)
	n.wrote = n.wrote || err == nil
	return err
}

func (n *noting) SaveMaintenance(ctx context.Context, m upstate.Maintenance, owed ...upstate.Message) error {
	err := n.Store.SaveMaintenance(ctx, m, owed...)
	n.wrote = n.wrote || err == nil
	return err
}

func (n *noting) DeleteMaintenance(ctx context.Context, id string, owed ...upstate.Message) error {
	err := n.Store.DeleteMaintenance(ctx, id, owed...)
	n.wrote = n.wrote || err == nil
	return err
}

func (n *noting) EnqueueMessages(ctx context.Context, ms []upstate.Message) error {
	err := n.Store.EnqueueMessages(ctx, ms)
	n.wrote = n.wrote || err == nil
	return err
}

// HoldAutomatic sets whether the entries Upstate writes from now on are
// held as internal notes (true) or public at once (a config reload).
func (e *Engine) HoldAutomatic(hold bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hold = hold
}

// Reconfigure replaces the components and checks (a config reload) and
// re-derives statuses, so a removed check stops holding a component down.
// The engine keeps checks, not a copy (one copy of 100,000 checks'
// definitions is enough): nothing may write to it afterwards.
func (e *Engine) Reconfigure(ctx context.Context, comps []upstate.Component, checks []upstate.CheckSpec) error {
	unlock, err := e.lock(ctx)
	if err != nil {
		// Applied without deciding: the next change or tick, once the
		// lock can be had, derives the statuses again.
		e.mu.Lock()
		defer e.mu.Unlock()
		e.configure(comps, checks)
		e.poke()
		return nil
	}
	defer unlock()
	e.configure(comps, checks)
	// Re-derive everything once what the store refused before is written;
	// if it still refuses, the next tick does both.
	if err := e.settle(ctx); err != nil {
		e.opts.Logger.Warn("configuration applied; the statuses it changes are written once the store accepts writes", "component", "incident", "err", err)
		e.poke()
	}
	return nil
}

// configure puts components and checks in force, to be derived again.
// Must be called with e.mu held.
func (e *Engine) configure(comps []upstate.Component, checks []upstate.CheckSpec) {
	e.comps = map[string]upstate.Component{}
	e.order = e.order[:0]
	for _, c := range comps {
		e.comps[c.ID] = c
		e.order = append(e.order, c.ID)
	}
	e.checks = make(map[string]*upstate.CheckSpec, len(checks))
	e.checksOf = map[string][]string{}
	for i := range checks {
		c := &checks[i]
		e.checks[c.ID] = c
		for _, comp := range c.Components {
			e.checksOf[comp] = append(e.checksOf[comp], c.ID)
		}
	}
	for id := range e.conds {
		if _, ok := e.checks[id]; !ok {
			delete(e.conds, id)
		}
	}
	e.rederive = true
}

// Observe takes what one result brings the engine, in order: the
// transition it confirmed, if any (see Handle), then the provider's news
// an upstream check's read carries (see Mirror), so the incident a
// provider's failure opens is linked and shows their updates at once.
// It returns Handle's error: what the store refused is kept and written
// again. A provider's updates not mirrored are logged here, and mirrored
// from the next read.
func (e *Engine) Observe(ctx context.Context, r upstate.Result, t *upstate.Transition) error {
	var err error
	if t != nil {
		err = e.Handle(ctx, *t)
	}
	if r.Provider != nil {
		for _, n := range r.Provider.News {
			if _, merr := e.Mirror(ctx, n.Link, n.Updates); merr != nil {
				e.opts.Logger.Error("provider updates not mirrored yet; the next read brings them again", "component", "incident", "check", r.CheckID, "provider", n.Link.Provider, "err", merr)
			}
		}
	}
	return err
}

// Handle applies a confirmed transition of a check's condition, and
// saves it (its history and the check's condition) in the same
// transaction as the change it causes.
func (e *Engine) Handle(ctx context.Context, t upstate.Transition) error {
	if e.firstWord(t) {
		// Recorded beside the lock: nothing else changes.
		if err := e.opts.Store.Apply(ctx, store.Change{Transitions: []upstate.Transition{t}}); err == nil {
			return nil
		}
		// Decided the usual way, which keeps what the store refuses.
	}
	if e.opts.Shared != nil {
		return e.handleShared(ctx, t)
	}
	unlock, err := e.lock(ctx)
	if err != nil {
		return err // alone the lock cannot fail
	}
	defer unlock()
	e.queue(t)
	err = e.settle(ctx)
	if err != nil {
		e.poke() // Run retries it on its next tick
	}
	return err
}

// handleShared is Handle in a cluster: the transitions that arrive while
// one caller holds the shared lock wait in the inbox, and that caller
// decides them too before it lets go, so a thousand checks failing at
// once take the lock (and re-read what other instances changed) a few
// times, not a thousand. A caller whose transition another decides is
// answered nil: what the store refuses is kept and written again (Run).
func (e *Engine) handleShared(ctx context.Context, t upstate.Transition) error {
	e.inboxMu.Lock()
	e.inbox = append(e.inbox, t)
	if e.settling {
		e.inboxMu.Unlock()
		return nil
	}
	e.settling = true
	e.inboxMu.Unlock()
	var first error
	for {
		unlock, err := e.lock(ctx)
		if err != nil {
			// Kept to be decided once the lock can be had (Run retries).
			e.mu.Lock()
			e.takeInbox(true)
			e.mu.Unlock()
			e.poke()
			return err
		}
		e.takeInbox(false)
		if err := e.settle(ctx); err != nil && first == nil {
			first = err
			e.poke() // Run retries it on its next tick
		}
		unlock()
		e.inboxMu.Lock()
		if len(e.inbox) == 0 {
			e.settling = false
			e.inboxMu.Unlock()
			return first
		}
		e.inboxMu.Unlock()
		if first != nil {
			// The store refuses: what came meanwhile waits with the
			// stashed change for Run's retry.
			e.mu.Lock()
			e.takeInbox(true)
			e.mu.Unlock()
			return first
		}
	}
}

// takeInbox queues the transitions waiting in the inbox, in order, and,
// when the caller is giving up, ends its settling in the same breath, so
// none is left in the inbox with nobody to decide it. Must be called with
// e.mu held.
func (e *Engine) takeInbox(giveUp bool) {
	e.inboxMu.Lock()
	defer e.inboxMu.Unlock()
	for _, t := range e.inbox {
		e.queue(t)
	}
	e.inbox = e.inbox[:0]
	if giveUp {
		e.settling = false
	}
}

// firstWord reports whether t is a check's first word that it is fine
// (from unknown: a new check, or the first start of an install), and
// takes it into the conditions: it changes no status (an unknown check
// counts as operational) and so no incident, and is only recorded, beside
// the engine's lock rather than under it (the store's writer commits such
// records together). Fifty thousand new checks then do not queue one by
// one for the engine, their probes holding the scheduler's slots while
// they wait. In a cluster, another instance that misses it in its
// incremental read (it may commit out of the lock's order) still derives
// the same statuses from unknown.
func (e *Engine) firstWord(t upstate.Transition) bool {
	if t.From.State != upstate.StateUnknown || t.To.State.Failing() {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	spec, ok := e.checks[t.To.CheckID]
	if !ok || spec.StatusFor(t.To) != upstate.Operational || len(e.unsaved) > 0 || e.stashed != nil {
		return false // removed, or not neutral, or behind changes not written yet
	}
	e.conds[t.To.CheckID] = compact(t.To)
	return true
}

// queue keeps a transition to decide. Must be called with e.mu held.
func (e *Engine) queue(t upstate.Transition) {
	if _, ok := e.checks[t.To.CheckID]; ok {
		e.conds[t.To.CheckID] = compact(t.To)
	} // else removed by a reload while its probe ran: only its history is saved
	if len(e.unsaved) >= maxUnsaved {
		// The disk has been full for long: keep the latest; the
		// conditions above are current whatever is dropped, so the
		// statuses still come out right.
		e.opts.Logger.Error("the store has refused many incident changes in a row; dropping the oldest", "component", "incident", "check", e.unsaved[0].To.CheckID)
		e.unsaved = e.unsaved[1:]
	}
	e.unsaved = append(e.unsaved, t)
}

// maxUnsaved bounds the transitions kept for retrying.
const maxUnsaved = 1000

// settle writes the stashed change and decides the transitions waiting
// behind it, in order, stopping at the first change the store still
// refuses. Every change the engine makes settles first, so none is made
// on memory that lacks what the store was told before. Must be called
// with e.mu held.
func (e *Engine) settle(ctx context.Context) error {
	if e.stashed != nil {
		if err := e.commit(ctx, e.stashed); err != nil {
			return err
		}
	}
	for len(e.unsaved) > 0 {
		t := e.unsaved[0]
		e.unsaved = e.unsaved[1:]
		decide := e.decide
		if _, ok := e.checks[t.To.CheckID]; !ok {
			decide = e.record // removed by a reload: nothing to decide
		}
		if err := decide(ctx, &t); err != nil {
			return err // its change is stashed
		}
	}
	if e.rederive {
		e.rederive = false
		return e.decide(ctx, nil)
	}
	return nil
}

// plan is a change worked out and what it does to the engine's memory
// once it is stored; next is nil for a plan that only records a
// transition, which changes nothing in memory nor on the page.
type plan struct {
	change store.Change
	next   map[string]upstate.Status
	open   []*upstate.Incident
	opened []*upstate.Incident
	// measured are the scopes the plan set from bursts, by incident.
	measured map[string]float64
}

// record saves a transition that changes no status or incident: its
// history and its check's condition. Must be called with e.mu held.
func (e *Engine) record(ctx context.Context, t *upstate.Transition) error {
	return e.commit(ctx, &plan{change: store.Change{Transitions: []upstate.Transition{*t}}})
}

// commit stores a plan's change and then applies it to memory; if the
// store refuses it, it is stashed to be written again as it is. Must be
// called with e.mu held.
func (e *Engine) commit(ctx context.Context, p *plan) error {
	if err := e.opts.Store.Apply(ctx, p.change); err != nil {
		e.stashed = p
		return fmt.Errorf("save incident change: %w", err)
	}
	e.stashed = nil
	if p.next == nil {
		return nil
	}
	e.statuses = p.next
	e.open = p.open
	maps.Copy(e.measured, p.measured)
	for _, in := range p.opened {
		e.opts.Logger.Info("incident opened", "component", "incident", "incident", in.ID, "name", in.Name)
	}
	e.opts.Changed(maps.Clone(p.next))
	e.poke()
	return nil
}

// Statuses returns every component's current status.
func (e *Engine) Statuses() map[string]upstate.Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.statuses)
}

// derive computes component statuses from the conditions of the checks
// that affect them: only the given components when set (one check's
// transition touches only its own), else all. Must be called with e.mu held.
func (e *Engine) derive(only []string) map[string]upstate.Status {
	now := e.opts.Clock.Now()
	out := make(map[string]upstate.Status, len(e.comps))
	for id := range e.comps {
		if st, ok := e.statuses[id]; ok && only != nil {
			out[id] = st
		} else {
			out[id] = upstate.Operational
		}
	}
	ids := only
	if ids == nil {
		ids = e.order
	}
	for _, id := range ids {
		if _, ok := e.comps[id]; !ok {
			continue
		}
		st := upstate.Operational
		if e.inMaintenance(id, now) {
			// Planned work: the checks' failures are expected, and only
			// what people set on an incident can say worse.
			st = upstate.UnderMaintenance
		} else {
			for _, checkID := range e.checksOf[id] {
				if c, ok := e.conds[checkID]; ok {
					st = upstate.Worse(st, e.spec(checkID).StatusFor(c.condition(checkID)))
				}
			}
		}
		for _, in := range e.open {
			if o, ok := in.Overrides[id]; ok {
				st = upstate.Worse(st, o)
			}
		}
		if h, ok := e.holds[id]; ok {
			st = upstate.Worse(st, h.Status)
		}
		out[id] = st
	}
	return out
}

// pending is an incident being changed by one decision.
type pending struct {
	in      *upstate.Incident
	entries []upstate.TimelineEntry
	// evidence[i] says entries[i] is the engineers' account (checks,
	// codes, latencies, errors): internal always, never merged with the
	// plain words the public reads.
	evidence []bool
	isNew    bool
}

// decide reconciles statuses and incidents with the conditions. t is the
// transition that prompted it, if any. Must be called with e.mu held.
func (e *Engine) decide(ctx context.Context, t *upstate.Transition) error {
	now := e.opts.Clock.Now()
	var only []string
	if t != nil {
		same := t.From.State.Rank() == t.To.State.Rank() && t.From.Partial == t.To.Partial && t.From.State != upstate.StateUnknown
		if same && !(t.To.Burst && t.To.State.Failing()) {
			return e.record(ctx, t) // nothing a component could see changed
		} // a burst's new share may change an incident's scope
		only = slices.Clone(e.spec(t.To.CheckID).Components)
	}
	next := e.derive(only)
	var change store.Change
	touched := map[string]*pending{}
	open := slices.Clone(e.open)
	touch := func(in *upstate.Incident) *pending {
		if p, ok := touched[in.ID]; ok {
			return p
		}
		cp := *in
		cp.Components = slices.Clone(in.Components)
		p := &pending{in: &cp}
		touched[in.ID] = p
		for i, o := range open {
			if o.ID == in.ID {
				open[i] = p.in
			}
		}
		return p
	}

	var worse, better []string
	for _, id := range e.order {
		old, cur := e.statuses[id], next[id]
		if old == "" {
			old = upstate.Operational
		}
		if old == cur {
			continue
		}
		change.Statuses = append(change.Statuses, upstate.StatusChange{ComponentID: id, At: now, Status: cur})
		if cur.Severity() > old.Severity() {
			worse = append(worse, id)
		} else {
			better = append(better, id)
		}
	}

	// Worsening: join an incident on the component or a failing relative,
	// else open one. All components worsened by one transition share it.
	var home *pending
	for _, id := range worse {
		in := e.findIncident(open, id, next, t)
		if in == nil && home != nil {
			in = home.in
		}
		var p *pending
		if in == nil {
			p = e.newIncident(now, id, next[id], t)
			touched[p.in.ID] = p
			open = append(open, p.in)
		} else {
			p = touch(in)
		}
		home = p
		e.worsen(p, id, e.statuses[id], next[id], now, t)
	}
	for _, id := range better {
		for _, in := range open {
			if in.HasComponent(id) {
				p := touch(in)
				e.improve(p, id, e.statuses[id], next[id], now, t)
			}
		}
	}

	// A burst measured the share of requests failing: that is the scope.
	measured := map[string]float64{}
	if t != nil && t.To.Burst && t.To.State.Failing() {
		for _, in := range open {
			if !slices.ContainsFunc(e.spec(t.To.CheckID).Components, in.HasComponent) {
				continue
			}
			share, ok := e.share(in)
			if !ok || !e.mayMeasure(in) || (in.Reach.FailingPercent != nil && *in.Reach.FailingPercent == share) {
				continue
			}
			p := touch(in)
			p.in.Reach.FailingPercent = &share
			measured[in.ID] = share
		}
	}

	// A provider reports the problem our own probe found first: link it.
	if t != nil && t.To.State.Failing() {
		if up := upstreamOf(t); up != nil {
			for _, in := range open {
				if in.Upstream != nil || !slices.ContainsFunc(e.spec(t.To.CheckID).Components, in.HasComponent) {
					continue
				}
				p := touch(in)
				p.in.Upstream = upstreamOf(t)
				p.add(e, now, p.in.Status, fmt.Sprintf("%s reports an incident on its side: %q. [Their status page](%s)",
					upstate.EscapeMarkdown(up.Provider), up.Title, up.URL))
			}
		}
	}

	// Monitoring once every component of an automatic incident is
	// operational; back to investigating if it fails again.
	for _, in := range open {
		if !in.Auto {
			continue
		}
		allOK := true
		for _, c := range in.Components {
			if next[c].Severity() > 0 {
				allOK = false
			}
		}
		// A monitoring without MonitoringAt is a provider's word mirrored
		// onto a linked incident (see follow): our components still failed
		// then, so it is neither a watch to begin again nor a problem back.
		switch {
		case allOK && (in.Status != upstate.Monitoring || in.MonitoringAt == nil):
			p := touch(in)
			p.in.Status = upstate.Monitoring
			m := now
			p.in.MonitoringAt = &m
			p.add(e, now, upstate.Monitoring, fmt.Sprintf("All affected components are operational again since %s. We are monitoring for %s before resolving.",
				e.clock(now), upstate.FormatDuration(e.recoveryFor(p.in), upstate.DurationWords)))
		case !allOK && in.Status == upstate.Monitoring && in.MonitoringAt != nil:
			p := touch(in)
			p.in.Status = upstate.Investigating
			p.in.MonitoringAt = nil
			p.add(e, now, upstate.Investigating, "The problem is back: we are investigating again.")
		}
	}

	for _, p := range touched {
		p.in.UpdatedAt = now
		change.Incidents = append(change.Incidents, p.in)
		change.Entries = append(change.Entries, p.entries...)
	}
	for i := range change.Statuses {
		s := &change.Statuses[i]
		for _, in := range open {
			if in.HasComponent(s.ComponentID) {
				s.IncidentID = in.ID
			}
		}
	}
	if change.Empty() {
		e.statuses = next // nothing differs, but components new to the engine are now known
		if t != nil {
			return e.record(ctx, t)
		}
		return nil
	}
	e.owe(&change)
	if t != nil {
		change.Transitions = []upstate.Transition{*t}
	}
	pl := &plan{change: change, next: next, open: open, measured: measured}
	for _, p := range touched {
		if p.isNew {
			pl.opened = append(pl.opened, p.in)
		}
	}
	return e.commit(ctx, pl)
}

// share is the worst share of requests failing that a burst of one of
// the incident's checks measured in its current condition (a check down
// by a burst: 100), and whether any measured one. Only checks whose
// failing is an outage count: one whose impact calls it degraded
// performance (lock waits, say) says nothing of requests failing, and
// one down whose impact calls it a partial outage measured only its own
// part. Must be called with e.mu held.
func (e *Engine) share(in *upstate.Incident) (float64, bool) {
	best, ok := 0.0, false
	for id, spec := range e.checks {
		k, has := e.conds[id]
		c := k.condition(id)
		if !has || !c.Burst || !c.State.Failing() || c.Samples == 0 || !slices.ContainsFunc(spec.Components, in.HasComponent) {
			continue
		}
		switch st := spec.StatusFor(c); {
		case st != upstate.PartialOutage && st != upstate.MajorOutage:
			continue
		case c.State == upstate.StateDown && st != upstate.MajorOutage:
			// All of this check's requests fail, and its impact says
			// that is part of the component (Word conversions, not
			// PDF): the component's share is not measured.
			continue
		}
		if f := math.Round(float64(c.Failures) / float64(c.Samples) * 100); !ok || f > best {
			best, ok = f, true
		}
	}
	return best, ok
}

// mayMeasure reports whether the engine may set the incident's share of
// requests failing from its bursts: the scope says none, or still what
// the engine set (a range is people's, see measuredScope). Must be
// called with e.mu held.
func (e *Engine) mayMeasure(in *upstate.Incident) bool {
	if !measuredScope(in) {
		return false
	}
	if in.Reach.FailingPercent == nil {
		return true
	}
	m, ok := e.measured[in.ID]
	return ok && m == *in.Reach.FailingPercent
}

// findIncident returns the open incident that a failure of component id
// belongs to: one already on it, or one on a failing component that id
// depends on (or that depends on id), or one on a failing component the
// check declares it depends on. Must be called with e.mu held.
func (e *Engine) findIncident(open []*upstate.Incident, id string, next map[string]upstate.Status, t *upstate.Transition) *upstate.Incident {
	for _, in := range open {
		if in.HasComponent(id) {
			return in
		}
	}
	var deps []string
	if t != nil {
		deps = e.spec(t.To.CheckID).DependsOn
	}
	for _, in := range open {
		for _, c := range in.Components {
			if next[c].Severity() == 0 {
				continue
			}
			if e.dependsOn(id, c) || e.dependsOn(c, id) || slices.Contains(deps, c) {
				return in
			}
		}
	}
	return nil
}

// dependsOn reports whether a needs b, directly or through others.
func (e *Engine) dependsOn(a, b string) bool {
	seen := map[string]bool{}
	stack := []string{a}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range e.comps[x].DependsOn {
			if d == b {
				return true
			}
			if !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	return false
}

func (e *Engine) newIncident(now time.Time, comp string, st upstate.Status, t *upstate.Transition) *pending {
	in := &upstate.Incident{
		ID:         e.opts.NewID(),
		Name:       incidentName(st, e.comps[comp].Name),
		Status:     upstate.Investigating,
		Impact:     upstate.ImpactNone,
		CreatedAt:  now,
		UpdatedAt:  now,
		StartedAt:  now,
		DetectedAt: now,
		Auto:       true,
	}
	if t != nil && !t.To.Since.IsZero() && t.To.Since.Before(now) {
		in.StartedAt = t.To.Since
	}
	if t != nil {
		if up := upstreamOf(t); up != nil {
			in.Upstream = up
			in.Name = "Issue linked to " + up.Provider + ": " + up.Title
			if len(in.Name) > 200 {
				in.Name = in.Name[:199] + "…"
			}
		}
	}
	return &pending{in: in, isNew: true}
}

// upstreamOf is the provider's incident the transition's check fails on,
// as the result that confirmed it said (nil when none): a copy, each
// incident its own.
func upstreamOf(t *upstate.Transition) *upstate.Upstream {
	if t == nil || t.To.Upstream == nil {
		return nil
	}
	up := *t.To.Upstream
	return &up
}

func incidentName(st upstate.Status, comp string) string {
	switch st {
	case upstate.MajorOutage:
		return "Major outage of " + comp
	case upstate.PartialOutage:
		return "Partial outage of " + comp
	}
	return "Degraded performance of " + comp
}

// add writes plain words for the public (internal while e.hold).
func (p *pending) add(e *Engine, at time.Time, status upstate.IncidentStatus, body string, affected ...upstate.AffectedComponent) {
	p.entry(e, at, status, body, !e.hold, false, affected)
}

// note writes the evidence behind a change, for the team only.
func (p *pending) note(e *Engine, at time.Time, status upstate.IncidentStatus, body string) {
	if body = strings.TrimSpace(body); body != "" {
		p.entry(e, at, status, body, false, true, nil)
	}
}

func (p *pending) entry(e *Engine, at time.Time, status upstate.IncidentStatus, body string, public, evidence bool, affected []upstate.AffectedComponent) {
	// Several components changing at once make one entry of each kind,
	// not several.
	for i := len(p.entries) - 1; i >= 0 && p.entries[i].At.Equal(at); i-- {
		if p.evidence[i] != evidence {
			continue
		}
		if last := &p.entries[i]; last.Status == status {
			last.Body += "\n\n" + body
			last.Affected = append(last.Affected, affected...)
			return
		}
		break
	}
	kind := upstate.EntryAutomatic
	if evidence {
		kind = upstate.EntryEvidence
	}
	p.entries = append(p.entries, upstate.TimelineEntry{ID: e.opts.NewID(), IncidentID: p.in.ID, At: at, Status: status, Body: body, Public: public, Actor: upstate.ActorUpstate, Affected: affected, Kind: kind})
	p.evidence = append(p.evidence, evidence)
}

// plain is what the public reads when comp's status becomes st: the
// component's own message for it, or plain words that name no check and
// show no evidence. Markdown.
func (e *Engine) plain(comp string, st upstate.Status) string {
	m, name := e.comps[comp].Messages, e.compName(comp)
	switch st {
	case upstate.MajorOutage:
		if m.Down != "" {
			return m.Down
		}
		return fmt.Sprintf("The %s is not responding.", name)
	case upstate.PartialOutage:
		if m.Partial != "" {
			return m.Partial
		}
		return fmt.Sprintf("We are seeing errors on the %s for some requests.", name)
	case upstate.DegradedPerformance:
		if m.Degraded != "" {
			return m.Degraded
		}
		return fmt.Sprintf("The %s is slow.", name)
	case upstate.UnderMaintenance:
		return fmt.Sprintf("The %s is under planned maintenance.", name)
	}
	if m.Resolved != "" {
		return m.Resolved
	}
	return fmt.Sprintf("The %s is working normally again.", name)
}

func (e *Engine) worsen(p *pending, comp string, old, cur upstate.Status, now time.Time, t *upstate.Transition) {
	in := p.in
	if old == "" {
		old = upstate.Operational
	}
	name := e.compName(comp)
	joined := !in.HasComponent(comp)
	if t != nil && in.Upstream == nil {
		// Our own probe failed first; the provider now says why.
		in.Upstream = upstreamOf(t)
	}
	if joined {
		in.Components = append(in.Components, comp)
	}
	if cur.Impact().Rank() > in.Impact.Rank() {
		in.Impact = cur.Impact()
		if in.Auto && len(in.Components) > 0 && in.Components[0] == comp && !strings.HasPrefix(in.Name, "Issue linked to ") {
			in.Name = incidentName(cur, e.comps[comp].Name)
		}
	}
	if t != nil && !t.To.Since.IsZero() && t.To.Since.Before(in.StartedAt) {
		in.StartedAt = t.To.Since
	}
	if t != nil {
		// Recovery must hold as long as the checks that failed ask for.
		if w := e.spec(t.To.CheckID).Deciding().RecoveryWindow; w > e.recovery[in.ID] {
			e.recovery[in.ID] = w
		}
	}
	aff := upstate.AffectedComponent{ComponentID: comp, OldStatus: old, NewStatus: cur}
	status := in.Status
	if status == upstate.Monitoring {
		status = upstate.Investigating
	}
	// The public reads plain words; the team also reads the evidence.
	public := e.plain(comp, cur)
	var body string
	switch {
	case p.isNew && len(in.Components) == 1:
		body = fmt.Sprintf("%s: %s. %s", name, strings.ToLower(cur.Label()), e.because(t))
	case joined:
		body = fmt.Sprintf("%s is affected too (%s). %s", name, strings.ToLower(cur.Label()), e.because(t))
		if rel := e.relation(in, comp); rel != "" {
			body += " " + rel
			public += " " + rel
		}
	case old == upstate.Operational:
		body = fmt.Sprintf("%s is affected again (%s). %s", name, strings.ToLower(cur.Label()), e.because(t))
	default:
		body = fmt.Sprintf("%s worsened from %s to %s. %s", name, strings.ToLower(old.Label()), strings.ToLower(cur.Label()), e.because(t))
	}
	p.add(e, now, status, public, aff)
	p.note(e, now, status, body)
}

func (e *Engine) improve(p *pending, comp string, old, cur upstate.Status, now time.Time, t *upstate.Transition) {
	name := e.compName(comp)
	aff := upstate.AffectedComponent{ComponentID: comp, OldStatus: old, NewStatus: cur}
	var body string
	if cur == upstate.UnderMaintenance {
		body = fmt.Sprintf("%s is under planned maintenance.", name)
	} else if cur.Severity() == 0 {
		body = fmt.Sprintf("%s is operational again.", name)
	} else {
		body = fmt.Sprintf("%s improved from %s to %s.", name, strings.ToLower(old.Label()), strings.ToLower(cur.Label()))
	}
	p.add(e, now, p.in.Status, e.plain(comp, cur), aff)
	// The evidence, when a check's result moved it, is the team's.
	if t != nil && t.To.State == upstate.StateUp {
		p.note(e, now, p.in.Status, body+fmt.Sprintf(" %s %s.", e.checkName(t.To.CheckID), upstate.EscapeMarkdown(t.To.Evidence)))
	} else if t != nil {
		p.note(e, now, p.in.Status, body+" "+e.because(t))
	}
}

// because explains a transition in plain words: what failed, since when,
// and the evidence.
func (e *Engine) because(t *upstate.Transition) string {
	if t == nil {
		return ""
	}
	c := t.To
	if c.State == upstate.StateUp {
		return ""
	}
	s := fmt.Sprintf("%s is %s since %s", e.checkName(c.CheckID), c.Describe(), e.clock(c.Since))
	evidence := upstate.EscapeMarkdown(c.Evidence)
	if c.Burst {
		return s + "; " + evidence + "." // the burst's own words say how many
	}
	if c.Partial && c.Samples > 0 && c.Upstream == nil { // a provider's partial outage is their word, not our failures
		s += fmt.Sprintf(" (%d of the last %d checks failed)", c.Failures, c.Samples)
	}
	return s + "; latest: " + evidence + "."
}

func (e *Engine) relation(in *upstate.Incident, comp string) string {
	for _, c := range in.Components {
		if c == comp {
			continue
		}
		if e.dependsOn(comp, c) {
			return fmt.Sprintf("%s depends on %s.", e.compName(comp), e.compName(c))
		}
		if e.dependsOn(c, comp) {
			return fmt.Sprintf("%s depends on %s.", e.compName(c), e.compName(comp))
		}
	}
	return ""
}

// spec is the check's definition; an empty one for a check a reload
// removed. Must be called with e.mu held.
func (e *Engine) spec(id string) *upstate.CheckSpec {
	if s := e.checks[id]; s != nil {
		return s
	}
	return &upstate.CheckSpec{}
}

// checkName is how entries name a check, as Markdown-safe text.
func (e *Engine) checkName(id string) string {
	spec, ok := e.checks[id]
	name := "Check " + id
	if ok && spec.Name != "" && spec.Name != id {
		name = fmt.Sprintf("%s (%s)", spec.Name, id)
	}
	return upstate.EscapeMarkdown(name)
}

// compName is how entries name a component, as Markdown-safe text.
func (e *Engine) compName(id string) string { return upstate.EscapeMarkdown(e.comps[id].Name) }

// clock prints a time of day in the page's zone with the zone named.
func (e *Engine) clock(t time.Time) string {
	return t.In(e.opts.Location).Format("Jan 2 15:04:05 MST")
}

// recoveryFor is the longest recovery window of the checks that failed
// in the incident; after a restart, when that is no longer known, of the
// checks on its components.
func (e *Engine) recoveryFor(in *upstate.Incident) time.Duration {
	if d, ok := e.recovery[in.ID]; ok && d > 0 {
		return d
	}
	d := time.Duration(0)
	for _, spec := range e.checks {
		for _, c := range spec.Components {
			if in.HasComponent(c) && spec.Deciding().RecoveryWindow > d {
				d = spec.Deciding().RecoveryWindow
			}
		}
	}
	if d == 0 {
		d = e.opts.DefaultRecovery
	}
	return d
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run resolves monitoring incidents once their recovery has held, until
// ctx is done.
func (e *Engine) Run(ctx context.Context) {
	timer := e.opts.Clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, err := e.Tick(ctx)
		if err != nil {
			e.opts.Logger.Error("resolving incidents", "component", "incident", "err", err)
			next = e.opts.Clock.Now().Add(5 * time.Second)
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(e.opts.Clock.Now()), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-e.wake:
		}
	}
}

// Tick resolves every monitoring automatic incident whose recovery has
// held long enough, and returns when the next one falls due (zero if none).
func (e *Engine) Tick(ctx context.Context) (time.Time, error) {
	if e.opts.Leads != nil && !e.opts.Leads() {
		return e.follow(ctx)
	}
	unlock, err := e.lock(ctx)
	if err != nil {
		return e.opts.Clock.Now().Add(5 * time.Second), err
	}
	defer unlock()
	now := e.opts.Clock.Now()
	if err := e.settle(ctx); err != nil {
		return now.Add(5 * time.Second), fmt.Errorf("an incident change the store refused is still not saved: %w", err)
	}
	next, err := e.maintenanceBoundary(ctx, now)
	if err != nil {
		return now.Add(5 * time.Second), err
	}
	var change store.Change
	var keep []*upstate.Incident
	var resolved []*upstate.Incident
	for _, in := range e.open {
		if !in.Auto || in.Status != upstate.Monitoring || in.MonitoringAt == nil {
			keep = append(keep, in)
			continue
		}
		due := in.MonitoringAt.Add(e.recoveryFor(in))
		if due.After(now) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			keep = append(keep, in)
			continue
		}
		cp := *in
		cp.Status = upstate.Resolved
		cp.ResolvedAt = &now
		cp.UpdatedAt = now
		change.Incidents = append(change.Incidents, &cp)
		body := fmt.Sprintf("Every check has passed for %s. The problem lasted %s, from %s to %s.",
			upstate.FormatDuration(now.Sub(*in.MonitoringAt), upstate.DurationWords), upstate.FormatDuration(in.MonitoringAt.Sub(in.StartedAt), upstate.DurationWords), e.clock(in.StartedAt), e.clock(*in.MonitoringAt))
		change.Entries = append(change.Entries, upstate.TimelineEntry{ID: e.opts.NewID(), IncidentID: in.ID, At: now, Status: upstate.Resolved, Body: body, Public: !e.hold, Actor: upstate.ActorUpstate, Kind: upstate.EntryAutomatic})
		resolved = append(resolved, &cp)
	}
	if due, err := e.remind(ctx, now); err != nil {
		return next, err
	} else if !due.IsZero() && (next.IsZero() || due.Before(next)) {
		next = due
	}
	if !change.Empty() {
		taken := e.owe(&change)
		if err := e.opts.Store.Apply(ctx, change); err != nil {
			e.putBack(taken)
			return next, err
		}
		e.open = keep
		for _, in := range resolved {
			delete(e.recovery, in.ID)
			delete(e.measured, in.ID)
			e.opts.Logger.Info("incident resolved", "component", "incident", "incident", in.ID, "name", in.Name)
		}
		e.opts.Changed(maps.Clone(e.statuses))
	}
	// After resolving: a resolution carries its incident's held updates.
	if due, err := e.tellHeld(ctx, now); err != nil {
		return due, err
	} else if !due.IsZero() && (next.IsZero() || due.Before(next)) {
		next = due
	}
	return next, nil
}

// followEvery is how often an instance that does not lead looks again
// whether it does.
const followEvery = 5 * time.Second

// follow is Tick on an instance that does not lead: it re-reads what
// another instance announced, and writes what the store refused before.
func (e *Engine) follow(ctx context.Context) (time.Time, error) {
	now := e.opts.Clock.Now()
	e.mu.Lock()
	refresh, owed := e.refresh, e.stashed != nil || len(e.unsaved) > 0 || e.rederive
	if refresh && !owed {
		err := e.load(ctx, false)
		if err == nil {
			e.refresh = false
			e.opts.Changed(maps.Clone(e.statuses))
		}
		e.mu.Unlock()
		return now.Add(followEvery), err
	}
	e.mu.Unlock()
	if !owed {
		return now.Add(followEvery), nil
	}
	unlock, err := e.lock(ctx)
	if err != nil {
		return now.Add(5 * time.Second), err
	}
	defer unlock()
	if err := e.settle(ctx); err != nil {
		return now.Add(5 * time.Second), fmt.Errorf("an incident change the store refused is still not saved: %w", err)
	}
	if refresh {
		e.opts.Changed(maps.Clone(e.statuses))
	}
	return now.Add(followEvery), nil
}

// inMaintenance reports whether a maintenance covers the component at now.
// Must be called with e.mu held.
func (e *Engine) inMaintenance(comp string, now time.Time) bool {
	for _, m := range e.maint {
		if m.Covers(comp, now) {
			return true
		}
	}
	return false
}

// maintenanceBoundary re-derives statuses when a maintenance window has
// started or ended since the last look, drops finished ones, and returns
// the next start or end (zero if none). Must be called with e.mu held.
func (e *Engine) maintenanceBoundary(ctx context.Context, now time.Time) (time.Time, error) {
	crossed := false
	var owed []upstate.Message
	for _, m := range e.maint {
		before, after := m.StatusAt(e.lastLook), m.StatusAt(now)
		if before == after {
			continue
		}
		crossed = true
		if before == upstate.MaintenanceScheduled {
			owed = append(owed, e.maintenanceNotice(m, upstate.EventMaintenanceStarted, m.ScheduledFor)...)
		}
		if after == upstate.MaintenanceCompleted {
			owed = append(owed, e.maintenanceNotice(m, upstate.EventMaintenanceCompleted, m.ScheduledUntil)...)
		}
	}
	if crossed {
		if err := e.decide(ctx, nil); err != nil {
			return time.Time{}, err
		}
	}
	if len(owed) > 0 {
		if err := e.opts.Store.EnqueueMessages(ctx, owed); err != nil {
			return time.Time{}, fmt.Errorf("maintenance notices: %w", err)
		}
		e.opts.Changed(maps.Clone(e.statuses)) // the outbox has news, and the page a window begun or over
	}
	e.lastLook = now
	e.maint = slices.DeleteFunc(e.maint, func(m upstate.Maintenance) bool { return !m.ScheduledUntil.After(now) })
	var next time.Time
	for _, m := range e.maint {
		for _, b := range []time.Time{m.ScheduledFor, m.ScheduledUntil} {
			if b.After(now) && (next.IsZero() || b.Before(next)) {
				next = b
			}
		}
	}
	return next, nil
}
