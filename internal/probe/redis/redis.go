// Package redis is how redis checks reach Redis: go-redis with one
// connection per probe (RESP2, no retries, none of the client's own
// extras), made with the check's bounds and closed by the probe, and its
// errors in words that name neither the URL nor its password.
package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// Dialer opens the connections redis checks probe with.
type Dialer struct{}

var _ check.RedisDialer = Dialer{}

// Check implements check.RedisDialer.
func (Dialer) Check(u upstate.Secret) error {
	if _, err := redis.ParseURL(u.Reveal()); err != nil {
		return errors.New(parseProblem(err, u))
	}
	return nil
}

// parseProblem is why a URL does not parse, without the URL.
func parseProblem(err error, u upstate.Secret) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "does not parse: " + check.Redact(err.Error(), u.Reveal())
}

// Dial implements check.RedisDialer: a client of one connection, which
// it opens and authenticates (with a PING) before it returns.
func (Dialer) Dial(ctx context.Context, u upstate.Secret, o check.DBOptions) (check.RedisConn, error) {
	opt, err := redis.ParseURL(u.Reveal())
	if err != nil {
		return nil, errors.New(parseProblem(err, u))
	}
	opt.PoolSize, opt.MinIdleConns, opt.MaxIdleConns = 1, 0, 1
	// A probe is one try: the schedule's re-checks are the retries.
	opt.MaxRetries, opt.DialerRetries = -1, 1
	opt.ContextTimeoutEnabled = true
	if o.Timeout > 0 {
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	}
	// RESP2 (AUTH, no HELLO), no CLIENT SETINFO, no maintenance
	// notifications: the fewest commands before the PING.
	opt.Protocol = 2
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if o.Name != "" && opt.ClientName == "" {
		opt.ClientName = o.Name // CLIENT SETNAME, pipelined with AUTH
	}
	secrets := []string{u.Reveal(), opt.Password}
	// The connection is dialled here and handed to the client: the
	// client's own dialling reports its failures on standard error,
	// through a logger the whole process shares.
	nc, err := dial(ctx, opt, o.Dial)
	if err != nil {
		return nil, plain(err, secrets)
	}
	var once sync.Once
	opt.Dialer = func(context.Context, string, string) (net.Conn, error) {
		var c net.Conn
		once.Do(func() { c = nc })
		if c == nil {
			return nil, errors.New("the probe's one connection is closed")
		}
		return c, nil
	}
	c := &conn{c: redis.NewClient(opt), secrets: secrets}
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// dial opens the connection opt describes (TLS for rediss://), through
// d when it is set.
func dial(ctx context.Context, opt *redis.Options, d check.DialFunc) (net.Conn, error) {
	if d == nil {
		d = (&net.Dialer{}).DialContext
	}
	nc, err := d(ctx, opt.Network, opt.Addr)
	if err != nil {
		return nil, err
	}
	if opt.TLSConfig == nil {
		return nc, nil
	}
	tc := tls.Client(nc, opt.TLSConfig.Clone())
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// conn is one client of one connection.
type conn struct {
	c       *redis.Client
	secrets []string
}

// watch closes the client when ctx ends before the command does: go-redis
// bounds a read by the context's deadline, not by its cancellation (a
// check's clock may cancel without a deadline), and closing is what
// interrupts the read.
func (c *conn) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.c.Close() })
}

// Ping implements check.RedisConn.
func (c *conn) Ping(ctx context.Context) error {
	defer c.watch(ctx)()
	if err := c.c.Ping(ctx).Err(); err != nil {
		return plain(err, c.secrets)
	}
	return nil
}

// Info implements check.RedisConn.
func (c *conn) Info(ctx context.Context, section string) (map[string]string, error) {
	defer c.watch(ctx)()
	text, err := c.c.Info(ctx, section).Result()
	if err != nil {
		return nil, plain(err, c.secrets)
	}
	return parseInfo(text), nil
}

// parseInfo reads INFO's "key:value" lines; "# Section" lines and blank
// ones are skipped.
func parseInfo(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// Close implements check.RedisConn.
func (c *conn) Close() error { return c.c.Close() }

// plain words for a go-redis error (check.DriverError): the server's
// (WRONGPASS, NOAUTH, LOADING...), or what the network said.
func plain(err error, secrets []string) error {
	var re redis.Error
	if errors.As(err, &re) {
		return check.DriverError(err, re.Error(), "", secrets)
	}
	return check.DriverError(err, "", strings.TrimPrefix(err.Error(), "redis: "), secrets)
}
