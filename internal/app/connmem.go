package app

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// connBurst is how many connections must have closed since the last
// release for their memory to be worth handing back at once: each open
// connection holds net/http's 4 KiB reader and 4 KiB writer and a
// goroutine stack of about 8 KiB, so a thousand are some 20 MB, and ten
// thousand readers of the page hold over 200 MB.
const connBurst = 1000

// connMemoryEvery is how often connMemory looks.
const connMemoryEvery = 10 * time.Second

// connMemory hands back to the operating system the memory a burst of
// connections leaves behind once it is over. Closed connections' buffers
// and stacks are garbage, but the garbage collector's goal was set while
// they were live, so it may not run again for minutes, and Go's scavenger
// then returns the freed pages slowly: after 10,000 clients left, the
// process stayed at 400 MiB. When at least connBurst connections have
// closed since the most were open, release (releaseMemory: collections,
// then every free page returned) runs once; connections that
// stay open never trigger it, and it runs at most once a look.
type connMemory struct {
	open    atomic.Int64
	peak    atomic.Int64 // the most open since the last release
	release func()
}

func newConnMemory() *connMemory { return &connMemory{release: releaseMemory} }

// releaseMemory collects twice and returns every free page. Twice: closed
// connections put their 8 KiB of buffers in net/http's sync.Pools, and a
// pool's objects outlive one collection (in its victim cache); after
// 10,000 connections that is 80 MB still live after one.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// state is the server's ConnState hook.
func (c *connMemory) state(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		n := c.open.Add(1)
		for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
		}
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
	}
}

// look releases the memory when a burst is over, and says whether it did.
func (c *connMemory) look() bool {
	n := c.open.Load()
	if c.peak.Load()-n < connBurst {
		return false
	}
	c.peak.Store(n)
	c.release()
	return true
}

// run looks every connMemoryEvery until ctx ends. The wall clock, not the
// app's: this is about the process's memory, not the page's time.
func (c *connMemory) run(ctx context.Context) {
	t := time.NewTicker(connMemoryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.look()
		}
	}
}
