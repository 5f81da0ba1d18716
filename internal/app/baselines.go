package app

import (
	"context"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// baseline reports on a metric check's anomaly baseline, for the admin API.
func (a *App) baseline(_ context.Context, id string) (check.BaselineReport, error) {
	if m := a.checks.Load().compiled.metrics[id]; m != nil {
		if b, ok := m.Baseline(); ok {
			return b, nil
		}
	}
	return check.BaselineReport{}, upstate.Errorf(upstate.ENOTFOUND, "no metric check %s with an anomaly baseline (anomaly: in its configuration)", id)
}

// baselines reports on every metric check's anomaly baseline, in
// configuration order, for the admin incident list.
func (a *App) baselines() []check.BaselineReport {
	comp := a.checks.Load().compiled
	var out []check.BaselineReport
	for _, spec := range comp.specs {
		if m := comp.metrics[spec.ID]; m != nil {
			if b, ok := m.Baseline(); ok {
				out = append(out, b)
			}
		}
	}
	return out
}
