package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// Outbox is what the dispatcher reads and records.
type Outbox interface {
	DueMessages(ctx context.Context, now time.Time, limit int) ([]upstate.Message, error)
	RecordAttempt(ctx context.Context, m upstate.Message) error
}

// Options configure a Dispatcher.
type Options struct {
	Outbox Outbox
	// Channel finds a configured channel by id; false when there is none
	// (it was removed from the configuration).
	Channel func(id string) (Channel, bool)
	Clock   clock.Clock
	Logger  *slog.Logger
	// GiveUpAfter is how long a message is retried from when it was
	// written; then it fails and shows in the admin UI and /metrics.
	// Default 24h.
	GiveUpAfter time.Duration
	// Timeout bounds one attempt. Default 15s.
	Timeout time.Duration
	// Backoff is the first retry's delay, doubled each attempt up to
	// MaxBackoff; each delay is jittered to between half and all of it.
	// Defaults 5s and 30m.
	Backoff, MaxBackoff time.Duration
	// Concurrency bounds attempts in flight. Default 8.
	Concurrency int
	// Poll is how often Run looks for due messages when not woken. Default 1s.
	Poll time.Duration
	// Jitter returns a number in [0, 1); default math/rand.
	Jitter func() float64
	// Observe is told of each attempt's outcome: "sent", "retry",
	// "failed" or "silenced".
	Observe func(channel, outcome string)
	// Muted says whether a silence mutes the message now, and which; nil
	// mutes nothing.
	Muted func(m upstate.Message, now time.Time) (string, bool)
}

func (o *Options) validate() error {
	switch {
	case o.Outbox == nil:
		return errors.New("notify: Options.Outbox is required")
	case o.Channel == nil:
		return errors.New("notify: Options.Channel is required")
	case o.Clock == nil:
		return errors.New("notify: Options.Clock is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	defaults := []struct {
		d *time.Duration
		v time.Duration
	}{{&o.GiveUpAfter, 24 * time.Hour}, {&o.Timeout, 15 * time.Second}, {&o.Backoff, 5 * time.Second}, {&o.MaxBackoff, 30 * time.Minute}, {&o.Poll, time.Second}}
	for _, x := range defaults {
		if *x.d <= 0 {
			*x.d = x.v
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Observe == nil {
		o.Observe = func(string, string) {}
	}
	if o.Muted == nil {
		o.Muted = func(upstate.Message, time.Time) (string, bool) { return "", false }
	}
	return nil
}

// Dispatcher delivers due messages from the outbox.
type Dispatcher struct {
	opts Options
	wake chan struct{}
}

// New returns a dispatcher; Run starts it.
func New(opts Options) (*Dispatcher, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Dispatcher{opts: opts, wake: make(chan struct{}, 1)}, nil
}

// Wake asks Run to look for due messages now (a change just wrote some).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then returns once attempts in flight
// have finished.
func (d *Dispatcher) Run(ctx context.Context) {
	timer := d.opts.Clock.NewTimer(d.opts.Poll)
	defer timer.Stop()
	for {
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("reading the outbox", "component", "notify", "err", err)
		}
		timer.Reset(d.opts.Poll)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-d.wake:
		}
	}
}

// Drain attempts every message due now, stream after stream, until none
// is left due; it returns how many attempts it made. Messages that become
// due as others are sent (the next in a stream) are attempted in the
// same call.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		due, err := d.opts.Outbox.DueMessages(ctx, d.opts.Clock.Now(), 100)
		if err != nil || len(due) == 0 {
			return total, err
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, d.opts.Concurrency)
		errs := make([]error, len(due))
		for i, m := range due {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				errs[i] = d.attempt(ctx, m)
			}()
		}
		wg.Wait()
		total += len(due)
		if err := errors.Join(errs...); err != nil {
			return total, err
		}
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// attempt sends one message and records the outcome; only a failure to
// record is returned.
func (d *Dispatcher) attempt(ctx context.Context, m upstate.Message) error {
	if why, muted := d.opts.Muted(m, d.opts.Clock.Now()); muted {
		m.State, m.LastError = upstate.MessageSilenced, truncate("silenced: "+why)
		d.opts.Observe(m.Channel, "silenced")
		d.opts.Logger.Info("notification silenced", "component", "notify", "channel", m.Channel, "message", m.ID, "silence", why)
		return d.opts.Outbox.RecordAttempt(context.WithoutCancel(ctx), m)
	}
	ch, ok := d.opts.Channel(m.Channel)
	var err error
	if !ok {
		err = Permanent(fmt.Errorf("channel %q is no longer configured", m.Channel))
	} else {
		actx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
		err = ch.Send(actx, m)
		cancel()
	}
	if err != nil && ctx.Err() != nil {
		return nil // shutting down: the message stays pending for next time
	}
	now := d.opts.Clock.Now()
	m.Attempts++
	log := d.opts.Logger.With("component", "notify", "channel", m.Channel, "message", m.ID, "attempt", m.Attempts)
	switch permanent, after := Classify(err); {
	case err == nil:
		m.State, m.SentAt, m.LastError = upstate.MessageSent, &now, ""
		d.opts.Observe(m.Channel, "sent")
		log.Debug("notification sent")
	case permanent:
		m.State, m.LastError = upstate.MessageFailed, truncate(err.Error())
		d.opts.Observe(m.Channel, "failed")
		log.Error("notification failed: the receiver refused it", "err", err)
	default:
		next := now.Add(max(d.backoff(m.Attempts), after))
		if next.Sub(m.CreatedAt) > d.opts.GiveUpAfter {
			m.State, m.LastError = upstate.MessageFailed, truncate(fmt.Sprintf("gave up after %d attempts over %s: %v", m.Attempts, now.Sub(m.CreatedAt).Round(time.Second), err))
			d.opts.Observe(m.Channel, "failed")
			log.Error("notification given up", "err", err)
			break
		}
		m.NextAt, m.LastError = next, truncate(err.Error())
		d.opts.Observe(m.Channel, "retry")
		log.Warn("notification will be retried", "err", err, "next_at", next)
	}
	if rerr := d.opts.Outbox.RecordAttempt(context.WithoutCancel(ctx), m); rerr != nil {
		return fmt.Errorf("record attempt of %s: %w", m.ID, rerr)
	}
	return nil
}

// backoff is the delay before the next attempt after n attempts:
// exponential from Backoff, capped at MaxBackoff, with equal jitter.
func (d *Dispatcher) backoff(n int) time.Duration {
	full := float64(d.opts.Backoff) * math.Pow(2, float64(n-1))
	full = min(full, float64(d.opts.MaxBackoff))
	return time.Duration(full/2 + d.opts.Jitter()*full/2)
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}
