package adminapi

import (
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/checkview"
)

// A check probed from several places shows each region's own state.
func TestCheckShowsItsRegions(t *testing.T) {
	since := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rep := checkview.Report{Info: upstate.CheckInfo{Spec: upstate.CheckSpec{ID: "api"}}, Regions: []checkview.Region{
		{Name: "local", Condition: upstate.Condition{State: upstate.StateUp, Since: since}},
		{Name: "eu", Condition: upstate.Condition{State: upstate.StateDown, Since: since, Evidence: "HTTP 500"}},
	}}
	j := checkOf(rep)
	if len(j.Regions) != 2 || j.Regions[1].Name != "eu" || j.Regions[1].State != "down" || j.Regions[1].Evidence != "HTTP 500" || j.Regions[1].Since == nil {
		t.Fatalf("regions: %+v", j.Regions)
	}
	if j := checkOf(checkview.Report{Info: rep.Info}); j.Regions != nil {
		t.Fatalf("a check the server alone probes has regions: %+v", j.Regions)
	}
}
