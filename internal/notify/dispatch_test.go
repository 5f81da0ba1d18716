package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// memOutbox is a hand-written fake with the store's semantics: the
// oldest pending message of each channel's stream is due.
type memOutbox struct {
	mu   sync.Mutex
	msgs []upstate.Message
}

func (o *memOutbox) DueMessages(_ context.Context, q upstate.DueQuery) ([]upstate.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []upstate.Message
	seen := map[string]bool{}
	for i := range o.msgs {
		m := &o.msgs[i]
		if m.Seq == 0 {
			m.Seq = int64(i + 1)
		}
		key := m.Channel + "/" + m.Stream
		if m.State != upstate.MessagePending || seen[key] {
			continue
		}
		seen[key] = true
		if m.Lane() == q.Lane && m.Seq > q.After && !m.NextAt.After(q.Now) && len(out) < q.Limit {
			out = append(out, *m)
		}
	}
	return out, nil
}

func (o *memOutbox) NextDue(_ context.Context, lane upstate.Lane, now time.Time) (time.Time, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var next time.Time
	for _, m := range o.msgs {
		if m.State == upstate.MessagePending && m.Lane() == lane && m.NextAt.After(now) && (next.IsZero() || m.NextAt.Before(next)) {
			next = m.NextAt
		}
	}
	return next, !next.IsZero(), nil
}

func (o *memOutbox) RecordAttempt(_ context.Context, m upstate.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.msgs {
		if o.msgs[i].ID == m.ID {
			if o.msgs[i].State != upstate.MessagePending {
				return upstate.Errorf(upstate.ECONFLICT, "message %s is %s already", m.ID, o.msgs[i].State)
			}
			o.msgs[i] = m
			return nil
		}
	}
	return upstate.Errorf(upstate.ENOTFOUND, "no message %q", m.ID)
}

// set changes a message in place, as another writer would (an
// acknowledgement cancelling a page).
func (o *memOutbox) set(id string, state upstate.MessageState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.msgs {
		if o.msgs[i].ID == id {
			o.msgs[i].State = state
		}
	}
}

func (o *memOutbox) get(id string) upstate.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range o.msgs {
		if m.ID == id {
			return m
		}
	}
	return upstate.Message{}
}

// fakeChannel answers with the errors queued for each message id, then nil.
type fakeChannel struct {
	mu      sync.Mutex
	answers map[string][]error
	sent    []string
}

func (c *fakeChannel) Send(_ context.Context, m upstate.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, m.ID)
	if q := c.answers[m.ID]; len(q) > 0 {
		c.answers[m.ID] = q[1:]
		return q[0]
	}
	return nil
}

var t0 = time.Date(2026, 8, 17, 15, 42, 0, 0, time.UTC)

func msg(id, stream string) upstate.Message {
	return upstate.Message{ID: id, Channel: "ops", Stream: stream, CreatedAt: t0, NextAt: t0, State: upstate.MessagePending}
}

