package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// addrRule is one row of the address table: a block from the IANA
// special-purpose registries (or, marked so, another IANA registry) and
// what the guard does with a webhook bound there.
type addrRule struct {
	prefix netip.Prefix
	name   string // the registry's name for the block
	// global is the registry's "Globally Reachable" column (false where
	// it says N/A, and for blocks from other registries that are not
	// global unicast). It documents where the policy is stricter than
	// the registry; a test holds that no row it calls non-global is
	// allowed.
	global bool
	// allow lets a webhook go there. No special-purpose block is
	// allowed, not even the globally reachable ones: those are anycast
	// services (PCP, TURN, AS112, AMT, DNS-SD), which land on the nearest
	// instance, often the operator's own router or resolver, or
	// identifiers that are not locators (ORCHIDv2, DETs). No subscriber's
	// web server lives at any of them.
	allow bool
	// embedded, when set, is the IPv4 address the block embeds; the
	// address is judged as that IPv4 address instead, by this same table.
	embedded func(netip.Addr) netip.Addr
}

// low32 is the IPv4 address in the last 32 bits of an IPv6 address, where
// IPv4-mapped addresses and RFC 6052's /96 translation prefix put it.
func low32(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte(b[12:]))
}

// rule is a row that refuses or allows; the two that unwrap are spelt out.
func rule(prefix, name string, global, allow bool) addrRule {
	return addrRule{prefix: netip.MustParsePrefix(prefix), name: name, global: global, allow: allow}
}

