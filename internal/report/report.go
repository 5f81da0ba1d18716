// Package report builds the outage report for a period as the letter a
// company publishes: a summary (incidents, downtime counted once for the
// service and per component, uptime, the mean times to detect, acknowledge
// and resolve), every day with an incident newest first (third parties'
// incidents too, in the provider's words and ours), each incident's entries
// as "8:42 am — what happened" with its impact in words, its root cause and
// fix once, and recurring incidents of one kind grouped with the fix they
// share. Times are shown in one zone, with a second in parentheses for a
// team on the other side of the world. It is pure: data in, a Report out;
// rendering is in render.go.
package report

import (
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Input is everything a report is made from.
type Input struct {
	Title      string
	PageName   string
	From, To   time.Time // [From, To)
	Loc        *time.Location
	Also       *time.Location // optional second zone
	Components []upstate.Component
	// Incidents are those overlapping the period, with their timelines.
	Incidents []*upstate.Incident
	// Changes are component status changes in the period, preceded by
	// each component's last change before it.
	Changes []upstate.StatusChange
	// Postmortems by incident id, where written.
	Postmortems map[string]upstate.PostmortemDoc
	Generated   time.Time
	// Intro and Closing are the company's own words before and after the
	// record (Markdown).
	Intro, Closing string
}

// Report is the outage report.
type Report struct {
	Title      string              `json:"title"`
	Page       string              `json:"page"`
	Period     string              `json:"period"`
	From       time.Time           `json:"from"`
	To         time.Time           `json:"to"`
	TimeZone   string              `json:"time_zone"`
	AlsoZone   string              `json:"also_time_zone,omitempty"`
	Generated  time.Time           `json:"generated_at"`
	Intro      string              `json:"intro,omitempty"`
	Closing    string              `json:"closing,omitempty"`
	Summary    Summary             `json:"summary"`
	Days       []Day               `json:"days"`
	Upstream   []UpstreamGroup     `json:"upstream"`
	Recurring  []Recurring         `json:"recurring"`
	Components []ComponentDowntime `json:"components"`
}

// Summary is the period at a glance.
type Summary struct {
	Incidents     int `json:"incidents"`
	UpstreamCount int `json:"upstream_incidents"`
	// Downtime is the time any component was in partial or major outage,
	// overlaps counted once: the service's, not the sum of its parts.
	Downtime      string  `json:"user_facing_downtime"`
	DowntimeSecs  float64 `json:"user_facing_downtime_seconds"`
	MeanDetect    string  `json:"mean_time_to_detect"`
	MeanResolve   string  `json:"mean_time_to_resolve"`
	MeanAck       string  `json:"mean_time_to_acknowledge"`
	WorstUptime   string  `json:"lowest_uptime"`
	WorstUptimeOf string  `json:"lowest_uptime_component"`
}

// ComponentDowntime is one component's period.
type ComponentDowntime struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Downtime     string  `json:"downtime"`
	DowntimeSecs float64 `json:"downtime_seconds"`
	Uptime       string  `json:"uptime"`
	UptimeRatio  float64 `json:"uptime_ratio"`
}

// Day is the incidents that began on one day, in the order they began.
type Day struct {
	Date      string     `json:"date"`
	Incidents []Incident `json:"incidents"`
}

