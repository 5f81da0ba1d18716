package config

import (
	"strings"
	"testing"
	"time"
)

func TestOnCall(t *testing.T) {
	const base = "page: {name: X, url: 'https://status.example.com', time_zone: Pacific/Auckland}\ncomponents:\n  - {id: api, name: API}\n" +
		"notifications:\n  channels:\n    - {id: dana-mail, type: email, to: [dana@example.com], smtp: {host: smtp.example.com, from: s@example.com}}\n"
	good := base + `oncall:
  people:
    - {id: dana, name: Dana, channels: [dana-mail]}
  schedules:
    - id: primary
      layers:
        - {rotation: weekly, weekday: tue, handoff: "08:30", start: 2026-08-04, people: [dana]}
        - rotation: daily
          start: 2026-08-04
          people: [dana]
          hours: {from: "09:00", to: "17:00", days: [mon, fri]}
      overrides:
        - {person: dana, from: "2026-08-17T09:00", until: "2026-08-18T09:00"}
  escalation:
    - id: default
      levels:
        - {after: 0m, notify: [schedule:primary]}
        - {after: 10m, notify: [person:dana, channel:dana-mail]}
`
	c, err := Parse("f.yaml", []byte(good), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := c.OnCall.Schedules[0]
	l := s.Layers[0]
	if s.Location.String() != "Pacific/Auckland" || l.WeekdayValue != time.Tuesday || l.HandoffHour != 8 || l.HandoffMinute != 30 || l.StartDate.Day() != 4 {
		t.Errorf("schedule = %+v", s)
	}
	if h := s.Layers[1].Hours; h.FromHour != 9 || h.ToHour != 17 || len(h.DayValues) != 2 || s.Layers[1].HandoffHour != 9 {
		t.Errorf("hours = %+v", h)
	}
	if o := s.Overrides[0]; o.FromTime.In(s.Location).Hour() != 9 || o.UntilTime.Sub(o.FromTime) != 24*time.Hour {
		t.Errorf("override = %+v", o)
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"references", `oncall:
  people:
    - {id: dana, channels: [nope]}
  schedules:
    - id: s
      time_zone: Mars/Olympus
      layers:
        - {rotation: hourly, handoff: "25:00", start: "Aug 4", people: [sam], weekday: someday}
      overrides:
        - {person: dana, from: "2026-08-18T09:00", until: "2026-08-17T09:00"}
  escalation:
    - id: p
      components: [web]
      levels:
        - {after: 10m, notify: [schedule:t, team:ops]}
        - {after: 5m, notify: [person:dana]}
`, []string{
			`oncall.people[0].channels[0]: no channel has id "nope"`,
			`oncall.schedules[0].time_zone: "Mars/Olympus" is not a time zone name`,
			`oncall.schedules[0].layers[0].rotation: "hourly" is not daily or weekly`,
			`layers[0].handoff: "25:00" is not a time of day`,
			`layers[0].start: "Aug 4" is not a date`,
			`layers[0].people[0]: no person has id "sam"`,
			`layers[0].weekday: "someday" is not a day of the week`,
			`overrides[0].until: must be after from`,
			`escalation[0].components[0]: no component has id "web"`,
			`levels[0].notify[0]: no schedule has id "t"`,
			`levels[0].notify[1]: "team:ops" is not schedule:ID, person:ID or channel:ID`,
			`levels[1].after: 5m0s must be later than the level before (10m0s)`,
		}},
		{"missing", "oncall:\n  people:\n    - {id: dana}\n  schedules:\n    - {id: s}\n  escalation:\n    - {id: p}\n",
			[]string{`people[0]: channels is required`, `schedules[0]: layers is required`, `escalation[0]: levels is required`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(base+tc.yaml), noEnv)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%s", w, err)
				}
			}
		})
	}
	noURL := strings.Replace(good, "url: 'https://status.example.com', ", "", 1)
	if _, err := Parse("f.yaml", []byte(noURL), noEnv); err == nil || !strings.Contains(err.Error(), "page.url: is required when oncall.escalation pages people") {
		t.Errorf("escalation without a page URL: %v", err)
	}
}
