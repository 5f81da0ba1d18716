package app

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/anomaly"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/decide"
	"github.com/upstatehq/upstate/internal/schedule"
)

// told reports whether a kind's results are numbers or reports, not
// latencies of ours worth a sparkline.
func told(kind string) bool {
	switch kind {
	case upstate.KindAlert, upstate.KindUpstream, upstate.KindMetric, upstate.KindQuota, upstate.KindSLO:
		return true
	}
	return false
}

// compiled is a configuration turned into what each package takes.
type compiled struct {
	components []upstate.Component
	specs      []upstate.CheckSpec
	jobs       []schedule.Job
	tokens     map[string]upstate.Secret // heartbeat tokens by check id
	kinds      map[string]string
	checksOf   map[string][]string // component → checks, for sparklines
	// alerts are the alert checks' label matchers, in configuration order.
	alerts []alertCheck
	// upstreams are the upstream checks' probers, by check id.
	upstreams map[string]*check.Upstream
	// slos are the SLO checks, in configuration order, for the budget page.
	slos []*check.SLO
	// pushed are the pushed series some check reads: always kept.
	pushed map[string]bool
}

// alertCheck is an alert check's matcher and prober.
type alertCheck struct {
	id     string
	match  func(labels map[string]string) bool
	prober check.Prober
}

// probeEnv is what probers share: clients, the clock, heartbeats.
type probeEnv struct {
	clock    clock.Clock
	client   *http.Client
	insecure *http.Client
	beats    *check.Beats
	alerts   *check.AlertBook
	started  time.Time
	resolver func(server string) check.Resolver
	dial     check.DialFunc
	// feedError is told when an upstream check cannot read its feed.
	feedError func(checkID string, err error)
	// points reads pushed numbers.
	points func(ctx context.Context, series string, from, to time.Time) ([]upstate.Point, error)
	// location is the page's zone (anomaly baselines read time of day in it).
	location *time.Location
}

func compile(cfg *config.Config, env probeEnv) (*compiled, error) {
	c := &compiled{tokens: map[string]upstate.Secret{}, kinds: map[string]string{}, checksOf: map[string][]string{}, components: components(cfg),
		upstreams: map[string]*check.Upstream{}, pushed: map[string]bool{}}
	for _, ch := range cfg.Checks {
		for _, key := range pushedSeries(ch) {
			c.pushed[key] = true
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
		p, err := prober(ch, env)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", ch.ID, err)
		}
		c.specs = append(c.specs, spec)
		c.jobs = append(c.jobs, schedule.Job{ID: ch.ID, Interval: spec.Interval, Prober: p})
		c.kinds[ch.ID] = ch.Kind
		if u, ok := p.(*check.Upstream); ok {
			c.upstreams[ch.ID] = u
		}
		if s, ok := p.(*check.SLO); ok {
			c.slos = append(c.slos, s)
		}
		if ch.Kind == upstate.KindAlert {
			match, err := check.CompileMatcher(ch.Match)
			if err != nil {
				return nil, fmt.Errorf("check %s: %w", ch.ID, err)
			}
			c.alerts = append(c.alerts, alertCheck{id: ch.ID, match: match, prober: p})
		}
		if ch.Kind == upstate.KindHeartbeat {
			c.tokens[ch.ID] = ch.Token
		} else if !told(ch.Kind) {
			for _, comp := range ch.Components {
				c.checksOf[comp] = append(c.checksOf[comp], ch.ID)
			}
		}
	}
	return c, nil
}

