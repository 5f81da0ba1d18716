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
	// Coalesce starts probes due within this long of each other together,
	// so ten thousand evenly spread checks wake the process tens of times
	// a second, not hundreds; a probe starts at most this early. Default
	// 20ms; negative turns it off.
	Coalesce time.Duration
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
	if o.Coalesce == 0 {
		o.Coalesce = 20 * time.Millisecond
	} else if o.Coalesce < 0 {
		o.Coalesce = 0
	}
	return nil
}

// Scheduler runs jobs. Create with New, then Run; Update replaces the jobs
// while running (a config reload) without losing the phase of unchanged ones.
type Scheduler struct {
	opts Options
	sem  chan struct{}
	wg   sync.WaitGroup
	// wake tells Run that the earliest due time may have moved earlier.
	wake chan struct{}

	mu   sync.Mutex // guards q, byID and next
	q    queue
	byID map[string]*entry
	next time.Time // when Run's timer fires; zero while Run is busy
}

// New returns a scheduler; it runs nothing until Run.
func New(opts Options) (*Scheduler, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Scheduler{
		opts: opts,
		sem:  make(chan struct{}, opts.Concurrency),
		wake: make(chan struct{}, 1),
		byID: map[string]*entry{},
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
	s.mu.Lock()
	s.apply(jobs)
	s.mu.Unlock()
	s.poke()
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// phase spreads checks over their interval deterministically by id, so
// start-up does not fire ten thousand probes at once.
func phase(id string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(interval))
}

// apply must be called with s.mu held.
func (s *Scheduler) apply(jobs []Job) {
	now := s.opts.Clock.Now()
	keep := map[string]bool{}
	for _, j := range jobs {
		keep[j.ID] = true
		if e, ok := s.byID[j.ID]; ok {
			changed := e.job.Interval != j.Interval
			e.job = j
			if changed && !e.running {
				e.regular = now.Add(phase(j.ID, j.Interval))
				e.due = e.regular
				heap.Fix(&s.q, e.index)
			}
			continue
		}
		e := &entry{job: j}
		e.regular = now.Add(phase(j.ID, j.Interval))
		e.due = e.regular
		s.byID[j.ID] = e
		heap.Push(&s.q, e)
	}
	for id, e := range s.byID {
		if !keep[id] {
			e.removed = true
			if e.index >= 0 {
				heap.Remove(&s.q, e.index)
			}
			delete(s.byID, id)
		}
	}
}

// Run schedules until ctx is done, then waits for probes in flight. One
// goroutine owns the timer; finished probes put themselves back in the
// heap and wake Run only when they are due before its timer.
func (s *Scheduler) Run(ctx context.Context, jobs []Job) {
	defer s.wg.Wait()
	c := s.opts.Clock
	s.mu.Lock()
	s.apply(jobs)
	s.mu.Unlock()

	timer := c.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := c.Now()
		for len(s.q) > 0 && !s.q[0].due.After(now.Add(s.opts.Coalesce)) {
			e := heap.Pop(&s.q).(*entry)
			s.start(ctx, e, now)
		}
		wait := time.Hour
		if len(s.q) > 0 {
			wait = s.q[0].due.Sub(now)
		}
		s.next = now.Add(wait)
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-s.wake:
		}
	}
}

// finish puts a job back in the heap after its probe.
func (s *Scheduler) finish(e *entry, recheck time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.running = false
	if e.removed {
		return
	}
	now := s.opts.Clock.Now()
	for !e.regular.After(now) {
		e.regular = e.regular.Add(e.job.Interval)
	}
	e.due = e.regular
	if recheck > 0 && now.Add(recheck).Before(e.regular) {
		e.due = now.Add(recheck)
	}
	heap.Push(&s.q, e)
	if e.due.Before(s.next) {
		s.poke()
	}
}

// start must be called with s.mu held.
func (s *Scheduler) start(ctx context.Context, e *entry, now time.Time) {
	e.running = true
	if !e.due.Before(e.regular) {
		// This run takes the regular slot (a re-check does not); a
		// coalesced run may start before it, so move on explicitly.
		e.regular = e.regular.Add(e.job.Interval)
	}
	job := e.job
	lag := max(now.Sub(e.due), 0) // coalesced probes start a little early
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
		s.finish(e, s.opts.Sink(ctx, r))
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
