package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate/internal/check"
)

// A check's keys are its common ones (Check) and those of its kind's
// section (check.Kinds). The decoder reads kind first, then decodes each
// key into Check or the section; a key only other kinds take is decoded
// into their type all the same (so that the problems of its value are
// found too) and reported, by the validation, as belonging to them.

var checkType = reflect.TypeFor[Check]()

// keyIndex is which kinds take which keys, read from the yaml tags of the
// registry's section types and the structs within them.
type keyIndex struct {
	// kinds maps a key's path within a check ("url", "expect.status") to
	// the kinds that take it, in registry order.
	kinds map[string][]string
	// types maps a key's path to the first of those kinds' type for it:
	// what a key the check's own kind does not take is decoded into.
	types map[string]reflect.Type
	// names maps the path of a mapping within a check ("" for the check
	// itself, "expect") to every key taken there, the common ones first:
	// what an unknown key may be a typo of.
	names map[string][]string
	// mixed are the paths where kinds take different keys (their types
	// differ): the check itself, and expect. The keys there are judged
	// one by one, nested ones included; elsewhere a key another kind takes
	// is judged as a whole.
	mixed map[string]bool
}

var checkKeys = sync.OnceValue(func() *keyIndex {
	ix := &keyIndex{kinds: map[string][]string{}, types: map[string]reflect.Type{}, names: map[string][]string{}, mixed: map[string]bool{"": true}}
	for _, f := range yamlFields(checkType) {
		ix.names[""] = append(ix.names[""], f.name)
	}
	typesAt := map[string]map[reflect.Type]bool{}
	var walk func(kind string, t reflect.Type, path string)
	walk = func(kind string, t reflect.Type, path string) {
		for _, f := range yamlFields(t) {
			kp := joinKey(path, f.name)
			if !slices.Contains(ix.kinds[kp], kind) {
				ix.kinds[kp] = append(ix.kinds[kp], kind)
			}
			if _, ok := ix.types[kp]; !ok {
				ix.types[kp] = f.typ
			}
			if !slices.Contains(ix.names[path], f.name) {
				ix.names[path] = append(ix.names[path], f.name)
			}
			inner := elemType(f.typ)
			if typesAt[kp] == nil {
				typesAt[kp] = map[reflect.Type]bool{}
			}
			typesAt[kp][inner] = true
			if inner.Kind() == reflect.Struct {
				walk(kind, inner, kp)
			}
		}
	}
	for _, k := range check.Kinds() {
		walk(k.Name, reflect.TypeOf(k.New()).Elem(), "")
	}
	for kp, ts := range typesAt {
		if len(ts) > 1 {
			ix.mixed[kp] = true
		}
	}
	return ix
})

type yamlField struct {
	name  string
	index int
	typ   reflect.Type
}

// yamlFields are the fields of a struct that have a key.
func yamlFields(t reflect.Type) []yamlField {
	var out []yamlField
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		out = append(out, yamlField{tag, i, t.Field(i).Type})
	}
	return out
}

// fieldIndex maps a struct type's YAML keys to its fields' indexes, made
// once a load for each type (100,000 checks asked for the same few types'
// fields 200,000 times: a fifth of loading them). The map is shared:
// never written.
func (d *decoder) fieldIndex(t reflect.Type) map[string]int {
	if m, ok := d.fields[t]; ok {
		return m
	}
	m := map[string]int{}
	for _, f := range yamlFields(t) {
		m[f.name] = f.index
	}
	if d.fields == nil {
		d.fields = map[reflect.Type]map[string]int{}
	}
	d.fields[t] = m
	return m
}

// elemType is what a value of type t holds: through pointers, lists and
// maps.
func elemType(t reflect.Type) reflect.Type {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// foreignKey is a key of a check that only other kinds take.
type foreignKey struct {
	path  string   // checks[1].expect.status
	key   string   // status
	kinds []string // the kinds that take it
	depth int      // 0 for a key of the check itself, 1 for one within those
}

// checkCtx is the check being decoded.
type checkCtx struct {
	path string // checks[1]
	// kind is the check's kind, or "" when it names none: then what is
	// wrong is the kind, and keys any kind takes are taken quietly.
	kind string
}

// decodeCheck decodes one check: kind first, then every key into the
// common fields or the kind's section.
func (d *decoder) decodeCheck(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.probs.add(n.Line, path, "want a mapping with keys, got %s", describe(n))
		return
	}
	ch := v.Addr().Interface().(*Check)
	cx := &checkCtx{path: path}
	var own reflect.Value
	if k, ok := check.KindOf(d.peek(n, "kind")); ok {
		ch.Section = k.New()
		own = reflect.ValueOf(ch.Section).Elem()
		cx.kind = k.Name
	}
	common := d.fieldIndex(checkType)
	d.sectionMapping(n, path, "", own, func(key string) (reflect.Value, bool) {
		i, ok := common[key]
		if !ok {
			return reflect.Value{}, false
		}
		return v.Field(i), true
	}, cx)
}

