// Package schedule runs probes on time. One goroutine keeps every check in
// a heap ordered by when it is due — no goroutine per check — and starts
// probes on a bounded pool. Checks are spread over their interval from
// start-up, keep their phase, and get quick re-checks when the decider
// asks for them, or a burst of samples (within a per-host limit shared by
// every check on the host). A probe not answered by its latency bound is
// reported slow at that moment, and again when it answers. A check in
// trouble — its own, or that of a component it watches — runs at its fast
// interval until the trouble is over.
package schedule

import (
	"container/heap"
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"math"
	"slices"
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
	// Fast is the interval while the check is in trouble: its own
	// condition failing or degraded (Next.Troubled), or a component in
	// Watch not operational. Zero, or not shorter than Interval: never
	// faster.
	Fast time.Duration
	// Watch are the components whose trouble makes the check run at
	// Fast: those it affects and those it, or they, depend on.
	Watch []string
	// Burst is how the check takes a burst when the sink asks for one; a
	// zero Count takes none.
	Burst Burst
	// Host names where the probe goes (a host:port, a resolver): the
	// per-host limit on burst samples is shared by every check there.
	Host string
	// SlowAfter, when set, is the probe's latency bound: a probe not
	// answered by then is reported slow at that moment (a pending result,
	// Result.Pending) and again with its answer; a burst sample not
	// answered by then is stopped and counts as slow.
	SlowAfter time.Duration
	// Aligned fixes the job's phase to the clock rather than to when it
	// was added: it is due whenever the time since the Unix epoch, modulo
	// Interval, is Slot. Processes that share the time (the server and its
	// probe agents, by NTP) so take turns at one check: region i of n at
	// Slot(id, interval, i, n).
	Aligned bool
	Slot    time.Duration
	// NotBefore, when set, is the earliest the job newly added may first
	// run: a check taken over from another instance of a cluster waits
	// until that one has let go (cluster.Planner), then takes its next
	// slot. It does not move a job already scheduled.
	NotBefore time.Time
}

// Slot is region i of n's place in a check's interval: the check's own
// phase (spread by id) plus i·interval/n, so a 60 s check in three
// regions is sampled every 20 s.
func Slot(id string, interval time.Duration, i, n int) time.Duration {
	if interval <= 0 || n <= 0 {
		return 0
	}
	return (phase(id, interval) + interval/time.Duration(n)*time.Duration(i%n)) % interval
}

// firstDue is when a job newly added (or whose interval or slot changed)
// first runs.
func firstDue(j Job, now time.Time) time.Time {
	if j.NotBefore.After(now) {
		now = j.NotBefore
	}
	if !j.Aligned || j.Interval <= 0 {
		return now.Add(phase(j.ID, j.Interval))
	}
	iv := int64(j.Interval)
	off := now.UnixNano() % iv
	if off < 0 {
		off += iv
	}
	wait := (int64(j.Slot)%iv - off + iv) % iv
	return now.Add(time.Duration(wait))
}

// Burst is how many samples a burst takes and over how long: Count
// probes started Over/Count apart.
type Burst struct {
	Count int
	Over  time.Duration
}

// DefaultBurst is the burst a check that repeats its probe takes unless
// told otherwise: 10 samples over 5 s, or over half the interval when
// that is shorter.
func DefaultBurst(interval time.Duration) Burst {
	return Burst{Count: 10, Over: min(5*time.Second, interval/2)}
}

// DefaultFast is the fast interval of a check that repeats its probe
// unless told otherwise: a quarter of its interval, at least 5 s, and
// never longer than the interval itself.
func DefaultFast(interval time.Duration) time.Duration {
	return min(interval, max(interval/4, 5*time.Second))
}

// Report is what the scheduler hands its sink: one result, or a burst's
// samples to judge together.
type Report struct {
	// Result is one probe's result (a regular run, a re-check, a run asked
	// for by RunNow), or a pending one standing for an answer not come
	// (Result.Pending), followed by that answer with the same At.
	Result upstate.Result
	// Burst, when set, are a burst's samples in the order taken (Result is
	// then empty): each answered, or stopped at SlowAfter and slow.
	Burst []upstate.Result
}

// Next is what the sink wants after a report.
type Next struct {
	// Recheck asks for a quick re-check this soon (0: on schedule).
	Recheck time.Duration
	// Burst asks for a burst now (when the job takes bursts).
	Burst bool
	// Troubled says the check is failing or degraded: it runs at its
	// fast interval until a report says otherwise.
	Troubled bool
}