// Incident is one incident as the report tells it.
type Incident struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Impact string `json:"impact"`
	// Severity is the worst status it gave a component (major_outage,
	// partial_outage, degraded_performance; empty when it gave none), and
	// ImpactWords says it with the scope: "Partial outage affecting about
	// 25% of requests".
	Severity    string   `json:"severity,omitempty"`
	ImpactWords string   `json:"impact_words"`
	Status      string   `json:"status"`
	Components  []string `json:"components"`
	// Start and End are times within the day (a date only when End is on
	// another); StartedAt and EndedAt the instants.
	Start     string     `json:"start"`
	End       string     `json:"end"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Duration  string     `json:"duration"`
	Detect    string     `json:"time_to_detect"`
	Ack       string     `json:"time_to_acknowledge"`
	Resolve   string     `json:"time_to_resolve"`
	Automatic bool       `json:"automatic"`
	Reach     string     `json:"reach,omitempty"`
	// Failing is the share of requests failing, or a range's lower end
	// when FailingMax is set (its upper end).
	Failing    *float64 `json:"failing_percent,omitempty"`
	FailingMax *float64 `json:"failing_percent_max,omitempty"`
	// Upstream is the third party whose incident this was.
	Upstream *Link `json:"upstream,omitempty"`
	// Recurring names the group of incidents of one kind this is one of;
	// the group tells the root cause and fix they share.
	Recurring string `json:"recurring,omitempty"`
	// Hidden is why people hid the incident from the public side (opened
	// by mistake); the report keeps it, counted, and says so.
	Hidden       string               `json:"hidden_reason,omitempty"`
	Entries      []Entry              `json:"entries"`
	RootCause    string               `json:"root_cause,omitempty"`
	Contributing string               `json:"contributing_factors,omitempty"`
	Fix          string               `json:"fix_and_prevention,omitempty"`
	Actions      []upstate.ActionItem `json:"action_items,omitempty"`
	// Draft is set when the postmortem is not published yet.
	Draft bool `json:"postmortem_draft,omitempty"`
	// RootCauseHTML, ContributingHTML and FixHTML are the three parts as
	// the store kept them rendered (see Entry.HTML).
	RootCauseHTML, ContributingHTML, FixHTML template.HTML `json:"-"`
}

// Link is a third party's incident: who, their name for it, their page.
type Link struct {
	Provider string `json:"provider"`
	Title    string `json:"title,omitempty"`
	URL      string `json:"url,omitempty"`
}

// Entry is a "time — what happened" line. Status is set only where it
// changed. Until is the end of an entry that tells of a span, whose Time
// reads "10:40 am to 11:03 am".
type Entry struct {
	Time   string     `json:"time"`
	At     time.Time  `json:"at"`
	Until  *time.Time `json:"until,omitempty"`
	Status string     `json:"status,omitempty"`
	Body   string     `json:"body"`
	// HTML is Body as the store kept it rendered, when it kept it with
	// the renderer this binary runs (TimelineEntry.BodyHTML) and Body is
	// the words it rendered; empty when the html format renders Body
	// itself.
	HTML template.HTML `json:"-"`
}

// kept is the HTML a store kept for src, for a report that tells
// trimmed: the same only when trimming took nothing away (leading spaces
// can make a code block, and an unclosed fence keeps trailing lines).
func kept(src, trimmed, html string) template.HTML {
	if src != trimmed {
		return ""
	}
	return template.HTML(html) //nolint:gosec // the store's rendering by the markdown package: sanitised
}

// UpstreamGroup is the incidents one third party caused, summarised with
// a link to its own status page.
type UpstreamGroup struct {
	Provider    string       `json:"provider"`
	URL         string       `json:"url"`
	Count       int          `json:"count"`
	Total       string       `json:"total_duration"`
	Occurrences []Occurrence `json:"occurrences"`
}

// Recurring is incidents of one kind that happened more than once, newest
// first, with the root cause and fix their postmortems share.
type Recurring struct {
	Name        string       `json:"name"`
	Count       int          `json:"count"`
	Total       string       `json:"total_duration"`
	Occurrences []Occurrence `json:"occurrences"`
	RootCause   string       `json:"root_cause,omitempty"`
	Fix         string       `json:"fix_and_prevention,omitempty"`
}

// Occurrence is one of a recurring kind.
type Occurrence struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Title    string `json:"provider_title,omitempty"` // upstream: the provider's name for it
	URL      string `json:"url,omitempty"`            // upstream: the provider's page for it
	Reach    string `json:"reach,omitempty"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Duration string `json:"duration"`
}

