// Package certtest makes a certificate authority and certificates of a
// chosen lifetime for tests: servers on loopback whose certificates
// expire in five days, expired yesterday, or carry another name. Only
// tests import it.
package certtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority for one test.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	t    testing.TB
}

// NewCA makes a CA valid from a year before now to ten years after.
func NewCA(t testing.TB, now time.Time) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "Upstate Test CA"},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, key: key, t: t}
}

// Pool trusts the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// File writes the CA's certificate as PEM into the test's temporary
// directory and returns its path (a ca_file).
func (ca *CA) File() string {
	ca.t.Helper()
	path := filepath.Join(ca.t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return path
}

// Leaf is a server certificate signed by the CA, valid from the CA's
// start until notAfter, for the names: host names, or IP addresses.
func (ca *CA) Leaf(notAfter time.Time, names ...string) tls.Certificate {
	return ca.chain(notAfter, time.Time{}, names)
}

// LeafVia is a server certificate signed by an intermediate CA that
// expires at interNotAfter, presented with the intermediate.
func (ca *CA) LeafVia(notAfter, interNotAfter time.Time, names ...string) tls.Certificate {
	return ca.chain(notAfter, interNotAfter, names)
}

func (ca *CA) chain(notAfter, interNotAfter time.Time, names []string) tls.Certificate {
	t := ca.t
	t.Helper()
	signer, signerKey := ca.Cert, ca.key
	var inter []byte
	if !interNotAfter.IsZero() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "Upstate Test Intermediate"},
			NotBefore: ca.Cert.NotBefore, NotAfter: interNotAfter, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
		if inter, err = x509.CreateCertificate(rand.Reader, tpl, ca.Cert, &key.PublicKey, ca.key); err != nil {
			t.Fatal(err)
		}
		if signer, err = x509.ParseCertificate(inter); err != nil {
			t.Fatal(err)
		}
		signerKey = key
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "upstate test server"},
		NotBefore: ca.Cert.NotBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tpl.IPAddresses = append(tpl.IPAddresses, ip)
		} else {
			tpl.DNSNames = append(tpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	if inter != nil {
		c.Certificate = append(c.Certificate, inter)
	}
	return c
}

// Listen serves TLS with the certificate on a loopback port until the
// test ends, completing each handshake and then waiting for the client to
// hang up: enough for a tls check. It returns the address.
func Listen(t testing.TB, cert tls.Certificate) string { return Serve(t, cert).Addr }

// Server is a TLS endpoint on loopback whose certificate can be changed
// (renewed) while it runs.
type Server struct {
	Addr string
	cert atomic.Pointer[tls.Certificate]
}

// Set makes the server present cert from the next handshake on.
func (s *Server) Set(cert tls.Certificate) { s.cert.Store(&cert) }

// Serve is Listen, returning the server.
func Serve(t testing.TB, cert tls.Certificate) *Server {
	t.Helper()
	s := &Server{}
	s.Set(cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				// A bound, not a wait: a client that never hangs up.
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				_ = c.(*tls.Conn).Handshake()
				_, _ = c.Read(make([]byte, 1))
			}()
		}
	}()
	s.Addr = ln.Addr().String()
	return s
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
