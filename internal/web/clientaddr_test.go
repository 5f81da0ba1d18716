package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, peer string
		headers    map[string]string
		want       string
	}{
		{"direct", "198.51.100.7:5555", nil, "198.51.100.7"},
		{"an untrusted peer's headers are ignored", "198.51.100.7:5555", map[string]string{"X-Forwarded-For": "192.0.2.1"}, "198.51.100.7"},
		{"one proxy", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "192.0.2.1"}, "192.0.2.1"},
		{"the client's own claim is left of the real one", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "6.6.6.6, 192.0.2.1"}, "192.0.2.1"},
		{"two proxies", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "192.0.2.1, 10.1.1.1"}, "192.0.2.1"},
		{"all trusted: the leftmost", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
		{"garbage stops at the proxy", "10.0.0.2:443", map[string]string{"X-Forwarded-For": "192.0.2.1, nonsense"}, "10.0.0.2"},
		{"Forwarded", "10.0.0.2:443", map[string]string{"Forwarded": `for=192.0.2.60;proto=https;by=10.0.0.2`}, "192.0.2.60"},
		{"Forwarded v6 with port", "[fd00::1]:443", map[string]string{"Forwarded": `for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded wins over X-Forwarded-For", "10.0.0.2:443", map[string]string{"Forwarded": "for=192.0.2.60", "X-Forwarded-For": "192.0.2.99"}, "192.0.2.60"},
		{"Forwarded unknown", "10.0.0.2:443", map[string]string{"Forwarded": "for=unknown"}, "10.0.0.2"},
		{"mapped peer", "[::ffff:10.0.0.2]:443", map[string]string{"X-Forwarded-For": "192.0.2.1"}, "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/login", nil)
			r.RemoteAddr = tc.peer
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if got := clientAddr(r, proxies); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
