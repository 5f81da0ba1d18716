package importer

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate"
)

// spIncident is an incident as Atlassian Statuspage writes it: in the
// public v2 API (GET /api/v2/incidents.json, and summary.json's
// unresolved ones) and in the manage API v1's incident list. Only the
// keys the converter reads; the API adds keys over time, and they are
// ignored.
type spIncident struct {
	ID           string        `yaml:"id"`
	Name         string        `yaml:"name"`
	Status       string        `yaml:"status"`
	Impact       string        `yaml:"impact"`
	CreatedAt    *string       `yaml:"created_at"`
	StartedAt    *string       `yaml:"started_at"`
	ResolvedAt   *string       `yaml:"resolved_at"`
	Components   []spComponent `yaml:"components"`
	Updates      []spUpdate    `yaml:"incident_updates"`
	Postmortem   *string       `yaml:"postmortem_body"`
	PostmortemAt *string       `yaml:"postmortem_published_at"`
}

type spComponent struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

type spUpdate struct {
	Status    string    `yaml:"status"`
	Body      string    `yaml:"body"`
	CreatedAt *string   `yaml:"created_at"`
	DisplayAt *string   `yaml:"display_at"`
	Affected  []spAffec `yaml:"affected_components"`
}

type spAffec struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
}

// FromStatuspage converts Atlassian Statuspage incidents into an import
// document: the public v2 API's incidents.json (an object with page and
// incidents; summary.json and incidents/unresolved.json have the same
// shape) or the manage API's incident list (an array of the same
// incident objects). Each incident's external_id is "statuspage:" and its
// Statuspage id, so importing a newer copy of the same page replaces
// what an older one imported; its updates come oldest first, at their
// display_at, public; its components are named by slugs of their names
// (the same name, the same id), created by the document. Scheduled
// maintenances are not incidents and are skipped with a warning.
//
// The document is validated as Parse validates a file (with opts.Now);
// a problem is at the line of the Statuspage incident it comes from.
func FromStatuspage(r io.Reader, opts Options) (*Document, []Warning, error) {
	data, err := readAll(r, opts.File)
	if err != nil {
		return nil, nil, err
	}
	probs := &Problems{File: opts.File}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		probs.add(yamlLine(err), "", "not Statuspage's JSON: %s", strings.TrimPrefix(yamlLineRe.ReplaceAllString(err.Error(), ""), "yaml: "))
		return nil, nil, probs
	}
	if tooLarge(&root) {
		probs.add(0, "", "more than %d values once its aliases are expanded", MaxNodes)
		return nil, nil, probs
	}
	list, base := spIncidents(&root)
	if list == nil {
		probs.add(0, "", "not Statuspage's JSON: want an object with incidents (GET /api/v2/incidents.json) or a list of incidents (the manage API's)")
		return nil, nil, probs
	}
	if len(list.Content) > MaxIncidents {
		probs.add(list.Line, base, "%d incidents is more than %d: split the file", len(list.Content), MaxIncidents)
		return nil, nil, probs
	}
	c := &spConverter{probs: probs, ids: map[string]string{}, taken: map[string]bool{}, byCode: map[string]string{}}
	doc := &Document{Version: Version, Incidents: []Incident{}}
	lines := map[string]int{"": root.Line, "version": root.Line, "incidents": list.Line}
	var source []string // the Statuspage path of each imported incident
	for j, n := range list.Content {
		src := fmt.Sprintf("%s[%d]", base, j)
		var sp spIncident
		if err := n.Decode(&sp); err != nil {
			probs.add(n.Line, src, "%s", strings.TrimPrefix(yamlLineRe.ReplaceAllString(err.Error(), ""), "yaml: "))
			continue
		}
		in, ok := c.incident(&sp, n, src)
		if !ok {
			continue
		}
		i := len(doc.Incidents)
		p := fmt.Sprintf("incidents[%d]", i)
		lines[p] = n.Line
		if !in.StartedAt.IsZero() {
			lines[p+".started_at"] = n.Line
		}
		for k := range in.Updates {
			lines[fmt.Sprintf("%s.updates[%d].at", p, k)] = n.Line
		}
		doc.Incidents = append(doc.Incidents, in)
		source = append(source, src)
	}
	doc.Components = c.components
	if len(probs.Items) > 0 {
		return nil, c.warnings, probs.err()
	}
	v := &validator{doc: doc, d: &decoder{probs: probs, lines: lines, bad: map[string]bool{}}, p: probs, opts: opts}
	v.rename = func(path string) string {
		// Name the incident as the Statuspage file has it.
		var i int
		if _, err := fmt.Sscanf(path, "incidents[%d]", &i); err == nil && i < len(source) {
			return source[i] + " (" + doc.Incidents[i].ExternalID + ")" + path[len(fmt.Sprintf("incidents[%d]", i)):]
		}
		return path
	}
	v.validate()
	if err := probs.err(); err != nil {
		return nil, c.warnings, err
	}
	return doc, c.warnings, nil
}

