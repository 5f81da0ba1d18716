package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kumaBackup is Uptime Kuma's JSON backup (Settings → Backup → Export in
// the 1.x releases): the version that wrote it, the notifications and
// the monitors, each as the monitor's JSON in the web app.
type kumaBackup struct {
	Version          *string           `json:"version"`
	NotificationList []json.RawMessage `json:"notificationList"`
	MonitorList      []kumaMonitor     `json:"monitorList"`
}

// kumaMonitor holds the monitor keys the converter reads. Kuma writes
// numbers and booleans loosely across versions (active as true or 1,
// port as a number or null), so those are read leniently.
type kumaMonitor struct {
	ID                  kumaNumber      `json:"id"`
	Name                string          `json:"name"`
	Description         *string         `json:"description"`
	Type                string          `json:"type"`
	Parent              kumaNumber      `json:"parent"`
	Active              *kumaBool       `json:"active"`
	URL                 string          `json:"url"`
	Method              string          `json:"method"`
	Body                *string         `json:"body"`
	Headers             json.RawMessage `json:"headers"`
	Interval            kumaNumber      `json:"interval"`
	Timeout             kumaNumber      `json:"timeout"`
	MaxRetries          kumaNumber      `json:"maxretries"`
	Hostname            *string         `json:"hostname"`
	Port                kumaNumber      `json:"port"`
	Keyword             *string         `json:"keyword"`
	InvertKeyword       kumaBool        `json:"invertKeyword"`
	AcceptedStatusCodes []string        `json:"accepted_statuscodes"`
	DNSResolveType      *string         `json:"dns_resolve_type"`
	DNSResolveServer    *string         `json:"dns_resolve_server"`
	IgnoreTLS           kumaBool        `json:"ignoreTls"`
	UpsideDown          kumaBool        `json:"upsideDown"`
	MaxRedirects        kumaNumber      `json:"maxredirects"`
	ExpiryNotification  kumaBool        `json:"expiryNotification"`
	JSONPath            *string         `json:"jsonPath"`
	ExpectedValue       *string         `json:"expectedValue"`
	PushToken           *string         `json:"pushToken"`
	BasicAuthUser       *string         `json:"basic_auth_user"`
	AuthMethod          *string         `json:"authMethod"`
	ProxyID             kumaNumber      `json:"proxyId"`
}

// kumaNumber is a number Kuma may write as a number, a numeric string or
// null.
type kumaNumber struct {
	V   float64
	Set bool
}

func (n *kumaNumber) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "null" || s == "" {
		*n = kumaNumber{}
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%s is not a number", clip(string(b)))
	}
	*n = kumaNumber{V: f, Set: true}
	return nil
}

func (n kumaNumber) int() int {
	if !n.Set || n.V > math.MaxInt32 || n.V < math.MinInt32 {
		return 0
	}
	return int(n.V)
}

// kumaBool is a boolean Kuma may write as true/false, 1/0 or null.
type kumaBool bool

func (k *kumaBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true", "1":
		*k = true
	case "false", "0", "null", "":
		*k = false
	default:
		return fmt.Errorf("%s is not true or false", clip(string(b)))
	}
	return nil
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// FromUptimeKuma converts an Uptime Kuma JSON backup into Upstate checks
// and components: http, keyword and json-query monitors to http checks,
// port to tcp, ping to icmp, dns to dns, push to heartbeat; group
// monitors become the groups of their children's components (nested
// groups joined with " / "). Each monitor gets a component of its own, as
// it had its own row in Kuma. What Upstate cannot express (a monitor type,
// an inverted keyword, upside-down mode, notifications) is a warning naming
// the monitor.
func FromUptimeKuma(r io.Reader, file string) (*Converted, error) {
	data, err := readAll(r, file)
	if err != nil {
		return nil, err
	}
	var bk kumaBackup
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&bk); err != nil {
		return nil, fmt.Errorf("%s: not an Uptime Kuma backup: %s", file, jsonProblem(data, err))
	}
	if bk.MonitorList == nil {
		return nil, fmt.Errorf("%s: not an Uptime Kuma backup: it has no monitorList", file)
	}
	if len(bk.MonitorList) > MaxComponents {
		return nil, fmt.Errorf("%s: %d monitors is more than %d", file, len(bk.MonitorList), MaxComponents)
	}
	from := "Uptime Kuma"
	if bk.Version != nil && *bk.Version != "" {
		from += " " + oneLine(clip(*bk.Version))
	}
	b := newBuilder(from, file)
	if n := len(bk.NotificationList); n > 0 {
		b.warnf("", "notificationList: %d notifications not converted (Upstate's are under notifications: in upstate.yaml)", n)
	}
	byID := map[float64]*kumaMonitor{}
	for i := range bk.MonitorList {
		if m := &bk.MonitorList[i]; m.ID.Set {
			byID[m.ID.V] = m
		}
	}
	for i := range bk.MonitorList {
		m := &bk.MonitorList[i]
		src := m.Name
		if strings.TrimSpace(src) == "" {
			src = fmt.Sprintf("monitorList[%d]", i)
		}
		if m.Type == "group" {
			continue // its children carry its name as their group
		}
		if m.Active != nil && !*m.Active {
			b.warnf(src, "paused in Uptime Kuma: not converted")
			continue
		}
		if m.UpsideDown {
			// Converted, it would fail exactly when Kuma's passed.
			b.warnf(src, "upside-down mode (up when the probe fails) has no match in Upstate: not converted")
			continue
		}
		ch, ok := kumaCheck(b, src, m)
		if !ok {
			continue
		}
		b.add(src, kumaGroup(m, byID), ch)
	}
	return b.result()
}

