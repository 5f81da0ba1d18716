package schedule

import (
	"testing"
	"testing/synctest"
	"time"
)

// A 60 s check in three regions is sampled every 20 s: each region's
// scheduler (here three jobs of one) runs at its slot of the interval,
// whenever it started.
func TestRegionsTakeTurnsWithinTheInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		const iv = time.Minute
		var jobs []Job
		for i, region := range []string{"us-west", "us-east", "eu"} {
			jobs = append(jobs, Job{ID: region, Interval: iv, Prober: prober(region), Aligned: true, Slot: Slot("api", iv, i, 3)})
		}
		time.Sleep(7 * time.Second) // started at no particular moment
		run(t, jobs, rec, Options{Coalesce: -1}, func(*Scheduler) {
			time.Sleep(3*iv - time.Second)
			synctest.Wait()
		})
		for _, j := range jobs {
			rec.mu.Lock()
			ts := rec.runs[j.ID]
			rec.mu.Unlock()
			if len(ts) < 2 {
				t.Fatalf("%s ran %d times", j.ID, len(ts))
			}
			for _, at := range ts {
				if got := time.Duration(at.UnixNano() % int64(iv)); got != j.Slot {
					t.Fatalf("%s ran at %v into the interval, not its slot %v", j.ID, got, j.Slot)
				}
			}
		}
		for i := 1; i < 3; i++ {
			gap := (jobs[i].Slot - jobs[i-1].Slot + iv) % iv
			if gap != 20*time.Second {
				t.Fatalf("region %d's slot is %v after region %d's, want 20s", i, gap, i-1)
			}
		}
	})
}

// A job taken over from another instance waits until NotBefore, then
// runs at its slot: not at once, and not at a slot before NotBefore.
func TestNotBeforeWaitsThenTakesTheSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		const iv = 10 * time.Second
		slot := Slot("api", iv, 0, 1)
		time.Sleep(3 * time.Second)
		notBefore := time.Now().Add(25 * time.Second)
		job := Job{ID: "api", Interval: iv, Prober: prober("api"), Aligned: true, Slot: slot, NotBefore: notBefore}
		run(t, []Job{job}, rec, Options{Coalesce: -1}, func(*Scheduler) {
			time.Sleep(45 * time.Second)
			synctest.Wait()
		})
		rec.mu.Lock()
		ts := rec.runs["api"]
		rec.mu.Unlock()
		if len(ts) < 2 {
			t.Fatalf("ran %d times", len(ts))
		}
		if ts[0].Before(notBefore) {
			t.Fatalf("first run at %v, before NotBefore %v", ts[0], notBefore)
		}
		if ts[0].Sub(notBefore) >= iv {
			t.Fatalf("first run %v after NotBefore; want the first slot after it", ts[0].Sub(notBefore))
		}
		for _, at := range ts {
			if got := time.Duration(at.UnixNano() % int64(iv)); got != slot {
				t.Fatalf("ran %v into the interval, not its slot %v", got, slot)
			}
		}
	})
}
