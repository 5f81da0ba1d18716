package report

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/markdown"
)

// dayTemplate is a day's section as report.html wrote it before writeDay
// wrote it by hand (issue 16): the reference writeDay is held to.
const dayTemplate = `{{define "day"}}
<section class="day">
<h3>{{.Date}}</h3>
{{range $in := .Incidents}}
<article class="incident {{.Severity}}">
  <header>
  <h4>{{.Name}}</h4>
  <p class="impact">{{.ImpactWords}}.</p>
  <p class="meta">{{.Start}} to {{.End}} ({{.Duration}}) · {{range $i, $c := .Components}}{{if $i}}, {{end}}{{$c}}{{end}}<br>
  Detected after {{.Detect}}, {{.AckWords}}, resolved after {{.Resolve}}</p>{{with .Hidden}}
  <p class="meta"><span class="label">Hidden from the public page:</span> {{.}}</p>{{end}}
  {{with .Upstream}}<p>Caused by {{.Provider}}{{if .Title}}'s incident {{if .URL}}<a href="{{.URL}}">“{{.Title}}”</a>{{else}}“{{.Title}}”{{end}}{{else if .URL}} (<a href="{{.URL}}">their status page</a>){{end}}.</p>{{end}}
  </header>
  <table class="entries">{{range .Entries}}<tr><td class="t">{{.Time}}</td><td>{{with .Status}}<strong>{{.}}:</strong> {{end}}{{md .Body}}</td></tr>{{end}}</table>
  {{if .Recurring}}<p class="meta">One of a recurring kind: see “{{.Recurring}}” under Recurring incidents.</p>
  {{else}}
  {{with .RootCause}}<div class="pm"><span class="label">Root cause{{if $in.Draft}} (draft){{end}}:</span> {{md .}}</div>{{end}}
  {{with .Contributing}}<div class="pm"><span class="label">Contributing factors:</span> {{md .}}</div>{{end}}
  {{with .Fix}}<div class="pm"><span class="label">Fix and prevention:</span> {{md .}}</div>{{end}}
  {{with .Actions}}<ul>{{range .}}<li>{{if eq .State "done"}}☑{{else}}☐{{end}} {{.Text}}{{with .Owner}} ({{.}}){{end}}</li>{{end}}</ul>{{end}}
  {{end}}
</article>
{{end}}
</section>
{{end}}`

