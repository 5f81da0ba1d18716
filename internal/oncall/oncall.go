// Package oncall says who is on call and whom to page when: schedules are
// rotations in a time zone (daily or weekly handoffs at a local time,
// layers, overrides), and escalation policies notify level after level
// until someone acknowledges. It is pure: data in, answers out; handoffs
// are computed in local time, so they stay at 09:00 across DST changes.
package oncall

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Person is someone who can be paged, through channels of their own.
type Person struct {
	ID       string
	Name     string
	Channels []string // notification channel ids that reach this person
}

// Rotation is how often a layer hands off.
type Rotation string

// The rotations.
const (
	Daily  Rotation = "daily"
	Weekly Rotation = "weekly"
)

// Layer is one rotation of people. Later layers win over earlier ones
// where they have someone on call.
type Layer struct {
	Rotation Rotation
	// Every is how many days (daily) or weeks (weekly) a shift lasts; 1 when zero.
	Every int
	// Handoff is the local time of day shifts change, as hour and minute.
	HandoffHour, HandoffMinute int
	// Weekday is the day weekly shifts change.
	Weekday time.Weekday
	// Start is the local date the first person's first shift begins (its
	// time of day is ignored).
	Start  time.Time
	People []string
	// Hours, when set, restricts the layer to a daily window of local
	// time [From, To) on the given weekdays (all when empty); outside it
	// the layer has nobody, so a lower layer answers.
	Hours *Window
}

// Window is a daily stretch of local time.
type Window struct {
	FromHour, FromMinute int
	ToHour, ToMinute     int
	Days                 []time.Weekday
}

// Override puts someone on call for a while, above every layer.
type Override struct {
	Person      string
	From, Until time.Time
}

// Schedule is who is on call, in one time zone.
type Schedule struct {
	ID        string
	Name      string
	Location  *time.Location
	Layers    []Layer
	Overrides []Override
}

// Shift is one person's time on call.
type Shift struct {
	Person      string
	From, Until time.Time
	Layer       int // -1 for an override
}

// OnCall returns who is on call at t ("" for nobody) and their shift.
func (s Schedule) OnCall(t time.Time) Shift {
	for _, o := range slices.Backward(s.Overrides) {
		if !t.Before(o.From) && t.Before(o.Until) {
			return Shift{Person: o.Person, From: o.From, Until: o.Until, Layer: -1}
		}
	}
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if sh, ok := s.Layers[i].at(t, s.Location); ok {
			sh.Layer = i
			return sh
		}
	}
	return Shift{Layer: -2}
}

// shiftStart is when shift k of the layer begins, in local time.
func (l Layer) shiftStart(k int, loc *time.Location) time.Time {
	days := max(l.Every, 1)
	y, m, d := l.Start.In(loc).Date()
	if l.Rotation == Weekly {
		days *= 7
		// The first handoff is on the rotation's weekday, on or after Start.
		d += (int(l.Weekday) - int(time.Date(y, m, d, 12, 0, 0, 0, loc).Weekday()) + 7) % 7
	}
	return time.Date(y, m, d+k*days, l.HandoffHour, l.HandoffMinute, 0, 0, loc)
}

// at returns the layer's shift at t, if it has someone then.
func (l Layer) at(t time.Time, loc *time.Location) (Shift, bool) {
	if len(l.People) == 0 {
		return Shift{}, false
	}
	first := l.shiftStart(0, loc)
	if t.Before(first) {
		return Shift{}, false
	}
	// Estimate the shift from elapsed calendar time, then step to the
	// exact one: local handoffs move against UTC at DST changes.
	days := max(l.Every, 1)
	if l.Rotation == Weekly {
		days *= 7
	}
	k := int(t.Sub(first).Hours() / 24 / float64(days))
	for k > 0 && l.shiftStart(k, loc).After(t) {
		k--
	}
	for !l.shiftStart(k+1, loc).After(t) {
		k++
	}
	sh := Shift{Person: l.People[k%len(l.People)], From: l.shiftStart(k, loc), Until: l.shiftStart(k+1, loc)}
	if l.Hours != nil {
		from, until, ok := l.Hours.around(t, loc)
		if !ok {
			return Shift{}, false
		}
		sh.From, sh.Until = later(sh.From, from), earlier(sh.Until, until)
	}
	return sh, true
}

