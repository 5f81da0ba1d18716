package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// A file's YAML parsed whole is a tree of nodes, some 2.4 KB of them for
// each check: 240 MB for 100,000 checks, whose decoded form takes 36, and
// the tree is all there before the first check is decoded. So Parse cuts
// the top-level checks list out of the file, when it is written in block
// style, and parses it a run of items at a time, each run's nodes
// decoded and dropped before the next is read. Everything else is parsed
// as before, from the file's text with the list's lines left empty, so
// that every line keeps its number.
//
// The cut is made only where it cannot change what the file says: any
// run or the rest failing to parse alone (an anchor in one piece used in
// another, a quoted scalar across a cut), a different number of items
// than was cut, the rest not a block mapping with the key at its place,
// or anything unusual in the layout (directives, several documents, a
// tab where indentation is read, a line break other than "\n" and
// "\r\n") and the file is parsed whole, as it always was, with its errors
// as YAML gives them. The list's items are decoded where the whole
// file's would be (decodeStruct), so even problems without a line come
// in the same order.

// runItems is how many checks a run holds: some 600 KB of nodes. A
// variable for the fuzz test, which cuts every few items.
var runItems = 256

// checkPieces is a file's top-level checks list cut into runs.
type checkPieces struct {
	text    []byte
	keyLine int // the checks key's
	line    int // the list's first item's
	count   int // items
	runs    []pieceRun
	// anchors are the names of the anchors in the rest of the file: one
	// defined again in a run would be the one an alias after the list
	// means, in the whole file.
	anchors map[string]bool
	// extra are the console's checks, merged after the file's
	// (WithConsole), and ids the file's checks' ids as written.
	extra yaml.Node
	ids   map[string]bool
}

// pieceRun is whole lines of text holding whole items.
type pieceRun struct {
	from, to int // byte offsets
	line     int // the line from starts
	items    int
}

// errWhole says a file cut into pieces has to be parsed whole after all.
var errWhole = errors.New("config: parse the file whole")

// cutChecks returns the file's text with the items of its top-level
// checks list blanked, and the list's pieces; nil pieces when the file
// is not laid out for a safe cut.
func cutChecks(data []byte) ([]byte, *checkPieces) {
	if otherBreaks(data) {
		return nil, nil
	}
	const (
		before = iota // the checks key not seen yet
		key           // seen, no item yet
		items         // within the items
		after         // past the list
	)
	state, indent := before, 0
	p := &checkPieces{text: data}
	from, end := 0, len(data) // the list's items' bytes
	var run *pieceRun
	lineNo := 0
	for off := 0; off < len(data); {
		eol := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if eol >= 0 {
			next = off + eol + 1
			eol += off
		} else {
			eol = len(data)
		}
		lineNo++
		s := bytes.TrimSuffix(data[off:eol], []byte("\r"))
		start := off
		off = next
		if bytes.HasPrefix(s, []byte("%")) || (bytes.HasPrefix(s, []byte("---")) && lineNo > 1) || bytes.HasPrefix(s, []byte("...")) {
			return nil, nil // directives or documents: parse it whole
		}
		text := bytes.TrimLeft(s, " ")
		if len(text) > 0 && text[0] == '\t' && (state == key || state == items) {
			return nil, nil // a tab where indentation is read
		}
		blank := len(text) == 0 || text[0] == '#'
		col := len(s) - len(text)
		if isChecksKey(s) {
			if state != before {
				return nil, nil // twice: the decoder says so, from the whole
			}
			state, p.keyLine = key, lineNo
			continue
		}
		if blank {
			continue
		}
		dash := text[0] == '-' && (len(text) == 1 || text[1] == ' ')
		switch state {
		case key:
			if !dash {
				return nil, nil
			}
			state, indent, from = items, col, start
			p.line = lineNo
		case items:
			switch {
			case dash && col == indent:
			case col == 0:
				state, end = after, start
				continue
			case col <= indent:
				return nil, nil
			default:
				continue // within an item
			}
		default:
			continue
		}
		// An item starts here.
		if run == nil || run.items == runItems {
			if run != nil {
				run.to = start
			}
			p.runs = append(p.runs, pieceRun{from: start, line: lineNo})
			run = &p.runs[len(p.runs)-1]
		}
		run.items++
		p.count++
	}
	if state == before || state == key {
		return nil, nil
	}
	run.to = end
	lines := bytes.Count(data[from:end], []byte("\n"))
	skeleton := make([]byte, 0, len(data)-(end-from)+lines)
	skeleton = append(skeleton, data[:from]...)
	skeleton = append(skeleton, bytes.Repeat([]byte("\n"), lines)...)
	skeleton = append(skeleton, data[end:]...)
	return skeleton, p
}

// otherBreaks reports whether text holds a line break YAML counts and
// the cut does not: a carriage return alone, NEL, LS or PS. The cut's
// line numbers count "\n" alone.
func otherBreaks(text []byte) bool {
	for i := bytes.IndexByte(text, '\r'); i >= 0; i = bytes.IndexByte(text, '\r') {
		if i+1 == len(text) || text[i+1] != '\n' {
			return true
		}
		text = text[i+1:]
	}
	return bytes.Contains(text, []byte("\u0085")) || bytes.Contains(text, []byte("\u2028")) || bytes.Contains(text, []byte("\u2029"))
}

