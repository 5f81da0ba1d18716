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

// dnsKind looks a name up and checks the answers.
func dnsKind() Kind {
	return Kind{Name: "dns", New: func() Section { return &DNSSection{} }, Repeat: true}
}

// DNSSection is a dns check's configuration.
type DNSSection struct {
	Host       string           `yaml:"host"`
	RecordType string           `yaml:"record_type"`
	Server     string           `yaml:"server"` // ip or ip:port; "" for the system resolver
	Expect     DNSExpectSection `yaml:"expect"`
}

// DNSExpectSection is what a dns check's answers must look like.
type DNSExpectSection struct {
	Answers      []string      `yaml:"answers"`
	LatencyUnder time.Duration `yaml:"latency_under"`
}

var recordTypes = []string{"A", "AAAA", "CNAME", "MX", "TXT", "NS"}

// Validate implements Section: a dns check checks itself once the common
// fields are settled (ValidateSettled).
func (s *DNSSection) Validate(Validator, *Common) {}

// ValidateSettled implements Settled.
func (s *DNSSection) ValidateSettled(v Validator, c Common) {
	if s.Host == "" {
		v.Errorf("", "host is required for dns checks: the name to look up")
	}
	if s.RecordType == "" {
		s.RecordType = "A"
	}
	s.RecordType = strings.ToUpper(s.RecordType)
	if !slices.Contains(recordTypes, s.RecordType) {
		v.Errorf("record_type", "%q is not supported (one of %s)", s.RecordType, strings.Join(recordTypes, ", "))
	}
	if s.Server != "" {
		if _, _, err := net.SplitHostPort(s.Server); err != nil {
			if net.ParseIP(s.Server) == nil {
				v.Errorf("server", "%q is not an address (e.g. 1.1.1.1 or 127.0.0.1:5353)", s.Server)
			} else {
				s.Server = net.JoinHostPort(s.Server, "53")
			}
		}
	}
	latencyUnder(v, s.Expect.LatencyUnder, c.Timeout)
}

// Prober implements Section.
func (s *DNSSection) Prober(c Common, env Env) (Prober, error) {
	return &DNS{ID: c.ID, Host: s.Host, RecordType: s.RecordType, Answers: s.Expect.Answers,
		LatencyUnder: s.Expect.LatencyUnder, Timeout: c.Timeout, Resolver: env.Resolver(s.Server), Server: s.Server, Clock: env.Clock}, nil
}

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
	// Server is the resolver's address ("" for the system's), as Target says.
	Server string
	Clock  clock.Clock
}

var (
	_ Aimed   = (*DNS)(nil)
	_ Bounded = (*DNS)(nil)
)

// Target implements Aimed: the resolver asked.
func (c *DNS) Target() string {
	if c.Server == "" {
		return "the system resolver"
	}
	return c.Server
}

// LatencyBound implements Bounded.
func (c *DNS) LatencyBound() time.Duration { return c.LatencyUnder }

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
