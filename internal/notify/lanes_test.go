package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// hostChannel is a channel at a named host whose Send is a function.
type hostChannel struct {
	host string
	send func(ctx context.Context, m upstate.Message) error
}

func (c hostChannel) Send(ctx context.Context, m upstate.Message) error { return c.send(ctx, m) }
func (c hostChannel) Destination() string                               { return c.host }

// hang waits for the attempt's deadline, like a receiver that accepts and
// never answers.
func hang(ctx context.Context, _ upstate.Message) error {
	<-ctx.Done()
	return ctx.Err()
}

// sentLog records when each message was sent.
type sentLog struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (l *sentLog) send(_ context.Context, m upstate.Message) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at = map[string]time.Time{}
	}
	l.at[m.ID] = time.Now()
	return nil
}

func (l *sentLog) get(id string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.at[id]
	return t, ok
}

func subscriberMsgs(n int, at time.Time) []upstate.Message {
	var out []upstate.Message
	for i := range n {
		ch := upstate.SubscriberChannel(fmt.Sprint(i))
		out = append(out, upstate.Message{ID: ch + ":ev", Channel: ch, Stream: "inc-1", CreatedAt: at, NextAt: at, State: upstate.MessagePending})
	}
	return out
}

// A thousand subscribers on a host that never answers do not delay a page:
// it starts within the lane's poll of falling due. (Before lanes, the page
// waited for a batch of 100 subscriber attempts to time out, again and
// again: minutes.)
func TestPageStartsWhateverSubscribersHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		box := &memOutbox{msgs: subscriberMsgs(1000, start)}
		due := start.Add(3 * time.Second)
		page := upstate.Message{ID: "pd:ev:page:1", Channel: "pd", Stream: upstate.PageStream("inc-1") + "1:1", CreatedAt: start, NextAt: due, State: upstate.MessagePending}
		ops := upstate.Message{ID: "slack:ev", Channel: "slack", Stream: "inc-1", CreatedAt: start, NextAt: due, State: upstate.MessagePending}
		box.msgs = append(box.msgs, page, ops)
		var sent sentLog
		d, err := New(Options{Outbox: box, Clock: clock.Real{}, Timeout: 15 * time.Second,
			Channel: func(id string) (Channel, bool) {
				switch {
				case upstate.IsSubscriberChannel(id):
					return hostChannel{"hooks.attacker.example", hang}, true
				case id == "pd":
					return hostChannel{"events.pagerduty.com", sent.send}, true
				case id == "slack":
					return hostChannel{"hooks.slack.com", sent.send}, true
				}
				return nil, false
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); d.Run(ctx) }()
		time.Sleep(5 * time.Second) // in the bubble: fake time, passes at once
		synctest.Wait()
		for _, id := range []string{page.ID, ops.ID} {
			at, ok := sent.get(id)
			if !ok {
				t.Fatalf("%s not sent 2 s after it fell due, with subscribers hanging", id)
			}
			if delay := at.Sub(due); delay > time.Second {
				t.Errorf("%s started %v after it fell due, want within a second", id, delay)
			}
		}
		// The hanging host holds at most PerHost of the subscriber lane's slots.
		if n := countAttempted(box, upstate.LaneSubscriber); n > 4 {
			t.Errorf("%d subscriber attempts to one hanging host, want at most PerHost (4)", n)
		}
		cancel()
		<-done
	})
}

func countAttempted(box *memOutbox, lane upstate.Lane) int {
	box.mu.Lock()
	defer box.mu.Unlock()
	n := 0
	for _, m := range box.msgs {
		if m.Lane() == lane && m.Attempts > 0 {
			n++
		}
	}
	return n
}

// One subscriber's hanging host holds only its own slots: subscribers
// elsewhere are told at once.
func TestHangingHostHoldsOnlyItsSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		box := &memOutbox{msgs: subscriberMsgs(60, start)}
		var sent sentLog
		d, _ := New(Options{Outbox: box, Clock: clock.Real{}, Timeout: 15 * time.Second,
			Channel: func(id string) (Channel, bool) {
				var n int
				fmt.Sscanf(strings.TrimPrefix(id, "subscriber:"), "%d", &n)
				if n < 50 {
					return hostChannel{"slow.example", hang}, true
				}
				return hostChannel{fmt.Sprintf("ok%d.example", n), sent.send}, true
			}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); d.Run(ctx) }()
		time.Sleep(time.Second)
		synctest.Wait()
		for i := 50; i < 60; i++ {
			if _, ok := sent.get(upstate.SubscriberChannel(fmt.Sprint(i)) + ":ev"); !ok {
				t.Errorf("subscriber %d (a healthy host) not told within a second while another host hangs", i)
			}
		}
		cancel()
		<-done
	})
}

