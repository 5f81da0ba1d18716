package upstate

import (
	"strings"
	"time"
)

// EventType names what happened, as notifications say it.
type EventType string

// The incident events. Channels and subscribers choose among them.
const (
	EventIncidentCreated      EventType = "incident.created"
	EventIncidentUpdated      EventType = "incident.updated"
	EventIncidentAcknowledged EventType = "incident.acknowledged"
	EventIncidentResolved     EventType = "incident.resolved"
	EventIncidentReopened     EventType = "incident.reopened"
	// EventIncidentReminder repeats an open incident's news when nothing
	// has been said for the re-notify interval.
	EventIncidentReminder EventType = "incident.reminder"
	// The maintenance events: planned, begun, over, called off.
	EventMaintenanceScheduled EventType = "maintenance.scheduled"
	EventMaintenanceStarted   EventType = "maintenance.started"
	EventMaintenanceCompleted EventType = "maintenance.completed"
	EventMaintenanceCancelled EventType = "maintenance.cancelled"
	// The warning events, for the team's own channels only (never
	// subscribers, pages or alerting services): a check's warning began
	// or came closer (upstate.Warning.Stage), and it is over.
	EventWarningRaised  EventType = "warning.raised"
	EventWarningCleared EventType = "warning.cleared"
	// EventTest is a sample sent on request to try a channel.
	EventTest EventType = "test"
)

// EventTypes lists every event type people can route.
func EventTypes() []EventType {
	return []EventType{EventIncidentCreated, EventIncidentUpdated, EventIncidentAcknowledged, EventIncidentResolved, EventIncidentReopened, EventIncidentReminder,
		EventMaintenanceScheduled, EventMaintenanceStarted, EventMaintenanceCompleted, EventMaintenanceCancelled,
		EventWarningRaised, EventWarningCleared}
}

// Event is something people may need to hear about: one change to one
// incident, with the timeline entries it wrote.
type Event struct {
	// ID is deterministic for the change (the incident and its newest
	// entry), so routing it twice makes the same messages.
	ID   string
	Type EventType
	At   time.Time
	// Incident is the incident after the change, without its timeline.
	Incident Incident
	// Entries are the timeline entries the change wrote, oldest first.
	Entries []TimelineEntry
	// Acknowledged is set when this change acknowledged the incident.
	Acknowledged bool
	// Names maps the incident's component ids to their names.
	Names map[string]string
	// Page is set on a message that pages a person on call.
	Page *Page
	// Maintenance is set on maintenance events (Incident is then empty).
	Maintenance *Maintenance
	// Warning is set on warning events (Incident is then empty).
	Warning *Warning
}

// Components are the ids of what the event is about.
func (e Event) Components() []string {
	if e.Maintenance != nil {
		return e.Maintenance.Components
	}
	if e.Warning != nil {
		return e.Warning.Components
	}
	return e.Incident.Components
}

// Stream is the ordering key of the event's messages: its incident or
// maintenance.
func (e Event) Stream() string {
	if e.Maintenance != nil {
		return "maintenance:" + e.Maintenance.ID
	}
	if e.Warning != nil {
		return e.Warning.Stream()
	}
	return e.Incident.ID
}

// Page says whom a paging message is for and how they acknowledge.
type Page struct {
	Level  int // escalation level, from 1
	Run    int // repeat of the levels, from 1
	Person string
	// AckURL acknowledges the incident as Person, signed; empty when the
	// page has no public URL.
	AckURL string
}

// Owed is what an event owes: messages to send, and streams of pages
// nobody needs any more (the incident was acknowledged or resolved).
type Owed struct {
	Messages []Message
	// Cancel lists stream prefixes whose pending messages are cancelled.
	Cancel []string
}

// PageStream is the stream prefix of an incident's pages.
func PageStream(incidentID string) string { return pageStreamPrefix + incidentID + ":" }

const pageStreamPrefix = "page:"

// Public reports whether the event has anything the public may see.
func (e Event) Public() bool {
	for _, x := range e.Entries {
		if x.Public {
			return true
		}
	}
	return false
}

// Latest returns the newest entry, public ones first when publicOnly.
func (e Event) Latest(publicOnly bool) (TimelineEntry, bool) {
	for i := len(e.Entries) - 1; i >= 0; i-- {
		if !publicOnly || e.Entries[i].Public {
			return e.Entries[i], true
		}
	}
	return TimelineEntry{}, false
}

// MessageState is where a message is in its delivery.
// Pending until delivered (sent) or given up on (failed).
type MessageState string

// The message states.
const (
	MessagePending MessageState = "pending"
	MessageSent    MessageState = "sent"
	MessageFailed  MessageState = "failed"
	// MessageCancelled is a page that was no longer needed when it fell
	// due: someone acknowledged, or the incident ended.
	MessageCancelled MessageState = "cancelled"
	// MessageSilenced was due while a silence matched it, so it was not sent.
	MessageSilenced MessageState = "silenced"
)

// Message is a notification owed to a channel, kept in the outbox until
// it is delivered or given up on. Messages of one stream are delivered in
// the order they were written.
type Message struct {
	// ID is the idempotency key receivers can deduplicate on; it stays the
	// same across retries.
	ID string
	// Seq is the store's order of messages (set when it is written).
	Seq     int64
	Channel string
	// Stream orders delivery: one incident's messages to one channel.
	Stream    string
	Event     Event
	CreatedAt time.Time
	NextAt    time.Time // when the next attempt is due
	Attempts  int
	State     MessageState
	LastError string
	SentAt    *time.Time
}

// Lane is a delivery lane: each has its own workers, so what one lane's
// receivers do (hang, fail, flood) never delays another's. Pages to people
// on call come first, then the team's own channels; the public's
// subscriptions, whose addresses outsiders choose, have a lane of their own.
type Lane string

// The lanes, most urgent first.
const (
	LanePage       Lane = "page"
	LaneOperator   Lane = "operator"
	LaneSubscriber Lane = "subscriber"
)

// Lanes lists every lane, most urgent first (a new slice each call: no
// caller can change another's).
func Lanes() []Lane { return []Lane{LanePage, LaneOperator, LaneSubscriber} }

// Lane is the lane the message is delivered in.
func (m Message) Lane() Lane {
	switch {
	case strings.HasPrefix(m.Stream, pageStreamPrefix):
		return LanePage
	case IsSubscriberChannel(m.Channel):
		return LaneSubscriber
	}
	return LaneOperator
}

// DueQuery asks the outbox for messages due for delivery.
type DueQuery struct {
	Lane Lane
	Now  time.Time
	// After skips messages up to and including this Seq, so a caller can
	// page through the due messages.
	After int64
	Limit int
	// Claimant, in a cluster, is the instance asking: a message another
	// instance has claimed (Outbox.ClaimMessage) until after Now is not
	// due to it. Empty alone, where nothing is claimed.
	Claimant string
}
