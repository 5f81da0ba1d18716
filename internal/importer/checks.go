package importer

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Converted is another tool's configuration as Upstate's: the components
// and checks sections of an upstate.yaml, and what could not be carried
// over exactly.
type Converted struct {
	// YAML is the components: and checks: sections as text, headed by a
	// comment that lists the warnings; add a page: block (or paste them
	// into an existing configuration) and `upstate validate` reads it.
	YAML     []byte
	Warnings []Warning
	// Components and Checks count what was converted.
	Components, Checks int
}

// outConfig is what the converters write, in the keys internal/config
// reads (TestGatus and TestUptimeKuma parse it with config.Parse).
type outConfig struct {
	Components []outComponent `yaml:"components"`
	Checks     []outCheck     `yaml:"checks"`
}

type outComponent struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Group       string `yaml:"group,omitempty"`
	Description string `yaml:"description,omitempty"`
}

type outCheck struct {
	ID         string   `yaml:"id"`
	Name       string   `yaml:"name,omitempty"`
	Kind       string   `yaml:"kind"`
	Interval   string   `yaml:"interval,omitempty"`
	Timeout    string   `yaml:"timeout,omitempty"`
	Components []string `yaml:"components,flow"`
	FailAfter  int      `yaml:"fail_after,omitempty"`

	// The kinds' own keys (internal/check): http, websocket.
	URL                string            `yaml:"url,omitempty"`
	Method             string            `yaml:"method,omitempty"`
	Headers            map[string]string `yaml:"headers,omitempty"`
	Body               string            `yaml:"body,omitempty"`
	FollowRedirects    *bool             `yaml:"follow_redirects,omitempty"`
	InsecureSkipVerify bool              `yaml:"insecure_skip_verify,omitempty"`
	Send               string            `yaml:"send,omitempty"` // websocket
	TLS                bool              `yaml:"tls,omitempty"`  // grpc
	// tcp, tls, grpc.
	Address    string `yaml:"address,omitempty"`
	ServerName string `yaml:"server_name,omitempty"`
	// dns, icmp.
	Host       string `yaml:"host,omitempty"`
	RecordType string `yaml:"record_type,omitempty"`
	Server     string `yaml:"server,omitempty"`
	// tls.
	FailDays *int `yaml:"fail_days,omitempty"`
	// heartbeat.
	Period string `yaml:"period,omitempty"`
	Grace  string `yaml:"grace,omitempty"`
	Token  string `yaml:"token,omitempty"`

	Expect *outExpect `yaml:"expect,omitempty"`
}

type outExpect struct {
	Status       []int     `yaml:"status,omitempty,flow"`
	LatencyUnder string    `yaml:"latency_under,omitempty"`
	BodyContains string    `yaml:"body_contains,omitempty"`
	BodyRegex    string    `yaml:"body_regex,omitempty"`
	JSON         []outJSON `yaml:"json,omitempty"`
	CertDaysLeft int       `yaml:"cert_days_left,omitempty"`
	CertFailDays int       `yaml:"cert_fail_days,omitempty"`
	Answers      []string  `yaml:"answers,omitempty,flow"`
	ReplyRegex   string    `yaml:"reply_regex,omitempty"`
}

type outJSON struct {
	Path   string `yaml:"path"`
	Equals any    `yaml:"equals"`
}

func (c *outCheck) expect() *outExpect {
	if c.Expect == nil {
		c.Expect = &outExpect{}
	}
	return c.Expect
}

// builder collects a conversion: ids made unique, warnings in order.
type builder struct {
	from     string // the tool, in the header
	file     string
	out      outConfig
	warnings []Warning
	compIDs  map[string]bool
	checkIDs map[string]bool
}

func newBuilder(from, file string) *builder {
	return &builder{from: from, file: file, compIDs: map[string]bool{}, checkIDs: map[string]bool{}}
}

func (b *builder) warnf(source, format string, args ...any) {
	b.warnings = append(b.warnings, Warning{Source: source, Message: fmt.Sprintf(format, args...)})
}

// add adds a check with a component of its own, named as the check, in
// group.
func (b *builder) add(name, group string, ch outCheck) {
	comp := unique(slug(name), b.compIDs)
	b.out.Components = append(b.out.Components, outComponent{ID: comp, Name: name, Group: group})
	ch.ID = unique(slug(name), b.checkIDs)
	ch.Name = name
	ch.Components = []string{comp}
	b.out.Checks = append(b.out.Checks, ch)
}

func (b *builder) result() (*Converted, error) {
	if len(b.out.Checks) == 0 {
		var lines []string
		for _, w := range b.warnings {
			lines = append(lines, "  "+oneLine(w.String()))
		}
		return nil, fmt.Errorf("%s: nothing in it could be converted to an Upstate check:\n%s", b.file, strings.Join(lines, "\n"))
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Converted from %s (%s) by `upstate import`: %d components, %d checks.\n", b.from, oneLine(b.file), len(b.out.Components), len(b.out.Checks))
	if len(b.warnings) == 0 {
		buf.WriteString("# Everything was carried over.\n")
	} else {
		fmt.Fprintf(&buf, "# Not carried over exactly (%d):\n", len(b.warnings))
		for _, w := range b.warnings {
			fmt.Fprintf(&buf, "#   - %s\n", oneLine(w.String()))
		}
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(b.out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return &Converted{YAML: buf.Bytes(), Warnings: b.warnings, Components: len(b.out.Components), Checks: len(b.out.Checks)}, nil
}

// oneLine keeps what another tool wrote from breaking out of a comment.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r < ' ' {
			return ' '
		}
		return r
	}, s)
}

// slug makes an Upstate id of a name: lowercase letters, digits and
// dashes, at most 63; the same name always gives the same id.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == '_' || r == '-' || r == ' ' || r == '.' || r == '/' || r == ':':
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 56 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "imported"
	}
	return s
}

// unique returns id, or id-2, id-3… when it is taken, and takes it.
func unique(id string, taken map[string]bool) string {
	out := id
	for n := 2; taken[out]; n++ {
		out = id + "-" + strconv.Itoa(n)
	}
	taken[out] = true
	return out
}

// formatDuration writes a duration as config reads it: 30s, 5m, 2h, 250ms.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// failAfter is how many failures in a row confirm a failure, within the
// range config accepts.
func failAfter(n int) int { return min(max(n, 1), 20) }

// The record types a dns check asks for (internal/check/dns.go).
func dnsRecordType(t string) (string, bool) {
	switch t = strings.ToUpper(t); t {
	case "A", "AAAA", "CNAME", "MX", "TXT", "NS":
		return t, true
	}
	return t, false
}

// The methods an http check may use (internal/check/http.go).
func httpMethod(m string) (string, bool) {
	switch m = strings.ToUpper(m); m {
	case "", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m, true
	}
	return m, false
}

// headers keeps the headers an http check can send: a name of token
// characters, a value without line breaks. Others are warnings.
func (b *builder) headers(src string, h map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(h)) {
		v := h[k]
		switch {
		case !headerNameRe.MatchString(k):
			b.warnf(src, "header %q is not a header name: not converted", clip(k))
		case strings.ContainsAny(v, "\r\n\x00"):
			b.warnf(src, "header %s has a line break in its value: not converted", k)
		default:
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

var headerNameRe = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// webURL reports whether s is an absolute URL of one of the schemes, with
// a host.
func webURL(s string, schemes ...string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && slices.Contains(schemes, u.Scheme)
}
