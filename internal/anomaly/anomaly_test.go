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
	if Number(2400) != "2,400" || Number(1234567) != "1.2M" || Number(0.35) != "0.35" || Number(12.25) != "12.2" || Number(-4500) != "-4,500" {
		t.Errorf("numbers: %s %s %s %s %s", Number(2400), Number(1234567), Number(0.35), Number(12.25), Number(-4500))
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
