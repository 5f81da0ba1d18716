package oncall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate"
)

// OverrideStore keeps the overrides people add at runtime.
type OverrideStore interface {
	SaveOverride(ctx context.Context, o upstate.OnCallOverride) error
	DeleteOverride(ctx context.Context, id string) error
	// ListOverrides returns those ending after since, soonest first.
	ListOverrides(ctx context.Context, since time.Time) ([]upstate.OnCallOverride, error)
}

// Plan is the on-call configuration: the people (in the order they are
// listed), the schedules with the overrides written in the configuration,
// and the escalation policies.
type Plan struct {
	People    []Person
	Schedules []Schedule
	Policies  []Policy
}

// RosterOptions configure a Roster.
type RosterOptions struct {
	Store OverrideStore
	Now   func() time.Time
	NewID func() string
	// Changed is told the directory (every schedule with every override)
	// and the policies whenever they change: a new plan, an override added
	// or removed. It is called with the roster's changes serialised, so
	// the last call is the current picture.
	Changed func(Directory, []Policy)
	Logger  *slog.Logger
}

// Roster is who is on call: the configured plan and the overrides people
// add at runtime ("I'll take tonight"), which it validates and keeps, and
// the directory both make, rebuilt whenever either changes.
type Roster struct {
	opts RosterOptions
	mu   sync.Mutex // serialises changes
	cur  atomic.Pointer[rosterState]
}

// rosterState is one picture, replaced whole.
type rosterState struct {
	plan  Plan
	added []upstate.OnCallOverride
	dir   Directory
}

// NewRoster returns a roster with an empty plan; Configure and Load fill it.
func NewRoster(opts RosterOptions) (*Roster, error) {
	if opts.Store == nil || opts.Now == nil || opts.NewID == nil {
		return nil, errors.New("oncall: RosterOptions.Store, Now and NewID are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Changed == nil {
		opts.Changed = func(Directory, []Policy) {}
	}
	r := &Roster{opts: opts}
	r.cur.Store(&rosterState{dir: Directory{People: map[string]Person{}, Schedules: map[string]Schedule{}}})
	return r, nil
}

// Configure replaces the plan (a reload), keeping the runtime overrides.
func (r *Roster) Configure(p Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.publish(p, r.cur.Load().added)
}

// Load reads the runtime overrides from the store (those over for less
// than a day too, so the picture of the last hours is whole).
func (r *Roster) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load(ctx)
}

// load must be called with r.mu held.
func (r *Roster) load(ctx context.Context) error {
	list, err := r.opts.Store.ListOverrides(ctx, r.opts.Now().Add(-24*time.Hour))
	if err != nil {
		return fmt.Errorf("load on-call overrides: %w", err)
	}
	r.publish(r.cur.Load().plan, list)
	return nil
}

// publish builds the directory and tells Changed. Must be called with
// r.mu held.
func (r *Roster) publish(p Plan, added []upstate.OnCallOverride) {
	dir := Directory{People: map[string]Person{}, Schedules: map[string]Schedule{}}
	for _, pp := range p.People {
		dir.People[pp.ID] = pp
	}
	for _, s := range p.Schedules {
		dir.Schedules[s.ID] = withOverrides(s, added)
	}
	r.cur.Store(&rosterState{plan: p, added: added, dir: dir})
	r.opts.Changed(dir, p.Policies)
}

// withOverrides is the schedule with the runtime overrides for it after
// its configured ones: the latest word wins.
func withOverrides(s Schedule, added []upstate.OnCallOverride) Schedule {
	out := s
	out.Overrides = append([]Override(nil), s.Overrides...)
	for _, o := range added {
		if o.Schedule == s.ID {
			out.Overrides = append(out.Overrides, Override{Person: o.Person, From: o.From, Until: o.Until})
		}
	}
	return out
}

// Directory is the current directory: every schedule with every override.
func (r *Roster) Directory() Directory { return r.cur.Load().dir }

// Name is a person's name, if the plan has the person.
func (r *Roster) Name(person string) (string, bool) {
	for _, p := range r.cur.Load().plan.People {
		if p.ID == person {
			return p.Name, true
		}
	}
	return "", false
}

// Overrides lists the overrides people added, not yet over.
func (r *Roster) Overrides(ctx context.Context) ([]upstate.OnCallOverride, error) {
	return r.opts.Store.ListOverrides(ctx, r.opts.Now())
}

// AddOverride puts a person on call on a schedule from from to until.
// Pages planned from now on follow it; pages already planned for an open
// incident keep the people they were planned for.
func (r *Roster) AddOverride(ctx context.Context, schedule, person string, from, until time.Time, actor string) (upstate.OnCallOverride, error) {
	plan := r.cur.Load().plan
	now := r.opts.Now()
	var probs []string
	known := false
	for _, s := range plan.Schedules {
		known = known || s.ID == schedule
	}
	if !known {
		probs = append(probs, fmt.Sprintf("schedule: no schedule %q", schedule))
	}
	if _, ok := r.Name(person); !ok {
		probs = append(probs, fmt.Sprintf("person: no person %q under oncall.people", person))
	}
	switch {
	case from.IsZero() || until.IsZero():
		probs = append(probs, "from and until are required")
	case !until.After(from):
		probs = append(probs, "until must be after from: the override ends before it starts")
	case !until.After(now):
		probs = append(probs, "until is in the past")
	}
	if len(probs) > 0 {
		return upstate.OnCallOverride{}, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	o := upstate.OnCallOverride{ID: r.opts.NewID(), Schedule: schedule, Person: person, From: from.UTC(), Until: until.UTC(), CreatedBy: actor, CreatedAt: now}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.opts.Store.SaveOverride(ctx, o); err != nil {
		return o, err
	}
	r.opts.Logger.Info("on-call override added", "component", "oncall", "schedule", schedule, "person", person, "actor", actor)
	return o, r.load(ctx)
}

// RemoveOverride ends an override people added.
func (r *Roster) RemoveOverride(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.opts.Store.DeleteOverride(ctx, id); err != nil {
		return err
	}
	return r.load(ctx)
}

// OnCallNow lists each schedule with who is on call now and the shifts of
// the next week.
func (r *Roster) OnCallNow(context.Context) []upstate.ScheduleView {
	st := r.cur.Load()
	now := r.opts.Now()
	names := map[string]string{}
	for _, p := range st.plan.People {
		names[p.ID] = p.Name
	}
	var out []upstate.ScheduleView
	for _, s := range st.plan.Schedules {
		v := upstate.ScheduleView{ID: s.ID, Name: s.Name, Zone: s.Location.String()}
		for _, p := range st.plan.People {
			v.People = append(v.People, [2]string{p.ID, p.Name})
		}
		if v.Name == "" {
			v.Name = s.ID
		}
		for _, sh := range st.dir.Schedules[s.ID].Shifts(now, now.Add(7*24*time.Hour)) {
			v.Shifts = append(v.Shifts, upstate.ShiftView{Person: sh.Person, Name: names[sh.Person], From: sh.From, Until: sh.Until, Override: sh.Layer == -1})
		}
		out = append(out, v)
	}
	return out
}
