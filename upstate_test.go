package upstate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestWorse(t *testing.T) {
	tests := []struct{ a, b, want Status }{
		{Operational, DegradedPerformance, DegradedPerformance},
		{MajorOutage, PartialOutage, MajorOutage},
		{UnderMaintenance, Operational, UnderMaintenance},
		{UnderMaintenance, DegradedPerformance, DegradedPerformance},
		{"", PartialOutage, PartialOutage},
	}
	for _, tt := range tests {
		if got := Worse(tt.a, tt.b); got != tt.want {
			t.Errorf("Worse(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
		if got := Worse(tt.b, tt.a); got != tt.want {
			t.Errorf("Worse(%s, %s) = %s, want %s", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestStatusFor(t *testing.T) {
	c := CheckSpec{Impact: map[ImpactKey]Status{ImpactDown: PartialOutage}}
	tests := []struct {
		cond Condition
		want Status
	}{
		{Condition{State: StateUp}, Operational},
		{Condition{State: StateUnknown}, Operational},
		{Condition{State: StateDegraded}, DegradedPerformance},
		{Condition{State: StateDegraded, Partial: true}, PartialOutage},
		{Condition{State: StateDown}, PartialOutage}, // overridden
	}
	for _, tt := range tests {
		if got := c.StatusFor(tt.cond); got != tt.want {
			t.Errorf("StatusFor(%+v) = %s, want %s", tt.cond, got, tt.want)
		}
	}
}

func TestIndicator(t *testing.T) {
	for impact, want := range map[Impact]string{ImpactNone: "none", ImpactMinor: "minor", ImpactMajor: "major", ImpactCritical: "critical", ImpactMaintenance: "maintenance"} {
		if got, _ := impact.Indicator(); got != want {
			t.Errorf("%s → %s, want %s", impact, got, want)
		}
	}
	for impact, want := range map[Impact]string{ImpactNone: "None", ImpactMinor: "Minor", ImpactMajor: "Major", ImpactCritical: "Critical", ImpactMaintenance: "Maintenance", "": "None"} {
		if got := impact.Label(); got != want {
			t.Errorf("%q labelled %s, want %s", impact, got, want)
		}
	}
}

// TestSecretNeverPrints proves a Secret does not leak through fmt, JSON
// or slog, the ways values reach logs and errors.
func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("config", "token", s, "struct", struct{ T Secret }{s})
	js, _ := json.Marshal(map[string]any{"token": s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), string(js), buf.String(), fmt.Errorf("bad %v", s).Error()} {
		if bytes.Contains([]byte(out), []byte("hunter2")) {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if !s.Equal("hunter2") || s.Equal("hunter3") || s.Reveal() != "hunter2" {
		t.Error("Equal/Reveal")
	}
}

func TestErrors(t *testing.T) {
	err := fmt.Errorf("load: %w", Errorf(ENOTFOUND, "no incident %q", "x"))
	if ErrorCode(err) != ENOTFOUND || ErrorMessage(err) != `no incident "x"` {
		t.Errorf("%s %s", ErrorCode(err), ErrorMessage(err))
	}
	plain := fmt.Errorf("disk on fire")
	if ErrorCode(plain) != EINTERNAL || ErrorMessage(plain) != "internal error" {
		t.Error("uncoded errors must not reach users")
	}
}

func TestFormatLatency(t *testing.T) {
	for d, want := range map[time.Duration]string{500 * time.Microsecond: "500 µs", 230 * time.Millisecond: "230 ms", 2590 * time.Millisecond: "2.59 s", 12 * time.Second: "12.0 s"} {
		if got := FormatLatency(d); got != want {
			t.Errorf("FormatLatency(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSilences(t *testing.T) {
	t0 := time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC)
	m := Message{Channel: "ops-slack", Event: Event{Type: EventIncidentUpdated, Incident: Incident{ID: "inc1", Components: []string{"api", "web"}},
		Page: &Page{Person: "dana"}}}
	parse := func(ss ...string) []Matcher {
		var out []Matcher
		for _, s := range ss {
			x, err := ParseMatcher(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, x)
		}
		return out
	}
	for _, tc := range []struct {
		matchers []string
		at       time.Time
		want     bool
	}{
		{[]string{"component=api"}, t0, true},
		{[]string{"component=drive"}, t0, false},
		{[]string{"component=api", "channel=ops-slack", "event=incident.updated", "incident=inc1", "person=dana"}, t0, true},
		{[]string{"component=api", "channel!=ops-slack"}, t0, false},
		{[]string{"channel!=pagerduty"}, t0, true},
		{[]string{"component=api"}, t0.Add(2 * time.Hour), false}, // ended
		{[]string{"component=api"}, t0.Add(-time.Second), false},  // not yet
	} {
		s := Silence{Matchers: parse(tc.matchers...), StartsAt: t0.Add(-time.Minute), EndsAt: t0.Add(time.Hour)}
		if tc.at.Equal(t0.Add(-time.Second)) {
			s.StartsAt = t0
		}
		if got := s.Mutes(m, tc.at); got != tc.want {
			t.Errorf("%v at %v: %v, want %v", tc.matchers, tc.at, got, tc.want)
		}
	}
	for _, bad := range []string{"team=ops", "component", "component=", "=api"} {
		if _, err := ParseMatcher(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if x, _ := ParseMatcher(" channel != ops "); x.String() != "channel!=ops" {
		t.Errorf("round trip = %q", x.String())
	}
}

// An agent's own result always fits what the server takes: its words cut
// at a character, never a NUL, so a long error cannot get a batch refused.
func TestAgentResultOfFits(t *testing.T) {
	long := strings.Repeat("é", MaxAgentText) // two bytes each
	r := AgentResultOf("id1", Result{CheckID: "api", At: time.Now(), Outcome: OutcomeFail, Error: long, Note: "a\x00b\xff"})
	if err := r.Check(); err != nil {
		t.Fatalf("an agent's own result is refused: %v", err)
	}
	if len(r.Error) > MaxAgentText || !utf8.ValidString(r.Error) || r.Note != "ab\uFFFD" {
		t.Errorf("error %d bytes, note %q", len(r.Error), r.Note)
	}
	bad := r
	bad.Error = "x\x00"
	if bad.Check() == nil {
		t.Error("a reported result with a NUL is taken")
	}
}
