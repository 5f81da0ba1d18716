package config

import (
	"net/url"
	"regexp"
	"time"
)

var metricNameRe = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

func (v *validator) metric(p string, ch *Check) {
	switch {
	case ch.Metric == "" && ch.Prometheus == nil:
		v.errf(p, "metric checks need metric (a pushed series name) or prometheus (url and query)")
	case ch.Metric != "" && ch.Prometheus != nil:
		v.errf(p, "give metric or prometheus, not both")
	case ch.Metric != "" && !metricNameRe.MatchString(ch.Metric):
		v.errf(p+".metric", "%q is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", ch.Metric)
	case ch.Prometheus != nil:
		if u, err := url.Parse(ch.Prometheus.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errf(p+".prometheus.url", "%q is not an http(s) URL (the API's base, e.g. http://prometheus:9090)", ch.Prometheus.URL)
		}
		if ch.Prometheus.Query == "" {
			v.errf(p+".prometheus", "query is required: a PromQL expression giving one number")
		}
	}
	if ch.Above == nil && ch.Below == nil && ch.DegradedAbove == nil && ch.DegradedBelow == nil && ch.Change == nil && ch.Anomaly == nil {
		v.errf(p, "metric checks need a condition: above, below, degraded_above, degraded_below, change or anomaly")
	}
	if ch.Above != nil && ch.DegradedAbove != nil && *ch.DegradedAbove >= *ch.Above {
		v.errf(p+".degraded_above", "must be below above (%v): degraded comes before failing", *ch.Above)
	}
	if c := ch.Change; c != nil && (c.Percent <= 0 || c.Over.D() < time.Minute) {
		v.errf(p+".change", "percent must be positive and over at least 1m (e.g. {percent: 300, over: 10m})")
	}
	if a := ch.Anomaly; a != nil {
		if a.Sensitivity < 0 || a.MinRatio < 0 || a.Days < 0 || a.Days > 90 {
			v.errf(p+".anomaly", "sensitivity and min_ratio must not be negative, days 1 to 90")
		}
		if a.Weekly == nil {
			t := true
			a.Weekly = &t
		}
	}
	if ch.What == "" {
		ch.What = ch.Metric
		if ch.What == "" {
			ch.What = ch.ID
		}
	}
	switch ch.NoData {
	case "":
		ch.NoData = "ignore"
	case "ignore", "fail":
	default:
		v.errf(p+".no_data", "%q is not ignore or fail", ch.NoData)
	}
	if ch.Interval == 0 {
		ch.Interval = Duration(30 * time.Second) // numbers arrive by the minute: judge twice a minute
	}
	if ch.MaxAge == 0 {
		ch.MaxAge = Duration(max(5*time.Minute, 3*ch.Interval.D()))
	}
	if ch.FailAfter == 0 {
		ch.FailAfter = 1 // a number is not a flaky probe: alert within a minute
	}
	if ch.RecoverAfter == 0 {
		ch.RecoverAfter = 2
	}
	if ch.Recheck == nil {
		ch.Recheck = &Recheck{}
	}
}
