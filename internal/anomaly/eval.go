package anomaly

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/upstatehq/upstate"
)

// Injected is an incident put into a generated series.
type Injected struct {
	Name       string
	From, To   time.Time
	Factor     float64 // the rate is multiplied by this
	Detectable bool    // whether a good detector should catch it
}

// Series is a generated two-week series of a firewall's blocked-request
// rate per minute: quiet nights, a ramp as schools start at 06:00, busy
// school hours with a morning peak, quiet weekends, multiplicative noise,
// one-minute outliers in the first week (which must not move the
// baseline), and incidents in the second.
type Series struct {
	Points    []upstate.Point
	Incidents []Injected
	EvalFrom  time.Time // the second week: judged against all before it
}

// usual is the noise-free rate at t.
func usual(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	if !workday(t) {
		return 25 + 10*math.Sin(math.Pi*h/24)
	}
	switch {
	case h < 5.5:
		return 20
	case h < 8: // schools come online
		return 20 + (h-5.5)/2.5*110
	case h < 9: // the morning peak
		return 130 + 30*math.Sin(math.Pi*(h-8))
	case h < 15:
		return 120
	case h < 18:
		return 120 - (h-15)/3*90
	}
	return 30 - (h-18)/6*10
}

// Generate makes the series from a seed, starting on a Monday in loc.
func Generate(seed uint64, start time.Time) Series {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	loc := start.Location()
	day := func(d, h, m int) time.Time {
		y, mo, dd := start.Date()
		return time.Date(y, mo, dd+d, h, m, 0, 0, loc)
	}
	s := Series{EvalFrom: day(7, 0, 0)}
	s.Incidents = []Injected{
		{"back to school: schools blocked as a DDoS", day(7, 6, 0), day(7, 7, 52), 20, true},
		{"misconfigured rule at the afternoon peak", day(9, 14, 0), day(9, 14, 30), 8, true},
		{"night-time scan", day(10, 3, 0), day(10, 3, 20), 6, true},
		{"a slight rise (within what a robust detector lets pass)", day(11, 10, 0), day(11, 10, 30), 1.6, false},
	}
	for t := start; t.Before(day(14, 0, 0)); t = t.Add(time.Minute) {
		v := usual(t) * math.Exp(r.NormFloat64()*0.12)
		if t.Before(s.EvalFrom) && r.Float64() < 1.0/600 { // about two outliers a day
			v *= 4 + r.Float64()*4
		}
		for _, in := range s.Incidents {
			if !t.Before(in.From) && t.Before(in.To) {
				v *= in.Factor
			}
		}
		s.Points = append(s.Points, upstate.Point{At: t, Value: v})
	}
	return s
}

// Report is how a detector did on a series.
type Report struct {
	Incidents, Detectable, Detected int
	Episodes, FalseEpisodes         int
	Precision, Recall               float64 // recall over the detectable incidents
	MeanDelay, MaxDelay             time.Duration
	Delays                          map[string]time.Duration
}

// Evaluate runs the detector over the second week minute by minute, each
// minute judged against everything before it, and scores it: flagged
// minutes less than 5 minutes apart are one alert episode; an episode is
// true when it overlaps an incident (or ends within 10 minutes of one).
func Evaluate(d Detector, s Series) Report {
	rep := Report{Incidents: len(s.Incidents), Delays: map[string]time.Duration{}}
	var flags []time.Time
	for i, p := range s.Points {
		if p.At.Before(s.EvalFrom) {
			continue
		}
		if d.Judge(s.Points[:i], p).Anomalous {
			flags = append(flags, p.At)
		}
	}
	type episode struct{ from, to time.Time }
	var eps []episode
	for _, f := range flags {
		if n := len(eps); n > 0 && f.Sub(eps[n-1].to) < 5*time.Minute {
			eps[n-1].to = f
		} else {
			eps = append(eps, episode{f, f})
		}
	}
	rep.Episodes = len(eps)
	for _, e := range eps {
		truth := false
		for _, in := range s.Incidents {
			if !e.from.After(in.To.Add(10*time.Minute)) && !e.to.Before(in.From) {
				truth = true
			}
		}
		if !truth {
			rep.FalseEpisodes++
		}
	}
	var sum time.Duration
	for _, in := range s.Incidents {
		if in.Detectable {
			rep.Detectable++
		}
		for _, f := range flags {
			if !f.Before(in.From) && f.Before(in.To) {
				delay := f.Sub(in.From)
				rep.Delays[in.Name] = delay
				if in.Detectable {
					rep.Detected++
					sum += delay
					rep.MaxDelay = max(rep.MaxDelay, delay)
				}
				break
			}
		}
	}
	if rep.Episodes > 0 {
		rep.Precision = float64(rep.Episodes-rep.FalseEpisodes) / float64(rep.Episodes)
	}
	if rep.Detectable > 0 {
		rep.Recall = float64(rep.Detected) / float64(rep.Detectable)
	}
	if rep.Detected > 0 {
		rep.MeanDelay = sum / time.Duration(rep.Detected)
	}
	return rep
}
