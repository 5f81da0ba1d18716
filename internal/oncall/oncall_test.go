package oncall

import (
	"strings"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestDailyHandoffAcrossDST(t *testing.T) {
	nz := zone(t, "Pacific/Auckland")
	// New Zealand leaves daylight time at 03:00 on Sunday 5 April 2026.
	s := Schedule{ID: "primary", Location: nz, Layers: []Layer{{Rotation: Daily, HandoffHour: 9, Start: time.Date(2026, 4, 1, 0, 0, 0, 0, nz),
		People: []string{"dana", "lee", "sam"}}}}
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 4, 1, 8, 59, 0, 0, nz), ""}, // before the rotation starts
		{time.Date(2026, 4, 1, 9, 0, 0, 0, nz), "dana"},
		{time.Date(2026, 4, 2, 8, 59, 59, 0, nz), "dana"},
		{time.Date(2026, 4, 2, 9, 0, 0, 0, nz), "lee"},
		{time.Date(2026, 4, 4, 9, 0, 0, 0, nz), "dana"},
		{time.Date(2026, 4, 5, 8, 59, 0, 0, nz), "dana"}, // 24 h after the handoff by the clock on the wall is 25 h by UTC
		{time.Date(2026, 4, 5, 9, 0, 0, 0, nz), "lee"},
	}
	for _, tc := range tests {
		if got := s.OnCall(tc.at).Person; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.at, got, tc.want)
		}
	}
	sh := s.OnCall(time.Date(2026, 4, 4, 12, 0, 0, 0, nz))
	if d := sh.Until.Sub(sh.From); d != 25*time.Hour {
		t.Errorf("the shift over the change lasts %v, want 25h (09:00 to 09:00 local)", d)
	}
	if sh.Until.In(nz).Hour() != 9 || sh.From.In(nz).Hour() != 9 {
		t.Errorf("handoffs at %v and %v local, want 09:00", sh.From.In(nz), sh.Until.In(nz))
	}
}

func TestWeeklyHandoffAcrossDST(t *testing.T) {
	la := zone(t, "America/Los_Angeles")
	// Daylight time starts at 02:00 on Sunday 8 March 2026 and ends at 02:00 on 1 November.
	s := Schedule{Location: la, Layers: []Layer{{Rotation: Weekly, Weekday: time.Monday, HandoffHour: 9, Start: time.Date(2026, 2, 25, 0, 0, 0, 0, la),
		People: []string{"ann", "bo"}}}}
	// The first handoff is the first Monday on or after the start.
	if sh := s.OnCall(time.Date(2026, 3, 1, 12, 0, 0, 0, la)); sh.Person != "" {
		t.Errorf("before the first Monday: %+v", sh)
	}
	sh := s.OnCall(time.Date(2026, 3, 5, 12, 0, 0, 0, la))
	if sh.Person != "ann" || sh.From.In(la).Format("Mon Jan 2 15:04 MST") != "Mon Mar 2 09:00 PST" || sh.Until.In(la).Format("Mon Jan 2 15:04 MST") != "Mon Mar 9 09:00 PDT" {
		t.Errorf("shift = %s from %s until %s", sh.Person, sh.From.In(la), sh.Until.In(la))
	}
	if d := sh.Until.Sub(sh.From); d != 7*24*time.Hour-time.Hour {
		t.Errorf("spring-forward week lasts %v", d)
	}
	fall := s.OnCall(time.Date(2026, 10, 30, 12, 0, 0, 0, la))
	if d := fall.Until.Sub(fall.From); d != 7*24*time.Hour+time.Hour || fall.Until.In(la).Hour() != 9 {
		t.Errorf("fall-back week lasts %v, ends %v", d, fall.Until.In(la))
	}
	// A year on, still Monday 09:00 local, alternating.
	if got := s.OnCall(time.Date(2027, 3, 1, 9, 0, 0, 0, la)); got.Person == "" || got.From.In(la).Weekday() != time.Monday || got.From.In(la).Hour() != 9 {
		t.Errorf("a year on: %+v", got)
	}
}

func TestHandoffInTheSkippedHour(t *testing.T) {
	la := zone(t, "America/Los_Angeles")
	// 02:30 does not exist on 8 March 2026: the handoff lands an hour to
	// one side of it, and nobody falls in a gap.
	s := Schedule{Location: la, Layers: []Layer{{Rotation: Daily, HandoffHour: 2, HandoffMinute: 30, Start: time.Date(2026, 3, 1, 0, 0, 0, 0, la), People: []string{"a", "b"}}}}
	for at := time.Date(2026, 3, 7, 0, 0, 0, 0, la); at.Before(time.Date(2026, 3, 10, 0, 0, 0, 0, la)); at = at.Add(time.Minute) {
		if s.OnCall(at).Person == "" {
			t.Fatalf("nobody on call at %v", at)
		}
	}
	sh := s.OnCall(time.Date(2026, 3, 8, 4, 0, 0, 0, la))
	if f := sh.From.In(la).Format("15:04 MST"); f != "03:30 PDT" && f != "01:30 PST" {
		t.Errorf("handoff on the change day at %v", sh.From.In(la))
	}
}

