package auth

import (
	"strings"
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

func TestThrottlePerAccount(t *testing.T) {
	now := time.Date(2026, 8, 17, 7, 0, 0, 0, time.UTC)
	th := NewThrottle(func() time.Time { return now })
	for i := range 5 {
		if ok, _ := th.Allow("ann@school.example", "10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused within the free failures", i+1)
		}
		th.Failed("ann@school.example", "10.0.0.1")
	}
	th.Failed("ann@school.example", "10.0.0.1") // 6th failure: 1 s wait
	ok, wait := th.Allow("ann@school.example", "10.0.0.1")
	if ok || wait != time.Second {
		t.Errorf("after 6 failures: ok=%v wait=%v, want a 1s wait", ok, wait)
	}
	th.Failed("ann@school.example", "10.0.0.1")
	if _, wait := th.Allow("ann@school.example", "10.0.0.1"); wait != 2*time.Second {
		t.Errorf("7th failure: wait %v, want 2s (doubling)", wait)
	}
	// Another person behind the same school address is not affected.
	if ok, _ := th.Allow("bob@school.example", "10.0.0.1"); !ok {
		t.Error("a classmate behind the same NAT address was throttled")
	}
	now = now.Add(3 * time.Second)
	if ok, _ := th.Allow("ann@school.example", "10.0.0.1"); !ok {
		t.Error("still throttled after the wait")
	}
	th.Succeeded("ann@school.example")
	th.Failed("ann@school.example", "10.0.0.1")
	if ok, _ := th.Allow("ann@school.example", "10.0.0.1"); !ok {
		t.Error("a success did not clear the record")
	}
	for range 40 {
		th.Failed("eve@school.example", "10.0.0.9")
	}
	if _, wait := th.Allow("eve@school.example", "10.0.0.9"); wait != 15*time.Minute {
		t.Errorf("wait is capped at %v, want 15m", wait)
	}
}

func TestThrottlePerAddressIsFarAboveHumanRates(t *testing.T) {
	now := time.Date(2026, 8, 17, 7, 0, 0, 0, time.UTC)
	th := NewThrottle(func() time.Time { return now })
	// A school: 250 students behind one address each mistype once.
	for i := range 250 {
		th.Failed(strings.Repeat("s", i%7+1)+string(rune('a'+i%26))+"@school", "203.0.113.5")
	}
	if ok, _ := th.Allow("teacher@school", "203.0.113.5"); !ok {
		t.Error("a school's ordinary typos locked out its address")
	}
	// A sprayer: hundreds of accounts from one host.
	for i := range 100 {
		th.Failed("victim"+string(rune('a'+i%26)), "203.0.113.5")
	}
	if ok, wait := th.Allow("teacher@school", "203.0.113.5"); ok || wait <= 0 {
		t.Error("300 failures from one address in 15 minutes were not throttled")
	}
	now = now.Add(15 * time.Minute)
	if ok, _ := th.Allow("teacher@school", "203.0.113.5"); !ok {
		t.Error("the address limit did not reset after its window")
	}
}
