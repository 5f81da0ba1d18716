package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/golden"
	"github.com/upstatehq/upstate/internal/markdown"
)

var la, _ = time.LoadLocation("America/Los_Angeles")
var nz, _ = time.LoadLocation("Pacific/Auckland")

func at(day, h, m int) time.Time { return time.Date(2026, 8, day, h, m, 0, 0, la) }

// fixtureMonth is a month like the one in DEVELOPERS.md: a database lock
// (latency, then 500s), a firewall blocking schools, the drive down three
// times, the classroom quota exhausted three times, and a conversion
// provider failing for Office files.
func fixtureMonth() Input {
	comps := []upstate.Component{
		{ID: "web", Name: "Web app"}, {ID: "api", Name: "API"}, {ID: "database", Name: "Database"},
		{ID: "conversion", Name: "File conversion"}, {ID: "drive", Name: "Cloud drive sync"}, {ID: "classroom", Name: "Classroom roster sync"},
	}
	var ins []*upstate.Incident
	var changes []upstate.StatusChange
	n := 0
	add := func(name string, auto bool, impact upstate.Impact, start, detect, end time.Time, comps map[string]upstate.Status, entries ...upstate.TimelineEntry) {
		n++
		id := fmt.Sprintf("inc%02d", n)
		r := end
		in := &upstate.Incident{ID: id, Name: name, Status: upstate.Resolved, Impact: impact, Auto: auto, CreatedAt: detect, UpdatedAt: end,
			StartedAt: start, DetectedAt: detect, ResolvedAt: &r}
		for c, st := range comps {
			in.Components = append(in.Components, c)
			changes = append(changes, upstate.StatusChange{ComponentID: c, At: detect, Status: st, IncidentID: id},
				upstate.StatusChange{ComponentID: c, At: end.Add(-2 * time.Minute), Status: upstate.Operational, IncidentID: id})
		}
		for i := range entries {
			entries[i].IncidentID = id
			entries[i].ID = fmt.Sprintf("%s-%d", id, i)
			if entries[i].Actor == "" {
				entries[i].Actor = upstate.ActorUpstate
			}
		}
		in.Updates = entries
		ins = append(ins, in)
	}
	e := func(t time.Time, st upstate.IncidentStatus, actor, body string, public bool) upstate.TimelineEntry {
		return upstate.TimelineEntry{At: t, Status: st, Actor: actor, Body: body, Public: public}
	}
	add("Partial outage of API", true, upstate.ImpactMajor, at(17, 7, 54), at(17, 7, 55), at(17, 9, 15),
		map[string]upstate.Status{"api": upstate.PartialOutage},
		e(at(17, 7, 55), upstate.Investigating, "", "API: degraded performance. API health is slow; latest: HTTP 200 after 2.59 s.", true),
		e(at(17, 8, 42), upstate.Identified, "Dana", "A long-running query holds a lock on **submissions**; 25% of requests answer HTTP 500.", true),
		e(at(17, 8, 50), upstate.Identified, "Dana", "Paging the DBA.", false),
		e(at(17, 9, 15), upstate.Resolved, "Dana", "The query was killed and a statement timeout added.", true))
	lockAck, share := at(17, 8, 30), 25.0
	ins[0].AcknowledgedAt, ins[0].AcknowledgedBy = &lockAck, "Dana"
	lockHeld := at(17, 9, 5) // the 500s lasted until the query was killed: a span
	ins[0].Updates[1].Until = &lockHeld
	ins[0].Reach = upstate.Reach{FailingPercent: &share, Segments: []string{"teachers grading submissions"}}
	add("Schools blocked by the firewall", false, upstate.ImpactCritical, at(18, 6, 0), at(18, 7, 40), at(18, 7, 52),
		map[string]upstate.Status{"web": upstate.MajorOutage},
		e(at(18, 7, 40), upstate.Identified, "Sam", "Our firewall's DDoS rule blocked schools (many devices behind one address).", true),
		e(at(18, 7, 52), upstate.Resolved, "Sam", "The rule now allows school address ranges.", true))
	for i, day := range []int{19, 24, 28} {
		add("Major outage of Cloud drive sync", true, upstate.ImpactCritical, at(day, 10, 0), at(day, 10, 1), at(day, 12+i, 30),
			map[string]upstate.Status{"drive": upstate.MajorOutage},
			e(at(day, 10, 1), upstate.Investigating, "", "Cloud drive sync: major outage.", true),
			e(at(day, 12+i, 30), upstate.Resolved, "", "Every check has passed for 2 minutes.", true))
		ins[len(ins)-1].Upstream = &upstate.Upstream{Provider: "Google Workspace", Title: "Google Drive service disruption",
			URL: fmt.Sprintf("https://www.google.com/appsstatus/dashboard/incidents/drive%d", i+1)}
	}
	for _, day := range []int{20, 25, 29} {
		add("Major outage of Classroom roster sync", true, upstate.ImpactCritical, at(day, 8, 0), at(day, 8, 1), at(day, 8, 40),
			map[string]upstate.Status{"classroom": upstate.MajorOutage},
			e(at(day, 8, 1), upstate.Investigating, "", "Classroom API quota exhausted (HTTP 429).", true))
	}
	add("Conversions failing for Word and PowerPoint", false, upstate.ImpactMajor, at(21, 9, 58), at(21, 10, 5), at(21, 10, 45),
		map[string]upstate.Status{"conversion": upstate.PartialOutage},
		e(at(21, 10, 5), upstate.Investigating, "Ann", "Word and PowerPoint conversions fail; **PDF works**. <script>alert(1)</script>", true),
		e(at(21, 10, 45), upstate.Resolved, "Ann", "The provider restored its Office workers.", true))
	// Sam and Ann took on the incidents they declared: declaring alone
	// would not say so (see TestDeclaringIsNotAcknowledging).
	for _, x := range ins {
		if !x.Auto && x.AcknowledgedAt == nil {
			a := x.Updates[0].At
			x.AcknowledgedAt, x.AcknowledgedBy = &a, x.Updates[0].Actor
		}
	}
	pub := at(20, 9, 0)
	pms := map[string]upstate.PostmortemDoc{"inc01": {IncidentID: "inc01", Status: upstate.PostmortemPublished, PublishedAt: &pub,
		RootCause: "A report query took a row lock on `submissions` during the morning peak.", Contributing: "No statement timeout.",
		Fix:     "Killed the query; added a 5 s statement timeout and moved reports to a replica.",
		Actions: []upstate.ActionItem{{Text: "Statement timeout on the app role", Owner: "Dana", State: "done"}, {Text: "Reports on the replica", Owner: "Lee", State: "open"}}}}
	// The conversions' share was known only within bounds: a range.
	convLo, convHi := 10.0, 25.0
	ins[8].Reach = upstate.Reach{FailingPercent: &convLo, FailingMax: &convHi}
	return Input{Title: "Classroom Cloud — August 2026 outage report", Postmortems: pms, PageName: "Classroom Cloud", From: time.Date(2026, 8, 1, 0, 0, 0, 0, la),
		To: time.Date(2026, 9, 1, 0, 0, 0, 0, la), Loc: la, Also: nz, Components: comps, Incidents: ins, Changes: changes,
		Generated: time.Date(2026, 9, 2, 9, 0, 0, 0, la)}
}

