package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/decide"
	"github.com/upstatehq/upstate/internal/schedule"
)

// compiled is a configuration turned into what each package takes.
type compiled struct {
	components []upstate.Component
	specs      []upstate.CheckSpec
	jobs       []schedule.Job
	tokens     map[string]upstate.Secret // the tokens of pinged (heartbeat) checks, by check id
	checksOf   map[string][]string       // component → checks, for sparklines
	// alerts are the alert checks' label matchers, in configuration order.
	alerts []check.AlertCheck
	// slos are the SLO checks, in configuration order, for the budget page.
	slos []*check.SLO
	// pushed are the pushed series some check reads: always kept.
	pushed map[string]bool

	// metrics are the metric checks, by id, for their baselines' status.
	metrics map[string]*check.Metric
	// readers are, for each pushed series some check reads, those checks:
	// judged as soon as numbers for it arrive.
	readers map[string][]string
	// paused are the paused checks' specs: kept in the list, not run, not
	// decided, out of the engine (so the statuses they caused clear).
	paused []upstate.CheckSpec

	// regions are the checks probed from several places (regions:), with
	// their quorums; agents are the checks each agent's region runs.
	regions map[string]regional
	agents  map[string][]upstate.AgentCheck
}

// regional is where a check is probed from and how many must agree.
type regional struct {
	names  []string
	quorum int
}

func compile(cfg *config.Config, env check.Env) (*compiled, error) {
	c := &compiled{tokens: map[string]upstate.Secret{}, checksOf: map[string][]string{}, components: components(cfg),
		pushed: map[string]bool{}, readers: map[string][]string{}, regions: map[string]regional{}, agents: map[string][]upstate.AgentCheck{}}
	watch := newWatchSets(cfg)
	// One copy of each DecideSpec the checks use, for their specs and
	// machines to share: 100,000 checks decide in a handful of ways, and a
	// copy each was 8.8 MB.
	decides := &decide.Specs{}
	c.specs = make([]upstate.CheckSpec, 0, len(cfg.Checks)) // exactly: 100,000 are 21 MB
	c.jobs = make([]schedule.Job, 0, len(cfg.Checks))
	defs, err := agentDefinitions(cfg)
	if err != nil {
		return nil, err
	}
	for _, ch := range cfg.Checks {
		kind, ok := check.KindOf(ch.Kind)
		if !ok || ch.Section == nil {
			return nil, fmt.Errorf("check %s: unknown kind %q", ch.ID, ch.Kind)
		}
		if ch.Paused {
			c.paused = append(c.paused, pausedSpec(ch, kind, decides))
			continue
		}
		if r, ok := ch.Section.(check.PushedReader); ok {
			for _, key := range r.PushedSeries() {
				c.pushed[key] = true
				c.readers[key] = append(c.readers[key], ch.ID)
			}
		}
		spec, d := specOf(ch)
		p, err := ch.Section.Prober(ch.Common(), env)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", ch.ID, err)
		}
		job := schedule.Job{ID: ch.ID, Interval: spec.Interval, Prober: p}
		if !kind.Told {
			watchful(&job, ch, p, watch)
		}
		if kind.Repeat {
			bursts(&job, &d, ch)
		}
		spec.Decide = decides.Of(decide.Defaults(d, spec.Interval))
		c.specs = append(c.specs, spec)
		if c.regional(ch, defs[ch.ID], &job) {
			c.jobs = append(c.jobs, job)
		}
		if s, ok := p.(*check.SLO); ok {
			c.slos = append(c.slos, s)
		}
		if m, ok := p.(*check.Metric); ok {
			if c.metrics == nil {
				c.metrics = map[string]*check.Metric{}
			}
			c.metrics[ch.ID] = m
		}
		if m, ok := ch.Section.(check.Matched); ok {
			match, err := m.Matcher()
			if err != nil {
				return nil, fmt.Errorf("check %s: %w", ch.ID, err)
			}
			c.alerts = append(c.alerts, check.AlertCheck{ID: ch.ID, Match: match, Prober: p})
		}
		if pinged, ok := ch.Section.(check.Pinged); ok {
			c.tokens[ch.ID] = pinged.PingToken()
		}
		if !kind.Told {
			for _, comp := range ch.Components {
				c.checksOf[comp] = append(c.checksOf[comp], ch.ID)
			}
		}
	}
	return c, nil
}

