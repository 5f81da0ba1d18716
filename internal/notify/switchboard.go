package notify

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/oncall"
)

// Configured is the channels a configuration describes, compiled: built
// once per start or reload.
type Configured struct {
	Channels map[string]Channel
	Routes   []Route
	Order    []string          // channel ids in configuration order
	Kinds    map[string]string // channel id → kind
	// Subscriptions routes public news to the confirmed subscribers; off
	// when the configuration offers no way to subscribe.
	Subscriptions bool
	// Links signs pages' acknowledgement links; nil for pages without one.
	Links *Links
	// Test is what a test send says, and how long it may take.
	Test TestSample
}

// TestSample is what `upstate notify test` and the test button send: a
// sample on the page's first component.
type TestSample struct {
	PageName, Component, ComponentName string
	Timeout                            time.Duration
}

// Switchboard is what routes events and reaches channels, as one value
// swapped whole whenever a part changes: the configured channels and
// their routes (on reload), the subscribers and their channels (when one
// subscribes, confirms or leaves), and the on-call directory and
// policies (on reload, and when an override is added or removed). The
// incident engine routes through it (Route) and the dispatcher finds
// channels in it (Channel); neither calls back into whoever feeds it.
type Switchboard struct {
	mu      sync.Mutex // serialises changes
	cur     atomic.Pointer[board]
	held    int    // Holds not yet released; guarded by mu
	pending *board // the picture changes make while held; guarded by mu
}

// board is one picture; never changed once published.
type board struct {
	conf     Configured
	dir      oncall.Directory
	policies []oncall.Policy
	subs     []upstate.Subscriber
	subChans map[string]Channel // by channel id (upstate.SubscriberChannel)
	router   *Router
}

// NewSwitchboard returns a switchboard with nothing configured.
func NewSwitchboard() *Switchboard {
	s := &Switchboard{}
	s.cur.Store(s.build(board{}))
	return s
}

// build makes the router of a picture. Must be called with s.mu held, or
// before s is shared.
func (s *Switchboard) build(b board) *board {
	var pager *Pager
	if len(b.policies) > 0 {
		pager = &Pager{Directory: b.dir, Policies: b.policies, Links: b.conf.Links}
	}
	var subs func() []upstate.Subscriber
	if b.conf.Subscriptions {
		list := b.subs
		subs = func() []upstate.Subscriber { return list }
	}
	b.router = NewRouter(b.conf.Routes, pager, subs)
	return &b
}

// swap publishes a changed copy of the current picture, or keeps it for
// the release of a Hold.
func (s *Switchboard) swap(change func(b *board)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := s.cur.Load()
	if s.pending != nil {
		base = s.pending
	}
	b := *base
	change(&b)
	if s.held > 0 {
		s.pending = s.build(b)
		return
	}
	s.cur.Store(s.build(b))
}

// Hold gathers the changes made until release into one picture, published
// when the last Hold is released: a reload changes the channels, who is
// on call and the subscribers' channels together, and Route and Channel
// must never see some of it new and some old.
func (s *Switchboard) Hold() (release func()) {
	s.mu.Lock()
	s.held++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.held--; s.held == 0 && s.pending != nil {
				s.cur.Store(s.pending)
				s.pending = nil
			}
		})
	}
}

// Configure replaces the configured channels and routes.
func (s *Switchboard) Configure(c Configured) {
	s.swap(func(b *board) { b.conf = c })
}

// SetOnCall replaces the on-call directory and escalation policies (an
// oncall.Roster's Changed).
func (s *Switchboard) SetOnCall(dir oncall.Directory, policies []oncall.Policy) {
	s.swap(func(b *board) { b.dir, b.policies = dir, slices.Clone(policies) })
}

// SetSubscribers replaces the subscribers the router tells and their
// channels, by channel id; the caller must not change either afterwards.
func (s *Switchboard) SetSubscribers(list []upstate.Subscriber, chans map[string]Channel) {
	s.swap(func(b *board) { b.subs, b.subChans = list, chans })
}

// Route is the incident engine's Route: the messages an event owes.
func (s *Switchboard) Route(ev upstate.Event) upstate.Owed { return s.cur.Load().router.Route(ev) }

// Channel is the dispatcher's Channel: a configured channel, or a
// subscriber's, by id.
func (s *Switchboard) Channel(id string) (Channel, bool) {
	b := s.cur.Load()
	if upstate.IsSubscriberChannel(id) {
		ch, ok := b.subChans[id]
		return ch, ok
	}
	ch, ok := b.conf.Channels[id]
	return ch, ok
}

// Configured is the configured channels as they are now; its maps and
// slices are shared, to be read only.
func (s *Switchboard) Configured() Configured { return s.cur.Load().conf }
