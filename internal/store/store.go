// Package store declares what Upstate keeps and reads back. Backends live
// in subpackages (sqlite, later postgres) and all pass the conformance
// suite in storetest. Consumers declare the smaller interfaces they need;
// Store is the whole, for wiring and the suite.
package store

import (
	"context"
	"math"
	"time"

	"github.com/upstatehq/upstate"
)

// Store is everything a backend provides.
type Store interface {
	Components
	Results
	Conditions
	Incidents
	History
	Heartbeats
	Accounts
	Maintenances
	Postmortems
	Outbox
	Settings
	Silences
	Subscribers
	Alerts
	Metrics
	OnCallOverrides
	Warnings
	Artifacts
	Corrections
	Audit
	ConsoleItems
	Imports
	Rendered
	// Flush waits until every write accepted so far is durable.
	Flush(ctx context.Context) error
	// WriteHealth says whether the store is accepting writes: nil, or an
	// EUNAVAILABLE error that says why (locked, disk full, I/O errors, a
	// stalled write) and when to try again. Writes that cannot be made
	// fail fast with the same error rather than hang.
	WriteHealth() error
	// Probe makes one small write, so WriteHealth is current when nothing
	// else is written.
	Probe(ctx context.Context) error
	Close() error
}

// Components keeps the components and their current statuses.
type Components interface {
	// SyncComponents makes the stored components match the configured ones:
	// new ones are added (operational), changed ones updated, missing ones
	// removed; statuses and history of kept ones are untouched.
	SyncComponents(ctx context.Context, cs []upstate.Component, now time.Time) error
	ListComponents(ctx context.Context) ([]upstate.ComponentState, error)
}

// Results keeps raw results for the retention window and their rollups.
type Results interface {
	// AppendResults queues results for a batched write; it returns once
	// they are queued. Flush waits for them.
	AppendResults(ctx context.Context, rs []upstate.Result) error
	// ListResults returns a check's raw results in [from, to), oldest first.
	ListResults(ctx context.Context, checkID string, from, to time.Time) ([]upstate.Result, error)
	// LatestByRegion returns, of each of the checks, the latest result
	// of each region that reported since since (Region "" for this
	// server's own), ordered by check and region.
	LatestByRegion(ctx context.Context, checkIDs []string, since time.Time) ([]upstate.Result, error)
	// ListRollups returns rollups of the checks for buckets in [from, to).
	ListRollups(ctx context.Context, period Period, checkIDs []string, from, to time.Time) ([]Rollup, error)
	// SumRollups returns the checks' rollups for buckets in [from, to)
	// added up in the database: ByBucket one per bucket, over the checks
	// (CheckID empty), in time order; ByCheck one per check, over the
	// buckets (Start is from), in id order. No checks is every check.
	SumRollups(ctx context.Context, period Period, checkIDs []string, from, to time.Time, by SumBy) ([]Rollup, error)
	// Prune drops raw results older than rawBefore and hourly rollups
	// older than hourlyBefore; daily rollups are kept.
	Prune(ctx context.Context, rawBefore, hourlyBefore time.Time) (int64, error)
}

// Period is a rollup bucket size.
type Period string

// Rollup periods: hours and days, both aligned to UTC.
const (
	Hour Period = "hour"
	Day  Period = "day"
)

// Bucket returns the start of t's bucket.
func (p Period) Bucket(t time.Time) time.Time {
	if p == Day {
		return t.UTC().Truncate(24 * time.Hour)
	}
	return t.UTC().Truncate(time.Hour)
}

// Rollup summarises a check's results over one bucket.
type Rollup struct {
	CheckID    string
	Period     Period
	Start      time.Time
	Count      int
	OK         int
	Slow       int
	Fail       int
	LatencySum time.Duration
	LatencyMax time.Duration
	// Latencies counts the bucket's results by latency, on hourly
	// rollups (a day's is the sum of its hours). Rows written before the
	// store kept it, and daily rows, have none (Latencies.Total() is less
	// than Count, zero for a whole bucket of them).
	Latencies Latencies
}

// SumBy is what SumRollups adds up across.
type SumBy int

