// Package config reads Upstate's YAML configuration strictly: unknown keys,
// wrong types, bad durations and broken references are all reported at
// once as file:line: path: what is wrong. Config describes; it holds no
// runtime state and does no I/O beyond reading the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// Config is a whole configuration file.
type Config struct {
	Page       Page        `yaml:"page"`
	Server     Server      `yaml:"server"`
	Retention  Retention   `yaml:"retention"`
	Components []Component `yaml:"components"`
	Checks     []Check     `yaml:"checks"`

	Inbound       Inbound       `yaml:"inbound"`
	Notifications Notifications `yaml:"notifications"`
	OnCall        OnCall        `yaml:"oncall"`
	Subscribers   Subscribers   `yaml:"subscribers"`

	// File is where the configuration was read from.
	File string `yaml:"-"`
	// source is the file's text (Source).
	source source
	// cut says Parse read source's checks list in pieces, every run
	// parsing alone as the items the cut counted: FileKeysIn may then
	// parse only the runs it needs.
	cut bool
	// fileIDs are FileHas's answers, made the first time it asks.
	fileIDs *fileIDs
	// Lookup resolves ${ENV} references, the file's and the console's.
	Lookup func(string) (string, bool) `yaml:"-"`
	// Shadowed are console items whose id the file also defines: the
	// file's wins, and they are kept, unused, until one is changed.
	Shadowed []upstate.ConsoleItem `yaml:"-"`
	// consoleChecks are the mappings of console checks that name regions,
	// by id: what AgentYAML sends their agents.
	consoleChecks map[string]*yaml.Node
	// Warnings are what is allowed but probably unwise, one a line as
	// file:line: path: what (validate prints them; serve logs them).
	Warnings []string `yaml:"-"`
	// Location is the page's time zone, loaded.
	Location *time.Location `yaml:"-"`
}

// Page is what the public status page says about itself.
type Page struct {
	Name        string `yaml:"name"`
	URL         string `yaml:"url"`
	TimeZone    string `yaml:"time_zone"`
	Description string `yaml:"description"`
	// AutomaticUpdates says whether the timeline entries Upstate writes
	// itself are public at once ("public", the default) or held as
	// internal notes until a person publishes them ("internal").
	AutomaticUpdates string `yaml:"automatic_updates"`
	// Logo and Favicon are image files (relative to the config file)
	// shown in the page's header and the browser's tab; AccentColor is
	// the page's own colour for its header and links (#rgb or #rrggbb).
	Logo        string `yaml:"logo"`
	Favicon     string `yaml:"favicon"`
	AccentColor string `yaml:"accent_color"`
}

// Server is where Upstate listens and keeps its data.
type Server struct {
	Listen  string `yaml:"listen"`
	DataDir string `yaml:"data_dir"`
	// Database is where the store lives: empty for SQLite, a file in
	// DataDir (the default); a postgres:// or postgresql:// URL, or a
	// keyword DSN ("host=… dbname=…"), for PostgreSQL. Usually a ${ENV}
	// reference, since it may hold a password; a Secret, so it is never
	// printed or logged.
	Database upstate.Secret `yaml:"database"`
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose
	// X-Forwarded-For and Forwarded headers say who the client is.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Proxies is TrustedProxies parsed.
	Proxies []netip.Prefix `yaml:"-"`
	// ForwardedHeader is the one header the trusted proxies set:
	// X-Forwarded-For (the default) or Forwarded. The other is ignored,
	// since a proxy passes on what the client sent in it.
	ForwardedHeader string `yaml:"forwarded_header"`
	// Chromium is the browser browser checks run; empty to look for one
	// ($UPSTATE_CHROMIUM, then chromium or Chrome on PATH).
	Chromium string `yaml:"chromium"`
	// ConsoleEnv names the environment variables checks made in the
	// console may reference (${NAME}), and only in their secret keys:
	// none by default, so no one with checks:write can read the
	// server's environment through a check.
	ConsoleEnv []string `yaml:"console_env"`
	// Cluster is how this instance shares a PostgreSQL database with
	// others (docs/CLUSTER.md); ignored on SQLite.
	Cluster Cluster `yaml:"cluster"`
	// GOGC is how far the heap may grow past what is live before Go's
	// collector runs, in percent, as the GOGC environment variable says
	// it (which wins when set): DefaultGOGC when not given, -1 for off.
	// Most of what a server holds lives as long as its checks, and little
	// is made per probe, so collecting three times as often as Go's
	// default (100) costs no CPU that shows and keeps 40% less memory
	// resident (BENCHMARKS.md, 100,000 checks).
	GOGC int `yaml:"gogc"`
}

