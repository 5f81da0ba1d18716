package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, peer string
		headers    map[string]string
		want       string
		forwarded  bool // the proxies set Forwarded rather than X-Forwarded-For
	}{
		{"direct", "198.51.100.7:5555", nil, "198.51.100.7", false},
		{"an untrusted peer's headers are ignored", "198.51.100.7:5555", map[string]string{"X-Forwarded-For": "192.0.2.1"}, "198.51.100.7", false},
		{"one proxy", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "192.0.2.1"}, "192.0.2.1", false},
		{"the client's own claim is left of the real one", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "6.6.6.6, 192.0.2.1"}, "192.0.2.1", false},
		{"two proxies", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "192.0.2.1, 10.1.1.1"}, "192.0.2.1", false},
		{"all trusted: the leftmost", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "10.9.9.9, 10.1.1.1"}, "10.9.9.9", false},
		{"garbage stops at the proxy", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "192.0.2.1, nonsense"}, "10.0.0.2", false},
		{"Forwarded", "10.0.0.2:443", map[string]string{"Forwarded": `for=192.0.2.60;proto=https;by=10.0.0.2`}, "192.0.2.60", true},
		{"Forwarded v6 with port", "[fd00::1]:443", map[string]string{"Forwarded": `for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17", true},
		{"Forwarded unknown", "10.0.0.2:443", map[string]string{"Forwarded": "for=unknown"}, "10.0.0.2", true},
		// A proxy that sets one header passes on what the client put in
		// the other: only the configured one is read.
		{"a client's own Forwarded behind an X-Forwarded-For proxy", "10.0.0.2:443", map[string]string{"Forwarded": "for=203.0.113.99", "X-Forwarded-For": "198.51.100.7"}, "198.51.100.7", false},
		{"a client's own X-Forwarded-For behind a Forwarded proxy", "10.0.0.2:443", map[string]string{"Forwarded": "for=198.51.100.7", "X-Forwarded-For": "203.0.113.99"}, "198.51.100.7", true},
		{"mapped peer", "[::ffff:10.0.0.2]:443", map[string]string{"X-Forwarded-For": "192.0.2.1"}, "192.0.2.1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/login", nil)
			r.RemoteAddr = tc.peer
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			px := Proxies{Trusted: trusted, Header: "X-Forwarded-For"}
			if tc.forwarded {
				px.Header = "Forwarded"
			}
			if got := clientAddr(r, px); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
