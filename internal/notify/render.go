package notify

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/upstatehq/upstate"
)

// Page is the status page messages link to.
type Page struct {
	Name string
	URL  string // without a trailing slash; may be empty
}

// Text is a message in words, the same for every channel; channels lay
// it out in their own formats.
type Text struct {
	Title      string // "Elevated API error rates"
	Headline   string // "[Major] Elevated API error rates — Identified"
	Status     string // "Identified"
	Impact     string // "Major"
	Body       string // the newest entry, Markdown
	Components string // "API, Web app"
	URL        string // the incident on the status page, if the page has a URL
	Mark       string // an emoji for the severity at a glance
	Color      int    // an RGB colour for the severity, for embeds
	AckURL     string // for pages: the signed link that acknowledges
	Event      upstate.Event
	Page       Page
}

// Templates override a channel's title and body; nil fields keep the
// defaults. They are Go text/templates over Text.
type Templates struct {
	Title *template.Template
	Body  *template.Template
}

// ParseTemplates compiles overrides (empty strings keep the defaults) and
// tries them on a sample message, so a template that names something a
// message does not have fails when the channels are compiled (serve,
// validate, reload), not at the first incident.
func ParseTemplates(title, body string) (Templates, error) {
	var t Templates
	var err error
	if title != "" {
		if t.Title, err = template.New("title").Option("missingkey=error").Parse(title); err != nil {
			return t, fmt.Errorf("title template: %w", err)
		}
	}
	if body != "" {
		if t.Body, err = template.New("body").Option("missingkey=error").Parse(body); err != nil {
			return t, fmt.Errorf("body template: %w", err)
		}
	}
	if t.Title != nil || t.Body != nil {
		if _, err := Render(Sample("Upstate", "api", "API", time.Unix(0, 0)), Page{Name: "Upstate", URL: "https://status.example.com"}, t, false); err != nil {
			return t, err
		}
	}
	return t, nil
}

