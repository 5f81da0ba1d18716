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
	}
	switch ch.NoData {
	case "":
		ch.NoData = "ignore"
	case "ignore", "fail":
	default:
		v.errf(p+".no_data", "%q is not ignore or fail", ch.NoData)
	}
	// Numbers arrive by the minute: judge twice a minute, and a number is
	// not a flaky probe, so one bad reading alerts (within a minute).
	told(ch, 30*time.Second)
}

// told sets the defaults of checks judged on numbers.
func told(ch *Check, interval time.Duration) {
	if ch.Interval == 0 {
		ch.Interval = Duration(interval)
	}
	if ch.MaxAge == 0 {
		ch.MaxAge = Duration(max(5*time.Minute, 3*ch.Interval.D()))
	}
	if ch.FailAfter == 0 {
		ch.FailAfter = 1
	}
	if ch.RecoverAfter == 0 {
		ch.RecoverAfter = 2
	}
	if ch.Recheck == nil {
		ch.Recheck = &Recheck{}
	}
	if ch.What == "" {
		ch.What = ch.ID
	}
}

func (v *validator) promURL(p string, ps *PromSource) {
	if u, err := url.Parse(ps.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errf(p+".prometheus.url", "%q is not an http(s) URL (the API's base, e.g. http://prometheus:9090)", ps.URL)
	}
}

func (v *validator) quota(p string, ch *Check) {
	switch {
	case ch.Usage == "" && ch.Prometheus == nil:
		v.errf(p, "quota checks need usage (a pushed series name) or prometheus.query")
	case ch.Usage != "" && !metricNameRe.MatchString(ch.Usage):
		v.errf(p+".usage", "%q is not a metric name", ch.Usage)
	case ch.Prometheus != nil:
		v.promURL(p, ch.Prometheus)
		if ch.Prometheus.Query == "" {
			v.errf(p+".prometheus", "query is required: the usage")
		}
	}
	if ch.Limit <= 0 && ch.LimitMetric == "" {
		v.errf(p, "limit (a number) or limit_metric (a pushed series) is required")
	}
	if ch.LimitMetric != "" && !metricNameRe.MatchString(ch.LimitMetric) {
		v.errf(p+".limit_metric", "%q is not a metric name", ch.LimitMetric)
	}
	if ch.Errors != "" && !metricNameRe.MatchString(ch.Errors) {
		v.errf(p+".errors", "%q is not a metric name", ch.Errors)
	}
	if ch.ErrorsAbove == 0 {
		ch.ErrorsAbove = 5
	}
	if ch.WarnAt == 0 {
		ch.WarnAt = 80
	}
	if ch.FailAt == 0 {
		ch.FailAt = 100
	}
	if ch.WarnAt <= 0 || ch.FailAt > 1000 || ch.WarnAt >= ch.FailAt {
		v.errf(p+".warn_at", "warn_at (%v%%) must be above 0 and below fail_at (%v%%)", ch.WarnAt, ch.FailAt)
	}
	if ch.Window == 0 {
		ch.Window = Duration(30 * time.Minute)
	}
	if ch.WarnWithin == 0 {
		ch.WarnWithin = Duration(time.Hour)
	}
	told(ch, 30*time.Second)
}

func (v *validator) slo(p string, ch *Check) {
	switch {
	case ch.Prometheus != nil:
		v.promURL(p, ch.Prometheus)
		if ch.Prometheus.GoodQuery == "" || ch.Prometheus.TotalQuery == "" {
			v.errf(p+".prometheus", "good_query and total_query are required: counters of good and of all events")
		}
	case ch.Good == "" || ch.Total == "":
		v.errf(p, "slo checks need good and total (pushed counters) or prometheus good_query and total_query")
	case !metricNameRe.MatchString(ch.Good) || !metricNameRe.MatchString(ch.Total):
		v.errf(p, "good and total must be metric names")
	}
	if ch.Objective <= 0 || ch.Objective >= 100 {
		v.errf(p+".objective", "%v is not a percentage below 100 (e.g. 99.9)", ch.Objective)
	}
	if ch.SLOPeriod == 0 {
		ch.SLOPeriod = Duration(30 * 24 * time.Hour)
	}
	if ch.SLOPeriod.D() < 24*time.Hour {
		v.errf(p+".slo_period", "%s is too short: at least 1d", ch.SLOPeriod.D())
	}
	told(ch, time.Minute)
}
