package report

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/upstatehq/upstate/internal/markdown"
)

//go:embed report.html
var htmlTemplate string

// HTML renders the report as a print-ready page; md must be safe for
// concurrent use.
func HTML(r *Report, md Renderer) ([]byte, error) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := writeHTML(w, r, md); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeHTML writes the print-ready page: the page's head and summary from
// the template, then the days, then the rest of the template (providers'
// incidents, recurring kinds, the closing words).
//
// The days are most of a year's page (64 incidents a day, each with its
// entries) and are written by writeDay, by hand, not by the template:
// html/template's reflection and escaping of some 800,000 fields was 0.4
// s of a year's 1 s (issue 16). writeDay writes what the template did,
// byte for byte, escaping every field as html/template escapes it where it
// stands (text and quoted attributes: escapeText; a link: escapeURL);
// TestDaysAsTheTemplateWroteThem holds the two together.
//
// Each day's section is written on its own, on every core (most of its
// time is Markdown turned into HTML), and the sections are written out in
// order as they are done, a few cores' worth ahead at most, so the page
// is never held whole.
func writeHTML(w *bufio.Writer, r *Report, md Renderer) error {
	b := newBodies(r.Days, md)
	t, err := template.New("report").Funcs(template.FuncMap{"md": b.one}).Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("report template: %w", err)
	}
	if err := t.Execute(w, r); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if err := writeDays(w, r.Days, b); err != nil {
		return err
	}
	if err := t.ExecuteTemplate(w, "tail", r); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// Renderer turns the Markdown people wrote into safe HTML, for the html
// format, from several goroutines at once. *markdown.Renderer is one (and
// renders a day's bodies together, more cheaply); RenderFunc makes one of
// a function.
type Renderer interface {
	HTML(src string) template.HTML
}

// RenderFunc is a function as a Renderer.
type RenderFunc func(string) template.HTML

// HTML is f(src).
func (f RenderFunc) HTML(src string) template.HTML { return f(src) }

// manyRenderer renders many bodies at once, each as HTML would alone
// (markdown.Renderer.HTMLs).
type manyRenderer interface {
	HTMLs(srcs []string) []template.HTML
}

// bodies renders the page's Markdown: a body the days tell more than once
// is rendered once and kept (a recurring kind's root cause and fix, and
// the words Upstate writes itself, "Every check has passed for 2
// minutes.", come back hundreds of times in a year), any other rendered
// where it is written and not kept: keeping every body's HTML until the
// page was done was some 20 MB of a year's heap. A day's bodies are
// rendered together where the renderer can. It is safe for concurrent use.
type bodies struct {
	md   Renderer
	many manyRenderer // md, if it renders many at once; else nil
	mu   sync.Mutex
	kept map[string]template.HTML // told more than once: "" until rendered
}

func newBodies(days []Day, md Renderer) *bodies {
	seen := map[string]bool{} // body: told more than once
	for i := range days {
		dayBodies(&days[i], func(s string) {
			_, again := seen[s]
			seen[s] = again
		})
	}
	b := &bodies{md: md, kept: map[string]template.HTML{}}
	b.many, _ = md.(manyRenderer)
	for s, again := range seen {
		if again {
			b.kept[s] = ""
		}
	}
	return b
}

// one renders a body.
func (b *bodies) one(s string) template.HTML {
	b.mu.Lock()
	h, keep := b.kept[s]
	b.mu.Unlock()
	if h != "" {
		return h
	}
	h = b.md.HTML(s)
	if keep {
		b.mu.Lock()
		b.kept[s] = h
		b.mu.Unlock()
	}
	return h
}

// day renders a day's bodies (those not kept already) together, and
// returns what writeDay asks for them with: each in the order dayBodies
// tells them, and any it did not foresee rendered alone.
func (b *bodies) day(d *Day) func(string) template.HTML {
	if b.many == nil {
		return b.one
	}
	var srcs []string
	var html []template.HTML
	var todo []int // indexes in srcs of those to render
	b.mu.Lock()
	dayBodies(d, func(s string) {
		if h := b.kept[s]; h == "" {
			todo = append(todo, len(srcs))
		}
		srcs = append(srcs, s)
	})
	for _, s := range srcs {
		html = append(html, b.kept[s])
	}
	b.mu.Unlock()
	if len(todo) > 0 {
		need := make([]string, len(todo))
		for i, j := range todo {
			need[i] = srcs[j]
		}
		got := b.many.HTMLs(need)
		b.mu.Lock()
		for i, j := range todo {
			html[j] = got[i]
			if _, keep := b.kept[srcs[j]]; keep {
				b.kept[srcs[j]] = got[i]
			}
		}
		b.mu.Unlock()
	}
	next := 0
	return func(s string) template.HTML {
		if next < len(srcs) && srcs[next] == s {
			next++
			return html[next-1]
		}
		return b.one(s)
	}
}

