package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate"
)

// Version is the version of the import format this package reads.
const Version = 1

// The bounds of one import file: every input gets a bounded answer.
const (
	MaxBytes      = 32 << 20 // a file larger is refused unread
	MaxIncidents  = 100_000
	MaxComponents = 10_000
	MaxUpdates    = 10_000 // per incident
	MaxItems      = 1_000  // components, regions, segments, action items: per incident
	MaxName       = 500    // characters in a name, title, id or provider
	MaxBody       = 65_536 // bytes in an update's body or a postmortem section
	MaxExternalID = 200
)

// Document is a whole import file: incidents with their timelines, scope,
// upstream cause and postmortems, and the components they need created.
// Importing is idempotent by Incident.ExternalID: the importer creates the
// incidents it has not seen and replaces the ones it has (their timeline
// and postmortem with them), so running the same file twice changes
// nothing the second time.
type Document struct {
	Version    int         `yaml:"version"`
	Components []Component `yaml:"components,omitempty"`
	Incidents  []Incident  `yaml:"incidents"`
}

// Component is a component to create when it does not exist yet (by id);
// one that exists is left as it is.
type Component struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name,omitempty"`
	Group       string `yaml:"group,omitempty"`
	Description string `yaml:"description,omitempty"`
}

// Incident is one past or open incident.
type Incident struct {
	// ExternalID identifies the incident across imports (e.g.
	// "statuspage:p31zjtct2jer"): required and unique in the file.
	ExternalID     string                 `yaml:"external_id"`
	Name           string                 `yaml:"name"`
	Status         upstate.IncidentStatus `yaml:"status"`
	Impact         upstate.Impact         `yaml:"impact"`
	Components     []string               `yaml:"components,omitempty"`
	StartedAt      time.Time              `yaml:"started_at"`
	DetectedAt     *time.Time             `yaml:"detected_at,omitempty"`
	AcknowledgedAt *time.Time             `yaml:"acknowledged_at,omitempty"`
	ResolvedAt     *time.Time             `yaml:"resolved_at,omitempty"`
	Scope          *Scope                 `yaml:"scope,omitempty"`
	Upstream       *Upstream              `yaml:"upstream,omitempty"`
	Updates        []Update               `yaml:"updates,omitempty"`
	Postmortem     *Postmortem            `yaml:"postmortem,omitempty"`
	// Statuses are the component statuses the incident set, oldest first,
	// as Upstate's history keeps them (an export writes them); without
	// them an import counts each component down, as the impact says,
	// from started_at to resolved_at.
	Statuses []StatusChange `yaml:"statuses,omitempty"`
}

// StatusChange is one component's status from a time on.
type StatusChange struct {
	Component string         `yaml:"component"`
	At        time.Time      `yaml:"at"`
	Status    upstate.Status `yaml:"status"`
}

// Scope is how much the incident hurt, beyond where.
type Scope struct {
	FailingPercent *Percent `yaml:"failing_percent,omitempty"`
	Regions        []string `yaml:"regions,omitempty"`
	Segments       []string `yaml:"segments,omitempty"`
}

// Percent is a share of requests failing, 0–100: a number (Min == Max)
// or a range [min, max] when only its bounds are known.
type Percent struct{ Min, Max float64 }

// MarshalYAML writes a number, or [min, max] for a range.
func (p Percent) MarshalYAML() (any, error) {
	if p.Min == p.Max {
		return p.Min, nil
	}
	return []float64{p.Min, p.Max}, nil
}

// UnmarshalYAML reads a number or [min, max], for callers decoding
// with yaml.Unmarshal; Parse reads it itself, strictly.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	var f float64
	if err := n.Decode(&f); err == nil {
		*p = Percent{f, f}
		return nil
	}
	var r []float64
	if err := n.Decode(&r); err != nil || len(r) != 2 {
		return fmt.Errorf("line %d: want a percentage or a range [min, max]", n.Line)
	}
	*p = Percent{r[0], r[1]}
	return nil
}

// Upstream is the third party's incident that caused this one.
type Upstream struct {
	Provider string `yaml:"provider"`
	Title    string `yaml:"title,omitempty"`
	URL      string `yaml:"url,omitempty"`
}