func TestGolden(t *testing.T) {
	r, err := Build(fixtureMonth())
	if err != nil {
		t.Fatal(err)
	}
	md := markdown.New()
	for _, f := range Formats() {
		body, _, err := Render(r, f, md)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, "august."+f, body)
	}
}

func TestReportContents(t *testing.T) {
	r, err := Build(fixtureMonth())
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Incidents != 9 {
		t.Errorf("incidents = %d", r.Summary.Incidents)
	}
	// Upstream incidents are summarised by provider with links; recurring
	// kinds are grouped, oldest occurrence first; the rest are by day,
	// newest first.
	if len(r.Upstream) != 1 || r.Upstream[0].Provider != "Google Workspace" || r.Upstream[0].Count != 3 || r.Summary.UpstreamCount != 3 {
		t.Fatalf("upstream = %+v", r.Upstream)
	}
	if o := r.Upstream[0].Occurrences[0]; o.URL != "https://www.google.com/appsstatus/dashboard/incidents/drive1" || o.Title != "Google Drive service disruption" ||
		o.Start != "Aug 19, 10:00 am PDT (Aug 20, 5:00 am NZST)" {
		t.Errorf("first upstream occurrence = %+v", o)
	}
	// Recurring kinds are grouped, newest first.
	if len(r.Recurring) != 1 || r.Recurring[0].Count != 3 {
		t.Fatalf("recurring = %+v", r.Recurring)
	}
	if r.Recurring[0].Name != "Major outage of Classroom roster sync" || r.Recurring[0].Occurrences[0].Start != "Aug 29, 8:00 am PDT (Aug 30, 3:00 am NZST)" {
		t.Errorf("recurring[0] = %+v", r.Recurring[0])
	}
	// Every day with an incident has its section, newest first, the
	// providers' incidents and the recurring ones too.
	var days []string
	byID := map[string]Incident{}
	for _, d := range r.Days {
		days = append(days, d.Date)
		for _, in := range d.Incidents {
			byID[in.ID] = in
		}
	}
	if len(days) != 9 || days[0] != "Saturday, August 29, 2026" || days[8] != "Monday, August 17, 2026" || len(byID) != 9 {
		t.Errorf("days = %v (%d incidents)", days, len(byID))
	}
	if drive := byID["inc03"]; drive.Upstream == nil || drive.Upstream.Provider != "Google Workspace" || drive.Upstream.URL == "" {
		t.Errorf("a provider's incident in the days: %+v", drive)
	}
	if quota := byID["inc06"]; quota.Recurring != "Major outage of Classroom roster sync" {
		t.Errorf("a recurring incident does not point to its group: %+v", quota)
	}
	lock := byID["inc01"]
	if lock.Reach != "about 25% of requests failing; affecting: teachers grading submissions" || *lock.Failing != 25 {
		t.Errorf("lock reach = %q", lock.Reach)
	}
	// Impact in words from what it did and how widely: not "major".
	if lock.ImpactWords != "Partial outage affecting about 25% of requests, for teachers grading submissions" || lock.Severity != "partial_outage" {
		t.Errorf("lock impact = %q (%s)", lock.ImpactWords, lock.Severity)
	}
	if lock.FailingMax != nil {
		t.Errorf("one figure reported as a range up to %v", *lock.FailingMax)
	}
	conv := byID["inc09"]
	if conv.ImpactWords != "Partial outage affecting 10–25% of requests" || conv.Reach != "10–25% of requests failing" ||
		conv.Failing == nil || *conv.Failing != 10 || conv.FailingMax == nil || *conv.FailingMax != 25 {
		t.Errorf("a range: impact %q, reach %q, failing %v–%v", conv.ImpactWords, conv.Reach, conv.Failing, conv.FailingMax)
	}
	if lock.Detect != "1 min" || lock.Ack != "36 min" || lock.Resolve != "1 h 21 min" || lock.Duration != "1 h 21 min" {
		t.Errorf("lock incident metrics = %+v", lock)
	}
	if !strings.HasPrefix(lock.RootCause, "A report query took a row lock") || len(lock.Actions) != 2 || lock.Contributing != "No statement timeout." {
		t.Errorf("lock postmortem = %q %v", lock.RootCause, lock.Actions)
	}
	if len(lock.Entries) != 3 {
		t.Fatalf("internal notes reached the report: %+v", lock.Entries)
	}
	// The day is the section's: an entry has its time, and the second
	// zone's date only where it differs; a span its end too.
	if lock.Entries[0].Time != "7:55 am (Aug 18, 2:55 am NZST)" || lock.Start != "7:54 am (Aug 18, 2:54 am NZST)" {
		t.Errorf("entry time = %q, start %q", lock.Entries[0].Time, lock.Start)
	}
	if lock.Entries[1].Time != "8:42 am to 9:05 am (Aug 18, 3:42 am to 4:05 am NZST)" || lock.Entries[1].Until == nil {
		t.Errorf("span entry time = %q, until %v", lock.Entries[1].Time, lock.Entries[1].Until)
	}
	fw := byID["inc02"]
	if fw.Detect != "1 h 40 min" {
		t.Errorf("firewall: detected after %s", fw.Detect)
	}
	var web ComponentDowntime
	for _, c := range r.Components {
		if c.ID == "web" {
			web = c
		}
	}
	if web.Downtime != "1 h 50 min" { // from 6:00, when schools were first blocked, not 7:40, when it was noticed
		t.Errorf("web downtime = %s", web.Downtime)
	}
	html, _, _ := Render(r, "html", markdown.New())
	if bytes.Contains(html, []byte("<script")) || !bytes.Contains(html, []byte("<strong>PDF works</strong>")) {
		t.Error("the HTML report does not sanitise Markdown bodies")
	}
	if !bytes.Contains(html, []byte("@media print")) {
		t.Error("the HTML report has no print styles")
	}
	var decoded map[string]any
	js, _, _ := Render(r, "json", nil)
	if err := json.Unmarshal(js, &decoded); err != nil {
		t.Errorf("json: %v", err)
	}
}

