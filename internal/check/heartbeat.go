package check

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// heartbeatKind is pinged by a job (POST /api/v1/heartbeats/{id}) and
// fails when the job falls silent.
func heartbeatKind() Kind {
	return Kind{Name: "heartbeat", New: func() Section { return &HeartbeatSection{} }, Told: true}
}

// HeartbeatSection is a heartbeat check's configuration.
type HeartbeatSection struct {
	Period time.Duration  `yaml:"period"`
	Grace  time.Duration  `yaml:"grace"`
	Token  upstate.Secret `yaml:"token"`
}

// Validate implements Section.
func (s *HeartbeatSection) Validate(v Validator, c *Common) {
	if s.Token == "" {
		v.Warnf("", "heartbeat check %q has no token: anyone who can reach the server can ping it and hide a dead job (set token: ${ENV_VAR})", c.ID)
	}
	if s.Period <= 0 {
		v.Errorf("", "period is required for heartbeat checks: how often the job calls in (e.g. 24h)")
	}
	if s.Grace < 0 {
		v.Errorf("grace", "must not be negative")
	}
	if c.Interval == 0 {
		// Look for silence often enough to notice it within a few
		// percent of the period, but at least once a minute.
		iv := s.Period / 20
		c.Interval = min(max(iv, time.Second), time.Minute)
	}
}

// PingToken implements Pinged.
func (s *HeartbeatSection) PingToken() upstate.Secret { return s.Token }

// Prober implements Section.
func (s *HeartbeatSection) Prober(c Common, env Env) (Prober, error) {
	return &Heartbeat{ID: c.ID, Period: s.Period, Grace: s.Grace, Beats: env.Beats, Started: env.Started, Clock: env.Clock}, nil
}

// Beats remembers the last heartbeat of each heartbeat check. It is shared
// by the web handler that records pings and the probers that look for
// silence; it is safe for concurrent use.
type Beats struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// NewBeats returns an empty record.
func NewBeats() *Beats { return &Beats{last: map[string]time.Time{}} }

// Beat records a heartbeat at t.
func (b *Beats) Beat(id string, t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.After(b.last[id]) {
		b.last[id] = t
	}
}

// Last returns the last heartbeat, and false if none was seen.
func (b *Beats) Last(id string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.last[id]
	return t, ok
}

// Heartbeat fails when the job has been silent longer than Period+Grace.
// Silence is measured from the last beat, or from Started for a job that
// has never called in.
type Heartbeat struct {
	ID      string
	Period  time.Duration
	Grace   time.Duration
	Beats   *Beats
	Started time.Time
	Clock   clock.Clock
}

// Probe implements Prober.
func (h *Heartbeat) Probe(context.Context) upstate.Result {
	now := h.Clock.Now()
	r := upstate.Result{CheckID: h.ID, At: now, Outcome: upstate.OutcomeOK}
	last, ok := h.Beats.Last(h.ID)
	from := last
	if !ok {
		from = h.Started
	}
	silent := now.Sub(from)
	if silent > h.Period+h.Grace {
		if !ok {
			return fail(r, fmt.Sprintf("no heartbeat received in %s (expected every %s, grace %s)", roundDur(silent), roundDur(h.Period), roundDur(h.Grace)))
		}
		return fail(r, fmt.Sprintf("no heartbeat since %s, %s ago (expected every %s, grace %s)", last.UTC().Format(time.RFC3339), roundDur(silent), roundDur(h.Period), roundDur(h.Grace)))
	}
	return r
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// PingStore keeps the last ping of each heartbeat check.
type PingStore interface {
	SaveHeartbeat(ctx context.Context, checkID string, at time.Time) error
	ListHeartbeats(ctx context.Context) (map[string]time.Time, error)
}

var errPingAuth = upstate.Errorf(upstate.EUNAUTHORIZED, "no heartbeat check with this id takes this token (send it as \"Authorization: Bearer TOKEN\")")

// Pings takes the pings of heartbeat checks' jobs: it checks the token,
// keeps the ping, and judges the check at once. Safe for concurrent use.
type Pings struct {
	store PingStore
	beats *Beats
	clock clock.Clock
	sink  Sink

	mu     sync.Mutex
	tokens map[string]upstate.Secret // by heartbeat check id; "" takes any
}

// NewPings puts the last pings kept before a restart back in beats.
func NewPings(ctx context.Context, store PingStore, beats *Beats, clk clock.Clock, sink Sink) (*Pings, error) {
	last, err := store.ListHeartbeats(ctx)
	if err != nil {
		return nil, fmt.Errorf("load heartbeats: %w", err)
	}
	for id, t := range last {
		beats.Beat(id, t)
	}
	return &Pings{store: store, beats: beats, clock: clk, sink: sink, tokens: map[string]upstate.Secret{}}, nil
}

// Configure sets the heartbeat checks and their tokens, on start and on
// every reload.
func (p *Pings) Configure(tokens map[string]upstate.Secret) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens = tokens
}

// Heartbeat records a ping of checkID carrying token; it returns once the
// ping is durable. An unknown id gets the same answer as a wrong token,
// so the answer does not tell outsiders which checks exist.
func (p *Pings) Heartbeat(ctx context.Context, checkID, token string) (time.Time, error) {
	p.mu.Lock()
	want, ok := p.tokens[checkID]
	p.mu.Unlock()
	if !ok || (want != "" && !want.Equal(token)) {
		return time.Time{}, errPingAuth
	}
	now := p.clock.Now()
	if err := p.store.SaveHeartbeat(ctx, checkID, now); err != nil {
		return time.Time{}, fmt.Errorf("save heartbeat: %w", err)
	}
	p.beats.Beat(checkID, now)
	p.sink(ctx, upstate.Result{CheckID: checkID, At: now, Outcome: upstate.OutcomeOK})
	return now, nil
}
