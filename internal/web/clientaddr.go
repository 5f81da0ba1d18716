package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies trusted to say who the client is, and
// the one header they say it in.
type Proxies struct {
	Trusted []netip.Prefix
	// Header is "X-Forwarded-For" or "Forwarded": only that one is read,
	// as a proxy that sets one passes on whatever the client put in the
	// other.
	Header string
}

// clientAddr works out the client's address: the connection's peer, or,
// when the peer is one of the trusted proxies, the address the proxies
// say they forwarded for. The chain (the header's addresses, or
// Forwarded's for= values) is read from the right, skipping trusted
// proxies: the first address no trusted proxy owns is the client, as
// anything to its left is what the client itself claimed. A hop that does
// not parse ends the walk at the proxy that forwarded it.
func clientAddr(r *http.Request, px Proxies) string {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	trusted := px.Trusted
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	var hops []string
	if strings.EqualFold(px.Header, "Forwarded") {
		hops = forwardedFor(r.Header)
	} else {
		hops = splitList(r.Header.Values("X-Forwarded-For"))
	}
	last := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := peerAddr(hops[i])
		if !a.IsValid() {
			break
		}
		last = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return last.String()
}

// peerAddr parses an address with or without a port or brackets.
func peerAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the for= values of RFC 7239 Forwarded headers, in
// order.
func forwardedFor(h http.Header) []string {
	var out []string
	for _, elem := range splitList(h.Values("Forwarded")) {
		for _, pair := range strings.Split(elem, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(k, "for") {
				out = append(out, strings.Trim(v, `"`))
			}
		}
	}
	return out
}

// splitList splits comma-separated header values.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}