// then is what two answers in turn want: the later one's trouble, the
// sooner re-check, a burst if either asked.
func (n Next) then(later Next) Next {
	out := later
	if n.Recheck > 0 && (out.Recheck == 0 || n.Recheck < out.Recheck) {
		out.Recheck = n.Recheck
	}
	out.Burst = n.Burst || later.Burst
	return out
}

// Sink receives each report and says what it wants next.
type Sink func(ctx context.Context, r Report) Next

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
	// PerHost bounds the burst samples in flight to one host (Job.Host),
	// whichever checks take them; default 4. HostGap is the least time
	// between two samples' starts on one host; default 100ms, so bursts
	// never send a host more than ten requests a second however many
	// checks burst at once (a burst then takes longer).
	PerHost int
	HostGap time.Duration
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
	if o.PerHost <= 0 {
		o.PerHost = 4
	}
	if o.HostGap <= 0 {
		o.HostGap = 100 * time.Millisecond
	}
	return nil
}

// Scheduler runs jobs. Create with New, then Run; Update replaces the jobs
// while running (a config reload) without losing the phase of unchanged ones.
type Scheduler struct {
	opts  Options
	sem   chan struct{}
	wg    sync.WaitGroup
	hosts *hosts
	// wake tells Run that the earliest due time may have moved earlier.
	wake chan struct{}

	// base is the scheduler's origin of time: an entry keeps its times
	// as offsets from it (see entry).
	base time.Time

	mu       sync.Mutex // guards q, byID, next and statuses
	q        queue
	byID     map[string]*entry
	next     int64 // when Run's timer fires (an offset from base); never before Run
	statuses map[string]upstate.Status
}

// New returns a scheduler; it runs nothing until Run.
func New(opts Options) (*Scheduler, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Scheduler{
		opts:  opts,
		sem:   make(chan struct{}, opts.Concurrency),
		hosts: &hosts{limit: opts.PerHost, gap: opts.HostGap, m: map[string]*host{}},
		wake:  make(chan struct{}, 1),
		base:  opts.Clock.Now(),
		byID:  map[string]*entry{},
		next:  never,
	}, nil
}

// never is the offset of a time before any other, as the zero time.Time
// was: the last run of a check that has not run (a fast run after it is
// at once), Run's timer before Run sets it (nothing is sooner).
const never = math.MinInt64

// none is the offset of a time after any other: no earlier run asked
// for (soon), so it is never the sooner one.
const none = math.MaxInt64

// at is t as an offset from the scheduler's base. Read from the real
// clock, both carry a monotonic reading and the difference is the
// monotonic one, so an entry's times follow the monotonic clock as the
// time.Time they stand for did (a wall clock stepped by NTP moves no
// check). With a fake clock, or a NotBefore from elsewhere (no monotonic
// reading), it is the wall difference; such a time is then held on the
// scheduler's one timeline from when it was applied, where before it
// was compared by wall with each now — the same but across a wall
// step, and one order for the heap. Like time.Time.Sub, at saturates.
func (s *Scheduler) at(t time.Time) int64 { return int64(t.Sub(s.base)) }

// add is t+d, saturating (a Recheck or NotBefore far off must not wrap
// round to the past).
func add(t int64, d time.Duration) int64 {
	if d > 0 && t > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	if d < 0 && t < math.MinInt64-int64(d) {
		return math.MinInt64
	}
	return t + int64(d)
}

// sub is a-b as a duration, saturating as time.Time.Sub does.
func sub(a, b int64) time.Duration {
	d := a - b
	switch {
	case b < 0 && d < a: // overflowed upwards
		return math.MaxInt64
	case b > 0 && d > a: // overflowed downwards
		return math.MinInt64
	}
	return time.Duration(d)
}

// entry is one check's place in the schedule, one per check: at 100,000
// checks every byte here is 100 kB (issue 16), so its times are int64
// offsets from Scheduler.base (Scheduler.at) rather than time.Time (24
// bytes each), its flags are bits, and its heap index is an int32:
// 48 bytes where four time.Time made it 128.
type entry struct {
	job     *Job  // into the slice Run or Update was given
	due     int64 // next start
	regular int64 // next regular (phase-keeping) start
	// soon is an earlier run asked for (a re-check, RunNow); none when none.
	soon  int64
	last  int64 // when the last run was due; never before the first
	index int32 // in the heap; -1 when out of it (running)
	flags flags
}

