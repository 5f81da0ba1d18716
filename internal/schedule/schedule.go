// Package schedule runs probes on time. One goroutine keeps every check in
// a heap ordered by when it is due — no goroutine per check — and starts
// probes on a bounded pool. Checks are spread over their interval from
// start-up, keep their phase, and get quick re-checks when the decider
// asks for them.
package schedule

import (
	"container/heap"
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
)

// Job is one check to run.
type Job struct {
	ID       string
	Interval time.Duration
	Prober   check.Prober
}

// Sink receives each result; it returns how soon to look again when the
// result was suspect (0 for the regular interval).
type Sink func(ctx context.Context, r upstate.Result) (recheckAfter time.Duration)

// Options configure a Scheduler.
type Options struct {
	Clock       clock.Clock
	Sink        Sink
	Concurrency int // probes in flight at once; default 512
	Logger      *slog.Logger
	// Started, when set, is called as each probe starts with how late it
	// is against its due time (for the lag metric).
	Started func(id string, lag time.Duration)
}

func (o *Options) validate() error {
	switch {
	case o.Clock == nil:
		return errors.New("schedule: Options.Clock is required")
	case o.Sink == nil:
		return errors.New("schedule: Options.Sink is required")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 512
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Scheduler runs jobs. Create with New, then Run; Update replaces the jobs
// while running (a config reload) without losing the phase of unchanged ones.
type Scheduler struct {
	opts    Options
	updates chan []Job
	done    chan finished
	sem     chan struct{}
	wg      sync.WaitGroup
}

type finished struct {
	e       *entry
	recheck time.Duration
}

// New returns a scheduler; it runs nothing until Run.
func New(opts Options) (*Scheduler, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Scheduler{
		opts:    opts,
		updates: make(chan []Job, 1),
		done:    make(chan finished, 64),
		sem:     make(chan struct{}, opts.Concurrency),
	}, nil
}

type entry struct {
	job     Job
	due     time.Time // next start
	regular time.Time // next regular (phase-keeping) start
	index   int
	running bool
	removed bool
}

// Update replaces the set of jobs. Jobs keep their schedule when their id
// and interval are unchanged; new ones are spread over their interval.
func (s *Scheduler) Update(jobs []Job) {
	select {
	case <-s.updates: // a newer update replaces one not yet applied
	default:
	}
	s.updates <- jobs
}

// phase spreads checks over their interval deterministically by id, so
// start-up does not fire ten thousand probes at once.
func phase(id string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(interval))
}

// Run schedules until ctx is done, then waits for probes in flight.
func (s *Scheduler) Run(ctx context.Context, jobs []Job) {
	defer s.wg.Wait()
	c := s.opts.Clock
	var q queue
	byID := map[string]*entry{}
	apply := func(jobs []Job) {
		now := c.Now()
		keep := map[string]bool{}
		for _, j := range jobs {
			keep[j.ID] = true
			if e, ok := byID[j.ID]; ok {
				changed := e.job.Interval != j.Interval
				e.job = j
				if changed && !e.running {
					e.regular = now.Add(phase(j.ID, j.Interval))
					e.due = e.regular
					heap.Fix(&q, e.index)
				}
				continue
			}
			e := &entry{job: j}
			e.regular = now.Add(phase(j.ID, j.Interval))
			e.due = e.regular
			byID[j.ID] = e
			heap.Push(&q, e)
		}
		for id, e := range byID {
			if !keep[id] {
				e.removed = true
				if e.index >= 0 {
					heap.Remove(&q, e.index)
				}
				delete(byID, id)
			}
		}
	}
	apply(jobs)

	timer := c.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := c.Now()
		for len(q) > 0 && !q[0].due.After(now) {
			e := heap.Pop(&q).(*entry)
			s.start(ctx, e, now)
		}
		wait := time.Hour
		if len(q) > 0 {
			wait = q[0].due.Sub(now)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case jobs := <-s.updates:
			apply(jobs)
		case f := <-s.done:
			e := f.e
			e.running = false
			if e.removed {
				continue
			}
			now := c.Now()
			for !e.regular.After(now) {
				e.regular = e.regular.Add(e.job.Interval)
			}
			e.due = e.regular
			if f.recheck > 0 && now.Add(f.recheck).Before(e.regular) {
				e.due = now.Add(f.recheck)
			}
			heap.Push(&q, e)
		}
	}
}

func (s *Scheduler) start(ctx context.Context, e *entry, now time.Time) {
	e.running = true
	job := e.job
	lag := now.Sub(e.due)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if s.opts.Started != nil {
			s.opts.Started(job.ID, lag)
		}
		r := s.probe(ctx, job)
		<-s.sem
		if ctx.Err() != nil {
			return // shutting down: a probe cut short says nothing about the target
		}
		recheck := s.opts.Sink(ctx, r)
		select {
		case s.done <- finished{e: e, recheck: recheck}:
		case <-ctx.Done():
		}
	}()
}

// probe runs one probe, turning a panic into a failed result so one broken
// check cannot take the scheduler down.
func (s *Scheduler) probe(ctx context.Context, job Job) (r upstate.Result) {
	defer func() {
		if p := recover(); p != nil {
			s.opts.Logger.Error("probe panicked", "component", "schedule", "check", job.ID, "panic", p)
			r = upstate.Result{CheckID: job.ID, At: s.opts.Clock.Now(), Outcome: upstate.OutcomeFail, Error: "internal error in the probe"}
		}
	}()
	r = job.Prober.Probe(ctx)
	r.CheckID = job.ID
	return r
}

type queue []*entry

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}
func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	e.index = -1
	return e
}