// writeDay writes every day as the template did, byte for byte, for the
// fixture month, a year, and incidents whose every field holds what
// html/template escapes (quotes, '&', '+', '<', NUL, invalid UTF-8,
// noncharacters) and links of every scheme.
func TestDaysAsTheTemplateWroteThem(t *testing.T) {
	md := func(s string) template.HTML { return template.HTML("<p>" + html.EscapeString(s) + "</p>\n") } //nolint:gosec // escaped
	tmpl := template.Must(template.New("day").Funcs(template.FuncMap{"md": md}).Parse(dayTemplate))
	var days []Day
	month, err := Build(fixtureMonth())
	if err != nil {
		t.Fatal(err)
	}
	days = append(days, month.Days...)
	year, err := Gather(context.Background(), yearOf(300).unkept(), Params{From: "2026-01-01", To: "2026-12-31", AlsoTZ: "Pacific/Auckland"}, "Acme", la, time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	days = append(days, year.Days...)
	nasty := []string{"", "plain", `<script>alert("x")</script>`, "a'b\"c&d+e<f>g", "nul\x00byte", "bad \xff\xfe utf-8", "nonchar \ufdd0 \uffff", "é — “quoted” ☑", "&amp; &lt;already&gt;", "line\nbreak\ttab"}
	urls := []string{"", "https://status.example.com/x?a=1&b='2'+(3)#frag", "HTTP://EXAMPLE.COM/A B", "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
		"mailto:ops@example.com", "data:text/html,<script>", "/relative/path:with:colons", "?q=1:2", "https://x.example/%41%zz%4", "https://x.example/\x00\xff\"<>`{}|\\^", "vbscript:x", "https:"}
	var ins []Incident
	for i, s := range nasty {
		o := nasty[(i+3)%len(nasty)]
		in := Incident{Name: s, Severity: o, ImpactWords: s, Start: o, End: s, Duration: o, Detect: s, Ack: o, Resolve: s, Hidden: o,
			Components: []string{s, o}, Recurring: nasty[(i+5)%len(nasty)], RootCause: s, Contributing: o, Fix: s, Draft: i%2 == 0,
			Entries: []Entry{{Time: s, Status: o, Body: s}, {Time: o, Body: o}},
			Actions: []upstate.ActionItem{{Text: s, Owner: o, State: "done"}, {Text: o, State: "open"}, {Text: s, Owner: s, State: o}}}
		if i%3 == 0 {
			in.Ack = "n/a"
		}
		ins = append(ins, in)
	}
	for i, u := range urls {
		for j, title := range []string{"", nasty[i%len(nasty)]} {
			ins = append(ins, Incident{Name: u, Upstream: &Link{Provider: nasty[(i+j)%len(nasty)], Title: title, URL: u}, Entries: []Entry{}, Components: []string{}})
		}
	}
	days = append(days, Day{Date: "<b>Tuesday</b> & 'more'", Incidents: ins}, Day{Date: "no incidents"})
	for i := range days {
		var want, got bytes.Buffer
		if err := tmpl.ExecuteTemplate(&want, "day", days[i]); err != nil {
			t.Fatal(err)
		}
		writeDay(&got, &days[i], md)
		if want.String() != got.String() {
			w, g := want.String(), got.String()
			n := 0
			for n < min(len(w), len(g)) && w[n] == g[n] {
				n++
			}
			t.Fatalf("day %d (%s) differs from the template at byte %d:\nwant …%q\ngot  …%q", i, days[i].Date, n, w[max(n-80, 0):min(n+80, len(w))], g[max(n-80, 0):min(n+80, len(g))])
		}
	}
	if !strings.Contains(dayTemplate, "{{md .Body}}") {
		t.Fatal("the reference template lost its bodies")
	}
}

// The html format takes the HTML the store kept for a body, when it is of
// the words the report tells: a year written from the kept HTML is the
// year rendered body by body, byte for byte; a body the report trims (so
// the kept HTML is of other words) is rendered, and every other is not.
func TestKeptHTMLAsRendered(t *testing.T) {
	md := markdown.New()
	now := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	p := Params{From: "2026-01-01", To: "2026-12-31", AlsoTZ: "Pacific/Auckland"}
	page := func(src Source, md Renderer) string {
		r, err := Gather(context.Background(), src, p, "Acme", la, now)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := Write(&b, r, "html", md); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	year := yearOf(300)
	if kept, rendered := page(year, md), page(year.unkept(), md); kept != rendered {
		t.Fatalf("the page from kept HTML (%d bytes) is not the page rendered (%d bytes)", len(kept), len(rendered))
	}

	year = yearOf(3)
	in := year.ins[0]
	pm := upstate.PostmortemDoc{IncidentID: in.ID, Status: upstate.PostmortemPublished, RootCause: "cause", RootCauseHTML: "<p>kept cause</p>",
		Fix: "  indented fix", FixHTML: "<p>kept fix of other words</p>"}
	year.pms = map[string]upstate.PostmortemDoc{in.ID: pm}
	for j := range in.Updates {
		in.Updates[j].Public = true
		in.Updates[j].BodyHTML = fmt.Sprintf("<p>kept %d</p>", j)
	}
	in.Updates[1].Body = "\n" + in.Updates[1].Body + "  "
	var asked []string
	got := page(year, RenderFunc(func(s string) template.HTML {
		asked = append(asked, s)
		return template.HTML("<p>rendered " + html.EscapeString(s) + "</p>") //nolint:gosec // escaped
	}))
	for j := range in.Updates {
		if on := strings.Contains(got, fmt.Sprintf("<p>kept %d</p>", j)); on != (j != 1) {
			t.Errorf("entry %d: kept HTML on the page = %v, want %v", j, on, j != 1)
		}
	}
	if !strings.Contains(got, "<p>kept cause</p>") || strings.Contains(got, "kept fix of other words") || !strings.Contains(got, "<p>rendered indented fix</p>") {
		t.Errorf("the postmortem's parts: kept cause %v, kept fix %v, fix rendered %v", strings.Contains(got, "<p>kept cause</p>"),
			strings.Contains(got, "kept fix of other words"), strings.Contains(got, "<p>rendered indented fix</p>"))
	}
	want := []string{strings.TrimSpace(in.Updates[1].Body), "indented fix"}
	if !slices.Equal(asked, want) {
		t.Errorf("rendered %q; want only %q", asked, want)
	}
}