// Update is one entry of the incident's timeline.
type Update struct {
	At     time.Time              `yaml:"at"`
	Status upstate.IncidentStatus `yaml:"status,omitempty"`
	Body   string                 `yaml:"body"`
	// Public is whether the public page shows it; an update left without
	// it is an internal note.
	Public bool `yaml:"public"`
	// Until, when given, makes the update a span: what it tells of lasted
	// from at until then. Not before at, not in the future.
	Until *time.Time `yaml:"until,omitempty"`
}

// Postmortem is what was written after the incident.
type Postmortem struct {
	Summary      string       `yaml:"summary,omitempty"`
	RootCause    string       `yaml:"root_cause,omitempty"`
	Contributing string       `yaml:"contributing,omitempty"`
	Fix          string       `yaml:"fix,omitempty"`
	Prevention   string       `yaml:"prevention,omitempty"`
	Actions      []ActionItem `yaml:"actions,omitempty"`
	// PublishedAt is when it was published; a postmortem without it is a
	// draft.
	PublishedAt *time.Time `yaml:"published_at,omitempty"`
}

// ActionItem is one thing to do so it does not happen again.
type ActionItem struct {
	Text  string `yaml:"text"`
	Owner string `yaml:"owner,omitempty"`
	// Due is a date (2026-12-31) or a time.
	Due  string `yaml:"due,omitempty"`
	Done bool   `yaml:"done,omitempty"`
}

// Marshal writes the document as an import file (YAML), as Parse reads it.
func (d *Document) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Upstate import file: see /api/v1/import/schema.json\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Options are what Parse needs from outside the file.
type Options struct {
	// File names the file in problems.
	File string
	// Now is the time no time in the file may be after: the caller's
	// clock (the zero time skips the check; only tests should leave it).
	Now time.Time
	// Components are the ids of the components that exist already; an
	// incident may name these and those the file creates.
	Components []string
}

// Read reads an import file of at most MaxBytes and parses it.
func Read(r io.Reader, opts Options) (*Document, error) {
	data, err := readAll(r, opts.File)
	if err != nil {
		return nil, err
	}
	return Parse(data, opts)
}

// readAll reads at most MaxBytes; a larger input is refused.
func readAll(r io.Reader, file string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", file, err)
	}
	if len(data) > MaxBytes {
		p := &Problems{File: file}
		p.add(0, "", "the file is larger than %d MiB: split it into smaller files", MaxBytes>>20)
		return nil, p
	}
	return data, nil
}

// Parse reads an import file, YAML or JSON (JSON is YAML), strictly, and
// validates all of it. Every problem comes back at once as *Problems, each
// at its place; a document is returned only when there is none, so an
// import changes nothing unless all of it is valid.
func Parse(data []byte, opts Options) (*Document, error) {
	probs := &Problems{File: opts.File}
	if len(data) > MaxBytes {
		probs.add(0, "", "the file is larger than %d MiB: split it into smaller files", MaxBytes>>20)
		return nil, probs
	}
	if !utf8.Valid(data) {
		probs.add(0, "", "the file is not UTF-8 text")
		return nil, probs
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			probs.add(0, "", "the file is empty")
			return nil, probs
		}
		probs.add(yamlLine(err), "", "%s", strings.TrimPrefix(yamlLineRe.ReplaceAllString(err.Error(), ""), "yaml: "))
		return nil, probs
	}
	d := &decoder{probs: probs, lines: map[string]int{}, bad: map[string]bool{}}
	doc := &Document{}
	if top := topMapping(&root); top != nil {
		// Check the bounds before decoding, so that a file of a million
		// incidents is refused without building them.
		for i := 0; i+1 < len(top.Content); i += 2 {
			k, v := top.Content[i], top.Content[i+1]
			if v.Kind == yaml.SequenceNode && k.Value == "incidents" && len(v.Content) > MaxIncidents {
				probs.add(v.Line, "incidents", "%d incidents is more than %d: split the file", len(v.Content), MaxIncidents)
				return nil, probs
			}
			if v.Kind == yaml.SequenceNode && k.Value == "components" && len(v.Content) > MaxComponents {
				probs.add(v.Line, "components", "%d components is more than %d", len(v.Content), MaxComponents)
				return nil, probs
			}
		}
	}
	d.decode(&root, reflect.ValueOf(doc).Elem(), "")
	v := &validator{doc: doc, d: d, p: probs, opts: opts}
	v.validate()
	if err := probs.err(); err != nil {
		return nil, err
	}
	return doc, nil
}

