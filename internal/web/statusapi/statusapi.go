// Package statusapi renders a snapshot as Atlassian Statuspage's public v2
// API, field for field, and as its history feeds (Atom and RSS), so tools
// that read a Statuspage page read ours unchanged. Every key is always
// present: null, never omitted.
package statusapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/snapshot"
)

// Paths of the documents Render produces.
const (
	PathSummary         = "/api/v2/summary.json"
	PathStatus          = "/api/v2/status.json"
	PathComponents      = "/api/v2/components.json"
	PathIncidents       = "/api/v2/incidents.json"
	PathUnresolved      = "/api/v2/incidents/unresolved.json"
	PathMaintenances    = "/api/v2/scheduled-maintenances.json"
	PathUpcoming        = "/api/v2/scheduled-maintenances/upcoming.json"
	PathActive          = "/api/v2/scheduled-maintenances/active.json"
	PathAtom            = "/history.atom"
	PathRSS             = "/history.rss"
	ContentTypeJSON     = "application/json; charset=utf-8"
	ContentTypeAtom     = "application/atom+xml; charset=utf-8"
	ContentTypeRSS      = "application/rss+xml; charset=utf-8"
	maxIncidentsListed  = 50
	timestampLayoutJSON = "2006-01-02T15:04:05.000Z07:00"
)

// Doc is one rendered document.
type Doc struct {
	Path        string
	ContentType string
	Body        []byte
}

// Time is a Statuspage timestamp: RFC 3339 with milliseconds, in UTC.
type Time struct{ time.Time }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(timestampLayoutJSON) + `"`), nil
}

func ts(t time.Time) *Time { return &Time{t} }

func tsp(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	return &Time{*t}
}

// Page is the page envelope every response carries.
type Page struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt *Time  `json:"updated_at"`
}

// Status is the page-wide rollup.
type Status struct {
	Indicator   string `json:"indicator"`
	Description string `json:"description"`
}

// Component is a component or a group of them.
type Component struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Status             string   `json:"status"`
	CreatedAt          *Time    `json:"created_at"`
	UpdatedAt          *Time    `json:"updated_at"`
	Position           int      `json:"position"`
	Description        *string  `json:"description"`
	Showcase           bool     `json:"showcase"`
	StartDate          *string  `json:"start_date"`
	GroupID            *string  `json:"group_id"`
	PageID             string   `json:"page_id"`
	Group              bool     `json:"group"`
	OnlyShowIfDegraded bool     `json:"only_show_if_degraded"`
	Components         []string `json:"components,omitempty"` // groups only, as Statuspage does
}

// Incident is an incident with its public updates, newest first.
type Incident struct {
	ID              string      `json:"id"`
	Name            string      `json:"name"`
	Status          string      `json:"status"`
	CreatedAt       *Time       `json:"created_at"`
	UpdatedAt       *Time       `json:"updated_at"`
	MonitoringAt    *Time       `json:"monitoring_at"`
	ResolvedAt      *Time       `json:"resolved_at"`
	Impact          string      `json:"impact"`
	Shortlink       string      `json:"shortlink"`
	StartedAt       *Time       `json:"started_at"`
	PageID          string      `json:"page_id"`
	IncidentUpdates []Update    `json:"incident_updates"`
	Components      []Component `json:"components"`
}

// Maintenance is a scheduled maintenance: an incident plus its window.
type Maintenance struct {
	Incident
	ScheduledFor   *Time `json:"scheduled_for"`
	ScheduledUntil *Time `json:"scheduled_until"`
}

// Update is one incident update.
type Update struct {
	ID                   string              `json:"id"`
	Status               string              `json:"status"`
	Body                 string              `json:"body"`
	IncidentID           string              `json:"incident_id"`
	CreatedAt            *Time               `json:"created_at"`
	UpdatedAt            *Time               `json:"updated_at"`
	DisplayAt            *Time               `json:"display_at"`
	AffectedComponents   []AffectedComponent `json:"affected_components"`
	DeliverNotifications bool                `json:"deliver_notifications"`
	CustomTweet          *string             `json:"custom_tweet"`
	TweetID              *string             `json:"tweet_id"`
}

// AffectedComponent is a component's change within an update.
type AffectedComponent struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

// Summary is summary.json.
type Summary struct {
	Page                  Page          `json:"page"`
	Components            []Component   `json:"components"`
	Incidents             []Incident    `json:"incidents"`
	ScheduledMaintenances []Maintenance `json:"scheduled_maintenances"`
	Status                Status        `json:"status"`
}

// Markdown renders an update body as sanitised HTML, for the feeds.
type Markdown func(string) template.HTML

type renderer struct {
	md    Markdown
	s     *snapshot.Snapshot
	page  Page
	comps map[string]Component
}

