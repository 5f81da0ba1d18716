package events

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate"
)

var t0 = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

func TestSubscriberGetsEventsInOrder(t *testing.T) {
	b := New(Options{})
	all, err := b.Subscribe("ann", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	api, _ := b.Subscribe("bob", Filter{Check: "api"})
	states, _ := b.Subscribe("cat", Filter{Types: []string{TypeState}})
	b.Publish(ResultOf(upstate.Result{CheckID: "api", At: t0, Outcome: upstate.OutcomeFail, Latency: 230 * time.Millisecond, StatusCode: 500}))
	b.Publish(ResultOf(upstate.Result{CheckID: "web", At: t0, Outcome: upstate.OutcomeOK}))
	b.Publish(StateOf(upstate.Transition{From: upstate.Condition{CheckID: "api", State: upstate.StateUp}, To: upstate.Condition{CheckID: "api", State: upstate.StateDown, Since: t0}}))
	in, ok := IncidentOf(upstate.Event{Type: upstate.EventIncidentCreated, Incident: upstate.Incident{ID: "inc1", Name: "API down", Status: upstate.Investigating}})
	if !ok || in.Data.(Incident).Change != "created" {
		t.Fatalf("incident event = %+v", in)
	}
	b.Publish(in)
	if _, ok := IncidentOf(upstate.Event{Type: upstate.EventMaintenanceStarted}); ok {
		t.Error("a maintenance's event is an incident event")
	}
	types := func(s *Sub, n int) string {
		var out []string
		for range n {
			e := <-s.Events()
			out = append(out, e.Type+":"+e.Check)
		}
		return strings.Join(out, " ")
	}
	if got, want := types(all, 4), "result:api result:web state:api incident:"; got != want {
		t.Errorf("all: %s, want %s", got, want)
	}
	// The check filter keeps that check's events and every incident's.
	if got, want := types(api, 3), "result:api state:api incident:"; got != want {
		t.Errorf("api: %s, want %s", got, want)
	}
	if got, want := types(states, 1), "state:api"; got != want || len(states.Events()) != 0 {
		t.Errorf("states: %s, want %s only", got, want)
	}
}

func TestSlowSubscriberIsDroppedWithoutBlocking(t *testing.T) {
	b := New(Options{Buffer: 2})
	slow, _ := b.Subscribe("ann", Filter{})
	fast, _ := b.Subscribe("bob", Filter{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			b.Publish(Event{Type: TypeResult, Check: "api"})
			<-fast.Events() // fast keeps up
		}
	}()
	<-done // the publisher never waited on slow, who reads nothing
	select {
	case <-slow.Ended():
	default:
		t.Fatal("the slow subscriber was not dropped")
	}
	if why := slow.Why(); !strings.Contains(why, "fell behind") {
		t.Errorf("why = %q", why)
	}
	select {
	case <-fast.Ended():
		t.Error("the fast subscriber was dropped")
	default:
	}
	if n := b.Streams(); n != 1 {
		t.Errorf("%d streams open, want 1", n)
	}
}

func TestStreamCaps(t *testing.T) {
	b := New(Options{MaxStreams: 3, MaxPerPrincipal: 2})
	a1, _ := b.Subscribe("ann", Filter{})
	if _, err := b.Subscribe("ann", Filter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe("ann", Filter{}); upstate.ErrorCode(err) != upstate.ETOOMANY {
		t.Errorf("a third stream for ann: %v, want too many", err)
	}
	if _, err := b.Subscribe("bob", Filter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe("cat", Filter{}); upstate.ErrorCode(err) != upstate.ETOOMANY {
		t.Errorf("a fourth stream: %v, want too many", err)
	}
	a1.Close()
	if _, err := b.Subscribe("ann", Filter{}); err != nil {
		t.Errorf("after one closed: %v", err)
	}
	b.Close()
	if _, err := b.Subscribe("dan", Filter{}); upstate.ErrorCode(err) != upstate.EUNAVAILABLE {
		t.Errorf("after Close: %v, want unavailable", err)
	}
}

// syncBuffer is a bytes.Buffer two goroutines may use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStreamWritesEventsAndKeepAlives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Options{KeepAlive: 25 * time.Second}) // the real clock: synthetic time in the bubble
		sub, _ := b.Subscribe("ann", Filter{})
		var out syncBuffer
		gone := make(chan struct{})
		ended := make(chan error)
		go func() { ended <- sub.Stream(gone, &out, func() error { return nil }) }()
		synctest.Wait()
		b.Publish(ResultOf(upstate.Result{CheckID: "api", At: t0, Outcome: upstate.OutcomeOK, Latency: 42 * time.Millisecond}))
		synctest.Wait()
		if got := out.String(); !strings.Contains(got, "id: 1\nevent: result\ndata: {\"check\":\"api\",") || strings.Contains(got, "keep-alive") {
			t.Fatalf("after one event: %q", got)
		}
		time.Sleep(24 * time.Second)
		synctest.Wait()
		if strings.Contains(out.String(), "keep-alive") {
			t.Fatal("keep-alive before the interval")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := strings.Count(out.String(), ": keep-alive\n\n"); n != 1 {
			t.Fatalf("%d keep-alives after 25 s idle, want 1: %q", n, out.String())
		}
		// The server stopping ends the stream.
		b.Close()
		if err := <-ended; err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(out.String(), ": server stopping\n\n") {
			t.Errorf("end: %q", out.String())
		}
	})
}

func TestStreamEndsWhenClientGoes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Options{})
		sub, _ := b.Subscribe("ann", Filter{})
		gone := make(chan struct{})
		ended := make(chan error)
		go func() { ended <- sub.Stream(gone, io.Discard, func() error { return nil }) }()
		synctest.Wait()
		close(gone)
		if err := <-ended; err != nil {
			t.Fatal(err)
		}
		if n := b.Streams(); n != 0 {
			t.Errorf("%d streams after the client went, want 0", n)
		}
	})
}
