package notify

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// Outbox is what the dispatcher reads and records.
type Outbox interface {
	DueMessages(ctx context.Context, q upstate.DueQuery) ([]upstate.Message, error)
	// NextDue is when the lane's next pending message falls due after
	// now; false when none is waiting.
	NextDue(ctx context.Context, lane upstate.Lane, now time.Time) (time.Time, bool, error)
	RecordAttempt(ctx context.Context, m upstate.Message) error
}

// Claimer is an outbox shared by several instances: a message is claimed
// before its attempt, so only one instance sends it (store.Outbox's
// ClaimMessage).
type Claimer interface {
	ClaimMessage(ctx context.Context, id, claimant string, now, until time.Time) (bool, error)
}

// Destined is a channel that says where it delivers, so that a receiver
// that hangs or fails holds only its own share of the dispatcher: attempts
// in flight and the circuit breaker are per destination host. A channel
// without it is its own destination.
type Destined interface {
	Channel
	// Destination is the host (and port) the channel connects to; never
	// anything secret (webhook URLs carry tokens in their paths).
	Destination() string
}

// HostOf is the host of a URL, for Destination; empty when raw is not
// a URL with a host.
func HostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// SiteOf is the site of a URL: its registrable domain (example.com for
// hooks.a.example.com, by the public suffix list) or its IP address, for
// the Destination of URLs outsiders choose: a thousand names under one
// wildcard domain are one site, and share its slots and its circuit.
func SiteOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if _, err := netip.ParseAddr(host); err == nil {
		return host
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return site
}

// Options configure a Dispatcher.
type Options struct {
	Outbox Outbox
	// Channel finds a channel by id, configured or a subscriber's (the
	// send stage's source, usually Switchboard.Channel); false when there
	// is none (it was removed from the configuration).
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
	// Concurrency bounds the attempts in flight in the page lane and in
	// the operator lane, each. Default 8.
	Concurrency int
	// SubscriberConcurrency bounds the attempts in flight in the
	// subscriber lane. Default 16.
	SubscriberConcurrency int
	// PerDestination bounds the attempts in flight to one channel.
	// Default 2.
	PerDestination int
	// PerHost bounds the attempts in flight to one destination host in a
	// lane. Default 4.
	PerHost int
	// BreakAfter is how many attempts in a row a host may go unanswered
	// (a timeout, a refused or broken connection) before its circuit
	// opens: its messages are then put off, untried, for BreakFor, doubled
	// each time the circuit opens again (up to MaxBackoff, or BreakFor if
	// that is longer); after that one attempt probes it. A host that
	// answers, even with an error, keeps its circuit closed: each message
	// then waits its own backoff. Defaults 3, and 30s or MaxBackoff if
	// shorter.
	BreakAfter int
	BreakFor   time.Duration
	// Claimant, set in a cluster, is this instance: each attempt first
	// claims its message (the Outbox must be a Claimer) for ClaimFor, so
	// no other instance sends it meanwhile, and one that dies mid-send
	// leaves it to another once the claim runs out (at least once, as
	// across a restart). Empty alone: nothing is claimed.
	Claimant string
	// ClaimFor is how long a claim lasts: longer than an attempt, and
	// what a message waits after its sender died. Default twice the
	// Timeout and 5 s.
	ClaimFor time.Duration
	// Poll is how often each lane looks for due messages when neither
	// woken (whoever writes messages calls Wake) nor waiting for one it
	// knows falls due sooner: a safety net, for messages written by
	// another process. Default 5s.
	Poll time.Duration
	// Jitter returns a number in [0, 1); default math/rand.
	Jitter func() float64
	// Observe is told of each attempt's outcome: "sent", "retry",
	// "failed" or "silenced".
	Observe func(m upstate.Message, outcome string)
	// Circuits is told how many destination hosts of a lane have their
	// circuit open, whenever that changes.
	Circuits func(lane upstate.Lane, open int)
	// Muted is the mute stage: whether a silence mutes the message now,
	// and which (usually Silences.Muted); nil mutes nothing.
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
	}{{&o.GiveUpAfter, 24 * time.Hour}, {&o.Timeout, 15 * time.Second}, {&o.Backoff, 5 * time.Second}, {&o.MaxBackoff, 30 * time.Minute},
		{&o.Poll, 5 * time.Second}}
	for _, x := range defaults {
		if *x.d <= 0 {
			*x.d = x.v
		}
	}
	if o.ClaimFor <= 0 {
		o.ClaimFor = 2*o.Timeout + 5*time.Second
	}
	if _, ok := o.Outbox.(Claimer); o.Claimant != "" && !ok {
		return errors.New("notify: Options.Claimant needs an Outbox that claims messages")
	}
	if o.BreakFor <= 0 {
		o.BreakFor = min(30*time.Second, o.MaxBackoff)
	}
	counts := []struct {
		n *int
		v int
	}{{&o.Concurrency, 8}, {&o.SubscriberConcurrency, 16}, {&o.PerDestination, 2}, {&o.PerHost, 4}, {&o.BreakAfter, 3}}
	for _, x := range counts {
		if *x.n <= 0 {
			*x.n = x.v
		}
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Observe == nil {
		o.Observe = func(upstate.Message, string) {}
	}
	if o.Circuits == nil {
		o.Circuits = func(upstate.Lane, int) {}
	}
	if o.Muted == nil {
		o.Muted = func(upstate.Message, time.Time) (string, bool) { return "", false }
	}
	return nil
}

