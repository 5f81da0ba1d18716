package schedule

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
)

// recorder collects results; tests run inside a synctest bubble, where
// time.Sleep advances the fake time once everything is idle.
type recorder struct {
	mu      sync.Mutex
	runs    map[string][]time.Time
	recheck map[string]int // how many re-checks to ask for, per check
}

func newRecorder() *recorder {
	return &recorder{runs: map[string][]time.Time{}, recheck: map[string]int{}}
}

func (r *recorder) sink(_ context.Context, rep Report) Next {
	res := rep.Result
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs[res.CheckID] = append(r.runs[res.CheckID], res.At)
	if r.recheck[res.CheckID] > 0 {
		r.recheck[res.CheckID]--
		return Next{Recheck: 5 * time.Second}
	}
	return Next{}
}

func (r *recorder) times(id string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, t := range r.runs[id] {
		out = append(out, t.Sub(epoch()))
	}
	return out
}

var epochTime atomic.Pointer[time.Time]

func epoch() time.Time { return *epochTime.Load() }

func prober(id string) check.Prober {
	return check.ProberFunc(func(context.Context) upstate.Result {
		return upstate.Result{CheckID: id, At: time.Now(), Outcome: upstate.OutcomeOK}
	})
}

func run(t *testing.T, jobs []Job, rec *recorder, opts Options, body func(s *Scheduler)) {
	now := time.Now()
	epochTime.Store(&now)
	opts.Clock = clock.Real{}
	if opts.Sink == nil {
		opts.Sink = rec.sink
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, jobs)
	}()
	body(s)
	cancel()
	<-done
}

func TestEveryCheckRunsWithinOneIntervalThenOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var jobs []Job
		for i := range 100 {
			id := fmt.Sprintf("c%03d", i)
			jobs = append(jobs, Job{ID: id, Interval: 30 * time.Second, Prober: prober(id)})
		}
		run(t, jobs, rec, Options{Coalesce: -1}, func(*Scheduler) {
			time.Sleep(95 * time.Second)
			synctest.Wait()
		})
		var firsts []time.Duration
		for _, j := range jobs {
			ts := rec.times(j.ID)
			if len(ts) != 4 && len(ts) != 3 {
				t.Fatalf("%s ran %d times in 95s at a 30s interval", j.ID, len(ts))
			}
			if ts[0] >= 30*time.Second {
				t.Errorf("%s first ran at %v, not within one interval", j.ID, ts[0])
			}
			for i := 1; i < len(ts); i++ {
				if ts[i]-ts[i-1] != 30*time.Second {
					t.Errorf("%s ran %v after the previous run", j.ID, ts[i]-ts[i-1])
				}
			}
			firsts = append(firsts, ts[0])
		}
		// Start-up is spread over the interval, not a thundering herd.
		slices.Sort(firsts)
		if firsts[len(firsts)-1]-firsts[0] < 20*time.Second {
			t.Errorf("first runs span only %v", firsts[len(firsts)-1]-firsts[0])
		}
	})
}

func TestRechecksComeSoonerAndKeepThePhase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		rec.recheck["a"] = 2
		jobs := []Job{{ID: "a", Interval: time.Minute, Prober: prober("a")}}
		run(t, jobs, rec, Options{Coalesce: -1}, func(*Scheduler) {
			time.Sleep(3 * time.Minute)
			synctest.Wait()
		})
		ts := rec.times("a")
		first := ts[0]
		want := []time.Duration{first, first + 5*time.Second, first + 10*time.Second, first + time.Minute, first + 2*time.Minute}
		if len(ts) < len(want) || !slices.Equal(ts[:len(want)], want) {
			t.Errorf("runs at %v, want %v", ts, want)
		}
	})
}

func TestUpdateAddsAndRemoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		jobs := []Job{{ID: "a", Interval: 10 * time.Second, Prober: prober("a")}, {ID: "b", Interval: 10 * time.Second, Prober: prober("b")}}
		run(t, jobs, rec, Options{}, func(s *Scheduler) {
			time.Sleep(25 * time.Second)
			s.Update([]Job{{ID: "a", Interval: 10 * time.Second, Prober: prober("a")}, {ID: "c", Interval: 10 * time.Second, Prober: prober("c")}})
			time.Sleep(time.Millisecond)
			synctest.Wait()
			nb := len(rec.times("b"))
			time.Sleep(30 * time.Second)
			synctest.Wait()
			if got := len(rec.times("b")); got != nb {
				t.Errorf("removed check b ran %d more times", got-nb)
			}
			if got := len(rec.times("c")); got < 2 {
				t.Errorf("added check c ran %d times in 30s", got)
			}
			if got := len(rec.times("a")); got < 5 {
				t.Errorf("kept check a ran %d times in 55s", got)
			}
		})
	})
}

func TestConcurrencyIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cur, peak atomic.Int64
		slow := check.ProberFunc(func(ctx context.Context) upstate.Result {
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(10 * time.Second)
			cur.Add(-1)
			return upstate.Result{At: time.Now(), Outcome: upstate.OutcomeOK}
		})
		var jobs []Job
		for i := range 50 {
			jobs = append(jobs, Job{ID: fmt.Sprint(i), Interval: time.Second, Prober: slow})
		}
		run(t, jobs, newRecorder(), Options{Concurrency: 4}, func(*Scheduler) {
			time.Sleep(time.Minute)
			synctest.Wait()
		})
		if p := peak.Load(); p != 4 {
			t.Errorf("peak concurrency %d, want 4", p)
		}
	})
}

func TestPanickingProberFailsItsCheckOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var got atomic.Value
		boom := check.ProberFunc(func(context.Context) upstate.Result { panic("nil map") })
		opts := Options{Sink: func(ctx context.Context, rep Report) Next {
			if rep.Result.CheckID == "boom" {
				got.Store(rep.Result)
			}
			return rec.sink(ctx, rep)
		}}
		jobs := []Job{{ID: "boom", Interval: time.Second, Prober: boom}, {ID: "fine", Interval: time.Second, Prober: prober("fine")}}
		run(t, jobs, rec, opts, func(s *Scheduler) {
			time.Sleep(3 * time.Second)
			synctest.Wait()
		})
		r, _ := got.Load().(upstate.Result)
		if r.Outcome != upstate.OutcomeFail || r.Error != "internal error in the probe" {
			t.Errorf("panicking probe gave %+v", r)
		}
		if len(rec.times("fine")) < 2 {
			t.Error("the other check stopped running")
		}
	})
}

func TestCoalescing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var jobs []Job
		for i := range 1000 {
			id := fmt.Sprint(i)
			jobs = append(jobs, Job{ID: id, Interval: 10 * time.Second, Prober: prober(id)})
		}
		run(t, jobs, rec, Options{Coalesce: 100 * time.Millisecond}, func(*Scheduler) {
			time.Sleep(30 * time.Second)
			synctest.Wait()
		})
		starts := map[time.Duration]bool{}
		for _, j := range jobs {
			ts := rec.times(j.ID)
			if len(ts) != 3 && len(ts) != 4 { // a run due just after 30 s may start just before
				t.Fatalf("%s ran %d times in 30s at a 10s interval", j.ID, len(ts))
			}
			for i, at := range ts {
				due := time.Duration(i)*10*time.Second + phase(j.ID, 10*time.Second)
				if at > due || due-at > 100*time.Millisecond {
					t.Errorf("%s run %d at %v, due %v: more than the coalescing window early, or late", j.ID, i, at, due)
				}
				starts[at] = true
			}
		}
		// 3000 probes spread evenly over 30 s start in about 300 batches.
		if n := len(starts); n > 330 {
			t.Errorf("probes started at %d distinct moments; coalescing should make about 300", n)
		}
	})
}

// reports collects what a sink is handed, and answers with next.
type reports struct {
	mu   sync.Mutex
	got  []Report
	when []time.Duration // since the epoch
	next func(Report) Next
}

func (r *reports) sink(_ context.Context, rep Report) Next {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rep)
	r.when = append(r.when, time.Since(epoch()))
	if r.next == nil {
		return Next{}
	}
	return r.next(rep)
}

func (r *reports) all() ([]Report, []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got), slices.Clone(r.when)
}

// since is how long after the epoch t is.
func since(t time.Time) time.Duration { return t.Sub(epoch()) }

func TestABurstTakesItsSamplesAndHandsThemOverTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var starts []time.Duration
		var mu sync.Mutex
		p := check.ProberFunc(func(context.Context) upstate.Result {
			mu.Lock()
			starts = append(starts, since(time.Now()))
			mu.Unlock()
			return upstate.Result{At: time.Now(), Outcome: upstate.OutcomeFail}
		})
		bursts := 0
		rep := &reports{next: func(r Report) Next {
			if r.Burst == nil && bursts == 0 {
				bursts++
				return Next{Burst: true}
			}
			return Next{Troubled: true}
		}}
		jobs := []Job{{ID: "a", Interval: time.Minute, Prober: p, Burst: Burst{Count: 10, Over: 5 * time.Second}}}
		run(t, jobs, nil, Options{Sink: rep.sink, Coalesce: -1}, func(*Scheduler) {
			time.Sleep(time.Minute)
			synctest.Wait()
		})
		got, when := rep.all()
		if len(got) < 2 || len(got[1].Burst) != 10 {
			t.Fatalf("reports %+v: want a result, then a burst of 10", got)
		}
		first := starts[0]
		for i := 1; i <= 10; i++ {
			if want := first + time.Duration(i-1)*500*time.Millisecond; starts[i] != want {
				t.Errorf("sample %d started at %v, want %v (0.5 s apart from the probe)", i, starts[i], want)
			}
		}
		if when[1] != first+4500*time.Millisecond {
			t.Errorf("burst handed over at %v, want when its last sample answered, %v", when[1], first+4500*time.Millisecond)
		}
		for i, r := range got[1].Burst {
			if r.CheckID != "a" || r.Outcome != upstate.OutcomeFail {
				t.Errorf("sample %d: %+v", i, r)
			}
		}
	})
}

func TestBurstsShareAPerHostLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var cur, peak, calls int
		var starts []time.Duration
		p := check.ProberFunc(func(ctx context.Context) upstate.Result {
			mu.Lock()
			calls++
			sample := calls > 3 // the first three are the checks' own probes
			if sample {
				cur++
				peak = max(peak, cur)
			}
			starts = append(starts, since(time.Now()))
			mu.Unlock()
			time.Sleep(3 * time.Second) // a struggling host
			mu.Lock()
			if sample {
				cur--
			}
			mu.Unlock()
			return upstate.Result{At: time.Now(), Outcome: upstate.OutcomeFail}
		})
		asked := map[string]bool{}
		rep := &reports{next: func(r Report) Next {
			if r.Burst == nil && !asked[r.Result.CheckID] {
				asked[r.Result.CheckID] = true
				return Next{Burst: true}
			}
			return Next{}
		}}
		var jobs []Job
		for _, id := range []string{"a", "b", "c"} {
			// The regular probes are the first three calls; the rest are samples.
			jobs = append(jobs, Job{ID: id, Interval: time.Hour, Prober: p, Host: "api.example:443", Burst: Burst{Count: 10, Over: time.Second}})
		}
		run(t, jobs, nil, Options{Sink: rep.sink, PerHost: 2, HostGap: 200 * time.Millisecond}, func(s *Scheduler) {
			synctest.Wait() // the jobs are in
			// Start all three at once.
			s.RunNow("a", "b", "c")
			time.Sleep(2 * time.Minute)
			synctest.Wait()
		})
		got, _ := rep.all()
		n := 0
		for _, r := range got {
			if len(r.Burst) == 10 {
				n++
			}
		}
		if n != 3 {
			t.Fatalf("%d full bursts, want 3", n)
		}
		// Three checks bursting at once: their samples are held to 2 in flight.
		if peak != 2 {
			t.Errorf("peak %d samples in flight to the host, want 2", peak)
		}
		samples := starts[3:]
		slices.Sort(samples)
		for i := 1; i < len(samples); i++ {
			if d := samples[i] - samples[i-1]; d < 200*time.Millisecond {
				t.Errorf("samples %d and %d started %v apart on one host, want at least 200ms", i-1, i, d)
			}
		}
	})
}

func TestSlowIsReportedAtTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := check.ProberFunc(func(ctx context.Context) upstate.Result {
			start := time.Now()
			select {
			case <-time.After(45 * time.Second):
			case <-ctx.Done():
				return upstate.Result{At: start, Latency: time.Since(start), Outcome: upstate.OutcomeFail, Error: "timed out"}
			}
			return upstate.Result{At: start, Latency: time.Since(start), Outcome: upstate.OutcomeSlow, Error: "slower than 2.00 s"}
		})
		rep := &reports{next: func(r Report) Next {
			if r.Result.Pending {
				return Next{Burst: true}
			}
			return Next{}
		}}
		jobs := []Job{{ID: "a", Interval: time.Hour, Prober: p, SlowAfter: 2 * time.Second, Burst: Burst{Count: 4, Over: 2 * time.Second}}}
		run(t, jobs, nil, Options{Sink: rep.sink}, func(s *Scheduler) {
			synctest.Wait() // the job is in
			s.RunNow("a")
			time.Sleep(time.Minute)
			synctest.Wait()
		})
		got, when := rep.all()
		if len(got) != 3 {
			t.Fatalf("%d reports, want pending, burst, answer: %+v", len(got), got)
		}
		pending, b, answer := got[0].Result, got[1].Burst, got[2].Result
		if !pending.Pending || pending.Outcome != upstate.OutcomeSlow || pending.Latency != 2*time.Second || when[0] != 2*time.Second {
			t.Errorf("first report at %v: %+v, want a pending slow result at the 2 s bound", when[0], pending)
		}
		// Samples start 0.5 s apart from the bound; each is stopped at its
		// own bound, so the burst is judged 2 s after the last started.
		if len(b) != 4 || when[1] != 2*time.Second+1500*time.Millisecond+2*time.Second {
			t.Errorf("burst of %d at %v, want 4 at 5.5s", len(b), when[1])
		}
		for i, r := range b {
			if r.Outcome != upstate.OutcomeSlow || r.Latency != 2*time.Second || r.Error != "slower than 2.00 s (not waited for)" {
				t.Errorf("sample %d: %+v, want slow, stopped at the bound", i, r)
			}
		}
		if answer.Pending || answer.Latency != 45*time.Second || !answer.At.Equal(pending.At) || when[2] != 45*time.Second {
			t.Errorf("answer at %v: %+v, want the 45 s answer with the pending result's At", when[2], answer)
		}
	})
}

func TestTroubleRunsAChecksFastInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var troubled atomicBool
		rep := &reports{next: func(Report) Next { return Next{Troubled: troubled.Load()} }}
		jobs := []Job{{ID: "a", Interval: time.Minute, Fast: 15 * time.Second, Prober: prober("a"), Watch: []string{"api", "database"}}}
		var marks []time.Duration // when each stretch began
		mark := func() { marks = append(marks, since(time.Now())) }
		run(t, jobs, nil, Options{Sink: rep.sink, Coalesce: -1}, func(s *Scheduler) {
			time.Sleep(time.Minute) // one regular run
			synctest.Wait()
			mark() // its own condition in trouble
			troubled.Store(true)
			time.Sleep(3 * time.Minute)
			synctest.Wait()
			mark() // well again
			troubled.Store(false)
			time.Sleep(3 * time.Minute)
			synctest.Wait()
			mark() // a component it depends on in trouble
			s.SetStatuses(map[string]upstate.Status{"api": upstate.Operational, "database": upstate.MajorOutage})
			time.Sleep(2 * time.Minute)
			synctest.Wait()
			mark() // planned maintenance is not trouble
			s.SetStatuses(map[string]upstate.Status{"database": upstate.UnderMaintenance})
			time.Sleep(3 * time.Minute)
			synctest.Wait()
			mark()
		})
		_, when := rep.all()
		stretch := func(k int) []time.Duration {
			var out []time.Duration
			for _, w := range when {
				if w >= marks[k] && w < marks[k+1] {
					out = append(out, w)
				}
			}
			return out
		}
		gaps := func(ws []time.Duration) []time.Duration {
			var out []time.Duration
			for i := 1; i < len(ws); i++ {
				out = append(out, ws[i]-ws[i-1])
			}
			return out
		}
		// Own trouble: the first run tells it (on schedule), then about
		// every 15 s (a run within 7.5 s of the regular slot waits for it).
		for _, g := range gaps(stretch(0))[1:] {
			if g > 15*time.Second+7500*time.Millisecond {
				t.Errorf("troubled: runs %v apart, want 15 s (at most 22.5 s next to a regular slot)", g)
			}
		}
		if n := len(stretch(0)); n < 9 {
			t.Errorf("troubled: %d runs in 3 minutes, want about 12", n)
		}
		// Well: back to the minute after the first run says so.
		for _, g := range gaps(stretch(1))[1:] {
			if g != time.Minute {
				t.Errorf("well again: runs %v apart, want 1m", g)
			}
		}
		// A watched component's trouble: a run at once, then fast.
		c := stretch(2)
		if len(c) < 7 || c[0] != marks[2] {
			t.Errorf("component in trouble from %v: runs at %v, want one at once and about 8 in 2 minutes", marks[2], c)
		}
		if n := len(stretch(3)); n > 4 {
			t.Errorf("under maintenance: %d runs in 3 minutes, want the regular 3 (or 4 with the last fast one)", n)
		}
	})
}

func TestRunNowJudgesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{}, 10)
		release := make(chan struct{})
		p := check.ProberFunc(func(context.Context) upstate.Result {
			started <- struct{}{}
			<-release
			return upstate.Result{At: time.Now(), Outcome: upstate.OutcomeOK}
		})
		rep := &reports{}
		jobs := []Job{{ID: "m", Interval: time.Hour, Prober: p}}
		run(t, jobs, nil, Options{Sink: rep.sink}, func(s *Scheduler) {
			time.Sleep(time.Second)
			synctest.Wait()
			s.RunNow("m", "unknown")
			synctest.Wait()
			if len(started) != 1 {
				t.Fatalf("%d runs after RunNow, want 1 at once", len(started))
			}
			s.RunNow("m") // while it runs: once more when it is done
			release <- struct{}{}
			synctest.Wait()
			if len(started) != 2 {
				t.Fatalf("%d runs, want a second one right after the first", len(started))
			}
			close(release)
			synctest.Wait()
		})
		if _, when := rep.all(); len(when) < 2 || when[1]-when[0] != 0 {
			t.Errorf("runs handed over at %v, want two at once", when)
		}
	})
}

type atomicBool = atomic.Bool