// kumaGroup is the path of the monitor's group monitors, outermost first.
func kumaGroup(m *kumaMonitor, byID map[float64]*kumaMonitor) string {
	var names []string
	seen := map[float64]bool{}
	for p := m.Parent; p.Set && !seen[p.V] && len(names) < 10; {
		seen[p.V] = true
		g := byID[p.V]
		if g == nil {
			break
		}
		names = append([]string{g.Name}, names...)
		p = g.Parent
	}
	return strings.Join(names, " / ")
}

func kumaCheck(b *builder, src string, m *kumaMonitor) (outCheck, bool) {
	ch := outCheck{}
	iv := time.Duration(m.Interval.V * float64(time.Second))
	if m.Interval.Set && iv > 0 && iv != time.Minute {
		iv = max(iv, time.Second)
		ch.Interval = formatDuration(iv.Round(time.Second))
	}
	if iv <= 0 {
		iv = time.Minute
	}
	if to := time.Duration(m.Timeout.V * float64(time.Second)).Round(time.Millisecond); m.Timeout.Set && to > 0 {
		ch.Timeout = formatDuration(min(to, iv))
	}
	if m.MaxRetries.Set && m.MaxRetries.V > 0 {
		// Kuma retries before it calls a monitor down: the failure and
		// its retries are the failures in a row that confirm it.
		ch.FailAfter = failAfter(m.MaxRetries.int() + 1)
	}
	host := strings.TrimSpace(str(m.Hostname))
	switch m.Type {
	case "http", "keyword", "json-query":
		if !webURL(m.URL, "http", "https") {
			b.warnf(src, "%s monitor without an http(s) URL with a host: not converted", m.Type)
			return ch, false
		}
		ch.Kind, ch.URL = "http", m.URL
		method, ok := httpMethod(m.Method)
		if !ok {
			b.warnf(src, "method %s is not one an http check may use: not converted", m.Method)
			return ch, false
		}
		if method != "GET" {
			ch.Method = method
		}
		ch.Body = str(m.Body)
		ch.InsecureSkipVerify = bool(m.IgnoreTLS)
		if m.MaxRedirects.Set && m.MaxRedirects.V == 0 {
			f := false
			ch.FollowRedirects = &f
		}
		kumaHeaders(b, src, m, &ch)
		kumaStatusCodes(b, src, m, &ch)
		if what := str(m.AuthMethod); what != "" || str(m.BasicAuthUser) != "" {
			if what == "" {
				what = "basic"
			}
			b.warnf(src, "authentication (%s) not converted: add an Authorization header with ${ENV}", oneLine(clip(what)))
		}
		if m.ProxyID.Set {
			b.warnf(src, "the proxy it went through is not converted: Upstate connects directly")
		}
		if bool(m.ExpiryNotification) && strings.HasPrefix(m.URL, "https://") {
			// Kuma's days to warn at are a global setting, not in the
			// backup; 14 is what Upstate's tls checks warn at.
			ch.expect().CertDaysLeft = 14
			b.warnf(src, "certificate expiry notification is expect.cert_days_left: 14 (Kuma's days are a setting the backup leaves out)")
		}
		switch m.Type {
		case "keyword":
			if str(m.Keyword) == "" {
				b.warnf(src, "keyword monitor without a keyword: checked as http")
			} else if m.InvertKeyword {
				b.warnf(src, "inverted keyword %q (must not appear) not converted: Upstate checks what a body contains, not what it lacks", clip(str(m.Keyword)))
			} else {
				ch.expect().BodyContains = str(m.Keyword)
			}
		case "json-query":
			path := strings.TrimPrefix(strings.TrimSpace(str(m.JSONPath)), "$.")
			if !jsonPathRe.MatchString(path) {
				b.warnf(src, "json query %q not converted: Upstate's json expect reads dotted keys and [index], not JSONata expressions", clip(str(m.JSONPath)))
			} else {
				ch.expect().JSON = append(ch.expect().JSON, outJSON{Path: path, Equals: scalarValue(str(m.ExpectedValue))})
				b.warnf(src, "json query %s == %q compares JSON values in Upstate (Kuma compared text)", path, clip(str(m.ExpectedValue)))
			}
		}
	case "port":
		if host == "" || !m.Port.Set {
			b.warnf(src, "port monitor without a hostname and port: not converted")
			return ch, false
		}
		ch.Kind, ch.Address = "tcp", net.JoinHostPort(host, strconv.Itoa(m.Port.int()))
	case "ping":
		if host == "" {
			b.warnf(src, "ping monitor without a hostname: not converted")
			return ch, false
		}
		ch.Kind, ch.Host = "icmp", host
	case "dns":
		rt, ok := dnsRecordType(str(m.DNSResolveType))
		if str(m.DNSResolveType) == "" {
			rt, ok = "A", true
		}
		if host == "" || !ok {
			b.warnf(src, "dns monitor of record type %q (Upstate asks for A, AAAA, CNAME, MX, TXT or NS): not converted", clip(str(m.DNSResolveType)))
			return ch, false
		}
		ch.Kind, ch.Host = "dns", host
		if rt != "A" {
			ch.RecordType = rt
		}
		if s := strings.TrimSpace(str(m.DNSResolveServer)); s != "" {
			if net.ParseIP(s) == nil {
				b.warnf(src, "dns server %q is not an address: the system resolver is asked instead", clip(s))
			} else if p := m.Port.int(); p != 0 && p != 53 {
				ch.Server = net.JoinHostPort(s, strconv.Itoa(p))
			} else {
				ch.Server = s
			}
		}
	case "push":
		ch = outCheck{Kind: "heartbeat", Period: formatDuration(iv)}
		env := "HEARTBEAT_TOKEN_" + strings.ToUpper(strings.ReplaceAll(slug(src), "-", "_"))
		ch.Token = "${" + env + "}"
		b.warnf(src, "now a heartbeat: the job calls POST /api/v1/heartbeats/%s with Authorization: Bearer $%s instead of Kuma's push URL (set %s where Upstate runs; Kuma's push token is not copied into the file)", slug(src), env, env)
	default:
		b.warnf(src, "a %s monitor has no matching Upstate check kind: not converted", kumaType(m.Type))
		return ch, false
	}
	return ch, true
}

