package decide

import (
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// TestProviderWord: an upstream check's reads (o: no incident, d: their
// degradation, p: their partial outage, m: their major outage) make the
// state the provider says, once fail_after reads agree, with none of the
// hysteresis measured failures need.
func TestProviderWord(t *testing.T) {
	for _, tc := range []struct {
		name, seq, want string
		failAfter       int
	}{
		{"their partial outage is partial", "op", "UP", 1},
		{"their degradation is slow", "od", "US", 1},
		{"from partial to major at once", "opm", "UPD", 1},
		{"from major to partial at once", "omp", "UDP", 1},
		{"from partial to degraded and back", "opdp", "UPSP", 1},
		{"resolved", "ompo", "UDPU", 1},
		{"fail_after: 2 waits for two reads", "oppmmo", "UUPPDU", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New("drive-google", Defaults(upstate.DecideSpec{FailAfter: tc.failAfter, RecoverAfter: 1, RecheckCount: -1}, 2*time.Minute), upstate.Condition{})
			var got strings.Builder
			for i, c := range tc.seq {
				r := upstate.Result{CheckID: "drive-google", At: t0.Add(time.Duration(i) * 2 * time.Minute), Provider: &upstate.ProviderReport{}}
				cause := &upstate.Upstream{Provider: "Classroom API", Title: "Rosters API unavailable", URL: "https://stspg.io/abc123"}
				switch c {
				case 'o':
					r.Outcome = upstate.OutcomeOK
				case 'd':
					r.Outcome, r.Provider.Cause = upstate.OutcomeSlow, cause
				case 'p':
					r.Outcome, r.Provider.Cause, r.Provider.Partial = upstate.OutcomeSlow, cause, true
				case 'm':
					r.Outcome, r.Provider.Cause = upstate.OutcomeFail, cause
				}
				m.Observe(r)
				switch cond := m.Condition(); {
				case cond.State == upstate.StateUp:
					got.WriteByte('U')
				case cond.State == upstate.StateDown:
					got.WriteByte('D')
				case cond.State == upstate.StateDegraded && cond.Partial:
					got.WriteByte('P')
				case cond.State == upstate.StateDegraded:
					got.WriteByte('S')
				default:
					got.WriteByte('?')
				}
			}
			if got.String() != tc.want {
				t.Errorf("%s: got %s, want %s", tc.seq, got.String(), tc.want)
			}
		})
	}
}
