package admin

import (
	"context"
	_ "embed"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/checkview"
	"github.com/upstatehq/upstate/internal/web/chart"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// CheckPages works out the figures of the check pages (checkview.Views).
type CheckPages interface {
	Report(ctx context.Context, id, period string) (checkview.Report, error)
	List(ctx context.Context) ([]checkview.Summary, error)
}

// consoleJS is the check pages' progressive script: it keeps the page
// live from GET /api/v1/events. A static file, so the CSP may allow only
// the admin's own scripts; without it every page works as it is.
//
//go:embed static/console.js
var consoleJS string

// checkPage is the check page's view.
type checkPage struct {
	R       checkview.Report
	Chart   template.HTML
	Periods []checkview.Period
	// FromMean is set when some buckets chart the mean for want of a
	// histogram (results stored before it was kept).
	FromMean bool
	// CanRun may run it now (incidents:write, and a kind that is probed).
	CanRun bool
	// CanEdit may edit, pause or delete it (the console's forms): a
	// check not provisioned from the file, on a server with a console,
	// and checks:write.
	CanEdit bool
	// HasCert is set when its last probe saw a certificate, with
	// CertDays left on it.
	HasCert  bool
	CertDays int
}

func (s *Server) registerChecks(mux *http.ServeMux) {
	if s.opts.CheckPages == nil {
		return
	}
	mux.HandleFunc("GET /admin/checks", s.authed(upstate.ScopeRead, s.checks))
	mux.HandleFunc("GET /admin/checks/{id}", s.authed(upstate.ScopeRead, s.check))
	if s.opts.RunCheck != nil {
		mux.HandleFunc("POST /admin/checks/{id}/run", s.guard(s.authed(upstate.ScopeIncidents, s.runCheck)))
	}
	mux.HandleFunc("GET /admin/console.js", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=300")
		_, _ = io.WriteString(w, consoleJS)
	})
}

func (s *Server) checks(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	list, err := s.opts.CheckPages.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.base(p, "Checks")
	v.CheckList = list
	v.Live = "types=state"
	if v.Components, err = s.components(r.Context(), nil); err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice = r.URL.Query().Get("done")
	s.render(w, http.StatusOK, "checks", v)
}

func (s *Server) checkView(ctx context.Context, p upstate.Principal, id, period string) (view, error) {
	rep, err := s.opts.CheckPages.Report(ctx, id, period)
	if err != nil {
		return view{}, err
	}
	v := s.base(p, rep.Info.Spec.DisplayName())
	cp := &checkPage{R: rep, Periods: checkview.Periods(), CanRun: v.CanWrite && !rep.Told && s.opts.RunCheck != nil,
		CanEdit: v.CanChecks && !rep.Info.Provisioned}
	if !rep.Told {
		cp.Chart, cp.FromMean = s.latencyChart(rep)
	}
	if rep.CertDays != nil {
		cp.HasCert, cp.CertDays = true, *rep.CertDays
	}
	v.Check, v.Live = cp, "check="+url.QueryEscape(rep.Info.Spec.ID)
	v.Components, err = s.components(ctx, nil)
	return v, err
}

func (s *Server) check(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	v, err := s.checkView(r.Context(), p, r.PathValue("id"), r.URL.Query().Get("period"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice = r.URL.Query().Get("done")
	s.render(w, http.StatusOK, "check", v)
}

// runCheck runs the check once now and shows its result on its page.
func (s *Server) runCheck(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	res, err := s.opts.RunCheck(r.Context(), id)
	if err == nil {
		done(w, r, "/admin/checks/"+url.PathEscape(id), "Run now: "+string(res.Outcome)+", "+res.Evidence())
		return
	}
	if c := upstate.ErrorCode(err); c == upstate.EINTERNAL || c == upstate.ENOTFOUND {
		s.fail(w, r, err)
		return
	}
	v, verr := s.checkView(r.Context(), p, id, "")
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	v.Error = upstate.ErrorMessage(err)
	respond.SetRetryAfter(w, err)
	s.render(w, respond.HTTPStatus(err), "check", v)
}

// latencyChart draws p50 and p95 per bucket; buckets without results are
// gaps.
func (s *Server) latencyChart(rep checkview.Report) (template.HTML, bool) {
	n := len(rep.Buckets)
	if n == 0 {
		return "", false
	}
	starts := make([]time.Time, n)
	p50, p95 := make([]time.Duration, n), make([]time.Duration, n)
	fromMean, any := false, false
	for i, b := range rep.Buckets {
		starts[i] = b.Start
		p50[i], p95[i] = -1, -1
		if b.Count > 0 {
			p50[i], p95[i], any = b.P50, b.P95, true
			fromMean = fromMean || b.FromMean
		}
	}
	if !any {
		return "", false
	}
	loc := s.opts.Location()
	format := "15:04"
	if rep.Period.Step >= 24*time.Hour || rep.Period.Span > 24*time.Hour {
		format = "Jan 2"
	}
	title := "Response time of " + rep.Info.Spec.DisplayName() + ", last " + rep.Period.Name
	desc := "p50 and p95 latency per " + upstate.FormatDuration(rep.Period.Step, upstate.DurationWindow) + "; gaps are buckets without results."
	if fromMean {
		desc += " Buckets stored before latency histograms were kept show the mean for both."
	}
	return chart.Latency(title, desc, starts, rep.Period.Step, []chart.Series{
		{Name: "p95", Class: "p95", Values: p95},
		{Name: "p50", Class: "p50", Values: p50},
	}, func(t time.Time) string { return t.In(loc).Format(format) }), fromMean
}

// stateLabel is a check's condition in a word or two, for people:
// "Up", "Failing", "Slow", "Failing part of the time"; "Not run yet"
// when nothing is known.
func stateLabel(known bool, c upstate.Condition) string {
	if !known || c.State == "" || c.Since.IsZero() && c.At.IsZero() {
		return "Not run yet"
	}
	return capitalise(c.Describe())
}
