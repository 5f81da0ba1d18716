package incident

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/benchheap"
	"github.com/upstatehq/upstate/internal/clock"
)

// rowStore hands out n conditions as the SQL store reads them: each row's
// strings its own, times in UTC at milliseconds.
type rowStore struct {
	*memStore
	n int
}

func (s rowStore) ListConditions(context.Context) (map[string]upstate.Condition, error) {
	out := make(map[string]upstate.Condition)
	at := time.UnixMilli(t0.UnixMilli()).UTC()
	for i := range s.n {
		id := fmt.Sprintf("check-%06d", i)
		out[id] = upstate.Condition{CheckID: id, State: upstate.State(fmt.Sprint("up")), Since: at.Add(-time.Minute), At: at,
			Evidence: fmt.Sprintf("answered normally HTTP 200 after %d ms", 20+i%50), Failures: 0, Samples: 10}
	}
	return out, nil
}

// BenchmarkConditions100k measures what an engine keeps for 100,000
// checks with a condition each, read from the store at start (issue 16:
// 100,000 checks under 400 MiB): its conditions, and its index of the
// checks by id and by component. The checks' specs are the caller's.
func BenchmarkConditions100k(b *testing.B) {
	const n = 100_000
	checks := make([]upstate.CheckSpec, n)
	for i := range checks {
		checks[i] = upstate.CheckSpec{ID: fmt.Sprintf("check-%06d", i), Kind: "http", Interval: time.Minute, Components: []string{fmt.Sprintf("c%d", i%100)}}
	}
	comps := make([]upstate.Component, 100)
	for i := range comps {
		comps[i] = upstate.Component{ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("C%d", i)}
	}
	var kept uint64
	for range b.N {
		before := benchheap.Live()
		e, err := New(context.Background(), Options{Store: rowStore{newMemStore(), n}, Clock: clock.NewFake(t0), Components: comps, Checks: checks,
			NewID: func() string { return "x" }})
		if err != nil {
			b.Fatal(err)
		}
		kept += benchheap.Live() - before
		runtime.KeepAlive(e)
	}
	b.ReportMetric(float64(kept)/float64(b.N)/n, "kept-B/check")
}

// The engine keeps one cond per check: at 100,000 checks each byte is
// 100 kB (issue 16: 100,000 checks under 400 MiB). A whole Condition was
// 136 bytes and, over the 128 a map holds in its slots, a value of its
// own besides, with its evidence text; cond is 72 and sits in the map.
// A field added here should say why it is worth 100 kB per byte.
func TestCondStaysSmall(t *testing.T) {
	if n := unsafe.Sizeof(cond{}); n > 72 {
		t.Errorf("cond is %d bytes, want at most 72", n)
	}
}

// What the engine keeps of a condition gives back what it reads of one:
// the times as they came (Equal, and formatted the same, zone and all),
// and a state that derives the same status.
func TestCondKeepsWhatTheEngineReads(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	now := time.Now() // a monotonic reading, in Local
	spec := upstate.CheckSpec{Impact: map[upstate.ImpactKey]upstate.Status{upstate.ImpactDown: upstate.PartialOutage}}
	for _, c := range []upstate.Condition{
		{State: upstate.StateUnknown},
		{State: upstate.StateUp, Since: now.Add(-time.Minute), At: now},
		{State: upstate.StateDegraded, Partial: true, Since: t0.In(la), At: t0.UTC(), Failures: 3, Samples: 10},
		{State: upstate.StateDegraded, At: time.UnixMilli(t0.UnixMilli()).UTC()},
		{State: upstate.StateDown, Burst: true, Failures: 7, Samples: 10, Since: t0.In(la), At: t0.In(la)},
	} {
		got := compact(c).condition("x")
		if got.Since != c.Since || got.At != c.At || got.Since.Format(time.RFC3339Nano) != c.Since.Format(time.RFC3339Nano) || got.At.String() != c.At.String() {
			t.Errorf("%s: times %v, %v; want %v, %v", c.State, got.Since, got.At, c.Since, c.At)
		}
		if got.State.Rank() != c.State.Rank() || got.State.Failing() != c.State.Failing() || got.ImpactKey() != c.ImpactKey() || spec.StatusFor(got) != spec.StatusFor(c) {
			t.Errorf("%s: came back %s", c.State, got.State)
		}
		if got.Partial != c.Partial || got.Burst != c.Burst || got.Failures != c.Failures || got.Samples != c.Samples || got.CheckID != "x" {
			t.Errorf("%s: came back %+v", c.State, got)
		}
	}
}