type flags uint8

const (
	// troubled is what the sink last said of the check; watched is set
	// while a component in job.Watch is not operational.
	troubled flags = 1 << iota
	watched
	again // RunNow while running: run once more at once
	running
	removed
	seen // in the jobs apply is applying
)

func (e *entry) is(f flags) bool { return e.flags&f != 0 }

func (e *entry) set(f flags, on bool) {
	if on {
		e.flags |= f
	} else {
		e.flags &^= f
	}
}

// fast reports whether the job runs at its fast interval now.
func (e *entry) fast() bool {
	return e.job.Fast > 0 && e.job.Fast < e.job.Interval && e.is(troubled|watched)
}

// reschedule sets when the job is due: its regular slot, or sooner for a
// run asked for or while it runs fast. A fast run is at once when the
// trouble is news, Fast after the last run otherwise; one that would come
// within Fast/2 of the regular slot waits for it instead.
func (e *entry) reschedule(now int64) {
	e.due = e.regular
	if e.fast() {
		f := max(add(e.last, e.job.Fast), now)
		if sub(e.regular, f) >= e.job.Fast/2 {
			e.due = f
		}
	}
	if e.soon < e.due { // none is never sooner
		e.due = e.soon
	}
}

// Update replaces the set of jobs. Jobs keep their schedule when their id
// and interval are unchanged; new ones are spread over their interval.
// The scheduler keeps jobs, not a copy (at 100,000 checks a copy is
// 15 MB): nothing may write to it afterwards. Run's jobs likewise.
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
// Entries of jobs no longer there are found by the seen flag, which
// costs nothing, not by a set of the ids kept (at 100,000 checks, 4 MB
// made at every reload).
func (s *Scheduler) apply(jobs []Job) {
	clk := s.opts.Clock.Now()
	now := s.at(clk)
	for i := range jobs {
		j := &jobs[i]
		if e, ok := s.byID[j.ID]; ok {
			changed := e.job.Interval != j.Interval || e.job.Aligned != j.Aligned || e.job.Slot != j.Slot
			e.job = j
			e.set(seen, true)
			e.set(watched, troubleIn(j.Watch, s.statuses))
			if changed && !e.is(running) {
				e.regular = s.at(firstDue(*j, clk))
				e.reschedule(now)
				heap.Fix(&s.q, int(e.index))
			}
			continue
		}
		e := &entry{job: j, soon: none, last: never, flags: seen}
		e.set(watched, troubleIn(j.Watch, s.statuses))
		e.regular = s.at(firstDue(*j, clk))
		e.due = e.regular
		s.byID[j.ID] = e
		heap.Push(&s.q, e)
	}
	for id, e := range s.byID {
		if !e.is(seen) {
			e.set(removed, true)
			if e.index >= 0 {
				heap.Remove(&s.q, int(e.index))
			}
			delete(s.byID, id)
			continue
		}
		e.set(seen, false)
	}
}

// troubleIn reports whether any of the components is in trouble: neither
// operational nor under planned maintenance (whose failures are expected).
func troubleIn(components []string, st map[string]upstate.Status) bool {
	for _, c := range components {
		if s, ok := st[c]; ok && s != upstate.Operational && s != upstate.UnderMaintenance {
			return true
		}
	}
	return false
}

// SetStatuses tells the scheduler the components' statuses (the incident
// engine's, as they change): a job watching a component in trouble runs
// at its fast interval, and returns to its interval when none is.
func (s *Scheduler) SetStatuses(st map[string]upstate.Status) {
	s.mu.Lock()
	s.statuses = st
	now := s.at(s.opts.Clock.Now())
	sooner := false
	for _, e := range s.byID {
		w := troubleIn(e.job.Watch, st)
		if w == e.is(watched) {
			continue
		}
		e.set(watched, w)
		if e.is(running) || e.index < 0 {
			continue // finish reschedules it
		}
		e.reschedule(now)
		heap.Fix(&s.q, int(e.index))
		sooner = sooner || e.due < s.next
	}
	s.mu.Unlock()
	if sooner {
		s.poke()
	}
}

