package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// The console's checks and components (upstate.ConsoleItem) are their
// keys as a JSON object, which is YAML too: WithConsole appends each one's
// node to the file's checks or components and decodes and validates the
// whole, so an item made in the console is judged by exactly the code and
// words a YAML one is. Problems within an item are reported at its own
// field paths, without a line.

// consoleComment marks what Export appends.
const consoleComment = "made in the console"

// seqKey is the top-level key a kind of item goes under.
func seqKey(k upstate.ConsoleKind) string {
	if k == upstate.ConsoleComponent {
		return "components"
	}
	return "checks"
}

// WithConsole returns the effective configuration: base's file (its
// Source, not read again) with the console items appended, decoded and
// validated as one, and the rules applied. An item whose id the file
// also has is left out (the file wins) and listed in Shadowed. Problems in
// an item name it (Problem.Item) with paths within it.
func WithConsole(base *Config, items []upstate.ConsoleItem, rules ...Rule) (*Config, error) {
	c, err := withConsole(base, items, true, rules)
	if errors.Is(err, errWhole) {
		return withConsole(base, items, false, rules)
	}
	return c, err
}

// withConsole is WithConsole, reading the file's checks list a run at a
// time when cut and it can be, as Parse does (pieces.go): the console's
// checks then go after them. errWhole when it has to be read whole.
func withConsole(base *Config, items []upstate.ConsoleItem, cut bool, rules []Rule) (*Config, error) {
	text := base.Source()
	var root *yaml.Node
	var pieces *checkPieces
	var probs *Problems
	if cut {
		root, pieces, probs = parseCut(base.File, text)
	} else {
		root, probs = parseNode(base.File, text)
	}
	if probs != nil {
		return nil, probs
	}
	if pieces != nil && slices.ContainsFunc(items, func(it upstate.ConsoleItem) bool { return seqKey(it.Kind) == "checks" }) {
		// Which the file has, for the file to win.
		pieces.ids = map[string]bool{}
		err := pieces.each(func(_ int, n *yaml.Node) {
			if id := scalarOf(n, "id"); id != "" {
				pieces.ids[id] = true
			}
		})
		if err != nil {
			return nil, err
		}
	}
	doc, err := document(root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base.File, err)
	}
	shadowed, at, bad := appendItems(doc, items, false, pieces)
	for _, it := range items {
		bad.Items = append(bad.Items, consoleLimits(it, base.Server.ConsoleEnv)...)
	}
	if len(bad.Items) > 0 {
		bad.File = base.File
		return nil, bad
	}
	lookup := base.Lookup
	if lookup == nil {
		lookup = envLookup
	}
	c, err := decodeRoot(base.File, text, &base.source, root, pieces, lookup, rules)
	if ps, ok := err.(*Problems); ok {
		for i, p := range ps.Items {
			ps.Items[i] = at.locate(p)
		}
		ps.sort()
		return nil, ps
	}
	if err != nil {
		return nil, err
	}
	for i := range c.Checks {
		var it upstate.ConsoleItem
		it, c.Checks[i].Console = at[fmt.Sprintf("checks[%d]", i)]
		if c.Checks[i].Console && len(c.Checks[i].Regions) > 0 {
			// Probe agents are sent a check's keys (AgentYAML): a console
			// check's are its item's, as it was validated above.
			n, err := ItemNode(it.Keys)
			if err != nil {
				return nil, err
			}
			if c.consoleChecks == nil {
				c.consoleChecks = map[string]*yaml.Node{}
			}
			c.consoleChecks[c.Checks[i].ID] = n
		}
	}
	for i := range c.Components {
		_, c.Components[i].Console = at[fmt.Sprintf("components[%d]", i)]
	}
	c.Shadowed = shadowed
	return c, nil
}

// placed maps the path an item was given in the merged file
// ("checks[7]") to the item.
type placed map[string]upstate.ConsoleItem