// Dispatcher delivers due messages from the outbox. Each lane (pages, the
// team's channels, subscribers) has its own loop and its own attempts in
// flight, so a page never waits behind a subscriber's webhook; within a
// lane, a receiver that hangs or fails holds at most PerDestination
// attempts, its host at most PerHost, and a failing host's circuit
// breaker puts its messages off untried instead of spending a timeout on
// each.
type Dispatcher struct {
	opts   Options
	stages stages
	lanes  []*lane
}

// lane is one lane's delivery state. fillMu serialises fills (Run's loop
// and Drain); mu guards the rest, which finished attempts also update.
type lane struct {
	name  upstate.Lane
	slots int
	wake  chan struct{}

	fillMu sync.Mutex
	cursor int64 // Seq the next fill reads after, so every due message gets its turn

	mu       sync.Mutex
	busy     int
	inflight map[string]bool
	perDest  map[string]int
	perHost  map[string]int
	hosts    map[string]*breaker
	open     int // hosts whose circuit is open
	// unrecorded are outcomes the outbox failed to keep (a full or locked
	// disk): they are written again before anything else, and their
	// messages are not sent again meanwhile.
	unrecorded map[string]upstate.Message
	// done are the messages whose attempts finished since the lane last
	// read the outbox: the batch it read may show them pending still, and
	// they must not be sent again.
	done     map[string]bool
	errs     []error
	attempts sync.WaitGroup
}

// New returns a dispatcher; Run starts it.
func New(opts Options) (*Dispatcher, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	d := &Dispatcher{opts: opts, stages: newStages(opts)}
	for _, name := range upstate.Lanes() {
		slots := opts.Concurrency
		if name == upstate.LaneSubscriber {
			slots = opts.SubscriberConcurrency
		}
		d.lanes = append(d.lanes, &lane{name: name, slots: slots, wake: make(chan struct{}, 1), inflight: map[string]bool{},
			perDest: map[string]int{}, perHost: map[string]int{}, hosts: map[string]*breaker{}, unrecorded: map[string]upstate.Message{}, done: map[string]bool{}})
	}
	return d, nil
}

// Wake asks Run to look for due messages now (a change just wrote some).
func (d *Dispatcher) Wake() {
	for _, l := range d.lanes {
		l.poke()
	}
}

func (l *lane) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then returns once attempts in flight
// have finished (they are cancelled with ctx and stay pending).
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, l := range d.lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.runLane(ctx, l)
		}()
	}
	wg.Wait()
}

func (d *Dispatcher) runLane(ctx context.Context, l *lane) {
	defer l.attempts.Wait()
	timer := d.opts.Clock.NewTimer(d.opts.Poll)
	defer timer.Stop()
	for {
		if _, err := d.fill(ctx, l); err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("delivering from the outbox", "component", "notify", "lane", l.name, "err", err)
		}
		// Sleep until the next message falls due (an escalation level, a
		// retry), so it starts on time rather than at the next poll.
		wait := d.opts.Poll
		now := d.opts.Clock.Now()
		if next, ok, err := d.opts.Outbox.NextDue(ctx, l.name, now); err == nil && ok {
			wait = min(wait, max(next.Sub(now), time.Millisecond))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-l.wake:
		}
	}
}