const (
	// ByBucket adds the checks' rollups of each bucket.
	ByBucket SumBy = iota
	// ByCheck adds each check's rollups of every bucket.
	ByCheck
)

// Add counts o's results in r (two parts of one bucket).
func (r *Rollup) Add(o *Rollup) {
	r.Count += o.Count
	r.OK += o.OK
	r.Slow += o.Slow
	r.Fail += o.Fail
	r.LatencySum += o.LatencySum
	r.LatencyMax = max(r.LatencyMax, o.LatencyMax)
	r.Latencies.Plus(o.Latencies)
}

// LatencyBounds are the upper bounds of a Latencies histogram's bins, in
// milliseconds, roughly log-spaced from 1 ms to 60 s (each about 1.6× the
// last): a quantile read from them is within a bin's width, a few tens of
// percent, which is what a chart of p50 and p95 needs. The last bin counts
// what is above 60 s. Changing them changes the stored columns: a new
// migration.
func LatencyBounds() [LatencyBins - 1]int64 {
	return [LatencyBins - 1]int64{1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 130, 200, 300, 500, 800, 1300, 2000, 3000, 5000, 8000, 13000, 20000, 30000, 60000}
}

// LatencyBins is how many bins a Latencies histogram has.
const LatencyBins = 25

// Latencies is a fixed histogram of latencies: bin i counts those at or
// below LatencyBounds()[i] and above the bound before; the last bin those
// above 60 s. Fixed bins add: the histogram of an hour is the sum of its
// parts, so p50 and p95 come from it at any bucket size.
type Latencies [LatencyBins]int

// BinOf is the bin of a latency.
func BinOf(d time.Duration) int {
	bounds := LatencyBounds()
	ms := d.Milliseconds()
	if d%time.Millisecond != 0 {
		ms++ // at or below the bound: 1.2 ms is above 1 ms
	}
	for i, b := range bounds {
		if ms <= b {
			return i
		}
	}
	return LatencyBins - 1
}

// Add counts one latency.
func (l *Latencies) Add(d time.Duration) { l[BinOf(d)]++ }

// Plus adds another histogram's counts.
func (l *Latencies) Plus(o Latencies) {
	for i := range l {
		l[i] += o[i]
	}
}

// Total is how many latencies it counts.
func (l Latencies) Total() int {
	n := 0
	for _, c := range l {
		n += c
	}
	return n
}

// Quantile estimates the q-th quantile (0 < q ≤ 1): the bin the rank
// falls in, interpolated geometrically between its bounds, and never above
// max (the largest latency seen) when max is known. False when the
// histogram is empty.
func (l Latencies) Quantile(q float64, max time.Duration) (time.Duration, bool) {
	n := l.Total()
	if n == 0 {
		return 0, false
	}
	q = min(1, q)
	rank := q * float64(n)
	bounds := LatencyBounds()
	seen := 0
	for i, c := range l {
		if c == 0 || float64(seen+c) < rank {
			seen += c
			continue
		}
		lo, hi := 0.5, float64(bounds[len(bounds)-1])*2 // ms; the first and last bins' open ends
		if i > 0 {
			lo = float64(bounds[i-1])
		}
		if i < len(bounds) {
			hi = float64(bounds[i])
		}
		frac := (rank - float64(seen)) / float64(c)
		v := time.Duration(lo * math.Pow(hi/lo, frac) * float64(time.Millisecond))
		if max > 0 && v > max {
			v = max
		}
		return v, true
	}
	return max, true
}

// MeanLatency is the average latency of the bucket's results.
func (r Rollup) MeanLatency() time.Duration {
	if r.Count == 0 {
		return 0
	}
	return r.LatencySum / time.Duration(r.Count)
}

// Conditions keeps each check's confirmed condition and its transitions;
// they are written with the incident change they cause (Change.Transitions).
type Conditions interface {
	ListConditions(ctx context.Context) (map[string]upstate.Condition, error)
	// ConditionsSince are the conditions recorded after transition
	// number after (each check's latest), and the number of the last
	// transition: read with after = 0 first (then it is only the number,
	// and conditions is empty), then with the number it gave, it tells an
	// instance of a cluster what the others changed without reading every
	// check's condition again. Transitions are numbered in the order they
	// are written; in a cluster they are written under the engine's lock,
	// so in the order they commit.
	ConditionsSince(ctx context.Context, after int64) (map[string]upstate.Condition, int64, error)
	ListTransitions(ctx context.Context, checkID string, from, to time.Time) ([]upstate.Transition, error)
}

