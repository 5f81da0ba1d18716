package notify

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/dnstest"
)

func TestGuardAddrRules(t *testing.T) {
	t.Parallel()
	// The cases hold each row of addrRules: an address inside it and the
	// boundaries just outside, with the row that must decide each ("" when
	// none does, a public IPv4 address). Written out by hand, not derived
	// from the table, so that deleting or mistyping a row fails a case.
	cases := []struct {
		addr   string
		rule   string
		public bool
	}{
		// Plain public addresses.
		{"8.8.8.8", "", true},
		{"1.1.1.1", "", true},
		{"2606:4700::1111", "2000::/3", true},
		{"2001:4860:4860::8888", "2000::/3", true},

		// IPv4 special-purpose registry.
		{"0.0.0.0", "0.0.0.0/32", false},
		{"0.0.0.1", "0.0.0.0/8", false},
		{"0.255.255.255", "0.0.0.0/8", false},
		{"1.0.0.0", "", true},
		{"9.255.255.255", "", true},
		{"10.0.0.1", "10.0.0.0/8", false},
		{"10.255.255.255", "10.0.0.0/8", false},
		{"11.0.0.0", "", true},
		{"100.63.255.255", "", true},
		{"100.64.0.1", "100.64.0.0/10", false},
		{"100.127.255.255", "100.64.0.0/10", false},
		{"100.128.0.0", "", true},
		{"126.255.255.255", "", true},
		{"127.0.0.1", "127.0.0.0/8", false},
		{"127.255.255.254", "127.0.0.0/8", false},
		{"128.0.0.0", "", true},
		{"169.253.255.255", "", true},
		{"169.254.169.254", "169.254.0.0/16", false},
		{"169.255.0.0", "", true},
		{"172.15.255.255", "", true},
		{"172.16.5.4", "172.16.0.0/12", false},
		{"172.31.255.255", "172.16.0.0/12", false},
		{"172.32.0.0", "", true},
		{"191.255.255.255", "", true},
		{"192.0.0.1", "192.0.0.0/29", false},
		{"192.0.0.7", "192.0.0.0/29", false},
		{"192.0.0.8", "192.0.0.8/32", false},
		{"192.0.0.9", "192.0.0.9/32", false},
		{"192.0.0.10", "192.0.0.10/32", false},
		{"192.0.0.11", "192.0.0.0/24", false},
		{"192.0.0.169", "192.0.0.0/24", false},
		{"192.0.0.170", "192.0.0.170/32", false},
		{"192.0.0.171", "192.0.0.171/32", false},
		{"192.0.0.172", "192.0.0.0/24", false},
		{"192.0.0.255", "192.0.0.0/24", false},
		{"192.0.1.0", "", true},
		{"192.0.2.1", "192.0.2.0/24", false},
		{"192.0.3.0", "", true},
		{"192.31.195.255", "", true},
		{"192.31.196.1", "192.31.196.0/24", false},
		{"192.31.197.0", "", true},
		{"192.52.192.255", "", true},
		{"192.52.193.1", "192.52.193.0/24", false},
		{"192.52.194.0", "", true},
		{"192.88.98.255", "", true},
		{"192.88.99.1", "192.88.99.0/24", false},
		{"192.88.99.2", "192.88.99.2/32", false},
		{"192.88.99.3", "192.88.99.0/24", false},
		{"192.88.100.0", "", true},
		{"192.167.255.255", "", true},
		{"192.168.0.10", "192.168.0.0/16", false},
		{"192.169.0.0", "", true},
		{"192.175.47.255", "", true},
		{"192.175.48.1", "192.175.48.0/24", false},
		{"192.175.49.0", "", true},
		{"198.17.255.255", "", true},
		{"198.18.0.1", "198.18.0.0/15", false},
		{"198.19.255.255", "198.18.0.0/15", false},
		{"198.20.0.0", "", true},
		{"198.51.99.255", "", true},
		{"198.51.100.1", "198.51.100.0/24", false},
		{"198.51.101.0", "", true},
		{"203.0.112.255", "", true},
		{"203.0.113.1", "203.0.113.0/24", false},
		{"203.0.114.0", "", true},
		{"223.255.255.255", "", true},
		{"224.0.0.1", "224.0.0.0/4", false},
		{"239.255.255.255", "224.0.0.0/4", false},
		{"240.0.0.1", "240.0.0.0/4", false},
		{"255.255.255.254", "240.0.0.0/4", false},
		{"255.255.255.255", "255.255.255.255/32", false},

		// IPv6: only global unicast, and then not its special blocks.
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0", false},
		{"4000::", "::/0", false},
		{"1::", "::/0", false},
		{"::", "::/128", false},
		{"::1", "::1/128", false},
		{"::2", "::/96", false},
		{"::127.0.0.1", "::/96", false},
		{"::10.0.0.1", "::/96", false},
		{"::8.8.8.8", "::/96", false}, // refused whole, public or not
		{"::1:0:0", "::/0", false},
		{"::ffff:127.0.0.1", "::ffff:0.0.0.0/96", false},
		{"::ffff:10.0.0.1", "::ffff:0.0.0.0/96", false},
		{"::ffff:169.254.169.254", "::ffff:0.0.0.0/96", false},
		{"::ffff:8.8.8.8", "::ffff:0.0.0.0/96", true}, // unwrapped: it is 8.8.8.8
		{"::fffe:ffff:ffff", "::/0", false},
		{"::ffff:0:127.0.0.1", "::ffff:0:0:0/96", false},
		{"::ffff:0:8.8.8.8", "::ffff:0:0:0/96", false},
		{"::ffff:1:0:0", "::/0", false},
		{"64:ff9b::7f00:1", "64:ff9b::/96", false},
		{"64:ff9b::a9fe:a9fe", "64:ff9b::/96", false},
		{"64:ff9b::a00:1", "64:ff9b::/96", false},
		{"64:ff9b::808:808", "64:ff9b::/96", true}, // unwrapped: NAT64 to 8.8.8.8
		{"64:ff9b::1:0:0", "::/0", false},
		{"64:ff9b:1::a00:1", "64:ff9b:1::/48", false},
		{"64:ff9b:1:ffff::808:808", "64:ff9b:1::/48", false},
		{"64:ff9b:2::", "::/0", false},
		{"100::1", "100::/64", false},
		{"100::ffff:ffff:ffff:ffff", "100::/64", false},
		{"100:0:0:1::1", "100:0:0:1::/64", false},
		{"100:0:0:2::", "::/0", false},
		{"2001:100::1", "2001::/23", false},
		{"2001:1ff:ffff::1", "2001::/23", false},
		{"2001:200::", "2000::/3", true},
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", "2001::/32", false}, // Teredo, client 127.0.0.1
		{"2001:1::1", "2001:1::1/128", false},
		{"2001:1::2", "2001:1::2/128", false},
		{"2001:1::3", "2001:1::3/128", false},
		{"2001:1::4", "2001::/23", false},
		{"2001:2::1", "2001:2::/48", false},
		{"2001:2:1::", "2001::/23", false},
		{"2001:3::1", "2001:3::/32", false},
		{"2001:4::", "2001::/23", false},
		{"2001:4:112::1", "2001:4:112::/48", false},
		{"2001:4:113::", "2001::/23", false},
		{"2001:10::1", "2001:10::/28", false},
		{"2001:1f::1", "2001:10::/28", false},
		{"2001:20::1", "2001:20::/28", false},
		{"2001:2f::1", "2001:20::/28", false},
		{"2001:30::1", "2001:30::/28", false},
		{"2001:3f::1", "2001:30::/28", false},
		{"2001:40::", "2001::/23", false},
		{"2001:db7:ffff::", "2000::/3", true},
		{"2001:db8::1", "2001:db8::/32", false},
		{"2001:db9::", "2000::/3", true},
		{"2001:ffff::", "2000::/3", true},
		{"2002:7f00:1::1", "2002::/16", false},  // 6to4 of 127.0.0.1
		{"2002:808:808::1", "2002::/16", false}, // refused whole, public or not
		{"2003::1", "2000::/3", true},
		{"2620:4f:7fff::", "2000::/3", true},
		{"2620:4f:8000::1", "2620:4f:8000::/48", false},
		{"2620:4f:8001::", "2000::/3", true},
		{"3fff::1", "3fff::/20", false},
		{"3fff:fff::1", "3fff::/20", false},
		{"3fff:1000::", "2000::/3", true},
		{"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2000::/3", true},
		{"5eff::", "::/0", false},
		{"5f00::1", "5f00::/16", false},
		{"5f01::", "::/0", false},
		{"fbff::", "::/0", false},
		{"fc00::1", "fc00::/7", false},
		{"fdff::1", "fc00::/7", false},
		{"fe00::", "::/0", false},
		{"fe80::1", "fe80::/10", false},
		{"febf::1", "fe80::/10", false},
		{"fec0::1", "fec0::/10", false},
		{"feff::1", "fec0::/10", false},
		{"ff02::1", "ff00::/8", false},
		{"ff0e::1", "ff00::/8", false},
	}
	decided := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tc.addr)
			r, ok := lookup(a)
			got := ""
			if ok {
				got = r.prefix.String()
			}
			if got != tc.rule {
				t.Errorf("decided by %q, want %q", got, tc.rule)
			}
			err := checkAddr(a)
			if gotPublic := err == nil; gotPublic != tc.public || PublicAddr(a) != tc.public {
				t.Errorf("public = %v (%v), want %v", gotPublic, err, tc.public)
			}
			if err != nil && !strings.HasPrefix(err.Error(), tc.rule+" ") {
				t.Errorf("reason %q does not name %s", err, tc.rule)
			}
		})
		decided[tc.rule] = true
	}
	for _, r := range addrRules {
		if !decided[r.prefix.String()] {
			t.Errorf("no case holds the row %s (%s)", r.prefix, r.name)
		}
	}
}

