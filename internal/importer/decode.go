package importer

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate/internal/typo"
)

// decoder walks a YAML node tree (JSON is YAML) into a Document strictly:
// unknown and repeated keys, wrong types and times without a zone are
// problems, and decoding goes on so that every problem is found in one
// pass. It remembers the line of every path for the validation after.
type decoder struct {
	probs *Problems
	lines map[string]int
	// bad are the paths whose values were refused, so that validation
	// does not report them again as missing.
	bad map[string]bool
}

// fail reports a value refused at path.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.bad[path] = true
	d.probs.add(n.Line, path, format, args...)
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	percentType = reflect.TypeFor[Percent]()
)

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	d.lines[path] = n.Line
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		// Anchors and aliases have no place in data exported from another
		// tool, and refusing them rules out alias bombs.
		d.fail(n, path, "anchors and aliases are not allowed in an import file")
		return
	}
	null := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	if v.Kind() == reflect.Pointer {
		if null {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
		return
	}
	if null {
		return // nothing said: the zero value, judged by validation
	}
	switch v.Type() {
	case timeType:
		s, ok := d.scalar(n, path, "a time (RFC 3339, e.g. 2026-11-20T10:05:00Z)")
		if !ok {
			return
		}
		t, err := parseTime(s)
		if err != nil {
			d.fail(n, path, "%s", err)
			return
		}
		v.Set(reflect.ValueOf(t))
		return
	case percentType:
		d.percent(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || (n.Value != "true" && n.Value != "false") {
			d.fail(n, path, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(n.Value == "true")
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.fail(n, path, "want a whole number, got %s", describe(n))
			return
		}
		i, err := strconv.ParseInt(n.Value, 10, 32)
		if err != nil {
			d.fail(n, path, "%q is not a whole number", n.Value)
			return
		}
		v.SetInt(i)
	default:
		d.fail(n, path, "unsupported field type %s", v.Type())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping with keys, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := yamlKey(t.Field(i))
		if tag == "" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		idx, ok := fields[key]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.probs.add(k.Line, path, "%s", msg)
			continue
		}
		if seen[key] {
			d.probs.add(k.Line, path, "key %q appears twice", key)
			continue
		}
		seen[key] = true
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		d.decode(val, v.Field(idx), sub)
	}
}

// percent reads a share of requests failing: a number, or a range
// [min, max] when only bounds are known.
func (d *decoder) percent(n *yaml.Node, v reflect.Value, path string) {
	num := func(n *yaml.Node) (float64, bool) {
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.fail(n, path, "want a percentage (0 to 100) or a range [min, max], got %s", describe(n))
			return 0, false
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, path, "%q is not a number", n.Value)
			return 0, false
		}
		return f, true
	}
	switch n.Kind {
	case yaml.SequenceNode:
		if len(n.Content) != 2 {
			d.fail(n, path, "a range is two numbers, [min, max]; got %d", len(n.Content))
			return
		}
		lo, ok1 := num(n.Content[0])
		hi, ok2 := num(n.Content[1])
		if ok1 && ok2 {
			v.Set(reflect.ValueOf(Percent{Min: lo, Max: hi}))
		}
	default:
		if f, ok := num(n); ok {
			v.Set(reflect.ValueOf(Percent{Min: f, Max: f}))
		}
	}
}

func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want %s, got %s", want, describe(n))
		return "", false
	}
	return n.Value, true
}

// parseTime reads an RFC 3339 time, which always has a zone (Z or an
// offset): a time without one would mean a different instant on every
// machine that reads it.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if _, derr := time.Parse(time.DateOnly, s); derr == nil {
			return time.Time{}, fmt.Errorf("%q is a date without a time: write a time with its zone, e.g. %sT00:00:00Z", s, s)
		}
		if _, lerr := time.Parse("2006-01-02T15:04:05.999999999", s); lerr == nil {
			return time.Time{}, fmt.Errorf("%q has no zone: add Z for UTC or an offset such as +02:00", s)
		}
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (e.g. 2026-11-20T10:05:00Z)", s)
	}
	return t, nil
}

// yamlKey is the key a field is written as, or "" when it has none.
func yamlKey(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" {
		return ""
	}
	return tag
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
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("%q", v)
	}
	return "something else"
}

// suggest returns the closest known key when it is close enough to be a typo.
func suggest(key string, names []string) string { return typo.Closest(key, names) }

// MaxNodes bounds the values a converter's YAML input may hold once its
// aliases are expanded: a small file of aliases to aliases (a "billion
// laughs") is refused, not expanded.
const MaxNodes = 4_000_000

// tooLarge reports whether n holds more than MaxNodes values with its
// aliases expanded; it stops counting there, so it costs at most that.
func tooLarge(n *yaml.Node) bool {
	budget := MaxNodes
	var walk func(n *yaml.Node, depth int) bool
	walk = func(n *yaml.Node, depth int) bool {
		budget--
		if budget < 0 || depth > 1000 {
			return true
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			return walk(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			if walk(c, depth+1) {
				return true
			}
		}
		return false
	}
	return walk(n, 0)
}
