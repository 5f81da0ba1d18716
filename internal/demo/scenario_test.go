package demo

import (
	"context"
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/clock"
)

// driftingDriver moves a fake clock as the demo's scaled clock moves:
// each jump also lets some time pass (the real pause after it, at speed),
// and so does every heartbeat.
type driftingDriver struct {
	c     *clock.Fake
	drift time.Duration
}

func (d driftingDriver) Now() time.Time { return d.c.Now() }

func (d driftingDriver) Wait(_ context.Context, dur time.Duration) error {
	d.c.Advance(max(dur, 0))
	return nil
}

func (d driftingDriver) Jump(_ context.Context, dur time.Duration) error {
	d.c.Advance(dur + d.drift)
	return nil
}

// On the demo's clock each change is narrated at the time the world sees
// it made, and, the driver being Clocked, near the scenario's time: what
// the jumps take is not added up (before, the first day of school began
// 9 to 15 simulated minutes late at 60x, and the narration hid it).
func TestPlayNarratesTheClock(t *testing.T) {
	c := clock.NewFake(Start)
	w := NewWorld(c)
	const drift = 9 * time.Second
	var due []Step
	for _, s := range Scenario() {
		if s.Say != "" {
			due = append(due, s)
		}
	}
	n := 0
	err := play(context.Background(), w, driftingDriver{c, drift}, func(context.Context) error { c.Advance(time.Second); return nil }, func(at time.Time, say string) {
		if n >= len(due) || due[n].Say != say {
			t.Fatalf("narrated %q out of turn", say)
		}
		if !at.Equal(w.clock.Now()) {
			t.Errorf("%q narrated at %s, but made at %s", say, at, w.clock.Now())
		}
		if late := at.Sub(due[n].At); late < 0 || late > drift+2*time.Second {
			t.Errorf("%q made at %s, %s after its time %s", say, at, late, due[n].At)
		}
		n++
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(due) {
		t.Errorf("narrated %d changes of %d", n, len(due))
	}
}