// TestGuardAddrTableIsSound checks what the cases cannot: each prefix is
// written canonically and once, and no block the registry calls not
// globally reachable is let through.
func TestGuardAddrTableIsSound(t *testing.T) {
	t.Parallel()
	seen := map[netip.Prefix]bool{}
	for _, r := range addrRules {
		if r.prefix != r.prefix.Masked() {
			t.Errorf("%s has host bits set: %s", r.prefix, r.prefix.Masked())
		}
		if seen[r.prefix] {
			t.Errorf("%s is in the table twice", r.prefix)
		}
		seen[r.prefix] = true
		if r.allow && !r.global {
			t.Errorf("%s (%s) is allowed, but the registry says it is not globally reachable", r.prefix, r.name)
		}
		if r.allow && r.embedded != nil {
			t.Errorf("%s both allows and unwraps", r.prefix)
		}
	}
}

// TestGuardAddrReasons pins the words the guard gives, and what no
// prefix can hold: zones and the zero address.
func TestGuardAddrReasons(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		addr netip.Addr
		want string
	}{
		{"plain", netip.MustParseAddr("10.1.2.3"), "10.0.0.0/8 is Private-Use"},
		{"mapped", netip.MustParseAddr("::ffff:169.254.169.254"), "::ffff:0.0.0.0/96 (IPv4-mapped Address) embeds 169.254.169.254, and 169.254.0.0/16 is Link Local"},
		{"nat64", netip.MustParseAddr("64:ff9b::7f00:1"), "64:ff9b::/96 (IPv4-IPv6 Translat.) embeds 127.0.0.1, and 127.0.0.0/8 is Loopback"},
		{"link-local zone", netip.MustParseAddr("fe80::1%eth0"), "fe80::1%eth0 has a zone, so is link-scoped"},
		{"public with a zone", netip.MustParseAddr("2606:4700::1111%eth0"), "2606:4700::1111%eth0 has a zone, so is link-scoped"},
		{"zero", netip.Addr{}, "not an IP address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAddr(tc.addr)
			if got := errString(err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// fakeResolver answers names from a map; any other name does not exist.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

func TestCheckSubscriberURL(t *testing.T) {
	t.Parallel()
	ips := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	res := fakeResolver{
		"hook.example":      ips("8.8.8.8"),
		"v6.example":        ips("2606:4700::1111"),
		"inside.example":    ips("10.0.0.1"),
		"mixed.example":     ips("8.8.8.8", "127.0.0.1"),
		"mapped.example":    ips("::ffff:169.254.169.254"),
		"nat64.example":     ips("64:ff9b::a9fe:a9fe"),
		"sixtofour.example": ips("2002:a00:1::1"),
		"empty.example":     nil,
	}
	for _, tc := range []struct {
		name         string
		url          string
		allowPrivate bool
		want         string // "" when the URL is accepted
	}{
		{"public name", "https://hook.example/hook", false, ""},
		{"public IPv6 name", "https://v6.example:8443/hook", false, ""},
		{"public literal", "https://8.8.8.8/hook", false, ""},
		{"public mapped literal", "https://[::ffff:8.8.8.8]/hook", false, ""},
		{"name to a private address", "https://inside.example/hook", false, "inside.example resolves to 10.0.0.1, which is not a public address: 10.0.0.0/8 is Private-Use"},
		{"name to a public and a loopback address", "https://mixed.example/hook", false, "mixed.example resolves to 127.0.0.1, which is not a public address: 127.0.0.0/8 is Loopback"},
		{"name to mapped metadata", "https://mapped.example/latest", false, "mapped.example resolves to 169.254.169.254, which is not a public address: 169.254.0.0/16 is Link Local"},
		{"name to NAT64 metadata", "https://nat64.example/latest", false, "nat64.example resolves to 64:ff9b::a9fe:a9fe, which is not a public address: 64:ff9b::/96 (IPv4-IPv6 Translat.) embeds 169.254.169.254, and 169.254.0.0/16 is Link Local"},
		{"name to 6to4", "https://sixtofour.example/", false, "sixtofour.example resolves to 2002:a00:1::1, which is not a public address: 2002::/16 is 6to4"},
		{"unknown name", "https://nowhere.example/hook", false, "nowhere.example does not resolve"},
		{"name without addresses", "https://empty.example/hook", false, "empty.example does not resolve"},
		{"loopback literal", "https://127.0.0.1/hook", false, "127.0.0.1 resolves to 127.0.0.1, which is not a public address: 127.0.0.0/8 is Loopback"},
		{"metadata literal", "https://169.254.169.254/latest", false, "169.254.169.254 resolves to 169.254.169.254, which is not a public address: 169.254.0.0/16 is Link Local"},
		{"mapped literal", "https://[::ffff:10.0.0.1]:8443/hook", false, "::ffff:10.0.0.1 resolves to ::ffff:10.0.0.1, which is not a public address: ::ffff:0.0.0.0/96 (IPv4-mapped Address) embeds 10.0.0.1, and 10.0.0.0/8 is Private-Use"},
		{"zoned literal", "https://[fe80::1%25eth0]/hook", false, "fe80::1%eth0 resolves to fe80::1%eth0, which is not a public address: fe80::1%eth0 has a zone, so is link-scoped"},
		{"plain http", "http://8.8.8.8/hook", false, `"http://8.8.8.8/hook" is not an https URL`},
		{"not a URL for the web", "javascript:alert(1)", false, `"javascript:alert(1)" is not an https URL`},
		{"credentials", "https://user:pass@8.8.8.8/", false, "the URL must not carry a user name or password"},
		{"allowed private literal", "http://127.0.0.1:9/hook", true, ""},
		{"allowed private name, not looked up", "http://nowhere.example/hook", true, ""},
		{"allowed private still refuses ftp", "ftp://127.0.0.1/", true, `"ftp://127.0.0.1/" is not an https URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSubscriberURL(context.Background(), tc.url, tc.allowPrivate, res)
			if got := errString(err); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestGuardIssue10Addresses walks the addresses issue 10 found
// accepted through both places the guard stands: the subscribe-time
// check and the dial-time hook.
func TestGuardIssue10Addresses(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{
		"64:ff9b::7f00:1", "::127.0.0.1", "::ffff:0:127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a9fe:a9fe",
		"2002:a9fe:a9fe::1", "::10.0.0.1", "fec0::1", "0.1.2.3", "198.18.0.1", "240.0.0.1",
	} {
		t.Run(addr, func(t *testing.T) {
			a := netip.MustParseAddr(addr)
			host := a.String()
			if a.Is6() {
				host = "[" + host + "]"
			}
			if err := CheckSubscriberURL(context.Background(), "https://"+host+"/hook", false, fakeResolver{}); err == nil || !strings.Contains(err.Error(), "which is not a public address") {
				t.Errorf("subscribe: %v", err)
			}
			if err := guardControl("tcp", netip.AddrPortFrom(a, 443).String(), nil); err == nil || !strings.Contains(err.Error(), "not a public address") {
				t.Errorf("dial: %v", err)
			}
		})
	}
}

func TestGuardControl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		address string
		want    string
	}{
		{"8.8.8.8:443", ""},
		{"[2606:4700::1111]:443", ""},
		{"[::ffff:8.8.8.8]:443", ""},
		{"127.0.0.1:8080", "refusing to connect to 127.0.0.1:8080: not a public address: 127.0.0.0/8 is Loopback"},
		{"[::1]:443", "refusing to connect to [::1]:443: not a public address: ::1/128 is Loopback Address"},
		{"[64:ff9b::a9fe:a9fe]:80", "refusing to connect to [64:ff9b::a9fe:a9fe]:80: not a public address: 64:ff9b::/96 (IPv4-IPv6 Translat.) embeds 169.254.169.254, and 169.254.0.0/16 is Link Local"},
		{"[fe80::1%eth0]:443", "refusing to connect to [fe80::1%eth0]:443: not a public address: fe80::1%eth0 has a zone, so is link-scoped"},
		{"hook.example:443", `refusing to connect to hook.example:443: not a public address: ParseAddr("hook.example"): unexpected character (at "hook.example")`},
	} {
		t.Run(tc.address, func(t *testing.T) {
			if got := errString(guardControl("tcp", tc.address, nil)); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestGuardRefusesARebindingName is DNS rebinding: a name public when
// subscribed answers a loopback address when the webhook is sent. The
// dial-time guard must refuse it, and only the guard: the same client
// unguarded reaches the receiver through the same name.
func TestGuardRefusesARebindingName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		then netip.Addr
		want string
	}{
		{"A record", netip.MustParseAddr("127.0.0.1"), "not a public address: 127.0.0.0/8 is Loopback"},
		{"AAAA record, IPv4-mapped", netip.MustParseAddr("::ffff:127.0.0.1"), "not a public address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
			defer srv.Close()
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			target := "http://rebind.example:" + port + "/hook"
			dns := dnstest.Start(t, netip.MustParseAddr("8.8.8.8")) // looked up, never dialled
			res := dns.Resolver()
			ctx := context.Background()
			if err := CheckSubscriberURL(ctx, "https://rebind.example:"+port+"/hook", false, res); err != nil {
				t.Fatalf("subscribing while the name is public: %v", err)
			}
			dns.Set(tc.then)
			_, err := guardedClient(5*time.Second, false, res).Get(target)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("guarded: %v, want %q", err, tc.want)
			}
			if n := hits.Load(); n != 0 {
				t.Fatalf("the receiver got %d requests through the guard", n)
			}
			resp, err := guardedClient(5*time.Second, true, res).Get(target)
			if err != nil {
				t.Fatalf("unguarded: %v", err)
			}
			resp.Body.Close()
			if n := hits.Load(); n != 1 {
				t.Errorf("unguarded, the receiver got %d requests, want 1", n)
			}
			if err := CheckSubscriberURL(ctx, "https://rebind.example:"+port+"/hook", false, res); err == nil || !strings.Contains(err.Error(), "rebind.example resolves to 127.0.0.1, which is not a public address") {
				t.Errorf("subscribing now: %v", err)
			}
		})
	}
}

func TestGuardedClient(t *testing.T) {
	t.Parallel()
	redirect := httptest.NewServer(http.RedirectHandler("http://8.8.8.8/", http.StatusFound))
	defer redirect.Close()
	t.Run("refuses a loopback URL", func(t *testing.T) {
		_, err := GuardedClient(5*time.Second, false).Get(redirect.URL)
		if err == nil || !strings.Contains(err.Error(), "not a public address: 127.0.0.0/8 is Loopback") {
			t.Errorf("guarded client reached %s: %v", redirect.URL, err)
		}
	})
	t.Run("does not follow redirects", func(t *testing.T) {
		// A public receiver could otherwise redirect inside, past the
		// subscribe-time check (the dial-time one would still hold).
		resp, err := GuardedClient(5*time.Second, true).Get(redirect.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status %d, want the redirect itself", resp.StatusCode)
		}
	})
	t.Run("ignores proxy settings", func(t *testing.T) {
		// Through a proxy, the guard would judge the proxy's address.
		if tr := GuardedClient(time.Second, false).Transport.(*http.Transport); tr.Proxy != nil {
			t.Error("the guarded client uses a proxy")
		}
	})
}