// dayBodies calls f with each body writeDay renders, in its order: those
// the store did not keep rendered (told).
func dayBodies(d *Day, f func(string)) {
	for i := range d.Incidents {
		in := &d.Incidents[i]
		for j := range in.Entries {
			if e := &in.Entries[j]; e.HTML == "" {
				f(e.Body)
			}
		}
		if in.Recurring != "" {
			continue
		}
		for _, p := range []struct {
			s string
			h template.HTML
		}{{in.RootCause, in.RootCauseHTML}, {in.Contributing, in.ContributingHTML}, {in.Fix, in.FixHTML}} {
			if p.s != "" && p.h == "" {
				f(p.s)
			}
		}
	}
}

// told is a body's HTML on the page: as the store kept it rendered, or
// rendered by md.
func told(md func(string) template.HTML, body string, kept template.HTML) template.HTML {
	return markdown.KeptOr(string(kept), md, body)
}

// writeDays writes each day's section in order, rendering them on every
// core: a worker takes the next day, renders it into a buffer of its own
// and hands it on; the days are written out in order, and no more than
// ahead days are rendered before the writer has taken the first of them.
func writeDays(w *bufio.Writer, days []Day, md *bodies) error {
	workers := min(runtime.GOMAXPROCS(0), len(days))
	if workers == 0 {
		return nil
	}
	type section struct {
		day  int
		b    *bytes.Buffer
		done chan struct{}
	}
	ahead := 4 * workers
	jobs := make(chan *section, ahead)
	order := make(chan *section, ahead)
	var stop atomic.Bool // the writer failed: render nothing more
	free := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	go func() {
		defer close(jobs)
		defer close(order)
		for i := range days {
			s := &section{day: i, done: make(chan struct{})}
			order <- s // waits while the writer is ahead days behind
			jobs <- s
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for s := range jobs {
				if !stop.Load() {
					s.b = free.Get().(*bytes.Buffer)
					s.b.Reset()
					writeDay(s.b, &days[s.day], md.day(&days[s.day]))
				}
				close(s.done)
			}
		})
	}
	var err error
	for s := range order {
		<-s.done
		if s.b == nil {
			continue
		}
		if err == nil {
			if _, err = w.Write(s.b.Bytes()); err != nil {
				stop.Store(true)
			}
		}
		if s.b.Cap() <= 1<<20 {
			free.Put(s.b)
		}
	}
	wg.Wait()
	return err
}

