package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// OnCall is who can be paged, when, and how escalation goes.
type OnCall struct {
	People     []Person   `yaml:"people"`
	Schedules  []Schedule `yaml:"schedules"`
	Escalation []Policy   `yaml:"escalation"`
}

// Person is someone who can be paged, through notification channels of
// their own (an email channel to them, a PagerDuty service, a DM webhook).
type Person struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Channels []string `yaml:"channels"`
}

// Schedule is a rotation of people in a time zone.
type Schedule struct {
	ID        string     `yaml:"id"`
	Name      string     `yaml:"name"`
	TimeZone  string     `yaml:"time_zone"`
	Layers    []Layer    `yaml:"layers"`
	Overrides []Override `yaml:"overrides"`

	Location *time.Location `yaml:"-"`
}

// Layer is one rotation; later layers win where they have someone.
type Layer struct {
	Rotation string   `yaml:"rotation"` // daily or weekly
	Every    int      `yaml:"every"`    // days or weeks a shift lasts; default 1
	Handoff  string   `yaml:"handoff"`  // local time shifts change, "09:00"
	Weekday  string   `yaml:"weekday"`  // weekly: the day shifts change; default monday
	Start    string   `yaml:"start"`    // the date the first shift starts, 2026-08-03
	People   []string `yaml:"people"`
	Hours    *Hours   `yaml:"hours"`

	HandoffHour, HandoffMinute int          `yaml:"-"`
	WeekdayValue               time.Weekday `yaml:"-"`
	StartDate                  time.Time    `yaml:"-"`
}

// Hours restricts a layer to a daily window of local time.
type Hours struct {
	From string   `yaml:"from"`
	To   string   `yaml:"to"`
	Days []string `yaml:"days"`

	FromHour, FromMinute, ToHour, ToMinute int            `yaml:"-"`
	DayValues                              []time.Weekday `yaml:"-"`
}

// Override puts someone on call for a while; times are local to the
// schedule ("2026-08-17T09:00") or RFC 3339.
type Override struct {
	Person string `yaml:"person"`
	From   string `yaml:"from"`
	Until  string `yaml:"until"`

	FromTime, UntilTime time.Time `yaml:"-"`
}

// Policy escalates: level after level until someone acknowledges.
type Policy struct {
	ID          string   `yaml:"id"`
	Components  []string `yaml:"components"`
	Repeat      int      `yaml:"repeat"`
	RepeatEvery Duration `yaml:"repeat_every"`
	Levels      []Level  `yaml:"levels"`
}

// Level is one step: after a while, notify these.
type Level struct {
	After  Duration `yaml:"after"`
	Notify []string `yaml:"notify"` // schedule:ID, person:ID or channel:ID
}

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func clockTime(s string) (h, m int, ok bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, 0, false
	}
	return t.Hour(), t.Minute(), true
}

func (v *validator) oncall(comps map[string]int) {
	oc := &v.c.OnCall
	channels := map[string]bool{}
	for _, ch := range v.c.Notifications.Channels {
		channels[ch.ID] = true
	}
	people := map[string]int{}
	for i := range oc.People {
		p := &oc.People[i]
		path := fmt.Sprintf("oncall.people[%d]", i)
		v.id("oncall.people", "person", i, p.ID, people)
		if p.Name == "" {
			p.Name = p.ID
		}
		if len(p.Channels) == 0 {
			v.errf(path, "channels is required: the notification channels that reach %s", p.Name)
		}
		for j, c := range p.Channels {
			if !channels[c] {
				v.errf(fmt.Sprintf("%s.channels[%d]", path, j), "no channel has id %q under notifications.channels", c)
			}
		}
	}
	person := func(path, id string) {
		if people[id] == 0 {
			v.errf(path, "no person has id %q under oncall.people", id)
		}
	}
	schedules := map[string]int{}
	for i := range oc.Schedules {
		s := &oc.Schedules[i]
		path := fmt.Sprintf("oncall.schedules[%d]", i)
		v.id("oncall.schedules", "schedule", i, s.ID, schedules)
		if s.TimeZone == "" {
			s.TimeZone = v.c.Page.TimeZone
		}
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			v.errf(path+".time_zone", "%q is not a time zone name (e.g. Pacific/Auckland)", s.TimeZone)
			loc = time.UTC
		}
		s.Location = loc
		if len(s.Layers) == 0 {
			v.errf(path, "layers is required: at least one rotation")
		}
		for j := range s.Layers {
			v.layer(fmt.Sprintf("%s.layers[%d]", path, j), &s.Layers[j], loc, person)
		}
		for j := range s.Overrides {
			o := &s.Overrides[j]
			op := fmt.Sprintf("%s.overrides[%d]", path, j)
			person(op+".person", o.Person)
			o.FromTime = v.localTime(op+".from", o.From, loc)
			o.UntilTime = v.localTime(op+".until", o.Until, loc)
			if !o.FromTime.IsZero() && !o.UntilTime.IsZero() && !o.UntilTime.After(o.FromTime) {
				v.errf(op+".until", "must be after from: the override ends before it starts")
			}
		}
	}
	policies := map[string]int{}
	for i := range oc.Escalation {
		p := &oc.Escalation[i]
		path := fmt.Sprintf("oncall.escalation[%d]", i)
		v.id("oncall.escalation", "policy", i, p.ID, policies)
		for j, c := range p.Components {
			if comps[c] == 0 {
				v.errf(fmt.Sprintf("%s.components[%d]", path, j), "no component has id %q%s", c, v.known(comps))
			}
		}
		if p.Repeat < 0 || p.Repeat > 10 {
			v.errf(path+".repeat", "%d is out of range: 0 to 10", p.Repeat)
		}
		if len(p.Levels) == 0 {
			v.errf(path, "levels is required: whom to notify first")
		}
		var prev time.Duration
		for j, l := range p.Levels {
			lp := fmt.Sprintf("%s.levels[%d]", path, j)
			if j > 0 && l.After.D() <= prev {
				v.errf(lp+".after", "%s must be later than the level before (%s)", l.After.D(), prev)
			}
			prev = l.After.D()
			if len(l.Notify) == 0 {
				v.errf(lp, "notify is required: schedule:ID, person:ID or channel:ID")
			}
			for k, tg := range l.Notify {
				tp := fmt.Sprintf("%s.notify[%d]", lp, k)
				kind, id, _ := strings.Cut(tg, ":")
				switch {
				case kind == "schedule" && schedules[id] != 0, kind == "person" && people[id] != 0, kind == "channel" && channels[id]:
				case kind == "schedule", kind == "person", kind == "channel":
					v.errf(tp, "no %s has id %q", kind, id)
				default:
					v.errf(tp, "%q is not schedule:ID, person:ID or channel:ID", tg)
				}
			}
		}
		if len(p.Levels) > 0 && p.RepeatEvery != 0 && p.RepeatEvery.D() <= prev {
			v.errf(path+".repeat_every", "must be longer than the last level's after (%s)", prev)
		}
	}
	if len(oc.Escalation) > 0 && v.c.Page.URL == "" {
		v.errf("page.url", "is required when oncall.escalation pages people: pages carry a link to acknowledge")
	}
}

