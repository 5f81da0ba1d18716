package app

import (
	"context"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/events"
	"github.com/upstatehq/upstate/internal/schedule"
)

// onReport is the scheduler's sink: a result goes through onResult, a
// burst through onBurst.
func (a *App) onReport(ctx context.Context, rep schedule.Report) schedule.Next {
	if rep.Burst != nil {
		return a.onBurst(ctx, rep.Burst)
	}
	return a.onResult(ctx, rep.Result)
}

// keep counts a result and queues it for storage.
func (a *App) keep(ctx context.Context, st *checkState, rs ...upstate.Result) {
	st.mu.Lock()
	kind := st.spec.Kind // a reload may change it
	st.mu.Unlock()
	for _, r := range rs {
		a.metrics.ObserveResult(kind, r)
	}
	if err := a.store.AppendResults(ctx, rs); err != nil {
		a.log.Warn("result not stored", "component", "app", "check", rs[0].CheckID, "err", err)
	} else {
		a.metrics.ResultsWritten.Add(float64(len(rs)))
	}
	a.seen(st, rs)
}

// onBurst is onResult for a burst's samples: each is counted and stored,
// and the check's machine judges them together; a confirmed change goes
// to the incident engine, its share with it.
func (a *App) onBurst(ctx context.Context, samples []upstate.Result) schedule.Next {
	var rs []upstate.Result
	for _, r := range samples {
		if r.CheckID != "" {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return schedule.Next{}
	}
	id := rs[0].CheckID
	st := a.checks.Load().byID[id]
	if st == nil {
		return schedule.Next{} // removed by a reload
	}
	a.keep(ctx, st, rs...)
	st.mu.Lock()
	defer st.mu.Unlock()
	d := st.machine.ObserveBurst(rs)
	if t := d.Transition; t != nil {
		a.events.Publish(events.StateOf(*t))
		a.metrics.Transitions.WithLabelValues(string(t.To.State)).Inc()
		a.log.Info("condition changed", "component", "decide", "check", id, "from", t.From.State.String(), "to", t.To.State.String(), "partial", t.To.Partial, "evidence", t.To.Evidence)
		if err := a.engine.Observe(ctx, upstate.Result{CheckID: id}, t); err != nil {
			a.log.Error("incident decision not saved yet; it will be retried", "component", "incident", "check", id, "err", err)
		}
	}
	return schedule.Next{Troubled: st.machine.Condition().State.Failing()}
}

// judgedSamples is how the admin API keeps pushed numbers: check.Pushed
// keeps them, then the checks that read them are judged at once, so real
// traffic failing (the client Reporter's counts, an app's own numbers)
// opens its incident within seconds of the report, whatever the checks'
// intervals.
type judgedSamples struct{ a *App }

// PushSamples implements adminapi.Samples.
func (j judgedSamples) PushSamples(ctx context.Context, source string, ss []upstate.Sample) (int, error) {
	n, err := j.a.pushed.PushSamples(ctx, source, ss)
	if err == nil {
		j.judge(ss)
	}
	return n, err
}

// PushHistory implements adminapi.Samples: the checks that read the
// series are judged at once on what they now know.
func (j judgedSamples) PushHistory(ctx context.Context, source string, ss []upstate.Sample) (int, error) {
	n, err := j.a.pushed.PushHistory(ctx, source, ss)
	if err == nil {
		j.judge(ss)
	}
	return n, err
}

// judge runs, now, the checks that read the samples' series.
func (j judgedSamples) judge(ss []upstate.Sample) {
	readers := j.a.checks.Load().compiled.readers
	var ids []string
	seen := map[string]bool{}
	for _, s := range ss {
		for _, id := range readers[check.SeriesKey(s.Name, s.Labels)] {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	j.a.sched.RunNow(ids...)
}