// spIncidents finds the list of incidents: the top-level list, or the
// incidents key of the top-level object.
func spIncidents(root *yaml.Node) (*yaml.Node, string) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return n, ""
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "incidents" && n.Content[i+1].Kind == yaml.SequenceNode {
				return n.Content[i+1], "incidents"
			}
		}
	}
	return nil, ""
}

type spConverter struct {
	probs      *Problems
	warnings   []Warning
	components []Component
	ids        map[string]string // component name → id
	taken      map[string]bool
	byCode     map[string]string // Statuspage component id → our id
}

func (c *spConverter) warnf(source, format string, args ...any) {
	c.warnings = append(c.warnings, Warning{Source: source, Message: fmt.Sprintf(format, args...)})
}

// component returns the id of the component named name (creating it),
// remembering code, Statuspage's id for it.
func (c *spConverter) component(code, name string) string {
	if id, ok := c.byCode[code]; ok && code != "" {
		return id
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = code
	}
	id, ok := c.ids[name]
	if !ok {
		id = unique(slug(name), c.taken)
		c.ids[name] = id
		c.components = append(c.components, Component{ID: id, Name: clip(name)})
	}
	if code != "" {
		c.byCode[code] = id
	}
	return id
}

func (c *spConverter) incident(sp *spIncident, n *yaml.Node, src string) (Incident, bool) {
	if sp.ID == "" {
		c.probs.add(n.Line, src, "an incident without an id")
		return Incident{}, false
	}
	who := "statuspage:" + sp.ID
	switch sp.Status {
	case "scheduled", "in_progress", "verifying", "completed":
		c.warnf(who, "a scheduled maintenance (%s), not an incident: not imported", sp.Status)
		return Incident{}, false
	}
	if sp.Impact == string(upstate.ImpactMaintenance) {
		c.warnf(who, "a scheduled maintenance (impact maintenance), not an incident: not imported")
		return Incident{}, false
	}
	in := Incident{ExternalID: who, Name: sp.Name, Status: upstate.IncidentStatus(sp.Status), Impact: upstate.Impact(sp.Impact)}
	at := func(key string, s *string) *time.Time {
		if s == nil || *s == "" {
			return nil
		}
		t, err := parseTime(*s)
		if err != nil {
			c.probs.add(n.Line, src+"."+key, "%s", err)
			return nil
		}
		return &t
	}
	created := at("created_at", sp.CreatedAt)
	started := at("started_at", sp.StartedAt)
	switch {
	case started != nil:
		in.StartedAt = *started
	case created != nil:
		in.StartedAt = *created
	default:
		c.probs.add(n.Line, src, "neither started_at nor created_at: when did it start?")
	}
	if created != nil && !created.Before(in.StartedAt) {
		in.DetectedAt = created
	}
	in.ResolvedAt = at("resolved_at", sp.ResolvedAt)
	seen := map[string]bool{}
	addComp := func(code, name string) {
		if id := c.component(code, name); !seen[id] {
			seen[id] = true
			in.Components = append(in.Components, id)
		}
	}
	for _, comp := range sp.Components {
		addComp(comp.ID, comp.Name)
	}
	for k, u := range sp.Updates {
		up := fmt.Sprintf("%s.incident_updates[%d]", src, k)
		for _, a := range u.Affected {
			addComp(a.Code, a.Name)
		}
		switch u.Status {
		case "scheduled", "in_progress", "verifying", "completed":
			c.warnf(who, "incident_updates[%d] is a maintenance's (%s): not imported", k, u.Status)
			continue
		}
		t := at("incident_updates["+fmt.Sprint(k)+"].display_at", u.DisplayAt)
		if t == nil {
			t = at("incident_updates["+fmt.Sprint(k)+"].created_at", u.CreatedAt)
		}
		if t == nil {
			c.probs.add(n.Line, up, "an update without display_at or created_at")
			continue
		}
		body := u.Body
		if strings.TrimSpace(body) == "" {
			body = upstate.IncidentStatus(u.Status).Label() + "."
			c.warnf(who, "incident_updates[%d] has no body: it says %q", k, body)
		}
		in.Updates = append(in.Updates, Update{At: *t, Status: upstate.IncidentStatus(u.Status), Body: body, Public: true})
	}
	// Statuspage lists updates newest first; the format, oldest first.
	sort.SliceStable(in.Updates, func(a, b int) bool { return in.Updates[a].At.Before(in.Updates[b].At) })
	if !in.Status.Open() && in.ResolvedAt == nil && in.Status != "" && len(in.Updates) > 0 {
		last := in.Updates[len(in.Updates)-1].At
		in.ResolvedAt = &last
		c.warnf(who, "status %s without resolved_at: resolved at its last update, %s", in.Status, stamp(last))
	}
	if in.Status.Open() && in.ResolvedAt != nil {
		c.warnf(who, "status %s with resolved_at: resolved_at left out", in.Status)
		in.ResolvedAt = nil
	}
	if body := strings.TrimSpace(str(sp.Postmortem)); body != "" {
		in.Postmortem = &Postmortem{Summary: body, PublishedAt: at("postmortem_published_at", sp.PostmortemAt)}
	}
	return in, true
}
