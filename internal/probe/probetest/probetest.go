// Package probetest is what the database kinds' tests share: the real
// servers .ci/run starts (found through environment variables), a
// loopback proxy in front of one that can hold its traffic or refuse, as
// a hung or stopped server would, without touching the server other
// tests use, and a bounded wait for what a server reports.
package probetest

import (
	"context"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// Server returns the value of the environment variable that points at
// a real server (.ci/databases sets UPSTATE_TEST_POSTGRES_DSN,
// UPSTATE_TEST_MYSQL_DSN and UPSTATE_TEST_REDIS_URL). Without it the test
// is skipped, or fails when UPSTATE_REAL_SERVICES=1 (as in CI).
func Server(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("UPSTATE_REAL_SERVICES") == "1" {
			t.Fatalf("%s is not set: .ci/run starts %s and sets it (.ci/databases)", name, what)
		}
		t.Skipf("%s is not set: .ci/run starts %s and sets it (.ci/databases)", name, what)
	}
	return v
}

// Eventually asks cond until it holds, for at most 20 seconds of real
// time: a server's own view (a session waiting on a lock, a backend gone)
// is reached by asking it, each ask a round trip to the server.
func Eventually(t testing.TB, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		ok, err := cond(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: not within 20s", what)
		}
	}
}

// Proxy forwards loopback connections to a server. Hold stops every byte
// (connections stay open and new ones are accepted, as a hung server's
// are); Refuse closes everything and refuses new connections, as a
// stopped server's port does. Safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	held   bool // guarded by mu
	closed bool // guarded by mu
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// NewProxy forwards to target (host:port) until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Refuse)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Hold stops the traffic until Release.
func (p *Proxy) Hold() {
	p.mu.Lock()
	p.held = true
	p.mu.Unlock()
}

// Release lets the traffic pass again.
func (p *Proxy) Release() {
	p.mu.Lock()
	p.held = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Refuse closes every connection and the listener, and waits for the
// proxy's goroutines to end.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.ln.Close()
		for c := range p.conns {
			c.Close()
		}
		p.cond.Broadcast()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// pass waits while the traffic is held; false once the proxy is closed.
func (p *Proxy) pass() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.held && !p.closed {
		p.cond.Wait()
	}
	return !p.closed
}

// track keeps c to close on Refuse; false when the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	if !p.pass() {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	p.wg.Add(2)
	go p.copy(server, client, done)
	go p.copy(client, server, done)
	<-done // either side closing ends both
}

// copy forwards from src to dst, a read at a time, holding each read
// while the traffic is held.
func (p *Proxy) copy(dst, src net.Conn, done chan<- struct{}) {
	defer p.wg.Done()
	defer func() { done <- struct{}{}; dst.Close(); src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.pass() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
