package markdown

import (
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"runtime/debug"
	"sync"

	"github.com/upstatehq/upstate"
)

// policyVersion counts changes to what New configures (goldmark's
// extensions and options, the sanitiser's policy): raise it with any
// such change, so HTML kept from an earlier renderer is made again.
const policyVersion = "1"

// probe is Markdown that touches each thing New configures: its
// rendering is part of Version, so a change in what the libraries make of
// it changes the version even where the build names no versions (a test
// binary, a build without module information).
const probe = "# T\n\n*a* **b** ~~c~~ `d` <b>raw</b> <script>x</script>\nline  \nbreak\n\n" +
	"- [x] task\n- item\n\n| h | i |\n| - | - |\n| 1 | 2 |\n\n" +
	"https://example.com/a [l](https://example.com/b) [r](/c) [j](javascript:x) ![i](https://example.com/i.png)\n\n" +
	"> q\n\n```go\ncode\n```\n\n1. one\n\n---\n"

// Version names what a Renderer writes: this package's configuration,
// the versions of goldmark, bluemonday and what bluemonday reads HTML and
// CSS with that the binary was built with (when its build says), and a
// digest of what they make of probe. HTML rendered by one version is what
// any renderer of the same version writes, so a store may keep a body's
// HTML with the version that made it and serve it to readers of that
// version (issue 16: a year's printed report then renders no Markdown); a
// different version renders again.
func Version() string { return version() }

var version = sync.OnceValue(func() string {
	sum := sha256.Sum256([]byte(New().HTML(probe)))
	v := "upstate-md/" + policyVersion + " " + hex.EncodeToString(sum[:8])
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			switch dep.Path {
			// goldmark and bluemonday, and what bluemonday reads HTML
			// and CSS with.
			case "github.com/yuin/goldmark", "github.com/microcosm-cc/bluemonday", "golang.org/x/net", "github.com/aymerick/douceur":
				at := dep.Version
				if dep.Replace != nil { // a fork or a local copy: its own version, or its sum
					at = dep.Replace.Path + "@" + dep.Replace.Version + dep.Replace.Sum
				}
				v += " " + dep.Path + "@" + at
			}
		}
	}
	return v
})

// KeptOr is a body's HTML: kept, when a store kept the body rendered by
// this version (TimelineEntry.BodyHTML, a PostmortemDoc's *HTML fields,
// set only at Version), else md's rendering of body.
func KeptOr(kept string, md func(string) template.HTML, body string) template.HTML {
	if kept != "" {
		return template.HTML(kept) //nolint:gosec // rendered and sanitised by this package when the store wrote it
	}
	return md(body)
}

// EntryHTML is an entry's body as HTML, by KeptOr: what templates show
// for a timeline entry.
func EntryHTML(md func(string) template.HTML) func(upstate.TimelineEntry) template.HTML {
	return func(e upstate.TimelineEntry) template.HTML { return KeptOr(e.BodyHTML, md, e.Body) }
}