func kumaType(t string) string {
	if t == "" {
		return "typeless"
	}
	return oneLine(clip(t))
}

// kumaHeaders reads the headers Kuma keeps as JSON text (or, in some
// exports, as an object).
func kumaHeaders(b *builder, src string, m *kumaMonitor, ch *outCheck) {
	raw := bytes.TrimSpace(m.Headers)
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		if strings.TrimSpace(text) == "" {
			return
		}
		raw = []byte(text)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		b.warnf(src, "headers are not a JSON object: not converted")
		return
	}
	values := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(h)) {
		switch v := h[k].(type) {
		case string:
			values[k] = v
		case float64, bool:
			values[k] = fmt.Sprint(v)
		default:
			b.warnf(src, "header %s is not a string: not converted", clip(k))
		}
	}
	ch.Headers = b.headers(src, values)
}

var statusRangeRe = regexp.MustCompile(`^(\d{3})-(\d{3})$`)

// kumaStatusCodes reads accepted_statuscodes ("200-299", "404"): 200-299
// is Upstate's default (any 2xx); other codes and small ranges are
// listed.
func kumaStatusCodes(b *builder, src string, m *kumaMonitor, ch *outCheck) {
	var codes []int
	for _, s := range m.AcceptedStatusCodes {
		s = strings.TrimSpace(s)
		if s == "200-299" {
			if len(m.AcceptedStatusCodes) == 1 {
				return
			}
			for c := 200; c <= 299; c++ {
				codes = append(codes, c)
			}
			continue
		}
		if r := statusRangeRe.FindStringSubmatch(s); r != nil {
			lo, _ := strconv.Atoi(r[1])
			hi, _ := strconv.Atoi(r[2])
			if lo < 100 || hi > 599 || lo > hi {
				b.warnf(src, "accepted status codes %q not converted", clip(s))
				continue
			}
			for c := lo; c <= hi; c++ {
				codes = append(codes, c)
			}
			continue
		}
		c, err := strconv.Atoi(s)
		if err != nil || c < 100 || c > 599 {
			b.warnf(src, "accepted status code %q not converted", clip(s))
			continue
		}
		codes = append(codes, c)
	}
	if len(codes) > 0 {
		ch.expect().Status = codes
	}
}

// jsonProblem says where a JSON file stops being JSON, by line.
func jsonProblem(data []byte, err error) string {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
		if e.Field != "" {
			return fmt.Sprintf("line %d: %s: want %s, got %s", lineAt(data, off), e.Field, e.Type, e.Value)
		}
	}
	if off >= 0 {
		return fmt.Sprintf("line %d: %v", lineAt(data, off), err)
	}
	return err.Error()
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}