// RunNow runs the checks as soon as they can: told checks whose numbers
// just arrived are judged at once rather than at their next turn. A
// check running now runs again when it finishes.
func (s *Scheduler) RunNow(ids ...string) {
	s.mu.Lock()
	now := s.at(s.opts.Clock.Now())
	sooner := false
	for _, id := range ids {
		e := s.byID[id]
		if e == nil {
			continue
		}
		if e.is(running) || e.index < 0 {
			e.set(again, true)
			continue
		}
		e.soon = now
		e.reschedule(now)
		heap.Fix(&s.q, int(e.index))
		sooner = true
	}
	s.mu.Unlock()
	if sooner {
		s.poke()
	}
}

// Run schedules until ctx is done, then waits for probes in flight. One
// goroutine owns the timer; finished probes put themselves back in the
// heap and wake Run only when they are due before its timer. Nil jobs
// keep what Update gave before Run began (a probe agent's list arrives
// whenever the server answers).
func (s *Scheduler) Run(ctx context.Context, jobs []Job) {
	defer s.wg.Wait()
	c := s.opts.Clock
	if jobs != nil {
		s.mu.Lock()
		s.apply(jobs)
		s.mu.Unlock()
	}

	timer := c.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := s.at(c.Now())
		for len(s.q) > 0 && s.q[0].due <= add(now, s.opts.Coalesce) {
			e := heap.Pop(&s.q).(*entry)
			s.start(ctx, e, now)
		}
		wait := time.Hour
		if len(s.q) > 0 {
			wait = sub(s.q[0].due, now)
		}
		s.next = add(now, wait)
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
func (s *Scheduler) finish(e *entry, next Next) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.set(running, false)
	if e.is(removed) {
		return
	}
	now := s.at(s.opts.Clock.Now())
	for e.regular <= now {
		e.regular = add(e.regular, e.job.Interval)
	}
	e.set(troubled, next.Troubled)
	e.soon = none
	if next.Recheck > 0 {
		e.soon = add(now, next.Recheck)
	}
	if e.is(again) {
		e.set(again, false)
		e.soon = now
	}
	e.reschedule(now)
	heap.Push(&s.q, e)
	if e.due < s.next {
		s.poke()
	}
}

// start must be called with s.mu held.
func (s *Scheduler) start(ctx context.Context, e *entry, now int64) {
	e.set(running, true)
	if e.due >= e.regular {
		// This run takes the regular slot (a re-check does not); a
		// coalesced run may start before it, so move on explicitly.
		e.regular = add(e.regular, e.job.Interval)
	}
	e.last = e.due
	job := *e.job
	lag := max(sub(now, e.due), 0) // coalesced probes start a little early
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
		next, ok := s.observe(ctx, job)
		<-s.sem
		if !ok {
			return // shutting down: a probe cut short says nothing about the target
		}
		s.finish(e, next)
	}()
}

// observe runs the job's probe and hands the sink what it found: the
// probe's result (first pending, when it passes its latency bound, then
// its answer), and a burst when the sink asks for one. It reports false
// when shutting down.
func (s *Scheduler) observe(ctx context.Context, job Job) (Next, bool) {
	var next Next
	var burst chan Next
	startBurst := func() {
		burst = make(chan Next, 1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			burst <- s.burst(ctx, job)
		}()
	}
	r := s.watched(ctx, job, func(p upstate.Result) {
		// Slow already: say so now; the answer follows.
		next = s.opts.Sink(ctx, Report{Result: p})
		if next.Burst && job.Burst.Count > 0 {
			startBurst()
		}
	})
	if ctx.Err() != nil {
		return Next{}, false
	}
	next = next.then(s.opts.Sink(ctx, Report{Result: r}))
	if burst == nil && next.Burst && job.Burst.Count > 0 {
		startBurst()
	}
	if burst != nil {
		next = next.then(<-burst)
	}
	next.Burst = false
	return next, ctx.Err() == nil
}

// watched runs the job's probe once. When the job has a latency bound and
// the probe has not answered by then, pending is called at that moment
// with a result standing for it (slow, the bound as its latency); the
// answer then comes back with the same At.
func (s *Scheduler) watched(ctx context.Context, job Job, pending func(upstate.Result)) upstate.Result {
	if job.SlowAfter <= 0 {
		return s.probe(ctx, job)
	}
	start := s.opts.Clock.Now()
	done := make(chan upstate.Result, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		done <- s.probe(ctx, job)
	}()
	t := s.opts.Clock.NewTimer(job.SlowAfter)
	defer t.Stop()
	select {
	case r := <-done:
		return r
	case <-t.C():
	}
	pending(upstate.Result{CheckID: job.ID, At: start, Outcome: upstate.OutcomeSlow, Latency: job.SlowAfter, Pending: true,
		Error: "slower than " + upstate.FormatLatency(job.SlowAfter) + " (no answer yet)"})
	r := <-done
	r.At = start
	return r
}

