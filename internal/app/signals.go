package app

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// Limits on pushed numbers, so that one token cannot fill the database
// with series nothing reads: series a check reads are always kept; beyond
// them, each token (or person) may start at most SeriesPerSource new
// series, and all together at most MaxSeries are kept.
const (
	SeriesPerSource = 1000
	MaxSeries       = 20_000
)

// seriesBook knows which pushed series exist and who started each (""
// for those stored before start-up), so the limits free up as old series
// age out. Safe for concurrent use.
type seriesBook struct {
	mu       sync.Mutex
	known    map[string]string // series → the source that started it
	bySource map[string]int
}

// PushSamples keeps pushed numbers, one point per series per minute;
// source is who pushed them (a token's or a person's id), for the series
// limits. A push that would break a limit is refused whole.
func (a *App) PushSamples(ctx context.Context, source string, ss []upstate.Sample) (int, error) {
	by := map[string][]upstate.Point{}
	for _, s := range ss {
		key := check.SeriesKey(s.Name, s.Labels)
		by[key] = append(by[key], upstate.Point{At: s.At, Value: s.Value})
	}
	fresh, err := a.series.admit(source, by, a.checks.Load().compiled.pushed)
	if err != nil {
		return 0, err
	}
	for key, ps := range by {
		if err := a.store.AddPoints(ctx, key, ps); err != nil {
			a.series.forget(fresh) // not stored: they do not count
			return 0, err
		}
	}
	return len(ss), nil
}

// admit checks a push's new series against the limits, records them, and
// returns them.
func (b *seriesBook) admit(source string, by map[string][]upstate.Point, read map[string]bool) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var fresh []string
	for key := range by {
		if _, ok := b.known[key]; !ok && !read[key] {
			fresh = append(fresh, key)
		}
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	slices.Sort(fresh)
	if n := b.bySource[source] + len(fresh); n > SeriesPerSource {
		return nil, upstate.Errorf(upstate.EINVALID, "this push starts %d new series (e.g. %.200s) and would bring what this token started to %d, over the limit of %d series no check reads: push fewer label values, or add the check that reads them first",
			len(fresh), fresh[0], n, SeriesPerSource)
	}
	if n := len(b.known) + len(fresh); n > MaxSeries {
		return nil, upstate.Errorf(upstate.EINVALID, "this push starts %d new series, over the limit of %d pushed series kept in all: push fewer label values, or wait for old ones to age out (retention.hourly)", len(fresh), MaxSeries)
	}
	for _, key := range fresh {
		b.known[key] = source
	}
	b.bySource[source] += len(fresh)
	return fresh, nil
}

// forget drops series from the book, giving their sources room again.
func (b *seriesBook) forget(keys []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		src, ok := b.known[k]
		if !ok {
			continue
		}
		delete(b.known, k)
		if b.bySource[src]--; b.bySource[src] <= 0 {
			delete(b.bySource, src)
		}
	}
}

// keepOnly forgets the series the store no longer has (pruned).
func (b *seriesBook) keepOnly(stored []string) {
	have := make(map[string]bool, len(stored))
	for _, k := range stored {
		have[k] = true
	}
	b.mu.Lock()
	var gone []string
	for k := range b.known {
		if !have[k] {
			gone = append(gone, k)
		}
	}
	b.mu.Unlock()
	b.forget(gone)
}

// loadSeries learns which pushed series are stored.
func (a *App) loadSeries(ctx context.Context) error {
	keys, err := a.store.ListSeries(ctx)
	if err != nil {
		return fmt.Errorf("list pushed series: %w", err)
	}
	a.series = &seriesBook{known: map[string]string{}, bySource: map[string]int{}}
	for _, k := range keys {
		a.series.known[k] = ""
	}
	return nil
}

// refreshSeries forgets the series pruning removed, so their room is
// free again.
func (a *App) refreshSeries(ctx context.Context) {
	keys, err := a.store.ListSeries(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("list pushed series", "component", "store", "err", err)
		}
		return
	}
	a.series.keepOnly(keys)
}

// SLOs reports each SLO check's error budget and burn rates.
func (a *App) SLOs(ctx context.Context) []check.SLOReport {
	var out []check.SLOReport
	for _, s := range a.checks.Load().compiled.slos {
		out = append(out, s.Report(ctx))
	}
	return out
}
