package notify

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/upstatehq/upstate"
)

// Delivery is a pipeline of small stages, each with one job:
//
//	route → mute → send → classify → record
//
// Route runs when a change is written (Switchboard.Route, for the incident
// engine): it turns an event into the messages it owes. The other four run
// in the dispatcher for each due message, composed in one place (stages,
// and Dispatcher.consider and attempt): mute settles what a silence
// matches; send finds the message's channel and sends through it; classify
// says what the outcome makes of the message (sent, failed, or due again
// after a backoff); record keeps it in the outbox. The lanes' limits and
// the hosts' breakers sit between mute and send.
type stages struct {
	mute     muteStage
	send     sendStage
	classify classifier
	record   recorder
}

func newStages(o Options) stages {
	return stages{
		mute: muteStage{muted: o.Muted, observe: o.Observe, log: o.Logger},
		send: sendStage{channel: o.Channel, timeout: o.Timeout},
		classify: classifier{now: o.Clock.Now, backoff: o.Backoff, maxBackoff: o.MaxBackoff, giveUpAfter: o.GiveUpAfter, jitter: o.Jitter,
			observe: o.Observe, log: o.Logger},
		record: recorder{outbox: o.Outbox},
	}
}

// muteStage settles a message a silence matches as silenced, unsent.
type muteStage struct {
	muted   func(m upstate.Message, now time.Time) (string, bool)
	observe func(m upstate.Message, outcome string)
	log     *slog.Logger
}

// mute returns the message settled as silenced, and true, when a silence
// matches it now.
func (s muteStage) mute(m upstate.Message, now time.Time) (upstate.Message, bool) {
	why, muted := s.muted(m, now)
	if !muted {
		return m, false
	}
	m.State, m.LastError = upstate.MessageSilenced, truncate("silenced: "+why)
	s.observe(m, "silenced")
	s.log.Info("notification silenced", "component", "notify", "channel", m.Channel, "message", m.ID, "silence", why)
	return m, true
}

// sendStage finds a message's channel and sends through it, one attempt
// within the timeout.
type sendStage struct {
	channel func(id string) (Channel, bool)
	timeout time.Duration
}

// find returns the message's channel and the host it delivers to (what
// the lane's limits and breakers count by); an error, final, when the
// channel is no longer configured.
func (s sendStage) find(m upstate.Message) (Channel, string, error) {
	ch, ok := s.channel(m.Channel)
	if !ok {
		return nil, "", Permanent(fmt.Errorf("channel %q is no longer configured", m.Channel))
	}
	host := "channel:" + m.Channel
	if dc, ok := ch.(Destined); ok && dc.Destination() != "" {
		host = dc.Destination()
	}
	return ch, host, nil
}

// send makes one attempt.
func (s sendStage) send(ctx context.Context, ch Channel, m upstate.Message) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return ch.Send(ctx, m)
}

// classifier works out what an attempt's outcome makes of the message:
// sent; failed when the receiver refused it for good; otherwise due again
// after an exponential, jittered backoff (never sooner than the receiver
// asked), until its give-up window passes.
type classifier struct {
	now                              func() time.Time
	backoff, maxBackoff, giveUpAfter time.Duration
	jitter                           func() float64
	observe                          func(m upstate.Message, outcome string)
	log                              *slog.Logger
}

// classify returns the message as the outcome err leaves it.
func (c classifier) classify(m upstate.Message, err error) upstate.Message {
	now := c.now()
	m.Attempts++
	log := c.log.With("component", "notify", "channel", m.Channel, "message", m.ID, "attempt", m.Attempts)
	switch permanent, after := Classify(err, now); {
	case err == nil:
		m.State, m.SentAt, m.LastError = upstate.MessageSent, &now, ""
		c.observe(m, "sent")
		log.Debug("notification sent")
	case permanent:
		m.State, m.LastError = upstate.MessageFailed, truncate(err.Error())
		c.observe(m, "failed")
		log.Error("notification failed: the receiver refused it", "err", err)
	default:
		next := now.Add(max(c.delay(m.Attempts), after))
		if next.Sub(m.CreatedAt) > c.giveUpAfter {
			m.State, m.LastError = upstate.MessageFailed, truncate(fmt.Sprintf("gave up after %d attempts over %s: %v", m.Attempts, now.Sub(m.CreatedAt).Round(time.Second), err))
			c.observe(m, "failed")
			log.Error("notification given up", "err", err)
			break
		}
		m.NextAt, m.LastError = next, truncate(err.Error())
		c.observe(m, "retry")
		log.Warn("notification will be retried", "err", err, "next_at", next)
	}
	return m
}

// putOff returns a message of a host whose circuit is open moved, untried,
// to when the circuit lets an attempt through again, or failed if that is
// past its give-up window.
func (c classifier) putOff(m upstate.Message, host string, until time.Time, failures int, last string) upstate.Message {
	why := fmt.Sprintf("not tried: %s did not answer %d times in a row (last: %s)", host, failures, last)
	if until.Sub(m.CreatedAt) > c.giveUpAfter {
		m.State, m.LastError = upstate.MessageFailed, truncate("gave up: "+why)
		c.observe(m, "failed")
	} else {
		m.NextAt, m.LastError = until, truncate(why)
	}
	return m
}

// delay is the wait before the next attempt after n attempts: exponential
// from backoff, capped at maxBackoff, with equal jitter.
func (c classifier) delay(n int) time.Duration {
	full := float64(c.backoff) * math.Pow(2, float64(n-1))
	full = min(full, float64(c.maxBackoff))
	return time.Duration(full/2 + c.jitter()*full/2)
}

// recorder keeps outcomes in the outbox. One the outbox cannot keep now
// (a full or locked disk) is held in the lane and written again before
// the lane sends anything else; its message is not sent again meanwhile.
// Only a pending message is settled: one settled meanwhile (a page an
// acknowledgement cancelled) stays as it became.
type recorder struct {
	outbox Outbox
}

// write writes one outcome, even while the lane shuts down.
func (r recorder) write(ctx context.Context, m upstate.Message) error {
	return settled(r.outbox.RecordAttempt(context.WithoutCancel(ctx), m))
}

// keep writes an attempt's outcome, or holds it in the lane when the
// outbox cannot keep it now.
func (r recorder) keep(ctx context.Context, l *lane, m upstate.Message) error {
	if err := r.write(ctx, m); err != nil {
		l.mu.Lock()
		l.unrecorded[m.ID] = m
		l.mu.Unlock()
		return fmt.Errorf("record attempt of %s: %w", m.ID, err)
	}
	return nil
}

// rewrite writes the outcomes the outbox could not keep before.
func (r recorder) rewrite(ctx context.Context, l *lane) error {
	l.mu.Lock()
	held := make([]upstate.Message, 0, len(l.unrecorded))
	for _, m := range l.unrecorded {
		held = append(held, m)
	}
	l.mu.Unlock()
	for _, m := range held {
		if err := r.write(ctx, m); err != nil && upstate.ErrorCode(err) != upstate.ENOTFOUND {
			return fmt.Errorf("record attempt of %s: %w", m.ID, err)
		}
		l.mu.Lock()
		delete(l.unrecorded, m.ID)
		l.mu.Unlock()
	}
	return nil
}

// settled passes on an outcome's write error, but for ECONFLICT: the
// message was settled meanwhile (a page cancelled by an acknowledgement),
// and what it became stands.
func settled(err error) error {
	if upstate.ErrorCode(err) == upstate.ECONFLICT {
		return nil
	}
	return err
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}