// A host that keeps failing opens its circuit: its other messages are put
// off untried, one probe tries it after BreakFor (doubled when the probe
// fails), and once it answers the rest go out.
func TestCircuitBreakerPerHost(t *testing.T) {
	clk := clock.NewFake(t0)
	box := &memOutbox{msgs: subscriberMsgs(10, t0)}
	var mu sync.Mutex
	tries, down := 0, true
	ch := hostChannel{"flaky.example", func(context.Context, upstate.Message) error {
		mu.Lock()
		defer mu.Unlock()
		tries++
		if down {
			return errors.New("connection refused")
		}
		return nil
	}}
	var circuits []int
	d, _ := New(Options{Outbox: box, Clock: clk, Jitter: func() float64 { return 0 }, PerHost: 1,
		Channel:  func(string) (Channel, bool) { return ch, true },
		Circuits: func(_ upstate.Lane, n int) { circuits = append(circuits, n) }})
	ctx := context.Background()
	d.Drain(ctx)
	if tries != 3 {
		t.Fatalf("tried %d times, want BreakAfter (3) before the circuit opens", tries)
	}
	putOff := 0
	for _, m := range box.msgs {
		if m.Attempts == 0 {
			if !m.NextAt.Equal(t0.Add(30*time.Second)) || !strings.Contains(m.LastError, "not tried: flaky.example did not answer 3 times in a row (last: connection refused)") {
				t.Errorf("%s put off until %v: %q", m.ID, m.NextAt, m.LastError)
			}
			putOff++
		}
	}
	if putOff != 7 || len(circuits) != 1 || circuits[0] != 1 {
		t.Errorf("%d put off, circuits %v; want 7 and [1]", putOff, circuits)
	}
	// After 30 s one probe; it fails, and the circuit opens for 60 s.
	clk.Advance(30 * time.Second)
	d.Drain(ctx)
	if tries != 4 {
		t.Errorf("%d tries after the open period, want one probe (4)", tries)
	}
	clk.Advance(30 * time.Second)
	d.Drain(ctx)
	if tries != 4 {
		t.Errorf("%d tries 30 s after a failed probe, want none until 60 s", tries)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	clk.Advance(30 * time.Second)
	d.Drain(ctx)
	for _, m := range box.msgs {
		if m.State != upstate.MessagePending && m.State != upstate.MessageSent {
			t.Errorf("%s = %s", m.ID, m.State)
		}
	}
	clk.Advance(time.Minute) // the first three wait their own backoff
	d.Drain(ctx)
	for _, m := range box.msgs {
		if m.State != upstate.MessageSent {
			t.Errorf("%s = %s after the host recovered, want sent", m.ID, m.State)
		}
	}
	if last := circuits[len(circuits)-1]; last != 0 {
		t.Errorf("circuits %v, want closed (0) at the end", circuits)
	}
}

// A receiver that answers, even with an error (a 410, a 503), is there:
// its circuit stays closed and each message keeps its own backoff. Only
// silence counts against a host.
func TestAnswersDoNotOpenCircuit(t *testing.T) {
	for name, answer := range map[string]error{"refusal": Answered(Permanent(errors.New("HTTP 410"))), "server error": Answered(errors.New("HTTP 503"))} {
		t.Run(name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			box := &memOutbox{msgs: subscriberMsgs(10, t0)}
			tries := 0
			ch := hostChannel{"strict.example", func(context.Context, upstate.Message) error {
				tries++
				return answer
			}}
			d, _ := New(Options{Outbox: box, Clock: clk, PerHost: 1, Channel: func(string) (Channel, bool) { return ch, true }})
			d.Drain(context.Background())
			if tries != 10 {
				t.Errorf("tried %d, want all 10 (answers are not silence)", tries)
			}
		})
	}
}

// failingOutbox refuses to record while broken, as a full disk would.
type failingOutbox struct {
	*memOutbox
	mu     sync.Mutex
	broken bool
}

func (o *failingOutbox) RecordAttempt(ctx context.Context, m upstate.Message) error {
	o.mu.Lock()
	broken := o.broken
	o.mu.Unlock()
	if broken {
		return errors.New("database or disk is full")
	}
	return o.memOutbox.RecordAttempt(ctx, m)
}

// An outcome the outbox could not keep is written again before anything
// else, and its message is not sent a second time meanwhile.
func TestUnrecordedOutcomeIsKeptNotResent(t *testing.T) {
	clk := clock.NewFake(t0)
	box := &failingOutbox{memOutbox: &memOutbox{msgs: []upstate.Message{msg("a1", "A")}}, broken: true}
	ch := &fakeChannel{}
	d, _ := New(Options{Outbox: box, Clock: clk, Channel: func(string) (Channel, bool) { return ch, true }})
	if _, err := d.Drain(context.Background()); err == nil || !strings.Contains(err.Error(), "disk is full") {
		t.Errorf("Drain = %v, want the record error", err)
	}
	d.Drain(context.Background())
	if len(ch.sent) != 1 {
		t.Fatalf("sent %v, want once while its outcome is unrecorded", ch.sent)
	}
	box.mu.Lock()
	box.broken = false
	box.mu.Unlock()
	if _, err := d.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := box.get("a1"); m.State != upstate.MessageSent || len(ch.sent) != 1 {
		t.Errorf("a1 = %s, sent %v; want recorded as sent, sent once", m.State, ch.sent)
	}
}

