package importer

import (
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// ExternalIDPrefix marks the incidents an Upstate export writes: their
// external id is "upstate:" and the id they had, so importing the same
// export twice elsewhere replaces rather than duplicates.
const ExternalIDPrefix = "upstate:"

// FromIncidents writes the record Upstate keeps as an import file: every
// incident that ended, with its whole timeline (public updates and
// internal notes), scope, upstream cause, postmortem and the component
// statuses it set, so that importing the file into another Upstate tells
// the same outage report. Incidents still open (the engine's to run),
// merged into others (their timelines live on in those) and hidden from
// the public (the format has no word for it) are left out, each with a
// warning. changes are the status changes the incidents caused (any
// others are ignored); comps are the components, written for the
// incidents that name them.
func FromIncidents(ins []*upstate.Incident, pms map[string]upstate.PostmortemDoc, changes []upstate.StatusChange, comps []upstate.Component) (*Document, []Warning) {
	doc := &Document{Version: Version}
	var warns []Warning
	byIncident := map[string][]upstate.StatusChange{}
	for _, c := range changes {
		if c.IncidentID != "" {
			byIncident[c.IncidentID] = append(byIncident[c.IncidentID], c)
		}
	}
	used := map[string]bool{}
	for _, in := range ins {
		switch {
		case in.MergedInto != "":
			continue // told in the incident it was merged into
		case in.Open():
			warns = append(warns, Warning{Source: in.Name + " (" + in.ID + ")", Message: "still " + string(in.Status) + ": left out (an import takes what has ended)"})
			continue
		case in.Hidden != nil:
			warns = append(warns, Warning{Source: in.Name + " (" + in.ID + ")", Message: "hidden from the public page (" + in.Hidden.Reason + "): left out"})
			continue
		}
		x := Incident{ExternalID: ExternalIDPrefix + in.ID, Name: in.Name, Status: in.Status, Impact: in.Impact, Components: slices.Clone(in.Components),
			StartedAt: in.StartedAt.UTC(), DetectedAt: utc(&in.DetectedAt), AcknowledgedAt: utc(in.AcknowledgedAt), ResolvedAt: utc(in.ResolvedAt)}
		if lo, hi, ok := in.Reach.Failing(); ok || len(in.Reach.Regions) > 0 || len(in.Reach.Segments) > 0 {
			x.Scope = &Scope{Regions: slices.Clone(in.Reach.Regions), Segments: slices.Clone(in.Reach.Segments)}
			if ok {
				x.Scope.FailingPercent = &Percent{Min: lo, Max: hi}
			}
		}
		if u := in.Upstream; u != nil {
			x.Upstream = &Upstream{Provider: u.Provider, Title: u.Title, URL: u.URL}
		}
		entries := slices.Clone(in.Updates)
		slices.SortStableFunc(entries, func(a, b upstate.TimelineEntry) int { return a.At.Compare(b.At) })
		for _, e := range entries {
			if strings.TrimSpace(e.Body) == "" {
				continue
			}
			x.Updates = append(x.Updates, Update{At: e.At.UTC(), Until: utc(e.Until), Status: e.Status, Body: e.Body, Public: e.Public})
		}
		for _, c := range byIncident[in.ID] {
			x.Statuses = append(x.Statuses, StatusChange{Component: c.ComponentID, At: c.At.UTC(), Status: c.Status})
			used[c.ComponentID] = true
		}
		slices.SortStableFunc(x.Statuses, func(a, b StatusChange) int { return a.At.Compare(b.At) })
		if pm, ok := pms[in.ID]; ok {
			x.Postmortem = &Postmortem{RootCause: pm.RootCause, Contributing: pm.Contributing, Fix: pm.Fix}
			if pm.Status == upstate.PostmortemPublished {
				x.Postmortem.PublishedAt = utc(pm.PublishedAt)
			}
			for _, a := range pm.Actions {
				x.Postmortem.Actions = append(x.Postmortem.Actions, ActionItem{Text: a.Text, Owner: a.Owner, Done: a.State == "done"})
			}
		}
		for _, c := range in.Components {
			used[c] = true
		}
		doc.Incidents = append(doc.Incidents, x)
	}
	for _, c := range comps {
		if used[c.ID] {
			doc.Components = append(doc.Components, Component{ID: c.ID, Name: c.Name, Group: c.Group, Description: c.Description})
		}
	}
	return doc, warns
}

// utc is t in UTC, nil for no time.
func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
