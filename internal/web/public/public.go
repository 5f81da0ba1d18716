// Package public renders the public status page: server-rendered HTML that
// needs no JavaScript, reads well on a phone, and shows every time in the
// page's zone with the zone named.
package public

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/snapshot"
	"github.com/upstatehq/upstate/internal/web/statusapi"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var Static embed.FS

// Doc is one rendered page.
type Doc = statusapi.Doc

// ContentTypeHTML is the content type of rendered pages.
const ContentTypeHTML = "text/html; charset=utf-8"

// Renderer renders pages from snapshots. Templates are parsed once, in
// New, so a broken template fails start-up, not the first request.
type Renderer struct {
	index     *template.Template
	incident  *template.Template
	component *template.Template
	icons     icons
}

// New parses the templates; md renders update bodies.
func New(md func(string) template.HTML) (*Renderer, error) {
	funcs := template.FuncMap{
		"label":       func(s upstate.Status) string { return s.Label() },
		"statusLabel": func(s upstate.IncidentStatus) string { return s.Label() },
		"lower":       strings.ToLower,
		"pct":         pct,
		"sparkline":   sparkline,
		"bars":        bars,
		"nl2br":       nl2br,
		"md":          md,
		"entryHTML":   markdown.EntryHTML(md),
		"impactClass": func(i upstate.Impact) string { return "impact-" + string(i) },
		"rev":         rev,
		"deref":       func(t *time.Time) time.Time { return *t },
		"lastPublic":  lastPublic,
		"compName":    func(s *snapshot.Snapshot, id string) string { return compName(s, id) },
		"regionMark":  regionMark,
		"regionWord":  regionWord,
		"duration": func(in *upstate.Incident, now time.Time) string {
			return upstate.FormatDuration(in.Duration(now), upstate.DurationShort)
		},
	}
	parse := func(name string) (*template.Template, error) {
		return template.New("layout.html").Funcs(funcs).ParseFS(templates, "templates/layout.html", "templates/"+name)
	}
	idx, err := parse("index.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	inc, err := parse("incident.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	comp, err := parse("component.html")
	if err != nil {
		return nil, fmt.Errorf("parse page templates: %w", err)
	}
	ic, err := drawIcons()
	if err != nil {
		return nil, fmt.Errorf("draw the page's icons: %w", err)
	}
	return &Renderer{index: idx, incident: inc, component: comp, icons: ic}, nil
}

type view struct {
	S        *snapshot.Snapshot
	Title    string
	Zone     string
	ZoneName string
	Incident *upstate.Incident
	// Component and Days are a component's page: its days, newest first.
	Component *snapshot.Component
	Days      []dayRow
	History   []dayIncidents
	// Maintenances are the windows in progress or to come.
	Maintenances []maintenanceView
	Fmt          func(time.Time) string
	Short        func(time.Time) string
	// From and To are the ends of an entry that tells of a span, as Fmt
	// says them (Short when short): "Aug 17, 2026 10:40" to "11:03 PDT",
	// the end's date only when it is another day's.
	From, To func(short bool, at time.Time, until *time.Time) string
}

// spanEnds are the words of a span's two ends in loc: the date once and
// the zone once when both are on one day ("Aug 17 10:40" to "11:03
// PDT"), else each whole.
func spanEnds(loc *time.Location, short bool, at time.Time, until *time.Time) (string, string) {
	layout := "Jan 2, 2006 15:04"
	if short {
		layout = "Jan 2 15:04"
	}
	a := at.In(loc)
	if until == nil {
		return a.Format(layout + " MST"), ""
	}
	u := until.In(loc)
	if a.Year() == u.Year() && a.YearDay() == u.YearDay() {
		return a.Format(layout), u.Format("15:04 MST")
	}
	return a.Format(layout + " MST"), u.Format(layout + " MST")
}

type maintenanceView struct {
	upstate.Maintenance
	Status upstate.IncidentStatus
}

type dayIncidents struct {
	Date      string
	Incidents []*upstate.Incident
}

// newView is what every page of s shows.
func newView(s *snapshot.Snapshot) view {
	loc := s.Page.Location
	return view{
		S:        s,
		Title:    s.Page.Name,
		Zone:     s.BuiltAt.In(loc).Format("MST"),
		ZoneName: loc.String(),
		Fmt:      func(t time.Time) string { return t.In(loc).Format("Jan 2, 2006 15:04 MST") },
		Short:    func(t time.Time) string { return t.In(loc).Format("Jan 2 15:04 MST") },
		From: func(short bool, at time.Time, until *time.Time) string {
			from, _ := spanEnds(loc, short, at, until)
			return from
		},
		To: func(short bool, at time.Time, until *time.Time) string {
			_, to := spanEnds(loc, short, at, until)
			return to
		},
	}
}

// Render produces the index page and one page per recent incident. A
// component's page (RenderComponent) is rendered when asked for.
func (r *Renderer) Render(s *snapshot.Snapshot) ([]Doc, error) {
	loc := s.Page.Location
	v := newView(s)
	for _, m := range s.Maintenances {
		if st := m.StatusAt(s.BuiltAt); st != upstate.MaintenanceCompleted {
			v.Maintenances = append(v.Maintenances, maintenanceView{Maintenance: m, Status: st})
		}
	}
	for _, in := range s.Recent {
		if in.Open() {
			continue
		}
		d := in.CreatedAt.In(loc).Format("Monday, January 2, 2006")
		if n := len(v.History); n > 0 && v.History[n-1].Date == d {
			v.History[n-1].Incidents = append(v.History[n-1].Incidents, in)
		} else {
			v.History = append(v.History, dayIncidents{Date: d, Incidents: []*upstate.Incident{in}})
		}
	}
	docs := r.brandDocs(s)
	var b bytes.Buffer
	if err := r.index.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("render status page: %w", err)
	}
	docs = append(docs, Doc{Path: "/", ContentType: ContentTypeHTML, Body: bytes.Clone(b.Bytes())})
	for _, in := range s.Recent {
		b.Reset()
		iv := v
		iv.Incident = in
		iv.Title = in.Name + " · " + s.Page.Name
		if err := r.incident.Execute(&b, iv); err != nil {
			return nil, fmt.Errorf("render incident %s: %w", in.ID, err)
		}
		docs = append(docs, Doc{Path: "/incidents/" + in.ID, ContentType: ContentTypeHTML, Body: bytes.Clone(b.Bytes())})
	}
	return docs, nil
}

