package upstate

import (
	"fmt"
	"strings"
)

// Status is a component's status in Atlassian Statuspage's vocabulary.
type Status string

// The component statuses, verbatim from Statuspage.
const (
	Operational         Status = "operational"
	DegradedPerformance Status = "degraded_performance"
	PartialOutage       Status = "partial_outage"
	MajorOutage         Status = "major_outage"
	UnderMaintenance    Status = "under_maintenance"
)

// Statuses lists every component status from best to worst; maintenance last.
func Statuses() []Status {
	return []Status{Operational, DegradedPerformance, PartialOutage, MajorOutage, UnderMaintenance}
}

// Valid reports whether s is one of the Statuspage component statuses.
func (s Status) Valid() bool {
	switch s {
	case Operational, DegradedPerformance, PartialOutage, MajorOutage, UnderMaintenance:
		return true
	}
	return false
}

// Severity orders statuses by how much they hurt users: operational and
// under_maintenance 0, degraded_performance 1, partial_outage 2,
// major_outage 3.
func (s Status) Severity() int {
	switch s {
	case DegradedPerformance:
		return 1
	case PartialOutage:
		return 2
	case MajorOutage:
		return 3
	}
	return 0
}

// Label is the status in words for people ("Partial outage").
func (s Status) Label() string {
	switch s {
	case Operational:
		return "Operational"
	case DegradedPerformance:
		return "Degraded performance"
	case PartialOutage:
		return "Partial outage"
	case MajorOutage:
		return "Major outage"
	case UnderMaintenance:
		return "Under maintenance"
	}
	return string(s)
}

// OutageWeight is how much of a status's time counts as downtime in
// uptime figures: a major outage fully, a partial outage 30%; degraded
// performance and maintenance count as up.
func (s Status) OutageWeight() float64 {
	switch s {
	case MajorOutage:
		return 1
	case PartialOutage:
		return 0.3
	}
	return 0
}

// Impact is the incident impact the status implies.
func (s Status) Impact() Impact {
	switch s {
	case DegradedPerformance:
		return ImpactMinor
	case PartialOutage:
		return ImpactMajor
	case MajorOutage:
		return ImpactCritical
	}
	return ImpactNone
}

// Worse returns the worse of a and b; under_maintenance loses to any
// failure and beats operational.
func Worse(a, b Status) Status {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	if a.Severity() != b.Severity() {
		if a.Severity() > b.Severity() {
			return a
		}
		return b
	}
	if b == UnderMaintenance {
		return b
	}
	return a
}

// ParseStatus parses a component status, naming the valid ones on error.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !st.Valid() {
		return "", Errorf(EINVALID, "%q is not a component status (one of operational, degraded_performance, partial_outage, major_outage, under_maintenance)", s)
	}
	return st, nil
}

// Impact is an incident's impact in Statuspage's vocabulary.
type Impact string

// The incident impacts. ImpactMaintenance is used only for maintenances.
const (
	ImpactNone        Impact = "none"
	ImpactMinor       Impact = "minor"
	ImpactMajor       Impact = "major"
	ImpactCritical    Impact = "critical"
	ImpactMaintenance Impact = "maintenance"
)

// Rank orders impacts: none 0 … critical 3; maintenance ranks with none.
func (i Impact) Rank() int {
	switch i {
	case ImpactMinor:
		return 1
	case ImpactMajor:
		return 2
	case ImpactCritical:
		return 3
	}
	return 0
}

// Label is the impact as a word for people ("Major").
func (i Impact) Label() string {
	switch i {
	case ImpactMinor:
		return "Minor"
	case ImpactMajor:
		return "Major"
	case ImpactCritical:
		return "Critical"
	case ImpactMaintenance:
		return "Maintenance"
	}
	return "None"
}

// Indicator is the page-wide status indicator and its usual description, as
// Statuspage reports it in status.json.
func (i Impact) Indicator() (indicator, description string) {
	switch i {
	case ImpactMinor:
		return "minor", "Minor Service Outage"
	case ImpactMajor:
		return "major", "Partial System Outage"
	case ImpactCritical:
		return "critical", "Major Service Outage"
	case ImpactMaintenance:
		return "maintenance", "Service Under Maintenance"
	}
	return "none", "All Systems Operational"
}

// IncidentStatus is an incident's status in Statuspage's vocabulary.
type IncidentStatus string

// The incident statuses, verbatim from Statuspage.
const (
	Investigating IncidentStatus = "investigating"
	Identified    IncidentStatus = "identified"
	Monitoring    IncidentStatus = "monitoring"
	Resolved      IncidentStatus = "resolved"
	Postmortem    IncidentStatus = "postmortem"
)

// Open reports whether an incident in this status is unresolved.
func (s IncidentStatus) Open() bool {
	return s == Investigating || s == Identified || s == Monitoring
}

// Label is the status as a word for people and feeds ("Investigating").
func (s IncidentStatus) Label() string {
	switch s {
	case MaintenanceScheduled:
		return "Scheduled"
	case MaintenanceInProgress:
		return "In progress"
	case MaintenanceCompleted:
		return "Completed"
	case Investigating:
		return "Investigating"
	case Identified:
		return "Identified"
	case Monitoring:
		return "Monitoring"
	case Resolved:
		return "Resolved"
	case Postmortem:
		return "Postmortem"
	}
	return "Update"
}

// State is a check's confirmed condition: up, degraded or down.
type State string

// The check states. StateUnknown is a check with no decision yet.
const (
	StateUnknown  State = "unknown"
	StateUp       State = "up"
	StateDegraded State = "degraded"
	StateDown     State = "down"
)

// Rank orders states: unknown and up 0, degraded 1, down 2.
func (s State) Rank() int {
	switch s {
	case StateDegraded:
		return 1
	case StateDown:
		return 2
	}
	return 0
}

// Failing reports whether the state is worse than up.
func (s State) Failing() bool { return s.Rank() > 0 }

// ImpactKey names what a condition means for the components a check
// affects: the key of a check's impact map.
type ImpactKey string

// The impact keys: slow answers, failing part of the time, failing.
const (
	ImpactDegraded ImpactKey = "degraded"
	ImpactPartial  ImpactKey = "partial"
	ImpactDown     ImpactKey = "down"
)

// DefaultImpact maps each impact key to the component status it causes
// unless a check overrides it.
func DefaultImpact(k ImpactKey) Status {
	switch k {
	case ImpactDegraded:
		return DegradedPerformance
	case ImpactPartial:
		return PartialOutage
	case ImpactDown:
		return MajorOutage
	}
	return Operational
}

// String implements fmt.Stringer.
func (s State) String() string {
	if s == "" {
		return string(StateUnknown)
	}
	return string(s)
}

var _ fmt.Stringer = StateUp

// EscapeMarkdown makes text taken from elsewhere (an error message, a
// configured name) safe to put in a Markdown timeline entry: a "<" cannot
// start raw HTML (which the renderer drops) and a backslash stays a
// backslash. Other punctuation renders as itself in running text.
func EscapeMarkdown(s string) string {
	if !strings.ContainsAny(s, `\<`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `<`, `\<`).Replace(s)
}
