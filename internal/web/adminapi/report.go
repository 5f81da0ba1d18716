package adminapi

import (
	"fmt"
	"net/http"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/report"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// report answers GET /api/v1/report?from=&to=&tz=&also_tz=&format=&title=&intro=&closing=
// with the outage report; download=1 asks the browser to save it.
func (s *Server) report(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	q := r.URL.Query()
	p := report.Params{From: q.Get("from"), To: q.Get("to"), TZ: q.Get("tz"), AlsoTZ: q.Get("also_tz"), Title: q.Get("title"),
		Intro: q.Get("intro"), Closing: q.Get("closing")}
	rep, err := report.Gather(r.Context(), s.opts.Reads, p, s.opts.PageName(), s.opts.Location(), s.opts.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "html"
	}
	ct, err := report.ContentType(format)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	if q.Get("download") != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="outage-report-%s-to-%s.%s"`, p.From, p.To, format))
	}
	// Streamed: a year's report is tens of MB, written as it is rendered
	// rather than held whole first (issue 16). Past the first byte the
	// status is sent; a failure then (the reader gone, mostly) is logged.
	if err := report.Write(w, rep, format, s.opts.Markdown); err != nil {
		s.opts.Logger.Warn("report not written whole", "component", "adminapi", "request_id", respond.RequestID(w), "err", err)
	}
}
