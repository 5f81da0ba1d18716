// Package anomaly judges a number against what is usual for its time:
// a seasonal baseline from the same time of day on earlier days of the
// same kind (workdays or weekends), summarised robustly (median and
// median absolute deviation), so one past outlier does not move it and
// the normal morning peak is not news. It is pure: points in, verdicts out.
package anomaly

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Detector holds the judgement's settings; the zero value is not useful,
// use Defaults.
type Detector struct {
	// Location is where "time of day" and "workday" are read.
	Location *time.Location
	// Tolerance is how far around the same time of day earlier points
	// count (default 30m).
	Tolerance time.Duration
	// Days is how far back the baseline looks (default 28).
	Days int
	// Weekly separates workdays from weekends.
	Weekly bool
	// Sensitivity is how many robust standard deviations from the median
	// an anomaly is (default 6).
	Sensitivity float64
	// MinRatio is how many times the usual median a spike must also be
	// (default 3), so a quiet series' small wobble is not news.
	MinRatio float64
	// MinSamples is how many baseline points a judgement needs (default 60).
	MinSamples int
	// Below also judges drops, not only spikes.
	Below bool
}

// Defaults fills unset settings.
func (d Detector) Defaults() Detector {
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Tolerance <= 0 {
		d.Tolerance = 30 * time.Minute
	}
	if d.Days <= 0 {
		d.Days = 28
	}
	if d.Sensitivity <= 0 {
		d.Sensitivity = 6
	}
	if d.MinRatio <= 0 {
		d.MinRatio = 3
	}
	if d.MinSamples <= 0 {
		d.MinSamples = 60
	}
	return d
}

// Baseline is what is usual for a time.
type Baseline struct {
	Median   float64
	Low      float64 // the usual range: 5th percentile
	High     float64 // and 95th
	Upper    float64 // above this is an anomaly
	Lower    float64 // below this is, when drops are judged
	Samples  int
	Workday  bool
	TimeText string // "Wed 06:00"
}

// Verdict is a judgement of one point.
type Verdict struct {
	Anomalous bool
	Above     bool
	Baseline  Baseline
	Known     bool // false when there was too little history to judge
}

// workday reports whether t falls on Monday to Friday.
func workday(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }

// windows calls f with the window around at's time of day on each
// earlier day of the same kind that the baseline reads. d must have its
// defaults filled.
func (d Detector) windows(at time.Time, f func(from, to time.Time)) {
	lt := at.In(d.Location)
	kind := workday(lt)
	y, m, day := lt.Date()
	for back := 1; back <= d.Days; back++ {
		// The same wall-clock time on an earlier day: civil arithmetic, so
		// a DST change does not shift the baseline by an hour.
		center := time.Date(y, m, day-back, lt.Hour(), lt.Minute(), 0, 0, d.Location)
		if d.Weekly && workday(center) != kind {
			continue
		}
		f(center.Add(-d.Tolerance), center.Add(d.Tolerance))
	}
}

// from is the index of the first point at or after t.
func from(history []upstate.Point, t time.Time) int {
	i, _ := slices.BinarySearchFunc(history, t, func(p upstate.Point, t time.Time) int { return p.At.Compare(t) })
	return i
}