// Render says the event in words, with the templates applied. publicOnly
// picks the newest public entry for the body (for audiences outside the
// team); otherwise the newest entry.
func Render(ev upstate.Event, page Page, t Templates, publicOnly bool) (Text, error) {
	in := ev.Incident
	if m := ev.Maintenance; m != nil {
		// A maintenance reads like an incident with its own statuses.
		in = upstate.Incident{Name: m.Name, Components: m.Components, Status: m.StatusAt(ev.At)}
	}
	x := Text{Title: in.Name, Status: in.Status.Label(), Impact: in.Impact.Label(), Event: ev, Page: page}
	if ev.Maintenance != nil {
		x.Impact = "Maintenance"
		x.Status = map[upstate.EventType]string{upstate.EventMaintenanceScheduled: "Scheduled", upstate.EventMaintenanceStarted: "In progress",
			upstate.EventMaintenanceCompleted: "Completed", upstate.EventMaintenanceCancelled: "Cancelled"}[ev.Type]
	}
	if w := ev.Warning; w != nil {
		// A warning reads like an incident of its own kind, for the team.
		in = upstate.Incident{Name: w.What, Components: w.Components}
		x = Text{Title: w.What, Status: "Raised", Impact: "Warning", Event: ev, Page: page}
		if ev.Type == upstate.EventWarningCleared {
			x.Status = "Cleared"
		}
	}
	if ev.Type == upstate.EventIncidentAcknowledged {
		x.Status = "Acknowledged by " + in.AcknowledgedBy
	}
	var names []string
	for _, c := range in.Components {
		if n := ev.Names[c]; n != "" {
			names = append(names, n)
		} else {
			names = append(names, c)
		}
	}
	x.Components = strings.Join(names, ", ")
	if e, ok := ev.Latest(publicOnly); ok {
		x.Body = e.Body
		if !e.Public && ev.Warning == nil { // a warning is only ever the team's
			x.Body = "(internal) " + x.Body
		}
	}
	if page.URL != "" && in.ID != "" && ev.Type != upstate.EventTest && ev.Type != upstate.EventSubscriptionConfirm {
		x.URL = page.URL + "/incidents/" + in.ID
	}
	if page.URL != "" && ev.Maintenance != nil {
		x.URL = page.URL + "/"
	}
	if page.URL != "" && ev.Warning != nil {
		x.URL = page.URL + "/admin/#warnings"
	}
	x.Mark, x.Color = mark(in.Impact, ev.Type)
	x.Headline = fmt.Sprintf("[%s] %s — %s", x.Impact, x.Title, x.Status)
	switch ev.Type {
	case upstate.EventTest:
		x.Headline = "[Test] " + x.Title
	case upstate.EventSubscriptionConfirm:
		x.Headline, x.Status, x.Impact, x.Components, x.Mark = x.Title, "", "", "", "✉️"
	}
	if pg := ev.Page; pg != nil {
		x.Headline = "[Page] " + x.Headline
		x.AckURL = pg.AckURL
		note := fmt.Sprintf("You are on call for this incident (escalation level %d).", pg.Level)
		if pg.Run > 1 {
			note = fmt.Sprintf("Nobody has acknowledged this incident yet: paging again (level %d, round %d).", pg.Level, pg.Run)
		}
		if pg.AckURL != "" {
			note += " Acknowledge: " + pg.AckURL
		}
		x.Body = strings.TrimSpace(x.Body + "\n\n" + note)
	}
	var b bytes.Buffer
	if t.Title != nil {
		if err := t.Title.Execute(&b, x); err != nil {
			return x, fmt.Errorf("title template: %w", err)
		}
		x.Title, x.Headline = strings.TrimSpace(b.String()), strings.TrimSpace(b.String())
		b.Reset()
	}
	if t.Body != nil {
		if err := t.Body.Execute(&b, x); err != nil {
			return x, fmt.Errorf("body template: %w", err)
		}
		x.Body = strings.TrimSpace(b.String())
	}
	return x, nil
}

// mark is the severity as an emoji and a colour.
func mark(i upstate.Impact, t upstate.EventType) (string, int) {
	switch {
	case strings.HasPrefix(string(t), "maintenance."):
		return "🛠️", 0x3d7dd8
	case t == upstate.EventWarningRaised:
		return "⚠️", 0xe8b339
	case t == upstate.EventWarningCleared:
		return "✅", 0x2e9e5b
	case t == upstate.EventIncidentResolved:
		return "✅", 0x2e9e5b
	case t == upstate.EventTest:
		return "🔔", 0x2463b4
	case i == upstate.ImpactCritical:
		return "🔴", 0xd93b3b
	case i == upstate.ImpactMajor:
		return "🟠", 0xec7a2c
	case i == upstate.ImpactMinor:
		return "🟡", 0xe8b339
	}
	return "🔵", 0x2463b4
}

// Sample is the event `upstate notify test` and the admin UI's test
// button send: an obvious test, on the page's first component.
func Sample(pageName string, component, componentName string, at time.Time) upstate.Event {
	in := upstate.Incident{ID: "test", Name: "Test notification from " + pageName, Status: upstate.Investigating, Impact: upstate.ImpactMinor,
		CreatedAt: at, UpdatedAt: at, StartedAt: at, DetectedAt: at}
	names := map[string]string{}
	if component != "" {
		in.Components = []string{component}
		names[component] = componentName
	}
	return upstate.Event{ID: "test." + fmt.Sprint(at.UnixNano()), Type: upstate.EventTest, At: at, Incident: in, Names: names,
		Entries: []upstate.TimelineEntry{{ID: "test", IncidentID: "test", At: at, Status: upstate.Investigating, Public: true, Actor: upstate.ActorUpstate,
			Body: "This is a test of this channel. If you can read it, notifications from " + pageName + " reach you."}}}
}
