package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/upstatehq/upstate"
)

//go:embed report.html
var htmlTemplate string

// Formats are the report formats.
func Formats() []string { return []string{"md", "html", "json"} }

// Render writes the report in a format: md, html (print-ready) or json.
// md renders Markdown bodies for the HTML format, from several goroutines
// at once (markdown.Renderer.HTML is safe for that).
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

// Markdown renders the report as Markdown. Names, titles and links are
// escaped (text, never markup); bodies are the Markdown people wrote,
// with raw HTML kept as text.
func Markdown(r *Report) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# %s\n\n", text(r.Title))
	p("%s. All times %s", r.Period, r.TimeZone)
	if r.AlsoZone != "" {
		p(", with %s in parentheses", r.AlsoZone)
	}
	p(".\n")
	if r.Intro != "" {
		p("\n%s\n", body(r.Intro))
	}
	p("\n## Summary\n\n")
	p("- Incidents: %d", r.Summary.Incidents)
	if r.Summary.UpstreamCount > 0 {
		var ps []string
		for _, g := range r.Upstream {
			ps = append(ps, text(g.Provider))
		}
		p(", of which %d caused by a provider (%s)", r.Summary.UpstreamCount, strings.Join(ps, ", "))
	}
	p("\n- User-facing downtime (any part of the service in partial or major outage, overlaps counted once): %s\n", r.Summary.Downtime)
	p("- Mean time to detect: %s; to acknowledge: %s; to resolve: %s\n", r.Summary.MeanDetect, r.Summary.MeanAck, r.Summary.MeanResolve)
	if r.Summary.WorstUptimeOf != "" {
		p("- Lowest uptime: %s (%s)\n", r.Summary.WorstUptime, text(r.Summary.WorstUptimeOf))
	}
	p("\n| Component | Downtime | Uptime |\n| --- | --- | --- |\n")
	for _, c := range r.Components {
		p("| %s | %s | %s |\n", text(c.Name), c.Downtime, c.Uptime)
	}
	p("\n## What happened, day by day\n")
	if len(r.Days) == 0 {
		p("\nNo incidents.\n")
	}
	for _, d := range r.Days {
		p("\n### %s\n", d.Date)
		for _, in := range d.Incidents {
			p("\n#### %s\n\n", text(in.Name))
			p("%s. %s to %s (%s). Components: %s.\n", text(in.ImpactWords), in.Start, in.End, in.Duration, text(strings.Join(in.Components, ", ")))
			if u := in.Upstream; u != nil {
				p("\nCaused by %s", text(u.Provider))
				if u.Title != "" {
					p("'s incident %s", link("“"+u.Title+"”", u.URL))
				} else if u.URL != "" {
					p(" (%s)", link("their status page", u.URL))
				}
				p(".\n")
			}
			if in.Hidden != "" {
				p("\nHidden from the public page: %s.\n", text(in.Hidden))
			}
			p("\nDetected after %s, %s, resolved after %s.\n\n", in.Detect, in.AckWords(), in.Resolve)
			for _, e := range in.Entries {
				status := ""
				if e.Status != "" {
					status = "**" + e.Status + "**: "
				}
				p("- %s — %s%s\n", e.Time, status, indent(e.Body))
			}
			if in.Recurring != "" {
				p("\nOne of a recurring kind: see “%s” under Recurring incidents.\n", text(in.Recurring))
				continue
			}
			if in.RootCause != "" {
				p("\n**Root cause%s**: %s\n", draft(in.Draft), indent(in.RootCause))
			}
			if in.Contributing != "" {
				p("\n**Contributing factors**: %s\n", indent(in.Contributing))
			}
			if in.Fix != "" {
				p("\n**Fix and prevention**: %s\n", indent(in.Fix))
			}
			if len(in.Actions) > 0 {
				p("\n")
			}
			for _, a := range in.Actions {
				box := " "
				if a.State == "done" {
					box = "x"
				}
				p("- [%s] %s", box, indent(a.Text))
				if a.Owner != "" {
					p(" (%s)", text(a.Owner))
				}
				p("\n")
			}
		}
	}
	if len(r.Upstream) > 0 {
		p("\n## Incidents caused by providers\n")
		for _, g := range r.Upstream {
			p("\n### %s — %d %s, %s in all\n\n", text(g.Provider), g.Count, plural(g.Count, "incident"), g.Total)
			if g.URL != "" {
				p("Their status page: %s\n\n", link(g.URL, g.URL))
			}
			p("| Incident | Started | Ended | Duration |\n| --- | --- | --- | --- |\n")
			for _, o := range g.Occurrences {
				name := text(o.Name)
				if o.Title != "" {
					name += " (" + text(g.Provider) + ": " + link(o.Title, o.URL) + ")"
				}
				p("| %s | %s | %s | %s |\n", name, o.Start, o.End, o.Duration)
			}
		}
	}
	if len(r.Recurring) > 0 {
		p("\n## Recurring incidents\n")
		for _, g := range r.Recurring {
			p("\n### %s — %d times, %s in all\n\n| Started | Ended | Duration |\n| --- | --- | --- |\n", text(g.Name), g.Count, g.Total)
			for _, o := range g.Occurrences {
				p("| %s | %s | %s |\n", o.Start, o.End, o.Duration)
			}
			if g.RootCause != "" {
				p("\n**Root cause**: %s\n", indent(g.RootCause))
			}
			if g.Fix != "" {
				p("\n**Fix and prevention**: %s\n", indent(g.Fix))
			}
		}
	}
	if r.Closing != "" {
		p("\n---\n\n%s\n", body(r.Closing))
	}
	return b.Bytes()
}

