package sqlite

import (
	"database/sql"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// A scope of one figure is kept in the scope column exactly as before
// ranges, a range adds its top beside it, and a row written before
// ranges reads as one figure.
func TestScopeColumn(t *testing.T) {
	db, path := openFast(t)
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	column := func(id string) string {
		t.Helper()
		var s string
		if err := raw.QueryRow("SELECT scope FROM incidents WHERE id = ?", id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	lo, hi := 10.0, 25.0
	one := &upstate.Incident{ID: "aaaaaaaaaaaa", Name: "Errors", Status: upstate.Investigating, Impact: upstate.ImpactMajor, CreatedAt: storetestT0,
		UpdatedAt: storetestT0, StartedAt: storetestT0.Add(-time.Minute), DetectedAt: storetestT0, Components: []string{"api"},
		Reach: upstate.Reach{FailingPercent: &hi, Regions: []string{"EU"}}}
	rng := *one
	rng.ID, rng.Reach = "bbbbbbbbbbbb", upstate.Reach{FailingPercent: &lo, FailingMax: &hi}
	if err := db.Apply(t.Context(), store.Change{Incidents: []*upstate.Incident{one, &rng}}); err != nil {
		t.Fatal(err)
	}
	if got, want := column(one.ID), `{"failing_percent":25,"regions":["EU"]}`; got != want {
		t.Errorf("one figure kept as %s, want %s as before ranges", got, want)
	}
	if got, want := column(rng.ID), `{"failing_percent":10,"failing_percent_max":25}`; got != want {
		t.Errorf("a range kept as %s, want %s", got, want)
	}
	if _, err := raw.Exec(`UPDATE incidents SET scope = '{"failing_percent":40,"segments":["schools on SSO"]}' WHERE id = ?`, rng.ID); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetIncident(t.Context(), rng.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reach.FailingMax != nil || got.Reach.Describe() != "about 40% of requests failing; affecting: schools on SSO" {
		t.Errorf("an old row reads as %q", got.Reach.Describe())
	}
}
