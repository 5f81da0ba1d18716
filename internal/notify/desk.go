package notify

import (
	"context"
	"errors"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// DeskStore is what the desk reads of the outbox and changes in it.
type DeskStore interface {
	CountMessages(ctx context.Context) ([]store.MessageCount, error)
	ListMessages(ctx context.Context, f store.MessageFilter) ([]upstate.Message, error)
	// RetryMessage puts a failed message back, due at now, with note
	// before its last error; ENOTFOUND unless it is failed.
	RetryMessage(ctx context.Context, id string, now time.Time, note string) error
}

// DeskOptions configure a Desk.
type DeskOptions struct {
	Store DeskStore
	Board *Switchboard
	Now   func() time.Time
	// Wake tells the dispatcher a message is due (Dispatcher.Wake).
	Wake func()
}

// Desk is the outbox as operators use it: each configured channel with
// its counts, the messages that failed, a failed message tried again, and
// a sample sent straight to a channel.
type Desk struct {
	opts DeskOptions
}

// NewDesk returns the desk.
func NewDesk(opts DeskOptions) (*Desk, error) {
	if opts.Store == nil || opts.Board == nil || opts.Now == nil || opts.Wake == nil {
		return nil, errors.New("notify: DeskOptions.Store, Board, Now and Wake are required")
	}
	return &Desk{opts: opts}, nil
}

// Channels lists the configured channels with their outbox counts, and
// the most recent failed messages.
func (d *Desk) Channels(ctx context.Context) ([]upstate.ChannelStatus, []upstate.Message, error) {
	counts, err := d.opts.Store.CountMessages(ctx)
	if err != nil {
		return nil, nil, err
	}
	conf := d.opts.Board.Configured()
	var out []upstate.ChannelStatus
	for _, id := range conf.Order {
		cs := upstate.ChannelStatus{ID: id, Kind: conf.Kinds[id]}
		for _, c := range counts {
			if c.Channel != id {
				continue
			}
			switch c.State {
			case upstate.MessagePending:
				cs.Pending = c.N
			case upstate.MessageFailed:
				cs.Failed = c.N
			case upstate.MessageSent:
				cs.Sent = c.N
			}
		}
		out = append(out, cs)
	}
	failed, err := d.opts.Store.ListMessages(ctx, store.MessageFilter{State: upstate.MessageFailed, Limit: 50})
	return out, failed, err
}

// Retry puts a failed message back in the outbox, due now.
func (d *Desk) Retry(ctx context.Context, id string) error {
	if err := d.opts.Store.RetryMessage(ctx, id, d.opts.Now(), "retried by hand after: "); err != nil {
		if upstate.ErrorCode(err) == upstate.ENOTFOUND {
			return upstate.Errorf(upstate.ENOTFOUND, "no failed message %q", id)
		}
		return err
	}
	d.opts.Wake()
	return nil
}

// Test sends a sample message straight to a channel, bypassing the
// outbox, and says how it went: the admin UI's and API's test button.
func (d *Desk) Test(ctx context.Context, id string) error {
	ch, ok := d.opts.Board.Channel(id)
	if !ok {
		return upstate.Errorf(upstate.ENOTFOUND, "no channel %q in the configuration", id)
	}
	return SendSample(ctx, ch, id, d.opts.Board.Configured().Test, d.opts.Now())
}

// SendSample sends a channel the test sample now; a refusal is EINVALID,
// quoting the receiver's answer.
func SendSample(ctx context.Context, ch Channel, id string, t TestSample, now time.Time) error {
	ev := Sample(t.PageName, t.Component, t.ComponentName, now)
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	m := upstate.Message{ID: id + ":" + ev.ID, Channel: id, Stream: "test", Event: ev, CreatedAt: now, NextAt: now}
	if err := ch.Send(ctx, m); err != nil {
		return upstate.Errorf(upstate.EINVALID, "channel %s: %v", id, err)
	}
	return nil
}
