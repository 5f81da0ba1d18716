package app

import (
	"context"
	"fmt"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// loadAlerts puts the alerts still firing when Upstate last stopped back
// in the book.
func (a *App) loadAlerts(ctx context.Context) error {
	list, err := a.store.ListFiringAlerts(ctx)
	if err != nil {
		return fmt.Errorf("load inbound alerts: %w", err)
	}
	for _, x := range list {
		a.env.Alerts.Put(x)
	}
	return nil
}

// ReceiveAlerts applies an Alertmanager or Grafana webhook the web has
// authenticated: each alert fires or resolves on every alert check whose
// labels it matches, and each touched check is judged at once through
// the same decide → incident path as a probe. It answers once that is
// durable.
func (a *App) ReceiveAlerts(ctx context.Context, body []byte) (rc check.Receipt, err error) {
	w, err := check.ParseAlertWebhook(body)
	if err != nil {
		return check.Receipt{}, upstate.Errorf(upstate.EINVALID, "%v", err)
	}
	rc = check.Receipt{Source: w.Source(), Alerts: len(w.Alerts)}
	set := a.checks.Load().compiled
	now := a.opts.Clock.Now()
	touched := map[string]check.Prober{}
	var order []string
	for _, al := range w.Alerts {
		matched := false
		for _, ac := range set.alerts {
			if !ac.match(al.Labels) {
				continue
			}
			matched = true
			if _, ok := touched[ac.id]; !ok {
				touched[ac.id] = ac.prober
				order = append(order, ac.id)
			}
			if al.Status == "resolved" {
				if err := a.store.DeleteFiringAlert(ctx, ac.id, al.Fingerprint); err != nil {
					return rc, err
				}
				a.env.Alerts.Drop(ac.id, al.Fingerprint)
				continue
			}
			fa := upstate.FiringAlert{CheckID: ac.id, Fingerprint: al.Fingerprint, Severity: al.Labels["severity"], Summary: al.Summary(),
				Source: rc.Source, URL: al.URL(), StartsAt: al.StartsAt, SeenAt: now}
			if fa.StartsAt.IsZero() || fa.StartsAt.After(now) {
				fa.StartsAt = now
			}
			if err := a.store.SaveFiringAlert(ctx, fa); err != nil {
				return rc, err
			}
			a.env.Alerts.Put(fa)
		}
		if matched {
			rc.Matched++
		}
	}
	for _, id := range order {
		r := touched[id].Probe(ctx)
		a.onResult(ctx, r)
	}
	rc.Checks = order
	if rc.Matched < rc.Alerts {
		a.log.Info("inbound alerts matched no alert check", "component", "alerts", "source", rc.Source, "unmatched", rc.Alerts-rc.Matched)
	}
	return rc, nil
}