// agentDefinitions are what the probe agents are sent of each check
// probed from a region other than local, read from the file at once.
func agentDefinitions(cfg *config.Config) (map[string][]byte, error) {
	var ids []string
	for _, ch := range cfg.Checks {
		if !ch.Paused && slices.ContainsFunc(ch.Regions, func(r string) bool { return r != upstate.LocalRegion }) {
			ids = append(ids, ch.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return cfg.AgentYAMLs(ids)
}

// regional notes where a check is probed from: the agents' regions get
// its definition (def) and their slot of its interval, and the server
// runs it (at its own slot) only when it is one of them, as "local". It
// reports whether the server runs it.
func (c *compiled) regional(ch config.Check, def []byte, job *schedule.Job) bool {
	if len(ch.Regions) == 0 {
		return true
	}
	c.regions[ch.ID] = regional{names: ch.Regions, quorum: ch.Quorum}
	local := false
	for i, region := range ch.Regions {
		slot := schedule.Slot(ch.ID, job.Interval, i, len(ch.Regions))
		if region == upstate.LocalRegion {
			local, job.Aligned, job.Slot = true, true, slot
			continue
		}
		c.agents[region] = append(c.agents[region], upstate.AgentCheck{ID: ch.ID, Kind: ch.Kind, Interval: job.Interval, Slot: slot, Definition: string(def)})
	}
	return local
}

// specOf is what a check says whatever its kind, and how its results are
// decided before the kind's defaults.
func specOf(ch config.Check) (upstate.CheckSpec, upstate.DecideSpec) {
	spec := upstate.CheckSpec{
		ID: ch.ID, Name: ch.Name, Kind: ch.Kind, Interval: ch.Interval.D(), Timeout: ch.Timeout.D(),
		Components: ch.Components, DependsOn: ch.DependsOn,
	}
	if len(ch.Impact) > 0 { // most checks keep the defaults: no map each
		spec.Impact = make(map[upstate.ImpactKey]upstate.Status, len(ch.Impact))
	}
	for k, v := range ch.Impact {
		spec.Impact[upstate.ImpactKey(k)] = upstate.Status(v)
	}
	d := upstate.DecideSpec{FailAfter: ch.FailAfter, RecoverAfter: ch.RecoverAfter, RecoveryWindow: ch.RecoveryWindow.D()}
	if ch.Recheck != nil {
		d.RecheckCount, d.RecheckEvery = ch.Recheck.Count, ch.Recheck.Every.D()
		if ch.Recheck.Count == 0 {
			d.RecheckCount = -1 // explicitly off
		}
	}
	return spec, d
}

// pausedSpec is a paused check's spec, decided as it would be if it ran.
func pausedSpec(ch config.Check, kind check.Kind, decides *decide.Specs) upstate.CheckSpec {
	spec, d := specOf(ch)
	job := schedule.Job{ID: ch.ID, Interval: spec.Interval}
	if kind.Repeat {
		bursts(&job, &d, ch)
	}
	spec.Decide = decides.Of(decide.Defaults(d, spec.Interval))
	return spec
}

// components are the configured components as the domain knows them, in
// their order on the page: by order where one is given (order 1 is
// first), else by their place in the list (the file's first, then the
// console's); at the same place a given order goes first, then list order.
func components(cfg *config.Config) []upstate.Component {
	type placed struct {
		c   config.Component
		key int
		// given says the key is an order: it goes before a component
		// whose place in the list is the same.
		given bool
	}
	list := make([]placed, 0, len(cfg.Components))
	for i, c := range cfg.Components {
		list = append(list, placed{c, i + 1, false})
		if c.Order > 0 {
			list[i].key, list[i].given = c.Order, true
		}
	}
	slices.SortStableFunc(list, func(a, b placed) int {
		switch {
		case a.key != b.key:
			return a.key - b.key
		case a.given && !b.given:
			return -1
		case b.given && !a.given:
			return 1
		}
		return 0
	})
	out := make([]upstate.Component, 0, len(cfg.Components))
	for _, p := range list {
		c := p.c
		out = append(out, upstate.Component{ID: c.ID, Name: c.Name, Group: c.Group, Description: c.Description, DependsOn: c.DependsOn,
			Messages: upstate.ComponentMessages{Down: c.Messages.Down, Partial: c.Messages.Partial, Degraded: c.Messages.Degraded, Resolved: c.Messages.Resolved}})
	}
	return out
}

// checkFiles is the config rule that the files checks read (a tls
// check's ca_file) can be read, reported at their keys' lines.
func checkFiles(c *config.Config, problem func(path, format string, args ...any)) {
	for i, ch := range c.Checks {
		if r, ok := ch.Section.(check.FileReader); ok {
			r.ReadFiles(fileProblems{path: fmt.Sprintf("checks[%d]", i), problem: problem})
		}
	}
}

// fileProblems is how a section's ReadFiles reports, by key.
type fileProblems struct {
	path    string
	problem func(path, format string, args ...any)
}

func (f fileProblems) Errorf(key, format string, args ...any) {
	f.problem(f.path+"."+key, format, args...)
}
func (f fileProblems) Warnf(string, string, ...any) {}
func (f fileProblems) InboundAuth() bool            { return true }

// watchful sets what a check Upstate probes itself takes: its fast
// interval and the components whose trouble calls for it, where its
// probes go (the per-host limit) and its latency bound (slow is known
// when it passes).
func watchful(job *schedule.Job, ch config.Check, p check.Prober, watch *watchSets) {
	job.Fast = ch.FastInterval.D()
	if job.Fast == 0 {
		job.Fast = schedule.DefaultFast(job.Interval)
	}
	job.Watch = watch.of(ch)
	if a, ok := p.(check.Aimed); ok {
		job.Host = a.Target()
	}
	if b, ok := p.(check.Bounded); ok {
		job.SlowAfter = b.LatencyBound()
	}
}

// bursts sets the burst of a check whose probe may be repeated: decided
// as one by its machine, taken by the scheduler.
func bursts(job *schedule.Job, d *upstate.DecideSpec, ch config.Check) {
	b := schedule.DefaultBurst(job.Interval)
	if ch.Burst == nil && ch.Recheck != nil && ch.Recheck.Count == 0 {
		b.Count = 0 // re-checks turned off said "no extra requests": bursts too, unless asked for
	}
	if cb := ch.Burst; cb != nil {
		if cb.Count != nil {
			b.Count = *cb.Count
		}
		if cb.Over > 0 {
			b.Over = cb.Over.D()
		}
	}
	if b.Count > 0 {
		job.Burst, d.Burst = b, b.Count
		d.BurstAlways = ch.Burst != nil && ch.Burst.Always
	}
}

// watchSets work out the components whose trouble makes a check run at
// its fast interval: those it affects, those it says it depends on, and
// every component those depend on, however far. Checks that name the same
// components share one set: at 100,000 checks over 100 components there
// are a hundred, not 100,000 (and the dependency map is made once, not per
// check: that was most of compiling such a configuration).
type watchSets struct {
	deps map[string][]string
	sets map[string][]string // by the components and dependencies named
}

func newWatchSets(cfg *config.Config) *watchSets {
	w := &watchSets{deps: make(map[string][]string, len(cfg.Components)), sets: map[string][]string{}}
	for _, c := range cfg.Components {
		w.deps[c.ID] = c.DependsOn
	}
	return w
}

func (w *watchSets) of(ch config.Check) []string {
	named := append(slices.Clone(ch.Components), ch.DependsOn...)
	key := strings.Join(named, "\x00")
	if out, ok := w.sets[key]; ok {
		return out
	}
	var out []string
	seen := map[string]bool{}
	stack := named
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		stack = append(stack, w.deps[id]...)
	}
	slices.Sort(out)
	w.sets[key] = out
	return out
}
