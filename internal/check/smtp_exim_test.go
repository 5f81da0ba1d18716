package check

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// TestSMTPCheckAgainstExim probes the real mail server .ci/mail starts
// (Debian's exim4, STARTTLS on a certificate valid for 30 days): the
// banner, EHLO, STARTTLS and the certificate's chain and days left.
func TestSMTPCheckAgainstExim(t *testing.T) {
	addr, ca := os.Getenv("UPSTATE_TEST_SMTP_ADDR"), os.Getenv("UPSTATE_TEST_SMTP_CA")
	if addr == "" || ca == "" {
		if os.Getenv("UPSTATE_REAL_SERVICES") == "1" {
			t.Fatal("UPSTATE_TEST_SMTP_ADDR and UPSTATE_TEST_SMTP_CA are not set: .ci/run starts exim and sets them (.ci/mail)")
		}
		t.Skip("UPSTATE_TEST_SMTP_ADDR is not set: .ci/run starts exim and sets it (.ci/mail)")
	}
	clk := clock.NewFake(time.Now())
	ptr := func(n int) *int { return &n }
	for _, tt := range []struct {
		name    string
		section SMTPSection
		outcome upstate.Outcome
		err     string
		warn    string
	}{
		{"starttls, trusted", SMTPSection{Address: addr, CAFile: ca}, upstate.OutcomeOK, "", ""},
		{"the certificate within warn_days", SMTPSection{Address: addr, CAFile: ca, WarnDays: ptr(60)}, upstate.OutcomeOK, "", "expires in"},
		{"the certificate within fail_days", SMTPSection{Address: addr, CAFile: ca, WarnDays: ptr(90), FailDays: ptr(60)}, upstate.OutcomeFail, "expires in", ""},
		{"an authority not trusted", SMTPSection{Address: addr}, upstate.OutcomeFail, "unknown authority", ""},
		{"starttls off", SMTPSection{Address: addr, StartTLS: "off"}, upstate.OutcomeOK, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.section
			r := sectionProber(t, &s, Common{ID: "mx", Timeout: 10 * time.Second}, Env{Clock: clk}).Probe(context.Background())
			if r.Outcome != tt.outcome || !strings.Contains(r.Error, tt.err) {
				t.Errorf("got %s %q (%s), want %s with %q", r.Outcome, r.Error, r.Evidence(), tt.outcome, tt.err)
			}
			if (tt.warn == "") != (len(r.Warnings) == 0) || (tt.warn != "" && !strings.Contains(r.Warnings[0].What, tt.warn)) {
				t.Errorf("warnings %+v, want %q", r.Warnings, tt.warn)
			}
		})
	}
}