func prober(ch config.Check, env probeEnv) (check.Prober, error) {
	switch ch.Kind {
	case upstate.KindHTTP:
		h := &check.HTTP{
			ID: ch.ID, Method: ch.Method, URL: ch.URL, Header: http.Header{}, Timeout: ch.Timeout.D(),
			FollowRedirects: ch.FollowRedirects == nil || *ch.FollowRedirects,
			Client:          env.client, Clock: env.clock,
			Expect: check.HTTPExpect{Status: ch.Expect.Status, LatencyUnder: ch.Expect.LatencyUnder.D(),
				BodyContains: ch.Expect.BodyContains, CertDaysLeft: ch.Expect.CertDaysLeft},
		}
		if ch.InsecureSkipVerify {
			h.Client = env.insecure
		}
		for k, v := range ch.Headers {
			h.Header.Set(k, v)
		}
		if ch.Body != "" {
			h.Body = []byte(ch.Body)
		}
		if ch.Expect.BodyRegex != "" {
			re, err := regexp.Compile(ch.Expect.BodyRegex)
			if err != nil {
				return nil, err
			}
			h.Expect.BodyRegex = re
		}
		for _, j := range ch.Expect.JSON {
			h.Expect.JSON = append(h.Expect.JSON, check.JSONAssertion{Path: j.Path, Equals: j.Equals})
		}
		return h, nil
	case upstate.KindTCP:
		return &check.TCP{ID: ch.ID, Address: ch.Address, Timeout: ch.Timeout.D(), Clock: env.clock, Dial: env.dial}, nil
	case upstate.KindDNS:
		return &check.DNS{ID: ch.ID, Host: ch.Host, RecordType: ch.RecordType, Answers: ch.Expect.Answers,
			LatencyUnder: ch.Expect.LatencyUnder.D(), Timeout: ch.Timeout.D(), Resolver: env.resolver(ch.Server), Clock: env.clock}, nil
	case upstate.KindHeartbeat:
		return &check.Heartbeat{ID: ch.ID, Period: ch.Period.D(), Grace: ch.Grace.D(), Beats: env.beats, Started: env.started, Clock: env.clock}, nil
	case upstate.KindAlert:
		return &check.Alert{ID: ch.ID, Book: env.alerts, StaleAfter: ch.StaleAfter.D(), Clock: env.clock}, nil
	case upstate.KindMetric:
		return metricProber(ch, env), nil
	case upstate.KindQuota:
		q := &check.Quota{ID: ch.ID, What: ch.What, Usage: seriesOf(ch, ch.Usage, queryOf(ch, "query"), env), Limit: ch.Limit,
			ErrorsAbove: ch.ErrorsAbove, WarnAt: ch.WarnAt / 100, FailAt: ch.FailAt / 100, Window: ch.Window.D(), WarnWithin: ch.WarnWithin.D(),
			MaxAge: ch.MaxAge.D(), Clock: env.clock}
		if ch.LimitMetric != "" {
			q.LimitSeries = seriesOf(ch, ch.LimitMetric, "", env)
		}
		if ch.Errors != "" {
			q.Errors = seriesOf(ch, ch.Errors, "", env)
		}
		return q, nil
	case upstate.KindSLO:
		return &check.SLO{ID: ch.ID, What: ch.What, Good: seriesOf(ch, ch.Good, queryOf(ch, "good"), env), Total: seriesOf(ch, ch.Total, queryOf(ch, "total"), env),
			Objective: ch.Objective / 100, Period: ch.SLOPeriod.D(), Burns: check.DefaultBurns, Clock: env.clock}, nil
	case upstate.KindUpstream:
		format := ch.Feed
		if format == "rss" {
			format = check.FeedRSS
		}
		// Incident links are relative to the dashboard the feed belongs to.
		base := check.FeedDefaults[format].Base
		if b, ok := strings.CutSuffix(ch.URL, "incidents.json"); ok {
			base = b
		}
		return &check.Upstream{ID: ch.ID, Provider: ch.Provider, Format: format, URL: ch.URL, Base: base, Products: ch.Products,
			Window: ch.Window.D(), Interval: ch.Interval.D(), Timeout: ch.Timeout.D(), Client: env.client, Clock: env.clock,
			OnError: func(err error) { env.feedError(ch.ID, err) }}, nil
	}
	return nil, fmt.Errorf("unknown kind %q", ch.Kind)
}

// components are the configured components as the domain knows them.
func components(cfg *config.Config) []upstate.Component {
	out := make([]upstate.Component, 0, len(cfg.Components))
	for _, c := range cfg.Components {
		out = append(out, upstate.Component{ID: c.ID, Name: c.Name, Group: c.Group, Description: c.Description, DependsOn: c.DependsOn})
	}
	return out
}

// queryOf is one of a check's Prometheus queries, if it reads Prometheus.
func queryOf(ch config.Check, which string) string {
	if ch.Prometheus == nil {
		return ""
	}
	switch which {
	case "good":
		return ch.Prometheus.GoodQuery
	case "total":
		return ch.Prometheus.TotalQuery
	}
	return ch.Prometheus.Query
}

// pushedSeries are the pushed series a check reads (what seriesOf reads
// from the store rather than from Prometheus).
func pushedSeries(ch config.Check) []string {
	var names []string
	switch ch.Kind {
	case upstate.KindMetric:
		if queryOf(ch, "query") == "" {
			names = append(names, ch.Metric)
		}
	case upstate.KindQuota:
		if queryOf(ch, "query") == "" {
			names = append(names, ch.Usage)
		}
		names = append(names, ch.LimitMetric, ch.Errors)
	case upstate.KindSLO:
		if queryOf(ch, "good") == "" {
			names = append(names, ch.Good)
		}
		if queryOf(ch, "total") == "" {
			names = append(names, ch.Total)
		}
	}
	var keys []string
	for _, n := range names {
		if n != "" {
			keys = append(keys, check.SeriesKey(n, ch.Labels))
		}
	}
	return keys
}

// seriesOf reads a Prometheus query when one is given, else the pushed
// series of that name with the check's labels.
func seriesOf(ch config.Check, name, query string, env probeEnv) check.Series {
	if query != "" {
		h := http.Header{}
		if ch.Prometheus.Token != "" {
			h.Set("Authorization", "Bearer "+ch.Prometheus.Token.Reveal())
		}
		return &check.Prometheus{URL: ch.Prometheus.URL, Query: query, Client: env.client, Timeout: ch.Timeout.D(), Header: h}
	}
	key := check.SeriesKey(name, ch.Labels)
	return check.SeriesFunc(func(ctx context.Context, from, to time.Time) ([]upstate.Point, error) {
		return env.points(ctx, key, from, to)
	})
}

func metricProber(ch config.Check, env probeEnv) *check.Metric {
	m := &check.Metric{ID: ch.ID, What: ch.What, Unit: ch.Unit, Above: ch.Above, Below: ch.Below, DegradedAbove: ch.DegradedAbove,
		DegradedBelow: ch.DegradedBelow, MaxAge: ch.MaxAge.D(), NoDataFails: ch.NoData == "fail", Clock: env.clock}
	m.Series = seriesOf(ch, ch.Metric, queryOf(ch, "query"), env)
	if c := ch.Change; c != nil {
		m.Change = &check.Change{Percent: c.Percent, Over: c.Over.D()}
	}
	if a := ch.Anomaly; a != nil {
		m.Anomaly = &anomaly.Detector{Location: env.location, Tolerance: a.Tolerance.D(), Days: a.Days, Weekly: a.Weekly == nil || *a.Weekly,
			Sensitivity: a.Sensitivity, MinRatio: a.MinRatio, Below: a.Below}
	}
	return m
}
