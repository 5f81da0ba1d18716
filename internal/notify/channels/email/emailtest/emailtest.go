// Package emailtest runs a real SMTP server (github.com/emersion/go-smtp)
// on loopback for tests: it keeps what it receives, can offer STARTTLS or
// implicit TLS with a certificate valid for 127.0.0.1, checks PLAIN
// credentials, and can be told to refuse recipients. Only tests import it.
package emailtest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message as delivered.
type Mail struct {
	From, To string
	Data     []byte
	Authed   string // the user that signed in, if any
}

// Server is a running mailbox.
type Server struct {
	Port  int
	Roots *x509.CertPool // trusts the server's certificate
	mu    sync.Mutex
	got   []Mail
	// refuse, when set, is the reply to every RCPT.
	refuse *smtp.SMTPError
}

// Options say how the server behaves.
type Options struct {
	TLS          bool // offer STARTTLS (or, with TLSOnConnect, speak TLS at once)
	TLSOnConnect bool
	User, Pass   string // credentials for AUTH PLAIN; empty accepts any
}

// Start runs a server until the test ends.
func Start(t *testing.T, o Options) *Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil) // for its certificate, valid for 127.0.0.1
	ts.StartTLS()
	cfg := &tls.Config{Certificates: ts.TLS.Certificates}
	srv := &Server{Roots: x509.NewCertPool()}
	srv.Roots.AddCert(ts.Certificate())
	ts.Close()
	s := smtp.NewServer(backend{srv, o})
	s.Domain = "127.0.0.1"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if o.TLS {
		s.TLSConfig = cfg
	}
	s.AllowInsecureAuth = !o.TLS
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.TLSOnConnect {
		ln = tls.NewListener(ln, cfg)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	srv.Port = ln.Addr().(*net.TCPAddr).Port
	return srv
}

// Mails returns what has arrived so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.got...)
}

// Refuse makes every RCPT answer with code and text; code 0 accepts again.
func (s *Server) Refuse(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = nil
	if code != 0 {
		s.refuse = &smtp.SMTPError{Code: code, Message: text}
	}
}

type backend struct {
	srv  *Server
	opts Options
}

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct {
	b        backend
	from, to string
	user     string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if s.b.opts.User != "" && (user != s.b.opts.User || pass != s.b.opts.Pass) {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.srv.mu.Lock()
	defer s.b.srv.mu.Unlock()
	if s.b.srv.refuse != nil {
		return s.b.srv.refuse
	}
	s.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.srv.mu.Lock()
	s.b.srv.got = append(s.b.srv.got, Mail{s.from, s.to, b, s.user})
	s.b.srv.mu.Unlock()
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
