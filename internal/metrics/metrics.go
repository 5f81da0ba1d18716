// Package metrics defines Upstate's own Prometheus metrics on a registry
// passed in (never the global default), and serves them.
package metrics

import (
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/upstatehq/upstate"
)

// Metrics holds every metric Upstate exports.
type Metrics struct {
	reg *prometheus.Registry

	ChecksRun        *prometheus.CounterVec
	CheckLatency     *prometheus.HistogramVec
	ScheduleLag      prometheus.Histogram
	ResultsWritten   prometheus.Counter
	AgentResults     *prometheus.CounterVec
	Transitions      *prometheus.CounterVec
	SnapshotRebuilds prometheus.Counter
	SnapshotSeconds  prometheus.Histogram
	HTTPRequests     *prometheus.CounterVec
	HTTPDuration     *prometheus.HistogramVec
	ComponentStatus  *prometheus.GaugeVec
	IncidentsOpen    prometheus.Gauge
	// Notifications counts delivery attempts by channel and outcome
	// (sent, retry, failed); NotificationsOwed is the outbox by channel
	// and state (pending, failed), refreshed every minute.
	Notifications     *prometheus.CounterVec
	NotificationsOwed *prometheus.GaugeVec
	// NotificationCircuits is how many destination hosts have their
	// circuit open, by delivery lane.
	NotificationCircuits *prometheus.GaugeVec
	// FeedErrors counts failed reads of providers' status, by check.
	FeedErrors *prometheus.CounterVec

	// httpSeries caches the series of each route and code, so recording a
	// request does not hash label values.
	httpSeries sync.Map // httpKey → *httpSeries
}

type httpKey struct {
	route string
	code  int
}

type httpSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// New registers every metric, plus Go and process collectors, on a new registry.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		ChecksRun: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "upstate_checks_total", Help: "Probes run, by check kind and outcome.",
		}, []string{"kind", "outcome"}),
		CheckLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "upstate_check_duration_seconds", Help: "Probe latency by check kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		ScheduleLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "upstate_schedule_lag_seconds", Help: "How late probes start against their due time.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		ResultsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "upstate_results_written_total", Help: "Results handed to the store for batched writing.",
		}),
		AgentResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "upstate_agent_results_total", Help: "Results probe agents reported and the server took, by region.",
		}, []string{"region"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "upstate_condition_transitions_total", Help: "Confirmed condition changes, by new state.",
		}, []string{"state"}),
		SnapshotRebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "upstate_snapshot_rebuilds_total", Help: "Public snapshots built and published.",
		}),
		SnapshotSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "upstate_snapshot_render_seconds", Help: "Time to render a published snapshot's documents.",
			Buckets: prometheus.DefBuckets,
		}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "upstate_http_requests_total", Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "upstate_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}, []string{"route"}),
		ComponentStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "upstate_component_status", Help: "1 for each component's current status (a state set).",
		}, []string{"component", "status"}),
		IncidentsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "upstate_incidents_open", Help: "Unresolved incidents.",
		}),
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "upstate_notification_attempts_total", Help: "Notification delivery attempts, by channel and outcome (sent, retry, failed, silenced); subscribers' messages are counted together under channel \"subscribers\".",
		}, []string{"channel", "outcome"}),
		NotificationCircuits: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "upstate_notification_circuits_open", Help: "Notification receivers' hosts whose circuit is open (their messages wait untried), by lane: page, operator, subscriber.",
		}, []string{"lane"}),
		FeedErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "upstate_upstream_feed_errors_total", Help: "Reads of a provider's status that failed or could not be parsed, by check.",
		}, []string{"check"}),
		NotificationsOwed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "upstate_notifications", Help: "Notifications in the outbox (not yet pruned), by channel (subscribers' together as \"subscribers\") and state: pending, failed (given up on), cancelled, silenced. Sent ones are counted in upstate_notification_attempts_total.",
		}, []string{"channel", "state"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "upstate_build_info", Help: "Build information; always 1.",
	}, []string{"version", "goversion"})
	gover := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		gover = bi.GoVersion
	}
	build.WithLabelValues(version, gover).Set(1)
	reg.MustRegister(m.ChecksRun, m.CheckLatency, m.ScheduleLag, m.ResultsWritten, m.AgentResults, m.Transitions,
		m.SnapshotRebuilds, m.SnapshotSeconds, m.HTTPRequests, m.HTTPDuration, m.ComponentStatus, m.IncidentsOpen, m.Notifications, m.NotificationsOwed, m.NotificationCircuits, m.FeedErrors, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format (or
// OpenMetrics when asked for).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// ObserveResult counts one probe result.
func (m *Metrics) ObserveResult(kind string, r upstate.Result) {
	m.ChecksRun.WithLabelValues(kind, string(r.Outcome)).Inc()
	m.CheckLatency.WithLabelValues(kind).Observe(r.Latency.Seconds())
}

// SetStatuses sets the component status state set.
func (m *Metrics) SetStatuses(st map[string]upstate.Status) {
	m.ComponentStatus.Reset()
	for id, s := range st {
		for _, v := range upstate.Statuses() {
			val := 0.0
			if v == s {
				val = 1
			}
			m.ComponentStatus.WithLabelValues(id, string(v)).Set(val)
		}
	}
}

// ObserveHTTP records one request.
func (m *Metrics) ObserveHTTP(route string, code int, d time.Duration) {
	k := httpKey{route, code}
	v, ok := m.httpSeries.Load(k)
	if !ok {
		v, _ = m.httpSeries.LoadOrStore(k, &httpSeries{
			count:    m.HTTPRequests.WithLabelValues(route, strconv.Itoa(code)),
			duration: m.HTTPDuration.WithLabelValues(route),
		})
	}
	series := v.(*httpSeries)
	series.count.Inc()
	series.duration.Observe(d.Seconds())
}

// ChannelLabel is the channel label of a notification channel's series:
// every subscriber's messages share one, so outsiders who subscribe cannot
// add series.
func ChannelLabel(channel string) string {
	if upstate.IsSubscriberChannel(channel) {
		return "subscribers"
	}
	return channel
}
