package importer

import (
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// An entry that tells of a span leaves in an export with its until, and
// comes back from the file as a span.
func TestUntilLeavesAndComesBack(t *testing.T) {
	at := time.Date(2026, 9, 14, 8, 5, 0, 0, time.UTC)
	until, resolved := at.Add(15*time.Minute), at.Add(time.Hour)
	in := &upstate.Incident{ID: "inc1", Name: "SSO", Status: upstate.Resolved, Impact: upstate.ImpactMajor, Components: []string{"api"},
		StartedAt: at, DetectedAt: at, ResolvedAt: &resolved, Updates: []upstate.TimelineEntry{
			{At: at, Until: &until, Status: upstate.Investigating, Body: "SAML answered 502.", Public: true},
			{At: resolved, Status: upstate.Resolved, Body: "Fixed.", Public: true},
		}}
	doc, _ := FromIncidents([]*upstate.Incident{in}, nil, nil, []upstate.Component{{ID: "api", Name: "API"}})
	if u := doc.Incidents[0].Updates[0].Until; u == nil || !u.Equal(until) || doc.Incidents[0].Updates[1].Until != nil {
		t.Fatalf("exported updates = %+v", doc.Incidents[0].Updates)
	}
	data, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, opts("export.yaml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	got := back.Incidents[0].Incident().Updates
	if got[0].Until == nil || !got[0].Until.Equal(until) || got[1].Until != nil {
		t.Errorf("imported updates = %+v", got)
	}
}
