package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// icmpKind pings a host and judges the share of packets lost.
func icmpKind() Kind {
	return Kind{Name: "icmp", New: func() Section { return &ICMPSection{} }}
}

// ICMPSection is an icmp check's configuration.
type ICMPSection struct {
	Host string `yaml:"host"` // a name or an address
	// Count is how many echo requests a probe sends (default 5).
	Count int `yaml:"count"`
	// PartialLoss and DownLoss are shares of packets lost, in percent: at
	// PartialLoss or more the check is degraded (a partial outage, unless
	// impact.degraded says otherwise), at DownLoss or more it fails.
	PartialLoss *float64 `yaml:"partial_loss"`
	DownLoss    *float64 `yaml:"down_loss"`
}

// ICMP defaults.
const (
	DefaultPingCount   = 5
	DefaultPartialLoss = 20.0
	DefaultDownLoss    = 100.0
)

// Validate implements Section. Packet loss between the thresholds is a
// degraded result, which the check's components show as a partial
// outage unless impact.degraded says otherwise.
func (s *ICMPSection) Validate(v Validator, c *Common) {
	if s.Host == "" {
		v.Errorf("", "host is required for icmp checks: the name or address to ping")
	} else if strings.ContainsAny(s.Host, " /:") && net.ParseIP(s.Host) == nil {
		v.Errorf("host", "%q is not a host name or an IP address", s.Host)
	}
	if s.Count == 0 {
		s.Count = DefaultPingCount
	}
	if s.Count < 1 || s.Count > 100 {
		v.Errorf("count", "%d is out of range (1 to 100)", s.Count)
	}
	if s.PartialLoss == nil {
		s.PartialLoss = ptr(DefaultPartialLoss)
	}
	if s.DownLoss == nil {
		s.DownLoss = ptr(DefaultDownLoss)
	}
	if p := *s.PartialLoss; p <= 0 || p > 100 {
		v.Errorf("partial_loss", "%g is out of range (a percentage above 0, at most 100)", p)
	}
	if d := *s.DownLoss; d <= 0 || d > 100 {
		v.Errorf("down_loss", "%g is out of range (a percentage above 0, at most 100)", d)
	} else if p := *s.PartialLoss; p > 0 && p <= 100 && d < p {
		v.Errorf("down_loss", "%g is under partial_loss %g", d, *s.PartialLoss)
	}
	if c.Impact == nil {
		c.Impact = map[string]string{}
	}
	if _, ok := c.Impact[string(upstate.ImpactDegraded)]; !ok {
		c.Impact[string(upstate.ImpactDegraded)] = string(upstate.PartialOutage)
	}
}

func ptr[T any](v T) *T { return &v }

// Prober implements Section.
func (s *ICMPSection) Prober(c Common, env Env) (Prober, error) {
	p := &ICMP{ID: c.ID, Host: s.Host, Count: s.Count, Timeout: c.Timeout, Clock: env.Clock, Listen: ListenICMP}
	if s.PartialLoss != nil {
		p.PartialLoss = *s.PartialLoss
	}
	if s.DownLoss != nil {
		p.DownLoss = *s.DownLoss
	}
	if env.Resolver != nil {
		p.Resolver = env.Resolver("")
	}
	return p, nil
}

// ICMP sends Count echo requests at once and waits, up to the timeout,
// for the replies; its latency is their mean round trip.
type ICMP struct {
	ID                    string
	Host                  string
	Count                 int
	PartialLoss, DownLoss float64 // percent
	Timeout               time.Duration
	Clock                 clock.Clock
	Resolver              Resolver // nil: the system's
	// Listen opens the socket pings go through (ListenICMP).
	Listen func(v6 bool) (PingConn, error)
}

// PingConn is a socket for ICMP echo: ListenICMP's, or a test's.
type PingConn interface {
	// Raw reports a raw socket, which sees every ICMP message the host
	// gets (others' replies too) rather than only its own.
	Raw() bool
	WriteTo(b []byte, dst net.Addr) (int, error)
	ReadFrom(b []byte) (int, net.Addr, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// ErrICMPNotPermitted says that neither kind of ICMP socket may be opened.
var ErrICMPNotPermitted = errors.New("ICMP is not permitted")

// ListenICMP opens an unprivileged ICMP socket (a datagram socket, which
// Linux allows to the groups in sysctl net.ipv4.ping_group_range), or a
// raw one where the process may (root, CAP_NET_RAW), or says why neither.
func ListenICMP(v6 bool) (PingConn, error) {
	dgram, raw, addr := "udp4", "ip4:icmp", "0.0.0.0"
	if v6 {
		dgram, raw, addr = "udp6", "ip6:ipv6-icmp", "::"
	}
	c, err := icmp.ListenPacket(dgram, addr)
	if err == nil {
		return icmpConn{PacketConn: c}, nil
	}
	c, rerr := icmp.ListenPacket(raw, addr)
	if rerr == nil {
		return icmpConn{PacketConn: c, raw: true}, nil
	}
	groups := "unreadable"
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); err == nil {
		groups = strings.Join(strings.Fields(string(b)), " ")
	}
	return nil, fmt.Errorf("%w: an unprivileged ping socket needs the process's group within sysctl net.ipv4.ping_group_range (now %q; e.g. sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"), a raw one root or CAP_NET_RAW (%v; %v)",
		ErrICMPNotPermitted, groups, err, rerr)
}

