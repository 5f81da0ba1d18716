package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"

	"github.com/upstatehq/upstate"
)

//go:embed report.html
var htmlTemplate string

// Formats are the report formats.
func Formats() []string { return []string{"md", "html", "json"} }

// Render writes the report in a format: md, html (print-ready) or json.
// md renders Markdown bodies for the HTML format.
func Render(r *Report, format string, md func(string) template.HTML) (body []byte, contentType string, err error) {
	switch format {
	case "md", "":
		return Markdown(r), "text/markdown; charset=utf-8", nil
	case "html":
		b, err := HTML(r, md)
		return b, "text/html; charset=utf-8", err
	case "json":
		b, err := json.MarshalIndent(r, "", "  ")
		return append(b, '\n'), "application/json; charset=utf-8", err
	}
	return nil, "", upstate.Errorf(upstate.EINVALID, "format %q is not one of md, html, json", format)
}

// Markdown renders the report as Markdown.
func Markdown(r *Report) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# %s\n\n", r.Title)
	p("%s. All times %s", r.Period, r.TimeZone)
	if r.AlsoZone != "" {
		p(", with %s in parentheses", r.AlsoZone)
	}
	p(".\n\n## Summary\n\n")
	p("- Incidents: %d", r.Summary.Incidents)
	if r.Summary.UpstreamCount > 0 {
		var ps []string
		for _, g := range r.Upstream {
			ps = append(ps, g.Provider)
		}
		p(", of which %d upstream (%s)", r.Summary.UpstreamCount, strings.Join(ps, ", "))
	}
	p("\n- User-facing downtime (partial or major outage, all components): %s\n", r.Summary.Downtime)
	p("- Mean time to detect: %s; to acknowledge: %s; to resolve: %s\n", r.Summary.MeanDetect, r.Summary.MeanAck, r.Summary.MeanResolve)
	if r.Summary.WorstUptimeOf != "" {
		p("- Lowest uptime: %s (%s)\n", r.Summary.WorstUptime, r.Summary.WorstUptimeOf)
	}
	p("\n| Component | Downtime | Uptime |\n| --- | --- | --- |\n")
	for _, c := range r.Components {
		p("| %s | %s | %s |\n", cell(c.Name), c.Downtime, c.Uptime)
	}
	p("\n## Downtime timeline\n")
	if len(r.Days) == 0 {
		p("\n%s\n", r.NoneByDay())
	}
	for _, d := range r.Days {
		p("\n### %s\n", d.Date)
		for _, in := range d.Incidents {
			p("\n#### %s\n\n", in.Name)
			p("- Impact: %s; components: %s\n", in.Impact, strings.Join(in.Components, ", "))
			if in.Reach != "" {
				p("- Scope: %s\n", indent(in.Reach))
			}
			if in.Hidden != "" {
				p("- Hidden from the public page: %s\n", indent(in.Hidden))
			}
			p("- From %s to %s (%s)\n", in.Start, in.End, in.Duration)
			p("- Time to detect: %s; to acknowledge: %s; to resolve: %s\n", in.Detect, in.Ack, in.Resolve)
			p("\n**Time and description**\n\n")
			for _, e := range in.Entries {
				p("- %s — **%s**: %s\n", e.Time, e.Status, indent(e.Body))
			}
			p("\n**Root cause analysis**: %s\n", indent(in.RootCause))
			if in.Contributing != "" {
				p("\n**Contributing factors**: %s\n", indent(in.Contributing))
			}
			p("\n**Fix and prevention**: %s\n", indent(in.Fix))
			for _, a := range in.Actions {
				p("- [%s] %s (%s)\n", map[bool]string{true: "x", false: " "}[a.State == "done"], indent(a.Text), a.Owner)
			}
		}
	}
	if len(r.Upstream) > 0 {
		p("\n## Upstream incidents\n")
		for _, g := range r.Upstream {
			p("\n### %s — %d %s, %s in all\n\nTheir status page: <%s>\n\n| Incident | Started | Ended | Duration |\n| --- | --- | --- | --- |\n",
				g.Provider, g.Count, plural(g.Count, "incident"), g.Total, g.URL)
			for _, o := range g.Occurrences {
				name := cell(o.Name)
				if o.Title != "" {
					name += fmt.Sprintf(" (%s: [%s](%s))", cell(g.Provider), cell(o.Title), o.URL)
				}
				p("| %s | %s | %s | %s |\n", indent(name), o.Start, o.End, o.Duration)
			}
		}
	}
	if len(r.Recurring) > 0 {
		p("\n## Recurring incidents\n")
		for _, g := range r.Recurring {
			p("\n### %s — %d times, %s in all\n\n| Started | Ended | Duration |\n| --- | --- | --- |\n", g.Name, g.Count, g.Total)
			for _, o := range g.Occurrences {
				p("| %s | %s | %s |\n", o.Start, o.End, o.Duration)
			}
		}
	}
	return b.Bytes()
}

// NoneByDay says why the day-by-day timeline is empty.
func (r *Report) NoneByDay() string {
	switch {
	case len(r.Upstream) > 0 && len(r.Recurring) > 0:
		return "No incidents outside the upstream and recurring ones below."
	case len(r.Upstream) > 0:
		return "No incidents outside the upstream ones below."
	case len(r.Recurring) > 0:
		return "No incidents outside the recurring ones below."
	}
	return "No incidents."
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// indent fits a Markdown body into a list item; "<" is written as an
// entity so raw HTML in a body stays text wherever the report is rendered.
func indent(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "<", "&lt;"), "\n", "\n  ")
}

// HTML renders the report as a print-ready page.
func HTML(r *Report, md func(string) template.HTML) ([]byte, error) {
	t, err := template.New("report").Funcs(template.FuncMap{"md": md}).Parse(htmlTemplate)
	if err != nil {
		return nil, fmt.Errorf("report template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return b.Bytes(), nil
}
