package check

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// alertKind is told by Prometheus Alertmanager and Grafana alerting
// webhooks whose labels match the check.
func alertKind() Kind {
	return Kind{Name: "alert", New: func() Section { return &AlertSection{} }, Told: true}
}

// AlertSection is an alert check's configuration: inbound alerts whose
// labels match (values "~regex" match a regular expression); alerts not
// re-sent for stale_after are ignored.
type AlertSection struct {
	Match      map[string]string `yaml:"match"`
	StaleAfter time.Duration     `yaml:"stale_after"`
}

// Validate implements Section.
func (s *AlertSection) Validate(v Validator, c *Common) {
	// Prometheus confirmed the alert already: one firing report is enough.
	if c.FailAfter == 0 {
		c.FailAfter = 1
	}
	if c.RecoverAfter == 0 {
		c.RecoverAfter = 1
	}
	if c.Recheck == nil {
		c.Recheck = &Recheck{} // no re-checks: nothing to ask again
	}
	if s.StaleAfter == 0 {
		s.StaleAfter = 12 * time.Hour
	}
	for k, val := range s.Match {
		if pat, ok := strings.CutPrefix(val, "~"); ok {
			if _, err := regexp.Compile(pat); err != nil {
				v.Errorf("match."+k, "%q is not a regular expression: %v", pat, err)
			}
		}
	}
	if !v.InboundAuth() {
		v.Errorf("", "alert checks need inbound.token (or inbound.hmac_secret for Grafana): the webhook must be authenticated")
	}
}

// Matcher implements Matched.
func (s *AlertSection) Matcher() (func(map[string]string) bool, error) {
	return CompileMatcher(s.Match)
}

// Prober implements Section.
func (s *AlertSection) Prober(c Common, env Env) (Prober, error) {
	return &Alert{ID: c.ID, Book: env.Alerts, StaleAfter: s.StaleAfter, Clock: env.Clock}, nil
}

// InboundAlert is one alert from a Prometheus Alertmanager (webhook
// version 4) or Grafana alerting webhook: the two share the alerts[]
// model.
type InboundAlert struct {
	Status       string            `json:"status"` // firing or resolved
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	DashboardURL string            `json:"dashboardURL"` // Grafana
	PanelURL     string            `json:"panelURL"`     // Grafana
}

// AlertWebhook is a webhook body from either source.
type AlertWebhook struct {
	Version     string         `json:"version"` // "4" from Alertmanager, "1" from Grafana
	Status      string         `json:"status"`
	Receiver    string         `json:"receiver"`
	ExternalURL string         `json:"externalURL"`
	OrgID       *int64         `json:"orgId"` // Grafana only
	Alerts      []InboundAlert `json:"alerts"`
}

// Source says which system sent the webhook.
func (w AlertWebhook) Source() string {
	if w.OrgID != nil || w.Version == "1" {
		return "grafana"
	}
	return "alertmanager"
}

// ParseAlertWebhook reads a webhook body, naming what is wrong with it.
func ParseAlertWebhook(body []byte) (AlertWebhook, error) {
	var w AlertWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return w, fmt.Errorf("not an Alertmanager or Grafana webhook body: %v", err)
	}
	if w.Alerts == nil {
		return w, fmt.Errorf("not an Alertmanager or Grafana webhook body: no alerts array")
	}
	for i := range w.Alerts {
		a := &w.Alerts[i]
		if a.Status != "firing" && a.Status != "resolved" {
			return w, fmt.Errorf("alerts[%d].status: %q is not firing or resolved", i, a.Status)
		}
		if len(a.Labels) == 0 {
			return w, fmt.Errorf("alerts[%d]: no labels", i)
		}
		if a.Fingerprint == "" {
			a.Fingerprint = LabelsFingerprint(a.Labels)
		}
	}
	return w, nil
}

// LabelsFingerprint identifies an alert by its labels, for senders that
// do not give a fingerprint.
func LabelsFingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, labels[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Summary is the alert in a line: its summary annotation, else its name.
func (a InboundAlert) Summary() string {
	for _, k := range []string{"summary", "description", "message"} {
		if v := strings.TrimSpace(a.Annotations[k]); v != "" {
			return v
		}
	}
	if n := a.Labels["alertname"]; n != "" {
		return n
	}
	return "alert " + a.Fingerprint
}

// URL is where to look at the alert.
func (a InboundAlert) URL() string {
	for _, u := range []string{a.PanelURL, a.DashboardURL, a.GeneratorURL} {
		if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			return u
		}
	}
	return ""
}

// Matcher selects alerts by labels: every key must be present and equal,
// or match when the value is written "~regex".
type Matcher map[string]string