// dayRow is a day of a component's page, in words.
type dayRow struct {
	Date      string // "Mon Jan 2, 2006"
	Class     string // dayClass
	Uptime    string // "99.95%", "no data"
	Worst     string // "" for operational
	Downtime  string // "" for none
	Incidents []string
}

// RenderComponent produces c's page: its status and every day the bars
// draw, newest first, as a table. The bars tell a day only in a tooltip,
// which a finger or a keyboard cannot open; each links here.
func (r *Renderer) RenderComponent(s *snapshot.Snapshot, c *snapshot.Component) (Doc, error) {
	v := newView(s)
	v.Title = c.Name + " · " + s.Page.Name
	v.Component = c
	v.Days = make([]dayRow, 0, len(c.Days))
	for i := len(c.Days) - 1; i >= 0; i-- {
		d := c.Days[i]
		row := dayRow{Date: d.Date.Format("Mon Jan 2, 2006"), Class: dayClass(d), Uptime: pct(d.Uptime), Incidents: d.Incidents}
		if d.NoData {
			row.Uptime = "no data"
		} else {
			if d.Worst != upstate.Operational {
				row.Worst = d.Worst.Label()
			}
			if d.Outage > 0 {
				row.Downtime = upstate.FormatDuration(d.Outage, upstate.DurationShort)
			}
		}
		v.Days = append(v.Days, row)
	}
	var b bytes.Buffer
	if err := r.component.Execute(&b, v); err != nil {
		return Doc{}, fmt.Errorf("render component %s: %w", c.ID, err)
	}
	return Doc{Path: "/components/" + c.ID, ContentType: ContentTypeHTML, Body: b.Bytes()}, nil
}

func compName(s *snapshot.Snapshot, id string) string {
	for _, c := range s.Components {
		if c.ID == id {
			return c.Name
		}
	}
	return id
}

func pct(f float64) string {
	if f < 0 {
		return "no data"
	}
	p := f * 100
	if p >= 99.995 && p < 100 {
		return "99.99%"
	}
	return fmt.Sprintf("%.2f%%", math.Floor(p*100)/100)
}