// BaselineAt summarises history (oldest first, any spacing) for the time
// at: points at the same time of day, within the tolerance, on earlier
// days of the same kind.
func (d Detector) BaselineAt(history []upstate.Point, at time.Time) (Baseline, bool) {
	d = d.Defaults()
	lt := at.In(d.Location)
	b := Baseline{Workday: workday(lt), TimeText: lt.Format("Mon 15:04")}
	var vals []float64
	d.windows(at, func(lo, hi time.Time) {
		for i := from(history, lo); i < len(history) && !history[i].At.After(hi); i++ {
			if v := history[i].Value; !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
	})
	b.Samples = len(vals)
	if len(vals) < d.MinSamples {
		return b, false
	}
	slices.Sort(vals)
	b.Median = quantile(vals, 0.5)
	b.Low, b.High = quantile(vals, 0.05), quantile(vals, 0.95)
	dev := make([]float64, len(vals))
	for i, v := range vals {
		dev[i] = math.Abs(v - b.Median)
	}
	slices.Sort(dev)
	scale := 1.4826 * quantile(dev, 0.5)
	// A flat baseline has no spread: take a sliver of its level instead,
	// and of the usual range, so noise-free series still need a real jump.
	scale = max(scale, 0.02*math.Abs(b.Median), (b.High-b.Low)/8, 1e-9)
	b.Upper = max(b.Median+d.Sensitivity*scale, d.MinRatio*b.Median)
	b.Lower = b.Median - d.Sensitivity*scale
	if b.Median > 0 {
		b.Lower = min(b.Lower, b.Median/d.MinRatio)
	}
	return b, true
}

// Judge says whether p is anomalous against history (points before it).
func (d Detector) Judge(history []upstate.Point, p upstate.Point) Verdict {
	b, ok := d.BaselineAt(history, p.At)
	v := Verdict{Baseline: b, Known: ok}
	if !ok {
		return v
	}
	switch {
	case p.Value > b.Upper:
		v.Anomalous, v.Above = true, true
	case d.Below && p.Value < b.Lower:
		v.Anomalous = true
	}
	return v
}

// StartsJudging is the first minute, from now on, whose baseline has
// enough points to judge (now, if it has already), given history and a
// point every minute after it from now on. False when that is not within
// the days the baseline reads: the tolerance or the days are too small
// for the samples it needs.
func (d Detector) StartsJudging(history []upstate.Point, now time.Time) (time.Time, bool) {
	d = d.Defaults()
	start := now.Truncate(time.Minute)
	next := start // the first minute a point is yet to come for
	if n := len(history); n > 0 && !history[n-1].At.Before(next) {
		next = history[n-1].At.Truncate(time.Minute).Add(time.Minute)
	}
	samples := func(at time.Time) int {
		n := 0
		d.windows(at, func(lo, hi time.Time) {
			n += from(history, hi.Add(time.Nanosecond)) - from(history, lo)
			first := next
			if lo.After(first) {
				first = lo
				if c := lo.Truncate(time.Minute); c.Before(lo) {
					first = c.Add(time.Minute)
				}
			}
			if !first.After(hi) {
				n += int(hi.Sub(first)/time.Minute) + 1
			}
		})
		return n
	}
	end := start.Add(time.Duration(d.Days+1) * 24 * time.Hour)
	for t := start; !t.After(end); t = t.Add(time.Minute) {
		if samples(t) >= d.MinSamples {
			return t, true
		}
	}
	return time.Time{}, false
}

// Explain says a verdict in words: "blocked requests 2,400/min, usual for
// Wed 06:00 is 90–140/min".
func Explain(what string, value float64, unit string, v Verdict) string {
	if !v.Known {
		return fmt.Sprintf("%s %s%s (not enough history yet to know what is usual: %d points)", what, Number(value), unit, v.Baseline.Samples)
	}
	return fmt.Sprintf("%s %s%s, usual for %s is %s–%s%s", what, Number(value), unit, v.Baseline.TimeText, Number(v.Baseline.Low), Number(v.Baseline.High), unit)
}

// Number prints a number the way people read it, in the unit it came in:
// 2,400, 1,234,567, 12.5, 0.35, 0.000012. It never rescales (no 1.2M:
// "1.2M/min" or "1.2Mms" is not what was pushed) and never uses exponents.
func Number(f float64) string {
	a := math.Abs(f)
	switch {
	case a >= 100:
		s := strconv.FormatFloat(math.Abs(math.Round(f)), 'f', 0, 64)
		var out []byte
		if f < 0 && s != "0" {
			out = append(out, '-')
		}
		for i, c := range []byte(s) {
			if i > 0 && (len(s)-i)%3 == 0 {
				out = append(out, ',')
			}
			out = append(out, c)
		}
		return string(out)
	case a == math.Trunc(a):
		return strconv.FormatFloat(f, 'f', 0, 64)
	case a >= 1:
		return trimZeros(strconv.FormatFloat(f, 'f', 1, 64))
	}
	// Two significant digits, written out.
	decimals := 1 - int(math.Floor(math.Log10(a)))
	return trimZeros(strconv.FormatFloat(f, 'f', min(decimals, 20), 64))
}

// trimZeros drops a decimal fraction's trailing zeros: 100.0 is 100.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// quantile of sorted values, linear between neighbours.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}
