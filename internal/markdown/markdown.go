// Package markdown renders the Markdown people write in incident updates
// and postmortems into HTML that is safe to show anywhere: goldmark
// (CommonMark with GitHub's tables, strikethrough and autolinks, raw HTML
// left out) and then bluemonday's user-content policy as a second guard,
// so no script, event handler or javascript: link survives.
package markdown

import (
	"bufio"
	"bytes"
	"html/template"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// Renderer turns Markdown into sanitised HTML. It is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	// buffers are goldmark's buffered writers and what they write into,
	// kept between bodies: goldmark makes a 4 KiB writer for every body
	// it is not handed one for, which was a quarter of what a year's
	// printed report allocated (issue 16).
	buffers sync.Pool
}

// New returns a renderer.
func New() *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify, extension.TaskList),
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.RequireNoReferrerOnFullyQualifiedLinks(true)
	r := &Renderer{md: md, policy: p}
	r.buffers.New = func() any {
		b := new(bytes.Buffer)
		return &buffered{b: b, w: bufio.NewWriter(b)}
	}
	return r
}

type buffered struct {
	b *bytes.Buffer
	w *bufio.Writer
	// doc and html are HTMLs' bodies as one document and its HTML.
	doc, html bytes.Buffer
}

// HTML renders src as sanitised HTML.
func (r *Renderer) HTML(src string) template.HTML {
	buf := r.buffers.Get().(*buffered)
	defer func() {
		if buf.b.Cap() <= 64<<10 { // a long postmortem's buffer is not kept
			r.buffers.Put(buf)
		}
	}()
	buf.b.Reset()
	buf.w.Reset(buf.b)
	if err := r.md.Convert([]byte(src), buf.w); err != nil {
		// goldmark does not fail on text; if it ever does, show the text.
		return template.HTML(template.HTMLEscapeString(src)) //nolint:gosec // escaped
	}
	// A string of its own: the buffer goes back to the pool.
	return template.HTML(r.policy.SanitizeBytes(buf.b.Bytes())) //nolint:gosec // sanitised by the UGC policy
}

// wbr joins bodies sanitised together: an element the policy keeps as it
// is and goldmark never writes (raw HTML is left out, so a "<wbr>" people
// type is the text "&lt;wbr&gt;").
var wbr = []byte("<wbr>")

// HTMLs renders each of srcs as HTML does, in one goldmark document and
// one sanitiser pass (a year's printed report renders 117,000 bodies).
//
// goldmark makes a parse context, a reader and a document for every
// Convert, which was a third of what it allocated for a year's bodies, so
// the bodies go to it as one document, each after a paragraph of
// bodyBreak, and its HTML is cut at those paragraphs. A body is a block of
// its own there (blank lines before and after it), and what goldmark reads
// across blocks is only link reference definitions, so a body with one
// ("]:"), one that could write the break's text (its U+2063, or a
// character reference) and one starting with a byte order mark are
// rendered alone; should a body leave something open that
// swallows the next (a fence, a comment, a raw-text element), the cut does
// not give one piece per body and each is rendered alone.
//
// bluemonday makes a tokenizer with a 4 KiB buffer for every call, which
// was half of what a year's printed report allocated (issue 16). What
// goldmark writes of each body is whole HTML of its own elements, none of
// which changes how the sanitiser or its tokenizer read what follows (no
// script, style or other raw-text element, no tag left open by a body's
// end), so each is sanitised as it would be alone; they are joined by
// <wbr> and the sanitised whole split there. Should that not give one
// piece per source, or goldmark fail on one, each is rendered alone.
func (r *Renderer) HTMLs(srcs []string) []template.HTML {
	out := make([]template.HTML, len(srcs))
	if len(srcs) == 0 {
		return out
	}
	buf := r.buffers.Get().(*buffered)
	defer func() {
		if buf.b.Cap() <= 1<<20 && buf.doc.Cap() <= 1<<20 && buf.html.Cap() <= 1<<20 {
			r.buffers.Put(buf)
		}
	}()
	buf.b.Reset()
	buf.w.Reset(buf.b)
	pieces := r.together(srcs, buf)
	for i, src := range srcs {
		if i > 0 {
			_, _ = buf.w.Write(wbr)
		}
		if pieces != nil && !apart(src) {
			_, _ = buf.w.Write(pieces[i])
			continue
		}
		if err := r.md.Convert([]byte(src), buf.w); err != nil {
			return r.each(srcs, out)
		}
	}
	if err := buf.w.Flush(); err != nil || bytes.Count(buf.b.Bytes(), wbr) != len(srcs)-1 {
		return r.each(srcs, out)
	}
	clean := r.policy.SanitizeBytes(buf.b.Bytes())
	if bytes.Count(clean, wbr) != len(srcs)-1 {
		return r.each(srcs, out)
	}
	for i := range out {
		piece, rest, _ := bytes.Cut(clean, wbr)
		out[i], clean = template.HTML(piece), rest //nolint:gosec // sanitised by the UGC policy
	}
	return out
}

// bodyBreak is the paragraph HTMLs puts between bodies it gives goldmark
// as one document, and breakHTML what goldmark makes of it.
const bodyBreak = "upstate\u2063body\u2063break"

var breakHTML = []byte("<p>" + bodyBreak + "</p>\n")

// apart reports whether src is rendered alone, not in one goldmark
// document with others: goldmark would read its link reference
// definitions ("]:") across bodies; a byte order mark is read only at a
// document's start; and no body may write the break's paragraph, which
// needs its U+2063, written as itself or as a character reference ("&"):
// beside a body that swallows a break, the count of breaks would come out
// right and the cut wrong.
func apart(src string) bool {
	return strings.Contains(src, "]:") || strings.ContainsAny(src, "&\u2063") || strings.HasPrefix(src, "\uFEFF")
}

// together renders the srcs that are not apart in one goldmark document:
// the HTML of each, slices of buf.html (none for those apart); nil when
// fewer than two can share it or it does not cut into one piece each.
func (r *Renderer) together(srcs []string, buf *buffered) [][]byte {
	buf.doc.Reset()
	n := 0
	for _, src := range srcs {
		if apart(src) {
			continue
		}
		if n > 0 {
			buf.doc.WriteString("\n\n" + bodyBreak + "\n\n")
		}
		buf.doc.WriteString(src)
		n++
	}
	if n < 2 {
		return nil
	}
	buf.html.Reset()
	if err := r.md.Convert(buf.doc.Bytes(), &buf.html); err != nil || bytes.Count(buf.html.Bytes(), breakHTML) != n-1 {
		return nil
	}
	out := make([][]byte, len(srcs))
	rest := buf.html.Bytes()
	for i, src := range srcs {
		if !apart(src) {
			out[i], rest, _ = bytes.Cut(rest, breakHTML)
		}
	}
	return out
}

// each renders srcs one at a time.
func (r *Renderer) each(srcs []string, out []template.HTML) []template.HTML {
	for i, src := range srcs {
		out[i] = r.HTML(src)
	}
	return out
}
