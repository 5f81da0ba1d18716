package importer

import (
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// ActorImport is the actor of the timeline entries an import writes.
const ActorImport = "import"

// Incident is the incident as Upstate keeps it, for the store; ID is left
// for the importer to give (a new one, or the one the external id already
// has). Times the file leaves out are taken from those it gives:
// detected_at from started_at, created_at from detected_at, updated_at
// from the last update (or the resolution), monitoring_at from the first
// update in status monitoring. A range of failing_percent is kept as the
// range (upstate.Reach's FailingPercent to FailingMax), one number as one
// figure.
func (in *Incident) Incident() upstate.Incident {
	out := upstate.Incident{
		Name: in.Name, Status: in.Status, Impact: in.Impact,
		StartedAt: in.StartedAt, DetectedAt: in.StartedAt,
		Components:     append([]string(nil), in.Components...),
		AcknowledgedAt: copyTime(in.AcknowledgedAt), ResolvedAt: copyTime(in.ResolvedAt),
	}
	if in.DetectedAt != nil {
		out.DetectedAt = *in.DetectedAt
	}
	out.CreatedAt, out.UpdatedAt = out.DetectedAt, out.DetectedAt
	if in.AcknowledgedAt != nil {
		out.AcknowledgedBy = ActorImport
	}
	if s := in.Scope; s != nil {
		if f := s.FailingPercent; f != nil {
			lo, hi := f.Min, f.Max
			out.Reach.FailingPercent = &lo
			if hi > lo {
				out.Reach.FailingMax = &hi
			}
		}
		out.Reach.Regions = append([]string(nil), s.Regions...)
		out.Reach.Segments = append([]string(nil), s.Segments...)
	}
	if u := in.Upstream; u != nil {
		out.Upstream = &upstate.Upstream{Provider: u.Provider, Title: u.Title, URL: u.URL}
	}
	status := upstate.Investigating
	for _, u := range in.Updates {
		if u.Status != "" {
			status = u.Status
		}
		if status == upstate.Monitoring && out.MonitoringAt == nil {
			out.MonitoringAt = copyTime(&u.At)
		}
		out.Updates = append(out.Updates, upstate.TimelineEntry{At: u.At, Until: copyTime(u.Until), Status: status, Body: u.Body, Public: u.Public, Actor: ActorImport})
		out.UpdatedAt = later(out.UpdatedAt, u.At)
	}
	if in.ResolvedAt != nil {
		out.UpdatedAt = later(out.UpdatedAt, *in.ResolvedAt)
	}
	return out
}

// PostmortemDoc is the postmortem as Upstate keeps it, or nil when the
// incident has none. Upstate's postmortem has no summary or prevention
// of its own: the summary leads the root cause, prevention follows the
// fix, and an action item's due date follows its text.
func (in *Incident) PostmortemDoc() *upstate.PostmortemDoc {
	pm := in.Postmortem
	if pm == nil {
		return nil
	}
	doc := &upstate.PostmortemDoc{
		RootCause:    join(pm.Summary, pm.RootCause),
		Contributing: pm.Contributing,
		Fix:          join(pm.Fix, prefixed("Prevention: ", pm.Prevention)),
		Status:       upstate.PostmortemDraft,
		Author:       ActorImport,
		PublishedAt:  copyTime(pm.PublishedAt),
	}
	if pm.PublishedAt != nil {
		doc.Status = upstate.PostmortemPublished
		doc.UpdatedAt = *pm.PublishedAt
	}
	for _, a := range pm.Actions {
		item := upstate.ActionItem{Text: a.Text, Owner: a.Owner, State: "open"}
		if a.Due != "" {
			item.Text += " (due " + a.Due + ")"
		}
		if a.Done {
			item.State = "done"
		}
		doc.Actions = append(doc.Actions, item)
	}
	return doc
}

func join(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			keep = append(keep, strings.TrimSpace(p))
		}
	}
	return strings.Join(keep, "\n\n")
}

func prefixed(prefix, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return prefix + s
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
