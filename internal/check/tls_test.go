package check

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/certtest"
	"github.com/upstatehq/upstate/internal/clock"
)

// sectionProber validates a section as the configuration does and builds
// its prober, failing the test on any problem.
func sectionProber(t *testing.T, s Section, c Common, env Env) Prober {
	t.Helper()
	v := &problems{inbound: true}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	s.Validate(v, &c)
	if st, ok := s.(Settled); ok {
		st.ValidateSettled(v, c)
	}
	if len(v.errs) > 0 {
		t.Fatalf("%T: %v", s, v.errs)
	}
	p, err := s.Prober(c, env)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLSCheck(t *testing.T) {
	now := time.Now()
	ca := certtest.NewCA(t, now)
	caFile := ca.File()
	fake := clock.NewFake(now)
	day := 24 * time.Hour
	probe := func(t *testing.T, s *TLSSection) upstate.Result {
		t.Helper()
		return sectionProber(t, s, Common{ID: "tls"}, Env{Clock: fake}).Probe(context.Background())
	}
	ints := func(n int) *int { return &n }
	tests := []struct {
		name    string
		cert    tls.Certificate
		section TLSSection // Address is filled in
		outcome upstate.Outcome
		err     string // part of the evidence
		warn    string // part of the warning; "" for none
		stage   int
	}{
		{"plenty of days", ca.Leaf(now.Add(90*day), "127.0.0.1"), TLSSection{CAFile: caFile}, upstate.OutcomeOK, "", "", 0},
		{"under warn_days: a warning, not a failure", ca.Leaf(now.Add(10*day+time.Hour), "127.0.0.1"), TLSSection{CAFile: caFile}, upstate.OutcomeOK, "",
			"expires in 10 days (", 14},
		{"closer: the next stage", ca.Leaf(now.Add(5*day+time.Hour), "127.0.0.1"), TLSSection{CAFile: caFile}, upstate.OutcomeOK, "", "expires in 5 days", 7},
		{"the last day", ca.Leaf(now.Add(20*time.Hour), "127.0.0.1"), TLSSection{CAFile: caFile}, upstate.OutcomeOK, "", "expires in 20 hours", 1},
		{"expired fails", ca.Leaf(now.Add(-2*day), "127.0.0.1"), TLSSection{CAFile: caFile}, upstate.OutcomeFail, "expired 2 days ago", "", 0},
		{"under fail_days fails", ca.Leaf(now.Add(5*day+time.Hour), "127.0.0.1"), TLSSection{CAFile: caFile, FailDays: ints(7)}, upstate.OutcomeFail,
			"expires in 5 days", "", 0},
		{"warn_days 0 turns warnings off", ca.Leaf(now.Add(5*day), "127.0.0.1"), TLSSection{CAFile: caFile, WarnDays: ints(0)}, upstate.OutcomeOK, "", "", 0},
		{"an intermediate that expires first", ca.LeafVia(now.Add(90*day), now.Add(3*day+time.Hour), "127.0.0.1"), TLSSection{CAFile: caFile}, upstate.OutcomeOK, "",
			`TLS certificate "Upstate Test Intermediate" in the chain of`, 7},
		{"another name", ca.Leaf(now.Add(90*day), "api.example.com"), TLSSection{CAFile: caFile}, upstate.OutcomeFail,
			"TLS certificate is not for 127.0.0.1 (it is for api.example.com)", "", 0},
		{"server_name", ca.Leaf(now.Add(90*day), "api.example.com"), TLSSection{CAFile: caFile, ServerName: "api.example.com"}, upstate.OutcomeOK, "", "", 0},
		{"an authority not trusted", ca.Leaf(now.Add(90*day), "127.0.0.1"), TLSSection{}, upstate.OutcomeFail, "signed by an unknown authority", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.section
			s.Address = certtest.Listen(t, tt.cert)
			r := probe(t, &s)
			if r.Outcome != tt.outcome || !strings.Contains(r.Error, tt.err) {
				t.Errorf("got %s %q, want %s with %q", r.Outcome, r.Error, tt.outcome, tt.err)
			}
			switch {
			case tt.warn == "" && len(r.Warnings) > 0:
				t.Errorf("warned: %+v", r.Warnings)
			case tt.warn != "" && (len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].What, tt.warn) || r.Warnings[0].Stage != tt.stage ||
				r.Warnings[0].CheckID != "tls" || r.Warnings[0].Key != "certificate"):
				t.Errorf("warnings %+v, want one at stage %d saying %q", r.Warnings, tt.stage, tt.warn)
			}
		})
	}
	t.Run("not TLS", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n")
				c.Close()
			}
		}()
		if r := probe(t, &TLSSection{Address: ln.Addr().String()}); r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Error, "TLS handshake failed") {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("refused", func(t *testing.T) {
		if r := probe(t, &TLSSection{Address: closedPort(t)}); r.Error != "connection refused" {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("ca_file missing", func(t *testing.T) {
		_, err := (&TLSSection{Address: "127.0.0.1:1", CAFile: "/nonexistent/ca.pem"}).Prober(Common{ID: "x"}, Env{Clock: fake})
		if err == nil || !strings.Contains(err.Error(), "ca_file: open /nonexistent/ca.pem") {
			t.Errorf("got %v", err)
		}
	})
}

func TestCertDaysValidation(t *testing.T) {
	ints := func(n int) *int { return &n }
	tests := []struct {
		warn, fail *int
		want       string
	}{
		{nil, nil, ""},
		{ints(30), ints(7), ""},
		{ints(-1), nil, "warn_days: -1 must not be negative"},
		{nil, ints(14), "fail_days: 14 must be fewer than warn_days 14"},
		{ints(0), ints(3), ""},
	}
	for _, tt := range tests {
		v := &problems{}
		d := certDaysKeys(v, tt.warn, tt.fail)
		got := strings.Join(v.errs, "; ")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("warn %v fail %v: got %q, want %q", tt.warn, tt.fail, got, tt.want)
		}
		if tt.warn == nil && tt.fail == nil && d != (CertDays{Warn: 14, Fail: 0}) {
			t.Errorf("defaults = %+v", d)
		}
	}
	if got := (CertDays{Warn: 30, Fail: 3}).stages(); len(got) != 2 || got[0] != 30 || got[1] != 7 {
		t.Errorf("stages = %v, want [30 7]", got)
	}
}

// mailServer runs a real SMTP server (emersion/go-smtp) on loopback
// until the test ends: STARTTLS with cert when it has one.
func mailServer(t *testing.T, cert *tls.Certificate) string {
	t.Helper()
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return noMail{}, nil }))
	s.Domain = "mx.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if cert != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

