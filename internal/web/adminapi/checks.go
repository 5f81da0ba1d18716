package adminapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/checkview"
	"github.com/upstatehq/upstate/internal/events"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// CheckPages works out the figures of a check's page (checkview.Views).
type CheckPages interface {
	Report(ctx context.Context, id, period string) (checkview.Report, error)
	List(ctx context.Context) ([]checkview.Summary, error)
}

// Events is the live feed streams subscribe to (events.Broker).
type Events interface {
	Subscribe(principal string, f events.Filter) (*events.Sub, error)
}

type resultJSON struct {
	At         time.Time `json:"at"`
	Outcome    string    `json:"outcome"`
	LatencyMS  float64   `json:"latency_ms"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	Evidence   string    `json:"evidence"`
	// Region is the probe agent's region that took it; none for this
	// server's own.
	Region string `json:"region,omitempty"`
}

func resultOf(r upstate.Result) resultJSON {
	return resultJSON{At: r.At.UTC(), Outcome: string(r.Outcome), LatencyMS: ms(r.Latency), StatusCode: r.StatusCode, Error: r.Error, Evidence: r.Evidence(), Region: r.Region}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type bucketJSON struct {
	Start  time.Time `json:"start"`
	Count  int       `json:"count"`
	Fail   int       `json:"fail"`
	P50MS  *float64  `json:"p50_ms"` // null for a bucket without results
	P95MS  *float64  `json:"p95_ms"`
	MeanMS *float64  `json:"mean_ms"`
	MaxMS  *float64  `json:"max_ms"`
	// FromMean says p50 and p95 are the mean: results stored before
	// the latency histogram was kept.
	FromMean bool `json:"from_mean,omitempty"`
}

type uptimeJSON struct {
	Ratio   *float64 `json:"ratio"` // null without data
	Results int      `json:"results"`
}

type openedJSON struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Status   string     `json:"status"`
	Started  time.Time  `json:"started"`
	Resolved *time.Time `json:"resolved"`
}

type checkJSON struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	Kind        string                `json:"kind"`
	Target      string                `json:"target"`
	Components  []string              `json:"components"`
	IntervalS   float64               `json:"interval_seconds"`
	Provisioned bool                  `json:"provisioned"`
	File        string                `json:"file,omitempty"`
	Paused      bool                  `json:"paused"`
	State       string                `json:"state"` // "unknown" before any result
	Describe    string                `json:"describe"`
	Since       *time.Time            `json:"since"`
	Evidence    string                `json:"evidence,omitempty"`
	Told        bool                  `json:"told"`
	Results     []resultJSON          `json:"results"`
	LastError   *resultJSON           `json:"last_error"`
	Period      string                `json:"period"`
	StepS       float64               `json:"bucket_seconds"`
	Latency     []bucketJSON          `json:"latency"`
	Uptime      map[string]uptimeJSON `json:"uptime"`
	CertExpiry  *time.Time            `json:"cert_expires"`
	CertDays    *int                  `json:"cert_days_left"`
	Incidents   []openedJSON          `json:"incidents"`
	// Regions, for a check probed from several: each one's own state.
	Regions []regionJSON `json:"regions,omitempty"`
}

type regionJSON struct {
	Name     string     `json:"name"`
	State    string     `json:"state"`
	Since    *time.Time `json:"since"`
	Evidence string     `json:"evidence,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func checkOf(rep checkview.Report) checkJSON {
	spec := rep.Info.Spec
	j := checkJSON{ID: spec.ID, Name: spec.DisplayName(), Kind: spec.Kind, Target: rep.Info.Target, Components: append([]string{}, spec.Components...),
		IntervalS: spec.Interval.Seconds(), Provisioned: rep.Info.Provisioned, File: rep.Info.File, Paused: rep.Info.Paused, State: "unknown",
		Told: rep.Told, Results: []resultJSON{}, Period: rep.Period.Name, StepS: rep.Period.Step.Seconds(), Latency: []bucketJSON{},
		Uptime: map[string]uptimeJSON{}, CertDays: rep.CertDays, Incidents: []openedJSON{}}
	if rep.Known && !rep.Condition.Since.IsZero() {
		c := rep.Condition
		j.State, j.Describe, j.Since, j.Evidence = c.State.String(), c.Describe(), ptr(c.Since.UTC()), c.Evidence
	}
	for _, r := range rep.Results {
		j.Results = append(j.Results, resultOf(r))
	}
	if rep.LastError != nil {
		j.LastError = ptr(resultOf(*rep.LastError))
	}
	for _, b := range rep.Buckets {
		bj := bucketJSON{Start: b.Start.UTC(), Count: b.Count, Fail: b.Fail, FromMean: b.FromMean}
		if b.Count > 0 {
			bj.P50MS, bj.P95MS, bj.MeanMS, bj.MaxMS = ptr(ms(b.P50)), ptr(ms(b.P95)), ptr(ms(b.Mean)), ptr(ms(b.Max))
		}
		j.Latency = append(j.Latency, bj)
	}
	for _, u := range rep.Uptime {
		uj := uptimeJSON{Results: u.Count}
		if u.Count > 0 {
			uj.Ratio = ptr(u.Ratio())
		}
		j.Uptime[u.Period] = uj
	}
	if !rep.CertExpiry.IsZero() {
		j.CertExpiry = ptr(rep.CertExpiry.UTC())
	}
	for _, r := range rep.Regions {
		rj := regionJSON{Name: r.Name, State: r.Condition.State.String(), Evidence: r.Condition.Evidence}
		if !r.Condition.Since.IsZero() {
			rj.Since = ptr(r.Condition.Since.UTC())
		}
		j.Regions = append(j.Regions, rj)
	}
	for _, o := range rep.Opened {
		oj := openedJSON{ID: o.ID, Name: o.Name, Status: string(o.Status), Started: o.Started.UTC()}
		if o.Resolved != nil {
			oj.Resolved = ptr(o.Resolved.UTC())
		}
		j.Incidents = append(j.Incidents, oj)
	}
	return j
}

