package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Source is what a report reads.
type Source interface {
	ListComponents(ctx context.Context) ([]upstate.ComponentState, error)
	ListIncidents(ctx context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error)
	ListStatusChanges(ctx context.Context, from, to time.Time) ([]upstate.StatusChange, error)
	ListPostmortems(ctx context.Context, incidentIDs []string) (map[string]upstate.PostmortemDoc, error)
}

// Params are what a person asks a report for: dates as YYYY-MM-DD in the
// zone, both days included.
type Params struct {
	From, To string
	TZ       string // default: the page's zone
	AlsoTZ   string
	Title    string
	// Intro and Closing are the company's own words before and after the
	// record (Markdown, at most MaxWords bytes each).
	Intro, Closing string
}

// MaxWords bounds the intro and the closing: a letter, not a book.
const MaxWords = 32 << 10

// MaxPeriod is the longest period one report covers: ten years.
const MaxPeriod = 3653 * 24 * time.Hour

// Gather reads what the report needs for the period and builds it.
func Gather(ctx context.Context, src Source, p Params, pageName string, pageZone *time.Location, now time.Time) (*Report, error) {
	in := Input{Title: p.Title, PageName: pageName, Loc: pageZone, Generated: now, Intro: p.Intro, Closing: p.Closing}
	var probs []string
	for _, w := range []struct{ name, text string }{{"intro", p.Intro}, {"closing", p.Closing}, {"title", p.Title}} {
		if len(w.text) > MaxWords {
			probs = append(probs, fmt.Sprintf("%s is %d KiB; at most %d KiB", w.name, len(w.text)>>10, MaxWords>>10))
		}
	}
	if p.TZ != "" {
		loc, err := time.LoadLocation(p.TZ)
		if err != nil {
			probs = append(probs, fmt.Sprintf("tz %q is not a time zone name (e.g. America/Los_Angeles)", p.TZ))
		}
		in.Loc = loc
	}
	if p.AlsoTZ != "" {
		loc, err := time.LoadLocation(p.AlsoTZ)
		if err != nil {
			probs = append(probs, fmt.Sprintf("also-tz %q is not a time zone name (e.g. Pacific/Auckland)", p.AlsoTZ))
		}
		in.Also = loc
	}
	if in.Loc == nil {
		in.Loc = time.UTC
	}
	from, ferr := time.ParseInLocation("2006-01-02", p.From, in.Loc)
	if ferr != nil {
		probs = append(probs, fmt.Sprintf("from %q is not a date (YYYY-MM-DD)", p.From))
	}
	to, terr := time.ParseInLocation("2006-01-02", p.To, in.Loc)
	if terr != nil {
		probs = append(probs, fmt.Sprintf("to %q is not a date (YYYY-MM-DD)", p.To))
	}
	switch {
	case ferr != nil || terr != nil:
	case from.Year() < 1970 || to.Year() > 9998:
		probs = append(probs, fmt.Sprintf("from %s to %s: dates must be between 1970-01-01 and 9998-12-31", p.From, p.To))
	case to.Before(from):
		probs = append(probs, fmt.Sprintf("from %s is after to %s", p.From, p.To))
	case to.Sub(from) > MaxPeriod:
		probs = append(probs, fmt.Sprintf("from %s to %s is longer than a report covers (%d days): ask for one period at a time", p.From, p.To, int(MaxPeriod.Hours()/24)))
	}
	if len(probs) > 0 {
		return nil, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	in.From, in.To = from, to.AddDate(0, 0, 1)

	comps, err := src.ListComponents(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range comps {
		in.Components = append(in.Components, c.Component)
	}
	// Incidents overlapping the period: created before its end, and not
	// resolved before its start. A month's look-back catches long ones.
	all, err := src.ListIncidents(ctx, upstate.IncidentFilter{Since: in.From.AddDate(0, -1, 0), Unmerged: true})
	if err != nil {
		return nil, err
	}
	for _, x := range all {
		if x.StartedAt.Before(in.To) && (x.ResolvedAt == nil || !x.ResolvedAt.Before(in.From)) {
			in.Incidents = append(in.Incidents, x)
		}
	}
	if in.Changes, err = src.ListStatusChanges(ctx, in.From, in.To); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(in.Incidents))
	for _, x := range in.Incidents {
		ids = append(ids, x.ID)
	}
	if in.Postmortems, err = src.ListPostmortems(ctx, ids); err != nil {
		return nil, err
	}
	return Build(in)
}
