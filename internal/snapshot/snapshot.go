// Package snapshot builds the immutable picture of everything the public
// sees — components with their statuses, uptime and latency, incidents —
// and publishes it through an atomic pointer. Every public read is served
// from the last published snapshot, so readers never touch the database
// and keep being served when it stalls.
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/ids"
	"github.com/upstatehq/upstate/internal/store"
)

// Days is how many daily uptime bars each component shows.
const Days = 90

// Page describes the status page itself.
type Page struct {
	ID          string
	Name        string
	URL         string
	Description string
	Location    *time.Location
	// Subscribe lists the ways people may subscribe ("email", "webhook").
	Subscribe []string
	// Logo and Favicon are the page's own images (empty for none: the
	// page then shows its name alone and a dot in its status's colour);
	// Accent is its colour (#rrggbb), "" for the default.
	Logo, Favicon Image
	Accent        string
}

// Image is an image file as it is served.
type Image struct {
	Type string // image/png, image/svg+xml…
	Data []byte
	// Version changes when the image does (links carry it, so browsers
	// fetch a new logo at once).
	Version string
}

// Snapshot is one immutable public picture. Nothing in it may be modified
// after Publish.
type Snapshot struct {
	Version    uint64
	BuiltAt    time.Time
	UpdatedAt  time.Time // when anything shown last changed
	Page       Page
	Components []*Component // in page order
	Groups     []*Group     // groups and ungrouped components, in page order
	Open       []*upstate.Incident
	Recent     []*upstate.Incident // the 50 newest, open or not, newest first
	// Maintenances are scheduled windows; none until maintenances exist.
	Maintenances []upstate.Maintenance
	Indicator    string
	Description  string
}

// Component is a component as the page shows it.
type Component struct {
	upstate.ComponentState
	GroupID string
	Days    []Day     // oldest first, Days of them, ending today
	Uptime  float64   // over Days, 0..1; -1 without data
	Latency []Latency // hourly means over the last day, oldest first
	// LatencySince is the start of the first of the day's 24 hours, so
	// hours without data show as the gaps they are.
	LatencySince time.Time
	// Regional are its checks probed from several regions, each region's
	// latest result; none for a component without such checks.
	Regional []Regional
}

// RegionalCheck is a check probed from several regions (Options.Regional).
type RegionalCheck struct {
	CheckID string
	Name    string   // as people see it
	Regions []string // in the configuration's order; "local" is this server
	// Stale is how long a region's result stands: past it the region has
	// no recent report (the check's decider's own window).
	Stale time.Duration
}

// Regional is what each region of a check saw last.
type Regional struct {
	CheckID string
	Name    string
	Regions []RegionReport
}

// RegionReport is one region's latest result within its check's stale
// window: Outcome "" (and At zero) when it has no recent report.
type RegionReport struct {
	Region  string
	Outcome upstate.Outcome
	At      time.Time
}

// Group gathers components under a heading; a component without a group
// is a Group of its own with Component set.
type Group struct {
	ID         string
	Name       string
	Status     upstate.Status
	Components []*Component
	Single     bool // an ungrouped component
}

// Day is one uptime bar.
type Day struct {
	Date   time.Time // midnight in the page's zone
	Worst  upstate.Status
	Uptime float64 // 0..1 of the monitored part of the day
	NoData bool    // the component did not exist yet
	Outage time.Duration
	// Incidents names the day's incidents on the component, oldest first.
	Incidents []string
}

// Clean is a day with data that was up all of it with nothing to tell: no
// worse status than operational, no downtime, no incident. The page draws
// a run of them as one and tells of it once.
func (d Day) Clean() bool {
	return !d.NoData && d.Worst == upstate.Operational && d.Outage == 0 && d.Uptime >= 1 && len(d.Incidents) == 0
}

// Latency is one point of a latency sparkline.
type Latency struct {
	Start time.Time
	Mean  time.Duration
	Max   time.Duration
	Count int
}