func TestLayersAndOverrides(t *testing.T) {
	nz := zone(t, "Pacific/Auckland")
	base := Layer{Rotation: Weekly, Weekday: time.Monday, HandoffHour: 9, Start: time.Date(2026, 8, 3, 0, 0, 0, 0, nz), People: []string{"night1", "night2"}}
	day := Layer{Rotation: Daily, HandoffHour: 9, Start: time.Date(2026, 8, 3, 0, 0, 0, 0, nz), People: []string{"dana", "lee"},
		Hours: &Window{FromHour: 9, ToHour: 17, Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}}
	s := Schedule{Location: nz, Layers: []Layer{base, day},
		Overrides: []Override{{Person: "sam", From: time.Date(2026, 8, 5, 12, 0, 0, 0, nz), Until: time.Date(2026, 8, 5, 14, 0, 0, 0, nz)}}}
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 8, 3, 10, 0, 0, 0, nz), "dana"},   // Monday, working hours: the day layer
		{time.Date(2026, 8, 3, 18, 0, 0, 0, nz), "night1"}, // after hours: the base layer
		{time.Date(2026, 8, 4, 10, 0, 0, 0, nz), "lee"},
		{time.Date(2026, 8, 5, 13, 0, 0, 0, nz), "sam"},    // the override
		{time.Date(2026, 8, 8, 10, 0, 0, 0, nz), "night1"}, // Saturday
		{time.Date(2026, 8, 10, 10, 0, 0, 0, nz), "lee"},   // daily: Mon dana, Tue lee, ... the next Monday lee
		{time.Date(2026, 8, 10, 20, 0, 0, 0, nz), "night2"},
	}
	for _, tc := range tests {
		if got := s.OnCall(tc.at).Person; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.at.Format("Mon Jan 2 15:04"), got, tc.want)
		}
	}
	var got []string
	for _, sh := range s.Shifts(time.Date(2026, 8, 5, 0, 0, 0, 0, nz), time.Date(2026, 8, 6, 0, 0, 0, 0, nz)) {
		got = append(got, sh.Person+" "+sh.From.In(nz).Format("15:04")+"-"+sh.Until.In(nz).Format("15:04"))
	}
	if want := "night1 00:00-09:00|dana 09:00-12:00|sam 12:00-14:00|dana 14:00-17:00|night1 17:00-00:00"; strings.Join(got, "|") != want {
		t.Errorf("shifts on Wednesday:\n %s\nwant\n %s", strings.Join(got, "|"), want)
	}
}

func TestPlanEscalatesAcrossAHandoff(t *testing.T) {
	nz := zone(t, "Pacific/Auckland")
	d := Directory{
		People: map[string]Person{"dana": {ID: "dana", Channels: []string{"dana-mail", "dana-pd"}}, "lee": {ID: "lee", Channels: []string{"lee-mail"}},
			"sam": {ID: "sam", Channels: []string{"sam-mail"}}},
		Schedules: map[string]Schedule{"primary": {Location: nz, Layers: []Layer{{Rotation: Daily, HandoffHour: 4, Start: time.Date(2026, 8, 1, 0, 0, 0, 0, nz), People: []string{"dana", "lee"}}}}},
	}
	p := Policy{Levels: []Level{{After: 0, Notify: []Target{{"schedule", "primary"}}}, {After: 20 * time.Minute, Notify: []Target{{"person", "sam"}, {"channel", "ops"}}}}, Repeat: 1}
	// Paged at 03:42: level 1 is Dana's, but by the repeat at 04:22 Lee has taken over.
	start := time.Date(2026, 8, 18, 3, 42, 0, 0, nz)
	var got []string
	for _, pg := range d.Plan(p, start) {
		got = append(got, pg.At.In(nz).Format("15:04")+" L"+string(rune('0'+pg.Level))+"R"+string(rune('0'+pg.Run))+" "+pg.Person+"@"+pg.Channel)
	}
	want := "03:42 L1R1 dana@dana-mail|03:42 L1R1 dana@dana-pd|04:02 L2R1 sam@sam-mail|04:02 L2R1 @ops|04:22 L1R2 lee@lee-mail|04:42 L2R2 sam@sam-mail|04:42 L2R2 @ops"
	if strings.Join(got, "|") != want {
		t.Errorf("plan:\n %s\nwant\n %s", strings.Join(got, "|"), want)
	}
	if !p.Matches([]string{"api"}) || (Policy{Components: []string{"drive"}}).Matches([]string{"api"}) {
		t.Error("Matches")
	}
	if _, err := ParseTarget("team:x"); err == nil {
		t.Error("a bad target parsed")
	}
}
