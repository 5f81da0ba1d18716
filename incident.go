package upstate

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// IsHTTPURL reports whether s is an absolute http or https URL: the only
// links an incident may carry to a provider, from a feed or from people
// (pages, the API and notifications show them; javascript: and data:
// must never get there).
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Incident is a problem users feel, over one or more components.
type Incident struct {
	ID           string
	Name         string
	Status       IncidentStatus
	Impact       Impact
	CreatedAt    time.Time
	UpdatedAt    time.Time
	StartedAt    time.Time  // when the failure began (first failing result)
	DetectedAt   time.Time  // when Upstate confirmed it
	MonitoringAt *time.Time // when it entered monitoring, if it did
	ResolvedAt   *time.Time
	// Components are the ids of the affected components.
	Components []string
	// Auto is set on incidents opened by checks rather than people.
	Auto bool
	// Overrides are component statuses people set on the incident; while
	// it is open a component shows the worse of these and its checks'.
	Overrides map[string]Status
	// Reach says how much the incident hurts, beyond where.
	Reach Reach
	// Upstream is set when the cause is a third party's incident.
	Upstream *Upstream
	// AcknowledgedAt and AcknowledgedBy record the first person to take
	// the incident on.
	AcknowledgedAt *time.Time
	AcknowledgedBy string
	// MergedInto is the incident this one was merged into, if any; a
	// merged incident is resolved and its timeline copied to the other.
	MergedInto string
	// Updates is the timeline, oldest first.
	Updates []TimelineEntry
	// Hidden is set when people hid the incident from the public side (it
	// was opened by mistake): the admin and the report still show it,
	// with the reason.
	Hidden *Hidden
}

// Hidden says who hid an incident from the public, when and why.
type Hidden struct {
	Reason string
	By     string
	At     time.Time
}

// Open reports whether the incident is unresolved.
func (i *Incident) Open() bool { return i.Status.Open() }

// Duration is how long the incident lasted (so far, at now).
func (i *Incident) Duration(now time.Time) time.Duration {
	end := now
	if i.ResolvedAt != nil {
		end = *i.ResolvedAt
	}
	return end.Sub(i.StartedAt)
}

// HasComponent reports whether the incident affects the component.
func (i *Incident) HasComponent(id string) bool {
	for _, c := range i.Components {
		if c == id {
			return true
		}
	}
	return false
}

// Reach is how much an incident hurts: the share of requests failing and
// who is affected. Zero values mean unknown.
type Reach struct {
	// FailingPercent is the share of requests failing, 0–100: the one
	// figure, or the lower end of a range when FailingMax is set; nil
	// when unknown.
	FailingPercent *float64
	// FailingMax, when set with FailingPercent, makes the share a range:
	// FailingPercent to FailingMax ("10–25% of requests"). Nil for one
	// figure, so everything written before ranges reads as it did.
	FailingMax *float64
	Regions    []string // e.g. "EU", "us-east-1"
	Segments   []string // customer segments, e.g. "schools on SSO"
}

// Empty reports whether the scope says nothing.
func (s Reach) Empty() bool {
	return s.FailingPercent == nil && len(s.Regions) == 0 && len(s.Segments) == 0
}

// Failing is the share of requests failing as a range: lo == hi for one
// figure (or a range whose ends are the same); ok is false when unknown.
// A FailingMax without a FailingPercent is no share (validation refuses
// it).
func (s Reach) Failing() (lo, hi float64, ok bool) {
	if s.FailingPercent == nil {
		return 0, 0, false
	}
	lo, hi = *s.FailingPercent, *s.FailingPercent
	if s.FailingMax != nil && *s.FailingMax > lo {
		hi = *s.FailingMax
	}
	return lo, hi, true
}

// IsRange reports whether the share of requests failing is a range
// rather than one figure.
func (s Reach) IsRange() bool {
	lo, hi, ok := s.Failing()
	return ok && hi > lo
}

// FailingWords is the share of requests failing in words, without what
// fails: "about 25%" for one figure, "10–25%" for a range; empty when
// unknown.
func (s Reach) FailingWords() string {
	lo, hi, ok := s.Failing()
	switch {
	case !ok:
		return ""
	case hi > lo:
		return formatPercent(lo) + "–" + formatPercent(hi) + "%"
	}
	return "about " + formatPercent(lo) + "%"
}

// formatPercent writes a share as it was given: 25, 12.5.
func formatPercent(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64)
}

