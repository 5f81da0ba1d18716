// Package email sends notifications over SMTP: STARTTLS (the default),
// implicit TLS or, for a relay on the same host, plain; text and HTML
// parts; one thread per incident (Message-ID, In-Reply-To, References).
// It uses net/smtp, which is frozen but complete for sending.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
)

// The ways to secure the connection.
const (
	StartTLS = "starttls" // submit on 587, upgrade; refuse a server that cannot
	TLS      = "tls"      // implicit TLS, usually 465
	None     = "none"     // plain; only for a relay on a trusted network
)

// Options configure an email channel.
type Options struct {
	Host     string
	Port     int
	Security string // StartTLS (default), TLS or None
	Username string
	Password upstate.Secret
	From     string
	To       []string
	// TLSConfig verifies the server; default verifies against the system
	// roots for Host.
	TLSConfig  *tls.Config
	Page       notify.Page
	Templates  notify.Templates
	Markdown   func(string) template.HTML
	Now        func() time.Time
	PublicOnly bool
	// Headers adds headers to a message (List-Unsubscribe for subscribers).
	Headers func(m upstate.Message, to string) map[string]string
	// Unsubscribe, when set, is the link at the foot of every mail.
	Unsubscribe string
}

// Email sends to a fixed list of addresses.
type Email struct {
	opts   Options
	domain string
}

var _ notify.Destined = (*Email)(nil)

// New returns the channel.
func New(opts Options) (*Email, error) {
	if opts.Host == "" || opts.From == "" || len(opts.To) == 0 || opts.Markdown == nil || opts.Now == nil {
		return nil, errors.New("email: Options.Host, From, To, Markdown and Now are required")
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("email: from %q: %w", opts.From, err)
	}
	if opts.Security == "" {
		opts.Security = StartTLS
	}
	if opts.Port == 0 {
		opts.Port = map[string]int{StartTLS: 587, TLS: 465, None: 25}[opts.Security]
	}
	if opts.TLSConfig == nil {
		opts.TLSConfig = &tls.Config{ServerName: opts.Host, MinVersion: tls.VersionTLS12}
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &Email{opts: opts, domain: domain}, nil
}

// Send implements notify.Channel: one SMTP session, one mail per recipient
// (so each can carry its own headers). A 4xx reply is retried, 5xx is
// final.
func (e *Email) Send(ctx context.Context, m upstate.Message) error {
	x, err := notify.Render(m.Event, e.opts.Page, e.opts.Templates, e.opts.PublicOnly)
	if err != nil {
		return notify.Permanent(err)
	}
	c, err := e.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, to := range e.opts.To {
		body, err := e.compose(m, x, to)
		if err != nil {
			return notify.Permanent(err)
		}
		if err := send(c, e.opts.From, to, body); err != nil {
			return classify(err)
		}
	}
	return classify(c.Quit())
}

func (e *Email) dial(ctx context.Context) (*smtp.Client, error) {
	addr := net.JoinHostPort(e.opts.Host, strconv.Itoa(e.opts.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if e.opts.Security == TLS {
		tc := tls.Client(conn, e.opts.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, notify.Permanent(fmt.Errorf("TLS with %s: %w", addr, err))
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.opts.Host)
	if err != nil {
		conn.Close()
		return nil, classify(fmt.Errorf("greeting from %s: %w", addr, err))
	}
	if e.opts.Security == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			c.Close()
			return nil, notify.Permanent(fmt.Errorf("%s does not offer STARTTLS; set security: tls or none", addr))
		}
		if err := c.StartTLS(e.opts.TLSConfig); err != nil {
			c.Close()
			return nil, notify.Permanent(fmt.Errorf("STARTTLS with %s: %w", addr, err))
		}
	}
	if e.opts.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.opts.Username, e.opts.Password.Reveal(), e.opts.Host)); err != nil {
			c.Close()
			return nil, notify.Permanent(fmt.Errorf("sign in to %s as %s: %w", addr, e.opts.Username, err))
		}
	}
	return c, nil
}