// isChecksKey reports whether line is the top-level key checks with its
// value below it: "checks:", maybe with a comment.
func isChecksKey(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("checks:"))
	if !ok {
		return false
	}
	t := bytes.TrimLeft(rest, " ")
	return len(t) == 0 || (t[0] == '#' && len(t) < len(rest))
}

// fits reports whether the rest of the file, parsed, has the checks key
// where it was cut, at the top level and with nothing under it, and
// notes the anchors it defines.
func (p *checkPieces) fits(root *yaml.Node) bool {
	doc, err := document(root)
	if err != nil || doc.Style&yaml.FlowStyle != 0 {
		return false // a flow mapping: the list's "- " lines are not items there
	}
	found := false
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if k.Value == "checks" {
			if found || k.Line != p.keyLine || k.Column != 1 || k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || v.Tag != "!!null" || v.Value != "" {
				return false
			}
			found = true
		}
	}
	p.anchors = map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Anchor != "" {
			p.anchors[n.Anchor] = true
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	return found
}

// parseCut parses text with its checks list cut out when it can be
// (pieces not nil), else whole.
func parseCut(file string, text []byte) (*yaml.Node, *checkPieces, *Problems) {
	if rest, p := cutChecks(text); p != nil {
		if root, probs := parseNode(file, rest); probs == nil && p.fits(root) {
			return root, p, nil
		}
	}
	root, probs := parseNode(file, text)
	return root, nil, probs
}

// each calls fn with each item of the cut list in order, a run at a
// time, its lines the file's; errWhole when a run does not parse alone
// as the items cut (fn has then been given the items before it, which
// are right: a run is judged before any of its items is given).
func (p *checkPieces) each(fn func(i int, n *yaml.Node)) error {
	return p.eachIn(0, p.count, fn)
}

// eachIn is each for the items lo to hi-1 alone: a run wholly outside
// them is not parsed, its items counted as the cut counted them (which
// only a Parse of the same text that read every run, Config.cut, has
// confirmed), and no run past hi is.
func (p *checkPieces) eachIn(lo, hi int, fn func(i int, n *yaml.Node)) error {
	i := 0
	// Each run under a key of its own, as the list is under its key in
	// the file, so that its items are as deep as there (yaml.v3 refuses
	// what is nested too deep).
	var buf []byte
	for _, r := range p.runs {
		if i >= hi {
			break
		}
		if i+r.items <= lo {
			i += r.items
			continue
		}
		buf = append(append(buf[:0], "checks:\n"...), p.text[r.from:r.to]...)
		var root yaml.Node
		if err := yaml.Unmarshal(buf, &root); err != nil {
			return errWhole
		}
		if len(root.Content) != 1 || len(root.Content[0].Content) != 2 {
			return errWhole
		}
		list := root.Content[0].Content[1]
		if list.Kind != yaml.SequenceNode || len(list.Content) != r.items {
			return errWhole
		}
		if !p.shift(list, r.line-2) {
			return errWhole
		}
		for _, n := range list.Content {
			if i >= lo && i < hi {
				fn(i, n)
			}
			i++
		}
	}
	return nil
}

// fileChecks calls fn with each item of text's top-level checks list, in
// order: a run at a time where the list can be cut, else from the whole
// tree. When a cut list needs the whole tree after all, fn is called
// again from the first item (i 0).
func fileChecks(file string, text []byte, fn func(i int, n *yaml.Node)) error {
	root, p, probs := parseCut(file, text)
	if probs != nil {
		return probs
	}
	if p != nil {
		if err := p.each(fn); !errors.Is(err, errWhole) {
			return err
		}
		if root, probs = parseNode(file, text); probs != nil {
			return probs
		}
	}
	return eachListed(root, "checks", fn)
}

// eachListed calls fn with each item of the top-level list under key in
// root, a whole file's tree (or the rest of a cut one, for another key).
func eachListed(root *yaml.Node, key string, fn func(i int, n *yaml.Node)) error {
	doc, err := document(root)
	if err != nil {
		return err
	}
	if list := mappingValue(doc, key); list != nil && list.Kind == yaml.SequenceNode {
		for i, n := range list.Content {
			fn(i, n)
		}
	}
	return nil
}

// decodePieces decodes the cut list into list (a []Check), then the
// console's checks after it (p.extra); errWhole when a run does not
// parse alone as the items cut.
func (d *decoder) decodePieces(p *checkPieces, list reflect.Value) error {
	s := reflect.MakeSlice(list.Type(), p.count+len(p.extra.Content), p.count+len(p.extra.Content))
	defer d.leave(d.enter("checks", p.line))
	if err := p.each(func(i int, n *yaml.Node) { d.decode(n, s.Index(i), fmt.Sprintf("checks[%d]", i)) }); err != nil {
		return err
	}
	for j, n := range p.extra.Content {
		d.decode(n, s.Index(p.count+j), fmt.Sprintf("checks[%d]", p.count+j))
	}
	list.Set(s)
	return nil
}

// shift moves n and the nodes within it by by lines: a run's lines are
// its own from 1. False when one defines an anchor the rest of the file
// does too.
func (p *checkPieces) shift(n *yaml.Node, by int) bool {
	if n.Anchor != "" && p.anchors[n.Anchor] {
		return false
	}
	n.Line += by
	for _, c := range n.Content {
		if !p.shift(c, by) {
			return false
		}
	}
	return true
}
