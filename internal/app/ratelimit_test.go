package app

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/web/admin"
)

// The public subscribe form takes SubscriptionsPerHour from one address
// (an IPv6 /64) in any hour and then answers 429, saying when the oldest
// of them is an hour old; another address is not affected.
func TestSubscribeFormLimit(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	a := newApp(t, "page: {name: Acme Status, url: 'https://status.acme.example'}\ncomponents:\n  - {id: api, name: API}\n"+
		"subscribers:\n  webhooks: true\n  allow_private_addresses: true\n", Options{Clock: clk})
	h := a.web.Handler()
	post := func(from string, i int) *httptest.ResponseRecorder {
		form := url.Values{"kind": {"webhook"}, "address": {"http://127.0.0.1:9/hook/" + from + "/" + string(rune('a'+i%26))}}
		req := httptest.NewRequest("POST", "/subscribe", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = from + ":4711"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i := range admin.SubscriptionsPerHour {
		if rec := post("[2001:db8:1:2::1]", i); rec.Code == http.StatusTooManyRequests {
			t.Fatalf("subscription %d refused; the limit is %d an hour", i+1, admin.SubscriptionsPerHour)
		}
	}
	clk.Advance(15 * time.Minute)
	rec := post("[2001:db8:1:2::99]", 0) // the same /64
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2700" {
		t.Errorf("one more from the same /64: %d, Retry-After %q; want 429 and the 2700 s left of the hour", rec.Code, rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), "try again in 45 minutes") {
		t.Errorf("the page does not say when to try again:\n%s", rec.Body.String())
	}
	if rec := post("[2001:db8:9::1]", 0); rec.Code == http.StatusTooManyRequests {
		t.Error("another address was refused")
	}
}
