package demo

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Step is one change to the world at a moment of the scenario.
type Step struct {
	At   time.Time
	Say  string
	Do   func(w *World)
	Wait bool // hold here, the clock running, until At (no jump)
}

// Driver moves the demo's time: Wait lets simulated time pass with
// everything running; Jump skips a quiet stretch quickly.
type Driver interface {
	Wait(ctx context.Context, d time.Duration) error
	Jump(ctx context.Context, d time.Duration) error
}

// Clocked is a Driver whose clock reads the scenario's times (the
// demo's scaled clock, started at Start): play aims each step at its time
// rather than adding up the gaps. A driver that shortens jumps (the
// test's) is not Clocked.
type Clocked interface {
	Now() time.Time
}

// Pinger sends the nightly job's heartbeat.
type Pinger func(ctx context.Context) error

// Zone is the demo company's time zone.
var Zone = mustZone("America/Los_Angeles")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("PST", -8*3600)
	}
	return l
}

// Start is when the replay's clock starts: four quiet weeks before
// school begins, so the page has history.
var Start = time.Date(2026, 7, 20, 8, 0, 0, 0, Zone)

func at(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, Zone)
}

// Scenario is the bad month, in order. Steps that start an episode jump
// to it; steps inside one let the clock run so checks see it unfold.
func Scenario() []Step {
	return []Step{
		{At: at(8, 17, 7, 40), Say: "Monday, first day of school. Everything is fine."},
		{At: at(8, 17, 7, 46), Wait: true, Say: "Database lock contention begins: API latency climbs to 2.5 s", Do: func(w *World) {
			w.set(func(w *World) { w.apiLatency = 2500 * time.Millisecond })
		}},
		{At: at(8, 17, 7, 58), Wait: true, Say: "Lock waits pile up in the database; API latency 6 s", Do: func(w *World) {
			w.set(func(w *World) { w.apiLatency = 6 * time.Second; w.dbLocked = true })
		}},
		{At: at(8, 17, 8, 8), Wait: true, Say: "API latency reaches 12 s", Do: func(w *World) {
			w.set(func(w *World) { w.apiLatency = 12 * time.Second })
		}},
		{At: at(8, 17, 8, 18), Wait: true, Say: "A quarter of API requests now answer HTTP 500", Do: func(w *World) {
			w.set(func(w *World) { w.apiLatency = 900 * time.Millisecond; w.apiFailEvery = 4 })
		}},
		{At: at(8, 17, 8, 52), Wait: true, Say: "The blocking query is killed; the database and API recover", Do: func(w *World) {
			w.set(func(w *World) { w.apiLatency = 120 * time.Millisecond; w.apiFailEvery = 0; w.dbLocked = false })
		}},
		{At: at(8, 17, 9, 5), Wait: true},

		{At: at(8, 19, 9, 58), Say: "Wednesday: the conversion provider starts failing for Word and PowerPoint (PDF still works)", Do: func(w *World) {
			w.set(func(w *World) { w.brokenConvert["docx"] = true; w.brokenConvert["pptx"] = true })
		}},
		{At: at(8, 19, 10, 40), Wait: true, Say: "The conversion provider fixes its Office workers", Do: func(w *World) {
			w.set(func(w *World) { w.brokenConvert = map[string]bool{} })
		}},
		{At: at(8, 19, 10, 50), Wait: true},

		{At: at(8, 21, 13, 0), Say: "Friday: the cloud drive provider goes down", Do: func(w *World) {
			w.set(func(w *World) { w.driveDown, w.driveSince = true, w.clock.Now(); w.driveOutages++ })
		}},
		{At: at(8, 21, 14, 25), Wait: true, Say: "The cloud drive provider is back", Do: func(w *World) {
			w.set(func(w *World) { w.driveDown = false })
		}},
		{At: at(8, 21, 14, 35), Wait: true},

		{At: at(8, 25, 9, 45), Say: "Tuesday: a new roster import burns the classroom API quota at 300 requests a minute (10,000 a day)", Do: func(w *World) {
			w.setQuotaRate(300, -1)
		}},
		{At: at(8, 25, 10, 5), Wait: true, Say: "The classroom API quota is exhausted (HTTP 429)", Do: func(w *World) {
			w.setQuotaRate(0, quotaLimit)
		}},
		{At: at(8, 25, 10, 35), Wait: true, Say: "The quota resets", Do: func(w *World) {
			w.setQuotaRate(quotaNormalRate, 0)
		}},
		{At: at(8, 25, 10, 45), Wait: true},

		{At: at(8, 27, 8, 30), Say: "Thursday: the cloud drive provider goes down again", Do: func(w *World) {
			w.set(func(w *World) { w.driveDown, w.driveSince = true, w.clock.Now(); w.driveOutages++ })
		}},
		{At: at(8, 27, 9, 15), Wait: true, Say: "The cloud drive provider recovers", Do: func(w *World) {
			w.set(func(w *World) { w.driveDown = false })
		}},
		{At: at(8, 27, 9, 25), Wait: true},

		{At: at(9, 2, 10, 40), Say: "The roster import runs again, burning the classroom API quota", Do: func(w *World) {
			w.setQuotaRate(300, -1)
		}},
		{At: at(9, 2, 11, 0), Wait: true, Say: "The classroom API quota runs out again", Do: func(w *World) {
			w.setQuotaRate(0, quotaLimit)
		}},
		{At: at(9, 2, 11, 25), Wait: true, Say: "The quota resets", Do: func(w *World) {
			w.setQuotaRate(quotaNormalRate, 0)
		}},
		{At: at(9, 2, 11, 35), Wait: true},
	}
}