// CompileMatcher checks the regular expressions of a matcher.
func CompileMatcher(m map[string]string) (func(map[string]string) bool, error) {
	type rule struct {
		key, want string
		re        *regexp.Regexp
	}
	var rules []rule
	for k, v := range m {
		r := rule{key: k, want: v}
		if pat, ok := strings.CutPrefix(v, "~"); ok {
			re, err := regexp.Compile("^(?:" + pat + ")$")
			if err != nil {
				return nil, fmt.Errorf("match.%s: %v", k, err)
			}
			r.re = re
		}
		rules = append(rules, r)
	}
	return func(labels map[string]string) bool {
		for _, r := range rules {
			v, ok := labels[r.key]
			if !ok || (r.re == nil && v != r.want) || (r.re != nil && !r.re.MatchString(v)) {
				return false
			}
		}
		return true
	}, nil
}

// AlertBook keeps the alerts firing on each alert check; it is shared by
// the webhook handler and the checks' probers, and safe for concurrent use.
type AlertBook struct {
	mu     sync.Mutex
	firing map[string]map[string]upstate.FiringAlert // check → fingerprint → alert
}

// NewAlertBook returns an empty book.
func NewAlertBook() *AlertBook {
	return &AlertBook{firing: map[string]map[string]upstate.FiringAlert{}}
}

// Put records a firing alert (or refreshes it).
func (b *AlertBook) Put(a upstate.FiringAlert) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.firing[a.CheckID] == nil {
		b.firing[a.CheckID] = map[string]upstate.FiringAlert{}
	}
	b.firing[a.CheckID][a.Fingerprint] = a
}

// Drop forgets a resolved alert; it reports whether it was firing.
func (b *AlertBook) Drop(checkID, fingerprint string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.firing[checkID][fingerprint]
	delete(b.firing[checkID], fingerprint)
	return ok
}

// Firing returns a check's firing alerts, oldest first.
func (b *AlertBook) Firing(checkID string) []upstate.FiringAlert {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []upstate.FiringAlert
	for _, a := range b.firing[checkID] {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y upstate.FiringAlert) int {
		if c := x.StartsAt.Compare(y.StartsAt); c != 0 {
			return c
		}
		return strings.Compare(x.Fingerprint, y.Fingerprint)
	})
	return out
}

// Severity is what an alert's severity label means for a check: down,
// degraded, or nothing.
func Severity(label string) upstate.State {
	switch strings.ToLower(label) {
	case "info", "informational", "none", "low", "debug":
		return upstate.StateUp
	case "warning", "warn", "minor", "medium":
		return upstate.StateDegraded
	}
	return upstate.StateDown // critical, error, page, high, or no label at all
}

// Alert is a check that is told: it fails while an alert with a down
// severity fires on it, is slow (degraded) while only warnings fire, and
// is up otherwise. Alerts not re-sent for StaleAfter are ignored
// (Alertmanager repeats firing alerts every repeat_interval).
type Alert struct {
	ID         string
	Book       *AlertBook
	StaleAfter time.Duration
	Clock      clock.Clock
}

// Probe implements Prober.
func (c *Alert) Probe(context.Context) upstate.Result {
	now := c.Clock.Now()
	r := upstate.Result{CheckID: c.ID, At: now, Outcome: upstate.OutcomeOK, Note: "reports no alert firing"}
	var down, warn []upstate.FiringAlert
	for _, a := range c.Book.Firing(c.ID) {
		if c.StaleAfter > 0 && now.Sub(a.SeenAt) > c.StaleAfter {
			continue
		}
		switch Severity(a.Severity) {
		case upstate.StateDown:
			down = append(down, a)
		case upstate.StateDegraded:
			warn = append(warn, a)
		}
	}
	describe := func(as []upstate.FiringAlert) string {
		var parts []string
		for _, a := range as {
			s := a.Summary
			if a.Severity != "" {
				s = a.Severity + ": " + s
			}
			parts = append(parts, s)
		}
		msg := fmt.Sprintf("%d alert", len(as))
		if len(as) != 1 {
			msg += "s"
		}
		return msg + " firing from " + as[0].Source + " (" + strings.Join(parts, "; ") + ")"
	}
	switch {
	case len(down) > 0:
		return fail(r, describe(append(down, warn...)))
	case len(warn) > 0:
		r.Outcome = upstate.OutcomeSlow
		r.Error = describe(warn)
	}
	return r
}

// Receipt says what an alert webhook changed.
type Receipt struct {
	Source  string   // alertmanager or grafana
	Alerts  int      // alerts in the body
	Matched int      // alerts that matched at least one alert check
	Checks  []string // the alert checks they touched
}
