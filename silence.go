package upstate

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Silence mutes notifications that match all its matchers while it is
// active: planned work nobody needs paging about, or a known issue.
type Silence struct {
	ID        string
	Matchers  []Matcher
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string // why, for the people it mutes
	CreatedAt time.Time
}

// Matcher compares one property of a message: component (any of the
// incident's), channel, event, incident (its id) or person (a page's).
type Matcher struct {
	Name   string
	Value  string
	Negate bool // "!=": matches when the property differs
}

// MatcherNames are the properties a matcher can compare.
func MatcherNames() []string { return []string{"component", "channel", "event", "incident", "person"} }

// ParseMatcher reads "component=api" or "channel!=ops-slack".
func ParseMatcher(s string) (Matcher, error) {
	name, value, ok := strings.Cut(s, "=")
	m := Matcher{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)}
	if ok && strings.HasSuffix(m.Name, "!") {
		m.Name, m.Negate = strings.TrimSpace(strings.TrimSuffix(m.Name, "!")), true
	}
	if !ok || m.Value == "" || !slices.Contains(MatcherNames(), m.Name) {
		return Matcher{}, fmt.Errorf("%q is not NAME=VALUE or NAME!=VALUE with NAME one of %s", s, strings.Join(MatcherNames(), ", "))
	}
	return m, nil
}

// String writes the matcher as ParseMatcher reads it.
func (m Matcher) String() string {
	op := "="
	if m.Negate {
		op = "!="
	}
	return m.Name + op + m.Value
}

// Active reports whether the silence is in force at t.
func (s Silence) Active(t time.Time) bool { return !t.Before(s.StartsAt) && t.Before(s.EndsAt) }

// Mutes reports whether the silence, active at t, mutes the message.
func (s Silence) Mutes(m Message, t time.Time) bool {
	if !s.Active(t) || len(s.Matchers) == 0 {
		return false
	}
	for _, x := range s.Matchers {
		if x.matches(m) == x.Negate {
			return false
		}
	}
	return true
}

func (x Matcher) matches(m Message) bool {
	switch x.Name {
	case "component":
		return slices.Contains(m.Event.Incident.Components, x.Value)
	case "channel":
		return m.Channel == x.Value
	case "event":
		return string(m.Event.Type) == x.Value
	case "incident":
		return m.Event.Incident.ID == x.Value
	case "person":
		return m.Event.Page != nil && m.Event.Page.Person == x.Value
	}
	return false
}
