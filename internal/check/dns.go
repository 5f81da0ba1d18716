package check

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// Resolver is what a DNS check asks; *net.Resolver satisfies it, and tests
// give a fake.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupCNAME(ctx context.Context, host string) (string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupNS(ctx context.Context, name string) ([]*net.NS, error)
}

var _ Resolver = (*net.Resolver)(nil)

// NewResolver returns a resolver that asks server (host:port) directly,
// or the system's resolver when server is empty.
func NewResolver(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}
}

// DNS looks a name up and checks the answers.
type DNS struct {
	ID         string
	Host       string
	RecordType string // A, AAAA, CNAME, MX, TXT, NS
	// Answers, when set, must all be among the answers (compared without
	// case or a trailing dot).
	Answers      []string
	LatencyUnder time.Duration
	Timeout      time.Duration
	Resolver     Resolver
	Clock        clock.Clock
}

// Probe implements Prober.
func (c *DNS) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, c.Clock, c.Timeout)
	defer cancel()
	t := startTiming(c.Clock)
	got, err := c.lookup(ctx)
	r := t.result(c.ID)
	if err != nil {
		return fail(r, describeErr(ctx, err, c.Timeout))
	}
	if len(got) == 0 {
		return fail(r, fmt.Sprintf("no %s records for %s", c.RecordType, c.Host))
	}
	for _, want := range c.Answers {
		if !slices.Contains(got, canon(want)) {
			return fail(r, fmt.Sprintf("%s %s answered %s, missing %s", c.Host, c.RecordType, strings.Join(got, ", "), want))
		}
	}
	if c.LatencyUnder > 0 && r.Latency >= c.LatencyUnder {
		r.Outcome = upstate.OutcomeSlow
		r.Error = "slower than " + upstate.FormatLatency(c.LatencyUnder)
	}
	return r
}

func canon(s string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), ".")) }

func (c *DNS) lookup(ctx context.Context) ([]string, error) {
	var out []string
	switch c.RecordType {
	case "A", "AAAA":
		ips, err := c.Resolver.LookupIPAddr(ctx, c.Host)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			if (ip.IP.To4() != nil) == (c.RecordType == "A") {
				out = append(out, ip.IP.String())
			}
		}
	case "CNAME":
		name, err := c.Resolver.LookupCNAME(ctx, c.Host)
		if err != nil {
			return nil, err
		}
		out = append(out, canon(name))
	case "MX":
		mxs, err := c.Resolver.LookupMX(ctx, c.Host)
		if err != nil {
			return nil, err
		}
		for _, mx := range mxs {
			out = append(out, canon(mx.Host))
		}
	case "TXT":
		txts, err := c.Resolver.LookupTXT(ctx, c.Host)
		if err != nil {
			return nil, err
		}
		out = append(out, txts...)
	case "NS":
		nss, err := c.Resolver.LookupNS(ctx, c.Host)
		if err != nil {
			return nil, err
		}
		for _, ns := range nss {
			out = append(out, canon(ns.Host))
		}
	default:
		return nil, fmt.Errorf("record type %s is not supported", c.RecordType)
	}
	return out, nil
}
