package check

import (
	"context"
	"net"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// tcpKind checks that a port accepts a connection.
func tcpKind() Kind {
	return Kind{Name: "tcp", New: func() Section { return &TCPSection{} }, Repeat: true}
}

// TCPSection is a tcp check's configuration.
type TCPSection struct {
	Address string `yaml:"address"` // host:port
}

// Validate implements Section: a tcp check checks itself once the common
// fields are settled (ValidateSettled).
func (s *TCPSection) Validate(Validator, *Common) {}

// ValidateSettled implements Settled.
func (s *TCPSection) ValidateSettled(v Validator, _ Common) {
	if s.Address == "" {
		v.Errorf("", "address is required for tcp checks (host:port)")
	} else if _, port, err := net.SplitHostPort(s.Address); err != nil || port == "" {
		v.Errorf("address", "%q is not host:port", s.Address)
	}
}

// Prober implements Section.
func (s *TCPSection) Prober(c Common, env Env) (Prober, error) {
	return &TCP{ID: c.ID, Address: s.Address, Timeout: c.Timeout, Clock: env.Clock, Dial: env.Dial}, nil
}

// TCP checks that a TCP connection can be opened.
type TCP struct {
	ID      string
	Address string
	Timeout time.Duration
	Clock   clock.Clock
	// Dial opens the connection; nil means the operating system's network.
	Dial DialFunc
}

var (
	_ Aimed = (*TCP)(nil)
)

// Target implements Aimed.
func (c *TCP) Target() string { return c.Address }

// Probe implements Prober.
func (c *TCP) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, c.Clock, c.Timeout)
	defer cancel()
	dial := c.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	t := startTiming(c.Clock)
	conn, err := dial(ctx, "tcp", c.Address)
	r := t.result(c.ID)
	if err != nil {
		return fail(r, describeErr(ctx, err, c.Timeout))
	}
	_ = conn.Close()
	return r
}
