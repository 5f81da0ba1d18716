package app

import (
	"net/http"
	"testing"
)

// A burst of connections that is over hands its memory back once; open
// connections, and a few closing, never do.
func TestConnMemoryReleasesAfterABurst(t *testing.T) {
	released := 0
	c := &connMemory{release: func() { released++ }}
	states := func(s http.ConnState, n int) {
		for range n {
			c.state(nil, s)
		}
	}
	states(http.StateNew, 10_000)
	states(http.StateActive, 10_000)
	if c.look() || released != 0 {
		t.Fatalf("released while 10,000 connections are open")
	}
	states(http.StateClosed, connBurst-1)
	if c.look() || released != 0 {
		t.Fatalf("released after %d closed: fewer than a burst", connBurst-1)
	}
	states(http.StateClosed, 10_000-connBurst+1)
	if !c.look() || released != 1 {
		t.Fatalf("not released once the burst was over (released %d times)", released)
	}
	if c.look() || released != 1 {
		t.Fatalf("released again with nothing new closed (released %d times)", released)
	}
	// The next burst counts from what was open after the release.
	states(http.StateNew, 2*connBurst)
	states(http.StateHijacked, connBurst)
	states(http.StateClosed, connBurst)
	if !c.look() || released != 2 {
		t.Fatalf("the second burst was not released (released %d times)", released)
	}
	if n := c.open.Load(); n != 0 {
		t.Fatalf("%d connections counted open, want 0", n)
	}
}