// locate puts a problem at its item, if it is in one.
func (at placed) locate(p Problem) Problem {
	if len(at) == 0 {
		return p
	}
	for _, list := range []string{"checks", "components"} {
		rest, ok := strings.CutPrefix(p.Path, list+"[")
		if !ok {
			continue
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			continue
		}
		it, ok := at[p.Path[:len(list)+1+end+1]]
		if !ok {
			continue
		}
		p.Item = string(it.Kind) + " " + strconv.Quote(it.ID)
		p.Path = strings.TrimPrefix(rest[end+1:], ".")
		p.Line = 0
		return p
	}
	return p
}

// document is the top-level mapping of a parsed file.
func document(root *yaml.Node) (*yaml.Node, error) {
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the file is not a mapping of keys")
	}
	return root, nil
}

// appendItems appends each item's node to its list in doc, making the
// list if the file has none; those whose id the file's list has are
// left out and returned. export marks each with a comment and lays it
// out as YAML's block style. cut, when not nil, is the file's checks
// list cut out of doc: the checks go after its items (cut.extra).
func appendItems(doc *yaml.Node, items []upstate.ConsoleItem, export bool, cut *checkPieces) ([]upstate.ConsoleItem, placed, *Problems) {
	var shadowed []upstate.ConsoleItem
	at := placed{}
	bad := &Problems{}
	fileIDs := map[string]map[string]bool{}
	for _, it := range items {
		key := seqKey(it.Kind)
		var seq *yaml.Node
		before := 0 // items in the list before seq's
		if cut != nil && key == "checks" {
			seq, before = &cut.extra, cut.count
			fileIDs[key] = cut.ids
		} else {
			seq = listNode(doc, key)
		}
		if fileIDs[key] == nil {
			fileIDs[key] = map[string]bool{}
			for _, n := range seq.Content {
				if id := scalarOf(n, "id"); id != "" {
					fileIDs[key][id] = true
				}
			}
		}
		if fileIDs[key][it.ID] {
			shadowed = append(shadowed, it)
			continue
		}
		n, err := ItemNode(it.Keys)
		if err != nil {
			bad.Items = append(bad.Items, Problem{Item: string(it.Kind) + " " + strconv.Quote(it.ID), Message: err.Error()})
			continue
		}
		if export {
			block(n)
			n.HeadComment = consoleComment
			seq.Style = 0
		}
		at[fmt.Sprintf("%s[%d]", key, before+len(seq.Content))] = it
		seq.Content = append(seq.Content, n)
	}
	return shadowed, at, bad
}

// listNode is the sequence under key in doc, made (or put in place of a
// null) when there is none.
func listNode(doc *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value != key {
			continue
		}
		v := doc.Content[i+1]
		if v.Kind == yaml.SequenceNode {
			return v
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			return v
		}
		// Not a list: the file's problem, reported when it is decoded;
		// the items go in a list of their own, not validated with it.
		return &yaml.Node{Kind: yaml.SequenceNode}
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, seq)
	return seq
}

