// Package events is the live feed of the operators' console: a broker
// that fans results, condition changes and incident changes out to the
// Server-Sent Events streams of /api/v1/events. Publishing never waits:
// each subscriber has a bounded buffer, and one that falls behind is
// dropped (its stream ends; the browser reconnects and reloads what it
// missed), so probing and paging never wait on a browser.
//
// It is its own package rather than part of web because app publishes
// into it from the result pipeline and the engine's routing, and web
// only reads from it; neither should import the other for that.
package events

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// The event types.
const (
	TypeResult   = "result"
	TypeState    = "state"
	TypeIncident = "incident"
)

// Event is one item of the feed. Check is the check it concerns ("" for
// an incident); Data is what the stream sends as JSON.
type Event struct {
	Seq   uint64
	Type  string
	Check string
	Data  any
	// Result is the result a result event tells of, for callers in the
	// process (run-now waits for it); streams send Data.
	Result *upstate.Result
}

// Result is a result event's data.
type Result struct {
	Check      string    `json:"check"`
	At         time.Time `json:"at"`
	Outcome    string    `json:"outcome"`
	LatencyMS  float64   `json:"latency_ms"`
	StatusCode int       `json:"status_code,omitempty"`
	Evidence   string    `json:"evidence"`
	Error      string    `json:"error,omitempty"`
}

// ResultOf is the result event of r.
func ResultOf(r upstate.Result) Event {
	r.Warnings, r.Artifact, r.Provider = nil, nil, nil
	return Event{Type: TypeResult, Check: r.CheckID, Result: &r, Data: Result{Check: r.CheckID, At: r.At, Outcome: string(r.Outcome),
		LatencyMS: float64(r.Latency.Microseconds()) / 1000, StatusCode: r.StatusCode, Evidence: r.Evidence(), Error: r.Error}}
}