// Describe says how much an incident hurts in words: "about 25% of
// requests failing; regions: EU, us-east; affecting: schools on SSO", or
// "10–25% of requests failing" for a range.
func (s Reach) Describe() string {
	var parts []string
	if w := s.FailingWords(); w != "" {
		parts = append(parts, w+" of requests failing")
	}
	if len(s.Regions) > 0 {
		parts = append(parts, "regions: "+strings.Join(s.Regions, ", "))
	}
	if len(s.Segments) > 0 {
		parts = append(parts, "affecting: "+strings.Join(s.Segments, ", "))
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, "; ")
}

// Upstream links an incident to a third party's incident that caused it.
type Upstream struct {
	Provider string // e.g. "Google Workspace"
	Title    string // the provider's incident title, if known
	URL      string // the provider's status page or incident page
}

// ProviderReport is what one read of a provider's status (an upstream
// check) found, carried on its result to the incident engine: which of
// the provider's incidents the check fails on, and the updates to mirror
// onto our incidents linked to theirs.
type ProviderReport struct {
	// Cause is the provider's incident the result fails on (the worst one
	// open); nil when the provider reports none. Confirmed, it is the
	// condition's Upstream, and the incident it opens or joins is linked
	// to it.
	Cause *Upstream
	// Partial is set when the cause is the provider's partial outage of
	// the watched products (a failing-part-of-the-time condition, our
	// partial_outage unless the check's impact says otherwise), rather
	// than a degradation or a major outage.
	Partial bool
	// News is what the provider says on each of its incidents: first those
	// that ended since the read before (so their closing words land on our
	// timeline before our resolution), then the open ones.
	News []ProviderNews
}

// ProviderNews is one provider incident's updates, to mirror onto our
// open incident linked to it (by Link's provider and URL).
type ProviderNews struct {
	Link    Upstream
	Updates []ProviderUpdate // oldest first
}

// ProviderUpdate is an update a provider posted on its incident.
type ProviderUpdate struct {
	// Key is the update's identity across reads: the provider's update id,
	// or a hash of what it says; never its time, which feeds rewrite.
	// Empty means the text is the identity.
	Key  string
	At   time.Time
	Text string
	// Status is the provider's incident status as of the update, in the
	// words both use (investigating, identified, monitoring, resolved);
	// empty when the feed has none (Google's, most RSS).
	Status IncidentStatus
}

// TimelineEntry is one event on an incident's timeline.
type TimelineEntry struct {
	ID         string
	IncidentID string
	At         time.Time
	Status     IncidentStatus
	Body       string
	Public     bool
	Actor      string // "upstate" for automatic entries, else the person
	Affected   []AffectedComponent
	// Kind is what wrote the entry and for whom (EntryUpdate, ...).
	Kind EntryKind
	// EditedAt and EditedBy are set once a person corrected the entry's
	// words (the words before are kept, see EntryEdit).
	EditedAt *time.Time
	EditedBy string
	// WrittenAt is when the entry was written, set only when that was
	// after At: a person entering what happened earlier ("8:42 am
	// (written 9:30 am)"). Zero for an entry written as it happened.
	WrittenAt time.Time
	// Until, when set, makes the entry a span rather than a moment: what
	// it tells lasted from At until then ("10:40 am to 11:03 am"). Never
	// before At, never in the future; nil for a moment.
	Until *time.Time
	// BodyHTML is Body as the markdown package renders it, when the store
	// read the HTML it rendered as it wrote the entry with the renderer
	// this binary runs (markdown.Version); empty otherwise, when readers
	// render Body themselves. Only a store sets it: what is written is
	// rendered from Body, whatever a caller puts here. Never encoded (an
	// event's entries are kept as JSON in the outbox).
	BodyHTML string `json:"-"`
}

// Span reports whether the entry tells of a span (At to Until) rather
// than a moment: an end after its start.
func (e TimelineEntry) Span() bool { return e.Until != nil && e.Until.After(e.At) }

// RecentPast is how old a change may be when a person tells of it and
// still be news: told at most this long after it happened, it notifies as
// if it were now; older (an update from last week, a resolution entered
// after the fact), it is written and told to no one.
const RecentPast = time.Hour

// WrittenLate reports whether the entry was written at least a minute
// after the time it tells of, so pages show both.
func (e TimelineEntry) WrittenLate() bool {
	return !e.WrittenAt.IsZero() && e.WrittenAt.Sub(e.At) >= time.Minute
}

// EntryKind is what wrote a timeline entry and for whom: only the
// public words of a kind may be published.
type EntryKind string