// DefaultGOGC is server.gogc when not given.
const DefaultGOGC = 30

// Cluster configures an instance among several on one database.
type Cluster struct {
	// Name is the instance's own, unique among the live ones and kept
	// across restarts (checks are ranked by it); default the host name
	// and the listening port.
	Name string `yaml:"name"`
	// Lease is how long an instance may go silent before the others take
	// its checks; default 10s, from 2s to 5m.
	Lease Duration `yaml:"lease"`
}

// Retention says how long raw results are kept before only their rollups remain.
type Retention struct {
	Raw    Duration `yaml:"raw"`
	Hourly Duration `yaml:"hourly"`
	// Audit is how long the audit log keeps its entries.
	Audit Duration `yaml:"audit"`
}

// Component is a part of the service as users see it.
type Component struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Group       string   `yaml:"group"`
	Description string   `yaml:"description"`
	DependsOn   []string `yaml:"depends_on"`
	// Order places the component on the page: components are shown by
	// order, those without one by their place in the list (the file's
	// first, then those made in the console), ties in list order.
	Order int `yaml:"order"`
	// Messages replace the plain default words of the public entries
	// Upstate writes about this component, by condition.
	Messages Messages `yaml:"messages"`
	// Console says the component was made in the console, not the file.
	Console bool `yaml:"-"`
}

// Messages are what the public timeline says, in the operator's words,
// when a component is down, partly failing, slow, or recovered. Empty
// keeps the default ("The API is not responding"). Markdown, verbatim.
type Messages struct {
	Down     string `yaml:"down"`
	Partial  string `yaml:"partial"`
	Degraded string `yaml:"degraded"`
	Resolved string `yaml:"resolved"`
}

// Check is one check: the keys every kind has, and its kind's own.
type Check struct {
	ID         string            `yaml:"id"`
	Name       string            `yaml:"name"`
	Kind       string            `yaml:"kind"`
	Interval   Duration          `yaml:"interval"`
	Timeout    Duration          `yaml:"timeout"`
	Components []string          `yaml:"components"`
	Impact     map[string]string `yaml:"impact"`
	DependsOn  []string          `yaml:"depends_on"`

	// Deciding.
	FailAfter      int      `yaml:"fail_after"`
	RecoverAfter   int      `yaml:"recover_after"`
	Recheck        *Recheck `yaml:"recheck"`
	RecoveryWindow Duration `yaml:"recovery_window"`
	// Burst and FastInterval apply to kinds whose probes may be repeated
	// (check.Kind.Repeat).
	Burst        *Burst   `yaml:"burst"`
	FastInterval Duration `yaml:"fast_interval"`
	// Paused checks are kept but not run: they open no incidents and
	// their condition stays as it was until they are resumed.
	Paused bool `yaml:"paused"`

	// Regions are where the check is probed from: probe agents' regions
	// (upstate probe --region), and "local" for this server. None: the
	// server alone, as before. Quorum is how many regions must agree that
	// it fails (default a majority). Kinds Upstate probes itself only.
	Regions []string `yaml:"regions"`
	Quorum  int      `yaml:"quorum"`

	// Console says the check was made in the console, not the file.
	Console bool `yaml:"-"`

	// Section holds the keys only the check's kind takes (check.Kinds);
	// they are decoded into it, strictly, once kind is known.
	Section check.Section `yaml:"-"`
}

// Common is what the check says whatever its kind, as its kind reads it.
func (ch *Check) Common() check.Common {
	c := check.Common{ID: ch.ID, Name: ch.Name, Kind: ch.Kind, Interval: ch.Interval.D(), Timeout: ch.Timeout.D(),
		Components: ch.Components, Impact: ch.Impact, DependsOn: ch.DependsOn,
		FailAfter: ch.FailAfter, RecoverAfter: ch.RecoverAfter, RecoveryWindow: ch.RecoveryWindow.D()}
	if r := ch.Recheck; r != nil {
		c.Recheck = &check.Recheck{Count: r.Count, Every: r.Every.D()}
	}
	if b := ch.Burst; b != nil {
		c.Burst = &check.Burst{Count: b.Count, Over: b.Over.D(), Always: b.Always}
	}
	c.FastInterval = ch.FastInterval.D()
	return c
}