func TestMergedIncidentsLeftOut(t *testing.T) {
	in := fixtureMonth()
	dup := *in.Incidents[0]
	dup.ID, dup.MergedInto = "dup", in.Incidents[0].ID
	in.Incidents = append(in.Incidents, &dup)
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Incidents != 9 {
		t.Errorf("a merged incident was counted: %d incidents", r.Summary.Incidents)
	}
}

func TestBadInput(t *testing.T) {
	in := fixtureMonth()
	in.From, in.To = in.To, in.From
	if _, err := Build(in); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), "from must be before to") {
		t.Errorf("from after to: %v", err)
	}
	r, _ := Build(fixtureMonth())
	if _, _, err := Render(r, "pdf", nil); err == nil || !strings.Contains(err.Error(), `"pdf" is not one of md, html, json`) {
		t.Errorf("bad format: %v", err)
	}
}

// Two components down at once are one stretch of the service's downtime:
// the summary counts overlaps once, each component its own.
func TestServiceDowntimeCountsOverlapsOnce(t *testing.T) {
	in := fixtureMonth()
	// The API fails with the web app during the firewall block, 6:30–7:30.
	in.Changes = append(in.Changes,
		upstate.StatusChange{ComponentID: "api", At: at(18, 6, 30), Status: upstate.MajorOutage},
		upstate.StatusChange{ComponentID: "api", At: at(18, 7, 30), Status: upstate.Operational})
	slices.SortStableFunc(in.Changes, func(a, b upstate.StatusChange) int { return a.At.Compare(b.At) })
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, c := range r.Components {
		sum += c.DowntimeSecs
	}
	if r.Summary.DowntimeSecs != sum-3600 {
		t.Errorf("service downtime %v s, components' sum %v s: the overlapping hour is not counted once", r.Summary.DowntimeSecs, sum)
	}
}