// bars draws a component's daily uptime as one small SVG: the bulk of a
// page of many components, so it is drawn in one go and kept short. A day
// is one unit wide. A run of days with data is one rect under all of
// them, filled with a pattern of one green bar a day (#po, drawn once in
// the page), its title telling of the clean days (up all day, no
// incident) once; each day that was not clean is a bar of its own on
// top (a <use> of the bar of its colour, also drawn once), its title saying the day's uptime, worst status, downtime and
// incidents. A run of days without data is one rect of grey bars (#pn).
// Every day's detail is in a title, and titles are what screen readers
// read for each rect and use; a title needs a mouse to be seen, so the
// page links the bars to the component's page (RenderComponent), where
// each day is a row of words.
func bars(name string, uptime float64, days []snapshot.Day) template.HTML {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(`<svg viewBox="0 0 `)
	b.WriteString(strconv.Itoa(len(days)))
	b.WriteString(` 1" preserveAspectRatio="none" role="group" aria-label="`)
	b.WriteString(template.HTMLEscapeString(fmt.Sprintf("%s: %s uptime over %d days", name, pct(uptime), len(days))))
	b.WriteString(`">`)
	rect := func(x int, width, attr, title string) {
		b.WriteString(`<rect x="`)
		b.WriteString(strconv.Itoa(x))
		b.WriteString(`" width="`)
		b.WriteString(width)
		b.WriteString(`" height="1" `)
		b.WriteString(attr)
		b.WriteString(`><title>`)
		b.WriteString(template.HTMLEscapeString(title))
		b.WriteString(`</title></rect>`)
	}
	for i := 0; i < len(days); {
		j := i + 1
		for j < len(days) && days[j].NoData == days[i].NoData {
			j++
		}
		run := days[i:j]
		dates := spanDates(run[0].Date, run[len(run)-1].Date)
		if run[0].NoData {
			rect(i, strconv.Itoa(len(run)), `fill="url(#pn)"`, dates+": no data")
			i = j
			continue
		}
		clean := 0
		for _, d := range run {
			if d.Clean() {
				clean++
			}
		}
		switch {
		case clean == len(run) && len(run) > 1:
			rect(i, strconv.Itoa(len(run)), `fill="url(#po)"`, dates+": 100.00% uptime each day")
		case clean == len(run):
			rect(i, "1", `fill="url(#po)"`, dates+": 100.00% uptime")
		case clean > 0:
			rect(i, strconv.Itoa(len(run)), `fill="url(#po)"`, "Other days of "+dates+": 100.00% uptime")
		}
		for k, d := range run {
			if !d.Clean() {
				// A bar of the day's colour drawn once in the page (.defs).
				b.WriteString(`<use href="#b`)
				b.WriteString(dayClass(d))
				b.WriteString(`" x="`)
				b.WriteString(strconv.Itoa(i + k))
				b.WriteString(`"><title>`)
				b.WriteString(template.HTMLEscapeString(dayTitle(d)))
				b.WriteString(`</title></use>`)
			}
		}
		i = j
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and fixed words; names and titles are escaped
}

// spanDates names a run of days: one day as its bar does ("Mon Jan 2,
// 2006"), a run by its first and last ("Jan 2 – Mar 4, 2006").
func spanDates(from, to time.Time) string {
	switch {
	case from.Equal(to):
		return from.Format("Mon Jan 2, 2006")
	case from.Year() == to.Year():
		return from.Format("Jan 2") + " – " + to.Format("Jan 2, 2006")
	default:
		return from.Format("Jan 2, 2006") + " – " + to.Format("Jan 2, 2006")
	}
}

// dayClass is a day's colour, as a class style.css defines under .bars.
func dayClass(d snapshot.Day) string {
	switch {
	case d.NoData:
		return "n"
	case d.Worst == upstate.DegradedPerformance:
		return "d"
	case d.Worst == upstate.PartialOutage:
		return "p"
	case d.Worst == upstate.MajorOutage:
		return "m"
	case d.Worst == upstate.UnderMaintenance:
		return "u"
	}
	return "o"
}

func dayTitle(d snapshot.Day) string {
	date := d.Date.Format("Mon Jan 2, 2006")
	if d.NoData {
		return date + ": no data"
	}
	s := fmt.Sprintf("%s: %s uptime", date, pct(d.Uptime))
	if d.Worst != upstate.Operational {
		s += ", worst: " + strings.ToLower(d.Worst.Label())
	}
	if d.Outage > 0 {
		s += fmt.Sprintf(", %s of downtime", upstate.FormatDuration(d.Outage, upstate.DurationShort))
	}
	return s + dayNames(d.Incidents)
}

// barNames is how many of a day's incidents its tooltip names.
const barNames = 3

// dayNames names a day's incidents for its tooltip: the first few, and
// how many more.
func dayNames(names []string) string {
	switch n := len(names); {
	case n == 0:
		return ""
	case n <= barNames:
		return ". " + incidentsWord(n) + ": " + strings.Join(names, "; ")
	default:
		return fmt.Sprintf(". %s: %s; and %d more", incidentsWord(n), strings.Join(names[:barNames], "; "), n-barNames)
	}
}

func incidentsWord(n int) string {
	if n == 1 {
		return "Incident"
	}
	return "Incidents"
}

func nl2br(s string) template.HTML {
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = template.HTMLEscapeString(p)
	}
	return template.HTML(strings.Join(parts, "<br>")) //nolint:gosec // every part is escaped
}

