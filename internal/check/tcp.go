package check

import (
	"context"
	"net"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// TCP checks that a TCP connection can be opened.
type TCP struct {
	ID      string
	Address string
	Timeout time.Duration
	Clock   clock.Clock
	// Dial opens the connection; nil means the operating system's network.
	Dial DialFunc
}

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