// addrRules is the single table the guard judges by: the most specific
// row containing an address decides. It is read-only after start-up,
// like a compiled regexp. An IPv4 address no row contains is public. Every
// IPv6 address is in ::/0, refused, so only 2000::/3 (the one block IANA
// has set aside for global unicast) is reachable, and a block IANA
// assigns later outside it stays refused until this table says otherwise.
//
// Forms that embed an IPv4 address are unwrapped or refused whole:
//   - IPv4-mapped ::ffff:a.b.c.d is unwrapped: it is how a dual-stack
//     socket spells the IPv4 address itself, so it is judged as that.
//   - NAT64's well-known 64:ff9b::/96 is unwrapped: RFC 6052 forbids it for
//     non-global IPv4, and it is how an IPv6-only host running DNS64
//     reaches an IPv4-only receiver; 64:ff9b::a9fe:a9fe is still the
//     metadata service, so the embedded address must pass too.
//   - Local-use NAT64 64:ff9b:1::/48 is refused: the operator picks the
//     prefix length (/48 to /96), so where the IPv4 sits is unknowable,
//     and it exists to reach the operator's own networks.
//   - IPv4-compatible ::a.b.c.d (deprecated by RFC 4291) and
//     IPv4-translated ::ffff:0:a.b.c.d (RFC 2765, obsolete) are refused:
//     nothing legitimate uses them, and some stacks still tunnel them to
//     the IPv4 address.
//   - 6to4 2002::/16 (the IPv4 address in bits 16-47) and Teredo
//     2001::/32 (the client's, inverted, in the last 32) are refused:
//     both are relayed by whichever relay is nearest, which may be inside
//     the operator's network, and a Teredo client sits behind a NAT;
//     receivers on either are vanishingly rare.
var addrRules = []addrRule{
	// IANA IPv4 Special-Purpose Address Registry.
	rule("0.0.0.0/8", `"This network"`, false, false), // Linux connects 0.0.0.0 to localhost
	rule("0.0.0.0/32", `"This host on this network"`, false, false),
	rule("10.0.0.0/8", "Private-Use", false, false),
	rule("100.64.0.0/10", "Shared Address Space", false, false),
	rule("127.0.0.0/8", "Loopback", false, false),
	rule("169.254.0.0/16", "Link Local", false, false), // cloud metadata services live here
	rule("172.16.0.0/12", "Private-Use", false, false),
	rule("192.0.0.0/24", "IETF Protocol Assignments", false, false),
	rule("192.0.0.0/29", "IPv4 Service Continuity Prefix", false, false),
	rule("192.0.0.8/32", "IPv4 dummy address", false, false),
	rule("192.0.0.9/32", "Port Control Protocol Anycast", true, false),
	rule("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", true, false),
	rule("192.0.0.170/32", "NAT64/DNS64 Discovery", false, false),
	rule("192.0.0.171/32", "NAT64/DNS64 Discovery", false, false),
	rule("192.0.2.0/24", "Documentation (TEST-NET-1)", false, false),
	rule("192.31.196.0/24", "AS112-v4", true, false),
	rule("192.52.193.0/24", "AMT", true, false),
	rule("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", false, false),
	rule("192.88.99.2/32", "6a44-relay anycast address", true, false),
	rule("192.168.0.0/16", "Private-Use", false, false),
	rule("192.175.48.0/24", "Direct Delegation AS112 Service", true, false),
	rule("198.18.0.0/15", "Benchmarking", false, false),
	rule("198.51.100.0/24", "Documentation (TEST-NET-2)", false, false),
	rule("203.0.113.0/24", "Documentation (TEST-NET-3)", false, false),
	rule("240.0.0.0/4", "Reserved", false, false),
	rule("255.255.255.255/32", "Limited Broadcast", false, false),
	// IANA IPv4 Multicast Address Space Registry.
	rule("224.0.0.0/4", "Multicast", false, false),

	// IANA IPv6 Address Space Registry.
	rule("::/0", "Reserved or unassigned, outside Global Unicast", false, false),
	rule("2000::/3", "Global Unicast", true, true),
	rule("fec0::/10", "Site-Local (deprecated by RFC 3879)", false, false),
	rule("ff00::/8", "Multicast", false, false),
	// IANA IPv6 Special-Purpose Address Registry.
	rule("::1/128", "Loopback Address", false, false),
	rule("::/128", "Unspecified Address", false, false),
	{prefix: netip.MustParsePrefix("::ffff:0.0.0.0/96"), name: "IPv4-mapped Address", embedded: low32},
	{prefix: netip.MustParsePrefix("64:ff9b::/96"), name: "IPv4-IPv6 Translat.", global: true, embedded: low32},
	rule("64:ff9b:1::/48", "IPv4-IPv6 Translat. (local use)", false, false),
	rule("100::/64", "Discard-Only Address Block", false, false),
	rule("100:0:0:1::/64", "Dummy IPv6 Prefix", false, false),
	rule("2001::/23", "IETF Protocol Assignments", false, false),
	rule("2001::/32", "TEREDO", false, false),
	rule("2001:1::1/128", "Port Control Protocol Anycast", true, false),
	rule("2001:1::2/128", "Traversal Using Relays around NAT Anycast", true, false),
	rule("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", true, false),
	rule("2001:2::/48", "Benchmarking", false, false),
	rule("2001:3::/32", "AMT", true, false),
	rule("2001:4:112::/48", "AS112-v6", true, false),
	rule("2001:10::/28", "Deprecated (previously ORCHID)", false, false),
	rule("2001:20::/28", "ORCHIDv2", true, false),
	rule("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", true, false),
	rule("2001:db8::/32", "Documentation", false, false),
	rule("2002::/16", "6to4", false, false),
	rule("2620:4f:8000::/48", "Direct Delegation AS112 Service", true, false),
	rule("3fff::/20", "Documentation", false, false),
	rule("5f00::/16", "Segment Routing (SRv6) SIDs", false, false),
	rule("fc00::/7", "Unique-Local", false, false),
	rule("fe80::/10", "Link-Local Unicast", false, false),
	// Not in the registries but deprecated by RFC 4291 and RFC 6145:
	// IPv4-compatible and IPv4-translated addresses.
	rule("::/96", "IPv4-compatible Address (deprecated)", false, false),
	rule("::ffff:0:0:0/96", "IPv4-translated Address (obsolete)", false, false),
}