// AckWords says when a person took the incident on, or that no one did.
func (in Incident) AckWords() string {
	if in.Ack == "n/a" {
		return "no one acknowledged it"
	}
	return "acknowledged after " + in.Ack
}

func draft(d bool) string {
	if d {
		return " (draft)"
	}
	return ""
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// text writes words as Markdown text: every character Markdown or HTML
// could read as markup is escaped, and a line break is a space, so a
// name can never become a link, a heading, a table cell or a tag.
func text(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '#', '|', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// link is a Markdown link to an http(s) URL, or the words alone when the
// URL is anything else (a javascript: link never reaches a reader).
func link(words, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return text(words)
	}
	dest := strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20", "\\", "%5C").Replace(u.String())
	return "[" + text(words) + "](" + dest + ")"
}

// body is a Markdown body people wrote, kept as Markdown, with "<" as an
// entity so raw HTML in it stays text wherever the report is rendered.
func body(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "<", "&lt;") }

// indent fits a Markdown body into a list item.
func indent(s string) string { return strings.ReplaceAll(body(s), "\n", "\n  ") }

// HTML renders the report as a print-ready page; md must be safe for
// concurrent use. Each day's section is rendered on its own, on every
// core, and set in its place: a year's page spent half its time turning
// Markdown into HTML and most of the rest in the template, day after day.
// Each distinct body is rendered once (a recurring kind's root cause and
// fix, and the words Upstate writes itself, "Every check has passed for 2
// minutes.", come back hundreds of times in a year).
func HTML(r *Report, md func(string) template.HTML) ([]byte, error) {
	var mu sync.Mutex
	done := map[string]template.HTML{}
	once := func(s string) template.HTML {
		mu.Lock()
		h, ok := done[s]
		mu.Unlock()
		if !ok {
			h = md(s)
			mu.Lock()
			done[s] = h
			mu.Unlock()
		}
		return h
	}
	days := make([]template.HTML, len(r.Days))
	t, err := template.New("report").Funcs(template.FuncMap{"md": once, "dayHTML": func(i int) template.HTML { return days[i] }}).Parse(htmlTemplate)
	if err != nil {
		return nil, fmt.Errorf("report template: %w", err)
	}
	errs := make([]error, len(r.Days))
	size := 0
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(r.Days)) {
		wg.Go(func() {
			var b bytes.Buffer
			for i := int(next.Add(1)) - 1; i < len(r.Days); i = int(next.Add(1)) - 1 {
				b.Reset()
				errs[i] = t.ExecuteTemplate(&b, "day", r.Days[i])
				days[i] = template.HTML(b.String()) //nolint:gosec // the template's own output, escaped by it
			}
		})
	}
	wg.Wait()
	for _, d := range days {
		size += len(d)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	var b bytes.Buffer
	b.Grow(size + 64<<10)
	if err := t.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return b.Bytes(), nil
}
