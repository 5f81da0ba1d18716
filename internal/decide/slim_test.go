package decide

import (
	"math"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/upstatehq/upstate"
)

// TestSizes keeps a machine and a window's sample small: a server holds a
// machine per check and ten samples in each, and at 100,000 checks every
// 8 bytes of a Machine is 0.8 MB, of a sample 8.8 MB (eleven slots a
// window). Machine was 384 bytes with its own spec and the burst state
// every check carried; sample 32.
func TestSizes(t *testing.T) {
	if got := unsafe.Sizeof(Machine{}); got > 184 {
		t.Errorf("Machine is %d bytes, more than 184: what only a check in trouble needs goes in troubleState", got)
	}
	if got := unsafe.Sizeof(sample{}); got > 24 {
		t.Errorf("sample is %d bytes, more than 24: what few results have goes in sampleMore", got)
	}
	// A failed result's side struct stays in the 64-byte size class.
	if got := unsafe.Sizeof(sampleMore{}); got > 64 {
		t.Errorf("sampleMore is %d bytes, more than 64: what fewer still have goes in sampleOdd", got)
	}
}

func TestSpecsShareOneCopyOfEach(t *testing.T) {
	var specs Specs
	a := Defaults(upstate.DecideSpec{}, time.Minute)
	b := Defaults(upstate.DecideSpec{Burst: 10}, time.Minute)
	pa, pb := specs.Of(a), specs.Of(b)
	if pa == pb || *pa != a || *pb != b {
		t.Fatalf("two specs: %p %+v, %p %+v", pa, *pa, pb, *pb)
	}
	if again := specs.Of(a); again != pa {
		t.Fatalf("the same spec again: %p, not the first copy %p", again, pa)
	}
	a.FailAfter = 7 // the caller's value is not the shared copy
	if pa.FailAfter == 7 {
		t.Fatal("the shared copy changed with the caller's value")
	}
	var none *Specs
	if p, q := none.Of(b), none.Of(b); p == q || *p != b {
		t.Fatalf("a nil Specs: %p, %p (%+v)", p, q, *p)
	}
}

func TestNewSharedDecidesAsNew(t *testing.T) {
	spec := Defaults(upstate.DecideSpec{RecheckCount: -1}, 20*time.Second)
	var specs Specs
	shared := specs.Of(spec)
	m1, m2, own := NewShared("a", shared, upstate.Condition{}), NewShared("b", shared, upstate.Condition{}), New("c", spec, upstate.Condition{})
	if m1.spec != shared || m2.spec != shared || own.spec == shared {
		t.Fatal("NewShared machines do not share the spec, or New's does")
	}
	const seq = "ooofffofofooooossso"
	s1, _ := feed(m1, seq)
	s3, _ := feed(own, seq)
	if s1 != s3 {
		t.Fatalf("shared %s, own %s", s1, s3)
	}
	if got := m1.Condition().CheckID; got != "a" {
		t.Fatalf("check id %q", got)
	}
}

func TestQuorumRegionsShareOneSpec(t *testing.T) {
	spec := Defaults(upstate.DecideSpec{}, 20*time.Second)
	regions := []string{"local", "eu", "us"}
	q := NewQuorum("api", spec, regions, 2, upstate.Condition{})
	first := q.machines["local"].spec
	for _, r := range regions {
		if q.machines[r].spec != first {
			t.Fatalf("region %s has a spec of its own", r)
		}
	}
	var specs Specs
	shared := specs.Of(spec)
	q2 := NewQuorumShared("web", shared, regions, 2, upstate.Condition{})
	for _, r := range regions {
		if q2.machines[r].spec != shared {
			t.Fatalf("region %s does not have the shared spec", r)
		}
	}
}

// A healthy check's machine never makes its trouble: that is the point
// of keeping it apart.
func TestHealthyMachineCarriesNoTrouble(t *testing.T) {
	for _, burst := range []int{0, 10} {
		m := New("c", Defaults(upstate.DecideSpec{Burst: burst}, 20*time.Second), upstate.Condition{})
		if states, _ := feed(m, "oooooooooooooooooooooooo"); states[len(states)-1] != 'U' {
			t.Fatalf("burst %d: %s", burst, states)
		}
		if m.t != nil {
			t.Errorf("burst %d: a healthy machine made its trouble: %+v", burst, *m.t)
		}
	}
}

// A sample gives back the result it was, exactly, whatever does not fit
// its compact fields: the evidence is made from it.
func TestSampleKeepsResultsExactly(t *testing.T) {
	at := time.Date(2026, 8, 17, 14, 0, 0, 123456789, time.FixedZone("X", 3600))
	results := []upstate.Result{
		{Outcome: upstate.OutcomeOK, Latency: 1234567 * time.Nanosecond, StatusCode: 200},
		{Outcome: upstate.OutcomeOK},
		{Outcome: upstate.OutcomeOK, Latency: math.MaxUint32, StatusCode: math.MaxUint16},
		{Outcome: upstate.OutcomeOK, Latency: math.MaxUint32 + 1, StatusCode: 204},
		{Outcome: upstate.OutcomeSlow, Latency: 5*time.Second + 3*time.Microsecond + 7, StatusCode: 200},
		{Outcome: upstate.OutcomeOK, Latency: -time.Millisecond},
		{Outcome: upstate.OutcomeOK, Latency: time.Millisecond, StatusCode: math.MaxUint16 + 1},
		{Outcome: upstate.OutcomeFail, Latency: time.Millisecond, StatusCode: -1, Error: "odd"},
		{Outcome: upstate.OutcomeFail, Latency: 10 * time.Second, Error: "timed out after 10.0 s"},
		{Outcome: upstate.OutcomeFail, Latency: 20 * time.Millisecond, StatusCode: 500, Error: "status 500"},
		{Outcome: "weird", Latency: 20 * time.Millisecond, StatusCode: 3},
		{Outcome: upstate.OutcomeSlow, Latency: 2 * time.Second, Pending: true, Error: "slower than 2.00 s"},
		{Outcome: upstate.OutcomeOK, Latency: time.Millisecond, Note: "no alert is firing", Provider: &upstate.ProviderReport{}},
	}
	m := New("c", Defaults(upstate.DecideSpec{}, time.Minute), upstate.Condition{})
	for i, r := range results {
		r.CheckID, r.At = "c", at.Add(time.Duration(i)*time.Second)
		s := m.sampleOf(r)
		got := m.result(s)
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%d: %+v came back %+v", i, r, got)
		}
		if got.Evidence() != r.Evidence() {
			t.Errorf("%d: evidence %q came back %q", i, r.Evidence(), got.Evidence())
		}
		fits := r.Latency >= 0 && r.Latency <= math.MaxUint32 && r.StatusCode >= 0 && r.StatusCode <= math.MaxUint16
		if clean := r.Error == "" && r.Note == "" && r.Provider == nil && s.outcome != codeOther; clean && fits && s.more != nil {
			t.Errorf("%d: a clean result that fits has a sampleMore", i)
		}
	}
	if s := m.sampleOf(upstate.Result{}); m.result(s).At != (time.Time{}) {
		t.Errorf("a zero At came back %v", m.result(s).At)
	}
}
