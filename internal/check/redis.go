package check

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// redisKind pings Redis and reads its replication and memory.
func redisKind() Kind {
	return Kind{Name: "redis", New: func() Section { return &RedisSection{} }}
}

// RedisSection is a redis check's configuration.
type RedisSection struct {
	// DSN is a URL: redis://[user:password@]host:port[/db], rediss://
	// for TLS, or unix:///path/redis.sock.
	DSN    upstate.Secret     `yaml:"dsn"`
	Expect RedisExpectSection `yaml:"expect"`
	// MemoryAbove is a percent of maxmemory (of the machine's memory
	// when Redis has no maxmemory): more used is degraded. 0 is unset.
	MemoryAbove float64 `yaml:"memory_above"`
}

// RedisExpectSection is what a redis check's answers must look like.
type RedisExpectSection struct {
	LatencyUnder time.Duration `yaml:"latency_under"`
	// Role is master or replica (INFO replication's role).
	Role string `yaml:"role"`
	// LinkUp asks a replica's link to its master to be up.
	LinkUp bool `yaml:"link_up"`
}

// Validate implements Section: a redis check checks itself once the
// common fields are settled (ValidateSettled).
func (s *RedisSection) Validate(Validator, *Common) {}

// ValidateSettled implements Settled.
func (s *RedisSection) ValidateSettled(v Validator, c Common) {
	lower := strings.ToLower(s.DSN.Reveal())
	switch {
	case s.DSN == "":
		v.Errorf("", "dsn is required for redis checks (e.g. dsn: ${REDIS_URL})")
	case !strings.HasPrefix(lower, "redis://") && !strings.HasPrefix(lower, "rediss://") && !strings.HasPrefix(lower, "unix://"):
		v.Errorf("dsn", "is not a Redis URL (redis://:password@host:6379/0, rediss:// for TLS, or unix:///path/redis.sock); the value is not shown, as it may hold a password")
	}
	switch strings.ToLower(s.Expect.Role) {
	case "":
	case "master", "primary":
		s.Expect.Role = "master"
	case "replica", "slave":
		s.Expect.Role = "replica"
	default:
		v.Errorf("expect.role", "%q is not a role (master or replica)", s.Expect.Role)
	}
	if s.Expect.LinkUp && s.Expect.Role == "master" {
		v.Errorf("expect.link_up", "asks a replica's link to its master, and role is master")
	}
	if s.MemoryAbove < 0 || s.MemoryAbove >= 100 {
		v.Errorf("memory_above", "%v is not a percent between 0 and 100 (e.g. 90)", s.MemoryAbove)
	}
	latencyUnder(v, s.Expect.LatencyUnder, c.Timeout)
}

// Prober implements Section.
func (s *RedisSection) Prober(c Common, env Env) (Prober, error) {
	if env.Redis == nil {
		return nil, errors.New("no Redis client to probe with")
	}
	if err := env.Redis.Check(s.DSN); err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	return &Redis{ID: c.ID, DSN: s.DSN, LatencyUnder: s.Expect.LatencyUnder, Role: s.Expect.Role, LinkUp: s.Expect.LinkUp,
		MemoryAbove: s.MemoryAbove, Timeout: c.Timeout, Dialer: env.Redis, Dial: env.Dial, Clock: env.Clock}, nil
}

// RedisDialer opens connections to Redis. Its errors are in plain words
// and never hold the URL or its password.
type RedisDialer interface {
	// Check reports what is wrong with a URL, without reaching the server.
	Check(dsn upstate.Secret) error
	// Dial opens one connection and authenticates; the caller closes it.
	Dial(ctx context.Context, dsn upstate.Secret, o DBOptions) (RedisConn, error)
}

// RedisConn is one open connection to Redis.
type RedisConn interface {
	Ping(ctx context.Context) error
	// Info returns one section of INFO (replication, memory) as its
	// fields.
	Info(ctx context.Context, section string) (map[string]string, error)
	Close() error
}

// Redis pings Redis and, when asked, reads its replication and memory.
// One connection per probe, closed before Probe returns.
type Redis struct {
	ID  string
	DSN upstate.Secret // a URL
	// LatencyUnder: a slower probe (connecting and the commands) is slow.
	LatencyUnder time.Duration
	// Role, when set, is what INFO replication's role must be: master or
	// replica. LinkUp asks a replica's link to its master to be up.
	Role   string
	LinkUp bool
	// MemoryAbove: more than this percent of maxmemory used (of the
	// machine's memory without a maxmemory) is slow; 0 does not look.
	MemoryAbove float64
	Timeout     time.Duration
	Dialer      RedisDialer
	Dial        DialFunc
	Clock       clock.Clock
}