// Render produces every v2 document and both feeds for the snapshot; md
// renders update bodies (Markdown) for the feeds' HTML.
func Render(s *snapshot.Snapshot, md Markdown) ([]Doc, error) {
	r := &renderer{md: md, s: s, comps: map[string]Component{}}
	r.page = Page{ID: s.Page.ID, Name: s.Page.Name, URL: s.Page.URL, TimeZone: s.Page.Location.String(), UpdatedAt: ts(s.UpdatedAt)}
	comps := r.components()
	status := Status{Indicator: s.Indicator, Description: s.Description}
	open := r.incidents(s.Open)
	recent := r.incidents(s.Recent)
	maint := r.maintenances(s.Maintenances, nil)

	docs := []struct {
		path string
		v    any
	}{
		{PathSummary, Summary{Page: r.page, Components: comps, Incidents: open, ScheduledMaintenances: r.maintenances(s.Maintenances, activeOrUpcoming), Status: status}},
		{PathStatus, struct {
			Page   Page   `json:"page"`
			Status Status `json:"status"`
		}{r.page, status}},
		{PathComponents, struct {
			Page       Page        `json:"page"`
			Components []Component `json:"components"`
		}{r.page, comps}},
		{PathIncidents, incidentsDoc{r.page, recent}},
		{PathUnresolved, incidentsDoc{r.page, open}},
		{PathMaintenances, maintDoc{r.page, maint}},
		{PathUpcoming, maintDoc{r.page, r.maintenances(s.Maintenances, func(st string) bool { return st == "scheduled" })}},
		{PathActive, maintDoc{r.page, r.maintenances(s.Maintenances, func(st string) bool { return st == "in_progress" || st == "verifying" })}},
	}
	out := make([]Doc, 0, len(docs)+2)
	for _, d := range docs {
		b, err := json.Marshal(d.v)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", d.path, err)
		}
		out = append(out, Doc{Path: d.path, ContentType: ContentTypeJSON, Body: b})
	}
	atom, err := r.atom()
	if err != nil {
		return nil, err
	}
	rss, err := r.rss()
	if err != nil {
		return nil, err
	}
	return append(out, Doc{PathAtom, ContentTypeAtom, atom}, Doc{PathRSS, ContentTypeRSS, rss}), nil
}

type incidentsDoc struct {
	Page      Page       `json:"page"`
	Incidents []Incident `json:"incidents"`
}

type maintDoc struct {
	Page                  Page          `json:"page"`
	ScheduledMaintenances []Maintenance `json:"scheduled_maintenances"`
}

func activeOrUpcoming(st string) bool {
	return st == "scheduled" || st == "in_progress" || st == "verifying"
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *renderer) components() []Component {
	out := []Component{}
	pos := 0
	for _, g := range r.s.Groups {
		pos++
		if g.Single {
			c := r.component(g.Components[0], pos, nil)
			out = append(out, c)
			continue
		}
		gc := Component{ID: g.ID, Name: g.Name, Status: string(g.Status), Position: pos, PageID: r.page.ID, Group: true, Components: []string{}}
		var members []Component
		for i, c := range g.Components {
			m := r.component(c, i+1, &g.ID)
			members = append(members, m)
			gc.Components = append(gc.Components, c.ID)
			if gc.CreatedAt == nil || c.CreatedAt.Before(gc.CreatedAt.Time) {
				gc.CreatedAt = ts(c.CreatedAt)
			}
			if gc.UpdatedAt == nil || c.UpdatedAt.After(gc.UpdatedAt.Time) {
				gc.UpdatedAt = ts(c.UpdatedAt)
			}
		}
		// Statuspage lists a group's members before the group itself.
		out = append(out, members...)
		out = append(out, gc)
	}
	return out
}

func (r *renderer) component(c *snapshot.Component, pos int, group *string) Component {
	start := c.CreatedAt.In(r.s.Page.Location).Format("2006-01-02")
	out := Component{
		ID: c.ID, Name: c.Name, Status: string(c.Status), CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt),
		Position: pos, Description: strp(c.Description), Showcase: true, StartDate: &start, GroupID: group, PageID: r.page.ID,
	}
	r.comps[c.ID] = out
	return out
}

// qualifiedName is "Group - Component", as Statuspage names components in updates.
func (r *renderer) qualifiedName(id string) string {
	for _, c := range r.s.Components {
		if c.ID == id {
			if c.Group != "" {
				return c.Group + " - " + c.Name
			}
			return c.Name
		}
	}
	return id
}

func (r *renderer) incidents(ins []*upstate.Incident) []Incident {
	out := make([]Incident, 0, len(ins))
	for _, in := range ins {
		out = append(out, r.incident(in))
	}
	return out
}

