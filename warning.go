package upstate

import (
	"fmt"
	"time"
)

// Warning is something operators should act on before users feel it: a
// TLS certificate that expires in five days. It rides on a result without
// changing the check's outcome or condition, so it never touches a
// component's status, an incident, a page or the public page: operators
// hear of it on their own channels (EventWarningRaised and
// EventWarningCleared, operator lane only) and see it on the admin side.
//
// A check has at most one warning per Key. The one tracker (incident.Warnings)
// keeps the current ones, tells a new one once, tells it again only when
// its Stage changes (a certificate's: under warn_days, under 7 days, under
// 1 day), and tells when a good result no longer carries it.
type Warning struct {
	CheckID string
	// Key tells a check's warnings apart: "certificate".
	Key string
	// What says it in plain words: "TLS certificate of api.example.com
	// expires in 5 days (Sep 1, 2026)".
	What string
	// Stage is how close it has come; a new Stage is told again. A
	// certificate's is the day threshold it is under (14, 7, 1).
	Stage int
	// Due is when it turns into a failure (a certificate expires, less
	// fail_days); zero when it never does by itself.
	Due time.Time

	// Set by the tracker, not by the prober.
	Since      time.Time // first seen
	Seen       time.Time // last seen
	CheckName  string    // the check's name for people
	Components []string  // the check's components
}

// Stream is the ordering key of the warning's messages.
func (w Warning) Stream() string { return "warning:" + w.CheckID + ":" + w.Key }

// Same reports whether two observations are the same warning at the
// same stage: nothing new to tell.
func (w Warning) Same(o Warning) bool {
	return w.CheckID == o.CheckID && w.Key == o.Key && w.Stage == o.Stage
}

// EventID is the id of the event that tells this warning at its stage
// (raised) or its end (cleared): the same for the same news, so it is
// routed once even when observed twice.
func (w Warning) EventID(cleared bool, at time.Time) string {
	if cleared {
		return fmt.Sprintf("%s.cleared.%d", w.Stream(), at.Unix())
	}
	return fmt.Sprintf("%s.%d.%d", w.Stream(), w.Stage, w.Since.Unix())
}
