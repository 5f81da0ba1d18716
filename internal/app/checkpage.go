package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/checkview"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/events"
)

// RunNowEvery is how often one check may be run now by hand: at most
// once in this long, and one run at a time, so nobody can hammer a
// target through Upstate.
const RunNowEvery = 5 * time.Second

// runNow is run-now's state: the checks running by hand, and how often.
type runNow struct {
	mu    sync.Mutex
	busy  map[string]bool
	limit *auth.Limiter
}

func newRunNow() *runNow {
	return &runNow{busy: map[string]bool{}, limit: auth.NewLimiter(1, RunNowEvery)}
}

// live is what the app knows of a check now, for its page.
func (a *App) live(id string) (checkview.Live, bool) {
	st := a.checks.Load().byID[id]
	if st == nil {
		return checkview.Live{}, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	live := checkview.Live{Condition: st.machine.Condition(), Last: st.last.result(id), CertExpiry: st.certExpiry}
	if rd, ok := st.machine.(regionalDecider); ok {
		for _, r := range rd.q.Regions() {
			live.Regions = append(live.Regions, checkview.Region{Name: r.Name, Condition: r.Condition})
		}
	}
	return live, true
}

// told reports whether a kind's results are told rather than measured.
func told(kind string) bool {
	k, ok := check.KindOf(kind)
	return ok && k.Told
}

// seen remembers a stored result as its check's last, and publishes it
// to the live console.
func (a *App) seen(st *checkState, rs []upstate.Result) {
	st.mu.Lock()
	for _, r := range rs {
		if st.last.newer(r) {
			continue
		}
		st.last = lastOf(r)
		if !r.CertExpiry.IsZero() {
			st.certExpiry = r.CertExpiry
		}
	}
	st.mu.Unlock()
	if !a.events.Listening() {
		return
	}
	for _, r := range rs {
		a.events.Publish(events.ResultOf(r))
	}
}

// RunCheck runs a check once, now, through the path a scheduled probe
// takes (so its result is stored, judged and counted), and returns that
// result, waiting for it within the check's timeout. A check whose
// results are told (a heartbeat, an alert, pushed numbers) cannot be run:
// EINVALID. One run at a time per check (ECONFLICT) and at most one per
// RunNowEvery (ETOOMANY, with when to try again).
func (a *App) RunCheck(ctx context.Context, id string) (upstate.Result, error) {
	st := a.checks.Load().byID[id]
	if st == nil {
		for _, c := range a.checkInfos() {
			if c.Spec.ID == id && c.Paused {
				return upstate.Result{}, upstate.Errorf(upstate.ECONFLICT, "%s is paused: resume it to run it", c.Spec.DisplayName())
			}
		}
		return upstate.Result{}, upstate.Errorf(upstate.ENOTFOUND, "no check %q is configured", id)
	}
	st.mu.Lock()
	spec, kind, regions := st.spec, st.spec.Kind, st.regions.names
	st.mu.Unlock()
	if told(kind) {
		return upstate.Result{}, upstate.Errorf(upstate.EINVALID, "%s is a %s check: its results are told to Upstate, not probed, so it cannot be run now", spec.DisplayName(), kind)
	}
	if len(regions) > 0 && !slices.Contains(regions, upstate.LocalRegion) {
		return upstate.Result{}, upstate.Errorf(upstate.EINVALID, "%s is probed by the agents of %s, not this server (add local to its regions to run it here)", spec.DisplayName(), strings.Join(regions, ", "))
	}
	rn := a.runs
	rn.mu.Lock()
	if rn.busy[id] {
		rn.mu.Unlock()
		return upstate.Result{}, upstate.Errorf(upstate.ECONFLICT, "%s is being run now already; its result is on its way", spec.DisplayName())
	}
	now := a.opts.Clock.Now()
	if wait, ok := rn.limit.Allow(id, now); !ok {
		rn.mu.Unlock()
		return upstate.Result{}, upstate.Later(upstate.ETOOMANY, wait, "%s was run now a moment ago; try again in %s", spec.DisplayName(), upstate.FormatDuration(wait, upstate.DurationWords))
	}
	rn.busy[id] = true
	rn.mu.Unlock()
	defer func() {
		rn.mu.Lock()
		delete(rn.busy, id)
		rn.mu.Unlock()
	}()

	sub, err := a.events.Await(id)
	if err != nil {
		return upstate.Result{}, err
	}
	defer sub.Close()
	a.sched.RunNow(id)
	// A probe already under way finishes first and the run follows it:
	// twice the timeout, and a little for the queue.
	wait := 2*max(spec.Timeout, time.Second) + 5*time.Second
	ctx, cancel := clock.WithTimeout(ctx, a.opts.Clock, wait)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return upstate.Result{}, upstate.Errorf(upstate.EUNAVAILABLE, "%s did not answer within %s; its result will be on its page when it comes", spec.DisplayName(), upstate.FormatDuration(wait, upstate.DurationWords))
		case <-sub.Ended():
			return upstate.Result{}, upstate.Errorf(upstate.EUNAVAILABLE, "the server is stopping")
		case e := <-sub.Events():
			if e.Type == events.TypeResult && e.Result != nil && !e.Result.At.Before(now) {
				return *e.Result, nil
			}
		}
	}
}

// checkViews builds the check pages' figures.
func (a *App) checkViews() (*checkview.Views, error) {
	v, err := checkview.New(checkview.Options{Source: a.store, Now: a.opts.Clock.Now, Checks: a.checkInfos, Live: a.live, Told: told})
	if err != nil {
		return nil, fmt.Errorf("check pages: %w", err)
	}
	return v, nil
}

// route is the engine's: each incident change is told to the live console
// (without waiting) and routed to what it owes.
func (a *App) route(e upstate.Event) upstate.Owed {
	if ev, ok := events.IncidentOf(e); ok {
		a.events.Publish(ev)
	}
	return a.board.Route(e)
}

// lastResult is a check's newest result as its page shows it: what the
// page reads of a Result (not its warnings, artifact or provider's word),
// its time as Unix nanoseconds. Every check keeps one: at 100,000 checks
// a whole Result each was 19 MB, this half that.
type lastResult struct {
	at                int64 // Unix ns; none when loc is nil
	loc               *time.Location
	latency           time.Duration
	outcome           upstate.Outcome
	err, note, region string
	status            int32
	pending           bool
}

func lastOf(r upstate.Result) lastResult {
	if r.At.IsZero() {
		return lastResult{}
	}
	return lastResult{at: r.At.UnixNano(), loc: r.At.Location(), latency: r.Latency, outcome: r.Outcome, err: r.Error, note: r.Note,
		region: r.Region, status: int32(r.StatusCode), pending: r.Pending}
}

// newer reports whether the last result is newer than r.
func (l lastResult) newer(r upstate.Result) bool {
	return l.loc != nil && r.At.UnixNano() < l.at
}

// result is the last result as a Result of check id, zero for none.
func (l lastResult) result(id string) upstate.Result {
	if l.loc == nil {
		return upstate.Result{}
	}
	return upstate.Result{CheckID: id, At: time.Unix(0, l.at).In(l.loc), Latency: l.latency, Outcome: l.outcome, Error: l.err, Note: l.note,
		Region: l.region, StatusCode: int(l.status), Pending: l.pending}
}