func (v *validator) layer(path string, l *Layer, loc *time.Location, person func(string, string)) {
	switch l.Rotation {
	case "daily", "weekly":
	case "":
		v.errf(path, "rotation is required (daily or weekly)")
	default:
		v.errf(path+".rotation", "%q is not daily or weekly", l.Rotation)
	}
	if l.Every < 0 || l.Every > 52 {
		v.errf(path+".every", "%d is out of range: 1 to 52", l.Every)
	}
	if l.Handoff == "" {
		l.Handoff = "09:00"
	}
	h, m, ok := clockTime(l.Handoff)
	if !ok {
		v.errf(path+".handoff", "%q is not a time of day (e.g. 09:00)", l.Handoff)
	}
	l.HandoffHour, l.HandoffMinute = h, m
	if l.Weekday == "" {
		l.Weekday = "monday"
	}
	wd, ok := weekdays[strings.ToLower(l.Weekday)]
	if !ok {
		v.errf(path+".weekday", "%q is not a day of the week", l.Weekday)
	} else if l.Rotation == "daily" && slices.Contains(v.d.keys[path], "weekday") {
		v.errf(path+".weekday", "applies to weekly rotations only")
	}
	l.WeekdayValue = wd
	if l.Start == "" {
		v.errf(path, "start is required: the date the first shift begins (e.g. 2026-08-03)")
	} else if d, err := time.ParseInLocation("2006-01-02", l.Start, loc); err != nil {
		v.errf(path+".start", "%q is not a date (YYYY-MM-DD)", l.Start)
	} else {
		l.StartDate = d
	}
	if len(l.People) == 0 {
		v.errf(path, "people is required: who takes turns")
	}
	for i, p := range l.People {
		person(fmt.Sprintf("%s.people[%d]", path, i), p)
	}
	if hs := l.Hours; hs != nil {
		var ok1, ok2 bool
		hs.FromHour, hs.FromMinute, ok1 = clockTime(hs.From)
		hs.ToHour, hs.ToMinute, ok2 = clockTime(hs.To)
		if !ok1 || !ok2 {
			v.errf(path+".hours", "from and to must be times of day (e.g. from: \"09:00\", to: \"17:00\")")
		} else if hs.From == hs.To {
			v.errf(path+".hours", "from and to are the same: the window would be empty")
		}
		for i, d := range hs.Days {
			wd, ok := weekdays[strings.ToLower(d)]
			if !ok {
				v.errf(fmt.Sprintf("%s.hours.days[%d]", path, i), "%q is not a day of the week", d)
			} else if !slices.Contains(hs.DayValues, wd) {
				hs.DayValues = append(hs.DayValues, wd)
			}
		}
	}
}

// localTime reads "2026-08-17T09:00" in loc, or an RFC 3339 time.
func (v *validator) localTime(path, s string, loc *time.Location) time.Time {
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, loc); err == nil {
		return t
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	v.errf(path, "%q is not a time (e.g. 2026-08-17T09:00 in the schedule's zone)", s)
	return time.Time{}
}
