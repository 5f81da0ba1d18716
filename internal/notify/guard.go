package notify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// PublicAddr reports whether an address is on the public internet: not
// loopback, private, link-local, unspecified, multicast or CGNAT.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() &&
		!a.IsUnspecified() && !a.IsMulticast() && !a.IsInterfaceLocalMulticast() && !cgnat.Contains(a)
}

// GuardedClient is an HTTP client for URLs that outsiders give (webhook
// subscribers): unless allowPrivate, it refuses to connect to anything
// but public addresses, checked after DNS resolution so a name cannot
// point it inside. Redirects are not followed.
func GuardedClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return fmt.Errorf("refusing to connect to %s: not a public address", address)
			}
			return nil
		}
	}
	tr := &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: 2, IdleConnTimeout: time.Minute}
	return &http.Client{Timeout: timeout, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// CheckSubscriberURL says what is wrong with a webhook URL an outsider
// gives, if anything: it must be https (http too when allowPrivate) and,
// unless allowPrivate, resolve only to public addresses.
func CheckSubscriberURL(ctx context.Context, raw string, allowPrivate bool, resolver *net.Resolver) error {
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
	addrs, err := resolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("%s does not resolve", u.Hostname())
	}
	for _, a := range addrs {
		if a = a.Unmap(); !PublicAddr(a) {
			return fmt.Errorf("%s resolves to %s, which is not a public address", u.Hostname(), a)
		}
	}
	return nil
}