func TestServiceDowntime(t *testing.T) {
	t0 := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	changes := []upstate.StatusChange{
		{ComponentID: "a", At: t0.Add(-time.Hour), Status: upstate.PartialOutage}, // down since before the period
		{ComponentID: "a", At: h(1), Status: upstate.Operational},
		{ComponentID: "b", At: h(2), Status: upstate.MajorOutage},
		{ComponentID: "a", At: h(3), Status: upstate.PartialOutage},
		{ComponentID: "b", At: h(4), Status: upstate.DegradedPerformance}, // slow is not down
		{ComponentID: "a", At: h(5), Status: upstate.Operational},
		{ComponentID: "c", At: h(9), Status: upstate.MajorOutage}, // still down at the end
	}
	if got := serviceDowntime(changes, t0, h(10), h(100)); got != 5*time.Hour {
		t.Errorf("downtime = %v, want 1 h + 2–5 h + 1 h = 5 h", got)
	}
	if got := serviceDowntime(changes, t0, h(10), h(9.5)); got != 4*time.Hour+30*time.Minute {
		t.Errorf("downtime until now = %v, want 4 h 30 min", got)
	}
}

// Publishing a postmortem writes its root cause and fix into the
// timeline; the report tells them once, in their place. Action items
// without an owner print no empty parentheses. The status word shows only
// when it changes.
func TestPostmortemToldOnce(t *testing.T) {
	in := fixtureMonth()
	lock := in.Incidents[0]
	lock.Updates = append(lock.Updates,
		upstate.TimelineEntry{At: at(17, 9, 20), Status: upstate.Resolved, Actor: "Dana", Body: "Reports are back.", Public: true},
		upstate.TimelineEntry{At: at(20, 9, 0), Status: upstate.Postmortem, Actor: "Dana", Public: true,
			Body: "**Root cause:** " + in.Postmortems["inc01"].RootCause + "\n\n**Fix and prevention:** " + in.Postmortems["inc01"].Fix})
	pm := in.Postmortems["inc01"]
	pm.Actions = append(pm.Actions, upstate.ActionItem{Text: "Alert on lock waits", State: "open"})
	in.Postmortems["inc01"] = pm
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	md := string(Markdown(r))
	if n := strings.Count(md, "moved reports to a replica"); n != 1 {
		t.Errorf("the fix is printed %d times", n)
	}
	if !strings.Contains(md, "- [ ] Alert on lock waits\n") || strings.Contains(md, "()") {
		t.Errorf("an action item without an owner:\n%s", md)
	}
	if !strings.Contains(md, "— **Resolved**: The query was killed") || !strings.Contains(md, "9:20 am (Aug 18, 4:20 am NZST) — Reports are back.") {
		t.Errorf("the status word is repeated, or missing where it changed:\n%s", md)
	}
}