// setCommon keeps the defaults a check's kind gave the common fields.
func (ch *Check) setCommon(c check.Common) {
	ch.Interval, ch.Timeout = Duration(c.Interval), Duration(c.Timeout)
	ch.FailAfter, ch.RecoverAfter, ch.RecoveryWindow = c.FailAfter, c.RecoverAfter, Duration(c.RecoveryWindow)
	ch.Impact = c.Impact // an icmp check's packet loss is a partial outage by default
	ch.Recheck = nil
	if r := c.Recheck; r != nil {
		ch.Recheck = &Recheck{Count: r.Count, Every: Duration(r.Every)}
	}
	ch.Burst = nil
	if b := c.Burst; b != nil {
		ch.Burst = &Burst{Count: b.Count, Over: Duration(b.Over), Always: b.Always}
	}
	ch.FastInterval = Duration(c.FastInterval)
}

// Recheck tunes fast confirmation: how many quick re-checks follow a
// suspect result, and how far apart.
type Recheck struct {
	Count int      `yaml:"count"`
	Every Duration `yaml:"every"`
}

// Burst tunes burst confirmation: how many samples a suspect result is
// confirmed by (0 turns bursts off) and over how long.
type Burst struct {
	Count *int     `yaml:"count"`
	Over  Duration `yaml:"over"`
	// Always follows every probe with a burst, not only a suspect one.
	Always bool `yaml:"always"`
}

// MaxBurst is the most samples one burst may take.
const MaxBurst = 20

// Defaults.
const (
	DefaultListen   = "127.0.0.1:8080"
	DefaultDataDir  = "./data"
	DefaultInterval = 60 * time.Second
	DefaultTimeout  = 10 * time.Second
	DefaultRaw      = 14 * 24 * time.Hour
	DefaultHourly   = 90 * 24 * time.Hour
	// DefaultAudit keeps the audit log a year and a bit: last year's
	// review can still see who changed what.
	DefaultAudit = 400 * 24 * time.Hour
)

// ErrNotFound is returned by Load when the file does not exist.
var ErrNotFound = errors.New("config file not found")

// A Rule checks what config cannot judge by itself: it describes, and
// what a message template may say is the notification side's to know.
// It gets the decoded configuration (which may have problems of its own)
// and reports by path; config puts each problem at its line with the
// rest, so every problem in the file still comes back at once.
type Rule func(c *Config, problem func(path, format string, args ...any))

// Load reads and validates the file, and applies the rules. Every problem
// comes back at once as *Problems; a missing file wraps ErrNotFound.
func Load(file string, rules ...Rule) (*Config, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (run `upstate init` to write an example to start from)", file, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(file, data, envLookup, rules...)
}

// Parse decodes and validates configuration text, and applies the rules;
// file names it in errors and anchors relative paths; lookup resolves
// ${ENV} references.
func Parse(file string, data []byte, lookup func(string) (string, bool), rules ...Rule) (*Config, error) {
	// The checks list a run at a time when it can be (pieces.go).
	root, pieces, probs := parseCut(file, data)
	if probs != nil {
		return nil, probs
	}
	c, err := decodeRoot(file, data, nil, root, pieces, lookup, rules)
	if errors.Is(err, errWhole) {
		return parseWhole(file, data, lookup, rules)
	}
	if c != nil && pieces != nil {
		c.cut = true // every run parsed alone as the items cut
	}
	return c, err
}

// parseWhole parses the file as one tree of YAML nodes.
func parseWhole(file string, data []byte, lookup func(string) (string, bool), rules []Rule) (*Config, error) {
	root, probs := parseNode(file, data)
	if probs != nil {
		return nil, probs
	}
	return decodeRoot(file, data, nil, root, nil, lookup, rules)
}

