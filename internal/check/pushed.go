package check

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
)

// Limits on pushed numbers, so that one token cannot fill the database
// with series nothing reads: series a check reads are always kept; beyond
// them, each token (or person) may start at most SeriesPerSource new
// series, and all together at most MaxSeries are kept.
const (
	SeriesPerSource = 1000
	MaxSeries       = 20_000
)

// PushStore is where pushed numbers are kept.
type PushStore interface {
	AddPoints(ctx context.Context, series string, ps []upstate.Point) error
	SetPoints(ctx context.Context, series string, ps []upstate.Point) error
	ListSeries(ctx context.Context) ([]string, error)
}

// Pushed takes the numbers pushed to Upstate (POST /api/v1/metrics) for
// the metric, quota and SLO checks that read them, within the series
// limits. It knows which series exist and who started each ("" for those
// stored before start-up), so the limits free up as old series age out.
// Safe for concurrent use.
type Pushed struct {
	store PushStore

	mu       sync.Mutex
	read     map[string]bool   // series some check reads: always kept
	known    map[string]string // series → the source that started it
	bySource map[string]int
	// rewritten counts, per series, the history pushes stored, so that a
	// check keeping the series in memory knows to read it again.
	rewritten map[string]uint64
}

// NewPushed learns which pushed series are stored.
func NewPushed(ctx context.Context, store PushStore) (*Pushed, error) {
	keys, err := store.ListSeries(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pushed series: %w", err)
	}
	p := &Pushed{store: store, read: map[string]bool{}, known: map[string]string{}, bySource: map[string]int{}, rewritten: map[string]uint64{}}
	for _, k := range keys {
		p.known[k] = ""
	}
	return p, nil
}

// SetRead sets the series the configured checks read (SeriesKey of name and
// labels): they are always kept, whoever pushes them.
func (p *Pushed) SetRead(keys map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read = keys
}

// PushSamples keeps pushed numbers, one point per series per minute;
// source is who pushed them (a token's or a person's id), for the series
// limits. A push that would break a limit is refused whole.
func (p *Pushed) PushSamples(ctx context.Context, source string, ss []upstate.Sample) (int, error) {
	by := map[string][]upstate.Point{}
	for _, s := range ss {
		key := SeriesKey(s.Name, s.Labels)
		by[key] = append(by[key], upstate.Point{At: s.At, Value: s.Value})
	}
	fresh, err := p.admit(source, by)
	if err != nil {
		return 0, err
	}
	for key, ps := range by {
		if err := p.store.AddPoints(ctx, key, ps); err != nil {
			p.forget(fresh) // not stored: they do not count
			return 0, err
		}
	}
	return len(ss), nil
}

// PushHistory keeps numbers about minutes that are over (a backfill, so
// a new check's baseline need not wait for days): per series and minute
// the mean of the samples given replaces what the minute held, so the
// same history pushed twice is stored once. The series limits are those
// of PushSamples; the caller bounds how far back it goes. Checks reading
// the series read it again on their next probe.
func (p *Pushed) PushHistory(ctx context.Context, source string, ss []upstate.Sample) (int, error) {
	type minute struct {
		key string
		at  time.Time
	}
	sums := map[minute][2]float64{} // sum, count
	by := map[string][]upstate.Point{}
	for _, s := range ss {
		m := minute{SeriesKey(s.Name, s.Labels), s.At.UTC().Truncate(time.Minute)}
		if _, ok := sums[m]; !ok {
			by[m.key] = append(by[m.key], upstate.Point{At: m.at})
		}
		sum := sums[m]
		sums[m] = [2]float64{sum[0] + s.Value, sum[1] + 1}
	}
	for key, ps := range by {
		for i := range ps {
			sum := sums[minute{key, ps[i].At}]
			ps[i].Value = sum[0] / sum[1]
		}
	}
	fresh, err := p.admit(source, by)
	if err != nil {
		return 0, err
	}
	for key, ps := range by {
		if err := p.store.SetPoints(ctx, key, ps); err != nil {
			p.forget(fresh) // not stored: they do not count
			return 0, err
		}
		p.mu.Lock()
		p.rewritten[key]++
		p.mu.Unlock()
	}
	return len(ss), nil
}

// Rewritten says how many history pushes the series has had: when it
// changes, what a check holds of the series in memory is out of date.
func (p *Pushed) Rewritten(key string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rewritten[key]
}

// admit checks a push's new series against the limits, records them, and
// returns them.
func (p *Pushed) admit(source string, by map[string][]upstate.Point) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var fresh []string
	for key := range by {
		if _, ok := p.known[key]; !ok && !p.read[key] {
			fresh = append(fresh, key)
		}
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	slices.Sort(fresh)
	if n := p.bySource[source] + len(fresh); n > SeriesPerSource {
		return nil, upstate.Errorf(upstate.EINVALID, "this push starts %d new series (e.g. %.200s) and would bring what this token started to %d, over the limit of %d series no check reads: push fewer label values, or add the check that reads them first",
			len(fresh), fresh[0], n, SeriesPerSource)
	}
	if n := len(p.known) + len(fresh); n > MaxSeries {
		return nil, upstate.Errorf(upstate.EINVALID, "this push starts %d new series, over the limit of %d pushed series kept in all: push fewer label values, or wait for old ones to age out (retention.hourly)", len(fresh), MaxSeries)
	}
	for _, key := range fresh {
		p.known[key] = source
	}
	p.bySource[source] += len(fresh)
	return fresh, nil
}

// forget drops series, giving their sources room again.
func (p *Pushed) forget(keys []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		src, ok := p.known[k]
		if !ok {
			continue
		}
		delete(p.known, k)
		delete(p.rewritten, k) // a check seeing the count change reads again: harmless
		if p.bySource[src]--; p.bySource[src] <= 0 {
			delete(p.bySource, src)
		}
	}
}

// Refresh forgets the series the store no longer has (pruned), so their
// room is free again.
func (p *Pushed) Refresh(ctx context.Context) error {
	stored, err := p.store.ListSeries(ctx)
	if err != nil {
		return fmt.Errorf("list pushed series: %w", err)
	}
	have := make(map[string]bool, len(stored))
	for _, k := range stored {
		have[k] = true
	}
	p.mu.Lock()
	var gone []string
	for k := range p.known {
		if !have[k] {
			gone = append(gone, k)
		}
	}
	p.mu.Unlock()
	p.forget(gone)
	return nil
}