// writeDay writes a day's section as the template wrote it (the template
// is kept in TestDaysAsTheTemplateWroteThem): every field escaped as text,
// each link's address as html/template escapes a URL in an attribute, and
// bodies as the Markdown renderer's sanitised HTML.
func writeDay(b *bytes.Buffer, d *Day, md func(string) template.HTML) {
	b.WriteString("\n<section class=\"day\">\n<h3>")
	escapeText(b, d.Date)
	b.WriteString("</h3>\n")
	for i := range d.Incidents {
		in := &d.Incidents[i]
		b.WriteString("\n<article class=\"incident ")
		escapeText(b, in.Severity)
		b.WriteString("\">\n  <header>\n  <h4>")
		escapeText(b, in.Name)
		b.WriteString("</h4>\n  <p class=\"impact\">")
		escapeText(b, in.ImpactWords)
		b.WriteString(".</p>\n  <p class=\"meta\">")
		escapeText(b, in.Start)
		b.WriteString(" to ")
		escapeText(b, in.End)
		b.WriteString(" (")
		escapeText(b, in.Duration)
		b.WriteString(") · ")
		for j, c := range in.Components {
			if j > 0 {
				b.WriteString(", ")
			}
			escapeText(b, c)
		}
		b.WriteString("<br>\n  Detected after ")
		escapeText(b, in.Detect)
		b.WriteString(", ")
		escapeText(b, in.AckWords())
		b.WriteString(", resolved after ")
		escapeText(b, in.Resolve)
		b.WriteString("</p>")
		if in.Hidden != "" {
			b.WriteString("\n  <p class=\"meta\"><span class=\"label\">Hidden from the public page:</span> ")
			escapeText(b, in.Hidden)
			b.WriteString("</p>")
		}
		b.WriteString("\n  ")
		if u := in.Upstream; u != nil {
			b.WriteString("<p>Caused by ")
			escapeText(b, u.Provider)
			switch {
			case u.Title != "" && u.URL != "":
				b.WriteString("'s incident <a href=\"")
				escapeURL(b, u.URL)
				b.WriteString("\">“")
				escapeText(b, u.Title)
				b.WriteString("”</a>")
			case u.Title != "":
				b.WriteString("'s incident “")
				escapeText(b, u.Title)
				b.WriteString("”")
			case u.URL != "":
				b.WriteString(" (<a href=\"")
				escapeURL(b, u.URL)
				b.WriteString("\">their status page</a>)")
			}
			b.WriteString(".</p>")
		}
		b.WriteString("\n  </header>\n  <table class=\"entries\">")
		for j := range in.Entries {
			e := &in.Entries[j]
			b.WriteString("<tr><td class=\"t\">")
			escapeText(b, e.Time)
			b.WriteString("</td><td>")
			if e.Status != "" {
				b.WriteString("<strong>")
				escapeText(b, e.Status)
				b.WriteString(":</strong> ")
			}
			b.WriteString(string(told(md, e.Body, e.HTML)))
			b.WriteString("</td></tr>")
		}
		b.WriteString("</table>\n  ")
		if in.Recurring != "" {
			b.WriteString("<p class=\"meta\">One of a recurring kind: see “")
			escapeText(b, in.Recurring)
			b.WriteString("” under Recurring incidents.</p>\n  ")
		} else {
			// A postmortem's part: its label (words of ours) and its body.
			part := func(label, body string, html template.HTML) {
				b.WriteString("\n  ")
				if body != "" {
					b.WriteString("<div class=\"pm\"><span class=\"label\">")
					b.WriteString(label)
					b.WriteString(":</span> ")
					b.WriteString(string(told(md, body, html)))
					b.WriteString("</div>")
				}
			}
			root := "Root cause"
			if in.Draft {
				root += " (draft)"
			}
			part(root, in.RootCause, in.RootCauseHTML)
			part("Contributing factors", in.Contributing, in.ContributingHTML)
			part("Fix and prevention", in.Fix, in.FixHTML)
			b.WriteString("\n  ")
			if len(in.Actions) > 0 {
				b.WriteString("<ul>")
				for _, a := range in.Actions {
					if a.State == "done" {
						b.WriteString("<li>☑ ")
					} else {
						b.WriteString("<li>☐ ")
					}
					escapeText(b, a.Text)
					if a.Owner != "" {
						b.WriteString(" (")
						escapeText(b, a.Owner)
						b.WriteString(")")
					}
					b.WriteString("</li>")
				}
				b.WriteString("</ul>")
			}
			b.WriteString("\n  ")
		}
		b.WriteString("\n</article>\n")
	}
	b.WriteString("\n</section>\n")
}

// escapeText writes s as html/template writes a string in text or in a
// quoted attribute (its htmlEscaper and attrEscaper, which agree on plain
// strings): NUL, quotes, '&', '+', '<' and '>' replaced, every other byte
// (invalid UTF-8 too) as it is.
func escapeText(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case 0:
			r = "\uFFFD"
		case '"':
			r = "&#34;"
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '+':
			r = "&#43;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// escapeURL writes s as html/template writes a string that is a whole
// href="…": a scheme other than http, https or mailto is "#ZgotmplZ"
// (its urlFilter), every byte outside RFC 3986's unreserved and reserved
// characters is percent-encoded, existing %XX escapes kept (its
// urlNormalizer), and the result escaped as an attribute.
func escapeURL(b *bytes.Buffer, s string) {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		s = "#ZgotmplZ"
	}
	var n strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		case strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0:
			continue
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		}
		n.WriteString(s[last:i])
		fmt.Fprintf(&n, "%%%02x", c)
		last = i + 1
	}
	if last > 0 {
		n.WriteString(s[last:])
		s = n.String()
	}
	escapeText(b, s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
