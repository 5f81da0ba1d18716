package notify

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "192.168.0.10": false, "172.16.5.4": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "fe80::1": false, "fc00::1": false, "::ffff:127.0.0.1": false, "224.0.0.1": false,
	} {
		if got := PublicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: %v, want %v", addr, got, want)
		}
	}
}

func TestSubscriberURLsCannotReachInside(t *testing.T) {
	ctx := context.Background()
	for raw, want := range map[string]string{
		"http://8.8.8.8/hook":                 "is not an https URL",
		"https://127.0.0.1/hook":              "127.0.0.1 resolves to 127.0.0.1, which is not a public address",
		"https://169.254.169.254/latest":      "not a public address",
		"https://user:pass@8.8.8.8/":          "must not carry a user name",
		"javascript:alert(1)":                 "is not an https URL",
		"https://[::ffff:10.0.0.1]:8443/hook": "not a public address",
	} {
		err := CheckSubscriberURL(ctx, raw, false, net.DefaultResolver)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
	if err := CheckSubscriberURL(ctx, "https://8.8.8.8/hook", false, net.DefaultResolver); err != nil {
		t.Errorf("a public address: %v", err)
	}
	if err := CheckSubscriberURL(ctx, "http://127.0.0.1:9/hook", true, net.DefaultResolver); err != nil {
		t.Errorf("allowed private: %v", err)
	}
	// Even a URL that passed the check cannot connect inside: the guard
	// looks at the address actually dialled.
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	_, err := GuardedClient(5*time.Second, false).Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Errorf("guarded client reached %s: %v", srv.URL, err)
	}
	if resp, err := GuardedClient(5*time.Second, true).Get(srv.URL); err != nil {
		t.Errorf("allowed: %v", err)
	} else {
		resp.Body.Close()
	}
}