// A page written ahead of time (a later escalation level) starts when it
// falls due, not at the lane's next poll.
func TestPageStartsWhenDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		due := start.Add(2*time.Minute + 300*time.Millisecond)
		box := &memOutbox{msgs: []upstate.Message{{ID: "pd:ev:page:2", Channel: "pd", Stream: upstate.PageStream("inc-1") + "2:1", CreatedAt: start, NextAt: due, State: upstate.MessagePending}}}
		var sent sentLog
		d, _ := New(Options{Outbox: box, Clock: clock.Real{}, Poll: time.Minute,
			Channel: func(string) (Channel, bool) { return hostChannel{"events.pagerduty.com", sent.send}, true }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); d.Run(ctx) }()
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		if at, ok := sent.get("pd:ev:page:2"); !ok || !at.Equal(due) {
			t.Errorf("page sent at %v (%v), want when it fell due, %v, though the lane polls each minute", at, ok, due)
		}
		cancel()
		<-done
	})
}

// staleOutbox reads due messages as they were, then lets onDue run (an
// attempt finishing) before handing them over: a batch read just before
// an attempt recorded its outcome.
type staleOutbox struct {
	*memOutbox
	onDue func()
}

func (o *staleOutbox) DueMessages(ctx context.Context, q upstate.DueQuery) ([]upstate.Message, error) {
	due, err := o.memOutbox.DueMessages(ctx, q)
	if o.onDue != nil {
		o.onDue()
		o.onDue = nil
	}
	return due, err
}

// A message whose attempt finished after the lane read its batch is not
// sent a second time from that batch.
func TestStaleBatchIsNotSentAgain(t *testing.T) {
	box := &staleOutbox{memOutbox: &memOutbox{msgs: []upstate.Message{msg("a1", "A")}}}
	release := make(chan struct{})
	var mu sync.Mutex
	sends := 0
	ch := hostChannel{"hooks.example", func(context.Context, upstate.Message) error {
		mu.Lock()
		sends++
		first := sends == 1
		mu.Unlock()
		if first {
			<-release
		}
		return nil
	}}
	d, _ := New(Options{Outbox: box, Clock: clock.NewFake(t0), Channel: func(string) (Channel, bool) { return ch, true }})
	ctx := context.Background()
	var l *lane
	for _, x := range d.lanes {
		if x.name == upstate.LaneOperator {
			l = x
		}
	}
	d.fill(ctx, l) // a1's attempt starts and waits in Send
	box.onDue = func() { close(release); l.attempts.Wait() }
	d.fill(ctx, l) // reads a1 as pending, then a1 is sent and recorded
	l.attempts.Wait()
	if sends != 1 || box.get("a1").State != upstate.MessageSent {
		t.Errorf("a1 sent %d times (state %s), want once", sends, box.get("a1").State)
	}
}

// While one outcome cannot be written, the lane goes on: a page due after
// it is still sent, and the one already sent is not sent again.
func TestLaneGoesOnWhileAnOutcomeWaits(t *testing.T) {
	clk := clock.NewFake(t0)
	box := &failingOutbox{memOutbox: &memOutbox{msgs: []upstate.Message{msg("a1", "A")}}, broken: true}
	ch := &fakeChannel{}
	d, _ := New(Options{Outbox: box, Clock: clk, Channel: func(string) (Channel, bool) { return ch, true }})
	d.Drain(context.Background())
	box.memOutbox.mu.Lock()
	box.memOutbox.msgs = append(box.memOutbox.msgs, msg("b1", "B"))
	box.memOutbox.mu.Unlock()
	d.Drain(context.Background())
	if !slices.Equal(ch.sent, []string{"a1", "b1"}) {
		t.Errorf("sent %v, want a1 once and b1 although a1's outcome is not written yet", ch.sent)
	}
}

// Outsiders' URLs are grouped by site, so a thousand names under one
// wildcard domain share one site's slots and circuit.
func TestSiteOf(t *testing.T) {
	for raw, want := range map[string]string{
		"https://a1.hooks.attacker.example/x":  "attacker.example",
		"https://B2.attacker.example:8443/y":   "attacker.example",
		"https://hooks.slack.com/services/T/B": "slack.com",
		"https://status.acme.co.uk/hook":       "acme.co.uk",
		"https://203.0.113.7/hook":             "203.0.113.7",
		"https://[2001:db8::1]:443/hook":       "2001:db8::1",
		"not a url":                            "",
	} {
		if got := SiteOf(raw); got != want {
			t.Errorf("SiteOf(%q) = %q, want %q", raw, got, want)
		}
	}
}