func send(c *smtp.Client, from, to string, body []byte) error {
	f, _ := mail.ParseAddress(from)
	if err := c.Mail(f.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	return w.Close()
}

// classify makes SMTP's 5xx replies final; 4xx and network errors retry.
// A reply is the server answering.
func classify(err error) error {
	var te *textproto.Error
	switch {
	case errors.As(err, &te) && te.Code >= 500:
		return notify.Answered(notify.Permanent(err))
	case errors.As(err, &te):
		return notify.Answered(err)
	}
	return err
}

// ThreadID is the Message-ID every mail about an incident refers to.
func (e *Email) ThreadID(incidentID string) string {
	return "<incident-" + incidentID + "@" + e.domain + ">"
}

// compose writes the mail: headers, then text and HTML alternatives.
func (e *Email) compose(m upstate.Message, x notify.Text, to string) ([]byte, error) {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", e.opts.From)
	h("To", to)
	h("Subject", mime.QEncoding.Encode("utf-8", "["+e.opts.Page.Name+"] "+x.Headline))
	h("Date", e.opts.Now().Format(time.RFC1123Z))
	id := "<" + strings.NewReplacer(":", ".", "<", "", ">", "", "@", ".").Replace(m.ID) + "@" + e.domain + ">"
	thread := e.ThreadID(m.Event.Incident.ID)
	if w := m.Event.Warning; w != nil {
		thread = e.ThreadID(w.Stream()) // one thread per check's warning
	}
	if m.Event.Type == upstate.EventIncidentCreated {
		id = thread
	} else if m.Event.Type != upstate.EventTest && m.Event.Type != upstate.EventSubscriptionConfirm {
		h("In-Reply-To", thread)
		h("References", thread)
	}
	h("Message-ID", id)
	h("Auto-Submitted", "auto-generated")
	if e.opts.Headers != nil {
		for k, v := range e.opts.Headers(m, to) {
			h(k, v)
		}
	}
	mw := multipart.NewWriter(&b)
	h("MIME-Version", "1.0")
	h("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	b.WriteString("\r\n")
	text := x.Headline + "\n\n" + x.Body + "\n"
	if x.Components != "" {
		text += "\nAffected: " + x.Components + "\n"
	}
	if x.URL != "" {
		text += "\n" + x.URL + "\n"
	}
	if e.opts.Unsubscribe != "" {
		text += "\n--\nUnsubscribe: " + e.opts.Unsubscribe + "\n"
	}
	var html bytes.Buffer
	fmt.Fprintf(&html, "<!doctype html><html><body><h2>%s %s</h2>", x.Mark, template.HTMLEscapeString(x.Title))
	if x.Status != "" {
		fmt.Fprintf(&html, "<p><strong>%s</strong> · Impact: %s", template.HTMLEscapeString(x.Status), x.Impact)
		if x.Components != "" {
			fmt.Fprintf(&html, " · Affected: %s", template.HTMLEscapeString(x.Components))
		}
		html.WriteString("</p>")
	}
	fmt.Fprintf(&html, "%s", e.opts.Markdown(x.Body))
	if x.URL != "" {
		fmt.Fprintf(&html, `<p><a href="%s">View the incident</a></p>`, template.HTMLEscapeString(x.URL))
	}
	if e.opts.Unsubscribe != "" {
		fmt.Fprintf(&html, `<hr><p style="font-size:smaller"><a href="%s">Unsubscribe</a></p>`, template.HTMLEscapeString(e.opts.Unsubscribe))
	}
	html.WriteString("</body></html>")
	for _, part := range []struct{ ctype, body string }{{"text/plain; charset=utf-8", text}, {"text/html; charset=utf-8", html.String()}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		qp.Close()
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Destination implements notify.Destined: the mail server.
func (e *Email) Destination() string { return net.JoinHostPort(e.opts.Host, strconv.Itoa(e.opts.Port)) }
