package app

import (
	"context"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/incident"
)

// upstreamLink is the engine's Upstream: the provider incident an
// upstream check is failing on, if any.
func (a *App) upstreamLink(checkID string) *upstate.Upstream {
	u := a.checks.Load().compiled.upstreams[checkID]
	if u == nil {
		return nil
	}
	active := u.Active()
	if len(active) == 0 {
		return nil
	}
	worst := active[0]
	for _, in := range active {
		if in.Severity == upstate.StateDown && worst.Severity != upstate.StateDown {
			worst = in
		}
	}
	return &upstate.Upstream{Provider: u.Provider, Title: worst.Title, URL: providerLink(u, worst)}
}

// providerLink is where we send people for a provider's incident: its own
// page, which the feed reader keeps only when it is an http(s) URL, else
// the configured feed.
func providerLink(u *check.Upstream, in check.ProviderIncident) string {
	if in.URL != "" {
		return in.URL
	}
	return u.URL
}

// mirrorUpstream copies the provider's updates onto our linked incidents:
// first the closing updates of incidents that ended since the last read
// (so their "resolved" is on our timeline before ours), then the open
// ones'. Mirror keeps each update once and limits how many and how loudly.
func (a *App) mirrorUpstream(ctx context.Context, checkID string) {
	u := a.checks.Load().compiled.upstreams[checkID]
	if u == nil {
		return
	}
	for _, in := range append(u.Closed(), u.Active()...) {
		link := upstate.Upstream{Provider: u.Provider, Title: in.Title, URL: providerLink(u, in)}
		var ups []incident.ProviderUpdate
		for _, x := range in.Updates {
			ups = append(ups, incident.ProviderUpdate{Key: x.Key, At: x.At, Text: x.Text})
		}
		if _, err := a.engine.Mirror(ctx, link, ups); err != nil {
			a.log.Error("mirror provider updates", "component", "incident", "check", checkID, "err", err)
		}
	}
}

// SLOs reports each SLO check's error budget and burn rates.
func (a *App) SLOs(ctx context.Context) []check.SLOReport {
	var out []check.SLOReport
	for _, s := range a.checks.Load().compiled.slos {
		out = append(out, s.Report(ctx))
	}
	return out
}
