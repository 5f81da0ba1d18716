package upstate

import (
	"fmt"
	"time"
)

// DurationStyle is how FormatDuration says a duration.
type DurationStyle int

// The ways durations are said. They differ on purpose: words read in
// sentences, the page is glanced at, and the report is read in tables.
const (
	// DurationWords is for sentences on timelines and in notifications:
	// "45 seconds", "37 minutes", "2 hours 5 minutes", "3 days" (from two
	// days on).
	DurationWords DurationStyle = iota
	// DurationShort is for the public page, in whole minutes: "under a
	// minute", "37 min", "2 h 5 min", "72 h".
	DurationShort
	// DurationReport is for the outage report: "45 s", "37 min",
	// "2 h 5 min", "72 h".
	DurationReport
	// DurationWindow names a span checks look over, exactly when whole
	// hours, else in minutes or seconds: "1 h", "90 min", "45 s".
	DurationWindow
	// DurationAbout is an estimate, to one unit: "a minute", "40
	// minutes", "3 hours", "2 days".
	DurationAbout
)

// FormatDuration says d the way people read it, in the style's words.
// (A few messages for operators keep Go's own form, such as "1m30s" in a
// notification given up or a signature's clock skew: exact, and read by
// the people who configure things.)
// Minutes are rounded to the nearest, as are seconds (DurationShort
// rounds the whole duration to minutes first).
func FormatDuration(d time.Duration, style DurationStyle) string {
	switch style {
	case DurationWindow:
		switch {
		case d >= time.Hour && d%time.Hour == 0:
			return fmt.Sprintf("%d h", int(d.Hours()))
		case d >= time.Minute:
			return fmt.Sprintf("%d min", int(d.Round(time.Minute).Minutes()))
		}
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case DurationAbout:
		switch {
		case d < 90*time.Second:
			return "a minute"
		case d < 90*time.Minute:
			return fmt.Sprintf("%d minutes", int(d.Round(time.Minute).Minutes()))
		case d < 36*time.Hour:
			return fmt.Sprintf("%d hours", int(d.Round(time.Hour).Hours()))
		}
		return fmt.Sprintf("%d days", int(d.Hours()/24+0.5))
	}
	step := time.Second
	if style == DurationShort {
		step = time.Minute
	}
	d = d.Round(step)
	switch {
	case d < time.Minute:
		if style == DurationShort {
			return "under a minute"
		}
		return style.count(int(d.Seconds()), second)
	case d < time.Hour:
		return style.count(int(d.Round(time.Minute).Minutes()), minute)
	case style == DurationWords && d >= 48*time.Hour:
		return style.count(int(d.Hours()/24), day)
	}
	h := int(d.Hours())
	m := int((d - time.Duration(h)*time.Hour).Round(time.Minute).Minutes())
	if m == 60 {
		h, m = h+1, 0
	}
	if m == 0 {
		return style.count(h, hour)
	}
	return style.count(h, hour) + " " + style.count(m, minute)
}

// durationUnit is a unit FormatDuration counts in.
type durationUnit int

const (
	second durationUnit = iota
	minute
	hour
	day
)

// count says n of the unit in the style's words: "1 minute", "2 hours",
// "37 min".
func (s DurationStyle) count(n int, u durationUnit) string {
	if s == DurationWords {
		word := [...]string{second: "second", minute: "minute", hour: "hour", day: "day"}[u]
		if n == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	return fmt.Sprintf("%d %s", n, [...]string{second: "s", minute: "min", hour: "h", day: "d"}[u])
}