// Change is what one incident decision writes, atomically: the
// transitions it decided on, incidents created or updated, timeline
// entries added, component statuses changed.
type Change struct {
	// Transitions are recorded, oldest first, and each one's target made
	// its check's current condition. One already recorded (same check,
	// time and target) is not recorded again, so a change written a
	// second time records it once.
	Transitions []upstate.Transition

	Incidents []*upstate.Incident // upserted; their Updates are ignored
	Entries   []upstate.TimelineEntry
	Statuses  []upstate.StatusChange
	Holds     []HoldChange
	// Messages are notifications the change owes; ids already in the
	// outbox are ignored, so routing a change twice sends it once.
	Messages []upstate.Message
	// Cancel marks pending messages whose stream starts with one of these
	// prefixes as cancelled (pages nobody needs any more).
	Cancel []string
}

// HoldChange sets (or, with an empty status, clears) a component's hold.
type HoldChange struct {
	ComponentID string
	Hold        upstate.Hold
}

// Empty reports whether the change writes nothing.
func (c Change) Empty() bool {
	return len(c.Transitions) == 0 && len(c.Incidents) == 0 && len(c.Entries) == 0 && len(c.Statuses) == 0 && len(c.Holds) == 0 && len(c.Messages) == 0 && len(c.Cancel) == 0
}

// Incidents keeps incidents and their timelines.
type Incidents interface {
	// Apply writes the change in one transaction; it returns once durable.
	Apply(ctx context.Context, c Change) error
	// GetIncident returns one incident with its timeline, or ENOTFOUND.
	GetIncident(ctx context.Context, id string) (*upstate.Incident, error)
	// ListIncidents returns incidents newest first, with timelines
	// ordered by time.
	ListIncidents(ctx context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error)
	// CountIncidents counts the incidents f selects, ignoring its Limit
	// and Offset.
	CountIncidents(ctx context.Context, f upstate.IncidentFilter) (int, error)
}

// Corrections changes what was written on incidents after the fact:
// an entry's words, whether the public sees an incident, and removing
// one entered by mistake.
type Corrections interface {
	// EditEntry replaces an entry's words with body, keeping the words
	// before (ListEntryEdits) and marking the entry edited by actor at at;
	// ENOTFOUND for no such entry on that incident.
	EditEntry(ctx context.Context, incidentID, entryID, body, actor string, at time.Time) (upstate.EntryEdit, error)
	// ListEntryEdits returns the corrections of an incident's entries,
	// oldest first.
	ListEntryEdits(ctx context.Context, incidentID string) ([]upstate.EntryEdit, error)
	// HideIncident hides an incident from the public (h set) or shows it
	// again (h nil); ENOTFOUND for no such incident.
	HideIncident(ctx context.Context, id string, h *upstate.Hidden) error
	// DeleteIncident removes an incident, its timeline, corrections and
	// postmortem, cancels the messages still pending for it (its stream
	// and its pages'), unlinks incidents merged into it and what component
	// history names it, and appends the audit entry, all in one
	// transaction: nothing is removed without its trace. ENOTFOUND for no
	// such incident.
	DeleteIncident(ctx context.Context, id string, record upstate.AuditEntry) error
}