// Source is what a build reads.
type Source interface {
	ListComponents(ctx context.Context) ([]upstate.ComponentState, error)
	ListIncidents(ctx context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error)
	ListStatusChanges(ctx context.Context, from, to time.Time) ([]upstate.StatusChange, error)
	SumRollups(ctx context.Context, period store.Period, checkIDs []string, from, to time.Time, by store.SumBy) ([]store.Rollup, error)
	ListMaintenances(ctx context.Context, since time.Time) ([]upstate.Maintenance, error)
	// LatestByRegion is each region's latest result of the checks (Region
	// "" for this server's own), read only for checks with regions.
	LatestByRegion(ctx context.Context, checkIDs []string, since time.Time) ([]upstate.Result, error)
}

// Options configure a Holder.
type Options struct {
	Source Source
	Clock  clock.Clock
	Page   Page
	// ChecksOf maps a component id to the checks whose latency it shows.
	ChecksOf map[string][]string
	// Regional maps a component id to its checks probed from several
	// regions, whose regions the page shows.
	Regional map[string][]RegionalCheck
	Logger   *slog.Logger
	// Published is called with each new snapshot, before readers see it,
	// to render what is served from it (JSON, HTML, feeds).
	Published func(*Snapshot)
	// Every is the periodic rebuild, so uptime bars and sparklines move
	// on with time even when nothing changes; default one minute.
	Every time.Duration
}

// Holder owns the current snapshot and rebuilds it on demand.
type Holder struct {
	opts    Options
	cur     atomic.Pointer[Snapshot]
	config  atomic.Pointer[configured]
	trigger chan struct{}
	version atomic.Uint64
	// building is held for a whole build and publish.
	building sync.Mutex
}

type configured struct {
	page     Page
	checksOf map[string][]string
	regional map[string][]RegionalCheck
}

// New returns a holder; Build or Run publishes the first snapshot.
func New(opts Options) (*Holder, error) {
	if opts.Source == nil || opts.Clock == nil {
		return nil, errors.New("snapshot: Options.Source and Options.Clock are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Page.Location == nil {
		opts.Page.Location = time.UTC
	}
	if opts.Every <= 0 {
		opts.Every = time.Minute
	}
	if opts.Published == nil {
		opts.Published = func(*Snapshot) {}
	}
	h := &Holder{opts: opts, trigger: make(chan struct{}, 1)}
	h.config.Store(&configured{page: opts.Page, checksOf: opts.ChecksOf, regional: opts.Regional})
	return h, nil
}

// Current returns the last published snapshot (nil before the first).
func (h *Holder) Current() *Snapshot { return h.cur.Load() }

// Reconfigure changes the page settings and check mappings (a config
// reload); the next build uses them.
func (h *Holder) Reconfigure(p Page, checksOf map[string][]string, regional map[string][]RegionalCheck) {
	if p.Location == nil {
		p.Location = time.UTC
	}
	h.config.Store(&configured{page: p, checksOf: checksOf, regional: regional})
	h.Trigger()
}

// Trigger asks for a rebuild soon; many triggers coalesce into one build.
func (h *Holder) Trigger() {
	select {
	case h.trigger <- struct{}{}:
	default:
	}
}

// Run rebuilds on Trigger and periodically, until ctx is done. A failed
// build is logged and the last good snapshot keeps being served.
func (h *Holder) Run(ctx context.Context) {
	t := h.opts.Clock.NewTimer(h.opts.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.trigger:
		case <-t.C():
		}
		if err := h.Rebuild(ctx); err != nil && ctx.Err() == nil {
			h.opts.Logger.Error("snapshot rebuild failed; serving the last good one", "component", "snapshot", "err", err)
		}
		t.Reset(h.opts.Every)
	}
}

