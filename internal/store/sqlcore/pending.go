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
// Every check has an hour waiting, so the form is compact: at 100,000
// checks, a map of *store.Rollup by (check, period, bucket) held 71 MB;
// values in place, 32-bit counts and the histogram only on hours hold a
// third of that. Days are not kept at all: an hour lies in one day (both
// are UTC buckets), so a day's counts are those of its hours waiting,
// added up as they are written (a map of days beside the hours was
// another 7 MB).
type Pending struct {
	hours map[pendingKey]hourCounts
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
	return &Pending{hours: make(map[pendingKey]hourCounts, n)}
}

// Len is how many hours wait, each with its day.
func (p *Pending) Len() int { return len(p.hours) }

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

// Add counts results in their hours (and so their days).
func (p *Pending) Add(rs []upstate.Result) {
	for _, r := range rs {
		hk := pendingKey{r.CheckID, MS(store.Hour.Bucket(r.At))}
		h := p.hours[hk]
		h.count(r)
		h.bins[store.BinOf(r.Latency)]++
		p.hours[hk] = h
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
}

// Each calls fn with every bucket waiting in the sets, the sets' counts
// of it added up, as a rollup (one value, filled afresh for each call), in
// one order over all of them: by check, period and start, so two writers'
// statements take row locks alike (the batch's own rollups written after
// the waiting ones, each set in its order, could lock out of it). A
// check's days come before its hours, as the periods' names sort, each
// the sum of its hours waiting.
func Each(fn func(r *store.Rollup) error, sets ...*Pending) error {
	var hours []pendingKey
	for _, p := range sets {
		hours = slices.AppendSeq(hours, maps.Keys(p.hours))
	}
	slices.SortFunc(hours, func(a, b pendingKey) int {
		return cmp.Or(strings.Compare(a.check, b.check), cmp.Compare(a.bucket, b.bucket))
	})
	hours = slices.Compact(hours)
	sum := func(k pendingKey) hourCounts {
		var h hourCounts
		for _, p := range sets {
			h.plus(p.hours[k])
		}
		return h
	}
	var r store.Rollup
	fill := func(check string, period store.Period, start int64, c counts) {
		r = store.Rollup{CheckID: check, Period: period, Start: FromMS(start), Count: int(c.n), OK: int(c.ok), Slow: int(c.slow), Fail: int(c.fail),
			LatencySum: c.sum, LatencyMax: c.max}
	}
	for len(hours) > 0 {
		n := 1
		for n < len(hours) && hours[n].check == hours[0].check {
			n++
		}
		mine := hours[:n]
		hours = hours[n:]
		for i := 0; i < len(mine); {
			day := dayOf(mine[i].bucket)
			var c counts
			for ; i < len(mine) && dayOf(mine[i].bucket) == day; i++ {
				c.plus(sum(mine[i]).counts)
			}
			fill(mine[0].check, store.Day, day, c)
			if err := fn(&r); err != nil {
				return err
			}
		}
		for _, k := range mine {
			h := sum(k)
			fill(k.check, store.Hour, k.bucket, h.counts)
			for i, c := range h.bins {
				r.Latencies[i] = int(c)
			}
			if err := fn(&r); err != nil {
				return err
			}
		}
	}
	return nil
}

// dayOf is the start of the UTC day an hour's start (Unix ms) lies in, as
// store.Day.Bucket has it.
func dayOf(hour int64) int64 {
	const day = 24 * 60 * 60 * 1000
	if hour < 0 {
		return (hour - day + 1) / day * day
	}
	return hour / day * day
}
