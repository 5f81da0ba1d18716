package admin

import (
	"strconv"
	"strings"

	"github.com/upstatehq/upstate"
)

// parseFailing reads the scope fold's share of requests failing into
// reach: "25" (or "25%") is one figure, "10-25", "10–25" or "10% – 25%" a
// range. Empty leaves the share unknown. Whether the figures are from 0
// to 100 and in order is the engine's to say, in the words the form
// shows for reach.failing_percent.
func parseFailing(s string, reach *upstate.Reach) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	num := func(x string) (float64, bool) {
		v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(x), "%")), 64)
		return v, err == nil
	}
	lo, hi, isRange := s, "", false
	for _, dash := range []string{"–", "—", "-"} { // en dash, em dash, hyphen
		// A leading hyphen is a minus sign, for the engine to refuse.
		if i := strings.Index(s[1:], dash); i >= 0 {
			lo, hi, isRange = s[:i+1], s[i+1+len(dash):], true
			break
		}
	}
	a, ok := num(lo)
	if !ok || len(s) > 40 {
		return upstate.Errorf(upstate.EINVALID, "share of requests failing: %q is not a number, nor a range such as 10–25", s)
	}
	reach.FailingPercent, reach.FailingMax = &a, nil
	if isRange {
		b, ok := num(hi)
		if !ok {
			return upstate.Errorf(upstate.EINVALID, "share of requests failing: %q is not a number, nor a range such as 10–25", s)
		}
		reach.FailingMax = &b
	}
	return nil
}

// formatFailing is the share as the form shows it: "25", or "10–25" for
// a range.
func formatFailing(r upstate.Reach) string {
	lo, hi, ok := r.Failing()
	switch {
	case !ok:
		return ""
	case hi > lo:
		return strconv.FormatFloat(lo, 'f', -1, 64) + "–" + strconv.FormatFloat(hi, 'f', -1, 64)
	}
	return strconv.FormatFloat(lo, 'f', -1, 64)
}