// Rebuild builds and publishes a snapshot now. Builds are serialised so
// that a build which read older data can never be published after a newer
// one (Run and a direct call may overlap).
func (h *Holder) Rebuild(ctx context.Context) error {
	h.building.Lock()
	defer h.building.Unlock()
	cfg := h.config.Load()
	s, err := build(ctx, h.opts.Source, cfg, h.opts.Clock.Now())
	if err != nil {
		return err
	}
	s.Version = h.version.Add(1)
	h.opts.Published(s)
	h.cur.Store(s)
	return nil
}

func build(ctx context.Context, src Source, cfg *configured, now time.Time) (*Snapshot, error) {
	page, checksOf := cfg.page, cfg.checksOf
	comps, err := src.ListComponents(ctx)
	if err != nil {
		return nil, fmt.Errorf("components: %w", err)
	}
	// Incidents people hid from the public (opened by mistake) are not
	// on any public document, nor in the history they drew.
	recent, err := src.ListIncidents(ctx, upstate.IncidentFilter{Limit: 50, Unmerged: true, Hidden: upstate.HiddenExclude})
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	open, err := src.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true, Hidden: upstate.HiddenExclude})
	if err != nil {
		return nil, fmt.Errorf("open incidents: %w", err)
	}
	loc := page.Location
	today := midnight(now, loc)
	first := today.AddDate(0, 0, -(Days - 1))
	changes, err := src.ListStatusChanges(ctx, first, now.Add(time.Second))
	if err != nil {
		return nil, fmt.Errorf("status history: %w", err)
	}
	hidden, err := src.ListIncidents(ctx, upstate.IncidentFilter{Hidden: upstate.HiddenOnly, Since: first.AddDate(0, -1, 0)})
	if err != nil {
		return nil, fmt.Errorf("hidden incidents: %w", err)
	}
	if len(hidden) > 0 {
		ids := map[string]bool{}
		for _, in := range hidden {
			ids[in.ID] = true
		}
		changes = slices.DeleteFunc(changes, func(c upstate.StatusChange) bool { return c.IncidentID != "" && ids[c.IncidentID] })
	}
	hourStart := now.UTC().Truncate(time.Hour).Add(-23 * time.Hour)
	regional, err := regionReports(ctx, src, cfg.regional, now)
	if err != nil {
		return nil, fmt.Errorf("regions' latest results: %w", err)
	}

	// Windows ended in the last week stay listed (completed), as Statuspage does.
	maint, err := src.ListMaintenances(ctx, now.Add(-7*24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("maintenances: %w", err)
	}
	if maint == nil {
		maint = []upstate.Maintenance{}
	}
	s := &Snapshot{BuiltAt: now, Page: page, Open: open, Recent: recent, Maintenances: maint}
	byComp := map[string][]upstate.StatusChange{}
	for _, c := range changes {
		byComp[c.ComponentID] = append(byComp[c.ComponentID], c)
	}
	groups := map[string]*Group{}
	worst := upstate.Operational
	// The days' incidents: the newest are at hand; older ones in the
	// bars' window are read only when there may be some.
	inWindow := recent
	if len(recent) == 50 && recent[len(recent)-1].CreatedAt.After(first) {
		if inWindow, err = src.ListIncidents(ctx, upstate.IncidentFilter{Unmerged: true, Since: first, Limit: maxBarIncidents, Hidden: upstate.HiddenExclude}); err != nil {
			return nil, fmt.Errorf("incidents of the last %d days: %w", Days, err)
		}
	}
	named := dayIncidents(inWindow, open, first, now)
	for _, cs := range comps {
		c := &Component{ComponentState: cs}
		c.Days, c.Uptime = uptimeDays(byComp[cs.ID], cs.CreatedAt, first, now, loc)
		for d, names := range named[cs.ID] {
			if d < len(c.Days) {
				c.Days[d].Incidents = names
			}
		}
		if ids := checksOf[cs.ID]; len(ids) > 0 {
			// The database adds up the component's checks' hours: one row
			// an hour, whatever the number of checks.
			hours, err := src.SumRollups(ctx, store.Hour, ids, hourStart, now.Add(time.Hour), store.ByBucket)
			if err != nil {
				return nil, fmt.Errorf("latency of %s: %w", cs.ID, err)
			}
			c.Latency = sparkline(hours, hourStart)
		}
		c.LatencySince = hourStart
		c.Regional = regional[cs.ID]
		if cs.Group != "" {
			g := groups[cs.Group]
			if g == nil {
				g = &Group{ID: GroupID(cs.Group), Name: cs.Group, Status: upstate.Operational}
				groups[cs.Group] = g
				s.Groups = append(s.Groups, g)
			}
			c.GroupID = g.ID
			g.Components = append(g.Components, c)
			g.Status = upstate.Worse(g.Status, cs.Status)
		} else {
			s.Groups = append(s.Groups, &Group{ID: cs.ID, Name: cs.Name, Status: cs.Status, Components: []*Component{c}, Single: true})
		}
		s.Components = append(s.Components, c)
		worst = upstate.Worse(worst, cs.Status)
		if cs.UpdatedAt.After(s.UpdatedAt) {
			s.UpdatedAt = cs.UpdatedAt
		}
	}
	impact := worst.Impact()
	for _, in := range open {
		if in.Impact.Rank() > impact.Rank() {
			impact = in.Impact
		}
	}
	for _, m := range maint {
		if m.UpdatedAt.After(s.UpdatedAt) {
			s.UpdatedAt = m.UpdatedAt
		}
	}
	if impact == upstate.ImpactNone && worst == upstate.UnderMaintenance {
		impact = upstate.ImpactMaintenance
	}
	s.Indicator, s.Description = impact.Indicator()
	for _, in := range recent {
		if in.UpdatedAt.After(s.UpdatedAt) {
			s.UpdatedAt = in.UpdatedAt
		}
	}
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = now
	}
	return s, nil
}