func topMapping(root *yaml.Node) *yaml.Node {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.MappingNode {
		return n
	}
	return nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+):?\s*`)

func yamlLine(err error) int {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

var (
	idRe         = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	externalIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$`)
)

// validator checks what types alone cannot: required fields, known
// statuses and impacts, references, times in order and not in the future,
// and the bounds.
type validator struct {
	doc  *Document
	d    *decoder
	p    *Problems
	opts Options
	// rename, when set, names a path as the source file has it (a
	// converter's document is not the file the problems are about).
	rename func(path string) string
}

// line finds the line of path, or of the nearest enclosing path that has one.
func (v *validator) line(path string) int {
	for path != "" {
		if l, ok := v.d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return v.d.lines[""]
}

func (v *validator) errf(path, format string, args ...any) {
	line := v.line(path)
	if v.rename != nil {
		path = v.rename(path)
	}
	v.p.add(line, path, format, args...)
}

func (v *validator) validate() {
	doc := v.doc
	if _, ok := v.d.lines["version"]; !ok {
		v.errf("version", "version is required (version: %d)", Version)
	} else if doc.Version != Version && !v.d.bad["version"] {
		v.errf("version", "version %d is not known: this Upstate reads version %d", doc.Version, Version)
	}
	comps := map[string]int{}
	for _, id := range v.opts.Components {
		comps[id] = -1
	}
	for i, c := range doc.Components {
		p := fmt.Sprintf("components[%d]", i)
		switch {
		case c.ID == "":
			v.errf(p, "id is required")
		case !idRe.MatchString(c.ID):
			v.errf(p+".id", "%q is not a valid id: use lowercase letters, digits, - and _ (at most 63)", c.ID)
		case comps[c.ID] > 0:
			v.errf(p+".id", "duplicate component id %q (first at line %d)", c.ID, v.line(fmt.Sprintf("components[%d]", comps[c.ID]-1)))
		default:
			comps[c.ID] = i + 1
		}
		v.text(p+".name", c.Name, MaxName)
		v.text(p+".group", c.Group, MaxName)
		v.text(p+".description", c.Description, MaxBody)
	}
	if _, ok := v.d.lines["incidents"]; !ok {
		v.errf("incidents", "incidents is required (a list; it may be empty)")
	}
	seen := map[string]int{}
	for i := range doc.Incidents {
		v.incident(i, comps, seen)
	}
}

func (v *validator) incident(i int, comps, seen map[string]int) {
	in := &v.doc.Incidents[i]
	p := fmt.Sprintf("incidents[%d]", i)
	switch {
	case in.ExternalID == "":
		v.errf(p, "external_id is required: it is how a second import finds this incident again")
	case len(in.ExternalID) > MaxExternalID || !externalIDRe.MatchString(in.ExternalID):
		v.errf(p+".external_id", "%q is not a valid external id: letters, digits and . _ : / @ + -, at most %d (e.g. statuspage:p31zjtct2jer)", clip(in.ExternalID), MaxExternalID)
	case seen[in.ExternalID] != 0:
		v.errf(p+".external_id", "duplicate external_id %q (first at line %d)", in.ExternalID, v.line(fmt.Sprintf("incidents[%d]", seen[in.ExternalID]-1)))
	default:
		seen[in.ExternalID] = i + 1
	}
	if strings.TrimSpace(in.Name) == "" && !v.d.bad[p+".name"] {
		v.errf(p, "name is required")
	}
	v.text(p+".name", in.Name, MaxName)
	switch in.Status {
	case "":
		if v.d.bad[p+".status"] {
			break
		}
		v.errf(p, "status is required (one of %s)", statusNames)
	case upstate.Investigating, upstate.Identified, upstate.Monitoring, upstate.Resolved, upstate.Postmortem:
	default:
		v.errf(p+".status", "%q is not an incident status (one of %s)", clip(string(in.Status)), statusNames)
	}
	switch in.Impact {
	case "":
		if v.d.bad[p+".impact"] {
			break
		}
		v.errf(p, "impact is required (one of %s)", impactNames)
	case upstate.ImpactNone, upstate.ImpactMinor, upstate.ImpactMajor, upstate.ImpactCritical:
	default:
		v.errf(p+".impact", "%q is not an incident impact (one of %s)", clip(string(in.Impact)), impactNames)
	}
	if len(in.Components) > MaxItems {
		v.errf(p+".components", "%d components is more than %d", len(in.Components), MaxItems)
	} else {
		dup := map[string]bool{}
		for j, id := range in.Components {
			cp := fmt.Sprintf("%s.components[%d]", p, j)
			switch {
			case comps[id] == 0:
				v.errf(cp, "no component has id %q: add it to the file's components or to the configuration", clip(id))
			case dup[id]:
				v.errf(cp, "component %q is named twice", id)
			}
			dup[id] = true
		}
	}

	// Times: each with a zone (the decoder saw to that), none in the
	// future, in the order things happen.
	if _, ok := v.d.lines[p+".started_at"]; !ok {
		v.errf(p, "started_at is required: when users started to feel it")
	}
	v.notFuture(p+".started_at", &in.StartedAt)
	for _, t := range []struct {
		key string
		at  *time.Time
	}{{"detected_at", in.DetectedAt}, {"acknowledged_at", in.AcknowledgedAt}, {"resolved_at", in.ResolvedAt}} {
		if t.at == nil {
			continue
		}
		v.notFuture(p+"."+t.key, t.at)
		if !in.StartedAt.IsZero() && t.at.Before(in.StartedAt) {
			v.errf(p+"."+t.key, "%s is before started_at %s", stamp(*t.at), stamp(in.StartedAt))
		}
	}
	switch open := in.Status.Open(); {
	case in.Status == "":
	case open && in.ResolvedAt != nil:
		v.errf(p+".resolved_at", "an incident with status %s is not resolved: leave resolved_at out, or say status: resolved", in.Status)
	case !open && in.ResolvedAt == nil:
		v.errf(p, "resolved_at is required with status %s", in.Status)
	}
	if s := in.Scope; s != nil {
		if f := s.FailingPercent; f != nil {
			switch {
			case f.Min < 0 || f.Max > 100:
				v.errf(p+".scope.failing_percent", "must be between 0 and 100")
			case f.Min > f.Max:
				v.errf(p+".scope.failing_percent", "the range [%g, %g] is backwards: [min, max]", f.Min, f.Max)
			}
		}
		v.list(p+".scope.regions", s.Regions)
		v.list(p+".scope.segments", s.Segments)
	}
	if u := in.Upstream; u != nil {
		if strings.TrimSpace(u.Provider) == "" {
			v.errf(p+".upstream", "provider is required: whose incident caused this one")
		}
		v.text(p+".upstream.provider", u.Provider, MaxName)
		v.text(p+".upstream.title", u.Title, MaxName)
		if u.URL != "" && !upstate.IsHTTPURL(u.URL) {
			v.errf(p+".upstream.url", "%q is not an http(s) URL", clip(u.URL))
		}
	}
	if len(in.Updates) > MaxUpdates {
		v.errf(p+".updates", "%d updates is more than %d", len(in.Updates), MaxUpdates)
	} else {
		for j := range in.Updates {
			v.update(in, p, j)
		}
	}
	if len(in.Statuses) > MaxUpdates {
		v.errf(p+".statuses", "%d status changes is more than %d", len(in.Statuses), MaxUpdates)
	} else {
		for j, c := range in.Statuses {
			sp := fmt.Sprintf("%s.statuses[%d]", p, j)
			if comps[c.Component] == 0 {
				v.errf(sp+".component", "no component has id %q: add it to the file's components or to the configuration", clip(c.Component))
			}
			if _, ok := v.d.lines[sp+".at"]; !ok {
				v.errf(sp, "at is required: when the component took the status")
			} else {
				v.notFuture(sp+".at", &in.Statuses[j].At)
				if j > 0 && c.At.Before(in.Statuses[j-1].At) {
					v.errf(sp+".at", "%s is before the change above it (%s): list status changes oldest first", stamp(c.At), stamp(in.Statuses[j-1].At))
				}
			}
			if !c.Status.Valid() {
				v.errf(sp+".status", "%q is not a component status (operational, degraded_performance, partial_outage, major_outage, under_maintenance)", clip(string(c.Status)))
			}
		}
	}
	if pm := in.Postmortem; pm != nil {
		pp := p + ".postmortem"
		for _, f := range []struct{ key, text string }{{"summary", pm.Summary}, {"root_cause", pm.RootCause},
			{"contributing", pm.Contributing}, {"fix", pm.Fix}, {"prevention", pm.Prevention}} {
			v.text(pp+"."+f.key, f.text, MaxBody)
		}
		if pm.PublishedAt != nil {
			v.notFuture(pp+".published_at", pm.PublishedAt)
			if !in.StartedAt.IsZero() && pm.PublishedAt.Before(in.StartedAt) {
				v.errf(pp+".published_at", "%s is before started_at %s", stamp(*pm.PublishedAt), stamp(in.StartedAt))
			}
		}
		if len(pm.Actions) > MaxItems {
			v.errf(pp+".actions", "%d action items is more than %d", len(pm.Actions), MaxItems)
		}
		for j, a := range pm.Actions {
			if j >= MaxItems {
				break
			}
			ap := fmt.Sprintf("%s.actions[%d]", pp, j)
			if strings.TrimSpace(a.Text) == "" && !v.d.bad[ap+".text"] {
				v.errf(ap, "text is required: what is to be done")
			}
			v.text(ap+".text", a.Text, MaxBody)
			v.text(ap+".owner", a.Owner, MaxName)
			if a.Due != "" {
				if _, err := time.Parse(time.DateOnly, a.Due); err != nil {
					if _, err := parseTime(a.Due); err != nil {
						v.errf(ap+".due", "%q is not a date (2026-12-31) or an RFC 3339 time", clip(a.Due))
					}
				}
			}
		}
	}
}

func (v *validator) update(in *Incident, p string, j int) {
	u := in.Updates[j]
	up := fmt.Sprintf("%s.updates[%d]", p, j)
	if _, ok := v.d.lines[up+".at"]; !ok {
		v.errf(up, "at is required: when the update was posted")
	} else {
		v.notFuture(up+".at", &u.At)
		if prev := in.Updates[max(j-1, 0)].At; j > 0 && !u.At.IsZero() && !prev.IsZero() && u.At.Before(prev) {
			v.errf(up+".at", "%s is before the update above it (%s): list updates oldest first", stamp(u.At), stamp(prev))
		}
	}
	if u.Until != nil {
		v.notFuture(up+".until", u.Until)
		if !u.At.IsZero() && !u.Until.IsZero() && u.Until.Before(u.At) {
			v.errf(up+".until", "%s is before the update's at (%s): a span ends after it begins", stamp(*u.Until), stamp(u.At))
		}
	}
	switch u.Status {
	case "", upstate.Investigating, upstate.Identified, upstate.Monitoring, upstate.Resolved, upstate.Postmortem:
	default:
		v.errf(up+".status", "%q is not an incident status (one of %s)", clip(string(u.Status)), statusNames)
	}
	if strings.TrimSpace(u.Body) == "" && !v.d.bad[up+".body"] {
		v.errf(up, "body is required: what the update said")
	}
	v.text(up+".body", u.Body, MaxBody)
}

const (
	statusNames = "investigating, identified, monitoring, resolved, postmortem"
	impactNames = "none, minor, major, critical"
)

func (v *validator) notFuture(path string, t *time.Time) {
	if t == nil || t.IsZero() || v.opts.Now.IsZero() {
		return
	}
	if t.After(v.opts.Now) {
		v.errf(path, "%s is in the future (now is %s): an import records what happened", stamp(*t), stamp(v.opts.Now))
	}
}

func (v *validator) text(path, s string, limit int) {
	if len(s) > limit {
		v.errf(path, "%d bytes is longer than %d", len(s), limit)
	}
}

func (v *validator) list(path string, items []string) {
	if len(items) > MaxItems {
		v.errf(path, "%d items is more than %d", len(items), MaxItems)
		return
	}
	for j, s := range items {
		ip := fmt.Sprintf("%s[%d]", path, j)
		if strings.TrimSpace(s) == "" {
			v.errf(ip, "must not be empty")
		}
		v.text(ip, s, MaxName)
	}
}

func stamp(t time.Time) string { return t.Format(time.RFC3339) }

// clip shortens what a problem quotes from hostile input.
func clip(s string) string {
	if len(s) <= 60 {
		return s
	}
	i := 60
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
