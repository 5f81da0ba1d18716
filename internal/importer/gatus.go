package importer

import (
	"fmt"
	"io"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// gatusConfig is the part of a Gatus configuration the converter reads;
// the rest of the file (alerting, storage, web, ui…) is Gatus's own and
// is named in one warning.
type gatusConfig struct {
	Endpoints         []yaml.Node `yaml:"endpoints"`
	ExternalEndpoints []yaml.Node `yaml:"external-endpoints"`
}

// gatusEndpoint is one of Gatus's endpoints[], in its keys.
type gatusEndpoint struct {
	Enabled    *bool             `yaml:"enabled"`
	Name       string            `yaml:"name"`
	Group      string            `yaml:"group"`
	URL        string            `yaml:"url"`
	Method     string            `yaml:"method"`
	Body       string            `yaml:"body"`
	GraphQL    bool              `yaml:"graphql"`
	Headers    map[string]string `yaml:"headers"`
	Interval   string            `yaml:"interval"`
	Conditions []string          `yaml:"conditions"`
	DNS        *struct {
		QueryType string `yaml:"query-type"`
		QueryName string `yaml:"query-name"`
	} `yaml:"dns"`
	Client *struct {
		Insecure       bool   `yaml:"insecure"`
		IgnoreRedirect bool   `yaml:"ignore-redirect"`
		Timeout        string `yaml:"timeout"`
	} `yaml:"client"`
	// Token and Heartbeat are external-endpoints' own.
	Token     string `yaml:"token"`
	Heartbeat struct {
		Interval string `yaml:"interval"`
	} `yaml:"heartbeat"`
}

// The keys of an endpoint the converter reads; any other is named in a
// warning.
const (
	gatusEndpointKeys = "enabled name group url method body graphql headers interval conditions dns client"
	gatusExternalKeys = "enabled name group token heartbeat"
	gatusClientKeys   = "insecure ignore-redirect timeout"
)

// FromGatus converts a Gatus configuration (YAML) into Upstate checks and
// components: endpoints[] by their URL's scheme to http, tcp, tls, icmp
// or dns checks, their conditions to expect keys, and
// external-endpoints[] to heartbeat checks. Each endpoint gets a
// component of its own, in its Gatus group, so the page lists what the
// Gatus dashboard did, grouped the same way. What Upstate cannot express
// (a condition, a key, an endpoint of another type) is a warning naming
// the endpoint; a file Gatus itself would refuse to read is an error.
func FromGatus(r io.Reader, file string) (*Converted, error) {
	data, err := readAll(r, file)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: not a Gatus configuration: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if tooLarge(&root) {
		return nil, fmt.Errorf("%s: more than %d values once its aliases are expanded", file, MaxNodes)
	}
	top := topMapping(&root)
	if top == nil {
		return nil, fmt.Errorf("%s: not a Gatus configuration: want a mapping with endpoints", file)
	}
	var cfg gatusConfig
	if err := top.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%s: not a Gatus configuration: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(cfg.Endpoints)+len(cfg.ExternalEndpoints) == 0 {
		return nil, fmt.Errorf("%s: not a Gatus configuration: it has no endpoints or external-endpoints", file)
	}
	if n := len(cfg.Endpoints) + len(cfg.ExternalEndpoints); n > MaxComponents {
		return nil, fmt.Errorf("%s: %d endpoints is more than %d", file, n, MaxComponents)
	}
	b := newBuilder("Gatus", file)
	var other []string
	for i := 0; i+1 < len(top.Content); i += 2 {
		if k := top.Content[i].Value; k != "endpoints" && k != "external-endpoints" {
			other = append(other, k)
		}
	}
	if len(other) > 0 {
		b.warnf("", "not converted: %s (Gatus's own settings; Upstate's notifications, storage and page are configured in upstate.yaml)", strings.Join(other, ", "))
	}
	var problems []string
	for i := range cfg.Endpoints {
		if err := gatusOne(b, &cfg.Endpoints[i], fmt.Sprintf("endpoints[%d]", i), false); err != nil {
			problems = append(problems, err.Error())
		}
	}
	for i := range cfg.ExternalEndpoints {
		if err := gatusOne(b, &cfg.ExternalEndpoints[i], fmt.Sprintf("external-endpoints[%d]", i), true); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		if len(problems) > MaxProblems {
			problems = append(problems[:MaxProblems], fmt.Sprintf("and %d more", len(problems)-MaxProblems))
		}
		return nil, fmt.Errorf("%s", file+":"+strings.Join(problems, "\n"+file+":"))
	}
	return b.result()
}

// gatusOne converts one endpoint; an error is what Gatus would refuse
// too (no name, no URL), as line: path: what.
func gatusOne(b *builder, n *yaml.Node, path string, external bool) error {
	var e gatusEndpoint
	if err := n.Decode(&e); err != nil {
		return fmt.Errorf("%d: %s: %s", n.Line, path, strings.TrimPrefix(yamlLineRe.ReplaceAllString(err.Error(), ""), "yaml: "))
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%d: %s: want a mapping", n.Line, path)
	}
	if strings.TrimSpace(e.Name) == "" {
		return fmt.Errorf("%d: %s: an endpoint without a name (Gatus refuses it too)", n.Line, path)
	}
	src := e.Name
	if e.Group != "" {
		src = e.Group + "/" + e.Name
	}
	keys, known := gatusEndpointKeys, "endpoint"
	if external {
		keys, known = gatusExternalKeys, "external endpoint"
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if !slices.Contains(strings.Fields(keys), k) {
			b.warnf(src, "%s not converted (a Gatus %s setting Upstate has no match for)", k, known)
		}
		if k == "client" {
			c := n.Content[i+1]
			for j := 0; j+1 < len(c.Content); j += 2 {
				if !slices.Contains(strings.Fields(gatusClientKeys), c.Content[j].Value) {
					b.warnf(src, "client.%s not converted", c.Content[j].Value)
				}
			}
		}
	}
	if e.Enabled != nil && !*e.Enabled {
		b.warnf(src, "disabled in Gatus (enabled: false): not converted")
		return nil
	}
	if external {
		return gatusExternal(b, src, e)
	}
	if e.URL == "" {
		return fmt.Errorf("%d: %s: endpoint %q has no url (Gatus refuses it too)", n.Line, path, e.Name)
	}
	ch := outCheck{}
	if iv, ok := gatusDuration(b, src, "interval", e.Interval); ok && iv > 0 {
		if iv < time.Second {
			b.warnf(src, "interval %s is shorter than Upstate's shortest, 1s: 1s", e.Interval)
			iv = time.Second
		}
		if iv != time.Minute {
			ch.Interval = formatDuration(iv)
		}
	}
	if c := e.Client; c != nil {
		if to, ok := gatusDuration(b, src, "client.timeout", c.Timeout); ok && to > 0 {
			ch.Timeout = formatDuration(to)
		}
	}
	if iv, to := parseOr(ch.Interval, time.Minute), parseOr(ch.Timeout, 0); to > iv {
		b.warnf(src, "client.timeout %s is longer than the interval %s: Upstate's timeout is at most the interval, so %s", ch.Timeout, formatDuration(iv), formatDuration(iv))
		ch.Timeout = formatDuration(iv)
	}
	var conv gatusConverter
	switch scheme, rest, _ := strings.Cut(e.URL, "://"); {
	case e.DNS != nil:
		conv = gatusDNS(&ch, b, src, e)
	case scheme == "http" || scheme == "https":
		conv = gatusHTTP(&ch, b, src, e)
	case scheme == "tcp":
		ch.Kind, ch.Address = "tcp", rest
		conv = gatusConnected(&ch, b, src, "tcp")
	case scheme == "tls":
		ch.Kind, ch.Address = "tls", rest
		conv = gatusConnected(&ch, b, src, "tls")
	case scheme == "ws" || scheme == "wss":
		conv = gatusWebSocket(&ch, b, src, e)
	case scheme == "grpc" || scheme == "grpcs":
		ch.Kind, ch.Address, ch.TLS = "grpc", rest, scheme == "grpcs"
		conv = gatusConnected(&ch, b, src, "grpc")
	case scheme == "icmp":
		ch.Kind, ch.Host = "icmp", rest
		conv = gatusConnected(&ch, b, src, "icmp")
	default:
		b.warnf(src, "%s endpoint (%s): Upstate has no matching check kind: not converted", gatusType(e.URL), clip(e.URL))
		return nil
	}
	if conv == nil {
		return nil
	}
	if e.Method != "" && ch.Kind != "http" {
		b.warnf(src, "method %s applies only to HTTP: not converted", e.Method)
	}
	for _, c := range e.Conditions {
		if why := conv(strings.TrimSpace(c)); why != "" {
			b.warnf(src, "condition %q not converted: %s", c, why)
		}
	}
	if ch.Kind == "tcp" || ch.Kind == "tls" || ch.Kind == "grpc" {
		if _, _, err := net.SplitHostPort(ch.Address); err != nil {
			b.warnf(src, "%q is not host:port: not converted", clip(e.URL))
			return nil
		}
	}
	b.add(e.Name, e.Group, ch)
	return nil
}

// gatusConverter takes one condition into the check; it returns why not
// when Upstate cannot say it.
type gatusConverter func(cond string) (whyNot string)

// gatusCondition splits a condition as Gatus reads it: around the first
// of ==, !=, <=, >=, >, < (in that order) written with spaces about it.
func gatusCondition(c string) (left, op, right string, ok bool) {
	for _, o := range []string{"==", "!=", "<=", ">=", ">", "<"} {
		if l, r, found := strings.Cut(c, " "+o+" "); found {
			return strings.TrimSpace(l), o, strings.TrimSpace(r), true
		}
	}
	return "", "", "", false
}

func gatusHTTP(ch *outCheck, b *builder, src string, e gatusEndpoint) gatusConverter {
	ch.Kind, ch.URL = "http", e.URL
	if m, ok := httpMethod(e.Method); !ok {
		b.warnf(src, "method %s is not one an http check may use: not converted", e.Method)
		return nil
	} else if m != "GET" {
		ch.Method = m
	}
	if !webURL(e.URL, "http", "https") {
		b.warnf(src, "%q is not an http(s) URL with a host: not converted", clip(e.URL))
		return nil
	}
	ch.Headers = b.headers(src, e.Headers)
	ch.Body = e.Body
	if gatusPlaceholderRe.MatchString(e.Body) {
		b.warnf(src, "the body's Gatus placeholders ([ENDPOINT_NAME], [RANDOM_STRING_N]…) are sent as written")
	}
	if e.GraphQL {
		b.warnf(src, "graphql: true not converted: the body is sent as written, not wrapped in {\"query\": …}")
	}
	if c := e.Client; c != nil {
		ch.InsecureSkipVerify = c.Insecure
		if c.IgnoreRedirect {
			f := false
			ch.FollowRedirects = &f
		}
	}
	return func(c string) string {
		l, op, r, ok := gatusCondition(c)
		if !ok {
			return "not a condition Gatus reads (no ==, !=, <, <=, > or >= with spaces around it)"
		}
		switch {
		case l == "[STATUS]":
			return gatusStatus(ch, op, r)
		case l == "[RESPONSE_TIME]":
			if why := gatusLatency(ch, op, r); why != "" {
				return why
			}
			b.warnf(src, "condition %q is expect.latency_under: %s: a slower answer is degraded_performance in Upstate, not a failure", c, ch.Expect.LatencyUnder)
			return ""
		case l == "[CERTIFICATE_EXPIRATION]":
			days, why := gatusCertDays(op, r)
			if why == "" {
				ch.expect().CertFailDays = days
			}
			return why
		case l == "[CONNECTED]" && op == "==" && r == "true":
			return "" // a request that gets an answer has connected
		case l == "[BODY]" && op == "==":
			if p, ok := patternOf(r); ok {
				if inner, ok := strings.CutPrefix(p, "*"); ok && strings.HasSuffix(inner, "*") && !strings.Contains(strings.TrimSuffix(inner, "*"), "*") {
					ch.expect().BodyContains = strings.TrimSuffix(inner, "*")
				} else {
					ch.expect().BodyRegex = globRegex(p)
				}
				return ""
			}
			if strings.Contains(r, "(") || strings.HasPrefix(r, "[") {
				return "Upstate compares the body with a string, a pattern or a regex"
			}
			ch.expect().BodyRegex = `^\s*` + regexp.QuoteMeta(r) + `\s*$`
			return ""
		case strings.HasPrefix(l, "[BODY].") && op == "==":
			path := strings.TrimPrefix(l, "[BODY].")
			if !jsonPathRe.MatchString(path) {
				return "the JSON path is not one Upstate reads (keys and [index] only)"
			}
			if strings.Contains(r, "(") || strings.HasPrefix(r, "[") {
				return "Upstate's json expect compares with one value (not pat(), any() or another placeholder)"
			}
			ch.expect().JSON = append(ch.expect().JSON, outJSON{Path: path, Equals: scalarValue(r)})
			return ""
		}
		return gatusUnsupported(l, op)
	}
}

func gatusWebSocket(ch *outCheck, b *builder, src string, e gatusEndpoint) gatusConverter {
	ch.Kind, ch.URL, ch.Send = "websocket", e.URL, e.Body
	if !webURL(e.URL, "ws", "wss") {
		b.warnf(src, "%q is not a ws(s) URL with a host: not converted", clip(e.URL))
		return nil
	}
	ch.Headers = b.headers(src, e.Headers)
	if e.Client != nil {
		ch.InsecureSkipVerify = e.Client.Insecure
	}
	return func(c string) string {
		l, op, r, ok := gatusCondition(c)
		switch {
		case !ok:
			return "not a condition Gatus reads"
		case l == "[CONNECTED]" && op == "==" && r == "true":
			return ""
		case l == "[RESPONSE_TIME]":
			return gatusLatency(ch, op, r)
		case l == "[BODY]" && op == "==":
			if p, ok := patternOf(r); ok {
				ch.expect().ReplyRegex = globRegex(p)
			} else if !strings.Contains(r, "(") {
				ch.expect().ReplyRegex = `^\s*` + regexp.QuoteMeta(r) + `\s*$`
			} else {
				return "Upstate matches the reply with one regex"
			}
			return ""
		}
		return gatusUnsupported(l, op)
	}
}

// gatusConnected converts the conditions of a tcp, tls or icmp endpoint:
// connecting is what those checks try.
func gatusConnected(ch *outCheck, b *builder, src, kind string) gatusConverter {
	if kind == "icmp" && ch.Host == "" || kind != "icmp" && ch.Address == "" {
		b.warnf(src, "no host in the URL: not converted")
		return nil
	}
	return func(c string) string {
		l, op, r, ok := gatusCondition(c)
		switch {
		case !ok:
			return "not a condition Gatus reads"
		case l == "[CONNECTED]" && op == "==" && r == "true":
			return ""
		case l == "[CERTIFICATE_EXPIRATION]" && kind == "tls":
			days, why := gatusCertDays(op, r)
			if why == "" {
				ch.FailDays = &days
			}
			return why
		case l == "[RESPONSE_TIME]" && kind == "grpc":
			return gatusLatency(ch, op, r)
		case l == "[RESPONSE_TIME]":
			return fmt.Sprintf("a %s check has no latency bound in Upstate", kind)
		case strings.HasPrefix(l, "[BODY].status") && op == "==" && r == "SERVING" && kind == "grpc":
			return "" // a grpc check is down unless the health service says SERVING
		}
		return gatusUnsupported(l, op)
	}
}

func gatusDNS(ch *outCheck, b *builder, src string, e gatusEndpoint) gatusConverter {
	ch.Kind, ch.Host = "dns", e.DNS.QueryName
	if ch.Host == "" {
		b.warnf(src, "dns without query-name: not converted")
		return nil
	}
	rt, ok := dnsRecordType(e.DNS.QueryType)
	if !ok {
		b.warnf(src, "dns query-type %s is not one Upstate asks for (A, AAAA, CNAME, MX, TXT, NS): not converted", e.DNS.QueryType)
		return nil
	}
	if rt != "A" {
		ch.RecordType = rt
	}
	server := e.URL
	if s, ok := strings.CutPrefix(server, "udp://"); ok {
		server = s
	}
	if h, p, err := net.SplitHostPort(server); err == nil && p == "53" {
		server = h
	}
	if net.ParseIP(strings.Trim(server, "[]")) == nil {
		if _, _, err := net.SplitHostPort(server); err != nil {
			b.warnf(src, "the DNS server %q is not an address: the system resolver is asked instead", clip(e.URL))
			server = ""
		}
	}
	ch.Server = server
	return func(c string) string {
		l, op, r, ok := gatusCondition(c)
		switch {
		case !ok:
			return "not a condition Gatus reads"
		case l == "[DNS_RCODE]" && op == "==" && r == "NOERROR":
			return "" // a dns check fails on any other answer code
		case l == "[BODY]" && op == "==" && !strings.Contains(r, "("):
			ch.expect().Answers = append(ch.expect().Answers, r)
			return ""
		case l == "[RESPONSE_TIME]":
			return gatusLatency(ch, op, r)
		case l == "[CONNECTED]" && op == "==" && r == "true":
			return ""
		}
		return gatusUnsupported(l, op)
	}
}

func gatusExternal(b *builder, src string, e gatusEndpoint) error {
	iv, ok := gatusDuration(b, src, "heartbeat.interval", e.Heartbeat.Interval)
	if !ok || iv <= 0 {
		b.warnf(src, "an external endpoint without heartbeat.interval is only pushed results, which Upstate has no match for: not converted")
		return nil
	}
	ch := outCheck{Kind: "heartbeat", Period: formatDuration(iv)}
	env := "HEARTBEAT_TOKEN_" + strings.ToUpper(strings.ReplaceAll(slug(e.Name), "-", "_"))
	ch.Token = "${" + env + "}"
	b.warnf(src, "now a heartbeat: the job calls POST /api/v1/heartbeats/%s with Authorization: Bearer $%s (set %s where Upstate runs; the Gatus token is not copied into the file)", slug(e.Name), env, env)
	b.add(e.Name, e.Group, ch)
	return nil
}

func gatusStatus(ch *outCheck, op, r string) string {
	if op == "!=" {
		return "Upstate has no not-equal expectation"
	}
	if op == "==" {
		var codes []int
		for _, s := range anyArgs(r) {
			n, err := strconv.Atoi(s)
			if err != nil || n < 100 || n > 599 {
				return "Upstate expects status codes as numbers (100 to 599)"
			}
			codes = append(codes, n)
		}
		ch.expect().Status = append(ch.expect().Status, codes...)
		return ""
	}
	n, err := strconv.Atoi(r)
	if err != nil {
		return "Upstate expects status codes as numbers"
	}
	// Upstate's default, any 2xx, is what these say for the answers
	// servers give (1xx is never a final answer).
	if op == "<" && n == 300 || op == "<=" && n == 299 {
		return ""
	}
	return "Upstate takes a list of status codes (or any 2xx), not a bound"
}

func gatusLatency(ch *outCheck, op, r string) string {
	ms, err := strconv.Atoi(r)
	if err != nil || ms <= 0 {
		return "the response time is not a number of milliseconds"
	}
	switch op {
	case "<":
	case "<=":
		ms++
	default:
		return "Upstate bounds the response time from above only"
	}
	ch.expect().LatencyUnder = formatDuration(time.Duration(ms) * time.Millisecond)
	return ""
}

// gatusCertDays turns "[CERTIFICATE_EXPIRATION] > 48h" into the days
// left below which the check fails (48h: fewer than 2 days), rounding up
// so it fails no later than Gatus would.
func gatusCertDays(op, r string) (int, string) {
	if op != ">" && op != ">=" {
		return 0, "Upstate fails a certificate with too few days left, not too many"
	}
	d, err := time.ParseDuration(r)
	if err != nil {
		ms, nerr := strconv.Atoi(r)
		if nerr != nil {
			return 0, "not a duration (e.g. 48h)"
		}
		d = time.Duration(ms) * time.Millisecond
	}
	days := int(math.Ceil(d.Hours() / 24))
	if days <= 0 {
		return 0, "" // any valid certificate: what the check says anyway
	}
	return days, ""
}

func gatusUnsupported(l, op string) string {
	switch {
	case strings.HasPrefix(l, "len(") || strings.HasPrefix(l, "has("):
		return "Upstate has no len() or has() of a JSON value"
	case l == "[IP]":
		return "Upstate does not check the address a name resolves to in an http, tcp or icmp check (a dns check does)"
	case l == "[DOMAIN_EXPIRATION]":
		return "Upstate does not watch domain registrations"
	case l == "[DNS_RCODE]":
		return "a dns check passes only on NOERROR"
	case op == "!=":
		return "Upstate has no not-equal expectation"
	case l == "[CONTEXT]" || strings.HasPrefix(l, "[CONTEXT]"):
		return "suites' context has no match in Upstate"
	}
	return "no matching Upstate expectation for this endpoint type"
}

// gatusDuration reads a Gatus duration (Go's syntax); a bad one is a
// warning and the default.
func gatusDuration(b *builder, src, key, s string) (time.Duration, bool) {
	if s == "" {
		return 0, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		b.warnf(src, "%s %q is not a duration: the default is used", key, clip(s))
		return 0, false
	}
	return d, true
}

// parseOr reads a duration this package wrote, or def when there is none.
func parseOr(s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d
	}
	return def
}

