// Package report builds the outage report for a period: a summary
// (incidents, user-facing downtime and uptime per component, response
// times), the downtime timeline grouped by day newest first with each
// incident's time-and-description entries, and recurring incidents of one
// kind grouped with each occurrence. Times are shown in one zone, with a
// second in parentheses for a team on the other side of the world. It is
// pure: data in, a Report out; rendering is in render.go.
package report

import (
	"fmt"
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
	Summary    Summary             `json:"summary"`
	Days       []Day               `json:"days"`
	Upstream   []UpstreamGroup     `json:"upstream"`
	Recurring  []Recurring         `json:"recurring"`
	Components []ComponentDowntime `json:"components"`
}

// Summary is the period at a glance.
type Summary struct {
	Incidents     int     `json:"incidents"`
	UpstreamCount int     `json:"upstream_incidents"`
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

// Day groups the incidents that began on one day.
type Day struct {
	Date      string     `json:"date"`
	Incidents []Incident `json:"incidents"`
}

// Incident is one incident as the report tells it.
type Incident struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Impact     string   `json:"impact"`
	Status     string   `json:"status"`
	Components []string `json:"components"`
	Start      string   `json:"start"`
	End        string   `json:"end"`
	Duration   string   `json:"duration"`
	Detect     string   `json:"time_to_detect"`
	Ack        string   `json:"time_to_acknowledge"`
	Resolve    string   `json:"time_to_resolve"`
	Automatic  bool     `json:"automatic"`
	// Hidden is why people hid the incident from the public side (opened
	// by mistake); the report keeps it, counted, and says so.
	Hidden       string               `json:"hidden_reason,omitempty"`
	Reach        string               `json:"reach,omitempty"`
	Failing      *float64             `json:"failing_percent,omitempty"`
	Entries      []Entry              `json:"entries"`
	RootCause    string               `json:"root_cause"`
	Contributing string               `json:"contributing_factors,omitempty"`
	Fix          string               `json:"fix_and_prevention"`
	Actions      []upstate.ActionItem `json:"action_items,omitempty"`
}