// scalarOf is the scalar value of key in mapping n, "" when none.
func scalarOf(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// ItemNode is a console item's keys as a YAML mapping, without lines (so
// its problems carry none).
func ItemNode(keys []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(keys, &doc); err != nil {
		return nil, fmt.Errorf("keys are not a JSON object: %s", strings.TrimPrefix(yamlMessage(err), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("keys are not a JSON object")
	}
	n := doc.Content[0]
	var zero func(*yaml.Node)
	zero = func(x *yaml.Node) {
		x.Line, x.Column = 0, 0
		for _, c := range x.Content {
			zero(c)
		}
	}
	zero(n)
	return n, nil
}

// block lays a node out in YAML's block style, its first keys those
// people look for: id, name, kind.
func block(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		block(c)
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	rank := func(k string) int {
		switch k {
		case "id":
			return 0
		case "name":
			return 1
		case "kind":
			return 2
		}
		return 3
	}
	pairs := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		pairs = append(pairs, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	// A stable insertion sort: a mapping has few keys.
	for i := 1; i < len(pairs); i++ {
		for j := i; j > 0 && rank(pairs[j][0].Value) < rank(pairs[j-1][0].Value); j-- {
			pairs[j], pairs[j-1] = pairs[j-1], pairs[j]
		}
	}
	n.Content = n.Content[:0]
	for _, p := range pairs {
		n.Content = append(n.Content, p[0], p[1])
	}
}

// Export writes base's file with the console items appended to its checks
// and components, each marked "# made in the console": one file that
// Parse accepts and that yields the same effective configuration. The
// file's comments and ${ENV} references are kept as written; items the
// file shadows are left out.
func Export(base *Config, items []upstate.ConsoleItem) ([]byte, error) {
	root, probs := parseNode(base.File, base.Source())
	if probs != nil {
		return nil, probs
	}
	doc, err := document(root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base.File, err)
	}
	if _, _, bad := appendItems(doc, items, true, nil); len(bad.Items) > 0 {
		bad.File = base.File
		return nil, bad
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("write %s: %w", base.File, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// NormalizeKeys checks that raw is one JSON object and returns it with
// its keys sorted and numbers as written, the form console items are
// kept in.
func NormalizeKeys(raw []byte) (map[string]any, []byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, nil, upstate.Errorf(upstate.EINVALID, "the body must be one JSON object of the item's keys")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, nil, upstate.Errorf(upstate.EINVALID, "the body must be one JSON object of the item's keys")
	}
	return m, b, nil
}

// secretPaths are the keys of a kind's section that hold secrets
// (upstate.Secret), dotted within the check ("dsn", "auth.password").
func secretPaths(kind string) map[string]bool {
	k, ok := check.KindOf(kind)
	if !ok {
		return nil
	}
	out := map[string]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for _, f := range yamlFields(t) {
			p := joinKey(path, f.name)
			if f.typ == secretType {
				out[p] = true
				continue
			}
			if inner := elemType(f.typ); inner.Kind() == reflect.Struct && (f.typ.Kind() == reflect.Struct || f.typ.Kind() == reflect.Pointer) {
				walk(inner, p)
			}
		}
	}
	walk(reflect.TypeOf(k.New()).Elem(), "")
	return out
}

// Redacted is what a secret written as a literal shows as.
const Redacted = "<secret>"

// hidden says whether the value at path is shown as "<secret>": a key of
// type upstate.Secret, and what carries credentials without saying so —
// a request's headers and body.
func hidden(secrets map[string]bool, path string) bool {
	return secrets[path] || path == "body" || strings.HasPrefix(path, "headers.")
}

// RedactSecrets returns a check's keys with each secret written as a
// literal (and its headers' values and body) replaced by "<secret>";
// ${ENV} references are shown as they are, since they say where the
// secret is, not what.
func RedactSecrets(keys map[string]any) map[string]any {
	kind, _ := keys["kind"].(string)
	secrets := secretPaths(kind)
	var walk func(m map[string]any, path string) map[string]any
	walk = func(m map[string]any, path string) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			p := joinKey(path, k)
			switch x := v.(type) {
			case string:
				if hidden(secrets, p) && !envRef.MatchString(x) && x != "" {
					v = Redacted
				}
			case map[string]any:
				v = walk(x, p)
			}
			out[k] = v
		}
		return out
	}
	return walk(keys, "")
}

// destinations are the keys that say where a check sends what it holds:
// a secret kept from before is never sent to a new place.
func destinations() []string {
	return []string{"kind", "url", "address", "host", "server", "dsn", "prometheus.url", "target"}
}

// KeepSecrets puts back, in a check's new keys, each secret given as
// "<secret>" (as RedactSecrets showed it) from the old keys: sending back
// what GET showed changes nothing. When the check now points elsewhere
// (its kind, URL, address or host changed) a kept secret would go there,
// to whoever chose it: that is refused, naming the key, and the secrets
// must be typed again.
func KeepSecrets(next, old map[string]any) error {
	kind, _ := next["kind"].(string)
	secrets := secretPaths(kind)
	var kept []string
	var walk func(n, o map[string]any, path string)
	walk = func(n, o map[string]any, path string) {
		for k, v := range n {
			p := joinKey(path, k)
			switch x := v.(type) {
			case string:
				if hidden(secrets, p) && x == Redacted {
					if was, ok := o[k]; ok {
						n[k] = was
						kept = append(kept, p)
					}
				}
			case map[string]any:
				if om, ok := o[k].(map[string]any); ok {
					walk(x, om, p)
				}
			}
		}
	}
	walk(next, old, "")
	if len(kept) == 0 {
		return nil
	}
	for _, d := range destinations() {
		if fmt.Sprint(lookupPath(next, d)) != fmt.Sprint(lookupPath(old, d)) {
			slices.Sort(kept)
			return upstate.Errorf(upstate.EINVALID, "%s changed, so %s would go to a new place: type %s again rather than sending %q", d, strings.Join(kept, ", "), plural(len(kept), "it", "them"), Redacted)
		}
	}
	return nil
}

// lookupPath is the value at a dotted path in keys, nil when none.
func lookupPath(keys map[string]any, path string) any {
	var v any = keys
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// FileKeys are the keys of the file's checks or components as written
// (${ENV} references unresolved), in the file's order.
func FileKeys(base *Config, kind upstate.ConsoleKind) []map[string]any {
	var out []map[string]any
	err := fileItems(base, kind, func(i int, n *yaml.Node) {
		out = append(out[:i], itemKeys(n)) // from the first again, should fileChecks start over
	})
	if err != nil {
		return nil
	}
	return out
}

// FileKeysAt is FileKeys(base, kind)[i], without making the others'
// keys; nil when there is no such item.
func FileKeysAt(base *Config, kind upstate.ConsoleKind, i int) map[string]any {
	if keys := FileKeysIn(base, kind, i, i+1); len(keys) == 1 {
		return keys[0]
	}
	return nil
}

// FileKeysIn is FileKeys(base, kind)[lo:hi], as much of it as the file
// holds, making only those items' keys. Where Parse read the file's checks
// in pieces (Config.cut) only the pieces holding them are parsed again:
// a page of a file of 100,000 checks costs a page's work, not the file's
// (1.25 s and 350 MB).
func FileKeysIn(base *Config, kind upstate.ConsoleKind, lo, hi int) []map[string]any {
	lo = max(lo, 0)
	if hi <= lo {
		return nil
	}
	var out []map[string]any
	last := -1
	keep := func(i int, n *yaml.Node) {
		if i <= last { // from the first again: fileChecks started over
			out = out[:0]
		}
		last = i
		if i >= lo && i < hi {
			out = append(out, itemKeys(n))
		}
	}
	if seqKey(kind) == "checks" && base.cut {
		if _, p, probs := parseCut(base.File, base.Source()); probs == nil && p != nil && p.eachIn(lo, hi, keep) == nil {
			return out
		}
		out, last = nil, -1
	}
	if err := fileItems(base, kind, keep); err != nil {
		return nil
	}
	return out
}

// FileHas reports whether the file's checks or components hold one whose
// id, as FileKeys gives it, is id (the empty id is no item's), without
// making every item's keys. A console change asks, and a file may hold
// 100,000 checks, whose walk takes a second: a Config read by Parse walks
// them once, the first time it is asked, and keeps their ids (a Config
// made otherwise walks them each time).
func FileHas(base *Config, kind upstate.ConsoleKind, id string) bool {
	if id == "" {
		return false
	}
	c := base.fileIDs
	if c == nil {
		c = &fileIDs{}
	}
	k := 0
	if seqKey(kind) == "checks" {
		k = 1
	}
	c.once[k].Do(func() {
		c.ids[k] = map[string]bool{}
		_ = fileItems(base, kind, func(_ int, n *yaml.Node) {
			if s, ok := fileID(n); ok {
				c.ids[k][s] = true
			}
		})
	})
	return c.ids[k][id]
}

// fileIDs are the ids of a file's components (0) and checks (1), as
// FileKeys gives them, each made once.
type fileIDs struct {
	once [2]sync.Once
	ids  [2]map[string]bool
}

// fileID is an item's id as FileKeys gives it, when that is a string
// (not a number, a mapping, or missing).
func fileID(n *yaml.Node) (string, bool) {
	v := mappingValue(n, "id")
	if v != nil && v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	if v == nil || v.Kind != yaml.ScalarNode {
		return "", false
	}
	var x any
	if err := v.Decode(&x); err != nil {
		return "", false
	}
	s, ok := x.(string)
	return s, ok && s != ""
}

// fileItems calls fn with each item of the file's checks (fileChecks) or
// components list, in order.
func fileItems(base *Config, kind upstate.ConsoleKind, fn func(i int, n *yaml.Node)) error {
	if seqKey(kind) == "checks" {
		return fileChecks(base.File, base.Source(), fn)
	}
	// The checks list need not be read at all for the components.
	root, _, probs := parseCut(base.File, base.Source())
	if probs != nil {
		return probs
	}
	return eachListed(root, seqKey(kind), fn)
}

// itemKeys is an item's keys as written, empty when it is not a mapping.
func itemKeys(n *yaml.Node) map[string]any {
	var x any
	if err := n.Decode(&x); err == nil {
		if m, ok := stringKeys(x).(map[string]any); ok {
			return m
		}
	}
	return map[string]any{}
}

// stringKeys is a decoded YAML value with every mapping's keys as
// strings, as JSON needs them (YAML allows `1: x`).
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringKeys(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = stringKeys(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
		return x
	}
	return v
}

// UnknownKey refuses a key no item of the kind takes, with the same
// words the file gets ("did you mean"): a change to an item the console
// may not touch is still told what is wrong with it first.
func UnknownKey(kind upstate.ConsoleKind, keys map[string]any) error {
	var names []string
	add := func(t reflect.Type) {
		for _, f := range yamlFields(t) {
			names = append(names, f.name)
		}
	}
	if kind == upstate.ConsoleComponent {
		add(reflect.TypeFor[Component]())
	} else {
		add(reflect.TypeFor[Check]())
		for _, k := range check.Kinds() {
			add(reflect.TypeOf(k.New()).Elem())
		}
	}
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for k := range keys {
		if !known[k] {
			msg := fmt.Sprintf("unknown key %q", k)
			if s := suggest(k, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return upstate.Errorf(upstate.EINVALID, "%s", msg)
		}
	}
	return nil
}

// consoleLimits are what an item made in the console may not do that the
// file may: reference the server's environment except where the file
// allows (server.console_env, in a secret key), or name a file on the
// server (a key ending in _file: reading one is the file's to ask).
// Someone with checks:write is not the server's owner.
func consoleLimits(it upstate.ConsoleItem, allowed []string) []Problem {
	var keys map[string]any
	if err := json.Unmarshal(it.Keys, &keys); err != nil {
		return nil // ItemNode reports it
	}
	kind, _ := keys["kind"].(string)
	secrets := secretPaths(kind)
	item := string(it.Kind) + " " + strconv.Quote(it.ID)
	var probs []Problem
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, inner := range x {
				p := joinKey(path, k)
				if strings.HasSuffix(k, "_file") {
					probs = append(probs, Problem{Item: item, Path: p, Message: "reads a file on the server: a check made in the console may not; set it in the configuration file"})
					continue
				}
				walk(inner, p)
			}
		case []any:
			for i, inner := range x {
				walk(inner, fmt.Sprintf("%s[%d]", path, i))
			}
		case string:
			for _, m := range envRef.FindAllStringSubmatch(x, -1) {
				switch {
				case !secrets[path]:
					probs = append(probs, Problem{Item: item, Path: path, Message: fmt.Sprintf("${%s}: a check made in the console may reference the environment only in its secret keys", m[1])})
				case !slices.Contains(allowed, m[1]):
					probs = append(probs, Problem{Item: item, Path: path, Message: fmt.Sprintf("${%s} is not one the configuration lets the console use (server.console_env lists them)", m[1])})
				}
			}
		}
	}
	walk(keys, "")
	return probs
}