// jumpStep is the longest single jump; the nightly job's heartbeat is sent
// between jumps, so it never looks silent because time skipped.
const jumpStep = 12 * time.Hour

// Play runs the scenario on the world, narrating each step to out with
// the simulated time the world's clock reads as the change is made.
func Play(ctx context.Context, w *World, d Driver, ping Pinger, out io.Writer) error {
	return play(ctx, w, d, ping, func(at time.Time, say string) {
		fmt.Fprintf(out, "  %s  %s\n", at.In(Zone).Format("Mon Jan 2 15:04:05 MST"), say)
	})
}

// play runs the scenario, telling each change with the clock's time at
// the moment it is made. The scenario's own times (Step.At) only space the
// steps: jumps take real time and the test's driver shortens them, so the
// clock runs ahead of them, and narrating Step.At would say a change came
// minutes before it did, making Upstate look slow to notice it.
func play(ctx context.Context, w *World, d Driver, ping Pinger, tell func(at time.Time, say string)) error {
	cursor := Start
	if err := ping(ctx); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	for _, s := range Scenario() {
		// left is how long until the step's time. When the driver's clock
		// is the scenario's, it is read from the clock, so what jumps and
		// pings take is not added up; otherwise (the test's driver
		// shortens jumps) the steps' gaps are added up.
		left := func(gone time.Duration) time.Duration { return s.At.Sub(cursor) - gone }
		if c, ok := d.(Clocked); ok {
			left = func(time.Duration) time.Duration { return s.At.Sub(c.Now()) }
		}
		if s.Wait {
			if err := d.Wait(ctx, left(0)); err != nil {
				return err
			}
		} else {
			for gone := time.Duration(0); left(gone) > 0; {
				step := min(left(gone), jumpStep)
				if err := ping(ctx); err != nil {
					return fmt.Errorf("heartbeat: %w", err)
				}
				if err := d.Jump(ctx, step); err != nil {
					return err
				}
				gone += step
			}
			if err := ping(ctx); err != nil {
				return fmt.Errorf("heartbeat: %w", err)
			}
		}
		cursor = s.At
		now := w.clock.Now()
		if s.Do != nil {
			s.Do(w)
		}
		if s.Say != "" {
			tell(now, s.Say)
		}
	}
	return nil
}