// LatencyBound implements Bounded: a probe slower than it is slow, known
// as soon as it passes.
func (c *Redis) LatencyBound() time.Duration { return c.LatencyUnder }

// Probe implements Prober.
func (c *Redis) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, c.Clock, c.Timeout)
	defer cancel()
	t := startTiming(c.Clock)
	conn, err := c.Dialer.Dial(ctx, c.DSN, DBOptions{Timeout: c.Timeout, Dial: c.Dial, Name: "upstate"})
	if err != nil {
		return fail(t.result(c.ID), "cannot connect: "+dbErr(ctx, err, c.Timeout))
	}
	defer conn.Close()
	connecting := c.Clock.Now().Sub(t.start)
	if err := conn.Ping(ctx); err != nil {
		return fail(t.result(c.ID), "PING failed: "+dbErr(ctx, err, c.Timeout))
	}
	commands := "PING"
	if c.Role != "" || c.LinkUp {
		commands = "PING and INFO"
		repl, err := conn.Info(ctx, "replication")
		if err != nil {
			return fail(t.result(c.ID), "INFO replication failed: "+dbErr(ctx, err, c.Timeout))
		}
		if msg := c.replication(repl); msg != "" {
			return fail(t.result(c.ID), msg)
		}
	}
	var slow []string
	if c.MemoryAbove > 0 {
		commands = "PING and INFO"
		mem, err := conn.Info(ctx, "memory")
		if err != nil {
			return fail(t.result(c.ID), "INFO memory failed: "+dbErr(ctx, err, c.Timeout))
		}
		if msg := c.memory(mem); msg != "" {
			slow = append(slow, msg)
		}
	}
	r := t.result(c.ID)
	if c.LatencyUnder > 0 && r.Latency >= c.LatencyUnder {
		slow = append([]string{fmt.Sprintf("slower than %s (%s)", upstate.FormatLatency(c.LatencyUnder), spent(connecting, r.Latency-connecting, commands))}, slow...)
	}
	if len(slow) > 0 {
		r.Outcome = upstate.OutcomeSlow
		r.Error = strings.Join(slow, "; ")
	}
	return r
}

// redisRole is a role as this check names it: Redis says slave.
func redisRole(role string) string {
	if role == "slave" {
		return "replica"
	}
	return role
}

// replication says what is wrong with INFO replication, "" if nothing.
func (c *Redis) replication(info map[string]string) string {
	role := redisRole(info["role"])
	if role == "" {
		return "INFO replication has no role"
	}
	if c.Role != "" && role != c.Role {
		return fmt.Sprintf("the server is a %s, expected a %s", role, c.Role)
	}
	if !c.LinkUp {
		return ""
	}
	if role != "replica" {
		return fmt.Sprintf("the server is a %s, not a replica with a link to its master", role)
	}
	if link := info["master_link_status"]; link != "up" {
		msg := "the replica's link to its master is " + link
		if link == "" {
			msg = "the replica's link to its master is not reported"
		}
		if secs, err := strconv.ParseInt(info["master_link_down_since_seconds"], 10, 64); err == nil && secs >= 0 {
			msg += " (for " + waitFor(time.Duration(secs)*time.Second) + ")"
		}
		return msg
	}
	return ""
}

// memory says whether INFO memory shows more used than MemoryAbove
// allows, "" if not (or when there is nothing to measure against).
func (c *Redis) memory(info map[string]string) string {
	used, err := strconv.ParseUint(info["used_memory"], 10, 64)
	if err != nil {
		return "INFO memory has no used_memory"
	}
	limit, of, note := uint64(0), "maxmemory", ""
	if v, err := strconv.ParseUint(info["maxmemory"], 10, 64); err == nil {
		limit = v
	}
	if limit == 0 {
		of, note = "the machine's memory", "; no maxmemory is set"
		if v, err := strconv.ParseUint(info["total_system_memory"], 10, 64); err == nil {
			limit = v
		}
	}
	if limit == 0 {
		return ""
	}
	share := float64(used) / float64(limit) * 100
	if share <= c.MemoryAbove {
		return ""
	}
	return fmt.Sprintf("%s of %s used (%s of %s%s), more than %s",
		percent(share), of, bytesOf(used), bytesOf(limit), note, percent(c.MemoryAbove))
}

// percent prints a share the way people read it: "93%", "0.4%".
func percent(p float64) string {
	if p >= 10 {
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(p, 'g', 2, 64) + "%"
}

// bytesOf prints a size in binary units, as Redis's own *_human fields
// do: "240 MiB".
func bytesOf(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, units := float64(n)/unit, "KMGTPE"
	i := 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f %ciB", v, units[i])
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}
