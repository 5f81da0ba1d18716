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
	Dialer  *net.Dialer
}

// Probe implements Prober.
func (c *TCP) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, c.Clock, c.Timeout)
	defer cancel()
	d := c.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	t := startTiming(c.Clock)
	conn, err := d.DialContext(ctx, "tcp", c.Address)
	r := t.result(c.ID)
	if err != nil {
		return fail(r, describeErr(ctx, err, c.Timeout))
	}
	_ = conn.Close()
	return r
}
