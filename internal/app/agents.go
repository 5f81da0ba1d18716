package app

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/decide"
	"github.com/upstatehq/upstate/internal/snapshot"
)

// decider is how a check's results are decided: one machine, or one per
// region combined by quorum.
type decider interface {
	Observe(upstate.Result) decide.Decision
	ObserveBurst([]upstate.Result) decide.Decision
	Condition() upstate.Condition
}

// newDecider makes a check's decider, sharing its spec's DecideSpec (one
// copy for the checks decided alike, compile's).
func newDecider(spec upstate.CheckSpec, rg regional, start upstate.Condition) decider {
	d := spec.Decide
	if d == nil { // not compiled: decided as the zero spec says
		d = &upstate.DecideSpec{}
	}
	if len(rg.names) == 0 {
		return decide.NewShared(spec.ID, d, start)
	}
	q := decide.NewQuorumShared(spec.ID, d, rg.names, rg.quorum, start)
	q.Stale(regionStale(spec))
	return regionalDecider{q}
}

// regionStale is how long a region's word lasts: a region silent for
// three intervals (and a minute's slack for a slow report) has no word
// any more, for the decider and on the page.
func regionStale(spec upstate.CheckSpec) time.Duration { return 3*spec.Interval + time.Minute }

// regionalOf is each component's checks probed from several regions, for
// the page's line of regions.
func regionalOf(c *compiled) map[string][]snapshot.RegionalCheck {
	var out map[string][]snapshot.RegionalCheck
	for _, spec := range c.specs {
		rg := c.regions[spec.ID]
		if len(rg.names) == 0 {
			continue
		}
		if out == nil {
			out = map[string][]snapshot.RegionalCheck{}
		}
		for _, comp := range spec.Components {
			out[comp] = append(out[comp], snapshot.RegionalCheck{CheckID: spec.ID, Name: spec.DisplayName(), Regions: rg.names, Stale: regionStale(spec)})
		}
	}
	return out
}

func sameRegions(a, b regional) bool { return a.quorum == b.quorum && slices.Equal(a.names, b.names) }

// regionalDecider feeds each result to its region's machine: the server's
// own results are region "local".
type regionalDecider struct{ q *decide.Quorum }

func regionOf(r upstate.Result) string {
	if r.Region == "" {
		return upstate.LocalRegion
	}
	return r.Region
}

func (d regionalDecider) Observe(r upstate.Result) decide.Decision {
	return d.q.Observe(regionOf(r), r)
}
func (d regionalDecider) ObserveBurst(rs []upstate.Result) decide.Decision {
	if len(rs) == 0 {
		return decide.Decision{}
	}
	return d.q.ObserveBurst(regionOf(rs[0]), rs)
}
func (d regionalDecider) Condition() upstate.Condition { return d.q.Condition() }

// judgedFor is how far back a new regional decider looks for each
// region's latest stored result: further than an agent holds results
// for a server that does not answer, in practice.
const judgedFor = time.Hour