// getCheck answers a check's page in JSON: the same figures as
// /admin/checks/{id}, for ?period=24h|7d|30d.
func (s *Server) getCheck(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	rep, err := s.opts.CheckPages.Report(r.Context(), r.PathValue("id"), r.URL.Query().Get("period"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"check": checkOf(rep)})
}

// runCheck runs a check once, now, and answers its result.
func (s *Server) runCheck(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	res, err := s.opts.RunCheck(r.Context(), r.PathValue("id"))
	if err != nil {
		respond.SetRetryAfter(w, err)
		s.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"result": resultOf(res)})
}

// events streams the live feed as Server-Sent Events: result, state and
// incident events, of one check with ?check=ID, of some types with
// ?types=state,incident. The stream ends when the
// client goes, when it falls behind (it reconnects and reloads), or when
// the server stops.
func (s *Server) events(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.URL.Query().Get("check")
	if id != "" && s.opts.CheckInfos != nil && !slices.ContainsFunc(s.opts.CheckInfos(), func(c upstate.CheckInfo) bool { return c.Spec.ID == id }) {
		s.fail(w, r, upstate.Errorf(upstate.ENOTFOUND, "no check %q is configured", id))
		return
	}
	principal := "user:" + p.User.ID
	if p.Token != nil {
		principal = "token:" + p.Token.ID
	}
	f := events.Filter{Check: id}
	if types := r.URL.Query().Get("types"); types != "" {
		for _, t := range strings.Split(types, ",") {
			if t = strings.TrimSpace(t); t != events.TypeResult && t != events.TypeState && t != events.TypeIncident {
				s.fail(w, r, upstate.Errorf(upstate.EINVALID, "types: %q is not one of result, state, incident", t))
				return
			}
			f.Types = append(f.Types, t)
		}
	}
	sub, err := s.opts.Events.Subscribe(principal, f)
	if err != nil {
		respond.SetRetryAfter(w, err)
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	// A stream outlives the server's read timeout, which would otherwise
	// end it (the read deadline cancels the request); each write has a
	// deadline of its own, so a client that stops reading is let go
	// rather than holding a goroutine and a connection for ever.
	_ = rc.SetReadDeadline(time.Time{})
	// A stream lasts at most streamLife: the browser reconnects, signed
	// in afresh, so a person removed or a token revoked stops hearing.
	ctx, cancel := context.WithTimeout(r.Context(), streamLife)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	_ = sub.Stream(ctx.Done(), deadlineWriter{w, rc}, func() error {
		if err := rc.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
			return err
		}
		return rc.Flush()
	})
}

// Limits of a live stream: how long one lasts before the browser
// reconnects, and how long one write may wait on a client not reading.
const (
	streamLife = 15 * time.Minute
	writeWait  = 30 * time.Second
)

// deadlineWriter gives each write to a stream its deadline (the wall
// clock: it bounds a network write, as the server's timeouts do).
type deadlineWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (d deadlineWriter) Write(b []byte) (int, error) {
	if err := d.rc.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return 0, err
	}
	return d.w.Write(b)
}