// Drain attempts every message due now, in every lane, until none is left
// due and none is in flight; it returns how many attempts it made.
// Messages that become due as others are sent (the next in a stream) are
// attempted in the same call; those a host's open circuit puts off are not.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		var errs []error
		for _, l := range d.lanes {
			k, err := d.fill(ctx, l)
			n += k
			errs = append(errs, err)
		}
		for _, l := range d.lanes {
			l.attempts.Wait()
			l.mu.Lock()
			errs = append(errs, l.errs...)
			l.errs = nil
			l.mu.Unlock()
		}
		total += n
		if err := errors.Join(errs...); err != nil {
			return total, err
		}
		if n == 0 || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// Reading the outbox: a page of due messages at a time, and at most
// maxScan of them per fill, so a lane stuck behind thousands of messages
// for one busy host still gets round to the others (the cursor carries on
// from there next time).
const (
	duePage = 100
	maxScan = 1000
)

// fill starts attempts for due messages of the lane while it has free
// slots, and returns how many it started (or settled at once: silenced,
// or for a channel no longer configured).
func (d *Dispatcher) fill(ctx context.Context, l *lane) (int, error) {
	l.fillMu.Lock()
	defer l.fillMu.Unlock()
	// Outcomes not written yet, and outcomes that cannot be written now,
	// hold back only their own messages: the rest of the lane goes on
	// (an escalation must not wait for the disk to have room for a
	// subscriber's "sent"). The first such error is returned.
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	keep(d.stages.record.rewrite(ctx, l))
	l.forget(d.opts.Clock.Now())
	started, scanned := 0, 0
	wrapped := l.cursor == 0
	for scanned < maxScan && l.free() {
		now := d.opts.Clock.Now()
		l.mu.Lock()
		clear(l.done)
		l.mu.Unlock()
		batch, err := d.opts.Outbox.DueMessages(ctx, upstate.DueQuery{Lane: l.name, Now: now, After: l.cursor, Limit: duePage, Claimant: d.opts.Claimant})
		if err != nil {
			keep(err)
			return started, first
		}
		for _, m := range batch {
			if !l.free() {
				return started, first // m is read again first next time
			}
			l.cursor = m.Seq
			scanned++
			n, err := d.consider(ctx, l, m, now)
			started += n
			keep(err)
		}
		if len(batch) < duePage {
			l.cursor = 0
			if wrapped {
				break
			}
			wrapped = true
		}
	}
	return started, first
}

// forget drops breakers of hosts nobody has tried for an hour past their
// open period, so hosts of given-up messages are not kept for ever.
func (l *lane) forget(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for host, b := range l.hosts {
		if !b.probing && l.perHost[host] == 0 && now.Sub(b.at) > time.Hour && now.Sub(b.until) > time.Hour {
			delete(l.hosts, host)
		}
	}
}

func (l *lane) free() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.busy < l.slots
}

// consider settles, starts, puts off or skips one due message: mute,
// then find its channel, then the lane's limits and the host's breaker,
// then an attempt.
func (d *Dispatcher) consider(ctx context.Context, l *lane, m upstate.Message, now time.Time) (int, error) {
	l.mu.Lock()
	_, unrecorded := l.unrecorded[m.ID]
	busy := l.inflight[m.ID] || unrecorded || l.done[m.ID]
	l.mu.Unlock()
	if busy {
		return 0, nil
	}
	if sm, muted := d.stages.mute.mute(m, now); muted {
		return 1, d.stages.record.write(ctx, sm)
	}
	ch, host, err := d.stages.send.find(m)
	if err != nil {
		return 1, d.stages.record.keep(ctx, l, d.stages.classify.classify(m, err))
	}
	l.mu.Lock()
	if l.perDest[m.Channel] >= d.opts.PerDestination || l.perHost[host] >= d.opts.PerHost {
		l.mu.Unlock()
		return 0, nil // its turn comes when one of those finishes
	}
	b := l.hosts[host]
	probe := false
	switch b.state(now, d.opts.BreakAfter) {
	case circuitOpen:
		until, failures, last := b.until, b.failures, b.last
		l.mu.Unlock()
		return 0, d.stages.record.write(ctx, d.stages.classify.putOff(m, host, until, failures, last))
	case circuitProbing:
		if b.probing {
			l.mu.Unlock()
			return 0, nil // one attempt tries the host; the rest wait for its answer
		}
		b.probing, probe = true, true
	}
	l.busy++
	l.inflight[m.ID] = true
	l.perDest[m.Channel]++
	l.perHost[host]++
	l.attempts.Add(1)
	l.mu.Unlock()
	go d.attempt(ctx, l, m, ch, host, probe)
	return 1, nil
}