// Recurring incidents of one kind share their fix: the group tells it,
// once however many postmortems say it.
func TestRecurringSharesFix(t *testing.T) {
	in := fixtureMonth()
	for _, id := range []string{"inc06", "inc07", "inc08"} {
		in.Postmortems[id] = upstate.PostmortemDoc{IncidentID: id, Status: upstate.PostmortemPublished,
			RootCause: "The nightly roster import spends the day's Classroom API quota.", Fix: "The import is spread over the night and capped at half the quota."}
	}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	g := r.Recurring[0]
	if g.Fix != "The import is spread over the night and capped at half the quota." || !strings.HasPrefix(g.RootCause, "The nightly roster import") {
		t.Errorf("recurring group = %+v", g)
	}
	md := string(Markdown(r))
	if n := strings.Count(md, "capped at half the quota"); n != 1 {
		t.Errorf("the shared fix is printed %d times:\n%s", n, md)
	}
}

func TestTitleCoversThePeriod(t *testing.T) {
	for _, tt := range []struct {
		from, to time.Time
		want     string
	}{
		{time.Date(2026, 8, 1, 0, 0, 0, 0, la), time.Date(2026, 9, 1, 0, 0, 0, 0, la), "Acme outage report, August 2026"},
		{time.Date(2026, 8, 1, 0, 0, 0, 0, la), time.Date(2026, 10, 1, 0, 0, 0, 0, la), "Acme outage report, August – September 2026"},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, la), time.Date(2027, 2, 1, 0, 0, 0, 0, la), "Acme outage report, December 2026 – January 2027"},
	} {
		r, err := Build(Input{PageName: "Acme", From: tt.from, To: tt.to, Loc: la, Generated: tt.to})
		if err != nil {
			t.Fatal(err)
		}
		if r.Title != tt.want {
			t.Errorf("title = %q, want %q", r.Title, tt.want)
		}
	}
}

