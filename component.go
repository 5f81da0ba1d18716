package upstate

import "time"

// Component is a part of the service as users see it.
type Component struct {
	ID          string
	Name        string
	Group       string // display group; empty for ungrouped
	Description string
	DependsOn   []string // ids of components this one needs to work
	Position    int      // order on the page, from configuration order
	CreatedAt   time.Time
	// Messages are the operator's words for the public entries Upstate
	// writes about this component; empty ones keep the plain defaults.
	// From configuration; not stored.
	Messages ComponentMessages
}

// ComponentMessages are what the public timeline says when a component is
// down (major outage), failing for some requests (partial outage), slow
// (degraded performance), or working again. Markdown.
type ComponentMessages struct {
	Down, Partial, Degraded, Resolved string
}

// ComponentState is a component with its current status.
type ComponentState struct {
	Component
	Status    Status
	UpdatedAt time.Time
	// Hold is a status a person set on the component outside any
	// incident; it shows until they clear it (checks can only make the
	// component look worse). Empty when none.
	Hold Hold
}

// Hold is a component status set by a person, outside any incident.
type Hold struct {
	Status Status // empty: no hold
	By     string
	At     time.Time
}

// StatusChange is one change of a component's status, the unit of
// component history (uptime bars are derived from these).
type StatusChange struct {
	ComponentID string
	At          time.Time
	Status      Status
	IncidentID  string // the incident that caused it, if any
}