// Audit keeps the audit log: every change by a person or a token.
type Audit interface {
	// AppendAudit adds an entry (Bounded); its ID is the store's.
	AppendAudit(ctx context.Context, e upstate.AuditEntry) error
	// ListAudit returns entries newest first, as f selects.
	ListAudit(ctx context.Context, f upstate.AuditFilter) ([]upstate.AuditEntry, error)
	// PruneAudit drops entries older than before.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// History reads component status history, for uptime bars and reports.
type History interface {
	// ListStatusChanges returns the changes in [from, to), oldest first,
	// preceded by each component's last change before from (so the status
	// in force at from is known).
	ListStatusChanges(ctx context.Context, from, to time.Time) ([]upstate.StatusChange, error)
}

// Imported is an incident that ended, brought from elsewhere (upstate
// import): with its whole timeline (Incident.Updates), the status history
// it caused, and its postmortem, if any.
type Imported struct {
	Incident   *upstate.Incident
	Statuses   []upstate.StatusChange
	Postmortem *upstate.PostmortemDoc
}

// Imports writes history brought from elsewhere.
type Imports interface {
	// ImportIncidents writes them all in one transaction, each replacing
	// whatever an earlier import of the same incident (the same id) wrote:
	// its timeline, its status history and its postmortem. Components'
	// current statuses are left as they are: this is history. It returns
	// how many incidents were not kept before.
	ImportIncidents(ctx context.Context, ins []Imported) (created int, err error)
}

// Heartbeats keeps the last heartbeat of each heartbeat check.
type Heartbeats interface {
	SaveHeartbeat(ctx context.Context, checkID string, at time.Time) error
	ListHeartbeats(ctx context.Context) (map[string]time.Time, error)
}

// Accounts keeps users, their sessions and API tokens. Emails are
// compared without case; secrets are only ever stored as hashes.
type Accounts interface {
	// CreateUser adds a user; ECONFLICT if the email is taken.
	CreateUser(ctx context.Context, u upstate.User) error
	// GetUser and GetUserByEmail return ENOTFOUND for no such user.
	GetUser(ctx context.Context, id string) (upstate.User, error)
	GetUserByEmail(ctx context.Context, email string) (upstate.User, error)
	ListUsers(ctx context.Context) ([]upstate.User, error)
	CreateSession(ctx context.Context, s upstate.Session) error
	// GetSession returns ENOTFOUND for an unknown or expired session.
	GetSession(ctx context.Context, tokenHash string, now time.Time) (upstate.Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteExpiredSessions removes sessions past their expiry.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	CreateToken(ctx context.Context, t upstate.Token) error
	// GetTokenByHash returns ENOTFOUND for an unknown or revoked token and
	// records its use at now.
	GetTokenByHash(ctx context.Context, hash string, now time.Time) (upstate.Token, error)
	ListTokens(ctx context.Context) ([]upstate.Token, error)
	// RevokeToken returns ENOTFOUND for an unknown token.
	RevokeToken(ctx context.Context, id string) error
	// UpdateUser replaces a user's name, role and password hash (its id,
	// email and creation time stay); ENOTFOUND for no such user, ECONFLICT
	// when it would leave no owner.
	UpdateUser(ctx context.Context, u upstate.User) error
	// DeleteUser removes a user, ends their sessions and revokes their
	// tokens in one transaction; ENOTFOUND for no such user, ECONFLICT
	// for the last owner.
	DeleteUser(ctx context.Context, id string) error
	// SignOutUser ends every session of a user and revokes their tokens,
	// in one transaction, and says how many of each; ENOTFOUND for no such
	// user.
	SignOutUser(ctx context.Context, id string) (sessions, tokens int64, err error)
}

// Maintenances keeps planned maintenance windows.
type Maintenances interface {
	// SaveMaintenance creates or replaces a maintenance, with the messages
	// it owes in the same transaction.
	SaveMaintenance(ctx context.Context, m upstate.Maintenance, owed ...upstate.Message) error
	// DeleteMaintenance removes one (a cancellation), with the messages it
	// owes in the same transaction; ENOTFOUND if unknown.
	DeleteMaintenance(ctx context.Context, id string, owed ...upstate.Message) error
	// ListMaintenances returns those ending at or after since, soonest first.
	ListMaintenances(ctx context.Context, since time.Time) ([]upstate.Maintenance, error)
}

// Rendered is the HTML a store keeps beside the Markdown people and
// Upstate write (entries' bodies, postmortems' parts): rendered as each
// is written, with the renderer's version (markdown.Version), and given
// to readers of that version as TimelineEntry.BodyHTML and the
// PostmortemDoc's *HTML fields.
type Rendered interface {
	// RenderStale renders again what another renderer version made (or
	// what was written before HTML was kept), in short transactions, and
	// says how many rows it rendered.
	RenderStale(ctx context.Context) (int, error)
}

// Postmortems keeps what people write after incidents.
type Postmortems interface {
	// SavePostmortem creates or replaces an incident's postmortem, and
	// applies the change (timeline entry, incident status) in the same
	// transaction when it is not empty.
	SavePostmortem(ctx context.Context, p upstate.PostmortemDoc, c Change) error
	// GetPostmortem returns ENOTFOUND when none was written.
	GetPostmortem(ctx context.Context, incidentID string) (upstate.PostmortemDoc, error)
	// ListPostmortems returns the postmortems of the incidents.
	ListPostmortems(ctx context.Context, incidentIDs []string) (map[string]upstate.PostmortemDoc, error)
}

// Outbox keeps notifications until they are delivered or given up on.
type Outbox interface {
	// EnqueueMessages adds messages (as pending); ids already kept are ignored.
	EnqueueMessages(ctx context.Context, ms []upstate.Message) error
	// DueMessages returns up to q.Limit pending messages of q.Lane due at
	// q.Now with a Seq above q.After, each the oldest pending message of its
	// stream, in Seq order.
	DueMessages(ctx context.Context, q upstate.DueQuery) ([]upstate.Message, error)
	// NextDue is the earliest NextAt after now among the lane's pending
	// messages; false when there is none.
	NextDue(ctx context.Context, lane upstate.Lane, now time.Time) (time.Time, bool, error)
	// RecordAttempt saves an attempt's outcome of a pending message: its
	// State, Attempts, NextAt, LastError and SentAt. ECONFLICT when the
	// message is pending no more (an acknowledgement cancelled it, or
	// another attempt settled it): the outcome is not kept. ENOTFOUND for
	// an unknown id.
	RecordAttempt(ctx context.Context, m upstate.Message) error
	// ClaimMessage takes a pending message for claimant's attempt until
	// until, so no other instance sends it meanwhile (in a cluster): true
	// when taken (or already claimant's), false when it is pending no
	// more or another claimant holds it past now. It does not wait for
	// another instance's claim in progress (FOR UPDATE SKIP LOCKED).
	// RecordAttempt ends the claim.
	ClaimMessage(ctx context.Context, id, claimant string, now, until time.Time) (bool, error)
	// RetryMessage puts a failed message back in the outbox, due at now,
	// with note before its last error. ENOTFOUND unless it is failed.
	RetryMessage(ctx context.Context, id string, now time.Time, note string) error
	// ListMessages returns messages newest first.
	ListMessages(ctx context.Context, f MessageFilter) ([]upstate.Message, error)
	// CountMessages counts messages by channel and state.
	CountMessages(ctx context.Context) ([]MessageCount, error)
	// PruneMessages drops sent, failed and cancelled messages created before t.
	PruneMessages(ctx context.Context, before time.Time) (int64, error)
}

// Settings keeps values the server makes for itself once, such as the
// key that signs acknowledgement links.
type Settings interface {
	// Setting returns the value of key, first storing make() if it has none.
	Setting(ctx context.Context, key string, make func() string) (string, error)
}

// MessageFilter selects messages.
type MessageFilter struct {
	ID      string               // one message, when set
	State   upstate.MessageState // any when empty
	Channel string               // any when empty
	Limit   int                  // 0 for no limit
}

// MessageCount is how many messages one channel has in one state.
type MessageCount struct {
	Channel string
	State   upstate.MessageState
	N       int
}

// Silences keeps silences.
type Silences interface {
	SaveSilence(ctx context.Context, s upstate.Silence) error
	// ListSilences returns those ending after since, soonest start first.
	ListSilences(ctx context.Context, since time.Time) ([]upstate.Silence, error)
	// DeleteSilence removes one; ENOTFOUND if unknown.
	DeleteSilence(ctx context.Context, id string) error
}

// Subscribers keeps the people who asked to be told.
type Subscribers interface {
	// CreateSubscriber adds one, with messages owed to it (a confirmation)
	// in the same transaction; ECONFLICT if the address is subscribed.
	CreateSubscriber(ctx context.Context, s upstate.Subscriber, msgs []upstate.Message) error
	GetSubscriber(ctx context.Context, id string) (upstate.Subscriber, error)
	ConfirmSubscriber(ctx context.Context, id string, at time.Time) error
	// DeleteSubscriber removes one and cancels what it was still owed.
	DeleteSubscriber(ctx context.Context, id string) error
	ListSubscribers(ctx context.Context) ([]upstate.Subscriber, error)
}

// Alerts keeps the inbound alerts firing on alert checks.
type Alerts interface {
	SaveFiringAlert(ctx context.Context, a upstate.FiringAlert) error
	DeleteFiringAlert(ctx context.Context, checkID, fingerprint string) error
	ListFiringAlerts(ctx context.Context) ([]upstate.FiringAlert, error)
}

// Metrics keeps pushed numbers, one point per series per minute.
type Metrics interface {
	// AddPoints folds values into their series' minutes (the mean of all
	// that arrive in a minute).
	AddPoints(ctx context.Context, series string, ps []upstate.Point) error
	// SetPoints sets its series' minutes to the values given (history: what
	// each minute was), replacing what they held, so writing the same
	// points twice keeps them once. A minute given twice takes the last.
	SetPoints(ctx context.Context, series string, ps []upstate.Point) error
	// ListSeries returns the keys of the series that have points.
	ListSeries(ctx context.Context) ([]string, error)
	// ListPoints returns a series' points in [from, to), oldest first.
	ListPoints(ctx context.Context, series string, from, to time.Time) ([]upstate.Point, error)
	// PrunePoints drops points older than before.
	PrunePoints(ctx context.Context, before time.Time) (int64, error)
}

// OnCallOverrides keeps the on-call overrides people add.
type OnCallOverrides interface {
	SaveOverride(ctx context.Context, o upstate.OnCallOverride) error
	// DeleteOverride removes one; ENOTFOUND if unknown.
	DeleteOverride(ctx context.Context, id string) error
	// ListOverrides returns those ending after since, soonest first.
	ListOverrides(ctx context.Context, since time.Time) ([]upstate.OnCallOverride, error)
}

// Warnings keeps the checks' current warnings (upstate.Warning), one per
// check and key, so a restart tells operators nothing twice.
type Warnings interface {
	// SaveWarning creates or replaces a check's warning of its key, with
	// the messages it owes in the same transaction.
	SaveWarning(ctx context.Context, w upstate.Warning, owed ...upstate.Message) error
	// DeleteWarning removes one, with the messages it owes in the same
	// transaction; one already gone is no error.
	DeleteWarning(ctx context.Context, checkID, key string, owed ...upstate.Message) error
	// ListWarnings returns them all, by check and key.
	ListWarnings(ctx context.Context) ([]upstate.Warning, error)
}

// Artifacts keeps what failing checks saw (a browser check's screenshot),
// for the last few failures of each check.
type Artifacts interface {
	// SaveArtifact keeps a, then drops its check's oldest artifacts
	// beyond the newest keep.
	SaveArtifact(ctx context.Context, a upstate.Artifact, keep int) error
	// GetArtifact returns one with its data; ENOTFOUND if unknown (or
	// pruned).
	GetArtifact(ctx context.Context, id string) (upstate.Artifact, error)
	// ListArtifacts returns artifacts without their data, newest first.
	ListArtifacts(ctx context.Context, f upstate.ArtifactFilter) ([]upstate.Artifact, error)
	// PruneArtifacts drops those taken before t.
	PruneArtifacts(ctx context.Context, before time.Time) (int64, error)
}

// ConsoleItems keeps the checks and components made in the console
// (upstate.ConsoleItem), in the order they were made.
type ConsoleItems interface {
	// SaveConsoleItem creates one, or replaces the keys of the one of its
	// kind and id (keeping its place and CreatedAt).
	SaveConsoleItem(ctx context.Context, it upstate.ConsoleItem) error
	// DeleteConsoleItem removes one; ENOTFOUND if unknown.
	DeleteConsoleItem(ctx context.Context, kind upstate.ConsoleKind, id string) error
	// ListConsoleItems returns them all, in the order they were made.
	ListConsoleItems(ctx context.Context) ([]upstate.ConsoleItem, error)
}