// The kinds of timeline entry. Automatic entries are written twice: the
// plain words (EntryAutomatic, public or held for a person to publish)
// and the evidence behind them (EntryEvidence, internal for ever).
const (
	EntryUpdate    EntryKind = "update"    // a person's public update
	EntryNote      EntryKind = "note"      // a person's internal note
	EntryAutomatic EntryKind = "automatic" // Upstate's plain words for the public
	EntryEvidence  EntryKind = "evidence"  // Upstate's evidence: checks, codes, errors; never public
	EntryProvider  EntryKind = "provider"  // a provider's update, mirrored
)

// Publishable reports whether an entry of the kind may be made public.
func (k EntryKind) Publishable() bool { return k != EntryEvidence }

// EntryEdit is one correction of a timeline entry's words: what it said
// before, who changed it and when.
type EntryEdit struct {
	EntryID  string
	At       time.Time
	By       string
	Previous string
}

// AffectedComponent records a component's status change in a timeline entry.
type AffectedComponent struct {
	ComponentID string
	OldStatus   Status
	NewStatus   Status
}

// Maintenance is a planned window of work on components. While it is in
// progress its components show under_maintenance and their checks open no
// incidents.
type Maintenance struct {
	ID             string
	Name           string
	Message        string // Markdown, shown with the window
	ScheduledFor   time.Time
	ScheduledUntil time.Time
	Components     []string
	Author         string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// The maintenance statuses, verbatim from Statuspage; maintenance
// timelines use them where incidents use their own statuses.
const (
	MaintenanceScheduled  IncidentStatus = "scheduled"
	MaintenanceInProgress IncidentStatus = "in_progress"
	MaintenanceCompleted  IncidentStatus = "completed"
)

// StatusAt is the maintenance's status at t: scheduled before its window,
// in_progress during it, completed after.
func (m Maintenance) StatusAt(t time.Time) IncidentStatus {
	switch {
	case t.Before(m.ScheduledFor):
		return MaintenanceScheduled
	case t.Before(m.ScheduledUntil):
		return MaintenanceInProgress
	}
	return MaintenanceCompleted
}

// Covers reports whether the maintenance is in progress at t on the component.
func (m Maintenance) Covers(component string, t time.Time) bool {
	if m.StatusAt(t) != MaintenanceInProgress {
		return false
	}
	for _, c := range m.Components {
		if c == component {
			return true
		}
	}
	return false
}

// ActorUpstate is the actor of automatic timeline entries.
const ActorUpstate = "upstate"

// FiringAlert is an inbound alert (from Alertmanager or Grafana) that is
// firing on a check, kept until it resolves.
type FiringAlert struct {
	CheckID     string
	Fingerprint string
	Severity    string // the alert's severity label, as sent
	Summary     string
	Source      string // "alertmanager" or "grafana"
	URL         string // where the alert came from (generator or panel)
	StartsAt    time.Time
	SeenAt      time.Time // when it was last sent to us as firing
}

// IncidentFilter selects incidents.
type IncidentFilter struct {
	OpenOnly bool
	// Hidden selects by whether people hid incidents from the public:
	// HiddenAny (the zero value: the admin, the engine, reports),
	// HiddenExclude (what the public sees), HiddenOnly.
	Hidden HiddenFilter
	// Unmerged leaves out incidents merged into others: what the public
	// page and reports show.
	Unmerged bool
	Since    time.Time // created at or after, when set
	Limit    int       // 0 for no limit
	// Offset skips that many of the incidents selected (paging).
	Offset int
	// ResolvedOnly keeps incidents that are not open.
	ResolvedOnly bool
	// Status keeps incidents at exactly that status, when set.
	Status IncidentStatus
	// Component keeps incidents affecting it, when set.
	Component string
	// Words keeps incidents whose name contains every one of them,
	// whatever the case.
	Words []string
}

// HiddenFilter is IncidentFilter.Hidden.
type HiddenFilter string

// The values of IncidentFilter.Hidden.
const (
	HiddenAny     HiddenFilter = ""
	HiddenExclude HiddenFilter = "exclude"
	HiddenOnly    HiddenFilter = "only"
)

// GuessKind is the kind of an entry written without one, by who wrote it
// and for whom; Upstate's internal entries are taken for evidence, so an
// entry of unknown kind is never published by mistake.
func (e TimelineEntry) GuessKind() EntryKind {
	switch {
	case e.Kind != "":
		return e.Kind
	case e.Actor != ActorUpstate && e.Public:
		return EntryUpdate
	case e.Actor != ActorUpstate:
		return EntryNote
	case e.Public:
		return EntryAutomatic
	}
	return EntryEvidence
}
