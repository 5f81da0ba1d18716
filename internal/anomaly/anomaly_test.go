package anomaly

import (
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

var la, _ = time.LoadLocation("America/Los_Angeles")

// Monday 3 August 2026: the series' first day.
var start = time.Date(2026, 8, 3, 0, 0, 0, 0, la)

func detector() Detector { return Detector{Location: la, Weekly: true} }

// TestEvaluation scores the detector on the generated series with fixed
// seeds; the numbers are deterministic, so they are asserted.
func TestEvaluation(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		s := Generate(seed, start)
		rep := Evaluate(detector(), s)
		t.Logf("seed %d: precision %.2f, recall %.2f (%d/%d), episodes %d (%d false), mean delay %s, max %s, delays %v",
			seed, rep.Precision, rep.Recall, rep.Detected, rep.Detectable, rep.Episodes, rep.FalseEpisodes, rep.MeanDelay, rep.MaxDelay, rep.Delays)
		if rep.Recall != 1 {
			t.Errorf("seed %d: recall %.2f: missed a detectable incident (%v)", seed, rep.Recall, rep.Delays)
		}
		if rep.FalseEpisodes != 0 {
			t.Errorf("seed %d: %d false alerts (precision %.2f): the normal morning peak or noise alerted", seed, rep.FalseEpisodes, rep.Precision)
		}
		if d := rep.Delays[s.Incidents[0].Name]; d > time.Minute {
			t.Errorf("seed %d: the back-to-school spike was caught after %s, want within a minute", seed, d)
		}
	}
}

func TestExplain(t *testing.T) {
	s := Generate(1, start)
	var hist []upstate.Point
	var spike upstate.Point
	for _, p := range s.Points {
		if p.At.Equal(s.Incidents[0].From) {
			spike = p
			break
		}
		hist = append(hist, p)
	}
	v := detector().Judge(hist, spike)
	got := Explain("blocked requests", spike.Value, "/min", v)
	if !v.Anomalous || !strings.HasPrefix(got, "blocked requests ") || !strings.Contains(got, "/min, usual for Mon 06:00 is ") {
		t.Errorf("%v: %s", v.Anomalous, got)
	}
	// Numbers stay in the unit they came in: 1,234,567/min, never 1.2M/min
	// (or 1.2Mms), and never an exponent.
	for v, want := range map[float64]string{2400: "2,400", 1234567: "1,234,567", 2.5e9: "2,500,000,000", 0.35: "0.35", 12.25: "12.2",
		-4500: "-4,500", 99.96: "100", 999.6: "1,000", 0.000012: "0.000012", 0.0012: "0.0012", 0: "0", 7: "7", -0.004: "-0.004", 150.4: "150"} {
		if got := Number(v); got != want {
			t.Errorf("Number(%g) = %s, want %s", v, got, want)
		}
	}
	// Too little history: no verdict, and it says so.
	v = detector().Judge(hist[:30], spike)
	if v.Known || v.Anomalous || !strings.Contains(Explain("x", 1, "", v), "not enough history") {
		t.Errorf("short history: %+v", v)
	}
}

// BenchmarkEvaluation reports the detector's scores as benchmark metrics.
func BenchmarkEvaluation(b *testing.B) {
	s := Generate(1, start)
	var rep Report
	for b.Loop() {
		rep = Evaluate(detector(), s)
	}
	b.ReportMetric(rep.Precision, "precision")
	b.ReportMetric(rep.Recall, "recall")
	b.ReportMetric(rep.MeanDelay.Seconds(), "delay-s")
}

// TestStartsJudging: when the baseline has enough points to judge, if
// numbers keep coming each minute.
func TestStartsJudging(t *testing.T) {
	s := Generate(1, start)
	monday := s.Incidents[0].From.Add(-3 * time.Minute) // a week in, 05:57
	d := detector()
	// Nothing yet: the same minute tomorrow has 60 points once the window
	// around it (±30 minutes) is all after the first: a day and 29 minutes.
	if got, ok := d.StartsJudging(nil, monday); !ok || !got.Equal(monday.Add(24*time.Hour+29*time.Minute)) {
		t.Errorf("no history: %s %v, want Tue 06:26", got.In(la), ok)
	}
	// A week of history: now.
	var hist []upstate.Point
	for _, p := range s.Points {
		if p.At.Before(monday) {
			hist = append(hist, p)
		}
	}
	if got, ok := d.StartsJudging(hist, monday); !ok || !got.Equal(monday) {
		t.Errorf("a week of history: %s %v", got.In(la), ok)
	}
	if _, ok := d.BaselineAt(hist, monday); !ok {
		t.Error("a week of history and no baseline")
	}
	// Only the last hour of it: tomorrow, once the window is within it.
	if got, ok := d.StartsJudging(hist[len(hist)-60:], monday); !ok || !got.Equal(monday.Add(24*time.Hour-31*time.Minute)) {
		t.Errorf("an hour of history: %s %v", got.In(la), ok)
	}
	// Samples it can never have within its days: false.
	tight := Detector{Location: la, Tolerance: time.Minute, MinSamples: 1000}
	if got, ok := tight.StartsJudging(nil, monday); ok {
		t.Errorf("impossible: %s", got)
	}
}
