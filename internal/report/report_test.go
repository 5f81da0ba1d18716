package report

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	pub := at(20, 9, 0)
	pms := map[string]upstate.PostmortemDoc{"inc01": {IncidentID: "inc01", Status: upstate.PostmortemPublished, PublishedAt: &pub,
		RootCause: "A report query took a row lock on `submissions` during the morning peak.", Contributing: "No statement timeout.",
		Fix:     "Killed the query; added a 5 s statement timeout and moved reports to a replica.",
		Actions: []upstate.ActionItem{{Text: "Statement timeout on the app role", Owner: "Dana", State: "done"}, {Text: "Reports on the replica", Owner: "Lee", State: "open"}}}}
	return Input{Title: "Classroom Cloud — August 2026 outage report", Postmortems: pms, PageName: "Classroom Cloud", From: time.Date(2026, 8, 1, 0, 0, 0, 0, la),
		To: time.Date(2026, 9, 1, 0, 0, 0, 0, la), Loc: la, Also: nz, Components: comps, Incidents: ins, Changes: changes,
		Generated: time.Date(2026, 9, 2, 9, 0, 0, 0, la)}
}

func TestGolden(t *testing.T) {
	r, err := Build(fixtureMonth())
	if err != nil {
		t.Fatal(err)
	}
	md := markdown.New().HTML
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
	if len(r.Recurring) != 1 || r.Recurring[0].Count != 3 {
		t.Fatalf("recurring = %+v", r.Recurring)
	}
	if r.Recurring[0].Name != "Major outage of Classroom roster sync" || r.Recurring[0].Occurrences[0].Start != "Aug 20, 8:00 am PDT (Aug 21, 3:00 am NZST)" {
		t.Errorf("recurring[0] = %+v", r.Recurring[0])
	}
	var days []string
	for _, d := range r.Days {
		days = append(days, d.Date)
	}
	if want := "Friday, August 21, 2026|Tuesday, August 18, 2026|Monday, August 17, 2026"; strings.Join(days, "|") != want {
		t.Errorf("days = %v", days)
	}
	lock := r.Days[2].Incidents[0]
	if lock.Reach != "about 25% of requests failing; affecting: teachers grading submissions" || *lock.Failing != 25 {
		t.Errorf("lock reach = %q", lock.Reach)
	}
	if lock.Detect != "1 min" || lock.Ack != "36 min" || lock.Resolve != "1 h 21 min" || lock.Duration != "1 h 21 min" {
		t.Errorf("lock incident metrics = %+v", lock)
	}
	if !strings.HasPrefix(lock.RootCause, "A report query took a row lock") || len(lock.Actions) != 2 || lock.Contributing != "No statement timeout." {
		t.Errorf("lock postmortem = %q %v", lock.RootCause, lock.Actions)
	}
	if len(lock.Entries) != 3 {
		t.Errorf("internal notes reached the report: %+v", lock.Entries)
	}
	if lock.Entries[1].Time != "Aug 17, 8:42 am PDT (Aug 18, 3:42 am NZST)" {
		t.Errorf("second-zone time = %q", lock.Entries[1].Time)
	}
	fw := r.Days[1].Incidents[0]
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
	html, _, _ := Render(r, "html", markdown.New().HTML)
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