// Entry is a "time and description" line.
type Entry struct {
	Time   string `json:"time"`
	Status string `json:"status"`
	Body   string `json:"body"`
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

// Recurring is incidents of one kind that happened more than once.
type Recurring struct {
	Name        string       `json:"name"`
	Count       int          `json:"count"`
	Total       string       `json:"total_duration"`
	Occurrences []Occurrence `json:"occurrences"`
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
		Days: []Day{}, Upstream: []UpstreamGroup{}, Recurring: []Recurring{}}
	if in.Also != nil {
		r.AlsoZone = in.Also.String()
	}
	lastDay := in.To.Add(-time.Nanosecond)
	r.Period = fmt.Sprintf("%s – %s (%s)", in.From.In(in.Loc).Format("January 2, 2006"), lastDay.In(in.Loc).Format("January 2, 2006"), in.Loc.String())
	if r.Title == "" {
		r.Title = fmt.Sprintf("%s outage report, %s", in.PageName, in.From.In(in.Loc).Format("January 2006"))
	}
	names := map[string]string{}
	for _, c := range in.Components {
		names[c.ID] = c.Name
	}

	// Downtime per component, from its status history, counted from when
	// each incident began rather than when it was noticed: users were hurt
	// before the page said so.
	in.Changes = backdate(in.Changes, in.Incidents)
	total := 0.0
	worst := 2.0
	for _, c := range in.Components {
		down, span := downtime(in.Changes, c.ID, in.From, in.To, in.Generated)
		cd := ComponentDowntime{ID: c.ID, Name: c.Name, DowntimeSecs: down.Seconds(), Downtime: upstate.FormatDuration(down, upstate.DurationReport)}
		cd.UptimeRatio = 1
		if span > 0 {
			cd.UptimeRatio = 1 - weighted(in.Changes, c.ID, in.From, in.To, in.Generated).Seconds()/span.Seconds()
		}
		cd.Uptime = pct(cd.UptimeRatio)
		if cd.UptimeRatio < worst {
			worst, r.Summary.WorstUptime, r.Summary.WorstUptimeOf = cd.UptimeRatio, cd.Uptime, c.Name
		}
		total += down.Seconds()
		r.Components = append(r.Components, cd)
	}
	r.Summary.DowntimeSecs = total
	r.Summary.Downtime = upstate.FormatDuration(time.Duration(total*float64(time.Second)), upstate.DurationReport)

	// Incidents: upstream ones by provider, recurring kinds grouped, the
	// rest by day, newest first. Merged incidents live on in the ones they
	// were merged into.
	ins := slices.DeleteFunc(slices.Clone(in.Incidents), func(x *upstate.Incident) bool { return x.MergedInto != "" })
	slices.SortFunc(ins, func(a, b *upstate.Incident) int { return b.StartedAt.Compare(a.StartedAt) })
	kinds := map[string][]*upstate.Incident{}
	providers := map[string][]*upstate.Incident{}
	for _, x := range ins {
		if x.Upstream != nil {
			providers[x.Upstream.Provider] = append(providers[x.Upstream.Provider], x)
			continue
		}
		kinds[kind(x.Name)] = append(kinds[kind(x.Name)], x)
	}
	var detect, resolve, ack []time.Duration
	for _, x := range ins {
		if d := x.DetectedAt.Sub(x.StartedAt); d >= 0 {
			detect = append(detect, d)
		}
		if x.ResolvedAt != nil {
			resolve = append(resolve, x.ResolvedAt.Sub(x.StartedAt))
		}
		if a := acknowledged(x); a != nil {
			ack = append(ack, a.Sub(x.StartedAt))
		}
		if x.Upstream != nil || len(kinds[kind(x.Name)]) > 1 {
			continue
		}
		date := x.StartedAt.In(in.Loc).Format("Monday, January 2, 2006")
		if n := len(r.Days); n == 0 || r.Days[n-1].Date != date {
			r.Days = append(r.Days, Day{Date: date})
		}
		ir := f.incident(x, names, in.Generated)
		if pm, ok := in.Postmortems[x.ID]; ok {
			ir.RootCause, ir.Fix, ir.Actions = orNotYet(pm.RootCause), orNotYet(pm.Fix), pm.Actions
			if pm.Contributing != "" {
				ir.Contributing = pm.Contributing
			}
			if pm.Status != upstate.PostmortemPublished {
				ir.RootCause += " (draft)"
			}
		}
		r.Days[len(r.Days)-1].Incidents = append(r.Days[len(r.Days)-1].Incidents, ir)
	}
	r.Upstream = upstreamGroups(f, providers, in.Generated, names)
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
		xs := kinds[k]
		g := Recurring{Name: xs[len(xs)-1].Name, Count: len(xs)}
		var sum time.Duration
		for i := len(xs) - 1; i >= 0; i-- { // oldest first: the order they happened in
			x := xs[i]
			sum += x.Duration(in.Generated)
			g.Occurrences = append(g.Occurrences, Occurrence{ID: x.ID, Start: f.at(x.StartedAt), End: f.end(x), Duration: upstate.FormatDuration(x.Duration(in.Generated), upstate.DurationReport)})
		}
		g.Total = upstate.FormatDuration(sum, upstate.DurationReport)
		r.Recurring = append(r.Recurring, g)
	}
	r.Summary.Incidents = len(ins)
	r.Summary.MeanDetect, r.Summary.MeanResolve, r.Summary.MeanAck = mean(detect), mean(resolve), mean(ack)
	return r, nil
}

