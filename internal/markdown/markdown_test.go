package markdown

import (
	"strings"
	"testing"
)

func TestRenders(t *testing.T) {
	r := New()
	got := string(r.HTML("**Identified**: the `submissions` table was locked.\n\n- killed the query\n- added a timeout\n\nSee https://status.example.com/x"))
	for _, want := range []string{"<strong>Identified</strong>", "<code>submissions</code>", "<li>killed the query</li>", `<a href="https://status.example.com/x" rel="nofollow noreferrer noopener" target="_blank">`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if got := string(r.HTML("line one\nline two")); !strings.Contains(got, "line one<br>") {
		t.Errorf("hard wraps: %s", got)
	}
}

// TestXSSCorpus feeds well-known payloads through the renderer: none may
// leave a script, an event handler, or a javascript:/data: URL.
func TestXSSCorpus(t *testing.T) {
	r := New()
	for _, p := range xssPayloads {
		out := strings.ToLower(string(r.HTML(p)))
		for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "onfocus", "ontoggle", "<iframe", "<object", "<form", "<meta", "<base", "<style", "data:text/html", "style="} {
			if strings.Contains(out, bad) {
				t.Errorf("payload %q left %q in %q", p, bad, out)
			}
		}
	}
}

// xssPayloads are well-known attacks on HTML sanitisers.
var xssPayloads = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`<svg onload=alert(1)>`,
	`<a href="javascript:alert(1)">click</a>`,
	`[click](javascript:alert(1))`,
	`[click](JaVaScRiPt:alert(1))`,
	`[click](  javascript:alert(1))`,
	"[click](java\tscript:alert(1))",
	`[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	`![x](javascript:alert(1))`,
	`<iframe src="https://evil.example"></iframe>`,
	`<div style="background:url(javascript:alert(1))">x</div>`,
	`<body onload=alert(1)>`,
	`<details open ontoggle=alert(1)>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<a href="&#106;avascript:alert(1)">x</a>`,
	`[x](&#106;avascript:alert(1))`,
	`<object data="javascript:alert(1)">`,
	`<form action="javascript:alert(1)"><button>x</button></form>`,
	"<scr<script>ipt>alert(1)</script>",
	`"><script>alert(1)</script>`,
	`<input autofocus onfocus=alert(1)>`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="javascript:alert(1)//">`,
}

// Bodies rendered together are each what it is rendered alone, whatever
// the ones beside it leave open: unclosed fences, raw-text elements,
// comments, a "<wbr>" people typed, the XSS corpus.
func TestHTMLsAsEachAlone(t *testing.T) {
	srcs := []string{
		"", "plain", "**Identified**: the `submissions` table was locked.\n\n- killed the query\n- added a timeout\n\nSee https://status.example.com/x",
		"```\nan unclosed fence", "<textarea>", "<title>", "<plaintext>", "<xmp>", "<noscript>", "<style>", "<!-- an unclosed comment", "<wbr>", "a<wbr>b",
		"`<wbr>`", "&lt;wbr&gt;", "| a | b |\n| --- | --- |\n| 1 | <wbr> |", "- [x] done\n- [ ] not", "~~gone~~ & \"quoted\" 'single'", "<", "&", "&amp",
		"line one\nline two\r\nline three", "nul \x00 byte", "bad \xff utf-8", "[link](https://example.com/a?b=1&c=2 \"t\")", "![img](https://example.com/i.png)",
		"<a href=\"https://example.com\">raw</a>", "<p>raw para", "> quote\n>\n> more", "# Heading\n\n## Two", "   indented code", "*unclosed emphasis",
		"<svg><style>", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "<scr<script>ipt>alert(1)</script>",
		// What one goldmark document could carry from body to body.
		"see [the runbook]", "[the runbook]: https://example.com/rb", "[x]:\n  https://example.com/x", "ends in a backslash\\", "ends in two spaces  ",
		"- a\n- b", "- a\n\n- b", "1. one\n2. two", "3) three", "\uFEFFa byte order mark", "upstate\u2063body\u2063break", "===", "---", "title\n===",
		"    indented code\n\n    more", "<div>\nan html block", "a\rcarriage return", "\r", "   ", "\n\n", "> lazy\ncontinued", "* [ ] task",
		"a | b\n--- | ---", "~~~\nfenced\n~~~", "```go\nunclosed at the end",
		// The break's paragraph written with entities, beside a body that
		// swallows a break: the count of breaks would come out right.
		"upstate&#x2063;body&#x2063;break", "upstate&InvisibleComma;body&ic;break",
	}
	srcs = append(srcs, xssPayloads...)
	r := New()
	// Each with each of the others before and after it, and all at once.
	var got []string
	for i := range srcs {
		for j := range srcs {
			for k, h := range r.HTMLs([]string{srcs[i], srcs[j], srcs[i]}) {
				got = append(got, string(h))
				if want := string(r.HTML([]string{srcs[i], srcs[j], srcs[i]}[k])); string(h) != want {
					t.Fatalf("%q after %q: %q together, %q alone", []string{srcs[i], srcs[j], srcs[i]}[k], srcs[max(i, j)], h, want)
				}
			}
		}
	}
	for i, h := range r.HTMLs(srcs) {
		if want := r.HTML(srcs[i]); h != want {
			t.Errorf("%q among all: %q, alone %q", srcs[i], h, want)
		}
	}
	if len(r.HTMLs(nil)) != 0 || len(got) == 0 {
		t.Error("no bodies")
	}
}

// Whatever two bodies hold, each renders together with the other as it
// renders alone.
func FuzzHTMLsAsEachAlone(f *testing.F) {
	f.Add("see [x]", "[x]: https://example.com")
	f.Add("- a\n- b", "plain")
	f.Add("```\nopen", "**bold**")
	f.Add("a\\", "<div>\nb")
	f.Add("upstate&#x2063;body&#x2063;break", "```\nopen")
	r := New()
	f.Fuzz(func(t *testing.T, a, b string) {
		srcs := []string{a, b, a}
		for i, h := range r.HTMLs(srcs) {
			if want := r.HTML(srcs[i]); h != want {
				t.Fatalf("%q with %q: %q together, %q alone", srcs[i], srcs[1-i%2], h, want)
			}
		}
	})
}
