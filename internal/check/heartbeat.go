package check

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// Beats remembers the last heartbeat of each heartbeat check. It is shared
// by the web handler that records pings and the probers that look for
// silence; it is safe for concurrent use.
type Beats struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// NewBeats returns an empty record.
func NewBeats() *Beats { return &Beats{last: map[string]time.Time{}} }

// Beat records a heartbeat at t.
func (b *Beats) Beat(id string, t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.After(b.last[id]) {
		b.last[id] = t
	}
}

// Last returns the last heartbeat, and false if none was seen.
func (b *Beats) Last(id string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.last[id]
	return t, ok
}

// Heartbeat fails when the job has been silent longer than Period+Grace.
// Silence is measured from the last beat, or from Started for a job that
// has never called in.
type Heartbeat struct {
	ID      string
	Period  time.Duration
	Grace   time.Duration
	Beats   *Beats
	Started time.Time
	Clock   clock.Clock
}

// Probe implements Prober.
func (h *Heartbeat) Probe(context.Context) upstate.Result {
	now := h.Clock.Now()
	r := upstate.Result{CheckID: h.ID, At: now, Outcome: upstate.OutcomeOK}
	last, ok := h.Beats.Last(h.ID)
	from := last
	if !ok {
		from = h.Started
	}
	silent := now.Sub(from)
	if silent > h.Period+h.Grace {
		if !ok {
			return fail(r, fmt.Sprintf("no heartbeat received in %s (expected every %s, grace %s)", roundDur(silent), roundDur(h.Period), roundDur(h.Grace)))
		}
		return fail(r, fmt.Sprintf("no heartbeat since %s, %s ago (expected every %s, grace %s)", last.UTC().Format(time.RFC3339), roundDur(silent), roundDur(h.Period), roundDur(h.Grace)))
	}
	return r
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
