package notify

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

// orderedChannel records every send, by whom, and holds each send until
// the other instance has had time to look at the same messages.
type orderedChannel struct {
	mu   sync.Mutex
	by   map[string][]string // message id → the instances that sent it
	seq  map[string][]string // stream → message ids in the order sent
	name string
	log  *orderedChannel
}

func (c *orderedChannel) Send(_ context.Context, m upstate.Message) error {
	l := c.log
	l.mu.Lock()
	defer l.mu.Unlock()
	l.by[m.ID] = append(l.by[m.ID], c.name)
	l.seq[m.Stream] = append(l.seq[m.Stream], m.ID)
	return nil
}

// Two instances delivering from one outbox send each message once, and
// each stream in order: an attempt claims its message first, and the
// other instance passes over what is claimed and what waits behind it.
func TestTwoInstancesSendEachMessageOnce(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "upstate.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const streams, each = 4, 15
	var msgs []upstate.Message
	for s := range streams {
		for i := range each {
			m := msg(fmt.Sprintf("s%d-%02d", s, i), fmt.Sprintf("inc%d", s))
			m.Event = upstate.Event{ID: m.ID, Type: upstate.EventIncidentUpdated}
			msgs = append(msgs, m)
		}
	}
	if err := db.EnqueueMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	log := &orderedChannel{by: map[string][]string{}, seq: map[string][]string{}}
	clk := clock.NewFake(t0.Add(time.Minute))
	var ds []*Dispatcher
	for _, name := range []string{"a", "b"} {
		ch := &orderedChannel{name: name, log: log}
		d, err := New(Options{Outbox: db, Clock: clk, Channel: func(string) (Channel, bool) { return ch, true }, Claimant: name,
			PerDestination: 4, PerHost: 4})
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	// Both drain at once until everything is sent.
	for round := 0; round < 4*streams*each; round++ {
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.Drain(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		log.mu.Lock()
		n := len(log.by)
		log.mu.Unlock()
		if n == len(msgs) {
			break
		}
	}
	if len(log.by) != len(msgs) {
		t.Fatalf("%d of %d messages sent", len(log.by), len(msgs))
	}
	senders := map[string]int{}
	for id, by := range log.by {
		if len(by) != 1 {
			t.Errorf("%s sent by %v", id, by)
		}
		senders[by[0]]++
	}
	for s := range streams {
		got := log.seq[fmt.Sprintf("inc%d", s)]
		for i, id := range got {
			if want := fmt.Sprintf("s%d-%02d", s, i); id != want {
				t.Fatalf("stream inc%d sent out of order: %v", s, got)
			}
		}
	}
	if senders["a"] == 0 || senders["b"] == 0 {
		t.Logf("one instance sent everything (%v): allowed, as long as once", senders)
	}
}

// A claimant needs an outbox that claims.
func TestClaimantNeedsAClaimer(t *testing.T) {
	_, err := New(Options{Outbox: &memOutbox{}, Clock: clock.NewFake(t0), Channel: func(string) (Channel, bool) { return nil, false }, Claimant: "a"})
	if err == nil {
		t.Fatal("a claimant over an outbox that cannot claim was accepted")
	}
}
