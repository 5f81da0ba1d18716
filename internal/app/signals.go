package app

import (
	"context"

	"github.com/upstatehq/upstate/internal/check"
)

// slos reports each SLO check's error budget and burn rates.
func (a *App) slos(ctx context.Context) []check.SLOReport {
	var out []check.SLOReport
	for _, s := range a.checks.Load().compiled.slos {
		out = append(out, s.Report(ctx))
	}
	return out
}
