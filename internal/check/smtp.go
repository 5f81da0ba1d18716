package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// smtpKind checks a mail server: its banner, EHLO, STARTTLS and the
// certificate it then presents.
func smtpKind() Kind {
	return Kind{Name: "smtp", New: func() Section { return &SMTPSection{} }}
}

// SMTPSection is an smtp check's configuration.
type SMTPSection struct {
	Address string `yaml:"address"` // host:port; port 25 when left out
	// StartTLS is required (default: fail without it), optional (use it
	// when offered) or off.
	StartTLS string `yaml:"starttls"`
	// EHLO is the name the check greets with; default "localhost".
	EHLO               string `yaml:"ehlo"`
	ServerName         string `yaml:"server_name"`
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	WarnDays           *int   `yaml:"warn_days"`
	FailDays           *int   `yaml:"fail_days"`

	days CertDays
}

// The starttls choices.
const (
	startTLSRequired = "required"
	startTLSOptional = "optional"
	startTLSOff      = "off"
)

// Validate implements Section.
func (s *SMTPSection) Validate(v Validator, _ *Common) {
	var ae *net.AddrError
	if _, _, err := net.SplitHostPort(s.Address); s.Address != "" && errors.As(err, &ae) && ae.Err == "missing port in address" {
		s.Address = net.JoinHostPort(strings.Trim(s.Address, "[]"), "25")
	}
	hostPort(v, "smtp", s.Address)
	if s.StartTLS == "" {
		s.StartTLS = startTLSRequired
	}
	if choices := []string{startTLSRequired, startTLSOptional, startTLSOff}; !slices.Contains(choices, s.StartTLS) {
		v.Errorf("starttls", "%q is not one of %s", s.StartTLS, strings.Join(choices, ", "))
	}
	if s.EHLO == "" {
		s.EHLO = "localhost"
	} else if strings.ContainsAny(s.EHLO, " \r\n") {
		v.Errorf("ehlo", "%q is not a host name", s.EHLO)
	}
	s.days = certDaysKeys(v, s.WarnDays, s.FailDays)
	if s.StartTLS == startTLSOff && (s.WarnDays != nil || s.FailDays != nil || s.CAFile != "" || s.ServerName != "" || s.InsecureSkipVerify) {
		v.Errorf("starttls", "is off, so there is no certificate for warn_days, fail_days, ca_file, server_name or insecure_skip_verify to judge")
	}
}

// ReadFiles implements FileReader.
func (s *SMTPSection) ReadFiles(v Validator) { readCAFile(v, s.CAFile) }

// Prober implements Section.
func (s *SMTPSection) Prober(c Common, env Env) (Prober, error) {
	roots, err := caFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	return &SMTP{ID: c.ID, Address: s.Address, StartTLS: s.StartTLS, EHLO: s.EHLO, ServerName: serverNameOf(s.Address, s.ServerName), Roots: roots,
		Insecure: s.InsecureSkipVerify, Days: s.days, Timeout: c.Timeout, Clock: env.Clock, Dial: env.Dial}, nil
}

// SMTP checks a mail server the way a sending server meets it: the 220
// banner, EHLO, STARTTLS and the certificate, then QUIT.
type SMTP struct {
	ID         string
	Address    string
	StartTLS   string // required, optional or off
	EHLO       string
	ServerName string
	Roots      *x509.CertPool // nil: the system's
	Insecure   bool           // the chain is not verified (its expiry still is)
	Days       CertDays
	Timeout    time.Duration
	Clock      clock.Clock
	Dial       DialFunc
}

// Probe implements Prober.
func (c *SMTP) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, c.Clock, c.Timeout)
	defer cancel()
	t := startTiming(c.Clock)
	conn, err := dial(ctx, c.Dial, c.Address)
	if err != nil {
		return fail(t.result(c.ID), describeErr(ctx, err, c.Timeout))
	}
	defer conn.Close()
	// The conversation's reads and writes end when ctx does.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	return c.talk(ctx, conn, t)
}

// talk holds the conversation.
func (c *SMTP) talk(ctx context.Context, conn net.Conn, t timing) upstate.Result {
	say := func(err error, what string) upstate.Result {
		var pe *textproto.Error
		switch {
		case errors.As(err, &pe):
			return fail(t.result(c.ID), fmt.Sprintf("%s: the server answered %d %s", what, pe.Code, pe.Msg))
		case errors.Is(err, io.EOF) && ctx.Err() == nil:
			return fail(t.result(c.ID), what+": the server closed the connection")
		}
		return fail(t.result(c.ID), what+": "+describeErr(ctx, err, c.Timeout))
	}
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return say(err, "banner")
	}
	ext, err := c.ehlo(tp)
	if err != nil {
		return say(err, "EHLO")
	}
	offered := slices.Contains(ext, "STARTTLS")
	switch {
	case c.StartTLS == startTLSOff, c.StartTLS == startTLSOptional && !offered:
		_ = quit(tp)
		return t.result(c.ID)
	case !offered:
		return fail(t.result(c.ID), "STARTTLS is not offered (starttls: required)")
	}
	id, err := tp.Cmd("STARTTLS")
	if err == nil {
		tp.StartResponse(id)
		_, _, err = tp.ReadResponse(220)
		tp.EndResponse(id)
	}
	if err != nil {
		return say(err, "STARTTLS")
	}
	tc := tls.Client(conn, clientTLS(c.ServerName))
	if err := tc.HandshakeContext(ctx); err != nil {
		return fail(t.result(c.ID), "STARTTLS: "+handshakeErr(ctx, err, c.Timeout))
	}
	tp = textproto.NewConn(tc)
	if _, err := c.ehlo(tp); err != nil {
		return say(err, "EHLO after STARTTLS")
	}
	_ = quit(tp)
	r := t.result(c.ID)
	cs := tc.ConnectionState()
	r.CertExpiry = certExpiry(cs.PeerCertificates)
	if c.Insecure {
		msg, w := c.Days.judge(c.ID, c.Address, cs.PeerCertificates, c.Clock.Now())
		if msg != "" {
			return fail(r, msg)
		}
		return withWarning(r, w)
	}
	return judgeTLS(r, cs, c.Roots, c.ServerName, c.Days, c.Address, c.Clock.Now())
}

// ehlo greets and returns the extensions the server lists, upper case.
func (c *SMTP) ehlo(tp *textproto.Conn) ([]string, error) {
	id, err := tp.Cmd("EHLO %s", c.EHLO)
	if err != nil {
		return nil, err
	}
	tp.StartResponse(id)
	defer tp.EndResponse(id)
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(msg, "\n")
	var ext []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 {
			ext = append(ext, strings.ToUpper(f[0]))
		}
	}
	return ext, nil
}

func quit(tp *textproto.Conn) error {
	id, err := tp.Cmd("QUIT")
	if err != nil {
		return err
	}
	tp.StartResponse(id)
	defer tp.EndResponse(id)
	_, _, err = tp.ReadResponse(221)
	return err
}
