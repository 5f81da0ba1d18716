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
