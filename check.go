package upstate

import (
	"fmt"
	"time"
)

// CheckSpec is what every check has in common, whatever its kind: how
// often it runs, what it affects and how its results are decided.
type CheckSpec struct {
	ID         string
	Name       string // for people; defaults to ID
	Kind       string // internal/check's Kinds name them
	Interval   time.Duration
	Timeout    time.Duration
	Components []string
	// Impact maps a condition to the status it gives the components;
	// missing keys use DefaultImpact.
	Impact    map[ImpactKey]Status
	DependsOn []string // components this check needs beyond its own
	// Decide is how its results are decided: shared between checks that
	// decide alike (read it with Deciding, which a nil one reads as zero).
	Decide *DecideSpec
}

// Deciding is the check's DecideSpec, the zero one when none is set.
func (c CheckSpec) Deciding() DecideSpec {
	if c.Decide == nil {
		return DecideSpec{}
	}
	return *c.Decide
}

// StatusFor returns the component status this check causes in the state.
func (c CheckSpec) StatusFor(cond Condition) Status {
	k := cond.ImpactKey()
	if k == "" {
		return Operational
	}
	if s, ok := c.Impact[k]; ok {
		return s
	}
	return DefaultImpact(k)
}

// DisplayName is Name, or ID when Name is empty.
func (c CheckSpec) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// DecideSpec tunes the state machine that turns results into conditions.
type DecideSpec struct {
	FailAfter      int           // consecutive failures that confirm down
	RecoverAfter   int           // consecutive successes that confirm up
	Window         int           // results looked at for partial failure
	PartialAfter   int           // failures within Window that make it partial
	RecheckCount   int           // quick re-checks after a suspect result
	RecheckEvery   time.Duration // their spacing
	FlapWindow     time.Duration // transitions counted over this span
	FlapThreshold  int           // this many transitions in FlapWindow is flapping
	RecoveryWindow time.Duration // an incident stays open this long after recovery
	// Burst is how many samples a burst takes to confirm a suspect result
	// (judged together: see decide); 0 when the check takes none, and
	// then quick re-checks confirm it.
	Burst int
	// BurstAlways follows every probe with a burst, not only a suspect
	// one, so the failing share is measured all the time: a quarter of
	// requests failing is seen within an interval or two, for Burst+1
	// requests an interval instead of one.
	BurstAlways bool
}

// Outcome is what one observation found.
type Outcome string

// The outcomes of a probe.
const (
	OutcomeOK   Outcome = "ok"
	OutcomeSlow Outcome = "slow" // answered correctly, but over its latency bound
	OutcomeFail Outcome = "fail"
)

// Result is one observation of a check.
type Result struct {
	CheckID    string
	At         time.Time // when the probe started
	Outcome    Outcome
	Latency    time.Duration
	StatusCode int    // HTTP status, DNS rcode where known; 0 otherwise
	Error      string // what went wrong, in words; empty when ok
	// Note is what a told (not measured) check says when all is well:
	// "no alert is firing". Not stored.
	Note string
	// Provider is set by upstream checks: what the read of the provider's
	// status found, for the incident engine. Not stored.
	Provider *ProviderReport
	// Warnings are what operators should act on before it fails (a
	// certificate expiring soon); they change neither the outcome nor the
	// condition. A result that is not a failure lists all of its check's
	// current warnings (none: they are over); a failure says nothing of
	// those it does not carry. Not stored with the result.
	Warnings []Warning
	// CertExpiry is when the certificate the probe was shown expires (the
	// chain's first to expire), for checks that see one (https, tls,
	// smtp); zero otherwise. The check page counts its days left from it.
	// Not stored.
	CertExpiry time.Time
	// Artifact is set by browser checks on a failure: a screenshot of the
	// page as it failed. Not stored with the result: kept apart, for the
	// last few failures of each check (an Artifact's ID, CheckID and At
	// are the result's, set where it is kept).
	Artifact *Artifact
	// Pending is set on a result that stands for an answer not come yet:
	// the probe has passed its latency bound, so it is slow already
	// (Outcome slow, Latency the bound). The final result, with the same
	// At, follows and takes its place. Not stored.
	Pending bool
	// Region is where the probe ran: "" for this server (the region
	// "local"), a probe agent's region otherwise. Not stored: the
	// check's condition and its evidence say which regions saw what.
	Region string
}

// OK reports whether the result was fully healthy.
func (r Result) OK() bool { return r.Outcome == OutcomeOK }

// Evidence summarises a result for people: "HTTP 500 after 230 ms: body
// does not contain "ok"".
// Results that were told rather than measured (heartbeats, alerts) have
// no latency and say only what they found.
func (r Result) Evidence() string {
	if r.StatusCode == 0 && r.Latency == 0 && r.Error != "" {
		return r.Error
	}
	if r.OK() && r.Note != "" {
		return r.Note
	}
	s := ""
	if r.StatusCode != 0 {
		s = fmt.Sprintf("HTTP %d ", r.StatusCode)
	}
	s += "after " + FormatLatency(r.Latency)
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// FormatLatency prints a latency the way people read it: 230 ms, 12.1 s.
func FormatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Second:
		if d < time.Second {
			return fmt.Sprintf("%d ms", d.Milliseconds())
		}
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

// Condition is a check's confirmed state.
type Condition struct {
	CheckID string
	State   State
	// Partial is set on a degraded condition caused by failing part of
	// the time rather than by slowness.
	Partial bool
	Since   time.Time // when the evidence for this state began
	At      time.Time // when it was confirmed
	// Evidence is the result that confirmed it, in words.
	Evidence string
	// Failures and Samples describe the decision window: "3 of 10 failed".
	Failures int
	Samples  int
	// Burst is set when Failures and Samples count one burst of requests
	// taken together, so that Failures/Samples is the share of requests
	// failing, measured. Not stored.
	Burst bool
	// Upstream is the provider's incident the result that confirmed it
	// blames (an upstream check's ProviderReport.Cause), if any. Not
	// stored: it matters to the transition that carries it.
	Upstream *Upstream
}

// ImpactKey names what the condition means for components, or "" for up.
func (c Condition) ImpactKey() ImpactKey {
	switch c.State {
	case StateDown:
		return ImpactDown
	case StateDegraded:
		if c.Partial {
			return ImpactPartial
		}
		return ImpactDegraded
	}
	return ""
}

// Describe is the condition in words: "failing", "slow", "failing part of the time".
func (c Condition) Describe() string {
	switch c.ImpactKey() {
	case ImpactDown:
		return "failing"
	case ImpactPartial:
		return "failing part of the time"
	case ImpactDegraded:
		return "slow"
	}
	return "up"
}

// Transition is a confirmed change of a check's condition.
type Transition struct {
	From Condition
	To   Condition
}
