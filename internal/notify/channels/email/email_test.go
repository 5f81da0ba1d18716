package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http/httptest"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/notify"
)

// mailbox is a real SMTP server (go-smtp) on loopback that keeps what it
// receives and can be told to refuse recipients.
type mailbox struct {
	mu     sync.Mutex
	got    []delivered
	refuse *smtp.SMTPError
}

type delivered struct {
	From, To string
	Data     []byte
	Authed   string
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{box: b}, nil }

type session struct {
	box        *mailbox
	from, to   string
	authedUser string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "upstate" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.authedUser = user
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	if s.box.refuse != nil {
		return s.box.refuse
	}
	s.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.got = append(s.box.got, delivered{s.from, s.to, b, s.authedUser})
	s.box.mu.Unlock()
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// serve starts the server: implicit TLS when tlsOnConnect, else plain with
// STARTTLS offered when withTLS.
func serve(t *testing.T, box *mailbox, withTLS, tlsOnConnect bool) (port int, roots *x509.CertPool) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil) // for its certificate, valid for 127.0.0.1
	ts.StartTLS()
	cfg := &tls.Config{Certificates: ts.TLS.Certificates}
	roots = x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	ts.Close()
	s := smtp.NewServer(box)
	s.Domain = "127.0.0.1"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if withTLS {
		s.TLSConfig = cfg
	}
	s.AllowInsecureAuth = !withTLS
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsOnConnect {
		ln = tls.NewListener(ln, cfg)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().(*net.TCPAddr).Port, roots
}

var t0 = time.Date(2026, 8, 17, 15, 42, 0, 0, time.UTC)

func message(typ upstate.EventType) upstate.Message {
	in := upstate.Incident{ID: "p31zjtct2jer", Name: "Élevated API error rates", Status: upstate.Identified, Impact: upstate.ImpactMajor, Components: []string{"api"}}
	ev := upstate.Event{ID: in.ID + ".e1", Type: typ, At: t0, Incident: in, Names: map[string]string{"api": "API"},
		Entries: []upstate.TimelineEntry{{ID: "e1", Body: "A lock on **submissions**; <script>alert(1)</script>", Public: true}}}
	return upstate.Message{ID: "mail:" + ev.ID, Channel: "mail", Event: ev}
}

func newEmail(t *testing.T, port int, roots *x509.CertPool, security string) *Email {
	t.Helper()
	e, err := New(Options{Host: "127.0.0.1", Port: port, Security: security, Username: "upstate", Password: "s3cret",
		From: "Acme Status <status@acme.example>", To: []string{"oncall@acme.example", "lead@acme.example"},
		TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}, Page: notify.Page{Name: "Acme Status", URL: "https://status.acme.example"},
		Markdown: markdown.New().HTML, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSendOverSTARTTLSAndTLS(t *testing.T) {
	for _, mode := range []string{StartTLS, TLS} {
		t.Run(mode, func(t *testing.T) {
			box := &mailbox{}
			port, roots := serve(t, box, true, mode == TLS)
			e := newEmail(t, port, roots, mode)
			if err := e.Send(context.Background(), message(upstate.EventIncidentCreated)); err != nil {
				t.Fatal(err)
			}
			if err := e.Send(context.Background(), message(upstate.EventIncidentUpdated)); err != nil {
				t.Fatal(err)
			}
			if len(box.got) != 4 {
				t.Fatalf("%d mails, want 2 messages × 2 recipients", len(box.got))
			}
			d := box.got[0]
			if d.From != "status@acme.example" || d.To != "oncall@acme.example" || d.Authed != "upstate" {
				t.Errorf("envelope = %+v", d)
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(d.Data)))
			if err != nil {
				t.Fatal(err)
			}
			subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if subj != "[Acme Status] [Major] Élevated API error rates — Identified" {
				t.Errorf("subject = %q", subj)
			}
			if msg.Header.Get("Message-ID") != "<incident-p31zjtct2jer@acme.example>" {
				t.Errorf("first mail's Message-ID = %q", msg.Header.Get("Message-ID"))
			}
			next, _ := mail.ReadMessage(strings.NewReader(string(box.got[2].Data)))
			if next.Header.Get("In-Reply-To") != "<incident-p31zjtct2jer@acme.example>" || next.Header.Get("Message-ID") == msg.Header.Get("Message-ID") {
				t.Errorf("an update does not thread: %v", next.Header)
			}
			_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			mr := multipart.NewReader(msg.Body, params["boundary"])
			var parts []string
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(p)
				parts = append(parts, p.Header.Get("Content-Type")+"\n"+string(b))
			}
			if len(parts) != 2 || !strings.HasPrefix(parts[0], "text/plain") || !strings.HasPrefix(parts[1], "text/html") {
				t.Fatalf("parts = %q", parts)
			}
			if !strings.Contains(parts[0], "**submissions**") || !strings.Contains(parts[1], "<strong>submissions</strong>") || strings.Contains(parts[1], "<script>") {
				t.Errorf("bodies:\n%s", strings.Join(parts, "\n---\n"))
			}
			if !strings.Contains(parts[1], `href="https://status.acme.example/incidents/p31zjtct2jer"`) {
				t.Error("the HTML part does not link the incident")
			}
		})
	}
}

func TestFailures(t *testing.T) {
	box := &mailbox{}
	port, roots := serve(t, box, true, false)
	e := newEmail(t, port, roots, StartTLS)
	box.refuse = &smtp.SMTPError{Code: 450, Message: "mailbox busy"}
	err := e.Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err); err == nil || perm {
		t.Errorf("450: %v (permanent %v), want a retry", err, perm)
	}
	box.refuse = &smtp.SMTPError{Code: 550, Message: "no such user"}
	err = e.Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err); !perm {
		t.Errorf("550: %v, want final", err)
	}
	// A server without STARTTLS is refused rather than spoken to in clear.
	plain := &mailbox{}
	pport, _ := serve(t, plain, false, false)
	err = newEmail(t, pport, roots, StartTLS).Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err); !perm || !strings.Contains(err.Error(), "does not offer STARTTLS") || len(plain.got) != 0 {
		t.Errorf("no STARTTLS: %v", err)
	}
	// A certificate that does not verify is final, not retried forever.
	other := x509.NewCertPool()
	err = newEmail(t, port, other, StartTLS).Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err); !perm {
		t.Errorf("untrusted certificate: %v", err)
	}
	// Nobody listening: retried.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead, _ := strconv.Atoi(strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:"))
	ln.Close()
	err = newEmail(t, dead, roots, StartTLS).Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err); err == nil || perm {
		t.Errorf("connection refused: %v", err)
	}
}