// regionReports reads each regional check's regions' latest results, in
// one query by the results' key, and says for each component what its
// checks' regions saw last: a region whose latest is older than the
// check's stale window has no recent report.
func regionReports(ctx context.Context, src Source, byComp map[string][]RegionalCheck, now time.Time) (map[string][]Regional, error) {
	if len(byComp) == 0 {
		return nil, nil
	}
	var ids []string
	var window time.Duration
	for _, checks := range byComp {
		for _, c := range checks {
			ids = append(ids, c.CheckID)
			window = max(window, c.Stale)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if window <= 0 {
		window = 24 * time.Hour // Stale zero: a result stands for ever; read a day's
	}
	latest, err := src.LatestByRegion(ctx, ids, now.Add(-window))
	if err != nil {
		return nil, err
	}
	type key struct{ check, region string }
	last := make(map[key]upstate.Result, len(latest))
	for _, r := range latest {
		region := r.Region
		if region == "" {
			region = upstate.LocalRegion
		}
		last[key{r.CheckID, region}] = r
	}
	out := make(map[string][]Regional, len(byComp))
	for comp, checks := range byComp {
		for _, c := range checks {
			rg := Regional{CheckID: c.CheckID, Name: c.Name, Regions: make([]RegionReport, 0, len(c.Regions))}
			for _, region := range c.Regions {
				rep := RegionReport{Region: region}
				if r, ok := last[key{c.CheckID, region}]; ok && (c.Stale <= 0 || now.Sub(r.At) <= c.Stale) {
					rep.Outcome, rep.At = r.Outcome, r.At
				}
				rg.Regions = append(rg.Regions, rep)
			}
			out[comp] = append(out[comp], rg)
		}
	}
	return out, nil
}

// maxBarIncidents bounds the incidents the bars' tooltips name.
const maxBarIncidents = 1000

// dayIncidents names each component's incidents by day (the index into
// the bars, from first): an incident is on every day it was open. Open
// incidents started before the window count from its first day.
func dayIncidents(window, open []*upstate.Incident, first, now time.Time) map[string]map[int][]string {
	out := map[string]map[int][]string{}
	seen := map[string]bool{}
	all := append(slices.Clone(open), window...)
	slices.SortStableFunc(all, func(a, b *upstate.Incident) int { return a.CreatedAt.Compare(b.CreatedAt) })
	loc := first.Location()
	for _, in := range all {
		if seen[in.ID] || in.MergedInto != "" {
			continue
		}
		seen[in.ID] = true
		end := now
		if in.ResolvedAt != nil {
			end = *in.ResolvedAt
		}
		if end.Before(first) {
			continue
		}
		from := in.CreatedAt
		if from.Before(first) {
			from = first
		}
		d0 := daysBetween(first, midnight(from, loc))
		d1 := min(daysBetween(first, midnight(end, loc)), Days-1)
		for _, comp := range in.Components {
			byDay := out[comp]
			if byDay == nil {
				byDay = map[int][]string{}
				out[comp] = byDay
			}
			for d := max(d0, 0); d <= d1; d++ {
				byDay[d] = append(byDay[d], in.Name)
			}
		}
	}
	return out
}

// daysBetween counts calendar days from a to b (both midnights in one
// zone; a day with a clock change is still one day).
func daysBetween(a, b time.Time) int {
	ya, ma, da := a.Date()
	yb, mb, db := b.Date()
	return int(time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC).Sub(time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// GroupID is a stable id for a group name, in the style of component ids.
func GroupID(name string) string { return ids.Stable("group:" + name) }

func midnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// uptimeDays turns a component's status history into daily bars from
// first (midnight) to now, and the uptime over them all.
func uptimeDays(changes []upstate.StatusChange, created, first, now time.Time, loc *time.Location) ([]Day, float64) {
	days := make([]Day, 0, Days)
	var totalUp, totalSpan float64
	i := 0
	status := upstate.Operational
	// The change list starts with the last change before first, if any.
	for i < len(changes) && !changes[i].At.After(first) {
		status = changes[i].Status
		i++
	}
	for d := 0; d < Days; d++ {
		start := first.AddDate(0, 0, d)
		end := start.AddDate(0, 0, 1)
		day := Day{Date: start, Worst: status}
		from := start
		if created.After(from) {
			from = created
		}
		to := end
		if now.Before(to) {
			to = now
		}
		if !to.After(from) {
			day.NoData = true
			day.Worst = ""
			day.Uptime = -1
			// Still consume changes of this day to keep status current.
			for i < len(changes) && changes[i].At.Before(end) {
				status = changes[i].Status
				i++
			}
			days = append(days, day)
			continue
		}
		var down float64
		cur := from
		for i < len(changes) && changes[i].At.Before(end) {
			c := changes[i]
			if c.At.After(cur) {
				down += status.OutageWeight() * c.At.Sub(cur).Seconds()
				cur = c.At
			}
			status = c.Status
			if !c.At.Before(from) {
				day.Worst = upstate.Worse(day.Worst, status)
			}
			i++
		}
		if to.After(cur) {
			down += status.OutageWeight() * to.Sub(cur).Seconds()
		}
		span := to.Sub(from).Seconds()
		day.Uptime = 1 - down/span
		day.Outage = time.Duration(down * float64(time.Second))
		totalUp += span - down
		totalSpan += span
		days = append(days, day)
	}
	if totalSpan == 0 {
		return days, -1
	}
	return days, totalUp / totalSpan
}

// sparkline averages the hourly latency of a component's checks over the
// last 24 hours; hours without results are left out.
func sparkline(hours []store.Rollup, start time.Time) []Latency {
	out := make([]Latency, 0, len(hours))
	for _, r := range hours {
		if i := r.Start.Sub(start) / time.Hour; i < 0 || i >= 24 || r.Count == 0 {
			continue
		}
		out = append(out, Latency{Start: r.Start, Count: r.Count, Max: r.LatencyMax, Mean: r.LatencySum / time.Duration(r.Count)})
	}
	return out
}
