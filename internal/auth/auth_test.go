package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var fast = Params{Memory: 1024, Time: 1, Threads: 1}

func TestPasswords(t *testing.T) {
	h, err := HashPassword("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash = %s", h)
	}
	if err := CheckPassword("correct horse battery", h); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := CheckPassword("correct horse battery!", h); err != ErrMismatch {
		t.Errorf("wrong password: %v", err)
	}
	h2, _ := HashPassword("correct horse battery", fast)
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if _, err := HashPassword("short", fast); err == nil {
		t.Error("a short password was accepted")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AA"} {
		if err := CheckPassword("whatever-password", bad); err == nil || err == ErrMismatch {
			t.Errorf("malformed hash %q: %v", bad, err)
		}
	}
}

func TestSecrets(t *testing.T) {
	s, h := NewSecret("ups_")
	if !strings.HasPrefix(s, "ups_") || len(s) < 30 || h != HashSecret(s) || strings.Contains(h, s) {
		t.Errorf("secret %q hash %q", s, h)
	}
	s2, _ := NewSecret("ups_")
	if s == s2 {
		t.Error("secrets repeat")
	}
}

var t7 = time.Date(2026, 8, 17, 7, 0, 0, 0, time.UTC)

// fail begins an attempt and leaves it failed; it reports whether the
// attempt was let through.
func fail(th *Throttle, account, addr, device string) (bool, time.Duration) {
	at, wait, ok := th.Begin(account, addr, device)
	th.End(at, false)
	return ok, wait
}

func TestThrottlePerAccountAndAddress(t *testing.T) {
	now := t7
	th := NewThrottle(func() time.Time { return now })
	for i := range 6 {
		if ok, _ := fail(th, "ann@school.example", "10.0.0.1", ""); !ok {
			t.Fatalf("attempt %d refused; the first 5 are free and the 6th starts the waits", i+1)
		}
	}
	if ok, wait := fail(th, "ann@school.example", "10.0.0.1", ""); ok || wait != time.Second {
		t.Errorf("after 6 failures: ok=%v wait=%v, want a 1s wait", ok, wait)
	}
	now = now.Add(time.Second)
	fail(th, "ann@school.example", "10.0.0.1", "")
	if _, wait, _ := th.Begin("ann@school.example", "10.0.0.1", ""); wait != 2*time.Second {
		t.Errorf("7th failure: wait %v, want 2s (doubling)", wait)
	}
	// Ann herself, from home, and a classmate behind the same school
	// address are not affected.
	if _, _, ok := th.Begin("ann@school.example", "198.51.100.7", ""); !ok {
		t.Error("the account was throttled from another address: a stranger's guesses lock out its owner")
	}
	if _, _, ok := th.Begin("bob@school.example", "10.0.0.1", ""); !ok {
		t.Error("a classmate behind the same NAT address was throttled")
	}
	now = now.Add(3 * time.Second)
	at, _, ok := th.Begin("ann@school.example", "10.0.0.1", "")
	if !ok {
		t.Fatal("still throttled after the wait")
	}
	th.End(at, true)
	if ok, _ := fail(th, "ann@school.example", "10.0.0.1", ""); !ok {
		t.Error("a success did not clear the record")
	}
	for n := 0; n < 40; {
		if ok, wait := fail(th, "eve@school.example", "10.0.0.9", ""); ok {
			n++
		} else {
			now = now.Add(wait)
		}
	}
	if _, wait, _ := th.Begin("eve@school.example", "10.0.0.9", ""); wait != 15*time.Minute {
		t.Errorf("wait is capped at %v, want 15m", wait)
	}
}