func newDispatcher(t *testing.T, box *memOutbox, ch *fakeChannel, clk *clock.Fake) (*Dispatcher, *[]string) {
	var outcomes []string
	var mu sync.Mutex
	d, err := New(Options{Outbox: box, Clock: clk, Jitter: func() float64 { return 0.5 }, GiveUpAfter: time.Hour,
		Channel: func(id string) (Channel, bool) {
			if id == "ops" {
				return ch, true
			}
			return nil, false
		},
		Observe: func(m upstate.Message, o string) {
			mu.Lock()
			outcomes = append(outcomes, m.Channel+":"+o)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	return d, &outcomes
}

func TestDispatchOrderRetryAndGiveUp(t *testing.T) {
	clk := clock.NewFake(t0)
	box := &memOutbox{msgs: []upstate.Message{msg("a1", "A"), msg("a2", "A"), msg("b1", "B"), msg("c1", "C"), msg("d1", "D")}}
	box.msgs = append(box.msgs, upstate.Message{ID: "x1", Channel: "gone", Stream: "X", CreatedAt: t0, NextAt: t0, State: upstate.MessagePending})
	ch := &fakeChannel{answers: map[string][]error{
		"a1": {errors.New("connection refused")},
		"b1": {Answered(RetryAfter(errors.New("HTTP 429"), 2*time.Minute))},
		"c1": {Permanent(errors.New("HTTP 400 invalid_payload"))},
		"d1": slices.Repeat([]error{Answered(errors.New("HTTP 503"))}, 100),
	}}
	d, outcomes := newDispatcher(t, box, ch, clk)
	ctx := context.Background()
	if _, err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// a1 failed and waits its backoff (5s, jittered to 3.75s); a2 waits behind it.
	a1 := box.get("a1")
	if a1.State != upstate.MessagePending || a1.Attempts != 1 || !a1.NextAt.Equal(t0.Add(3750*time.Millisecond)) || a1.LastError != "connection refused" {
		t.Errorf("a1 = %+v", a1)
	}
	if box.get("a2").Attempts != 0 {
		t.Error("a2 was sent before a1: order within a stream broken")
	}
	if b1 := box.get("b1"); !b1.NextAt.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("b1 next at %v, want Retry-After's 2m", b1.NextAt)
	}
	if c1 := box.get("c1"); c1.State != upstate.MessageFailed || c1.Attempts != 1 {
		t.Errorf("c1 (a 400) = %+v, want failed at once", c1)
	}
	if x1 := box.get("x1"); x1.State != upstate.MessageFailed || !strings.Contains(x1.LastError, `channel "gone" is no longer configured`) {
		t.Errorf("x1 = %+v", x1)
	}
	clk.Advance(4 * time.Second)
	d.Drain(ctx)
	if a1, a2 := box.get("a1"), box.get("a2"); a1.State != upstate.MessageSent || a2.State != upstate.MessageSent || !a1.SentAt.Equal(t0.Add(4*time.Second)) {
		t.Errorf("after backoff: a1 %+v, a2 %+v", a1, a2)
	}
	i1, i2 := slices.Index(ch.sent, "a1"), slices.Index(ch.sent, "a2")
	if i1 < 0 || i2 < i1 {
		t.Errorf("sent order %v", ch.sent)
	}
	// d1 keeps failing: retried with growing waits until the give-up window.
	for range 40 {
		clk.Advance(5 * time.Minute)
		d.Drain(ctx)
	}
	d1 := box.get("d1")
	if d1.State != upstate.MessageFailed || !strings.Contains(d1.LastError, "gave up after") || !strings.Contains(d1.LastError, "HTTP 503") {
		t.Errorf("d1 = %+v", d1)
	}
	if d1.Attempts < 5 || d1.Attempts > 12 {
		t.Errorf("d1 was tried %d times in an hour; backoff should double from 5s", d1.Attempts)
	}
	if b1 := box.get("b1"); b1.State != upstate.MessageSent {
		t.Errorf("b1 = %+v", b1)
	}
	if !slices.Contains(*outcomes, "ops:retry") || !slices.Contains(*outcomes, "ops:failed") || !slices.Contains(*outcomes, "gone:failed") {
		t.Errorf("outcomes = %v", *outcomes)
	}
}

func TestBackoffBounds(t *testing.T) {
	for _, jitter := range []float64{0, 0.999} {
		d, _ := New(Options{Outbox: &memOutbox{}, Channel: func(string) (Channel, bool) { return nil, false }, Clock: clock.NewFake(t0),
			Jitter: func() float64 { return jitter }})
		prev := time.Duration(0)
		for n := 1; n <= 20; n++ {
			b := d.stages.classify.delay(n)
			full := min(5*time.Second*time.Duration(1<<(n-1)), 30*time.Minute)
			if n > 12 {
				full = 30 * time.Minute
			}
			if b < full/2 || b > full {
				t.Errorf("jitter %v: attempt %d waits %v, want within [%v, %v]", jitter, n, b, full/2, full)
			}
			if b < prev {
				t.Errorf("attempt %d waits less than the one before", n)
			}
			prev = b
		}
	}
}

func TestDoClassifies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("ok"))
		case "/slow-down":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		case "/date":
			w.Header().Set("Date", t0.Format(http.TimeFormat))
			w.Header().Set("Retry-After", t0.Add(90*time.Second).Format(http.TimeFormat))
			w.WriteHeader(503)
		case "/date-only":
			// No Date of the receiver's: the date is read against our clock.
			w.Header()["Date"] = nil
			w.Header().Set("Retry-After", t0.Add(10*time.Minute).Format(http.TimeFormat))
			w.WriteHeader(503)
		case "/timeout":
			w.WriteHeader(408)
		default:
			w.WriteHeader(atoi(r.URL.Path[1:]))
			fmt.Fprint(w, `{"error":"no_service"}`)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		path      string
		ok        bool
		permanent bool
		after     time.Duration
	}{
		{"/ok", true, false, 0}, {"/slow-down", false, false, 7 * time.Second}, {"/date", false, false, 90 * time.Second}, {"/date-only", false, false, 4 * time.Minute},
		{"/timeout", false, false, 0}, {"/500", false, false, 0}, {"/400", false, true, 0}, {"/404", false, true, 0}, {"/410", false, true, 0}, {"/302", false, true, 0},
	} {
		req, _ := http.NewRequest("POST", srv.URL+tc.path, nil)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		_, _, err := Do(context.Background(), client, req)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.path, err)
			continue
		}
		if perm, after := Classify(err, t0.Add(6*time.Minute)); perm != tc.permanent || after != tc.after {
			t.Errorf("%s: permanent %v after %v, want %v %v (%v)", tc.path, perm, after, tc.permanent, tc.after, err)
		}
		if err != nil && NoAnswer(err) {
			t.Errorf("%s: an HTTP status counted as no answer (it would open the host's circuit)", tc.path)
		}
	}
	// A network error keeps the URL's secret path out of the message.
	srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/services/T000/B000/SECRETTOKEN", nil)
	_, _, err := Do(context.Background(), http.DefaultClient, req)
	if perm, _ := Classify(err, t0); err == nil || perm || strings.Contains(err.Error(), "SECRETTOKEN") || !NoAnswer(err) {
		t.Errorf("network error: %v (permanent %v, no answer %v)", err, perm, NoAnswer(err))
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

func TestSilencedMessagesAreNotSent(t *testing.T) {
	clk := clock.NewFake(t0)
	box := &memOutbox{msgs: []upstate.Message{msg("a1", "A"), msg("a2", "A")}}
	ch := &fakeChannel{}
	d, _ := New(Options{Outbox: box, Clock: clk, Channel: func(string) (Channel, bool) { return ch, true },
		Muted: func(m upstate.Message, _ time.Time) (string, bool) { return "s1 (DB upgrade)", m.ID == "a1" }})
	d.Drain(context.Background())
	if a1 := box.get("a1"); a1.State != upstate.MessageSilenced || a1.LastError != "silenced: s1 (DB upgrade)" {
		t.Errorf("a1 = %+v", a1)
	}
	if box.get("a2").State != upstate.MessageSent || len(ch.sent) != 1 {
		t.Errorf("a2 waited behind a silenced message: %v", ch.sent)
	}
}

// httpChannel posts to a URL with Do, like the real channels.
type httpChannel struct{ url string }

func (c httpChannel) Send(ctx context.Context, _ upstate.Message) error {
	req, _ := http.NewRequest("POST", c.url, nil)
	_, _, err := Do(ctx, http.DefaultClient, req)
	return err
}

func TestHangingReceiverIsRetried(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	clk := clock.NewFake(t0)
	box := &memOutbox{msgs: []upstate.Message{msg("a1", "A")}}
	d, _ := New(Options{Outbox: box, Clock: clk, Timeout: 50 * time.Millisecond, Jitter: func() float64 { return 0 },
		Channel: func(string) (Channel, bool) { return httpChannel{srv.URL}, true }})
	d.Drain(context.Background())
	a1 := box.get("a1")
	if a1.State != upstate.MessagePending || a1.Attempts != 1 || !strings.Contains(a1.LastError, "deadline exceeded") || !a1.NextAt.After(t0) {
		t.Errorf("after a hanging receiver: %+v", a1)
	}
}
