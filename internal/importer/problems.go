package importer

import (
	"fmt"
	"sort"
	"strings"
)

// MaxProblems is the most problems one answer lists; a file wrong
// everywhere is told so in a bounded answer ("and 1234 more").
const MaxProblems = 200

// Problem is one thing wrong with an import file, at its place.
type Problem struct {
	Line    int    // 0 when the place has no line (the file as a whole)
	Path    string // e.g. incidents[3].updates[1].at
	Message string
}

// Problems is every problem found in a file, reported at once, as
// internal/config reports a configuration's: file:line: path: what.
type Problems struct {
	File  string
	Items []Problem
	// More counts the problems found beyond MaxProblems, not listed.
	More int
}

// Error prints one problem a line, as file:line: path: what is wrong.
func (p *Problems) Error() string {
	var b strings.Builder
	for i, it := range p.Items {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.File)
		if it.Line > 0 {
			fmt.Fprintf(&b, ":%d", it.Line)
		}
		b.WriteString(": ")
		if it.Path != "" {
			b.WriteString(it.Path)
			b.WriteString(": ")
		}
		b.WriteString(it.Message)
	}
	if p.More > 0 {
		fmt.Fprintf(&b, "\n%s: and %d more problems", p.File, p.More)
	}
	return b.String()
}

func (p *Problems) add(line int, path, format string, args ...any) {
	if len(p.Items) >= MaxProblems {
		p.More++
		return
	}
	p.Items = append(p.Items, Problem{Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *Problems) sort() {
	sort.SliceStable(p.Items, func(i, j int) bool { return p.Items[i].Line < p.Items[j].Line })
}

func (p *Problems) err() error {
	if len(p.Items) == 0 {
		return nil
	}
	p.sort()
	return p
}

// Warning is something a converter could not carry over exactly: what
// the other tool said that Upstate cannot express, or expresses a little
// differently. Converters never drop anything silently; each such thing
// is a warning naming where it was.
type Warning struct {
	// Source names the thing in the other tool's words: an endpoint's or
	// monitor's name, an incident's id.
	Source  string
	Message string
}

// String prints the warning as one line: source: what.
func (w Warning) String() string {
	if w.Source == "" {
		return w.Message
	}
	return w.Source + ": " + w.Message
}