// Names, titles, providers and links are text in the Markdown report,
// whatever they hold; bodies stay Markdown with raw HTML as text.
func TestMarkdownEscapesHostileText(t *testing.T) {
	hostile := []string{
		"<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "![x](http://evil/x.png)",
		"a | b | c", "# heading", "**bold** _em_ `code`", "line\n# injected heading", "&lt;already&gt;", "<!-- comment -->", "~~gone~~",
	}
	for _, h := range hostile {
		in := fixtureMonth()
		in.Title = "Report " + h
		in.PageName = h
		in.Components[1].Name = h
		x := in.Incidents[0]
		x.Name = h
		x.Upstream = &upstate.Upstream{Provider: h, Title: h, URL: "javascript:alert(1)"}
		in.Incidents[2].Upstream = &upstate.Upstream{Provider: "Drive", Title: h, URL: "https://status.example/a b)(<x>"}
		r, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		md := string(Markdown(r))
		html := string(markdown.New().HTML(md))
		for _, bad := range []string{"<script", "<img", `href="javascript:`, "<!--", "<del>", "<h1>injected", "<h4>injected"} {
			if strings.Contains(html, bad) {
				t.Errorf("%q: the rendered report holds %q", h, bad)
			}
		}
		if n := strings.Count(html, "<h4"); n != 9 {
			t.Errorf("%q: %d incident headings, not 9", h, n)
		}
		if strings.Contains(html, "<strong>bold</strong>") || strings.Contains(html, "<code>code</code>") {
			t.Errorf("%q: a name was read as Markdown", h)
		}
		if !strings.Contains(md, "(https://status.example/a%20b%29%28%3Cx%3E)") {
			t.Errorf("%q: an odd link is not kept whole and safe:\n%s", h, md)
		}
	}
}

// For incidents with no recorded acknowledgement (kept before there were
// any, or imported), the first entry a person wrote after the declaration
// counts, never the declaration.
func TestDeclaringIsNotAcknowledging(t *testing.T) {
	e := func(m int, actor string) upstate.TimelineEntry {
		return upstate.TimelineEntry{At: at(17, 8, m), Actor: actor, Public: true}
	}
	declared := &upstate.Incident{StartedAt: at(17, 8, 0), Updates: []upstate.TimelineEntry{e(0, "Sam"), e(5, upstate.ActorUpstate), e(12, "Lee")}}
	if a := acknowledged(declared); a == nil || !a.Equal(at(17, 8, 12)) {
		t.Errorf("declared incident acknowledged at %v, want Lee's entry at 8:12", a)
	}
	if a := acknowledged(&upstate.Incident{Updates: []upstate.TimelineEntry{e(0, "Sam")}}); a != nil {
		t.Errorf("a declaration alone acknowledged at %v", a)
	}
	auto := &upstate.Incident{Auto: true, Updates: []upstate.TimelineEntry{e(0, upstate.ActorUpstate), e(3, "Dana")}}
	if a := acknowledged(auto); a == nil || !a.Equal(at(17, 8, 3)) {
		t.Errorf("automatic incident acknowledged at %v, want Dana's entry", a)
	}
	recorded := at(17, 9, 37)
	declared.AcknowledgedAt = &recorded
	if a := acknowledged(declared); a == nil || !a.Equal(recorded) {
		t.Errorf("recorded acknowledgement not used: %v", a)
	}
}

// An entry that tells of a span reads "10:40 am to 11:03 am" within its
// day, the end's date only when it is another day's, the second zone once
// per entry; an end no later than the start is a moment.
func TestEntrySpanWords(t *testing.T) {
	day := at(17, 0, 0)
	for _, tc := range []struct {
		also        *time.Location
		from, until time.Time
		want        string
	}{
		{nil, at(17, 10, 40), at(17, 11, 3), "10:40 am to 11:03 am"},
		{nz, at(17, 10, 40), at(17, 11, 3), "10:40 am to 11:03 am (Aug 18, 5:40 am to 6:03 am NZST)"},
		{nil, at(17, 23, 30), at(18, 0, 20), "11:30 pm to Aug 18, 12:20 am"},
		{nz, at(17, 23, 30), at(18, 0, 20), "11:30 pm to Aug 18, 12:20 am (Aug 18, 6:30 pm to 7:20 pm NZST)"},
		{nz, at(17, 4, 30), at(17, 5, 30), "4:30 am to 5:30 am (11:30 pm to Aug 18, 12:30 am NZST)"},
		{nil, at(18, 10, 40), at(18, 11, 3), "Aug 18, 10:40 am to 11:03 am"},
	} {
		if got := (formatter{loc: la, also: tc.also}).span(day, tc.from, tc.until); got != tc.want {
			t.Errorf("span %v to %v (also %v) = %q, want %q", tc.from, tc.until, tc.also, got, tc.want)
		}
	}
	held, same := at(17, 11, 3), at(17, 10, 40)
	x := &upstate.Incident{ID: "i", Name: "Lock", Status: upstate.Resolved, StartedAt: at(17, 10, 30), DetectedAt: at(17, 10, 30), Updates: []upstate.TimelineEntry{
		{At: at(17, 10, 40), Until: &held, Public: true, Actor: "Dana", Body: "25% of requests answered HTTP 500 while the lock was held."},
		{At: at(17, 10, 40), Until: &same, Public: true, Actor: "Dana", Body: "A moment."},
	}}
	for _, also := range []*time.Location{nil, nz} {
		r, err := Build(Input{From: at(1, 0, 0), To: at(31, 0, 0), Loc: la, Also: also, Incidents: []*upstate.Incident{x}, Generated: at(30, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		es := r.Days[0].Incidents[0].Entries
		want := "10:40 am to 11:03 am"
		if also != nil {
			want += " (Aug 18, 5:40 am to 6:03 am NZST)"
		}
		if es[0].Time != want || es[0].Until == nil || !es[0].Until.Equal(held) || es[0].Until.Location() != time.UTC {
			t.Errorf("span entry = %q until %v, want %q", es[0].Time, es[0].Until, want)
		}
		if es[1].Until != nil || strings.Contains(es[1].Time, " to ") {
			t.Errorf("an end at the start made a span: %q", es[1].Time)
		}
		if md := string(Markdown(r)); !strings.Contains(md, "- "+want+" — ") {
			t.Errorf("markdown lacks the span %q:\n%s", want, md)
		}
	}
}