// Attempts count as they begin: fifty at once at one account and address
// get the five free ones and the one that starts the waits, no more.
func TestThrottleCountsBeforeHashing(t *testing.T) {
	th := NewThrottle(func() time.Time { return t7 })
	var mu sync.Mutex
	var wg sync.WaitGroup
	var through []*Attempt
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if at, _, ok := th.Begin("owner@acme.example", "192.0.2.1", ""); ok {
				mu.Lock()
				through = append(through, at)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(through) != 6 {
		t.Errorf("%d of 50 simultaneous attempts let through, want 6", len(through))
	}
}

// The account-wide limit is far above one address's: 50 failures within
// 15 minutes from anywhere, and even then a device that signed in before
// gets through.
func TestThrottleAccountWide(t *testing.T) {
	now := t7
	th := NewThrottle(func() time.Time { return now })
	for i := range 50 {
		if ok, _ := fail(th, "owner@acme.example", fmt.Sprintf("198.51.100.%d", i), ""); !ok {
			t.Fatalf("failure %d from a new address refused; the account limit is 50", i+1)
		}
	}
	ok, wait := fail(th, "owner@acme.example", "203.0.113.200", "")
	if ok || wait != 15*time.Minute {
		t.Errorf("51st failure from a new address: ok=%v wait=%v, want refused until the window ends", ok, wait)
	}
	if _, _, ok := th.Begin("owner@acme.example", "203.0.113.200", "device-1"); !ok {
		t.Error("a known device was locked out by the account-wide limit")
	}
	now = now.Add(15 * time.Minute)
	if _, _, ok := th.Begin("owner@acme.example", "203.0.113.200", ""); !ok {
		t.Error("the account limit did not reset after its window")
	}
}

// Lockout as a weapon: someone failing four times an hour, for a day,
// from one address never keeps the owner out, from anywhere else.
func TestThrottleIsNoWeapon(t *testing.T) {
	now := t7
	th := NewThrottle(func() time.Time { return now })
	for range 4 * 24 {
		fail(th, "owner@acme.example", "203.0.113.66", "")
		now = now.Add(15 * time.Minute)
		if _, _, ok := th.Begin("owner@acme.example", "192.0.2.10", ""); !ok {
			t.Fatalf("the owner was locked out at %v by a stranger's guesses", now)
		}
	}
}

// A known device's own failures count too: a stolen device token is not
// a way around the waits.
func TestThrottleKnownDeviceCountsItsOwn(t *testing.T) {
	th := NewThrottle(func() time.Time { return t7 })
	for range 6 {
		fail(th, "owner@acme.example", "192.0.2.1", "device-1")
	}
	if ok, _ := fail(th, "owner@acme.example", "192.0.2.1", "device-1"); ok {
		t.Error("a known device guessed past the free failures")
	}
	if _, _, ok := th.Begin("owner@acme.example", "192.0.2.2", "device-2"); !ok {
		t.Error("another known device was refused")
	}
}

// An address spraying many accounts is closed to new devices at exactly
// 300 failures in 15 minutes; a school's teacher who signed in there
// before still gets in, and the address opens again after the window.
func TestThrottleAddressLimit(t *testing.T) {
	now := t7
	th := NewThrottle(func() time.Time { return now })
	for i := range 300 {
		if ok, _ := fail(th, fmt.Sprintf("student%d@school", i), "203.0.113.5", ""); !ok {
			t.Fatalf("failure %d from the school's address refused; the address limit is 300", i+1)
		}
	}
	if ok, wait := fail(th, "victim@school", "203.0.113.5", ""); ok || wait != 15*time.Minute {
		t.Errorf("failure 301 from one address: ok=%v wait=%v, want refused until the window ends", ok, wait)
	}
	if _, _, ok := th.Begin("teacher@school", "203.0.113.5", "device-t"); !ok {
		t.Error("a known device behind the busy address was refused")
	}
	now = now.Add(15 * time.Minute)
	if _, _, ok := th.Begin("victim@school", "203.0.113.5", ""); !ok {
		t.Error("the address limit did not reset after its window")
	}
}

// IPv6 addresses count by /64: hopping inside one host's allocation does
// not escape the address limit.
func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"}, {"2001:db8:1:2:ffff:ffff:ffff:9", "2001:db8:1:2::/64"}, {"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"192.0.2.1", "192.0.2.1"}, {"::ffff:192.0.2.1", "192.0.2.1"}, {"not-an-ip", "not-an-ip"},
	} {
		if got := AddressKey(tc.in); got != tc.want {
			t.Errorf("AddressKey(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	th := NewThrottle(func() time.Time { return t7 })
	th.Addresses.Limit = 10
	for i := range 10 {
		fail(th, fmt.Sprintf("user%d", i), fmt.Sprintf("2001:db8:1:%x::1", i), "") // ten /64s of one /56
	}
	if ok, _ := fail(th, "user99", "2001:db8:1:ab::1", ""); ok {
		t.Error("another /64 of the same /56 escaped the address limit")
	}
	if ok, _ := fail(th, "user99", "2001:db8:2::1", ""); !ok {
		t.Error("another site (/56) was refused")
	}
	for _, tc := range []struct{ in, want string }{{"2001:db8:1:ab::1", "2001:db8:1::/56"}, {"192.0.2.1", "192.0.2.1"}} {
		if got := SiteKey(tc.in); got != tc.want {
			t.Errorf("SiteKey(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// The records stay bounded however many places an attack comes from.
func TestThrottleRecordsBounded(t *testing.T) {
	now := t7
	th := NewThrottle(func() time.Time { return now })
	th.MaxRecords = 1000
	th.Accounts.MaxKeys, th.Addresses.MaxKeys = 1000, 1000
	for i := range 20_000 {
		fail(th, fmt.Sprintf("u%d", i), fmt.Sprintf("2001:db8:%x::1", i), "")
		now = now.Add(time.Millisecond)
	}
	if n := len(th.pairs) + th.Accounts.Keys() + th.Addresses.Keys(); n > 3*th.MaxRecords {
		t.Errorf("%d records kept, want about MaxRecords (%d)", n, th.MaxRecords)
	}
}

// Passwords are counted in characters, not bytes; padding, one repeated
// character and the commonest passwords are refused.
func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		pw, want string // want: part of the refusal, "" for accepted
	}{
		{"correct horse battery", ""},
		{"ééééééééééé", "too short"}, // 11 characters, 22 bytes
		{"éàüöçñßøåæœ€", ""},         // 12 characters, all different
		{strings.Repeat(" ", 12), "too short"},
		{"  short   pw    ", "too short"},
		{"aaaaaaaaaaaaaaaa", "repeated"},
		{"Password1234", "commonest"},
		{"QWERTYUIOP123", "commonest"},
		{"  password1234  ", "commonest"},
	} {
		err := CheckNewPassword(tc.pw)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q refused: %v", tc.pw, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want a refusal saying %q", tc.pw, err, tc.want)
		}
	}
	if _, err := HashPassword("ééééééééééé", fast); err == nil {
		t.Error("HashPassword hashed an 11-character password")
	}
}

// An attempt taken back (no password was checked for it) leaves no trace:
// the pair's free failures and waits, and the windows, are as before.
func TestThrottleCancel(t *testing.T) {
	th := NewThrottle(func() time.Time { return t7 })
	for range 5 {
		fail(th, "owner@acme.example", "192.0.2.1", "")
	}
	for range 20 {
		at, _, ok := th.Begin("owner@acme.example", "192.0.2.1", "")
		if !ok {
			t.Fatal("refused after attempts that were taken back")
		}
		th.Cancel(at)
	}
	if ok, _ := fail(th, "owner@acme.example", "192.0.2.1", ""); !ok {
		t.Error("the 6th real failure was refused: cancelled attempts counted")
	}
	if ok, wait := fail(th, "owner@acme.example", "192.0.2.1", ""); ok || wait != time.Second {
		t.Errorf("the 7th: ok=%v wait=%v, want the first 1 s wait", ok, wait)
	}
	if n := th.Accounts.Count("owner@acme.example", t7); n != 6 {
		t.Errorf("account window holds %d failures, want 6", n)
	}
}