// lookup returns the most specific row containing a, if any.
func lookup(a netip.Addr) (addrRule, bool) {
	var best addrRule
	found := false
	for _, r := range addrRules {
		if r.prefix.Contains(a) && (!found || r.prefix.Bits() > best.prefix.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

// checkAddr is the guard's only judge, at subscribe time and at dial
// time: it says why a webhook may not go to a, or nil if it may.
func checkAddr(a netip.Addr) error {
	if !a.IsValid() {
		return errors.New("not an IP address")
	}
	// netip.Prefix never contains a zoned address, so the table cannot
	// judge one; a zone only means something for link-scoped addresses.
	if a.Zone() != "" {
		return fmt.Errorf("%s has a zone, so is link-scoped", a)
	}
	r, ok := lookup(a)
	switch {
	case !ok:
		return nil
	case r.embedded != nil:
		v4 := r.embedded(a)
		if err := checkAddr(v4); err != nil {
			return fmt.Errorf("%s (%s) embeds %s, and %w", r.prefix, r.name, v4, err)
		}
		return nil
	case !r.allow:
		return fmt.Errorf("%s is %s", r.prefix, r.name)
	}
	return nil
}

// PublicAddr reports whether a webhook may go to an address: one on the
// public internet, not in any special-purpose block, nor embedding a
// non-public IPv4 address.
func PublicAddr(a netip.Addr) bool { return checkAddr(a) == nil }

// guardControl is the dialer's Control hook: it judges the address
// actually dialled, after DNS, so a name that resolved to a public
// address at subscribe time cannot point inside later.
func guardControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err == nil {
		err = checkAddr(ap.Addr())
	}
	if err != nil {
		return fmt.Errorf("refusing to connect to %s: not a public address: %w", address, err)
	}
	return nil
}

// GuardedClient is an HTTP client for URLs that outsiders give (webhook
// subscribers): unless allowPrivate, it refuses to connect to anything
// but public addresses, checked after DNS resolution so a name cannot
// point it inside. Redirects are not followed.
func GuardedClient(timeout time.Duration, allowPrivate bool) *http.Client {
	return guardedClient(timeout, allowPrivate, nil)
}

// guardedClient is GuardedClient resolving names with r (nil: the
// system's resolver); tests point r at a DNS server of their own.
func guardedClient(timeout time.Duration, allowPrivate bool, r *net.Resolver) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Resolver: r}
	if !allowPrivate {
		d.Control = guardControl
	}
	// Proxy stays nil: with a proxy the dialer connects to the proxy, and
	// the guard would judge that instead of the receiver.
	tr := &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: 2, IdleConnTimeout: time.Minute}
	return &http.Client{Timeout: timeout, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Resolver looks up the addresses of a host; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// CheckSubscriberURL says what is wrong with a webhook URL an outsider
// gives, if anything: it must be https (http too when allowPrivate) and,
// unless allowPrivate, resolve only to public addresses. Passing is not
// enough on its own, as the name may resolve elsewhere later: the client
// that sends must be a GuardedClient.
func CheckSubscriberURL(ctx context.Context, raw string, allowPrivate bool, resolver Resolver) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(allowPrivate && u.Scheme == "http")) {
		return fmt.Errorf("%q is not an https URL", raw)
	}
	if u.User != nil {
		return fmt.Errorf("the URL must not carry a user name or password")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a} // a literal is judged as written
	} else {
		addrs, err = resolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("%s does not resolve", host)
		}
		// Resolvers may hand IPv4 answers back IPv4-mapped; say them plainly
		// (the table judges both spellings alike).
		for i := range addrs {
			addrs[i] = addrs[i].Unmap()
		}
	}
	// Every address must pass: the dialer may use any of them.
	for _, a := range addrs {
		if err := checkAddr(a); err != nil {
			return fmt.Errorf("%s resolves to %s, which is not a public address: %w", host, a, err)
		}
	}
	return nil
}