// peek returns the scalar value of key in a mapping, its first
// occurrence, with ${ENV} references expanded; "" when it has none. The
// problems with it are found when it is decoded.
func (d *decoder) peek(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			continue
		}
		val := n.Content[i+1]
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		if val.Kind != yaml.ScalarNode {
			return ""
		}
		return d.expandVars(val.Value, func(string) {})
	}
	return ""
}

// sectionMapping decodes a mapping within a check at key path sp ("" for
// the check itself, "expect"): each key into common (the check's common
// fields, at the check itself), own (the kind's struct there; invalid
// when the kind has none there) or, for a key only other kinds take, a
// value of their type, noted as foreign.
func (d *decoder) sectionMapping(n *yaml.Node, path, sp string, own reflect.Value, common func(string) (reflect.Value, bool), cx *checkCtx) {
	ix := checkKeys()
	var fields map[string]int
	if own.IsValid() {
		fields = d.fieldIndex(own.Type())
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		sub, kp := path+"."+key, joinKey(sp, key)
		var target reflect.Value
		mine, foreign := false, false
		if f, ok := lookup(common, key); ok {
			target = f
		} else if j, ok := fields[key]; ok {
			target, mine = own.Field(j), true
		} else if len(ix.kinds[kp]) > 0 {
			target, foreign = reflect.New(ix.types[kp]).Elem(), true
		} else {
			d.unknownKey(k, path, ix.names[sp])
			continue
		}
		if !d.first(k, path, seen) {
			continue
		}
		if foreign && cx.kind != "" {
			d.foreign[cx.path] = append(d.foreign[cx.path], foreignKey{path: sub, key: key, kinds: ix.kinds[kp], depth: strings.Count(kp, ".")})
		}
		if ix.mixed[kp] {
			d.sectionValue(val, target, sub, kp, mine, cx)
		} else {
			d.decode(val, target, sub)
		}
	}
}

func lookup(common func(string) (reflect.Value, bool), key string) (reflect.Value, bool) {
	if common == nil {
		return reflect.Value{}, false
	}
	return common(key)
}

// sectionValue decodes a value at a mixed key path (expect): a mapping
// whose keys are judged one by one. mine says whether v is the kind's own.
func (d *decoder) sectionValue(n *yaml.Node, v reflect.Value, path, kp string, mine bool, cx *checkCtx) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	defer d.leave(d.enter(path, n.Line))
	null := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	switch v.Kind() {
	case reflect.Pointer:
		if null {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.sectionValue(n, v.Elem(), path, kp, mine, cx)
	case reflect.Struct:
		if null {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.probs.add(n.Line, path, "want a mapping with keys, got %s", describe(n))
			return
		}
		var own reflect.Value
		if mine {
			own = v
		}
		d.sectionMapping(n, path, kp, own, nil, cx)
	case reflect.Slice:
		if null {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.probs.add(n.Line, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.sectionValue(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i), kp, mine, cx)
		}
		v.Set(s)
	default:
		d.decode(n, v, path)
	}
}

// sectionValidator is how the section of the check at p reports
// problems: by key relative to the check.
type sectionValidator struct {
	v *validator
	p string
}

func (s sectionValidator) path(key string) string {
	switch {
	case key == "":
		return s.p
	case strings.HasPrefix(key, "["):
		return s.p + key
	}
	return s.p + "." + key
}

// Errorf implements check.Validator.
func (s sectionValidator) Errorf(key, format string, args ...any) {
	s.v.errf(s.path(key), format, args...)
}

// Warnf implements check.Validator.
func (s sectionValidator) Warnf(key, format string, args ...any) {
	s.v.warnf(s.path(key), format, args...)
}

// InboundAuth implements check.Validator.
func (s sectionValidator) InboundAuth() bool {
	return s.v.c.Inbound.Token != "" || s.v.c.Inbound.HMACSecret != ""
}
