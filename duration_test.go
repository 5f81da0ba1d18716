package upstate

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	const (
		s = time.Second
		m = time.Minute
		h = time.Hour
	)
	tests := []struct {
		d                    time.Duration
		words, short, report string
	}{
		{0, "0 seconds", "under a minute", "0 s"},
		{400 * time.Millisecond, "0 seconds", "under a minute", "0 s"},
		{s, "1 second", "under a minute", "1 s"},
		{29 * s, "29 seconds", "under a minute", "29 s"},
		{30 * s, "30 seconds", "1 min", "30 s"},
		{45 * s, "45 seconds", "1 min", "45 s"},
		{59*s + 600*time.Millisecond, "1 minute", "1 min", "1 min"},
		{m, "1 minute", "1 min", "1 min"},
		{m + 30*s, "2 minutes", "2 min", "2 min"},
		{37*m + 20*s, "37 minutes", "37 min", "37 min"},
		// Under an hour the report and the words count minutes, to 60;
		// the page rounds first and says an hour.
		{59*m + 40*s, "60 minutes", "1 h", "60 min"},
		{h, "1 hour", "1 h", "1 h"},
		{h + 29*m + 29*s + 600*time.Millisecond, "1 hour 30 minutes", "1 h 29 min", "1 h 30 min"},
		{h + 52*m, "1 hour 52 minutes", "1 h 52 min", "1 h 52 min"},
		{h + 59*m + 50*s, "2 hours", "2 h", "2 h"},
		{2*h + 5*m, "2 hours 5 minutes", "2 h 5 min", "2 h 5 min"},
		{47*h + 59*m + 40*s, "48 hours", "48 h", "48 h"},
		{48 * h, "2 days", "48 h", "48 h"},
		{72 * h, "3 days", "72 h", "72 h"},
		{95 * h, "3 days", "95 h", "95 h"},
		{-5 * s, "-5 seconds", "under a minute", "-5 s"},
	}
	for _, tt := range tests {
		for style, want := range map[DurationStyle]string{DurationWords: tt.words, DurationShort: tt.short, DurationReport: tt.report} {
			if got := FormatDuration(tt.d, style); got != want {
				t.Errorf("FormatDuration(%v, %d) = %q, want %q", tt.d, style, got, want)
			}
		}
	}
	// The windows checks look over, and estimates.
	for _, tt := range []struct {
		d             time.Duration
		window, about string
	}{
		{45 * s, "45 s", "a minute"},
		{89 * s, "1 min", "a minute"},
		{10 * m, "10 min", "10 minutes"},
		{90 * m, "90 min", "2 hours"},
		{h, "1 h", "60 minutes"},
		{6 * h, "6 h", "6 hours"},
		{35 * h, "35 h", "35 hours"},
		{72 * h, "72 h", "3 days"},
		{30 * 24 * h, "720 h", "30 days"},
	} {
		if got := FormatDuration(tt.d, DurationWindow); got != tt.window {
			t.Errorf("FormatDuration(%v, DurationWindow) = %q, want %q", tt.d, got, tt.window)
		}
		if got := FormatDuration(tt.d, DurationAbout); got != tt.about {
			t.Errorf("FormatDuration(%v, DurationAbout) = %q, want %q", tt.d, got, tt.about)
		}
	}
}
