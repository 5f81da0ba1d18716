package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels/email/emailtest"
)

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
			box := emailtest.Start(t, emailtest.Options{TLS: true, TLSOnConnect: mode == TLS, User: "upstate", Pass: "s3cret"})
			e := newEmail(t, box.Port, box.Roots, mode)
			if err := e.Send(context.Background(), message(upstate.EventIncidentCreated)); err != nil {
				t.Fatal(err)
			}
			if err := e.Send(context.Background(), message(upstate.EventIncidentUpdated)); err != nil {
				t.Fatal(err)
			}
			got := box.Mails()
			if len(got) != 4 {
				t.Fatalf("%d mails, want 2 messages × 2 recipients", len(got))
			}
			d := got[0]
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
			next, _ := mail.ReadMessage(strings.NewReader(string(got[2].Data)))
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
	box := emailtest.Start(t, emailtest.Options{TLS: true, User: "upstate", Pass: "s3cret"})
	port, roots := box.Port, box.Roots
	e := newEmail(t, port, roots, StartTLS)
	box.Refuse(450, "mailbox busy")
	err := e.Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err, time.Time{}); err == nil || perm {
		t.Errorf("450: %v (permanent %v), want a retry", err, perm)
	}
	box.Refuse(550, "no such user")
	err = e.Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err, time.Time{}); !perm {
		t.Errorf("550: %v, want final", err)
	}
	// A server without STARTTLS is refused rather than spoken to in clear.
	plain := emailtest.Start(t, emailtest.Options{})
	err = newEmail(t, plain.Port, roots, StartTLS).Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err, time.Time{}); !perm || !strings.Contains(err.Error(), "does not offer STARTTLS") || len(plain.Mails()) != 0 {
		t.Errorf("no STARTTLS: %v", err)
	}
	// A certificate that does not verify is final, not retried forever.
	other := x509.NewCertPool()
	err = newEmail(t, port, other, StartTLS).Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err, time.Time{}); !perm {
		t.Errorf("untrusted certificate: %v", err)
	}
	// Nobody listening: retried.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead, _ := strconv.Atoi(strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:"))
	ln.Close()
	err = newEmail(t, dead, roots, StartTLS).Send(context.Background(), message(upstate.EventIncidentCreated))
	if perm, _ := notify.Classify(err, time.Time{}); err == nil || perm {
		t.Errorf("connection refused: %v", err)
	}
}