type icmpConn struct {
	*icmp.PacketConn
	raw bool
}

func (c icmpConn) Raw() bool { return c.raw }

// Probe implements Prober.
func (p *ICMP) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, p.Clock, p.Timeout)
	defer cancel()
	t := startTiming(p.Clock)
	ip, err := p.resolve(ctx)
	if err != nil {
		return fail(t.result(p.ID), describeErr(ctx, err, p.Timeout))
	}
	v6 := ip.To4() == nil
	listen := p.Listen
	if listen == nil {
		listen = ListenICMP
	}
	conn, err := listen(v6)
	if err != nil {
		return fail(t.result(p.ID), err.Error())
	}
	defer conn.Close()
	// Reads end when ctx does: the timeout is the injected clock's.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	id := rand.N(1 << 16)
	token := fmt.Appendf(nil, "upstate %016x", rand.Uint64())
	var dst net.Addr = &net.UDPAddr{IP: ip}
	if conn.Raw() {
		dst = &net.IPAddr{IP: ip}
	}
	var typ, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1
	if v6 {
		typ, reply, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	sent := make([]time.Time, p.Count)
	for seq := range p.Count {
		msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: token}}
		b, err := msg.Marshal(nil)
		if err != nil {
			return fail(t.result(p.ID), "ICMP: "+err.Error())
		}
		sent[seq] = p.Clock.Now()
		if _, err := conn.WriteTo(b, dst); err != nil {
			return fail(t.result(p.ID), "sending ICMP echo to "+ip.String()+": "+describeErr(ctx, err, p.Timeout))
		}
	}
	got := map[int]time.Duration{}
	buf := make([]byte, 1500)
	for len(got) < p.Count {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			break // the timeout: what has not come back is lost
		}
		now := p.Clock.Now()
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != reply {
			continue
		}
		echo, ok := m.Body.(*icmp.Echo)
		// A datagram socket's replies are its own (the kernel sets and
		// matches the id); a raw socket sees everyone's.
		if !ok || echo.Seq < 0 || echo.Seq >= p.Count || !bytes.Equal(echo.Data, token) || (conn.Raw() && echo.ID != id) || !sameIP(from, ip) {
			continue
		}
		if _, dup := got[echo.Seq]; !dup {
			got[echo.Seq] = now.Sub(sent[echo.Seq])
		}
	}
	r := t.result(p.ID)
	if len(got) > 0 {
		var sum time.Duration
		for _, d := range got {
			sum += d
		}
		r.Latency = sum / time.Duration(len(got))
	}
	lost := p.Count - len(got)
	share := 100 * float64(lost) / float64(p.Count)
	switch {
	case len(got) == 0:
		return fail(r, fmt.Sprintf("no reply from %s: all %d packets lost", ip, p.Count))
	case share >= p.DownLoss:
		return fail(r, fmt.Sprintf("%d of %d packets to %s lost (%s)", lost, p.Count, ip, percent(share)))
	case share >= p.PartialLoss:
		r.Outcome = upstate.OutcomeSlow
		r.Error = fmt.Sprintf("%d of %d packets to %s lost (%s)", lost, p.Count, ip, percent(share))
	}
	return r
}

func sameIP(a net.Addr, ip net.IP) bool {
	switch x := a.(type) {
	case *net.UDPAddr:
		return x.IP.Equal(ip)
	case *net.IPAddr:
		return x.IP.Equal(ip)
	}
	return false
}

// resolve finds the address to ping, IPv4 first.
func (p *ICMP) resolve(ctx context.Context) (net.IP, error) {
	if ip := net.ParseIP(p.Host); ip != nil {
		return ip, nil
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupIPAddr(ctx, p.Host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if a.IP.To4() != nil {
			return a.IP, nil
		}
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no address", Name: p.Host, IsNotFound: true}
	}
	return addrs[0].IP, nil
}