// parseNode reads the file's text as YAML, keeping comments.
func parseNode(file string, data []byte) (*yaml.Node, *Problems) {
	probs := &Problems{File: file}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, errEOF) || strings.Contains(err.Error(), "EOF") {
			probs.add(0, "", "the file is empty; run `upstate init` for an example")
			return nil, probs
		}
		probs.add(yamlLine(err), "", "%s", strings.TrimPrefix(yamlMessage(err), "yaml: "))
		return nil, probs
	}
	return &root, nil
}

// decodeRoot decodes and validates a configuration's YAML, read from
// file's data, and applies the rules.
// packed, when not nil, is data already packed (a merge keeps the file's).
// pieces, when not nil, are the checks list cut out of root (Parse);
// errWhole then says the file has to be parsed whole.
func decodeRoot(file string, data []byte, packed *source, root *yaml.Node, pieces *checkPieces, lookup func(string) (string, bool), rules []Rule) (*Config, error) {
	probs := &Problems{File: file}
	c := &Config{File: file, Lookup: lookup, fileIDs: &fileIDs{}}
	// A line recorded for about each line of the file (enter records a
	// value's only where it is not its parent's): sized once, the map is
	// not grown step by step through 100,000 checks' lines.
	d := &decoder{probs: probs, lines: make(map[string]int, bytes.Count(data, []byte("\n"))+1), keys: map[string][]string{}, foreign: map[string][]foreignKey{}, lookup: lookup}
	d.pieces = pieces
	d.decode(root, reflect.ValueOf(c).Elem(), "")
	if d.piecesErr != nil {
		return nil, d.piecesErr
	}
	v := validator{c: c, d: d, p: probs, text: data}
	v.validate()
	for _, rule := range rules {
		rule(c, v.errf)
	}
	if len(probs.Items) > 0 {
		probs.sort()
		return nil, probs
	}
	if packed == nil {
		c.source = packSource(data)
	} else {
		c.source = *packed
	}
	return c, nil
}

var errEOF = errors.New("EOF")

var yamlLineRe = regexp.MustCompile(`line (\d+):?\s*`)