// MaintenanceURL is where a maintenance is shown: its anchor on the page.
func MaintenanceURL(page snapshot.Page, id string) string {
	return page.URL + "/#maintenance-" + url.PathEscape(id)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// IncidentURL is the public page of an incident.
func IncidentURL(page snapshot.Page, id string) string {
	return page.URL + "/incidents/" + url.PathEscape(id)
}

func (r *renderer) incident(in *upstate.Incident) Incident {
	out := Incident{
		ID: in.ID, Name: in.Name, Status: string(in.Status), CreatedAt: ts(in.CreatedAt), UpdatedAt: ts(in.UpdatedAt),
		MonitoringAt: tsp(in.MonitoringAt), ResolvedAt: tsp(in.ResolvedAt), Impact: string(in.Impact),
		Shortlink: IncidentURL(r.s.Page, in.ID), StartedAt: ts(in.StartedAt), PageID: r.page.ID,
		IncidentUpdates: []Update{}, Components: []Component{},
	}
	for i := len(in.Updates) - 1; i >= 0; i-- {
		u := in.Updates[i]
		if !u.Public {
			continue
		}
		// display_at is when it happened, created_at when it was posted
		// (later, for an update told of the past), as Statuspage's are;
		// updated_at moves when a person corrects the words.
		posted := u.At
		if !u.WrittenAt.IsZero() {
			posted = u.WrittenAt
		}
		edited := posted
		if u.EditedAt != nil {
			edited = *u.EditedAt
		}
		// One told long after it happened was sent to no one.
		up := Update{ID: u.ID, Status: string(u.Status), Body: u.Body, IncidentID: in.ID, CreatedAt: ts(posted), UpdatedAt: ts(edited), DisplayAt: ts(u.At),
			DeliverNotifications: u.WrittenAt.IsZero() || u.WrittenAt.Sub(u.At) <= upstate.RecentPast}
		for _, a := range u.Affected {
			up.AffectedComponents = append(up.AffectedComponents, AffectedComponent{Code: a.ComponentID, Name: r.qualifiedName(a.ComponentID), OldStatus: string(a.OldStatus), NewStatus: string(a.NewStatus)})
		}
		out.IncidentUpdates = append(out.IncidentUpdates, up)
	}
	for _, id := range in.Components {
		if c, ok := r.comps[id]; ok {
			out.Components = append(out.Components, c)
		}
	}
	return out
}

func (r *renderer) maintenances(ms []upstate.Maintenance, keep func(string) bool) []Maintenance {
	out := []Maintenance{}
	now := r.s.BuiltAt
	for _, m := range ms {
		st := m.StatusAt(now)
		if keep != nil && !keep(string(st)) {
			continue
		}
		mi := &upstate.Incident{ID: m.ID, Name: m.Name, Status: st, Impact: upstate.ImpactMaintenance,
			CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, StartedAt: m.ScheduledFor, Components: m.Components, Updates: MaintenanceUpdates(m, now)}
		if st == upstate.MaintenanceCompleted {
			// Over when its window ended: as Statuspage does, resolved then.
			end := m.ScheduledUntil
			mi.ResolvedAt = &end
			mi.UpdatedAt = later(m.UpdatedAt, end)
		}
		in := r.incident(mi)
		// Maintenances have no page of their own: they are on the status
		// page, under their own anchor.
		in.Shortlink = MaintenanceURL(r.s.Page, m.ID)
		out = append(out, Maintenance{Incident: in, ScheduledFor: ts(m.ScheduledFor), ScheduledUntil: ts(m.ScheduledUntil)})
	}
	return out
}

// MaintenanceUpdates is a maintenance's timeline as Statuspage shows one:
// scheduled when announced, in progress at its start, completed at its end.
func MaintenanceUpdates(m upstate.Maintenance, now time.Time) []upstate.TimelineEntry {
	body := m.Message
	if strings.TrimSpace(body) == "" {
		body = "Scheduled maintenance: " + m.Name + "."
	}
	ups := []upstate.TimelineEntry{{ID: m.ID + "-s", IncidentID: m.ID, At: m.CreatedAt, Status: upstate.MaintenanceScheduled, Body: body, Public: true}}
	if !now.Before(m.ScheduledFor) {
		ups = append(ups, upstate.TimelineEntry{ID: m.ID + "-p", IncidentID: m.ID, At: m.ScheduledFor, Status: upstate.MaintenanceInProgress, Public: true,
			Body: "Scheduled maintenance is currently in progress. We will provide updates as necessary."})
	}
	if !now.Before(m.ScheduledUntil) {
		ups = append(ups, upstate.TimelineEntry{ID: m.ID + "-c", IncidentID: m.ID, At: m.ScheduledUntil, Status: upstate.MaintenanceCompleted, Public: true,
			Body: "The scheduled maintenance has been completed."})
	}
	return ups
}

// feedContent is the HTML of an incident's updates, newest first, each as
// <p><small>date</small><br><strong>Label</strong> - body</p>, the layout
// Statuspage feed readers scrape.
func (r *renderer) feedContent(in *upstate.Incident) string {
	var b strings.Builder
	loc := r.s.Page.Location
	prev := upstate.IncidentStatus("")
	labels := make([]string, len(in.Updates))
	for i, u := range in.Updates {
		labels[i] = u.Status.Label()
		if u.Status == prev {
			labels[i] = "Update"
		}
		prev = u.Status
	}
	for i := len(in.Updates) - 1; i >= 0; i-- {
		u := in.Updates[i]
		if !u.Public {
			continue
		}
		t := u.At.In(loc)
		fmt.Fprintf(&b, "<p><small>%s <var data-var='date'>%d</var>, <var data-var='time'>%s</var> %s</small><br><strong>%s</strong> - %s</p>",
			t.Format("Jan"), t.Day(), t.Format("15:04"), t.Format("MST"), labels[i], r.inline(u))
	}
	return b.String()
}

// inline renders a body for a feed entry's <p>: the Markdown's HTML
// without its own outer paragraph, which would nest.
func (r *renderer) inline(u upstate.TimelineEntry) string {
	h := strings.TrimSpace(string(markdown.KeptOr(u.BodyHTML, r.md, u.Body)))
	if strings.HasPrefix(h, "<p>") && strings.HasSuffix(h, "</p>") && strings.Count(h, "<p>") == 1 {
		h = h[3 : len(h)-4]
	}
	return h
}

func (r *renderer) host() string {
	u, err := url.Parse(r.s.Page.URL)
	if err != nil || u.Host == "" {
		return "localhost"
	}
	return u.Hostname()
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
	Href string `xml:"href,attr"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Link      atomLink    `xml:"link"`
	Title     string      `xml:"title"`
	Content   atomContent `xml:"content"`
}

type atomFeed struct {
	XMLName xml.Name   `xml:"feed"`
	Lang    string     `xml:"xml:lang,attr"`
	NS      string     `xml:"xmlns,attr"`
	ID      string     `xml:"id"`
	Links   []atomLink `xml:"link"`
	Title   string     `xml:"title"`
	Updated string     `xml:"updated"`
	Author  struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

func (r *renderer) atom() ([]byte, error) {
	f := atomFeed{Lang: "en-US", NS: "http://www.w3.org/2005/Atom",
		ID:      fmt.Sprintf("tag:%s,2005:/history", r.host()),
		Title:   r.s.Page.Name + " - Incident History",
		Updated: r.s.UpdatedAt.UTC().Format(time.RFC3339),
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: r.s.Page.URL},
			{Rel: "self", Type: "application/atom+xml", Href: r.s.Page.URL + PathAtom}},
	}
	f.Author.Name = r.s.Page.Name
	for _, in := range r.s.Recent {
		f.Entries = append(f.Entries, atomEntry{
			ID:        fmt.Sprintf("tag:%s,2005:Incident/%s", r.host(), in.ID),
			Published: in.CreatedAt.UTC().Format(time.RFC3339),
			Updated:   in.UpdatedAt.UTC().Format(time.RFC3339),
			Link:      atomLink{Rel: "alternate", Type: "text/html", Href: IncidentURL(r.s.Page, in.ID)},
			Title:     in.Name,
			Content:   atomContent{Type: "html", Body: r.feedContent(in)},
		})
	}
	return marshalXML(f)
}

type rssItem struct {
	Title       string `xml:"title"`
	Description string `xml:"description"`
	PubDate     string `xml:"pubDate"`
	Link        string `xml:"link"`
	GUID        string `xml:"guid"`
}

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title       string    `xml:"title"`
		Link        string    `xml:"link"`
		Description string    `xml:"description"`
		PubDate     string    `xml:"pubDate"`
		Items       []rssItem `xml:"item"`
	} `xml:"channel"`
}

func (r *renderer) rss() ([]byte, error) {
	var d rssDoc
	d.Version = "2.0"
	d.Channel.Title = r.s.Page.Name + " - Incident History"
	d.Channel.Link = r.s.Page.URL
	d.Channel.Description = "Statuspage"
	d.Channel.PubDate = r.s.UpdatedAt.UTC().Format(time.RFC1123Z)
	for _, in := range r.s.Recent {
		d.Channel.Items = append(d.Channel.Items, rssItem{
			Title: in.Name, Description: r.feedContent(in), PubDate: in.CreatedAt.UTC().Format(time.RFC1123Z),
			Link: IncidentURL(r.s.Page, in.ID), GUID: IncidentURL(r.s.Page, in.ID) + "#" + in.UpdatedAt.UTC().Format("20060102T150405Z"),
		})
	}
	return marshalXML(d)
}

func marshalXML(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("render feed: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
