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

// HTMLs renders each of srcs as HTML does, sanitising them in one pass:
// bluemonday makes a tokenizer with a 4 KiB buffer for every call, which
// was half of what a year's printed report allocated (issue 16). What
// goldmark writes of each is whole HTML of its own elements, none of
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
		if buf.b.Cap() <= 1<<20 {
			r.buffers.Put(buf)
		}
	}()
	buf.b.Reset()
	buf.w.Reset(buf.b)
	for i, src := range srcs {
		if i > 0 {
			_, _ = buf.w.Write(wbr)
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

// each renders srcs one at a time.
func (r *Renderer) each(srcs []string, out []template.HTML) []template.HTML {
	for i, src := range srcs {
		out[i] = r.HTML(src)
	}
	return out
}
