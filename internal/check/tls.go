package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// tlsKind checks the certificate chain of any TCP+TLS endpoint and how
// long it has left.
func tlsKind() Kind {
	return Kind{Name: "tls", New: func() Section { return &TLSSection{} }}
}

// TLSSection is a tls check's configuration.
type TLSSection struct {
	Address string `yaml:"address"` // host:port
	// ServerName is the name sent (SNI) and the certificate must carry;
	// default the address's host.
	ServerName string `yaml:"server_name"`
	// CAFile is a PEM file of the CAs to trust instead of the system's.
	CAFile   string `yaml:"ca_file"`
	WarnDays *int   `yaml:"warn_days"`
	FailDays *int   `yaml:"fail_days"`

	days CertDays
}

// Validate implements Section.
func (s *TLSSection) Validate(v Validator, _ *Common) {
	hostPort(v, "tls", s.Address)
	s.days = certDaysKeys(v, s.WarnDays, s.FailDays)
}

// hostPort checks a required host:port address.
func hostPort(v Validator, kind, address string) {
	if address == "" {
		v.Errorf("", "address is required for %s checks (host:port)", kind)
	} else if host, port, err := net.SplitHostPort(address); err != nil || port == "" || host == "" {
		v.Errorf("address", "%q is not host:port", address)
	}
}

// ReadFiles implements FileReader.
func (s *TLSSection) ReadFiles(v Validator) { readCAFile(v, s.CAFile) }

// Prober implements Section.
func (s *TLSSection) Prober(c Common, env Env) (Prober, error) {
	roots, err := caFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	return &TLS{ID: c.ID, Address: s.Address, ServerName: serverNameOf(s.Address, s.ServerName), Roots: roots, Days: s.days,
		Timeout: c.Timeout, Clock: env.Clock, Dial: env.Dial}, nil
}

// TLS checks an endpoint's certificate chain and its days left.
type TLS struct {
	ID         string
	Address    string
	ServerName string
	Roots      *x509.CertPool // nil: the system's
	Days       CertDays
	Timeout    time.Duration
	Clock      clock.Clock
	Dial       DialFunc // nil: the operating system's network
}

// Probe implements Prober.
func (c *TLS) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, c.Clock, c.Timeout)
	defer cancel()
	t := startTiming(c.Clock)
	conn, err := dial(ctx, c.Dial, c.Address)
	if err != nil {
		return fail(t.result(c.ID), describeErr(ctx, err, c.Timeout))
	}
	defer conn.Close()
	tc := tls.Client(conn, clientTLS(c.ServerName))
	if err := tc.HandshakeContext(ctx); err != nil {
		return fail(t.result(c.ID), handshakeErr(ctx, err, c.Timeout))
	}
	r := t.result(c.ID)
	return judgeTLS(r, tc.ConnectionState(), c.Roots, c.ServerName, c.Days, c.Address, c.Clock.Now())
}

// dial opens a TCP connection with d, or the operating system's network.
func dial(ctx context.Context, d DialFunc, address string) (net.Conn, error) {
	if d == nil {
		d = (&net.Dialer{}).DialContext
	}
	return d(ctx, "tcp", address)
}

// clientTLS is the client side of a handshake whose chain is verified
// afterwards (verifyChain), on the injected clock and in plain words.
func clientTLS(serverName string) *tls.Config {
	//nolint:gosec // verified by verifyChain once the handshake is done
	return &tls.Config{ServerName: serverName, InsecureSkipVerify: true}
}

// handshakeErr says why a handshake failed.
func handshakeErr(ctx context.Context, err error, timeout time.Duration) string {
	if ctx.Err() != nil {
		return describeErr(ctx, err, timeout)
	}
	return describeTLSErr(err)
}

// judgeTLS verifies a finished handshake's chain and judges its expiry.
func judgeTLS(r upstate.Result, cs tls.ConnectionState, roots *x509.CertPool, serverName string, days CertDays, name string, now time.Time) upstate.Result {
	r.CertExpiry = certExpiry(cs.PeerCertificates)
	if msg := verifyChain(cs.PeerCertificates, roots, serverName, now); msg != "" {
		return fail(r, msg)
	}
	msg, w := days.judge(r.CheckID, name, cs.PeerCertificates, now)
	if msg != "" {
		return fail(r, msg)
	}
	return withWarning(r, w)
}
