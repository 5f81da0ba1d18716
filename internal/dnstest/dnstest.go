// Package dnstest runs a tiny DNS server on loopback for tests: it
// answers every A and AAAA query with the addresses it is given (whatever
// the name), and the answers can be changed between queries, as a name
// that rebinds would.
package dnstest

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// Server is a DNS server on a loopback UDP port. Safe for concurrent use.
type Server struct {
	pc    net.PacketConn
	mu    sync.Mutex
	addrs []netip.Addr // guarded by mu
}

// Start serves until the test ends.
func Start(t *testing.T, addrs ...netip.Addr) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{pc: pc, addrs: addrs}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.serve()
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return s
}

// Set changes the answers from the next query on.
func (s *Server) Set(addrs ...netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs = addrs
}

// Addr is the server's ip:port.
func (s *Server) Addr() string { return s.pc.LocalAddr().String() }

// Resolver is a Go resolver that asks only this server.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.Addr())
	}}
}

func (s *Server) serve() {
	buf := make([]byte, 512)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := buf[:n]
		if len(q) < 12 {
			continue
		}
		// The question ends after its name's labels, type and class.
		i := 12
		for i < len(q) && q[i] != 0 {
			i += int(q[i]) + 1
		}
		if i+5 > len(q) {
			continue
		}
		qtype := uint16(q[i+1])<<8 | uint16(q[i+2])
		resp := []byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0} // a recursive answer, no error
		resp = append(resp, q[12:i+5]...)
		s.mu.Lock()
		for _, a := range s.addrs {
			if a.Is4() && qtype == 1 || a.Is6() && qtype == 28 {
				b := a.AsSlice()
				resp[7]++
				resp = append(resp, 0xc0, 12, byte(qtype>>8), byte(qtype), 0, 1, 0, 0, 0, 60, 0, byte(len(b)))
				resp = append(resp, b...)
			}
		}
		s.mu.Unlock()
		_, _ = s.pc.WriteTo(resp, from)
	}
}
