package redis

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/probe/probetest"
)

// These tests run against the redis-server .ci/run starts.
func serverURL(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(probetest.Server(t, "UPSTATE_TEST_REDIS_URL", "redis-server"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func with(u *url.URL, edit func(*url.URL)) string {
	c := *u
	edit(&c)
	return c.String()
}

// named counts the server's clients of that name.
func named(ctx context.Context, c *redis.Client, name string) (int, error) {
	list, err := c.ClientList(ctx).Result()
	return strings.Count(list, " name="+name+" "), err
}

func TestAnswers(t *testing.T) {
	u := serverURL(t)
	ctx := context.Background()
	// A name of the test's own: other packages' tests probe the same
	// server as "upstate".
	name := fmt.Sprintf("upstate-test-%d", time.Now().UnixNano())
	c, err := Dialer{}.Dial(ctx, upstate.Secret(u.String()), check.DBOptions{Timeout: 5 * time.Second, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	repl, err := c.Info(ctx, "replication")
	if err != nil || repl["role"] != "master" {
		t.Errorf("INFO replication = %v, %v", repl, err)
	}
	mem, err := c.Info(ctx, "memory")
	if err != nil || mem["maxmemory"] != strconv.Itoa(256<<20) || mem["used_memory"] == "" {
		t.Errorf("INFO memory = %v, %v", mem, err)
	}
	watch := redis.NewClient(mustParse(t, u.String()))
	defer watch.Close()
	if n, err := named(ctx, watch, name); n != 1 || err != nil {
		t.Errorf("clients named %s: %d, %v", name, n, err)
	}
	c.Close()
	probetest.Eventually(t, "the probe's connection closed", func(ctx context.Context) (bool, error) {
		n, err := named(ctx, watch, name)
		return n == 0, err
	})
}

func mustParse(t *testing.T, s string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// What goes wrong is said in plain words, never with the password, the
// URL or the server's address.
func TestProblemsInWords(t *testing.T) {
	u := serverURL(t)
	pw, _ := u.User.Password()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	const wrong = "not-the-password-4471"
	for _, tc := range []struct {
		name, url, want string
	}{
		{"wrong password", with(u, func(u *url.URL) { u.User = url.UserPassword("", wrong) }), "WRONGPASS invalid username-password pair or user is disabled."},
		{"no password", with(u, func(u *url.URL) { u.User = nil }), "NOAUTH Authentication required."},
		{"closed port", with(u, func(u *url.URL) { u.Host = closed }), "connect: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Dialer{}.Dial(context.Background(), upstate.Secret(tc.url), check.DBOptions{Timeout: 5 * time.Second})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, secret := range []string{pw, wrong, closed} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%q shows %q", err, secret)
				}
			}
		})
	}
	for _, bad := range []string{"redis://:" + wrong + "@cache.internal:notaport/0", "redis://:" + wrong + "@cache.internal:6379/zero", "http://:" + wrong + "@cache.internal"} {
		err := Dialer{}.Check(upstate.Secret(bad))
		if err == nil || !strings.HasPrefix(err.Error(), "does not parse: ") || strings.Contains(err.Error(), wrong) {
			t.Errorf("Check: %v", err)
		}
	}
}

// The whole check against the real server: its role, its memory share
// against a bound just under and just over it, and a server that hangs.
func TestProbe(t *testing.T) {
	u := serverURL(t)
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
	probe := func(r check.Redis) *check.Redis {
		r.ID, r.Timeout, r.Dialer, r.Clock = "cache", 3*time.Second, Dialer{}, clk
		if r.DSN == "" {
			r.DSN = upstate.Secret(u.String())
		}
		return &r
	}
	if r := probe(check.Redis{Role: "master"}).Probe(ctx); !r.OK() {
		t.Errorf("master: %+v", r)
	}
	if r := probe(check.Redis{Role: "replica"}).Probe(ctx); r.Outcome != upstate.OutcomeFail || r.Error != "the server is a master, expected a replica" {
		t.Errorf("expected a replica: %s %q", r.Outcome, r.Error)
	}
	watch := redis.NewClient(mustParse(t, u.String()))
	defer watch.Close()
	mem, err := watch.InfoMap(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	used, _ := strconv.ParseFloat(mem["Memory"]["used_memory"], 64)
	share := used / float64(256<<20) * 100
	if r := probe(check.Redis{MemoryAbove: share * 4}).Probe(ctx); !r.OK() {
		t.Errorf("memory under %.2f%%: %+v", share*4, r)
	}
	r := probe(check.Redis{MemoryAbove: share / 4}).Probe(ctx)
	if r.Outcome != upstate.OutcomeSlow || !strings.Contains(r.Error, " of maxmemory used (") || !strings.HasSuffix(r.Error, " of 256 MiB), more than "+fmt.Sprintf("%.2g%%", share/4)) {
		t.Errorf("memory over %.2f%%: %s %q", share/4, r.Outcome, r.Error)
	}

	proxy := probetest.NewProxy(t, u.Host)
	held := probe(check.Redis{DSN: upstate.Secret(with(u, func(u *url.URL) { u.Host = proxy.Addr() }))})
	if r := held.Probe(ctx); !r.OK() {
		t.Fatalf("through the proxy: %+v", r)
	}
	proxy.Hold()
	done := make(chan upstate.Result, 1)
	go func() { done <- held.Probe(ctx) }()
	probetest.Eventually(t, "the probe's timer", func(context.Context) (bool, error) { return clk.Pending() > 0, nil })
	clk.Advance(3 * time.Second)
	if r := <-done; r.Outcome != upstate.OutcomeFail || r.Error != "cannot connect: timed out after 3.00 s" {
		t.Errorf("hung: %s %q", r.Outcome, r.Error)
	}
	proxy.Refuse()
	if r := held.Probe(ctx); r.Outcome != upstate.OutcomeFail || r.Error != "cannot connect: connection refused" {
		t.Errorf("refused: %s %q", r.Outcome, r.Error)
	}
}
