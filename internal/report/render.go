package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/upstatehq/upstate"
)

// Formats are the report formats.
func Formats() []string { return []string{"md", "html", "json"} }

// ContentType is a format's media type, or an error naming the formats
// when it is none of them: asked before Write, so a caller can refuse a
// bad format before it writes anything.
func ContentType(format string) (string, error) {
	switch format {
	case "md", "":
		return "text/markdown; charset=utf-8", nil
	case "html":
		return "text/html; charset=utf-8", nil
	case "json":
		return "application/json; charset=utf-8", nil
	}
	return "", upstate.Errorf(upstate.EINVALID, "format %q is not one of md, html, json", format)
}

// Write writes the report in a format to w: md, html (print-ready) or
// json. It streams: what it holds at once is the report and a day or so
// of output, never the whole body (a year of 64 incidents a day is 20 to
// 50 MB in each format, issue 16). md renders Markdown bodies for the HTML
// format, from several goroutines at once; the other formats need none.
// An error from w stops it; what was written stays written.
func Write(w io.Writer, r *Report, format string, md Renderer) error {
	if _, err := ContentType(format); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch format {
	case "md", "":
		writeMarkdown(bw, r)
	case "html":
		err = writeHTML(bw, r, md)
	case "json":
		err = writeJSON(bw, r)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// Render is the report in a format as one body, with its content type:
// Write into memory, for tests and callers that want the bytes.
func Render(r *Report, format string, md Renderer) (body []byte, contentType string, err error) {
	ct, err := ContentType(format)
	if err != nil {
		return nil, "", err
	}
	var b bytes.Buffer
	if err := Write(&b, r, format, md); err != nil {
		return nil, "", err
	}
	return b.Bytes(), ct, nil
}

// writeJSON writes the report as json.MarshalIndent(r, "", "  ") would,
// and a newline, without holding it: the report without its days,
// providers' incidents and recurring kinds is encoded whole (it is small),
// and each of those arrays is written into its place an element at a
// time, each indented as it would be at that depth. MarshalIndent held
// the compact encoding and its indented copy at once (50 MB each for a
// year of 23,360 incidents).
func writeJSON(w *bufio.Writer, r *Report) error {
	top := *r
	arrays := []struct {
		key string // as the key is written at the top level, before its elements
		n   int
		enc func(e *json.Encoder, i int) error
	}{
		{"\n  \"days\": [", len(r.Days), func(e *json.Encoder, i int) error { return e.Encode(&r.Days[i]) }},
		{"\n  \"upstream\": [", len(r.Upstream), func(e *json.Encoder, i int) error { return e.Encode(&r.Upstream[i]) }},
		{"\n  \"recurring\": [", len(r.Recurring), func(e *json.Encoder, i int) error { return e.Encode(&r.Recurring[i]) }},
	}
	// An array with elements is left empty ("[]") in the skeleton, and its
	// elements written between the brackets; an empty or nil one is left
	// as MarshalIndent writes it.
	if len(r.Days) > 0 {
		top.Days = []Day{}
	}
	if len(r.Upstream) > 0 {
		top.Upstream = []UpstreamGroup{}
	}
	if len(r.Recurring) > 0 {
		top.Recurring = []Recurring{}
	}
	rest, err := json.MarshalIndent(&top, "", "  ")
	if err != nil {
		return err
	}
	var elem bytes.Buffer
	e := json.NewEncoder(&elem)
	e.SetIndent("    ", "  ")
	for _, a := range arrays {
		if a.n == 0 {
			continue
		}
		// Keys at the top level are the only ones two spaces in, and a
		// string never holds a newline or a bare quote: the key is found
		// once, where it is.
		at := bytes.Index(rest, []byte(a.key+"]"))
		if at < 0 {
			return fmt.Errorf("report json: no %s in the skeleton", a.key)
		}
		at += len(a.key)
		if _, err := w.Write(rest[:at]); err != nil {
			return err
		}
		rest = rest[at:]
		for i := range a.n {
			elem.Reset()
			if err := a.enc(e, i); err != nil {
				return err
			}
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString("\n    ")
			if _, err := w.Write(bytes.TrimSuffix(elem.Bytes(), []byte("\n"))); err != nil {
				return err
			}
		}
		w.WriteString("\n  ")
	}
	w.Write(rest)
	_, err = w.WriteString("\n")
	return err
}

// Markdown renders the report as Markdown. Names, titles and links are
// escaped (text, never markup); bodies are the Markdown people wrote,
// with raw HTML kept as text.
func Markdown(r *Report) []byte {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	writeMarkdown(w, r)
	_ = w.Flush() // a bytes.Buffer does not fail
	return b.Bytes()
}

func writeMarkdown(b *bufio.Writer, r *Report) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
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