// noMail is a session that takes no mail: a check never sends any.
type noMail struct{}

func (noMail) Mail(string, *smtp.MailOptions) error { return errors.New("no mail today") }
func (noMail) Rcpt(string, *smtp.RcptOptions) error { return errors.New("no mail today") }
func (noMail) Data(io.Reader) error                 { return errors.New("no mail today") }
func (noMail) Reset()                               {}
func (noMail) Logout() error                        { return nil }

func TestSMTPCheck(t *testing.T) {
	now := time.Now()
	ca := certtest.NewCA(t, now)
	caFile := ca.File()
	fake := clock.NewFake(now)
	day := 24 * time.Hour
	good := ca.Leaf(now.Add(60*day), "127.0.0.1")
	soon := ca.Leaf(now.Add(5*day+time.Hour), "127.0.0.1")
	expired := ca.Leaf(now.Add(-day), "127.0.0.1")
	withTLS, soonTLS, expiredTLS, plain := mailServer(t, &good), mailServer(t, &soon), mailServer(t, &expired), mailServer(t, nil)
	tests := []struct {
		name    string
		section SMTPSection
		outcome upstate.Outcome
		err     string
		warn    string
	}{
		{"starttls and a good certificate", SMTPSection{Address: withTLS, CAFile: caFile}, upstate.OutcomeOK, "", ""},
		{"a certificate expiring soon warns", SMTPSection{Address: soonTLS, CAFile: caFile}, upstate.OutcomeOK, "", "expires in 5 days"},
		{"an expired certificate fails", SMTPSection{Address: expiredTLS, CAFile: caFile}, upstate.OutcomeFail, "expired 24 hours ago", ""},
		{"insecure_skip_verify still judges the days", SMTPSection{Address: soonTLS, InsecureSkipVerify: true}, upstate.OutcomeOK, "", "expires in 5 days"},
		{"an authority not trusted", SMTPSection{Address: withTLS}, upstate.OutcomeFail, "signed by an unknown authority", ""},
		{"starttls required but not offered", SMTPSection{Address: plain}, upstate.OutcomeFail, "STARTTLS is not offered (starttls: required)", ""},
		{"starttls optional and not offered", SMTPSection{Address: plain, StartTLS: "optional"}, upstate.OutcomeOK, "", ""},
		{"starttls optional and offered is used", SMTPSection{Address: expiredTLS, StartTLS: "optional", CAFile: caFile}, upstate.OutcomeFail, "expired", ""},
		{"starttls off", SMTPSection{Address: withTLS, StartTLS: "off"}, upstate.OutcomeOK, "", ""},
		{"refused", SMTPSection{Address: closedPort(t)}, upstate.OutcomeFail, "connection refused", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.section
			r := sectionProber(t, &s, Common{ID: "mx"}, Env{Clock: fake}).Probe(context.Background())
			if r.Outcome != tt.outcome || !strings.Contains(r.Error, tt.err) {
				t.Errorf("got %s %q, want %s with %q", r.Outcome, r.Error, tt.outcome, tt.err)
			}
			if (tt.warn == "") != (len(r.Warnings) == 0) || (tt.warn != "" && !strings.Contains(r.Warnings[0].What, tt.warn)) {
				t.Errorf("warnings %+v, want %q", r.Warnings, tt.warn)
			}
		})
	}
	t.Run("a banner that refuses", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				io.WriteString(c, "554 5.3.2 mx.test not accepting mail\r\n")
				c.Close()
			}
		}()
		r := sectionProber(t, &SMTPSection{Address: ln.Addr().String()}, Common{ID: "mx"}, Env{Clock: fake}).Probe(context.Background())
		if r.Outcome != upstate.OutcomeFail || r.Error != "banner: the server answered 554 5.3.2 mx.test not accepting mail" {
			t.Errorf("got %q", r.Error)
		}
	})
	t.Run("validation", func(t *testing.T) {
		v := &problems{}
		s := &SMTPSection{Address: "mx.example.com", StartTLS: "sometimes"}
		s.Validate(v, &Common{})
		if s.Address != "mx.example.com:25" || len(v.errs) != 1 || !strings.Contains(v.errs[0], `starttls: "sometimes" is not one of required, optional, off`) {
			t.Errorf("address %q, problems %v", s.Address, v.errs)
		}
	})
}
