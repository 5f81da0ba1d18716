package check

import (
	"net/url"
)

// Targeted is a section that says what its check probes, in a few words
// for the operators' console: a URL, host:port, a query. Never a secret:
// a URL's user and password and its query are left out, a DSN is never
// shown.
type Targeted interface {
	Target() string
}

// Target is what a check of the section probes; "" for kinds that are
// told rather than probe (heartbeat, alert, pushed numbers) or that only
// a secret names.
func Target(s Section) string {
	if t, ok := s.(Targeted); ok {
		return t.Target()
	}
	return ""
}

// showURL is a URL without its user, password or query (which may carry
// a token): "https://api.example.com/health?…".
func showURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	u.User = nil
	q := u.RawQuery != ""
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	s := u.String()
	if q {
		s += "?…"
	}
	return s
}

// Target implements Targeted.
func (s *HTTPSection) Target() string { return showURL(s.URL) }

// Target implements Targeted.
func (s *TCPSection) Target() string { return s.Address }

// Target implements Targeted.
func (s *DNSSection) Target() string {
	t := s.Host
	if s.RecordType != "" {
		t += " " + s.RecordType
	}
	if s.Server != "" {
		t += " @" + s.Server
	}
	return t
}

// Target implements Targeted.
func (s *UpstreamSection) Target() string {
	if s.URL != "" {
		return showURL(s.URL)
	}
	return s.Feed
}

// Target implements Targeted.
func (s *GRPCSection) Target() string { return s.Address }

// Target implements Targeted.
func (s *WebSocketSection) Target() string { return showURL(s.URL) }

// Target implements Targeted.
func (s *ICMPSection) Target() string { return s.Host }

// Target implements Targeted.
func (s *SMTPSection) Target() string { return s.Address }

// Target implements Targeted.
func (s *TLSSection) Target() string { return s.Address }

// Target implements Targeted: the query, the DSN being a secret.
func (s *PostgresSection) Target() string { return s.Query }

// Target implements Targeted: the query, the DSN being a secret.
func (s *MySQLSection) Target() string { return s.Query }

// Target implements Targeted.
func (s *BrowserSection) Target() string { return showURL(s.URL) }

// Target implements Targeted: the Prometheus query, when it reads one.
func (s *MetricSection) Target() string {
	if s.Prometheus != nil {
		return s.Prometheus.query()
	}
	return ""
}
