package sqlcore

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// Pending holds the rollups of results committed but not yet added to
// the stored ones. Both drivers' writers keep them in memory and add them
// to the table once a minute and on every Flush and Close: one upsert per
// bucket instead of two per result. A crash loses at most a minute of
// rollup counts; the raw results are committed with every batch. Only the
// writer goroutine touches one.
//
// Every check has an hour and a day waiting, so the form is compact: at
// 100,000 checks, a map of *store.Rollup by (check, period, bucket) held
// 71 MB; values in place, 32-bit counts and the histogram only on hours
// hold a third of that.
type Pending struct {
	hours map[pendingKey]hourCounts
	days  map[pendingKey]counts
}

type pendingKey struct {
	check  string
	bucket int64 // its start, Unix ms
}

type counts struct {
	n, ok, slow, fail uint32
	sum, max          time.Duration
}

// hourCounts are an hour's counts and its latency histogram; daily rows
// have none (a day's histogram is the sum of its hours).
type hourCounts struct {
	counts
	bins [store.LatencyBins]uint32
}

// NewPending is an empty set with room for the buckets of n checks (a
// batch's own, made every second, are not grown step by step).
func NewPending(n int) *Pending {
	return &Pending{hours: make(map[pendingKey]hourCounts, n), days: make(map[pendingKey]counts, n)}
}

// Len is how many buckets wait.
func (p *Pending) Len() int { return len(p.hours) + len(p.days) }

func (c *counts) count(r upstate.Result) {
	c.n++
	switch r.Outcome {
	case upstate.OutcomeOK:
		c.ok++
	case upstate.OutcomeSlow:
		c.slow++
	default:
		c.fail++
	}
	c.sum += r.Latency
	c.max = max(c.max, r.Latency)
}

func (c *counts) plus(o counts) {
	c.n, c.ok, c.slow, c.fail = c.n+o.n, c.ok+o.ok, c.slow+o.slow, c.fail+o.fail
	c.sum += o.sum
	c.max = max(c.max, o.max)
}

// plus adds another part of the hour, its histogram too.
func (h *hourCounts) plus(o hourCounts) {
	h.counts.plus(o.counts)
	for i, c := range o.bins {
		h.bins[i] += c
	}
}

// Add counts results in their hours and days.
func (p *Pending) Add(rs []upstate.Result) {
	for _, r := range rs {
		hk := pendingKey{r.CheckID, MS(store.Hour.Bucket(r.At))}
		h := p.hours[hk]
		h.count(r)
		h.bins[store.BinOf(r.Latency)]++
		p.hours[hk] = h
		dk := pendingKey{r.CheckID, MS(store.Day.Bucket(r.At))}
		d := p.days[dk]
		d.count(r)
		p.days[dk] = d
	}
}

// Merge adds more's buckets into p, in place: after each batch, the
// batch's own rollups join those waiting for the next write. (Summing
// into a copy each second copied every waiting bucket of every check: at
// 20,000 checks 48 MB of a 130 MB heap.)
func (p *Pending) Merge(more *Pending) {
	if more == nil {
		return
	}
	for k, o := range more.hours {
		h := p.hours[k]
		h.plus(o)
		p.hours[k] = h
	}
	for k, o := range more.days {
		d := p.days[k]
		d.plus(o)
		p.days[k] = d
	}
}

// Each calls fn with every bucket waiting in the sets, the sets' counts
// of it added up, as a rollup (one value, filled afresh for each call), in
// one order over all of them: by check, period and start, so two writers'
// statements take row locks alike (the batch's own rollups written after
// the waiting ones, each set in its order, could lock out of it).
func Each(fn func(r *store.Rollup) error, sets ...*Pending) error {
	byKey := func(a, b pendingKey) int {
		return cmp.Or(strings.Compare(a.check, b.check), cmp.Compare(a.bucket, b.bucket))
	}
	var days, hours []pendingKey
	for _, p := range sets {
		days = slices.AppendSeq(days, maps.Keys(p.days))
		hours = slices.AppendSeq(hours, maps.Keys(p.hours))
	}
	slices.SortFunc(days, byKey)
	slices.SortFunc(hours, byKey)
	days, hours = slices.Compact(days), slices.Compact(hours)
	var r store.Rollup
	fill := func(k pendingKey, period store.Period, c counts) {
		r = store.Rollup{CheckID: k.check, Period: period, Start: FromMS(k.bucket), Count: int(c.n), OK: int(c.ok), Slow: int(c.slow), Fail: int(c.fail),
			LatencySum: c.sum, LatencyMax: c.max}
	}
	// Day sorts before hour, as the periods' names do.
	for len(days) > 0 || len(hours) > 0 {
		if len(hours) == 0 || len(days) > 0 && days[0].check <= hours[0].check {
			k := days[0]
			days = days[1:]
			var sum counts
			for _, p := range sets {
				sum.plus(p.days[k])
			}
			fill(k, store.Day, sum)
		} else {
			k := hours[0]
			hours = hours[1:]
			var sum hourCounts
			for _, p := range sets {
				sum.plus(p.hours[k])
			}
			fill(k, store.Hour, sum.counts)
			for i, c := range sum.bins {
				r.Latencies[i] = int(c)
			}
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}