// Validate checks the period.
func (in Input) Validate() error {
	var probs []string
	if in.From.IsZero() || in.To.IsZero() {
		probs = append(probs, "from and to are required")
	} else if !in.To.After(in.From) {
		probs = append(probs, "from must be before to")
	}
	if in.Loc == nil {
		probs = append(probs, "a time zone is required")
	}
	if len(probs) > 0 {
		return upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	return nil
}

// Build makes the report.
func Build(in Input) (*Report, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	f := formatter{loc: in.Loc, also: in.Also}
	r := &Report{Title: in.Title, Page: in.PageName, From: in.From.UTC(), To: in.To.UTC(), TimeZone: in.Loc.String(), Generated: in.Generated.UTC(),
		Intro: strings.TrimSpace(in.Intro), Closing: strings.TrimSpace(in.Closing), Days: []Day{}, Upstream: []UpstreamGroup{}, Recurring: []Recurring{}}
	if in.Also != nil {
		r.AlsoZone = in.Also.String()
	}
	lastDay := in.To.Add(-time.Nanosecond)
	r.Period = fmt.Sprintf("%s – %s (%s)", in.From.In(in.Loc).Format("January 2, 2006"), lastDay.In(in.Loc).Format("January 2, 2006"), in.Loc.String())
	if r.Title == "" {
		r.Title = fmt.Sprintf("%s outage report, %s", in.PageName, months(in.From.In(in.Loc), lastDay.In(in.Loc)))
	}
	names := map[string]string{}
	for _, c := range in.Components {
		names[c.ID] = c.Name
	}

	// Downtime per component, from its status history, counted from when
	// each incident began rather than when it was noticed: users were hurt
	// before the page said so. The service's downtime is the time any
	// component was down, overlaps counted once.
	in.Changes = backdate(in.Changes, in.Incidents)
	worst := 2.0
	times, span := componentTimes(in.Changes, in.From, in.To, in.Generated)
	for _, c := range in.Components {
		down := times[c.ID].Down
		cd := ComponentDowntime{ID: c.ID, Name: c.Name, DowntimeSecs: down.Seconds(), Downtime: upstate.FormatDuration(down, upstate.DurationReport)}
		cd.UptimeRatio = 1
		if span > 0 {
			cd.UptimeRatio = 1 - times[c.ID].Weighted.Seconds()/span.Seconds()
		}
		cd.Uptime = pct(cd.UptimeRatio)
		if cd.UptimeRatio < worst {
			worst, r.Summary.WorstUptime, r.Summary.WorstUptimeOf = cd.UptimeRatio, cd.Uptime, c.Name
		}
		r.Components = append(r.Components, cd)
	}
	total := serviceDowntime(in.Changes, in.From, in.To, in.Generated)
	r.Summary.DowntimeSecs = total.Seconds()
	r.Summary.Downtime = upstate.FormatDuration(total, upstate.DurationReport)

	// Incidents: every one on the day it began, newest day first; upstream
	// ones also summarised by provider, recurring kinds grouped. Merged
	// incidents live on in the ones they were merged into.
	ins := slices.DeleteFunc(slices.Clone(in.Incidents), func(x *upstate.Incident) bool { return x.MergedInto != "" })
	slices.SortStableFunc(ins, func(a, b *upstate.Incident) int { return b.StartedAt.Compare(a.StartedAt) })
	kinds := map[string][]*upstate.Incident{}
	kindOf := make([]string, len(ins)) // by index in ins, for incidents of ours
	providers := map[string][]*upstate.Incident{}
	for i, x := range ins {
		if x.Upstream != nil {
			providers[x.Upstream.Provider] = append(providers[x.Upstream.Provider], x)
			continue
		}
		kindOf[i] = kind(x.Name)
		kinds[kindOf[i]] = append(kinds[kindOf[i]], x)
	}
	severity := worstStatus(in.Changes)
	dates := make([]string, len(ins))
	for i, x := range ins {
		dates[i] = x.StartedAt.In(in.Loc).Format("Monday, January 2, 2006")
	}
	detect, resolve, ack := make([]time.Duration, 0, len(ins)), make([]time.Duration, 0, len(ins)), make([]time.Duration, 0, len(ins))
	for i, x := range ins {
		if d := x.DetectedAt.Sub(x.StartedAt); d >= 0 {
			detect = append(detect, d)
		}
		if x.ResolvedAt != nil {
			resolve = append(resolve, x.ResolvedAt.Sub(x.StartedAt))
		}
		if a := acknowledged(x); a != nil {
			ack = append(ack, a.Sub(x.StartedAt))
		}
		if n := len(r.Days); n == 0 || r.Days[n-1].Date != dates[i] {
			// ins are in order of start, so a day's are side by side.
			j := i + 1
			for j < len(ins) && dates[j] == dates[i] {
				j++
			}
			r.Days = append(r.Days, Day{Date: dates[i], Incidents: make([]Incident, 0, j-i)})
		}
		ir := f.incident(x, names, severity[x.ID], in.Generated)
		if xs := kinds[kindOf[i]]; x.Upstream == nil && len(xs) > 1 {
			ir.Recurring = xs[len(xs)-1].Name
		}
		if pm, ok := in.Postmortems[x.ID]; ok {
			ir.RootCause, ir.Fix, ir.Actions, ir.Contributing = strings.TrimSpace(pm.RootCause), strings.TrimSpace(pm.Fix), pm.Actions, strings.TrimSpace(pm.Contributing)
			ir.RootCauseHTML, ir.ContributingHTML, ir.FixHTML = kept(pm.RootCause, ir.RootCause, pm.RootCauseHTML),
				kept(pm.Contributing, ir.Contributing, pm.ContributingHTML), kept(pm.Fix, ir.Fix, pm.FixHTML)
			ir.Draft = pm.Status != upstate.PostmortemPublished
		}
		day := &r.Days[len(r.Days)-1]
		day.Incidents = append(day.Incidents, ir)
	}
	// Within a day, in the order they began: each day's were added newest
	// first, and are turned round once (not each put in front of the rest).
	for i := range r.Days {
		slices.Reverse(r.Days[i].Incidents)
	}
	r.Upstream = upstreamGroups(f, providers, in.Generated)
	for _, g := range r.Upstream {
		r.Summary.UpstreamCount += g.Count
	}
	keys := make([]string, 0, len(kinds))
	for k, xs := range kinds {
		if len(xs) > 1 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return kinds[b][0].StartedAt.Compare(kinds[a][0].StartedAt) })
	for _, k := range keys {
		xs := kinds[k] // newest first
		g := Recurring{Name: xs[len(xs)-1].Name, Count: len(xs)}
		var sum time.Duration
		var causes, fixes distinct
		g.Occurrences = make([]Occurrence, 0, len(xs))
		for _, x := range xs {
			sum += x.Duration(in.Generated)
			g.Occurrences = append(g.Occurrences, Occurrence{ID: x.ID, Start: f.at(x.StartedAt), End: f.end(x), Duration: upstate.FormatDuration(x.Duration(in.Generated), upstate.DurationReport)})
			if pm, ok := in.Postmortems[x.ID]; ok {
				causes.add(pm.RootCause)
				fixes.add(pm.Fix)
			}
		}
		g.RootCause, g.Fix = strings.Join(causes.list, "\n\n"), strings.Join(fixes.list, "\n\n")
		g.Total = upstate.FormatDuration(sum, upstate.DurationReport)
		r.Recurring = append(r.Recurring, g)
	}
	r.Summary.Incidents = len(ins)
	r.Summary.MeanDetect, r.Summary.MeanResolve, r.Summary.MeanAck = mean(detect), mean(resolve), mean(ack)
	return r, nil
}

