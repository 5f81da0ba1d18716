package app

import (
	"fmt"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/decide"
	"github.com/upstatehq/upstate/internal/schedule"
)

// compiled is a configuration turned into what each package takes.
type compiled struct {
	components []upstate.Component
	specs      []upstate.CheckSpec
	jobs       []schedule.Job
	tokens     map[string]upstate.Secret // the tokens of pinged (heartbeat) checks, by check id
	kinds      map[string]string
	checksOf   map[string][]string // component → checks, for sparklines
	// alerts are the alert checks' label matchers, in configuration order.
	alerts []check.AlertCheck
	// slos are the SLO checks, in configuration order, for the budget page.
	slos []*check.SLO
	// pushed are the pushed series some check reads: always kept.
	pushed map[string]bool

	// metrics are the metric checks, by id, for their baselines' status.
	metrics map[string]*check.Metric
}

func compile(cfg *config.Config, env check.Env) (*compiled, error) {
	c := &compiled{tokens: map[string]upstate.Secret{}, kinds: map[string]string{}, checksOf: map[string][]string{}, components: components(cfg),
		pushed: map[string]bool{}}
	for _, ch := range cfg.Checks {
		kind, ok := check.KindOf(ch.Kind)
		if !ok || ch.Section == nil {
			return nil, fmt.Errorf("check %s: unknown kind %q", ch.ID, ch.Kind)
		}
		if r, ok := ch.Section.(check.PushedReader); ok {
			for _, key := range r.PushedSeries() {
				c.pushed[key] = true
			}
		}
		spec := upstate.CheckSpec{
			ID: ch.ID, Name: ch.Name, Kind: ch.Kind, Interval: ch.Interval.D(), Timeout: ch.Timeout.D(),
			Components: ch.Components, DependsOn: ch.DependsOn, Impact: map[upstate.ImpactKey]upstate.Status{},
		}
		for k, v := range ch.Impact {
			spec.Impact[upstate.ImpactKey(k)] = upstate.Status(v)
		}
		d := upstate.DecideSpec{FailAfter: ch.FailAfter, RecoverAfter: ch.RecoverAfter, RecoveryWindow: ch.RecoveryWindow.D()}
		if ch.Recheck != nil {
			d.RecheckCount, d.RecheckEvery = ch.Recheck.Count, ch.Recheck.Every.D()
			if ch.Recheck.Count == 0 {
				d.RecheckCount = -1 // explicitly off
			}
		}
		spec.Decide = decide.Defaults(d, spec.Interval)
		p, err := ch.Section.Prober(ch.Common(), env)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", ch.ID, err)
		}
		c.specs = append(c.specs, spec)
		c.jobs = append(c.jobs, schedule.Job{ID: ch.ID, Interval: spec.Interval, Prober: p})
		c.kinds[ch.ID] = ch.Kind
		if s, ok := p.(*check.SLO); ok {
			c.slos = append(c.slos, s)
		}
		if m, ok := p.(*check.Metric); ok {
			if c.metrics == nil {
				c.metrics = map[string]*check.Metric{}
			}
			c.metrics[ch.ID] = m
		}
		if m, ok := ch.Section.(check.Matched); ok {
			match, err := m.Matcher()
			if err != nil {
				return nil, fmt.Errorf("check %s: %w", ch.ID, err)
			}
			c.alerts = append(c.alerts, check.AlertCheck{ID: ch.ID, Match: match, Prober: p})
		}
		if pinged, ok := ch.Section.(check.Pinged); ok {
			c.tokens[ch.ID] = pinged.PingToken()
		}
		if !kind.Told {
			for _, comp := range ch.Components {
				c.checksOf[comp] = append(c.checksOf[comp], ch.ID)
			}
		}
	}
	return c, nil
}

// components are the configured components as the domain knows them.
func components(cfg *config.Config) []upstate.Component {
	out := make([]upstate.Component, 0, len(cfg.Components))
	for _, c := range cfg.Components {
		out = append(out, upstate.Component{ID: c.ID, Name: c.Name, Group: c.Group, Description: c.Description, DependsOn: c.DependsOn})
	}
	return out
}

// checkFiles is the config rule that the files checks read (a tls
// check's ca_file) can be read, reported at their keys' lines.
func checkFiles(c *config.Config, problem func(path, format string, args ...any)) {
	for i, ch := range c.Checks {
		if r, ok := ch.Section.(check.FileReader); ok {
			r.ReadFiles(fileProblems{path: fmt.Sprintf("checks[%d]", i), problem: problem})
		}
	}
}

// fileProblems is how a section's ReadFiles reports, by key.
type fileProblems struct {
	path    string
	problem func(path, format string, args ...any)
}

func (f fileProblems) Errorf(key, format string, args ...any) {
	f.problem(f.path+"."+key, format, args...)
}
func (f fileProblems) Warnf(string, string, ...any) {}
func (f fileProblems) InboundAuth() bool            { return true }