func gatusType(u string) string {
	scheme, _, ok := strings.Cut(u, "://")
	if !ok {
		return "unknown"
	}
	return strings.ToUpper(scheme)
}

// gatusPlaceholderRe finds the placeholders Gatus fills in a body.
var gatusPlaceholderRe = regexp.MustCompile(`\[(ENDPOINT_NAME|ENDPOINT_GROUP|ENDPOINT_URL|LOCAL_ADDRESS|RANDOM_STRING_\d+)\]`)

// jsonPathRe is the paths an http check's json expect reads: keys and
// [index], dotted.
var jsonPathRe = regexp.MustCompile(`^[A-Za-z0-9_-]+(\[\d+\])*(\.[A-Za-z0-9_-]+(\[\d+\])*)*$`)

// anyArgs returns any(a, b)'s arguments, or the one value.
func anyArgs(r string) []string {
	inner, ok := strings.CutPrefix(r, "any(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return []string{r}
	}
	var out []string
	for _, s := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

func patternOf(r string) (string, bool) {
	inner, ok := strings.CutPrefix(r, "pat(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return "", false
	}
	return strings.TrimSuffix(inner, ")"), true
}

// globRegex writes a pattern with * wildcards as an anchored regex.
func globRegex(p string) string {
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return `^\s*` + strings.Join(parts, ".*") + `\s*$`
}

// scalarValue reads a condition's right side as the JSON value it stands
// for: true, false, a number, or else a string.
func scalarValue(s string) any {
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return f
	}
	return s
}