// distinct is words in the order first written, each once: what several
// postmortems of one kind share is told once. A set beside the list keeps
// a kind with a thousand postmortems from comparing each with all before.
type distinct struct {
	list []string
	seen map[string]bool
}

// add adds s unless it is empty or already there.
func (d *distinct) add(s string) {
	s = strings.TrimSpace(s)
	if s == "" || d.seen[s] {
		return
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	d.seen[s] = true
	d.list = append(d.list, s)
}

// months names the months a period covers: "August 2026",
// "August – September 2026", "December 2026 – January 2027".
func months(first, last time.Time) string {
	switch {
	case first.Year() == last.Year() && first.Month() == last.Month():
		return first.Format("January 2006")
	case first.Year() == last.Year():
		return first.Format("January") + " – " + last.Format("January 2006")
	}
	return first.Format("January 2006") + " – " + last.Format("January 2006")
}

// upstreamGroups summarises third parties' incidents, the provider with
// the newest first, each one's occurrences in the order they happened.
func upstreamGroups(f formatter, providers map[string][]*upstate.Incident, now time.Time) []UpstreamGroup {
	keys := slices.Collect(maps.Keys(providers))
	slices.SortFunc(keys, func(a, b string) int {
		if c := providers[b][0].StartedAt.Compare(providers[a][0].StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := []UpstreamGroup{}
	for _, k := range keys {
		xs := providers[k]
		g := UpstreamGroup{Provider: k, URL: xs[0].Upstream.URL, Count: len(xs)}
		var sum time.Duration
		for i := len(xs) - 1; i >= 0; i-- {
			x := xs[i]
			sum += x.Duration(now)
			o := Occurrence{ID: x.ID, Name: x.Name, Title: x.Upstream.Title, URL: x.Upstream.URL, Start: f.at(x.StartedAt), End: f.end(x),
				Duration: upstate.FormatDuration(x.Duration(now), upstate.DurationReport)}
			if !x.Reach.Empty() {
				o.Reach = x.Reach.Describe()
			}
			g.Occurrences = append(g.Occurrences, o)
		}
		g.Total = upstate.FormatDuration(sum, upstate.DurationReport)
		out = append(out, g)
	}
	return out
}

// backdate adds, for each incident that began before its first status
// change on a component, the same status from the incident's start. One
// pass over the changes finds each incident's first change on each
// component (an incident touches a few components, so a short list per
// incident, not a map of every pair), one over the incidents adds what
// they began with, and the result is allocated once and sorted once.
func backdate(changes []upstate.StatusChange, ins []*upstate.Incident) []upstate.StatusChange {
	if changes == nil {
		return nil
	}
	first := map[string][]int{} // incident: indexes of its first change on each component, in order
	for i, c := range changes {
		if c.IncidentID == "" {
			continue
		}
		fs := first[c.IncidentID]
		if !slices.ContainsFunc(fs, func(j int) bool { return changes[j].ComponentID == c.ComponentID }) {
			first[c.IncidentID] = append(fs, i)
		}
	}
	added := 0
	for _, x := range ins {
		for _, j := range first[x.ID] {
			if c := changes[j]; x.StartedAt.Before(c.At) && c.Status.Severity() > 0 {
				added++
			}
		}
	}
	out := make([]upstate.StatusChange, len(changes), len(changes)+added)
	copy(out, changes)
	for _, x := range ins {
		for _, j := range first[x.ID] {
			if c := changes[j]; x.StartedAt.Before(c.At) && c.Status.Severity() > 0 {
				out = append(out, upstate.StatusChange{ComponentID: c.ComponentID, At: x.StartedAt, Status: c.Status, IncidentID: x.ID})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b upstate.StatusChange) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ComponentID, b.ComponentID)
	})
	return out
}

// worstStatus is, by incident, the worst status its changes gave any
// component.
func worstStatus(changes []upstate.StatusChange) map[string]upstate.Status {
	out := map[string]upstate.Status{}
	for _, c := range changes {
		if c.IncidentID != "" && c.Status.Severity() > out[c.IncidentID].Severity() {
			out[c.IncidentID] = c.Status
		}
	}
	return out
}

// kind is what makes incidents "of one kind": their name without digits
// and case, so "Quota exceeded (3)" and "quota exceeded" match.
func kind(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r < '0' || r > '9' {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(strings.Trim(b.String(), " ()#-")), " ")
}

// acknowledged is when a person first took the incident on: its
// recorded acknowledgement, or for incidents kept before acknowledgements
// were recorded (and imported ones), the first entry a person wrote after
// the declaration: declaring is not acknowledging, so the first entry of
// an incident a person declared never counts.
func acknowledged(x *upstate.Incident) *time.Time {
	if x.AcknowledgedAt != nil {
		return x.AcknowledgedAt
	}
	for i, u := range x.Updates {
		if i == 0 && !x.Auto {
			continue // the declaration
		}
		if u.Actor != "" && u.Actor != upstate.ActorUpstate {
			t := u.At
			return &t
		}
	}
	return nil
}

// down says whether a status counts as downtime: partial or major outage.
func down(s upstate.Status) float64 {
	if s == upstate.PartialOutage || s == upstate.MajorOutage {
		return 1
	}
	return 0
}

// componentTime is a component's time within a period in partial or
// major outage (Down), and counted the way uptime is (Weighted: partial
// outages at 30%). A component with no change is operational throughout:
// the zero value.
type componentTime struct{ Down, Weighted time.Duration }

// sweep is a component's state as componentTimes passes its changes: its
// status since cur, and the seconds summed so far.
type sweep struct {
	status             upstate.Status
	cur                time.Time
	downSecs, weighted float64
	past               bool // a change at or after the period's end was seen
}

// componentTimes is every component's times within [from, to), and the
// span they existed in, in one sweep of the changes (in order of time):
// each component's sums are added in the order of its own changes, as a
// walk of its changes alone would add them.
func componentTimes(changes []upstate.StatusChange, from, to, now time.Time) (map[string]componentTime, time.Duration) {
	out := map[string]componentTime{}
	if now.Before(to) {
		to = now
	}
	if !to.After(from) {
		return out, 0
	}
	state := map[string]*sweep{}
	for _, c := range changes {
		t := state[c.ComponentID]
		if t == nil {
			t = &sweep{status: upstate.Operational, cur: from}
			state[c.ComponentID] = t
		}
		if t.past {
			continue
		}
		if !c.At.After(from) {
			t.status = c.Status
			continue
		}
		if !c.At.Before(to) {
			t.past = true
			continue
		}
		d := c.At.Sub(t.cur).Seconds()
		t.downSecs += down(t.status) * d
		t.weighted += t.status.OutageWeight() * d
		t.cur, t.status = c.At, c.Status
	}
	for id, t := range state {
		d := to.Sub(t.cur).Seconds()
		out[id] = componentTime{Down: time.Duration((t.downSecs + down(t.status)*d) * float64(time.Second)),
			Weighted: time.Duration((t.weighted + t.status.OutageWeight()*d) * float64(time.Second))}
	}
	return out, to.Sub(from)
}

// serviceDowntime is the time within [from, to) that at least one
// component was in partial or major outage: two components down at once
// are one stretch of downtime, not two.
func serviceDowntime(changes []upstate.StatusChange, from, to, now time.Time) time.Duration {
	if now.Before(to) {
		to = now
	}
	if !to.After(from) {
		return 0
	}
	isDown := map[string]bool{}
	n := 0 // components down
	set := func(c upstate.StatusChange) {
		d := down(c.Status) > 0
		if d != isDown[c.ComponentID] {
			if d {
				n++
			} else {
				n--
			}
			isDown[c.ComponentID] = d
		}
	}
	cur := from
	var sum time.Duration
	for _, c := range changes {
		if !c.At.After(from) {
			set(c)
			continue
		}
		if !c.At.Before(to) {
			break
		}
		if n > 0 {
			sum += c.At.Sub(cur)
		}
		cur = c.At
		set(c)
	}
	if n > 0 {
		sum += to.Sub(cur)
	}
	return sum
}

func mean(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n/a"
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return upstate.FormatDuration(sum/time.Duration(len(ds)), upstate.DurationReport)
}

func pct(f float64) string {
	if f >= 1 {
		return "100%"
	}
	return fmt.Sprintf("%.3f%%", float64(int(f*100000))/1000)
}

// formatter prints times in the report's zone, with the second zone in
// parentheses: "Aug 17, 8:42 am PDT (3:42 am NZST)".
type formatter struct {
	loc, also *time.Location
}

// at is a time with its date and zone, for tables outside the days.
func (f formatter) at(t time.Time) string { return f.within(time.Time{}, t) }

// within is a time as a day's section says it: the clock alone when it is
// on the section's day (day; zero for always dated), else with its date;
// the second zone once, with its own date where that differs.
func (f formatter) within(day, t time.Time) string {
	l := t.In(f.loc)
	var s string
	if !day.IsZero() && sameDay(day.In(f.loc), l) {
		s = l.Format("3:04 pm")
	} else {
		s = l.Format("Jan 2, 3:04 pm")
	}
	if day.IsZero() {
		s += l.Format(" MST")
	}
	if f.also != nil {
		a := t.In(f.also)
		date := ""
		if !sameDay(a, l) {
			date = a.Format("Jan 2, ")
		}
		s += " (" + date + a.Format("3:04 pm MST") + ")"
	}
	return s
}

// span is an entry's time from t to until as a day's section says it:
// "10:40 am to 11:03 am", the end's date only when it is on another day
// than the start; the second zone once, "(Aug 18, 5:40 am to 6:03 am
// NZST)", with the start's date where that differs from the first
// zone's, the end's where it differs from the start's.
func (f formatter) span(day, t, until time.Time) string {
	l, lu := t.In(f.loc), until.In(f.loc)
	var s string
	if !day.IsZero() && sameDay(day.In(f.loc), l) {
		s = l.Format("3:04 pm")
	} else {
		s = l.Format("Jan 2, 3:04 pm")
	}
	s += " to " + endClock(l, lu)
	if day.IsZero() {
		s += lu.Format(" MST")
	}
	if f.also != nil {
		a, au := t.In(f.also), until.In(f.also)
		date := ""
		if !sameDay(a, l) {
			date = a.Format("Jan 2, ")
		}
		s += " (" + date + a.Format("3:04 pm") + " to " + endClock(a, au) + au.Format(" MST") + ")"
	}
	return s
}

// endClock is an end as said after its start: the time alone on the start's
// day, else with its date.
func endClock(start, end time.Time) string {
	if sameDay(start, end) {
		return end.Format("3:04 pm")
	}
	return end.Format("Jan 2, 3:04 pm")
}

func sameDay(a, b time.Time) bool {
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	return ya == yb && ma == mb && da == db
}

func (f formatter) end(x *upstate.Incident) string {
	if x.ResolvedAt == nil {
		return "ongoing"
	}
	return f.at(*x.ResolvedAt)
}

// severityWords are a component status as the report's reader says it.
func severityWords(s upstate.Status, impact upstate.Impact) string {
	switch s {
	case upstate.MajorOutage:
		return "Major outage"
	case upstate.PartialOutage:
		return "Partial outage"
	case upstate.DegradedPerformance:
		return "Degraded performance"
	case upstate.UnderMaintenance:
		return "Maintenance"
	}
	// No component changed (a declared incident that set none): its
	// declared impact says.
	switch impact {
	case upstate.ImpactCritical:
		return "Major outage"
	case upstate.ImpactMajor:
		return "Partial outage"
	case upstate.ImpactMinor:
		return "Degraded performance"
	}
	return "No user-facing impact"
}

// impactWords say how bad and how wide: "Partial outage affecting about
// 25% of requests, for teachers grading submissions, in EU", or
// "affecting 10–25% of requests" for a range.
func impactWords(s upstate.Status, impact upstate.Impact, reach upstate.Reach) string {
	w := severityWords(s, impact)
	if lo, hi, ok := reach.Failing(); ok && percent(hi) != percent(lo) {
		w += fmt.Sprintf(" affecting %s–%s%% of requests", percent(lo), percent(hi))
	} else if ok {
		w += fmt.Sprintf(" affecting about %s%% of requests", percent(lo))
	}
	if len(reach.Segments) > 0 {
		w += ", for " + strings.Join(reach.Segments, ", ")
	}
	if len(reach.Regions) > 0 {
		w += ", in " + strings.Join(reach.Regions, ", ")
	}
	return w
}

// percent is a share to one decimal at most: 25, 12.5.
func percent(p float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", p), "0"), ".")
}

func (f formatter) incident(x *upstate.Incident, names map[string]string, worst upstate.Status, now time.Time) Incident {
	out := Incident{ID: x.ID, Name: x.Name, Impact: string(x.Impact), Severity: string(worst), ImpactWords: impactWords(worst, x.Impact, x.Reach), Status: string(x.Status),
		Start: f.within(x.StartedAt, x.StartedAt), End: "ongoing", StartedAt: x.StartedAt.UTC(),
		Duration: upstate.FormatDuration(x.Duration(now), upstate.DurationReport), Detect: upstate.FormatDuration(max(x.DetectedAt.Sub(x.StartedAt), 0), upstate.DurationReport), Ack: "n/a", Resolve: "ongoing", Automatic: x.Auto,
		Entries: make([]Entry, 0, len(x.Updates))}
	if worst.Severity() == 0 {
		out.Severity = ""
	}
	if a := acknowledged(x); a != nil {
		out.Ack = upstate.FormatDuration(a.Sub(x.StartedAt), upstate.DurationReport)
	}
	if !x.Reach.Empty() {
		out.Reach, out.Failing = x.Reach.Describe(), x.Reach.FailingPercent
		if x.Reach.IsRange() {
			out.FailingMax = x.Reach.FailingMax
		}
	}
	if x.Hidden != nil {
		out.Hidden = x.Hidden.Reason
	}
	if x.ResolvedAt != nil {
		end := x.ResolvedAt.UTC()
		out.End, out.EndedAt = f.within(x.StartedAt, end), &end
		out.Resolve = upstate.FormatDuration(x.ResolvedAt.Sub(x.StartedAt), upstate.DurationReport)
	}
	if u := x.Upstream; u != nil {
		out.Upstream = &Link{Provider: u.Provider, Title: u.Title, URL: u.URL}
	}
	if len(x.Components) > 0 {
		out.Components = make([]string, 0, len(x.Components))
	}
	for _, c := range x.Components {
		n := names[c]
		if n == "" {
			n = c
		}
		out.Components = append(out.Components, n)
	}
	last := ""
	for _, u := range x.Updates {
		// The postmortem's own entry repeats its root cause and fix,
		// which the report tells once, in their place.
		if !u.Public || u.Status == upstate.Postmortem {
			continue
		}
		e := Entry{Time: f.within(x.StartedAt, u.At), At: u.At.UTC(), Body: strings.TrimSpace(u.Body)}
		e.HTML = kept(u.Body, e.Body, u.BodyHTML)
		if u.Span() {
			end := u.Until.UTC()
			e.Time, e.Until = f.span(x.StartedAt, u.At, end), &end
		}
		if st := u.Status.Label(); st != last {
			e.Status, last = st, st
		}
		out.Entries = append(out.Entries, e)
	}
	return out
}
