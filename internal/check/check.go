// Package check holds the probers: what asks a service whether it works.
// A Prober knows nothing of incidents or storage; it returns one Result.
package check

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// Prober observes a check once. It must return within the timeout it was
// built with and must not panic; the failure is in the Result.
type Prober interface {
	Probe(ctx context.Context) upstate.Result
}

// ProberFunc adapts a function to Prober.
type ProberFunc func(ctx context.Context) upstate.Result

// Probe implements Prober.
func (f ProberFunc) Probe(ctx context.Context) upstate.Result { return f(ctx) }

// timing measures a probe on the injected clock.
type timing struct {
	clock clock.Clock
	start time.Time
}

func startTiming(c clock.Clock) timing { return timing{clock: c, start: c.Now()} }

func (t timing) result(id string) upstate.Result {
	return upstate.Result{CheckID: id, At: t.start, Latency: t.clock.Now().Sub(t.start), Outcome: upstate.OutcomeOK}
}

// fail marks r failed with a message in plain words.
func fail(r upstate.Result, msg string) upstate.Result {
	r.Outcome = upstate.OutcomeFail
	r.Error = msg
	return r
}

// describeErr turns a network error into plain words without the noise of
// wrapped op/addr prefixes where a shorter phrase says it better.
func describeErr(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		return "timed out after " + upstate.FormatLatency(timeout)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out after " + upstate.FormatLatency(timeout)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "DNS: no such host " + dnsErr.Name
		}
		return "DNS: " + dnsErr.Err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
	case strings.Contains(msg, "connection reset"):
		return "connection reset by peer"
	case strings.Contains(msg, "no route to host"):
		return "no route to host"
	}
	return msg
}