// upstreamGroups summarises third parties' incidents, the provider with
// the newest first, each one's occurrences in the order they happened.
func upstreamGroups(f formatter, providers map[string][]*upstate.Incident, now time.Time, names map[string]string) []UpstreamGroup {
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
// change, the same status from the incident's start.
func backdate(changes []upstate.StatusChange, ins []*upstate.Incident) []upstate.StatusChange {
	out := slices.Clone(changes)
	for _, x := range ins {
		seen := map[string]bool{}
		for _, c := range changes {
			if c.IncidentID != x.ID || seen[c.ComponentID] {
				continue
			}
			seen[c.ComponentID] = true
			if x.StartedAt.Before(c.At) && c.Status.Severity() > 0 {
				out = append(out, upstate.StatusChange{ComponentID: c.ComponentID, At: x.StartedAt, Status: c.Status, IncidentID: x.ID})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b upstate.StatusChange) int { return a.At.Compare(b.At) })
	return out
}

func orNotYet(s string) string {
	if strings.TrimSpace(s) == "" {
		return "Not written yet."
	}
	return s
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
// acknowledgement, or for incidents kept before acknowledgements were
// recorded, the first entry a person wrote.
func acknowledged(x *upstate.Incident) *time.Time {
	if x.AcknowledgedAt != nil {
		return x.AcknowledgedAt
	}
	for _, u := range x.Updates {
		if u.Actor != "" && u.Actor != upstate.ActorUpstate {
			t := u.At
			return &t
		}
	}
	return nil
}

// downtime is the time the component spent in partial or major outage
// within [from, to), and the span it existed in.
func downtime(changes []upstate.StatusChange, comp string, from, to, now time.Time) (down, span time.Duration) {
	return integrate(changes, comp, from, to, now, func(s upstate.Status) float64 {
		if s == upstate.PartialOutage || s == upstate.MajorOutage {
			return 1
		}
		return 0
	})
}

// weighted is downtime counted the way uptime is (partial outages at 30%).
func weighted(changes []upstate.StatusChange, comp string, from, to, now time.Time) time.Duration {
	d, _ := integrate(changes, comp, from, to, now, upstate.Status.OutageWeight)
	return d
}

func integrate(changes []upstate.StatusChange, comp string, from, to, now time.Time, weight func(upstate.Status) float64) (time.Duration, time.Duration) {
	if now.Before(to) {
		to = now
	}
	if !to.After(from) {
		return 0, 0
	}
	status := upstate.Operational
	cur := from
	var sum float64
	for _, c := range changes {
		if c.ComponentID != comp {
			continue
		}
		if !c.At.After(from) {
			status = c.Status
			continue
		}
		if !c.At.Before(to) {
			break
		}
		sum += weight(status) * c.At.Sub(cur).Seconds()
		cur, status = c.At, c.Status
	}
	sum += weight(status) * to.Sub(cur).Seconds()
	return time.Duration(sum * float64(time.Second)), to.Sub(from)
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

func (f formatter) at(t time.Time) string {
	s := t.In(f.loc).Format("Jan 2, 3:04 pm MST")
	if f.also != nil {
		a := t.In(f.also)
		day := ""
		if a.Format("2006-01-02") != t.In(f.loc).Format("2006-01-02") {
			day = a.Format("Jan 2, ")
		}
		s += " (" + day + a.Format("3:04 pm MST") + ")"
	}
	return s
}

func (f formatter) end(x *upstate.Incident) string {
	if x.ResolvedAt == nil {
		return "ongoing"
	}
	return f.at(*x.ResolvedAt)
}

func (f formatter) incident(x *upstate.Incident, names map[string]string, now time.Time) Incident {
	out := Incident{ID: x.ID, Name: x.Name, Impact: string(x.Impact), Status: string(x.Status), Start: f.at(x.StartedAt), End: f.end(x),
		Duration: upstate.FormatDuration(x.Duration(now), upstate.DurationReport), Detect: upstate.FormatDuration(max(x.DetectedAt.Sub(x.StartedAt), 0), upstate.DurationReport), Ack: "n/a", Resolve: "ongoing", Automatic: x.Auto,
		RootCause: "Not written yet.", Fix: "Not written yet.", Entries: []Entry{}}
	if a := acknowledged(x); a != nil {
		out.Ack = upstate.FormatDuration(a.Sub(x.StartedAt), upstate.DurationReport)
	}
	if !x.Reach.Empty() {
		out.Reach, out.Failing = x.Reach.Describe(), x.Reach.FailingPercent
	}
	if x.Hidden != nil {
		out.Hidden = x.Hidden.Reason
	}
	if x.ResolvedAt != nil {
		out.Resolve = upstate.FormatDuration(x.ResolvedAt.Sub(x.StartedAt), upstate.DurationReport)
	}
	for _, c := range x.Components {
		n := names[c]
		if n == "" {
			n = c
		}
		out.Components = append(out.Components, n)
	}
	for _, u := range x.Updates {
		if u.Public {
			out.Entries = append(out.Entries, Entry{Time: f.at(u.At), Status: u.Status.Label(), Body: u.Body})
		}
	}
	return out
}