// sparkline draws hourly mean latency over the 24 hours from start as an
// inline SVG: each run
// of hours with data a line, a lone hour a dot, so a check only a few
// hours old, or with gaps, still reads true. Only numbers go into the
// markup.
func sparkline(pts []snapshot.Latency, start time.Time) template.HTML {
	if len(pts) == 0 {
		return ""
	}
	const w, h, pad = 120.0, 28.0, 2.0
	var top time.Duration
	for _, p := range pts {
		top = max(top, p.Mean)
	}
	if top == 0 {
		top = 1
	}
	hour := func(p snapshot.Latency) int { return int(p.Start.Sub(start) / time.Hour) }
	at := func(p snapshot.Latency) (float64, float64) {
		// A tenth of headroom keeps the highest hour off the edge.
		return pad + float64(hour(p))/23*(w-2*pad), h - pad - float64(p.Mean)/(float64(top)*1.1)*(h-2*pad)
	}
	var b strings.Builder
	for i := 0; i < len(pts); {
		j := i + 1
		for j < len(pts) && hour(pts[j]) == hour(pts[j-1])+1 {
			j++
		}
		if j-i == 1 {
			x, y := at(pts[i])
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="1.8"/>`, x, y)
		} else {
			b.WriteString(`<polyline points="`)
			for k := i; k < j; k++ {
				x, y := at(pts[k])
				if k > i {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%.1f,%.1f", x, y)
			}
			b.WriteString(`"/>`)
		}
		i = j
	}
	lastMean := pts[len(pts)-1].Mean
	title := fmt.Sprintf("Mean response time per hour, last 24 hours (%d with data); latest %s, highest %s", len(pts), upstate.FormatLatency(lastMean), upstate.FormatLatency(top))
	svg := fmt.Sprintf(`<svg class="spark" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img"><title>%s</title>%s</svg><span class="spark-val">%s</span>`,
		w, h, w, h, template.HTMLEscapeString(title), b.String(), upstate.FormatLatency(lastMean))
	return template.HTML(svg) //nolint:gosec // numbers and escaped text only
}

// rev returns the updates newest first.
func rev(us []upstate.TimelineEntry) []upstate.TimelineEntry {
	out := make([]upstate.TimelineEntry, len(us))
	for i, u := range us {
		out[len(us)-1-i] = u
	}
	return out
}

func lastPublic(in *upstate.Incident) *upstate.TimelineEntry {
	for i := len(in.Updates) - 1; i >= 0; i-- {
		if in.Updates[i].Public {
			return &in.Updates[i]
		}
	}
	return nil
}

// regionMark is a region's latest result as a mark; regionWord says it
// in words, for screen readers and the tooltip (never colour alone).
func regionMark(o upstate.Outcome) string {
	switch o {
	case upstate.OutcomeOK:
		return "✓"
	case upstate.OutcomeSlow:
		return "◐"
	case "":
		return ""
	default:
		return "✗"
	}
}

func regionWord(o upstate.Outcome) string {
	switch o {
	case upstate.OutcomeOK:
		return "up"
	case upstate.OutcomeSlow:
		return "slow"
	case "":
		return "no recent report"
	default:
		return "failing"
	}
}
