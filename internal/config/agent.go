package config

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"
)

// agentDrops are the check keys a probe agent has no use for: what the
// check affects and how its results are decided stay with the server,
// which decides every region's results itself.
func agentDrops() []string {
	return []string{"components", "depends_on", "impact", "regions", "quorum", "paused", "recheck", "burst",
		"fast_interval", "fail_after", "recover_after", "recovery_window"}
}

// AgentYAML is a check as a probe agent compiles it: its mapping from the
// file (or, for a check made in the console, its item's) with ${ENV}
// references resolved here (the agent runs the server's check, secrets
// included) and without the keys only the server uses.
func (c *Config) AgentYAML(id string) ([]byte, error) {
	defs, err := c.AgentYAMLs([]string{id})
	if err != nil {
		return nil, err
	}
	return defs[id], nil
}

// AgentYAMLs is AgentYAML for each of ids, reading the file's checks once
// (a run at a time where it can, as Parse does) however many there are.
func (c *Config) AgentYAMLs(ids []string) (map[string][]byte, error) {
	defs := make(map[string][]byte, len(ids))
	want := map[string]bool{}
	for _, id := range ids {
		if n := c.consoleChecks[id]; n != nil {
			def, err := c.agentMapping(n)
			if err != nil {
				return nil, fmt.Errorf("check %s: %w", id, err)
			}
			defs[id] = def
			continue
		}
		want[id] = true
	}
	if len(want) == 0 {
		return defs, nil
	}
	if !c.FromFile() {
		return nil, fmt.Errorf("check %s: the configuration has no file text", slices.Sorted(maps.Keys(want))[0])
	}
	var bad error
	var found []string // in the file
	err := fileChecks(c.File, c.Source(), func(i int, n *yaml.Node) {
		if i == 0 {
			// From the first again (fileChecks): what was given is given
			// again.
			for _, id := range found {
				want[id] = true
			}
			found, bad = found[:0], nil
		}
		id := scalar(mappingValue(n, "id"))
		if n.Kind != yaml.MappingNode || !want[id] {
			return
		}
		delete(want, id) // the first with the id, as the whole list was searched
		found = append(found, id)
		def, err := c.agentMapping(n)
		if err != nil && bad == nil {
			bad = fmt.Errorf("check %s: %w", id, err)
		}
		defs[id] = def
	})
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	if len(want) > 0 {
		return nil, fmt.Errorf("check %s: not found in the file nor the console", slices.Sorted(maps.Keys(want))[0])
	}
	return defs, nil
}

// agentMapping is a check's mapping without the server's own keys, its
// ${ENV} references resolved.
func (c *Config) agentMapping(n *yaml.Node) ([]byte, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("a check's definition is not a mapping")
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if slices.Contains(agentDrops(), n.Content[i].Value) {
			continue
		}
		out.Content = append(out.Content, plain(n.Content[i], nil), plain(n.Content[i+1], c.Lookup))
	}
	return yaml.Marshal(out)
}

// AgentChecks compiles the checks a probe agent was sent (AgentYAML's
// mappings) with the same validation as the server's file: each is given
// a stand-in component, the only key the agent's copy lacks.
func AgentChecks(defs [][]byte) (*Config, error) {
	var buf bytes.Buffer
	buf.WriteString("page:\n  name: probe agent\ncomponents:\n  - id: probe\n    name: probe\nchecks:\n")
	for i, d := range defs {
		var n yaml.Node
		if err := yaml.Unmarshal(d, &n); err != nil || len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			return nil, fmt.Errorf("check %d from the server is not a mapping", i+1)
		}
		m := n.Content[0]
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "components"},
			&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "probe"}}})
		item, err := yaml.Marshal(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{m}})
		if err != nil {
			return nil, err
		}
		for _, line := range bytes.SplitAfter(item, []byte("\n")) {
			if len(line) > 0 {
				buf.WriteString("  ")
				buf.Write(line)
			}
		}
	}
	if len(defs) == 0 {
		buf.WriteString("  []\n")
	}
	return Parse("agent", buf.Bytes(), func(string) (string, bool) { return "", false })
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// plain copies a node without comments, anchors resolved, and ${ENV}
// references in scalars resolved by lookup (nil: kept as they are).
func plain(n *yaml.Node, lookup func(string) (string, bool)) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return plain(n.Alias, lookup)
	}
	out := &yaml.Node{Kind: n.Kind, Tag: n.Tag, Value: n.Value, Style: n.Style &^ (yaml.TaggedStyle)}
	if n.Kind == yaml.ScalarNode && lookup != nil {
		d := &decoder{lookup: lookup}
		if v := d.expandVars(n.Value, func(string) {}); v != n.Value {
			out.Value, out.Tag, out.Style = v, "", 0
		}
	}
	for _, c := range n.Content {
		out.Content = append(out.Content, plain(c, lookup))
	}
	return out
}