func yamlLine(err error) int {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func yamlMessage(err error) string { return yamlLineRe.ReplaceAllString(err.Error(), "") }

// validator checks what types alone cannot: required fields, references,
// ranges, and which fields fit which kind of check.
type validator struct {
	c    *Config
	d    *decoder
	p    *Problems
	text []byte // the file's
}

func (v *validator) line(path string) int {
	for path != "" {
		if l, ok := v.d.lines[path]; ok {
			return l
		}
		path = cutPath(path)
	}
	return v.d.lines[""]
}

func (v *validator) errf(path, format string, args ...any) {
	v.p.add(v.line(path), path, format, args...)
}

// warnf notes something allowed but probably unwise.
func (v *validator) warnf(path, format string, args ...any) {
	w := &Problems{File: v.p.File}
	w.add(v.line(path), path, format, args...)
	v.c.Warnings = append(v.c.Warnings, w.Error())
}

var clusterNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

var colorRe = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// id checks the id of list[i] (what names the kind of thing) and records
// it in seen, mapping each id to its index plus one.
func (v *validator) id(list, what string, i int, id string, seen map[string]int) {
	p := fmt.Sprintf("%s[%d]", list, i)
	switch {
	case id == "":
		v.errf(p, "id is required")
	case !idRe.MatchString(id):
		v.errf(p+".id", "%q is not a valid id: use lowercase letters, digits, - and _", id)
	case seen[id] != 0:
		v.errf(p+".id", "duplicate %s id %q (first at line %d)", what, id, v.line(fmt.Sprintf("%s[%d]", list, seen[id]-1)))
	default:
		seen[id] = i + 1
	}
}

func (v *validator) validate() {
	c := v.c
	// page
	if c.Page.Name == "" {
		v.errf("page.name", "required: the name shown at the top of the status page")
	}
	if c.Page.URL != "" {
		if u, err := url.Parse(c.Page.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errf("page.url", "%q is not an http(s) URL", c.Page.URL)
		}
	}
	c.Page.URL = strings.TrimRight(c.Page.URL, "/")
	if c.Page.TimeZone == "" {
		c.Page.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(c.Page.TimeZone)
	if err != nil {
		v.errf("page.time_zone", "%q is not a time zone name (e.g. America/Los_Angeles, Europe/Berlin, UTC)", c.Page.TimeZone)
	}
	c.Location = loc
	switch c.Page.AutomaticUpdates {
	case "":
		c.Page.AutomaticUpdates = "public"
	case "public", "internal":
	default:
		v.errf("page.automatic_updates", "%q is not public or internal", c.Page.AutomaticUpdates)
	}
	if a := c.Page.AccentColor; a != "" && !colorRe.MatchString(a) {
		v.errf("page.accent_color", "%q is not a colour as #rgb or #rrggbb (e.g. #0b5fff)", a)
	}
	c.Page.AccentColor = strings.ToLower(c.Page.AccentColor)
	for _, f := range []*string{&c.Page.Logo, &c.Page.Favicon} {
		if *f != "" && !filepath.IsAbs(*f) {
			*f = filepath.Join(filepath.Dir(c.File), *f)
		}
	}

	// server
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		v.errf("server.listen", "%q is not host:port (e.g. 127.0.0.1:8080 or :8080)", c.Server.Listen)
	}
	if c.Server.DataDir == "" {
		c.Server.DataDir = DefaultDataDir
	}
	if n := c.Server.Cluster.Name; n != "" && !clusterNameRe.MatchString(n) {
		v.errf("server.cluster.name", "%q is not a name of letters, digits, '.', '-' and '_', at most 64 (e.g. upstate-1)", n)
	}
	if l := c.Server.Cluster.Lease.D(); l != 0 && (l < 2*time.Second || l > 5*time.Minute) {
		v.errf("server.cluster.lease", "%s is outside 2s to 5m", l)
	}
	switch g := c.Server.GOGC; {
	case g == 0:
		c.Server.GOGC = DefaultGOGC
	case g < -1 || g > 1000 || g > 0 && g < 10:
		v.errf("server.gogc", "%d is outside 10 to 1000 (percent; -1 turns the collector off)", g)
	case g == -1:
		v.warnf("server.gogc", "-1 turns Go's collector off: memory grows until GOMEMLIMIT (or the machine's) stops it")
	}
	c.Server.Proxies = nil
	for i, raw := range c.Server.TrustedProxies {
		p, err := netip.ParsePrefix(raw)
		if err != nil {
			a, aerr := netip.ParseAddr(raw)
			if aerr != nil {
				v.errf(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not an address or CIDR (e.g. 10.0.0.0/8, 127.0.0.1 or fd00::/8)", raw)
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.Server.Proxies = append(c.Server.Proxies, p.Masked())
		if p.Bits() == 0 {
			v.warnf(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q trusts every address: any client can then say it is anyone (list your proxies' addresses)", raw)
		}
	}
	switch strings.ToLower(c.Server.ForwardedHeader) {
	case "", "x-forwarded-for":
		c.Server.ForwardedHeader = "X-Forwarded-For"
	case "forwarded":
		c.Server.ForwardedHeader = "Forwarded"
	default:
		v.errf("server.forwarded_header", "%q is not X-Forwarded-For or Forwarded", c.Server.ForwardedHeader)
	}
	if !filepath.IsAbs(c.Server.DataDir) {
		c.Server.DataDir = filepath.Join(filepath.Dir(c.File), c.Server.DataDir)
	}
	if msg := databaseProblem(c.Server.Database.Reveal()); msg != "" {
		v.errf("server.database", "%s", msg)
	} else if databasePassword(c.Server.Database.Reveal()) && !v.fromEnv("server.database") {
		v.warnf("server.database", "holds a password written in the file: take it from the environment (database: ${UPSTATE_DATABASE}) so the file can be shared and kept in version control")
	}
	if c.Retention.Raw == 0 {
		c.Retention.Raw = Duration(DefaultRaw)
	}
	if c.Retention.Hourly == 0 {
		c.Retention.Hourly = Duration(DefaultHourly)
	}
	if c.Retention.Audit == 0 {
		c.Retention.Audit = Duration(DefaultAudit)
	}
	if c.Retention.Audit.D() < 24*time.Hour {
		v.errf("retention.audit", "%s is too short: keep the audit log at least 1d", c.Retention.Audit.D())
	}
	if c.Retention.Raw.D() < time.Hour {
		v.errf("retention.raw", "%s is too short: keep raw results at least 1h", c.Retention.Raw.D())
	}
	if c.Retention.Hourly.D() < c.Retention.Raw.D() {
		v.errf("retention.hourly", "must be at least retention.raw (%s)", c.Retention.Raw.D())
	}

	// components
	comps := map[string]int{}
	for i := range c.Components {
		comp := &c.Components[i]
		v.id("components", "component", i, comp.ID, comps)
		if comp.Order < 0 {
			v.errf(fmt.Sprintf("components[%d].order", i), "%d is out of range: 1 or more places the component, 0 or none keeps its place in the list", comp.Order)
		}
		if comp.Name == "" {
			comp.Name = comp.ID
		}
	}
	for i, comp := range c.Components {
		for j, dep := range comp.DependsOn {
			p := fmt.Sprintf("components[%d].depends_on[%d]", i, j)
			if comps[dep] == 0 {
				v.errf(p, "no component has id %q%s", dep, v.known(comps))
			} else if dep == comp.ID {
				v.errf(p, "a component cannot depend on itself")
			}
		}
	}
	if cyc := v.dependencyCycle(); cyc != "" {
		v.errf("components", "dependencies form a cycle: %s", cyc)
	}
	if len(c.Components) == 0 {
		v.errf("components", "at least one component is required: the status page shows components")
	}

	// checks
	checks := map[string]int{}
	for i := range c.Checks {
		v.check(i, comps, checks)
	}
	v.notifications(comps)
	v.oncall(comps)
	v.subscribers()
	if v.c.Inbound.HMACTimestampHeader == "" {
		v.c.Inbound.HMACTimestampHeader = DefaultHMACTimestampHeader
	}
}

func (v *validator) known(ids map[string]int) string {
	var names []string
	for id := range ids {
		names = append(names, id)
	}
	slices.Sort(names)
	if len(names) == 0 || len(names) > 12 {
		return ""
	}
	return " (components: " + strings.Join(names, ", ") + ")"
}

func (v *validator) dependencyCycle() string {
	deps := map[string][]string{}
	for _, c := range v.c.Components {
		deps[c.ID] = c.DependsOn
	}
	state := map[string]int{} // 1 visiting, 2 done
	var stack []string
	var found string
	var visit func(id string) bool
	visit = func(id string) bool {
		if state[id] == 1 {
			i := slices.Index(stack, id)
			found = strings.Join(append(stack[i:], id), " → ")
			return true
		}
		if state[id] == 2 {
			return false
		}
		state[id] = 1
		stack = append(stack, id)
		for _, d := range deps[id] {
			if _, ok := deps[d]; ok && d != id && visit(d) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = 2
		return false
	}
	for _, c := range v.c.Components {
		if visit(c.ID) {
			return found
		}
	}
	return ""
}

func (v *validator) check(i int, comps, checks map[string]int) {
	ch := &v.c.Checks[i]
	p := fmt.Sprintf("checks[%d]", i)
	v.id("checks", "check", i, ch.ID, checks)
	kind, ok := check.KindOf(ch.Kind)
	if !ok {
		kinds := strings.Join(check.KindNames(), ", ")
		if ch.Kind == "" {
			v.errf(p, "kind is required (one of %s)", kinds)
		} else {
			v.errf(p+".kind", "unknown kind %q (one of %s)", ch.Kind, kinds)
		}
		return
	}
	if ch.Section == nil {
		ch.Section = kind.New()
	}
	// Keys of other kinds, the check's own first, then those within.
	foreign := v.d.foreign[p]
	slices.SortStableFunc(foreign, func(a, b foreignKey) int { return a.depth - b.depth })
	for _, f := range foreign {
		v.errf(f.path, "%s applies to %s checks, not %s", f.key, list(f.kinds), ch.Kind)
	}
	if len(ch.Components) == 0 {
		v.errf(p, "components is required: the components this check affects")
	}
	for j, id := range ch.Components {
		if comps[id] == 0 {
			v.errf(fmt.Sprintf("%s.components[%d]", p, j), "no component has id %q%s", id, v.known(comps))
		}
	}
	for j, id := range ch.DependsOn {
		if comps[id] == 0 {
			v.errf(fmt.Sprintf("%s.depends_on[%d]", p, j), "no component has id %q%s", id, v.known(comps))
		}
	}
	for k, s := range ch.Impact {
		switch upstate.ImpactKey(k) {
		case upstate.ImpactDegraded, upstate.ImpactPartial, upstate.ImpactDown:
		default:
			v.errf(p+".impact."+k, "unknown condition %q (one of degraded, partial, down)", k)
			continue
		}
		if st := upstate.Status(s); !st.Valid() || st == upstate.Operational || st == upstate.UnderMaintenance {
			v.errf(p+".impact."+k, "%q is not a failing status (one of degraded_performance, partial_outage, major_outage)", s)
		}
	}

	sv := sectionValidator{v: v, p: p}
	common := ch.Common()
	ch.Section.Validate(sv, &common)
	ch.setCommon(common)
	if ch.Interval == 0 {
		ch.Interval = Duration(DefaultInterval)
	}
	if ch.Interval.D() < time.Second {
		v.errf(p+".interval", "%s is too short: at least 1s", ch.Interval.D())
	}
	if ch.Timeout == 0 {
		ch.Timeout = Duration(min(DefaultTimeout, ch.Interval.D()))
	}
	if ch.Timeout.D() > ch.Interval.D() {
		v.errf(p+".timeout", "%s is longer than the interval %s", ch.Timeout.D(), ch.Interval.D())
	}
	if ch.FailAfter < 0 || ch.FailAfter > 20 {
		v.errf(p+".fail_after", "%d is out of range (1 to 20)", ch.FailAfter)
	}
	if ch.RecoverAfter < 0 || ch.RecoverAfter > 20 {
		v.errf(p+".recover_after", "%d is out of range (1 to 20)", ch.RecoverAfter)
	}
	if r := ch.Recheck; r != nil {
		if r.Count < 0 || r.Count > 10 {
			v.errf(p+".recheck.count", "%d is out of range (0 to 10)", r.Count)
		}
		if r.Every < 0 || (r.Every > 0 && r.Every.D() < 100*time.Millisecond) {
			v.errf(p+".recheck.every", "%s is too short: at least 100ms", r.Every.D())
		}
	}

	v.repeat(p, ch, kind)
	v.regions(p, ch, kind)

	if st, ok := ch.Section.(check.Settled); ok {
		st.ValidateSettled(sv, ch.Common())
	}
}

// list says names as a sentence does: "http", "http and dns", "http, dns
// and tcp".
func list(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// repeat checks the keys of detection: burst, for kinds whose probes may
// be repeated, and fast_interval, for every kind Upstate probes itself
// (not those told their results).
func (v *validator) repeat(p string, ch *Check, kind check.Kind) {
	if kind.Told && ch.FastInterval != 0 {
		v.errf(p+".fast_interval", "applies to checks Upstate probes itself, not %s: a %s check is told its results", ch.Kind, ch.Kind)
	}
	if !kind.Repeat && ch.Burst != nil {
		why := fmt.Sprintf("applies to checks whose probe is a request one may repeat (%s), not %s", list(check.RepeatNames()), ch.Kind)
		if kind.Told {
			why += fmt.Sprintf(": a %s check is told its results", ch.Kind)
		}
		v.errf(p+".burst", "%s", why)
	}
	if kind.Told {
		return
	}
	if b := ch.Burst; kind.Repeat && b != nil {
		if b.Count != nil && (*b.Count < 0 || *b.Count > MaxBurst) {
			v.errf(p+".burst.count", "%d is out of range (0 to %d; 0 turns bursts off)", *b.Count, MaxBurst)
		}
		if b.Always && b.Count != nil && *b.Count == 0 {
			v.errf(p+".burst.always", "with count 0 there is no burst to take: give count, or leave always out")
		}
		switch {
		case b.Over < 0:
			v.errf(p+".burst.over", "must not be negative")
		case b.Over > 0 && b.Over.D() < 100*time.Millisecond:
			v.errf(p+".burst.over", "%s is too short: at least 100ms", b.Over.D())
		case b.Over.D() > ch.Interval.D():
			v.errf(p+".burst.over", "%s is longer than the interval %s", b.Over.D(), ch.Interval.D())
		}
	}
	switch f := ch.FastInterval.D(); {
	case f < 0:
		v.errf(p+".fast_interval", "must not be negative")
	case f > 0 && f < time.Second:
		v.errf(p+".fast_interval", "%s is too short: at least 1s", f)
	case f > ch.Interval.D():
		v.errf(p+".fast_interval", "%s is longer than the interval %s: it is how often the check runs while in trouble", f, ch.Interval.D())
	}
}

// LocalRegion is the server's own region: a check naming it among its
// regions is probed by the server too.
const LocalRegion = upstate.LocalRegion

// MaxRegions bounds how many regions one check names.
const MaxRegions = 16

// regions checks where a check is probed from and its quorum, and sets the
// quorum's default: a majority.
func (v *validator) regions(p string, ch *Check, kind check.Kind) {
	if len(ch.Regions) == 0 {
		if ch.Quorum != 0 {
			v.errf(p+".quorum", "applies to a check that names regions: give regions too (e.g. [local, eu])")
		}
		return
	}
	if kind.Told {
		v.errf(p+".regions", "applies to checks Upstate probes itself, not %s: a %s check is told its results, from nowhere in particular", ch.Kind, ch.Kind)
		return
	}
	if len(ch.Regions) > MaxRegions {
		v.errf(p+".regions", "%d regions is too many (at most %d)", len(ch.Regions), MaxRegions)
	}
	seen := map[string]bool{}
	for j, r := range ch.Regions {
		switch {
		case !upstate.ValidRegion(r):
			v.errf(fmt.Sprintf("%s.regions[%d]", p, j), "%q is not a region name (lower-case letters, digits and dashes, at most 32; %q is this server)", r, LocalRegion)
		case seen[r]:
			v.errf(fmt.Sprintf("%s.regions[%d]", p, j), "%q is named twice", r)
		}
		seen[r] = true
	}
	n := len(ch.Regions)
	if ch.Quorum == 0 {
		ch.Quorum = n/2 + 1
	} else if ch.Quorum < 1 || ch.Quorum > n {
		v.errf(p+".quorum", "%d is out of range (1 to %d, the number of regions): how many regions must see the check fail", ch.Quorum, n)
	}
}

// keywordDSN is the shape of a libpq keyword DSN: key=value pairs, the
// value bare or single-quoted.
var keywordDSN = regexp.MustCompile(`^\s*[a-z_]+\s*=\s*('([^'\\]|\\.)*'|[^\s']*)(\s+[a-z_]+\s*=\s*('([^'\\]|\\.)*'|[^\s']*))*\s*$`)

// databaseProblem says what is wrong with server.database, without
// repeating it (it may hold a password); "" when it is empty (SQLite) or
// has the shape of a PostgreSQL URL or keyword DSN. What the driver
// thinks of it is checked when the server opens it.
func databaseProblem(dsn string) string {
	if dsn == "" {
		return ""
	}
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "is not a valid URL (the value is not shown: it may hold a password); write postgres://user:password@host:5432/dbname, the password from ${ENV}"
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return "names no host: write postgres://user:password@host:5432/dbname (or ?host=/run/postgresql for a socket)"
		}
		return ""
	}
	if strings.Contains(dsn, "://") {
		return "is not a PostgreSQL database: write a postgres:// or postgresql:// URL or a keyword DSN (host=… dbname=…), or leave it out for SQLite in data_dir"
	}
	if !keywordDSN.MatchString(dsn) {
		return "is neither a postgres:// URL nor a keyword DSN (host=db user=upstate password=${PGPASSWORD} dbname=upstate); leave it out for SQLite in data_dir"
	}
	return ""
}

// passwordKeyword finds a password in a keyword DSN.
var passwordKeyword = regexp.MustCompile(`(^|\s)password\s*=`)

// databasePassword reports whether a database DSN holds a password.
func databasePassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		_, ok := u.User.Password()
		return ok || u.Query().Has("password")
	}
	return passwordKeyword.MatchString(dsn)
}

// fromEnv reports whether the value at path came through a ${ENV}
// reference on its line of the file (or there is no file text to tell).
func (v *validator) fromEnv(path string) bool {
	line := v.line(path)
	lines := bytes.Split(v.text, []byte("\n"))
	if line < 1 || line > len(lines) {
		return true
	}
	return bytes.Contains(lines[line-1], []byte("${"))
}
