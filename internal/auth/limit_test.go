package auth

import (
	"fmt"
	"testing"
	"time"
)

// A key gets Limit events per window from its first; the refusal says
// how long until the window ends, and other keys are not affected.
func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Hour)
	for i := range 3 {
		if _, ok := l.Allow("a", t7.Add(time.Duration(i)*time.Minute)); !ok {
			t.Fatalf("event %d refused; the limit is 3", i+1)
		}
	}
	if wait, ok := l.Allow("a", t7.Add(10*time.Minute)); ok || wait != 50*time.Minute {
		t.Errorf("4th event: ok=%v wait=%v, want refused for the 50 minutes left of the window", ok, wait)
	}
	if _, ok := l.Allow("b", t7.Add(10*time.Minute)); !ok {
		t.Error("another key was refused")
	}
	if _, ok := l.Allow("a", t7.Add(time.Hour)); !ok {
		t.Error("refused after the window ended")
	}
}

// However many keys come, the records stay bounded, and a key at its
// limit is among those kept.
func TestLimiterBounded(t *testing.T) {
	l := NewLimiter(2, time.Hour)
	l.MaxKeys = 1000
	l.Allow("busy", t7)
	l.Allow("busy", t7)
	for i := range 20_000 {
		l.Allow(fmt.Sprintf("k%d", i), t7.Add(time.Duration(i)*time.Millisecond))
	}
	if n := l.Keys(); n > l.MaxKeys {
		t.Errorf("%d keys kept, want at most %d", n, l.MaxKeys)
	}
	if _, ok := l.Allow("busy", t7.Add(time.Minute)); ok {
		t.Error("the key at its limit was forgotten")
	}
}

// The window slides: events late in one hour still count early in the
// next, so there is no boundary to burst across; an event taken back
// frees its place.
func TestLimiterSlides(t *testing.T) {
	l := NewLimiter(3, time.Hour)
	for _, m := range []time.Duration{50, 55, 59} {
		if _, ok := l.Allow("a", t7.Add(m*time.Minute)); !ok {
			t.Fatalf("event at +%dm refused", m)
		}
	}
	if wait, ok := l.Allow("a", t7.Add(61*time.Minute)); ok || wait != 49*time.Minute {
		t.Errorf("just past the hour: ok=%v wait=%v, want refused until the first event is an hour old (49m)", ok, wait)
	}
	l.TakeBack("a", t7.Add(55*time.Minute))
	if _, ok := l.Allow("a", t7.Add(62*time.Minute)); !ok {
		t.Error("refused after an event was taken back")
	}
	if n := l.Count("a", t7.Add(120*time.Minute)); n != 1 {
		t.Errorf("%d events in the hour before +120m, want 1 (the one at +62m)", n)
	}
}
