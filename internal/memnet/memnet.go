// Package memnet is an in-memory network for tests: listeners and
// dialers joined by net.Pipe. Inside a testing/synctest bubble a goroutine
// blocked on a pipe is idle, so bubble time advances, which it never does
// while one waits on a real socket; the demo's replay and app's detection
// tests run the whole system on it.
package memnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// MemNet is an in-memory network: listeners and dialers joined by
// net.Pipe.
type MemNet struct {
	mu        sync.Mutex
	listeners map[string]*memListener
	next      int
}

// New returns an empty network.
func New() *MemNet { return &MemNet{listeners: map[string]*memListener{}} }

// Listen returns a listener on a fresh address such as "mem:3".
func (n *MemNet) Listen() net.Listener {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	addr := fmt.Sprintf("127.0.0.%d:%d", 100+n.next/250, 9000+n.next)
	l := &memListener{net: n, addr: memAddr(addr), conns: make(chan net.Conn), done: make(chan struct{})}
	n.listeners[addr] = l
	return l
}

// Dial connects to a listener of this network; it matches
// net.Dialer.DialContext, so it can back an http.Transport.
func (n *MemNet) Dial(ctx context.Context, _, addr string) (net.Conn, error) {
	n.mu.Lock()
	l := n.listeners[addr]
	n.mu.Unlock()
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	}
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memAddr string

func (a memAddr) Network() string { return "tcp" }
func (a memAddr) String() string  { return string(a) }

type memListener struct {
	net   *MemNet
	addr  memAddr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.net.mu.Lock()
		delete(l.net.listeners, string(l.addr))
		l.net.mu.Unlock()
	})
	return nil
}

func (l *memListener) Addr() net.Addr { return l.addr }
