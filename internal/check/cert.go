package check

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Certificate expiry is an operator's warning, not a public outage: a
// certificate with less than warn_days left puts a Warning on the result
// (operators are told, the admin side lists it, the public page is
// untouched), and only one with less than fail_days left (0 by default:
// once it has expired) fails the check. The tls and smtp kinds take
// warn_days and fail_days; an http check's expect.cert_days_left is its
// warn_days and expect.cert_fail_days its fail_days.

// Certificate expiry defaults.
const (
	DefaultWarnDays = 14
	DefaultFailDays = 0
)

// certKey is the Warning.Key of a certificate's expiry.
const certKey = "certificate"

// CertDays says when a certificate's nearing expiry warns and when it fails.
type CertDays struct {
	Warn int // warn with fewer days left than this; 0: never
	Fail int // fail with fewer days left than this; 0: once expired
}

// certDaysKeys validates and defaults warn_days and fail_days (nil: unset).
func certDaysKeys(v Validator, warn, fail *int) CertDays {
	d := CertDays{Warn: DefaultWarnDays, Fail: DefaultFailDays}
	if warn != nil {
		d.Warn = *warn
	}
	if fail != nil {
		d.Fail = *fail
	}
	if d.Warn < 0 {
		v.Errorf("warn_days", "%d must not be negative (0 turns the warning off)", d.Warn)
	}
	if d.Fail < 0 {
		v.Errorf("fail_days", "%d must not be negative (0 fails once the certificate has expired)", d.Fail)
	}
	if d.Warn > 0 && d.Fail >= d.Warn {
		v.Errorf("fail_days", "%d must be fewer than warn_days %d, or the check would fail before it warns", d.Fail, d.Warn)
	}
	return d
}

// stages are the day thresholds a certificate's warning is told again
// at, furthest first: warn_days, then 7 and 1 where they are closer.
func (d CertDays) stages() []int {
	out := []int{d.Warn}
	for _, s := range []int{7, 1} {
		if s < d.Warn && s > d.Fail {
			out = append(out, s)
		}
	}
	return out
}

// judge looks at the certificates a server presented (the leaf first)
// at now: the one that expires first decides. It returns what fails the
// check ("" for nothing) and the warning to carry (nil for none). name is
// the endpoint people know ("api.example.com:443").
func (d CertDays) judge(checkID, name string, certs []*x509.Certificate, now time.Time) (string, *upstate.Warning) {
	if len(certs) == 0 {
		return "no TLS certificate to check", nil
	}
	first := certs[0]
	for _, c := range certs[1:] {
		if c.NotAfter.Before(first.NotAfter) {
			first = c
		}
	}
	what := "TLS certificate of " + name
	if first != certs[0] {
		what = fmt.Sprintf("TLS certificate %q in the chain of %s", first.Subject.CommonName, name)
	}
	left := first.NotAfter.Sub(now)
	date := first.NotAfter.UTC().Format("Jan 2, 2006 15:04 UTC")
	if left < 0 {
		return fmt.Sprintf("%s expired %s ago (%s)", what, upstate.FormatDuration(-left, upstate.DurationWords), date), nil
	}
	// In days, as floats: a configured number of days may not fit a
	// time.Duration.
	days := left.Hours() / 24
	if days < float64(d.Fail) {
		return fmt.Sprintf("%s expires in %s (%s), under fail_days %d", what, daysLeft(left), date, d.Fail), nil
	}
	if d.Warn <= 0 || days >= float64(d.Warn) {
		return "", nil
	}
	stage := d.Warn
	for _, s := range d.stages() {
		if days < float64(s) {
			stage = s
		}
	}
	return "", &upstate.Warning{CheckID: checkID, Key: certKey, Stage: stage, Due: first.NotAfter.AddDate(0, 0, -d.Fail),
		What: fmt.Sprintf("%s expires in %s (%s)", what, daysLeft(left), date)}
}

// certExpiry is when the first of the certificates to expire does; zero
// for none.
func certExpiry(certs []*x509.Certificate) time.Time {
	var first time.Time
	for _, c := range certs {
		if first.IsZero() || c.NotAfter.Before(first) {
			first = c.NotAfter
		}
	}
	return first
}

// daysLeft says a time to expiry the way people count it: "5 days",
// "1 day", "20 hours".
func daysLeft(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	switch {
	case days > 1:
		return fmt.Sprintf("%d days", days)
	case days == 1:
		return "1 day"
	}
	return upstate.FormatDuration(d, upstate.DurationWords)
}

// withWarning adds the warning, if any, to the result.
func withWarning(r upstate.Result, w *upstate.Warning) upstate.Result {
	if w != nil {
		r.Warnings = append(r.Warnings, *w)
	}
	return r
}

// loadCAFile reads a PEM file of CA certificates ("" for the system's roots).
func loadCAFile(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s has no PEM certificate in it", path)
	}
	return pool, nil
}

// FileReader is a section that reads files when its prober is built
// (ca_file). ReadFiles reports, by key, those that cannot be read, so
// that `upstate validate` and a reload say so at their lines; config
// itself does no I/O, so app asks (app.ConfigRules).
type FileReader interface {
	ReadFiles(v Validator)
}

// readCAFile reports a ca_file that cannot be used.
func readCAFile(v Validator, path string) {
	if _, err := loadCAFile(path); err != nil {
		v.Errorf("ca_file", "%v", err)
	}
}

// caFile loads a section's ca_file for its prober.
func caFile(path string) (*x509.CertPool, error) {
	pool, err := loadCAFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	return pool, nil
}

// verifyChain checks the certificates a server presented against roots
// (nil: the system's) for serverName at now, and says what is wrong in
// plain words ("" when the chain is good). An expired certificate is left
// to CertDays.judge, which says by how long.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, serverName string, now time.Time) string {
	if len(certs) == 0 {
		return "the server presented no certificate"
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	// Verified at a time the certificates are all valid, so that an
	// expired one is judged (and worded) by its days, not as untrusted.
	at := now
	for _, c := range certs {
		if c.NotAfter.Before(at) {
			at = c.NotAfter.Add(-time.Second)
		}
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: serverName, CurrentTime: at})
	if err == nil {
		return ""
	}
	return describeCertErr(err)
}

// describeCertErr says why a certificate is refused.
func describeCertErr(err error) string {
	var he x509.HostnameError
	if errors.As(err, &he) {
		names := he.Certificate.DNSNames
		if len(names) > 4 {
			names = append(slices.Clone(names[:4]), "…")
		}
		if len(names) == 0 {
			return fmt.Sprintf("TLS certificate is not for %s", he.Host)
		}
		return fmt.Sprintf("TLS certificate is not for %s (it is for %s)", he.Host, strings.Join(names, ", "))
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return "TLS certificate not trusted: signed by an unknown authority"
	}
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) {
		if ci.Reason == x509.Expired {
			return "TLS certificate is not valid yet: " + ci.Detail
		}
		return "TLS certificate not valid: " + ci.Error()
	}
	return "TLS certificate not trusted: " + err.Error()
}

// serverNameOf is the name a certificate must carry when none is given:
// the address's host.
func serverNameOf(address, serverName string) string {
	if serverName != "" {
		return serverName
	}
	host := address
	if i := strings.LastIndex(address, ":"); i >= 0 {
		host = address[:i]
	}
	return strings.Trim(host, "[]")
}

// describeTLSErr says why a TLS handshake failed.
func describeTLSErr(err error) string {
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return "TLS handshake failed: the server does not speak TLS"
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return "TLS handshake refused by the server: " + alert.Error()
	}
	return "TLS handshake failed: " + err.Error()
}