// State is a state event's data: a check's confirmed condition changed.
type State struct {
	Check    string    `json:"check"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Describe string    `json:"describe"` // "failing", "slow", "up"
	Since    time.Time `json:"since"`
	Evidence string    `json:"evidence"`
}

// StateOf is the state event of t.
func StateOf(t upstate.Transition) Event {
	return Event{Type: TypeState, Check: t.To.CheckID, Data: State{Check: t.To.CheckID, From: t.From.State.String(), To: t.To.State.String(),
		Describe: t.To.Describe(), Since: t.To.Since, Evidence: t.To.Evidence}}
}

// Incident is an incident event's data.
type Incident struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Change is how it moved: created, updated, acknowledged, resolved,
	// reopened, reminder.
	Change string `json:"change"`
}

// IncidentOf is the incident event of an engine event; false for an
// event that is not an incident's (a maintenance's).
func IncidentOf(e upstate.Event) (Event, bool) {
	change, ok := strings.CutPrefix(string(e.Type), "incident.")
	if !ok || e.Incident.ID == "" {
		return Event{}, false
	}
	return Event{Type: TypeIncident, Data: Incident{ID: e.Incident.ID, Name: e.Incident.Name, Status: string(e.Incident.Status), Change: change}}, true
}

// Options configure a Broker; zero values take the defaults.
type Options struct {
	Clock clock.Clock
	// Buffer is how many events a subscriber may fall behind by before it
	// is dropped. Default 64.
	Buffer int
	// MaxStreams caps the streams open at once; MaxPerPrincipal those of
	// one person or token. Defaults 100 and 5.
	MaxStreams, MaxPerPrincipal int
	// KeepAlive is how often an idle stream sends a comment, so proxies
	// and browsers keep it open. Default 25s.
	KeepAlive time.Duration
}

// Broker fans events out to subscribers.
type Broker struct {
	opts Options
	mu   sync.Mutex
	seq  uint64
	subs map[*Sub]struct{}
	per  map[string]int // open streams by principal
	// closed is set by Close: no new subscriber, and every one ended.
	closed bool
	// n is len(subs), read without the lock by Listening.
	n atomic.Int64
}

// New returns a broker.
func New(opts Options) *Broker {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 100
	}
	if opts.MaxPerPrincipal <= 0 {
		opts.MaxPerPrincipal = 5
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 25 * time.Second
	}
	return &Broker{opts: opts, subs: map[*Sub]struct{}{}, per: map[string]int{}}
}

// Filter picks the events a subscriber wants.
type Filter struct {
	// Check, when set, keeps that check's events (and every incident's).
	Check string
	// Types, when set, keeps only events of these types.
	Types []string
}

func (f Filter) wants(e Event) bool {
	if f.Check != "" && e.Check != "" && e.Check != f.Check {
		return false
	}
	return len(f.Types) == 0 || slices.Contains(f.Types, e.Type)
}

// Sub is one subscriber: a stream, or a caller waiting for a result.
type Sub struct {
	b         *Broker
	principal string
	filter    Filter
	c         chan Event
	// ended is closed when the subscriber is dropped, closed or the
	// broker stops; why says which.
	ended chan struct{}
	why   string // set under b.mu before ended is closed
}

// Subscribe adds a subscriber for principal (the person or token: at
// most MaxPerPrincipal each), to the events f picks. ETOOMANY when the
// caps are reached, EUNAVAILABLE once the broker has stopped.
func (b *Broker) Subscribe(principal string, f Filter) (*Sub, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return nil, upstate.Errorf(upstate.EUNAVAILABLE, "the server is stopping")
	case len(b.subs) >= b.opts.MaxStreams:
		return nil, upstate.Later(upstate.ETOOMANY, 30*time.Second, "too many live streams are open (%d); try again later", b.opts.MaxStreams)
	case principal != "" && b.per[principal] >= b.opts.MaxPerPrincipal:
		return nil, upstate.Later(upstate.ETOOMANY, 30*time.Second, "you have %d live streams open already; close one (another tab?) first", b.opts.MaxPerPrincipal)
	}
	s := &Sub{b: b, principal: principal, filter: f, c: make(chan Event, b.opts.Buffer), ended: make(chan struct{})}
	b.subs[s] = struct{}{}
	b.n.Store(int64(len(b.subs)))
	if principal != "" {
		b.per[principal]++
	}
	return s, nil
}

// Await adds a subscriber to one check's events for a caller in the
// process waiting for its next result (run-now), outside the caps on
// streams: what bounds those callers is run-now's own limit.
func (b *Broker) Await(check string) (*Sub, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, upstate.Errorf(upstate.EUNAVAILABLE, "the server is stopping")
	}
	s := &Sub{b: b, filter: Filter{Check: check, Types: []string{TypeResult}}, c: make(chan Event, b.opts.Buffer), ended: make(chan struct{})}
	b.subs[s] = struct{}{}
	b.n.Store(int64(len(b.subs)))
	return s, nil
}

// Publish hands e to every subscriber that wants it, without waiting: a
// subscriber whose buffer is full is dropped.
func (b *Broker) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.seq++
	e.Seq = b.seq
	for s := range b.subs {
		if !s.filter.wants(e) {
			continue
		}
		select {
		case s.c <- e:
		default:
			b.end(s, "dropped: fell behind")
		}
	}
}

// end removes s; b.mu must be held.
func (b *Broker) end(s *Sub, why string) {
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	b.n.Store(int64(len(b.subs)))
	if s.principal != "" {
		if b.per[s.principal]--; b.per[s.principal] <= 0 {
			delete(b.per, s.principal)
		}
	}
	s.why = why
	close(s.ended)
}

// Close ends every subscriber and refuses new ones: the server is
// stopping, and open streams must not hold up its shutdown.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		b.end(s, "server stopping")
	}
}

// Listening reports, without waiting for the lock, whether anyone
// subscribes: the result pipeline builds no event for no one (at 100,000
// checks, an allocation per result matters).
func (b *Broker) Listening() bool { return b.n.Load() > 0 }

// Streams is how many subscribers are open.
func (b *Broker) Streams() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Events delivers the subscriber's events, in order.
func (s *Sub) Events() <-chan Event { return s.c }

// Ended is closed once the subscriber is dropped, closed or the broker
// stops.
func (s *Sub) Ended() <-chan struct{} { return s.ended }

// Why says why it ended ("" while it has not).
func (s *Sub) Why() string {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.why
}

// Close unsubscribes.
func (s *Sub) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.end(s, "closed")
}

// Stream writes the subscriber's events to w as Server-Sent Events,
// flushing after each, and a keep-alive comment whenever KeepAlive passes
// (on the broker's clock) without one, until done is closed (the client
// went), the subscriber ends, or a write fails. It closes the subscriber.
func (s *Sub) Stream(done <-chan struct{}, w io.Writer, flush func() error) error {
	defer s.Close()
	// The retry hint: how long a browser waits before reconnecting.
	if _, err := io.WriteString(w, "retry: 5000\n\n"); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	t := s.b.opts.Clock.NewTimer(s.b.opts.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-t.C():
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return err
			}
		case e := <-s.c:
			if err := write(w, e); err != nil {
				return err
			}
		case <-s.ended:
			// What was delivered before the end is still sent.
			for len(s.c) > 0 {
				if err := write(w, <-s.c); err != nil {
					return err
				}
			}
			_, _ = fmt.Fprintf(w, ": %s\n\n", s.Why())
			return flush()
		}
		if err := flush(); err != nil {
			return err
		}
		t.Reset(s.b.opts.KeepAlive)
	}
}

func write(w io.Writer, e Event) error {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return err
	}
	// JSON has no raw newlines, so one data line carries it.
	_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data)
	return err
}