// judged tells new regional deciders each region's latest stored result
// (Quorum.Judged): after a restart, with the ids of the results agents
// sent forgotten (agentIDs), a result an agent sends again, or an older
// one from its queue, is history, not news. Without the store's answer
// they start as they would have, and say so.
func (a *App) judged(states []*checkState) {
	if len(states) == 0 {
		return
	}
	ids := make([]string, len(states))
	for i, st := range states {
		st.mu.Lock() // a reload may point it at another spec
		ids[i] = st.spec.ID
		st.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	latest, err := a.store.LatestByRegion(ctx, ids, a.opts.Clock.Now().Add(-judgedFor))
	if err != nil {
		a.log.Warn("the regions' latest results could not be read: a result an agent sends again may be judged twice", "component", "decide", "err", err)
		return
	}
	// Each check's results, grouped once: 100,000 regional checks
	// looked through every result for each check.
	byCheck := make(map[string][]upstate.Result, len(states))
	for _, r := range latest {
		byCheck[r.CheckID] = append(byCheck[r.CheckID], r)
	}
	for i, st := range states {
		st.mu.Lock()
		if d, ok := st.machine.(regionalDecider); ok {
			for _, r := range byCheck[ids[i]] {
				d.q.Judged(regionOf(r), r.At)
			}
		}
		st.mu.Unlock()
	}
}

// agentRefresh is how often agents read their checks again: a reload
// reaches them within it.
const agentRefresh = time.Minute

// maxAgentSkew is how far ahead of the server's clock an agent's result
// may be.
const maxAgentSkew = 5 * time.Minute

// AgentChecks are the checks region's agents run (agentapi.Checks).
func (a *App) AgentChecks(region string) (upstate.AgentChecks, error) {
	list := a.checks.Load().compiled.agents[region]
	return upstate.AgentChecks{Region: region, Checks: append([]upstate.AgentCheck{}, list...), Refresh: agentRefresh}, nil
}

// AgentResults takes a report of region's results (agentapi.Checks):
// each once, by its id, whatever the agent sends again after an answer it
// lost; all refused when one is for a check region does not probe.
func (a *App) AgentResults(ctx context.Context, region string, rs []upstate.AgentResult) (upstate.AgentReceipt, []string, error) {
	set := a.checks.Load()
	var refused []string
	for _, r := range rs {
		if st := set.byID[r.CheckID]; st == nil || !slices.Contains(st.regions.names, region) {
			refused = append(refused, r.CheckID)
		}
	}
	if len(refused) > 0 {
		return upstate.AgentReceipt{}, refused, nil
	}
	ahead := a.opts.Clock.Now().Add(maxAgentSkew)
	for _, r := range rs {
		if r.At.After(ahead) {
			// A conflict, not a malformed report: the agent keeps the batch
			// and tries again, and it goes through once the clocks agree.
			return upstate.AgentReceipt{}, nil, upstate.Errorf(upstate.ECONFLICT, "a result of %s is from %s, ahead of this server's clock by more than %s: keep the agent's clock in time (NTP); the regions' turns need it too",
				r.CheckID, r.At.UTC().Format(time.RFC3339), upstate.FormatDuration(maxAgentSkew, upstate.DurationWords))
		}
	}
	// Oldest first: the machines judge results in the order they were taken.
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(x, y upstate.AgentResult) int { return x.At.Compare(y.At) })
	var rec upstate.AgentReceipt
	for _, r := range rs {
		if !a.agentSeen.first(region, r, a.opts.Clock.Now()) {
			rec.Duplicate++
			continue
		}
		a.onResult(ctx, r.Result(region))
		rec.Accepted++
	}
	a.metrics.AgentResults.WithLabelValues(region).Add(float64(rec.Accepted))
	return rec, nil, nil
}

// agentIDs remembers the ids of the results agents reported lately: a
// result sent again is taken once. By id alone, not by time: two agents
// of one region may report the same check, their results interleaved.
// An id is remembered for seenFor, longer than an agent waits for an
// answer and then to send again, whatever the number of checks; and at
// most maxSeen per region, so memory stays bounded. Kept in memory: a
// report the server took but whose answer the agent lost just before the
// server restarted comes again as news here; the store keeps its results
// once (by check and time) and the regional deciders, told each region's
// latest stored result (judged), find them history.
type agentIDs struct {
	mu    sync.Mutex
	ids   map[string]map[string]bool // region → ids
	order map[string][]seenID        // region → ids, oldest first
}

type seenID struct {
	id string
	at time.Time
}

const (
	seenFor = 10 * time.Minute
	maxSeen = 200000
)

func newAgentIDs() *agentIDs {
	return &agentIDs{ids: map[string]map[string]bool{}, order: map[string][]seenID{}}
}

// first reports whether r is news at now: its id not seen lately.
func (s *agentIDs) first(region string, r upstate.AgentResult, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids[region] == nil {
		s.ids[region] = map[string]bool{}
	}
	// Those past the window (or over the bound) go first.
	order := s.order[region]
	drop := 0
	for drop < len(order) && (now.Sub(order[drop].at) > seenFor || len(order)-drop >= maxSeen) {
		delete(s.ids[region], order[drop].id)
		drop++
	}
	order = order[drop:]
	if s.ids[region][r.ID] {
		s.order[region] = order
		return false
	}
	s.ids[region][r.ID] = true
	s.order[region] = append(order, seenID{r.ID, now})
	return true
}
