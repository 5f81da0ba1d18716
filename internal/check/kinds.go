package check

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// Kind is one kind of check: its name in the configuration (kind: http),
// the section of keys only it takes, and what its results are.
type Kind struct {
	Name string
	// New returns an empty section, for the configuration to decode the
	// check's own keys into, strictly: the yaml tags of its fields (and
	// of the structs within) are the keys the kind takes.
	New func() Section
	// Told is set when the results are what someone tells us (a ping, an
	// alert, a provider's feed, a number) rather than latencies we
	// measured: such checks have no latency sparkline.
	Told bool
	// Repeat is set when a probe is a request one may repeat at once
	// (http, tcp, dns): a suspect result is confirmed by a burst of them
	// (the burst key), and the check runs at its fast interval while in
	// trouble (fast_interval). Its prober should say where it goes
	// (Aimed) and, with a latency bound, what it is (Bounded).
	Repeat bool
}

// RepeatNames are the names of the kinds whose probes may be repeated.
func RepeatNames() []string {
	var names []string
	for _, k := range Kinds() {
		if k.Repeat {
			names = append(names, k.Name)
		}
	}
	return names
}

// Aimed is a prober that says where its probes go (host:port, a
// resolver): the per-host limit on burst samples is shared by every check
// aimed there.
type Aimed interface {
	Target() string
}

// Bounded is a prober with a latency bound: an answer slower than it is
// slow, and known to be as soon as the bound passes.
type Bounded interface {
	LatencyBound() time.Duration
}

// Kinds lists every check kind, in the order the configuration's
// messages name them.
//
// A new kind is one file in this package and one line here. The file
// declares a func returning its Kind (name, Told) and its section type:
// a struct whose yaml-tagged fields are the kind's keys, with
//   - Validate(v, c), reporting problems by key relative to the check
//     ("url", "expect.status[0]", "" for the check itself) and setting
//     the section's defaults and the common ones the kind wants (a zero
//     in c is unset: the configuration fills in the rest after);
//   - Prober(c, env), building the probe;
//
// and, where the kind needs them: ValidateSettled (checks against the
// common fields once final), PushedSeries (the pushed series it reads,
// kept whatever the limits), PingToken (a check that is pinged, like a
// heartbeat) and Matcher (a check told by inbound alerts). A section
// takes none of the keys every check has (id, interval, fail_after...);
// a key it shares with another kind (url, expect, prometheus) should
// mean the same there. Keys only other kinds take are refused on it,
// naming those kinds, with no list to keep; the README's check table and
// the example `upstate init` writes must name the kind and its keys
// (tests in internal/config keep them so).
func Kinds() []Kind { return slices.Clone(allKinds()) }

// allKinds is the list made once: KindOf is asked several times for
// each check loaded (600,000 lists of 18 made for 100,000 checks).
var allKinds = sync.OnceValue(func() []Kind {
	return []Kind{
		httpKind(),
		tcpKind(),
		dnsKind(),
		heartbeatKind(),
		alertKind(),
		upstreamKind(),
		metricKind(),
		quotaKind(),
		sloKind(),
		grpcKind(),
		websocketKind(),
		icmpKind(),
		smtpKind(),
		tlsKind(),
		postgresKind(),
		mysqlKind(),
		redisKind(),
		browserKind(),
	}
})

// KindOf returns the kind of that name.
func KindOf(name string) (Kind, bool) {
	for _, k := range allKinds() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// KindNames are the names of every kind, in order.
func KindNames() []string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, k.Name)
	}
	return names
}

// Section is a kind's own configuration: the keys only that kind takes.
type Section interface {
	// Validate reports what is wrong with the section and sets its
	// defaults, before the common fields are defaulted and checked: a
	// kind sets there the common defaults it wants (fail_after 1 for a
	// number, an interval from a heartbeat's period), where a zero in c
	// is unset.
	Validate(v Validator, c *Common)
	// Prober builds the check's probe from its validated configuration.
	Prober(c Common, env Env) (Prober, error)
}

// Settled is a section that checks itself against the common fields once
// they are final, after their defaults and checks: a latency bound must
// stay under the timeout.
type Settled interface {
	ValidateSettled(v Validator, c Common)
}

// PushedReader is a section whose check reads pushed series: their keys
// (SeriesKey) are kept whatever the limits on pushing new ones.
type PushedReader interface {
	PushedSeries() []string
}

// Pinged is a section whose check is pinged (POST
// /api/v1/heartbeats/{id}), and the token a ping must carry ("" for any).
type Pinged interface {
	PingToken() upstate.Secret
}

// Matched is a section whose check is told by the inbound alerts whose
// labels match.
type Matched interface {
	Matcher() (func(labels map[string]string) bool, error)
}

// Validator is how a section reports problems: by key relative to the
// check ("url", "expect.status[0]", "" for the check itself); the
// configuration adds the file, line and path.
type Validator interface {
	// Errorf reports a problem: the configuration is refused.
	Errorf(key, format string, args ...any)
	// Warnf notes something allowed but probably unwise.
	Warnf(key, format string, args ...any)
	// InboundAuth reports whether inbound alert webhooks are
	// authenticated (inbound.token or inbound.hmac_secret is set).
	InboundAuth() bool
}

// Common is what every check's configuration says, whatever its kind.
type Common struct {
	ID         string
	Name       string
	Kind       string
	Interval   time.Duration
	Timeout    time.Duration
	Components []string
	Impact     map[string]string
	DependsOn  []string

	// Deciding.
	FailAfter      int
	RecoverAfter   int
	Recheck        *Recheck // nil: the default
	RecoveryWindow time.Duration
	// Burst and FastInterval: kinds that Repeat only.
	Burst        *Burst // nil: the default
	FastInterval time.Duration
}

// Burst tunes burst confirmation: how many samples (0 turns bursts off;
// nil, the default), over how long (0, the default), and whether every
// probe takes one, not only a suspect one.
type Burst struct {
	Count  *int
	Over   time.Duration
	Always bool
}

// Recheck tunes fast confirmation: how many quick re-checks follow a
// suspect result (0 turns them off), and how far apart.
type Recheck struct {
	Count int
	Every time.Duration
}

// Env is what probers share: clients, the clock, what was pushed to us.
type Env struct {
	Clock clock.Clock
	// Client sends probes and reads feeds; Insecure is the same without
	// certificate verification (insecure_skip_verify).
	Client, Insecure *http.Client
	Beats            *Beats
	Alerts           *AlertBook
	// Started is when Upstate started: a heartbeat never seen is silent
	// since then.
	Started time.Time
	// Resolver returns the resolver that asks server ("" for the system's).
	Resolver func(server string) Resolver
	// Dial opens connections; nil means the operating system's network.
	Dial DialFunc
	// FeedError is told when an upstream check cannot read its feed.
	FeedError func(checkID string, err error)
	// Points reads pushed numbers.
	Points func(ctx context.Context, series string, from, to time.Time) ([]upstate.Point, error)
	// Location is the page's zone (anomaly baselines read time of day in it).
	Location *time.Location

	// Rewritten (nil: never) counts the history pushes a pushed series
	// has had, so what a check holds of it in memory is read again when
	// history arrives.
	Rewritten func(series string) uint64
	// Postgres, MySQL and Redis reach the database servers their kinds'
	// checks probe (internal/probe/postgres, mysql and redis).
	Postgres, MySQL SQLDialer
	Redis           RedisDialer
	// Chromium is the headless browser browser checks share.
	Chromium *Chromium
}
