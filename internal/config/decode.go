package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/typo"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	Line    int
	Path    string // e.g. checks[3].timeout
	Message string
	// Item names the console item the problem is in ("check web"): then
	// Path is within the item (timeout, url) and Line is 0.
	Item string
}

// Problems is every problem found in a file, reported at once.
type Problems struct {
	File  string
	Items []Problem
}

// Error prints one problem a line, as file:line: path: what is wrong.
func (p *Problems) Error() string {
	var b strings.Builder
	for i, it := range p.Items {
		if i > 0 {
			b.WriteByte('\n')
		}
		if it.Item != "" {
			b.WriteString("console " + it.Item)
		} else {
			b.WriteString(p.File)
		}
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
	return b.String()
}

func (p *Problems) add(line int, path, format string, args ...any) {
	p.Items = append(p.Items, Problem{Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *Problems) sort() {
	sort.SliceStable(p.Items, func(i, j int) bool { return p.Items[i].Line < p.Items[j].Line })
}

// Duration is a time.Duration written as "30s", "5m", "1h30m" or "14d".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

var (
	durationType = reflect.TypeFor[Duration]()
	// stdDurationType is how the check kinds' sections (check.Kinds),
	// which cannot know Duration, write a duration.
	stdDurationType = reflect.TypeFor[time.Duration]()
	secretType      = reflect.TypeFor[upstate.Secret]()
	envRef          = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)
)

func parseDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return time.Duration(n * float64(24*time.Hour)), true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// decoder walks a YAML node tree into Go values strictly: unknown keys,
// duplicate keys and wrong types are problems, and decoding goes on so
// that every problem is found in one pass. It remembers the line of every
// path for the validation that follows.
type decoder struct {
	probs *Problems
	// lines are the lines of the values at paths, where each differs
	// from its parent's (enter); at is the value being decoded, its
	// children's parent.
	lines map[string]int
	at    parentLine
	// fields are fieldIndex's maps, by struct type.
	fields map[reflect.Type]map[string]int
	keys   map[string][]string // path of a mapping → the keys it set
	// foreign are the keys of each check (by its path) that only other
	// kinds take, for the validation to report once the kind is known.
	foreign map[string][]foreignKey
	lookup  func(string) (string, bool)
	// pieces is the checks list cut out of the file, decoded in place of
	// the rest's empty checks key; piecesErr what that gave (errWhole).
	pieces    *checkPieces
	piecesErr error
}

// parentLine is a value being decoded: its path and line.
type parentLine struct {
	path string
	line int
}

// enter records the line of the value at path where the line
// validator.line would tell for it otherwise differs, and makes it the
// parent of what is decoded within it until leave is given what enter
// returned. validator.line tells an unrecorded path by the nearest
// shorter path recorded, cutting at the last '.' or '['; so a value on
// its parent's line (each key of a check written as one flow mapping on
// its line) need not be recorded where that cut is its parent's path. A
// map key holding a '.' or '[' ("down.x" under impact) is not cut to its
// parent, and is recorded. 100,000 such checks record 100,000 lines, not
// 800,000: at that size the map of lines was a quarter of reading the
// file.
func (d *decoder) enter(path string, line int) parentLine {
	was := d.at
	if path == "" || line != was.line || cutPath(path) != was.path {
		d.lines[path] = line
	}
	d.at = parentLine{path, line}
	return was
}

// leave puts back the parent enter returned.
func (d *decoder) leave(was parentLine) { d.at = was }

// cutPath is path without its last key or index, as validator.line cuts
// it: "" when there is none to cut.
func cutPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	defer d.leave(d.enter(path, n.Line))
	if v.Kind() == reflect.Pointer {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
		return
	}
	switch v.Type() {
	case checkType:
		d.decodeCheck(n, v, path)
		return
	case durationType, stdDurationType:
		s, ok := d.scalar(n, path, "a duration (e.g. 30s)")
		if !ok {
			return
		}
		dur, ok := parseDuration(s)
		if !ok || dur < 0 {
			d.probs.add(n.Line, path, "%q is not a duration (e.g. 10s, 5m, 1h, 7d)", s)
			return
		}
		v.SetInt(int64(dur))
		return
	case secretType:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.probs.add(n.Line, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.probs.add(n.Line, path, "want a mapping of keys to values, got %s", describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := k.Value
			if seen[key] {
				d.probs.add(k.Line, path, "key %q appears twice", key)
				continue
			}
			seen[key] = true
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, ev, path+"."+key)
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), ev)
		}
		v.Set(m)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		s, ok := d.scalar(n, path, "true or false")
		if !ok {
			return
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			d.probs.add(n.Line, path, "%q is not true or false", s)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		s, ok := d.scalar(n, path, "a whole number")
		if !ok {
			return
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			d.probs.add(n.Line, path, "%q is not a whole number", s)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		s, ok := d.scalar(n, path, "a number")
		if !ok {
			return
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			d.probs.add(n.Line, path, "%q is not a number", s)
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.probs.add(n.Line, path, "%v", err)
			return
		}
		if s, ok := x.(string); ok {
			x = d.expand(s, n.Line, path)
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.probs.add(n.Line, path, "unsupported field type %s", v.Type())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.probs.add(n.Line, path, "want a mapping with keys, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		idx, ok := fields[key]
		if !ok {
			d.unknownKey(k, path, names)
			continue
		}
		if !d.first(k, path, seen) {
			continue
		}
		if path == "" && key == "checks" && d.pieces != nil {
			// The list cut out of the file (pieces.go), decoded where the
			// whole file's would be, so problems come in the same order.
			d.piecesErr = d.decodePieces(d.pieces, v.Field(idx))
			continue
		}
		d.decode(val, v.Field(idx), sub)
	}
}

// unknownKey reports a key the mapping at path does not take, with the
// closest of names when it looks like a typo.
func (d *decoder) unknownKey(k *yaml.Node, path string, names []string) {
	msg := fmt.Sprintf("unknown key %q", k.Value)
	if s := suggest(k.Value, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.probs.add(k.Line, path, "%s", msg)
}

// first records a key of the mapping at path, reporting it when it
// appears a second time; false then.
func (d *decoder) first(k *yaml.Node, path string, seen map[string]bool) bool {
	if seen[k.Value] {
		d.probs.add(k.Line, path, "key %q appears twice", k.Value)
		return false
	}
	seen[k.Value] = true
	d.keys[path] = append(d.keys[path], k.Value)
	return true
}

// scalar returns a scalar node's value with ${ENV} references expanded.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.probs.add(n.Line, path, "want %s, got %s", want, describe(n))
		return "", false
	}
	return d.expand(n.Value, n.Line, path), true
}

// expand replaces ${NAME} and ${NAME:-default}; a variable that is not set
// and has no default is a problem, so a missing secret is found at load.
func (d *decoder) expand(s string, line int, path string) string {
	return d.expandVars(s, func(name string) {
		d.probs.add(line, path, "environment variable %s is not set (write ${%s:-default} for a fallback)", name, name)
	})
}

// expandVars expands s, telling missing of each variable not set.
func (d *decoder) expandVars(s string, missing func(name string)) string {
	if !strings.Contains(s, "${") {
		// Most values name no variable; ReplaceAllStringFunc would copy
		// each (12 MB kept of a configuration of 100,000 checks).
		return s
	}
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := d.lookup(m[1]); ok {
			return v
		}
		if m[2] != "" {
			return m[3]
		}
		missing(m[1])
		return ""
	})
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// suggest returns the closest known key when it is close enough to be a typo.
func suggest(key string, names []string) string { return typo.Closest(key, names) }

func envLookup(name string) (string, bool) { return os.LookupEnv(name) }