// claim takes the message for this instance's attempt, in a cluster;
// false when another instance has it or it is pending no more.
func (d *Dispatcher) claim(ctx context.Context, l *lane, m upstate.Message) bool {
	if d.opts.Claimant == "" {
		return true
	}
	now := d.opts.Clock.Now()
	ok, err := d.opts.Outbox.(Claimer).ClaimMessage(ctx, m.ID, d.opts.Claimant, now, now.Add(d.opts.ClaimFor))
	if err != nil && ctx.Err() == nil {
		d.opts.Logger.Warn("could not claim a message to send it; trying again later", "component", "notify", "lane", l.name, "message", m.ID, "err", err)
	}
	return ok && err == nil
}

// attempt sends one message, classifies and records the outcome, feeds
// the host's breaker and frees its slot.
func (d *Dispatcher) attempt(ctx context.Context, l *lane, m upstate.Message, ch Channel, host string, probe bool) {
	defer l.attempts.Done()
	claimed := d.claim(ctx, l, m)
	var err error
	if claimed {
		err = d.stages.send.send(ctx, ch, m)
	}
	// Not sent, for now: shutting down (the message stays pending for
	// next time), or another instance has it.
	shutdown := !claimed || (err != nil && ctx.Err() != nil)
	var rerr error
	if !shutdown {
		rerr = d.stages.record.keep(ctx, l, d.stages.classify.classify(m, err))
	}
	l.mu.Lock()
	l.busy--
	delete(l.inflight, m.ID)
	l.done[m.ID] = true
	if l.perDest[m.Channel]--; l.perDest[m.Channel] <= 0 {
		delete(l.perDest, m.Channel)
	}
	if l.perHost[host]--; l.perHost[host] <= 0 {
		delete(l.perHost, host)
	}
	if !shutdown {
		d.observeHost(l, host, err)
	} else if b := l.hosts[host]; probe && b != nil {
		b.probing = false // the next attempt probes the host instead
	}
	if rerr != nil {
		l.errs = append(l.errs, rerr)
	}
	l.mu.Unlock()
	l.poke()
}

// circuit is a destination host's breaker state.
type circuit int

const (
	circuitClosed  circuit = iota // attempts go through
	circuitOpen                   // messages are put off untried
	circuitProbing                // one attempt tries the host again
)

// breaker counts one host's unanswered attempts in a row. A host that
// answers (even with a refusal or a 5xx: the receiver is there) closes it.
type breaker struct {
	failures int
	opened   int       // times it opened since the host last answered
	at       time.Time // of the last failure
	until    time.Time // open until then
	probing  bool      // the probe is in flight
	last     string    // the last failure, for the messages put off
}

func (b *breaker) state(now time.Time, after int) circuit {
	switch {
	case b == nil || b.failures < after:
		return circuitClosed
	case now.Before(b.until):
		return circuitOpen
	}
	return circuitProbing
}

// observeHost feeds an attempt's outcome to its host's breaker. Must be
// called with l.mu held.
func (d *Dispatcher) observeHost(l *lane, host string, err error) {
	b := l.hosts[host]
	_, after := Classify(err, d.opts.Clock.Now())
	if !NoAnswer(err) {
		if b != nil {
			if b.opened > 0 {
				d.opts.Logger.Info("notification receiver answers again; circuit closed", "component", "notify", "lane", l.name, "host", host)
			}
			delete(l.hosts, host)
			d.countOpen(l)
		}
		return
	}
	if b == nil {
		b = &breaker{}
		l.hosts[host] = b
	}
	b.failures++
	b.probing = false
	b.last = truncate(err.Error())
	now := d.opts.Clock.Now()
	b.at = now
	if b.failures < d.opts.BreakAfter || now.Before(b.until) {
		return
	}
	// Open, or open again after a failed probe, for twice as long each time.
	wait := min(d.opts.BreakFor<<min(b.opened, 20), max(d.opts.MaxBackoff, d.opts.BreakFor))
	b.opened++
	b.until = now.Add(max(wait, after))
	d.opts.Logger.Warn("notification receiver failing; circuit open: its messages wait untried", "component", "notify", "lane", l.name, "host", host,
		"failures", b.failures, "until", b.until, "err", err)
	d.countOpen(l)
}

// countOpen reports how many hosts of the lane have an open circuit. Must
// be called with l.mu held.
func (d *Dispatcher) countOpen(l *lane) {
	n := 0
	for _, b := range l.hosts {
		if b.failures >= d.opts.BreakAfter {
			n++
		}
	}
	if n != l.open {
		l.open = n
		d.opts.Circuits(l.name, n)
	}
}