// burst takes the job's burst: Count samples started Over/Count apart,
// each within the host's limit, a sample not answered by SlowAfter
// stopped there and counted slow (a burst asks only whether requests fail
// or are slow, and a struggling target is spared the wait); then hands
// them to the sink together.
func (s *Scheduler) burst(ctx context.Context, job Job) Next {
	n := job.Burst.Count
	gap := job.Burst.Over / time.Duration(n)
	samples := make([]upstate.Result, n)
	var wg sync.WaitGroup
	begin := s.opts.Clock.Now()
	for i := range n {
		if err := clock.Sleep(ctx, s.opts.Clock, begin.Add(time.Duration(i)*gap).Sub(s.opts.Clock.Now())); err != nil {
			break
		}
		at := s.hosts.reserve(hostOf(job), s.opts.Clock.Now())
		wg.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer wg.Done()
			samples[i] = s.sample(ctx, job, at)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return Next{}
	}
	return s.opts.Sink(ctx, Report{Burst: slices.Clip(samples)})
}

// sample runs one burst sample at its reserved time, within the host's
// limit on samples in flight.
func (s *Scheduler) sample(ctx context.Context, job Job, at time.Time) upstate.Result {
	key := hostOf(job)
	defer s.hosts.done(key)
	if err := clock.Sleep(ctx, s.opts.Clock, at.Sub(s.opts.Clock.Now())); err != nil {
		return upstate.Result{}
	}
	if err := s.hosts.acquire(ctx, key); err != nil {
		return upstate.Result{}
	}
	defer s.hosts.release(key)
	if job.SlowAfter <= 0 {
		return s.probe(ctx, job)
	}
	start := s.opts.Clock.Now()
	sctx, cancel := clock.WithTimeout(ctx, s.opts.Clock, job.SlowAfter)
	defer cancel()
	r := s.probe(sctx, job)
	if sctx.Err() != nil && ctx.Err() == nil && r.Outcome == upstate.OutcomeFail {
		// Stopped at the bound: slow, not failed.
		return upstate.Result{CheckID: job.ID, At: start, Outcome: upstate.OutcomeSlow, Latency: job.SlowAfter,
			Error: "slower than " + upstate.FormatLatency(job.SlowAfter) + " (not waited for)"}
	}
	return r
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

// hostOf is the key of the job's host in the per-host limit: its own id
// when it names none.
func hostOf(job Job) string {
	if job.Host == "" {
		return "check " + job.ID
	}
	return job.Host
}

// hosts is the per-host limit on burst samples, shared by every check on
// a host: at most limit in flight, started at least gap apart.
type hosts struct {
	limit int
	gap   time.Duration

	mu sync.Mutex
	m  map[string]*host
}

type host struct {
	slots chan struct{}
	next  time.Time // the earliest a sample may start
	users int       // samples reserved and not done: the entry is dropped at 0
}

// reserve books a sample's start on the host, no sooner than now, and
// returns when it may start; done must follow.
func (h *hosts) reserve(key string, now time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	x := h.m[key]
	if x == nil {
		x = &host{slots: make(chan struct{}, h.limit)}
		h.m[key] = x
	}
	x.users++
	at := now
	if x.next.After(at) {
		at = x.next
	}
	x.next = at.Add(h.gap)
	return at
}

// acquire takes one of the host's slots for a sample in flight.
func (h *hosts) acquire(ctx context.Context, key string) error {
	h.mu.Lock()
	x := h.m[key]
	h.mu.Unlock()
	select {
	case x.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hosts) release(key string) {
	h.mu.Lock()
	x := h.m[key]
	h.mu.Unlock()
	<-x.slots
}

// done ends a reservation.
func (h *hosts) done(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if x := h.m[key]; x != nil {
		if x.users--; x.users <= 0 {
			delete(h.m, key)
		}
	}
}

type queue []*entry

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].due < q[j].due }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = int32(i)
	q[j].index = int32(j)
}
func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = int32(len(*q))
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
