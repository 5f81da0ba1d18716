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

// BaselineAt summarises history (oldest first, any spacing) for the time
// at: points at the same time of day, within the tolerance, on earlier
// days of the same kind.
func (d Detector) BaselineAt(history []upstate.Point, at time.Time) (Baseline, bool) {
	d = d.Defaults()
	lt := at.In(d.Location)
	b := Baseline{Workday: workday(lt), TimeText: lt.Format("Mon 15:04")}
	var vals []float64
	y, m, day := lt.Date()
	for back := 1; back <= d.Days; back++ {
		// The same wall-clock time on an earlier day: civil arithmetic, so
		// a DST change does not shift the baseline by an hour.
		center := time.Date(y, m, day-back, lt.Hour(), lt.Minute(), 0, 0, d.Location)
		if d.Weekly && workday(center) != b.Workday {
			continue
		}
		from, to := center.Add(-d.Tolerance), center.Add(d.Tolerance)
		i, _ := slices.BinarySearchFunc(history, from, func(p upstate.Point, t time.Time) int { return p.At.Compare(t) })
		for ; i < len(history) && !history[i].At.After(to); i++ {
			if v := history[i].Value; !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
	}
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

// Explain says a verdict in words: "blocked requests 2,400/min, usual for
// Wed 06:00 is 90–140/min".
func Explain(what string, value float64, unit string, v Verdict) string {
	if !v.Known {
		return fmt.Sprintf("%s %s%s (not enough history yet to know what is usual: %d points)", what, Number(value), unit, v.Baseline.Samples)
	}
	return fmt.Sprintf("%s %s%s, usual for %s is %s–%s%s", what, Number(value), unit, v.Baseline.TimeText, Number(v.Baseline.Low), Number(v.Baseline.High), unit)
}

// Number prints a number the way people read it: 2,400, 0.35, 1.2M.
func Number(f float64) string {
	a := math.Abs(f)
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%.1fG", f/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", f/1e6)
	case a >= 1000:
		s := fmt.Sprintf("%.0f", f)
		neg := s[0] == '-'
		if neg {
			s = s[1:]
		}
		var out []byte
		for i, c := range []byte(s) {
			if i > 0 && (len(s)-i)%3 == 0 {
				out = append(out, ',')
			}
			out = append(out, c)
		}
		if neg {
			return "-" + string(out)
		}
		return string(out)
	case a >= 100 || a == math.Trunc(a):
		return fmt.Sprintf("%.0f", f)
	case a >= 1:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.2g", f)
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