// around returns the window's stretch that contains t, if any.
func (w Window) around(t time.Time, loc *time.Location) (time.Time, time.Time, bool) {
	lt := t.In(loc)
	for _, back := range []int{0, -1} { // a window may run past midnight
		y, m, d := lt.Date()
		day := time.Date(y, m, d+back, 12, 0, 0, 0, loc)
		if len(w.Days) > 0 && !slices.Contains(w.Days, day.Weekday()) {
			continue
		}
		from := time.Date(y, m, d+back, w.FromHour, w.FromMinute, 0, 0, loc)
		until := time.Date(y, m, d+back, w.ToHour, w.ToMinute, 0, 0, loc)
		if !until.After(from) {
			until = time.Date(y, m, d+back+1, w.ToHour, w.ToMinute, 0, 0, loc)
		}
		if !t.Before(from) && t.Before(until) {
			return from, until, true
		}
	}
	return time.Time{}, time.Time{}, false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Shifts lists who is on call from `from` to `to`, shift by shift.
func (s Schedule) Shifts(from, to time.Time) []Shift {
	var out []Shift
	for t := from; t.Before(to); {
		sh := s.OnCall(t)
		end := to
		// The answer can change at this shift's end, at any override's
		// edge, or at any layer's next change; step to the nearest.
		for _, c := range s.changes(t) {
			if c.After(t) && c.Before(end) {
				end = c
			}
		}
		if sh.Person != "" {
			if n := len(out); n > 0 && out[n-1].Person == sh.Person && out[n-1].Until.Equal(t) && out[n-1].Layer == sh.Layer {
				out[n-1].Until = end
			} else {
				out = append(out, Shift{Person: sh.Person, From: t, Until: end, Layer: sh.Layer})
			}
		}
		t = end
	}
	return out
}

// changes are the times after t when who is on call may change.
func (s Schedule) changes(t time.Time) []time.Time {
	var out []time.Time
	for _, o := range s.Overrides {
		out = append(out, o.From, o.Until)
	}
	for _, l := range s.Layers {
		if sh, ok := l.at(t, s.Location); ok {
			out = append(out, sh.Until)
		} else {
			out = append(out, l.shiftStart(0, s.Location))
		}
		if l.Hours != nil {
			// The next window edge: look a day ahead in 15-minute steps
			// would be costly; windows edge at fixed local times, so try
			// today's and tomorrow's.
			lt := t.In(s.Location)
			y, m, d := lt.Date()
			for back := -1; back <= 1; back++ {
				out = append(out, time.Date(y, m, d+back, l.Hours.FromHour, l.Hours.FromMinute, 0, 0, s.Location),
					time.Date(y, m, d+back, l.Hours.ToHour, l.Hours.ToMinute, 0, 0, s.Location))
			}
		}
	}
	return out
}

// Target is whom an escalation level notifies.
type Target struct {
	Kind string // "schedule", "person" or "channel"
	ID   string
}

// ParseTarget reads "schedule:primary", "person:dana" or "channel:ops".
func ParseTarget(s string) (Target, error) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" || (kind != "schedule" && kind != "person" && kind != "channel") {
		return Target{}, fmt.Errorf("%q is not schedule:ID, person:ID or channel:ID", s)
	}
	return Target{kind, id}, nil
}

// Level is one step of a policy.
type Level struct {
	After  time.Duration // from the incident's start of paging
	Notify []Target
}

// Policy escalates an unacknowledged incident level after level, and runs
// the levels again Repeat more times.
type Policy struct {
	ID         string
	Components []string // incidents on any of these; all when empty
	Levels     []Level
	Repeat     int
	// RepeatEvery is the time from one run's start to the next; default
	// the last level's After plus the gap before it (or 30m).
	RepeatEvery time.Duration
}

// Matches reports whether the policy covers an incident on these components.
func (p Policy) Matches(components []string) bool {
	if len(p.Components) == 0 {
		return true
	}
	for _, c := range components {
		if slices.Contains(p.Components, c) {
			return true
		}
	}
	return false
}

// Page is one notification an escalation owes: to a channel, at a time,
// for a level of a run.
type Page struct {
	At      time.Time
	Level   int // from 1
	Run     int // from 1
	Person  string
	Channel string
}

// Directory resolves targets.
type Directory struct {
	People    map[string]Person
	Schedules map[string]Schedule
}

// Plan lists every page the policy would send for an incident paged at
// start if nobody acknowledges: who is on call is looked up at each
// level's time, so a handoff between levels pages the new person.
func (d Directory) Plan(p Policy, start time.Time) []Page {
	every := p.RepeatEvery
	if every <= 0 {
		every = 30 * time.Minute
		if n := len(p.Levels); n > 1 {
			every = p.Levels[n-1].After + (p.Levels[n-1].After - p.Levels[n-2].After)
		} else if n == 1 && p.Levels[0].After > 0 {
			every = 2 * p.Levels[0].After
		}
	}
	var out []Page
	for run := 0; run <= p.Repeat; run++ {
		for i, l := range p.Levels {
			at := start.Add(time.Duration(run)*every + l.After)
			seen := map[string]bool{}
			for _, tg := range l.Notify {
				for _, pg := range d.resolve(tg, at) {
					key := pg.Person + "/" + pg.Channel
					if seen[key] {
						continue
					}
					seen[key] = true
					pg.At, pg.Level, pg.Run = at, i+1, run+1
					out = append(out, pg)
				}
			}
		}
	}
	return out
}

func (d Directory) resolve(tg Target, at time.Time) []Page {
	switch tg.Kind {
	case "channel":
		return []Page{{Channel: tg.ID}}
	case "schedule":
		sh := d.Schedules[tg.ID].OnCall(at)
		if sh.Person == "" {
			return nil
		}
		return d.resolve(Target{"person", sh.Person}, at)
	case "person":
		var out []Page
		for _, ch := range d.People[tg.ID].Channels {
			out = append(out, Page{Person: tg.ID, Channel: ch})
		}
		return out
	}
	return nil
}
