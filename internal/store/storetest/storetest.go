// Package storetest is the conformance suite every store backend must
// pass. A backend's test calls Run with a function that opens a fresh,
// empty store.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// Opener opens a fresh, empty store for one subtest; the suite closes it.
type Opener func(t *testing.T) store.Store

var t0 = time.Date(2026, 8, 17, 13, 0, 0, 0, time.UTC)

// Run runs every conformance test against the backend.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Components", testComponents},
		{"ResultsAndRollups", testResults},
		{"ResultRegions", testResultRegions},
		{"ManyResultsAtOnce", testManyResults},
		{"SumRollups", testSumRollups},
		{"ManyIDs", testManyIDs},
		{"Prune", testPrune},
		{"Conditions", testConditions},
		{"DecisionInOneTransaction", testDecisionInOneTransaction},
		{"Incidents", testIncidents},
		{"IncidentDetails", testIncidentDetails},
		{"Holds", testHolds},
		{"Outbox", testOutbox},
		{"OutboxClaims", testOutboxClaims},
		{"Silences", testSilences},
		{"Subscribers", testSubscribers},
		{"FiringAlerts", testFiringAlerts},
		{"MetricPoints", testMetricPoints},
		{"OnCallOverrides", testOverrides},
		{"Artifacts", testArtifacts},
		{"StatusHistory", testHistory},
		{"Heartbeats", testHeartbeats},
		{"ManyWritersOneBatch", testConcurrentWrites},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"ManageUsers", testManageUsers},
		{"Maintenances", testMaintenances},
		{"Postmortems", testPostmortems},
		{"WriteHealth", testWriteHealth},
		{"Warnings", testWarnings},
		{"EntryKinds", testEntryKinds},
		{"EditEntry", testEditEntry},
		{"HideIncident", testHideIncident},
		{"DeleteIncident", testDeleteIncident},
		{"Audit", testAudit},
		{"IncidentFilters", testIncidentFilters},
		{"ConsoleItems", testConsoleItems},
		{"ImportIncidents", testImportIncidents},
		{"RenderedMarkdown", testRenderedMarkdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			defer func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			tt.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func testComponents(t *testing.T, s store.Store) {
	cs := []upstate.Component{
		{ID: "web", Name: "Web app", Group: "Platform"},
		{ID: "api", Name: "API", Group: "Platform", DependsOn: []string{"database"}, Description: "REST"},
		{ID: "database", Name: "Database"},
	}
	if err := s.SyncComponents(ctx(t), cs, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx(t), store.Change{Statuses: []upstate.StatusChange{{ComponentID: "api", At: t0.Add(time.Minute), Status: upstate.PartialOutage}}}); err != nil {
		t.Fatal(err)
	}
	// Re-sync with a rename and a removal: status and created_at survive.
	cs[1].Name = "Public API"
	if err := s.SyncComponents(ctx(t), cs[:2], t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListComponents(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d components, want 2", len(got))
	}
	api := got[1]
	if api.ID != "api" || api.Name != "Public API" || api.Status != upstate.PartialOutage || !api.CreatedAt.Equal(t0) ||
		api.Description != "REST" || len(api.DependsOn) != 1 || api.DependsOn[0] != "database" || api.Position != 2 {
		t.Errorf("api = %+v", api)
	}
	if got[0].Status != upstate.Operational || got[0].Group != "Platform" {
		t.Errorf("web = %+v", got[0])
	}
}

// testManyResults appends more results at once than a driver may write in
// one statement: every one is stored, and of two at one check and time
// the later in the batch is kept, in the same statement or another.
func testManyResults(t *testing.T, s store.Store) {
	var rs []upstate.Result
	for i := range 150 {
		rs = append(rs, upstate.Result{CheckID: "a", At: t0.Add(time.Duration(i) * time.Minute), Outcome: upstate.OutcomeOK, Latency: time.Millisecond, StatusCode: 200})
	}
	rs = append(rs,
		upstate.Result{CheckID: "a", At: t0.Add(5 * time.Minute), Outcome: upstate.OutcomeFail, Error: "again, failing"},
		upstate.Result{CheckID: "a", At: t0.Add(149 * time.Minute), Outcome: upstate.OutcomeSlow, Latency: 3 * time.Second})
	for i := range 100 {
		rs = append(rs, upstate.Result{CheckID: "b", At: t0.Add(time.Duration(i) * time.Second), Outcome: upstate.OutcomeOK, Latency: time.Duration(i+1) * time.Millisecond})
	}
	if err := s.AppendResults(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	a, err := s.ListResults(ctx(t), "a", t0, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 150 || a[5].Outcome != upstate.OutcomeFail || a[5].Error != "again, failing" || a[149].Outcome != upstate.OutcomeSlow || a[148].Outcome != upstate.OutcomeOK {
		t.Fatalf("a: %d results (want 150), 5th %+v, 149th %+v", len(a), a[min(5, len(a)-1)], a[len(a)-1])
	}
	b, err := s.ListResults(ctx(t), "b", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 100 || b[99].Latency != 100*time.Millisecond {
		t.Fatalf("b: %d results (want 100), last %+v", len(b), b[len(b)-1])
	}
}

func testResults(t *testing.T, s store.Store) {
	var rs []upstate.Result
	for i := range 120 {
		r := upstate.Result{CheckID: "api", At: t0.Add(time.Duration(i) * time.Minute), Outcome: upstate.OutcomeOK, Latency: time.Duration(100+i) * time.Millisecond, StatusCode: 200}
		if i%10 == 0 {
			r.Outcome, r.StatusCode, r.Error = upstate.OutcomeFail, 500, "status 500"
		}
		rs = append(rs, r)
	}
	rs = append(rs, upstate.Result{CheckID: "web", At: t0, Outcome: upstate.OutcomeSlow, Latency: 3 * time.Second})
	if err := s.AppendResults(ctx(t), rs[:60]); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendResults(ctx(t), rs[60:]); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListResults(ctx(t), "api", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 60 {
		t.Fatalf("got %d results in the first hour, want 60", len(got))
	}
	if g := got[10]; g.Outcome != upstate.OutcomeFail || g.StatusCode != 500 || g.Error != "status 500" || g.Latency != 110*time.Millisecond || !g.At.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("result 10 = %+v", g)
	}
	hours, err := s.ListRollups(ctx(t), store.Hour, []string{"api"}, t0, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 2 {
		t.Fatalf("got %d hourly rollups, want 2", len(hours))
	}
	h := hours[0]
	if h.Count != 60 || h.Fail != 6 || h.OK != 54 || h.LatencyMax != 159*time.Millisecond || h.MeanLatency() != 12950*time.Millisecond/100 {
		t.Errorf("hour 0 = %+v (mean %v)", h, h.MeanLatency())
	}
	// The latency histogram adds up like the counts, across batches.
	if p50, ok := h.Latencies.Quantile(0.5, h.LatencyMax); h.Latencies.Total() != 60 || !ok || p50 < 100*time.Millisecond || p50 > 159*time.Millisecond {
		t.Errorf("hour 0 latencies = %v (p50 %v), want 60 between 100 and 159 ms", h.Latencies, p50)
	}
	days, err := s.ListRollups(ctx(t), store.Day, nil, t0.Add(-24*time.Hour), t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].CheckID != "api" || days[0].Count != 120 || days[1].CheckID != "web" || days[1].Slow != 1 {
		t.Errorf("days = %+v", days)
	}
}

// testResultRegions: a result keeps its region; an agent's result sent
// again (after a restart, its id forgotten) is stored and counted once;
// LatestByRegion reads each region's newest.
func testResultRegions(t *testing.T, s store.Store) {
	own := upstate.Result{CheckID: "api", At: t0, Outcome: upstate.OutcomeOK, Latency: 10 * time.Millisecond}
	west := upstate.Result{CheckID: "api", At: t0.Add(10 * time.Second), Outcome: upstate.OutcomeFail, Error: "refused", Region: "us-west"}
	west2 := upstate.Result{CheckID: "api", At: t0.Add(70 * time.Second), Outcome: upstate.OutcomeOK, Latency: 30 * time.Millisecond, Region: "us-west"}
	eu := upstate.Result{CheckID: "api", At: t0.Add(20 * time.Second), Outcome: upstate.OutcomeOK, Region: "eu"}
	other := upstate.Result{CheckID: "web", At: t0.Add(20 * time.Second), Outcome: upstate.OutcomeOK, Region: "eu"}
	if err := s.AppendResults(ctx(t), []upstate.Result{own, west, eu, west2, other}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// Sent again, in a later batch, and once more in one batch.
	again := west
	again.Outcome, again.Error = upstate.OutcomeOK, "" // not written over either
	if err := s.AppendResults(ctx(t), []upstate.Result{again, eu}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListResults(ctx(t), "api", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Region != "" || got[1].Region != "us-west" || got[1].Outcome != upstate.OutcomeFail || got[2].Region != "eu" || got[3].Region != "us-west" {
		t.Fatalf("results = %+v, want own, us-west (failing), eu, us-west", got)
	}
	hours, err := s.ListRollups(ctx(t), store.Hour, []string{"api"}, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 1 || hours[0].Count != 4 || hours[0].Fail != 1 {
		t.Errorf("rollups = %+v, want one hour of 4 results, 1 failing (the ones sent again not counted)", hours)
	}
	latest, err := s.LatestByRegion(ctx(t), []string{"api", "nothing"}, t0.Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 || latest[0].Region != "eu" || !latest[0].At.Equal(eu.At) ||
		latest[1].Region != "us-west" || !latest[1].At.Equal(west2.At) || latest[1].Outcome != upstate.OutcomeOK || latest[1].Latency != 30*time.Millisecond || latest[1].CheckID != "api" {
		t.Errorf("latest since t0+5s = %+v, want eu's and us-west's newest (the server's own is older)", latest)
	}
	if latest, err := s.LatestByRegion(ctx(t), []string{"api", "web"}, t0); err != nil || len(latest) != 4 || latest[0].Region != "" || latest[3].CheckID != "web" {
		t.Errorf("latest since t0 = %+v, %v; want api's own, eu, us-west and web's eu", latest, err)
	}
	if latest, err := s.LatestByRegion(ctx(t), nil, t0); err != nil || len(latest) != 0 {
		t.Errorf("latest of no checks = %+v, %v", latest, err)
	}
}

// testSumRollups: the database adds rollups up per bucket over the
// checks, or per check over the buckets.
func testSumRollups(t *testing.T, s store.Store) {
	var rs []upstate.Result
	for i, c := range []string{"a", "b", "c"} {
		for m := range 4 { // two results in each of two hours
			r := upstate.Result{CheckID: c, At: t0.Add(time.Duration(m) * 30 * time.Minute), Outcome: upstate.OutcomeOK, Latency: time.Duration(10*(i+1)) * time.Millisecond}
			if c == "b" && m == 3 {
				r.Outcome, r.Latency = upstate.OutcomeFail, time.Second
			}
			rs = append(rs, r)
		}
	}
	if err := s.AppendResults(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	hours, err := s.SumRollups(ctx(t), store.Hour, []string{"a", "b"}, t0, t0.Add(3*time.Hour), store.ByBucket)
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 2 || !hours[0].Start.Equal(t0) || !hours[1].Start.Equal(t0.Add(time.Hour)) || hours[0].CheckID != "" {
		t.Fatalf("hours = %+v, want t0 and the hour after, over no one check", hours)
	}
	if h := hours[0]; h.Count != 4 || h.OK != 4 || h.LatencySum != 60*time.Millisecond || h.LatencyMax != 20*time.Millisecond || h.Latencies.Total() != 4 {
		t.Errorf("first hour = %+v, want a's and b's four results", h)
	}
	if h := hours[1]; h.Count != 4 || h.Fail != 1 || h.LatencyMax != time.Second || h.LatencySum != 1040*time.Millisecond {
		t.Errorf("second hour = %+v, want b's failure counted", h)
	}
	every, err := s.SumRollups(ctx(t), store.Hour, nil, t0, t0.Add(3*time.Hour), store.ByBucket)
	if err != nil || len(every) != 2 || every[0].Count != 6 || every[1].Count != 6 {
		t.Errorf("every check's hours = %+v, %v; want 6 results an hour", every, err)
	}
	checks, err := s.SumRollups(ctx(t), store.Hour, nil, t0, t0.Add(3*time.Hour), store.ByCheck)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 3 || checks[0].CheckID != "a" || checks[1].CheckID != "b" || checks[2].CheckID != "c" ||
		checks[1].Count != 4 || checks[1].OK != 3 || checks[1].Fail != 1 || checks[2].LatencySum != 120*time.Millisecond || !checks[0].Start.Equal(t0) {
		t.Errorf("per check = %+v, want a, b (one failure) and c over both hours", checks)
	}
	if none, err := s.SumRollups(ctx(t), store.Hour, []string{"nothing"}, t0, t0.Add(3*time.Hour), store.ByBucket); err != nil || len(none) != 0 {
		t.Errorf("an unknown check's hours = %+v, %v", none, err)
	}
}

// testManyIDs: reads and writes that name many checks or components at
// once answer past the databases' limits on a statement's variables
// (SQLite's 32,766): an installation of 100,000 checks asks for all of
// them.
func testManyIDs(t *testing.T, s store.Store) {
	const n = 33_000
	ids := make([]string, n)
	var rs []upstate.Result
	for i := range ids {
		ids[i] = fmt.Sprintf("k%05d", i)
		if i%1000 == 7 { // a few with results, in parts far apart
			rs = append(rs, upstate.Result{CheckID: ids[i], At: t0, Outcome: upstate.OutcomeOK, Latency: time.Millisecond, Region: "eu"})
		}
	}
	if err := s.AppendResults(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	hours, err := s.ListRollups(ctx(t), store.Hour, ids, t0, t0.Add(time.Hour))
	if err != nil || len(hours) != len(rs) || !slices.IsSortedFunc(hours, func(a, b store.Rollup) int { return strings.Compare(a.CheckID, b.CheckID) }) {
		t.Fatalf("rollups of %d checks = %d, %v; want %d in order", n, len(hours), err, len(rs))
	}
	sum, err := s.SumRollups(ctx(t), store.Hour, ids, t0, t0.Add(time.Hour), store.ByBucket)
	if err != nil || len(sum) != 1 || sum[0].Count != len(rs) {
		t.Errorf("the hour summed over %d checks = %+v, %v; want %d results", n, sum, err, len(rs))
	}
	per, err := s.SumRollups(ctx(t), store.Hour, ids, t0, t0.Add(time.Hour), store.ByCheck)
	if err != nil || len(per) != len(rs) || per[0].CheckID != rs[0].CheckID || per[len(per)-1].CheckID != rs[len(rs)-1].CheckID {
		t.Errorf("per check over %d checks = %d, %v", n, len(per), err)
	}
	latest, err := s.LatestByRegion(ctx(t), ids, t0)
	if err != nil || len(latest) != len(rs) || latest[len(latest)-1].CheckID != rs[len(rs)-1].CheckID {
		t.Errorf("latest of %d checks = %d, %v; want %d", n, len(latest), err, len(rs))
	}
	// Components removed are deleted in parts too: 1,100 gone of 1,200
	// take three statements (a write of 33,000 components would only time
	// the disk).
	cs := make([]upstate.Component, 1200)
	for i := range cs {
		cs[i] = upstate.Component{ID: ids[i], Name: ids[i]}
	}
	if err := s.SyncComponents(ctx(t), cs, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncComponents(ctx(t), cs[:100], t0); err != nil {
		t.Fatalf("sync of 100 components after 1,200: %v", err)
	}
	if got, err := s.ListComponents(ctx(t)); err != nil || len(got) != 100 || got[99].ID != ids[99] {
		t.Errorf("components = %d, %v; want the first 100", len(got), err)
	}
}

func testPrune(t *testing.T, s store.Store) {
	old := upstate.Result{CheckID: "a", At: t0.Add(-30 * 24 * time.Hour), Outcome: upstate.OutcomeOK}
	recent := upstate.Result{CheckID: "a", At: t0, Outcome: upstate.OutcomeOK}
	if err := s.AppendResults(ctx(t), []upstate.Result{old, recent}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx(t), t0.Add(-24*time.Hour), t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 { // one raw result and its hourly rollup
		t.Errorf("pruned %d rows, want 2", n)
	}
	got, _ := s.ListResults(ctx(t), "a", t0.Add(-60*24*time.Hour), t0.Add(time.Hour))
	if len(got) != 1 {
		t.Errorf("kept %d results, want 1", len(got))
	}
	days, _ := s.ListRollups(ctx(t), store.Day, []string{"a"}, t0.Add(-60*24*time.Hour), t0.Add(24*time.Hour))
	if len(days) != 2 {
		t.Errorf("kept %d daily rollups, want 2 (daily rollups are never pruned)", len(days))
	}
}

func testConditions(t *testing.T, s store.Store) {
	down := upstate.Condition{CheckID: "api", State: upstate.StateDown, Since: t0, At: t0.Add(10 * time.Second), Evidence: "HTTP 500 after 20 ms", Failures: 3, Samples: 5}
	if err := s.Apply(ctx(t), store.Change{Transitions: []upstate.Transition{{From: upstate.Condition{CheckID: "api", State: upstate.StateUp}, To: down}}}); err != nil {
		t.Fatal(err)
	}
	up := upstate.Condition{CheckID: "api", State: upstate.StateDegraded, Partial: true, Since: t0.Add(time.Minute), At: t0.Add(2 * time.Minute), Evidence: "ok"}
	if err := s.Apply(ctx(t), store.Change{Transitions: []upstate.Transition{{From: down, To: up}}}); err != nil {
		t.Fatal(err)
	}
	conds, err := s.ListConditions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if c := conds["api"]; c.State != upstate.StateDegraded || !c.Partial || !c.Since.Equal(t0.Add(time.Minute)) {
		t.Errorf("condition = %+v", c)
	}
	ts, err := s.ListTransitions(ctx(t), "api", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].To.State != upstate.StateDown || ts[0].To.Evidence != "HTTP 500 after 20 ms" || ts[0].To.Failures != 3 || ts[1].From.State != upstate.StateDown {
		t.Errorf("transitions = %+v", ts)
	}
	// What changed since: only the number at first, then each check's
	// latest condition recorded after it.
	none, last, err := s.ConditionsSince(ctx(t), 0)
	if err != nil || len(none) != 0 || last == 0 {
		t.Fatalf("ConditionsSince(0) = %v, %d, %v; want no conditions and the last transition's number", none, last, err)
	}
	again := upstate.Condition{CheckID: "api", State: upstate.StateUp, Since: t0.Add(3 * time.Minute), At: t0.Add(3 * time.Minute), Evidence: "ok"}
	other := upstate.Condition{CheckID: "db", State: upstate.StateDown, Since: t0.Add(3 * time.Minute), At: t0.Add(4 * time.Minute), Evidence: "refused", Failures: 3}
	late := upstate.Condition{CheckID: "db", State: upstate.StateUp, Since: t0.Add(5 * time.Minute), At: t0.Add(5 * time.Minute), Evidence: "ok"}
	if err := s.Apply(ctx(t), store.Change{Transitions: []upstate.Transition{{From: up, To: again}, {From: upstate.Condition{CheckID: "db", State: upstate.StateUp}, To: other}, {From: other, To: late}}}); err != nil {
		t.Fatal(err)
	}
	changed, next, err := s.ConditionsSince(ctx(t), last)
	if err != nil || next <= last {
		t.Fatalf("ConditionsSince(%d) = %v, %d, %v", last, changed, next, err)
	}
	if len(changed) != 2 || changed["api"].State != upstate.StateUp || changed["db"].State != upstate.StateUp || changed["db"].Evidence != "ok" || !changed["db"].Since.Equal(late.Since) {
		t.Errorf("changed since %d = %+v; want api up and db's latest, up", last, changed)
	}
	if changed, same, _ := s.ConditionsSince(ctx(t), next); len(changed) != 0 || same != next {
		t.Errorf("nothing changed since %d, got %+v, %d", next, changed, same)
	}
}

// testDecisionInOneTransaction: a transition is written with the incident
// change it causes, in one transaction: both land, or neither does; and a
// change written a second time (its first write committed after its writer
// was told it had not) records the transition once.
func testDecisionInOneTransaction(t *testing.T, s store.Store) {
	if err := s.SyncComponents(ctx(t), []upstate.Component{{ID: "api", Name: "API"}}, t0); err != nil {
		t.Fatal(err)
	}
	down := upstate.Transition{From: upstate.Condition{CheckID: "api-health", State: upstate.StateUp},
		To: upstate.Condition{CheckID: "api-health", State: upstate.StateDown, Since: t0, At: t0.Add(10 * time.Second), Evidence: "HTTP 500 after 20 ms", Failures: 3, Samples: 3}}
	in := incident("aaaaaaaaaaaa", t0.Add(10*time.Second), upstate.Investigating)
	entry := upstate.TimelineEntry{ID: "e1", IncidentID: in.ID, At: in.CreatedAt, Status: upstate.Investigating, Body: "API is down", Public: true, Actor: upstate.ActorUpstate}
	status := upstate.StatusChange{ComponentID: "api", At: in.CreatedAt, Status: upstate.MajorOutage, IncidentID: in.ID}
	// Neither: the incident change fails (a hold on no such component),
	// and the transition is not kept either.
	err := s.Apply(ctx(t), store.Change{Transitions: []upstate.Transition{down}, Incidents: []*upstate.Incident{in}, Entries: []upstate.TimelineEntry{entry},
		Statuses: []upstate.StatusChange{status}, Holds: []store.HoldChange{{ComponentID: "nope", Hold: upstate.Hold{Status: upstate.MajorOutage}}}})
	if upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Fatalf("a change with a hold on no such component: %v, want ENOTFOUND", err)
	}
	if conds, _ := s.ListConditions(ctx(t)); len(conds) != 0 {
		t.Errorf("a refused change's condition was kept: %+v", conds)
	}
	if ts, _ := s.ListTransitions(ctx(t), "api-health", t0, t0.Add(time.Hour)); len(ts) != 0 {
		t.Errorf("a refused change's transition was kept: %+v", ts)
	}
	if ins, _ := s.ListIncidents(ctx(t), upstate.IncidentFilter{}); len(ins) != 0 {
		t.Errorf("a refused change's incident was kept: %+v", ins)
	}
	// Both, and again: one transition, one entry.
	c := store.Change{Transitions: []upstate.Transition{down}, Incidents: []*upstate.Incident{in}, Entries: []upstate.TimelineEntry{entry}, Statuses: []upstate.StatusChange{status}}
	for range 2 {
		if err := s.Apply(ctx(t), c); err != nil {
			t.Fatal(err)
		}
	}
	if conds, _ := s.ListConditions(ctx(t)); conds["api-health"].State != upstate.StateDown {
		t.Errorf("condition = %+v", conds["api-health"])
	}
	if ts, _ := s.ListTransitions(ctx(t), "api-health", t0, t0.Add(time.Hour)); len(ts) != 1 || ts[0].To.State != upstate.StateDown {
		t.Errorf("transitions after writing the change twice = %+v, want the one", ts)
	}
	got, err := s.GetIncident(ctx(t), in.ID)
	if err != nil || len(got.Updates) != 1 {
		t.Fatalf("incident = %+v, %v", got, err)
	}
	if comps, _ := s.ListComponents(ctx(t)); comps[0].Status != upstate.MajorOutage {
		t.Errorf("api = %s", comps[0].Status)
	}
	// A transition that changes no incident is kept on its own.
	recovered := upstate.Transition{From: down.To, To: upstate.Condition{CheckID: "api-health", State: upstate.StateUp, Since: t0.Add(time.Minute), At: t0.Add(time.Minute), Evidence: "answered normally"}}
	if err := s.Apply(ctx(t), store.Change{Transitions: []upstate.Transition{recovered}}); err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.ListTransitions(ctx(t), "api-health", t0, t0.Add(time.Hour)); len(ts) != 2 || ts[1].To.State != upstate.StateUp {
		t.Errorf("transitions = %+v", ts)
	}
	if conds, _ := s.ListConditions(ctx(t)); conds["api-health"].State != upstate.StateUp {
		t.Errorf("condition = %+v", conds["api-health"])
	}
}

func incident(id string, created time.Time, status upstate.IncidentStatus) *upstate.Incident {
	return &upstate.Incident{ID: id, Name: "API is down", Status: status, Impact: upstate.ImpactCritical,
		CreatedAt: created, UpdatedAt: created, StartedAt: created.Add(-20 * time.Second), DetectedAt: created,
		Components: []string{"api", "database"}, Auto: true}
}

func testIncidents(t *testing.T, s store.Store) {
	a := incident("aaaaaaaaaaaa", t0, upstate.Investigating)
	e1 := upstate.TimelineEntry{ID: "e1", IncidentID: a.ID, At: t0, Status: upstate.Investigating, Body: "API is down", Public: true, Actor: upstate.ActorUpstate,
		Affected: []upstate.AffectedComponent{{ComponentID: "api", OldStatus: upstate.Operational, NewStatus: upstate.MajorOutage}}}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{a}, Entries: []upstate.TimelineEntry{e1}}); err != nil {
		t.Fatal(err)
	}
	b := incident("bbbbbbbbbbbb", t0.Add(time.Hour), upstate.Investigating)
	b.Overrides = map[string]upstate.Status{"api": upstate.PartialOutage}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{b}}); err != nil {
		t.Fatal(err)
	}
	// Resolve a, with a second entry.
	res := t0.Add(30 * time.Minute)
	a.Status, a.ResolvedAt, a.UpdatedAt = upstate.Resolved, &res, res
	e2 := upstate.TimelineEntry{ID: "e2", IncidentID: a.ID, At: res, Status: upstate.Resolved, Body: "Recovered", Public: true, Actor: upstate.ActorUpstate}
	resolve := store.Change{Incidents: []*upstate.Incident{a}, Entries: []upstate.TimelineEntry{e2},
		Statuses: []upstate.StatusChange{{ComponentID: "api", At: res, Status: upstate.Operational, IncidentID: a.ID}}}
	// Written twice (the first write committed after its writer gave up
	// on it): the second changes nothing.
	for range 2 {
		if err := s.Apply(ctx(t), resolve); err != nil {
			t.Fatal(err)
		}
	}
	if hist, err := s.ListStatusChanges(ctx(t), res, res.Add(time.Second)); err != nil || len(hist) != 1 {
		t.Errorf("status changes after the same change twice: %+v, %v; want one", hist, err)
	}
	got, err := s.GetIncident(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != upstate.Resolved || got.ResolvedAt == nil || !got.ResolvedAt.Equal(res) || got.MonitoringAt != nil ||
		!got.StartedAt.Equal(t0.Add(-20*time.Second)) || len(got.Components) != 2 || !got.Auto {
		t.Errorf("incident = %+v", got)
	}
	if len(got.Updates) != 2 || got.Updates[0].ID != "e1" || got.Updates[1].Body != "Recovered" ||
		len(got.Updates[0].Affected) != 1 || got.Updates[0].Affected[0].NewStatus != upstate.MajorOutage {
		t.Errorf("updates = %+v", got.Updates)
	}
	open, err := s.ListIncidents(ctx(t), upstate.IncidentFilter{OpenOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].ID != b.ID || open[0].Overrides["api"] != upstate.PartialOutage {
		t.Errorf("open = %+v", open)
	}
	if got.Overrides != nil {
		t.Errorf("incident without overrides has %v", got.Overrides)
	}
	all, err := s.ListIncidents(ctx(t), upstate.IncidentFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != b.ID {
		t.Errorf("newest = %v", all)
	}
	if _, err := s.GetIncident(ctx(t), "nope"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("missing incident: err = %v, want ENOTFOUND", err)
	}
}

// testIncidentDetails: reach, upstream link, acknowledgement and merges
// survive a round trip, and copied entries sort by time.
func testIncidentDetails(t *testing.T, s store.Store) {
	a := incident("aaaaaaaaaaaa", t0, upstate.Identified)
	pct := 25.5
	ack := t0.Add(3 * time.Minute)
	a.Reach = upstate.Reach{FailingPercent: &pct, Regions: []string{"EU", "us-east"}, Segments: []string{"schools on SSO"}}
	a.Upstream = &upstate.Upstream{Provider: "Google Workspace", Title: "Drive outage", URL: "https://www.google.com/appsstatus/dashboard/"}
	a.AcknowledgedAt, a.AcknowledgedBy = &ack, "Dana"
	a.MergedInto = "bbbbbbbbbbbb"
	late := upstate.TimelineEntry{ID: "late", IncidentID: a.ID, At: t0.Add(time.Hour), Status: upstate.Identified, Body: "late", Actor: "Dana"}
	early := upstate.TimelineEntry{ID: "early", IncidentID: a.ID, At: t0, Status: upstate.Investigating, Body: "early", Actor: "Dana"}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{a}, Entries: []upstate.TimelineEntry{late}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx(t), store.Change{Entries: []upstate.TimelineEntry{early}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIncident(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reach.FailingPercent == nil || *got.Reach.FailingPercent != pct || len(got.Reach.Regions) != 2 || got.Reach.Segments[0] != "schools on SSO" {
		t.Errorf("reach = %+v", got.Reach)
	}
	if got.Reach.FailingMax != nil {
		t.Errorf("one figure read back as a range up to %v", *got.Reach.FailingMax)
	}
	if got.Upstream == nil || *got.Upstream != *a.Upstream {
		t.Errorf("upstream = %+v", got.Upstream)
	}
	if got.AcknowledgedAt == nil || !got.AcknowledgedAt.Equal(ack) || got.AcknowledgedBy != "Dana" || got.MergedInto != "bbbbbbbbbbbb" {
		t.Errorf("ack/merge = %v %q %q", got.AcknowledgedAt, got.AcknowledgedBy, got.MergedInto)
	}
	if len(got.Updates) != 2 || got.Updates[0].ID != "early" {
		t.Errorf("timeline not in time order: %+v", got.Updates)
	}
	b := incident("bbbbbbbbbbbb", t0, upstate.Investigating)
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{b}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetIncident(ctx(t), b.ID); got.Upstream != nil || !got.Reach.Empty() || got.AcknowledgedAt != nil || got.MergedInto != "" {
		t.Errorf("plain incident = %+v", got)
	}
	// A range keeps both ends, and changing it back to one figure drops
	// the top.
	lo, hi := 10.0, 25.0
	b.Reach = upstate.Reach{FailingPercent: &lo, FailingMax: &hi}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{b}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetIncident(ctx(t), b.ID); got.Reach.Describe() != "10–25% of requests failing" {
		t.Errorf("range read back as %q", got.Reach.Describe())
	}
	b.Reach = upstate.Reach{FailingPercent: &hi}
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{b}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetIncident(ctx(t), b.ID); got.Reach.FailingMax != nil || got.Reach.Describe() != "about 25% of requests failing" {
		t.Errorf("one figure after a range read back as %q", got.Reach.Describe())
	}
}

// testHolds: a status held on a component outside incidents is kept,
// survives a config sync, and clears; holding an unknown component
// fails the whole change.
func testHolds(t *testing.T, s store.Store) {
	cs := []upstate.Component{{ID: "web", Name: "Web app"}, {ID: "api", Name: "API"}}
	if err := s.SyncComponents(ctx(t), cs, t0); err != nil {
		t.Fatal(err)
	}
	hold := upstate.Hold{Status: upstate.DegradedPerformance, By: "Dana", At: t0}
	err := s.Apply(ctx(t), store.Change{Holds: []store.HoldChange{{ComponentID: "web", Hold: hold}},
		Statuses: []upstate.StatusChange{{ComponentID: "web", At: t0, Status: upstate.DegradedPerformance}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SyncComponents(ctx(t), cs, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	list, _ := s.ListComponents(ctx(t))
	if list[0].ID != "web" || list[0].Hold != hold || list[0].Status != upstate.DegradedPerformance || list[1].Hold.Status != "" {
		t.Errorf("components = %+v", list)
	}
	err = s.Apply(ctx(t), store.Change{Holds: []store.HoldChange{{ComponentID: "nope", Hold: hold}},
		Statuses: []upstate.StatusChange{{ComponentID: "api", At: t0, Status: upstate.MajorOutage}}})
	if upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("hold on unknown component: %v", err)
	}
	if list, _ := s.ListComponents(ctx(t)); list[1].Status != upstate.Operational {
		t.Errorf("a failed change was half-written: %+v", list[1])
	}
	if err := s.Apply(ctx(t), store.Change{Holds: []store.HoldChange{{ComponentID: "web"}}}); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListComponents(ctx(t)); list[0].Hold != (upstate.Hold{}) {
		t.Errorf("cleared hold = %+v", list[0].Hold)
	}
}

// testOutboxClaims: a message one instance claimed is not due to another
// until the claim runs out, nor the next in its stream; the claimant may
// claim it again; recording its attempt ends the claim.
func testOutboxClaims(t *testing.T, s store.Store) {
	msg := func(id string, at time.Duration) upstate.Message {
		return upstate.Message{ID: id, Channel: "x", Stream: "A", CreatedAt: t0.Add(at), NextAt: t0.Add(at),
			Event: upstate.Event{ID: "ev-" + id, Type: upstate.EventIncidentCreated, Incident: upstate.Incident{ID: "A", Name: "API is down"}}}
	}
	if err := s.EnqueueMessages(ctx(t), []upstate.Message{msg("m1", 0), msg("m2", time.Second)}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute)
	due := func(claimant string, at time.Time) string {
		t.Helper()
		ms, err := s.DueMessages(ctx(t), upstate.DueQuery{Lane: upstate.LaneOperator, Now: at, Limit: 10, Claimant: claimant})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return strings.Join(out, ",")
	}
	claim := func(id, claimant string, at time.Time) bool {
		t.Helper()
		ok, err := s.ClaimMessage(ctx(t), id, claimant, at, at.Add(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("m1", "a", now) {
		t.Fatal("a could not claim a pending message nobody holds")
	}
	if got := due("b", now); got != "" {
		t.Fatalf("due to b while a holds m1: %q, want nothing (m2 waits behind m1)", got)
	}
	if got := due("a", now); got != "m1" {
		t.Fatalf("due to a, its claimant: %q, want m1", got)
	}
	if claim("m1", "b", now.Add(10*time.Second)) {
		t.Fatal("b claimed m1 while a holds it")
	}
	if !claim("m1", "a", now.Add(10*time.Second)) {
		t.Fatal("a could not renew its own claim")
	}
	// a dies: its claim runs out and b takes the message.
	later := now.Add(41 * time.Second)
	if got := due("b", later); got != "m1" {
		t.Fatalf("due to b after a's claim ran out: %q, want m1", got)
	}
	if !claim("m1", "b", later) {
		t.Fatal("b could not claim m1 after a's claim ran out")
	}
	sent := later
	m, _ := s.ListMessages(ctx(t), store.MessageFilter{ID: "m1"})
	m[0].State, m[0].Attempts, m[0].SentAt = upstate.MessageSent, 1, &sent
	if err := s.RecordAttempt(ctx(t), m[0]); err != nil {
		t.Fatal(err)
	}
	if claim("m1", "b", later) {
		t.Fatal("a sent message was claimed")
	}
	// m2 is next, and its claim is free to anyone.
	if got := due("a", later); got != "m2" {
		t.Fatalf("after m1 was sent, due: %q, want m2", got)
	}
	if !claim("m2", "a", later) {
		t.Fatal("a could not claim m2")
	}
	m, _ = s.ListMessages(ctx(t), store.MessageFilter{ID: "m2"})
	m[0].Attempts, m[0].NextAt = 1, later.Add(time.Second)
	if err := s.RecordAttempt(ctx(t), m[0]); err != nil { // to retry: still pending
		t.Fatal(err)
	}
	if got := due("b", later.Add(2*time.Second)); got != "m2" {
		t.Fatalf("after a's attempt was recorded, due to b: %q, want m2 (the claim ends with the attempt)", got)
	}
}

// testOutbox: messages are kept once per id, handed out oldest first and
// one at a time per stream, and written with the change that owes them.
func testOutbox(t *testing.T, s store.Store) {
	msg := func(id, channel, stream string, at time.Duration) upstate.Message {
		return upstate.Message{ID: id, Channel: channel, Stream: stream, CreatedAt: t0.Add(at), NextAt: t0.Add(at),
			Event: upstate.Event{ID: "ev-" + id, Type: upstate.EventIncidentCreated, Incident: upstate.Incident{ID: stream, Name: "API is down"},
				Entries: []upstate.TimelineEntry{{ID: "e", Body: "Down", Public: true}}, Names: map[string]string{"api": "API"}}}
	}
	if err := s.EnqueueMessages(ctx(t), []upstate.Message{msg("a1", "x", "A", 0), msg("a2", "x", "A", time.Second), msg("b1", "x", "B", 2*time.Second), msg("a1y", "y", "A", 3*time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueMessages(ctx(t), []upstate.Message{msg("a1", "x", "A", 10*time.Second)}); err != nil {
		t.Fatalf("enqueueing a kept id again: %v", err)
	}
	ids := func(ms []upstate.Message, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return strings.Join(out, ",")
	}
	due := func(after int64, limit int) upstate.DueQuery {
		return upstate.DueQuery{Lane: upstate.LaneOperator, Now: t0.Add(time.Minute), After: after, Limit: limit}
	}
	if got := ids(s.DueMessages(ctx(t), due(0, 10))); got != "a1,b1,a1y" {
		t.Errorf("due = %s, want a1,b1,a1y (a2 waits for a1)", got)
	}
	// Paging through: after the first one's Seq come the rest.
	first, _ := s.DueMessages(ctx(t), due(0, 1))
	if len(first) != 1 || first[0].Seq == 0 {
		t.Fatalf("first due = %+v, want one message with its Seq", first)
	}
	if got := ids(s.DueMessages(ctx(t), due(first[0].Seq, 10))); got != "b1,a1y" {
		t.Errorf("due after a1's seq = %s, want b1,a1y", got)
	}
	dueMsgs, _ := s.DueMessages(ctx(t), due(0, 1))
	if m := dueMsgs[0]; m.Event.Incident.Name != "API is down" || m.Event.Entries[0].Body != "Down" || m.Event.Names["api"] != "API" || m.State != upstate.MessagePending || !m.CreatedAt.Equal(t0) {
		t.Errorf("message = %+v", m)
	}
	sent := t0.Add(time.Minute)
	a1 := dueMsgs[0]
	a1.State, a1.Attempts, a1.SentAt = upstate.MessageSent, 1, &sent
	if err := s.RecordAttempt(ctx(t), a1); err != nil {
		t.Fatal(err)
	}
	b1 := msg("b1", "x", "B", 2*time.Second)
	b1.State, b1.Attempts, b1.NextAt, b1.LastError = upstate.MessagePending, 1, t0.Add(time.Hour), "HTTP 503"
	if err := s.RecordAttempt(ctx(t), b1); err != nil {
		t.Fatal(err)
	}
	if got := ids(s.DueMessages(ctx(t), due(0, 10))); got != "a2,a1y" {
		t.Errorf("due after a1 sent and b1 deferred = %s", got)
	}
	if err := s.RecordAttempt(ctx(t), msg("nope", "x", "A", 0)); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("unknown message: %v", err)
	}
	// An outcome for a message settled meanwhile is not kept: a page that
	// an acknowledgement cancelled stays cancelled.
	late := a1
	late.State, late.SentAt = upstate.MessagePending, nil
	if err := s.RecordAttempt(ctx(t), late); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("an outcome for a sent message: %v, want ECONFLICT", err)
	}
	if got, _ := s.ListMessages(ctx(t), store.MessageFilter{ID: "a1"}); len(got) != 1 || got[0].State != upstate.MessageSent {
		t.Errorf("a1 after a late outcome = %+v, want still sent", got)
	}
	// With a change: all or nothing.
	err := s.Apply(ctx(t), store.Change{Messages: []upstate.Message{msg("c1", "x", "C", 0)}, Holds: []store.HoldChange{{ComponentID: "nope", Hold: upstate.Hold{Status: upstate.MajorOutage}}}})
	if err == nil {
		t.Fatal("a change holding an unknown component was written")
	}
	if err := s.Apply(ctx(t), store.Change{Messages: []upstate.Message{msg("c2", "x", "C", 0)}}); err != nil {
		t.Fatal(err)
	}
	if got := ids(s.ListMessages(ctx(t), store.MessageFilter{ID: "b1"})); got != "b1" {
		t.Errorf("by id = %s", got)
	}
	if got := ids(s.ListMessages(ctx(t), store.MessageFilter{Channel: "x", State: upstate.MessagePending})); got != "c2,b1,a2" {
		t.Errorf("pending on x = %s (c1 belonged to a failed change)", got)
	}
	counts, err := s.CountMessages(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(counts) != "[{x pending 3} {x sent 1} {y pending 1}]" {
		t.Errorf("counts = %v", counts)
	}
	if n, err := s.PruneMessages(ctx(t), t0.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("prune: %d, %v (only the sent one goes)", n, err)
	}
	// Pages nobody needs any more are cancelled with the change that ends them.
	p1, p2 := msg("p1", "x", "page:inc1:1", 0), msg("p2", "x", "page:inc1:2", time.Hour)
	other := msg("p3", "x", "page:inc10:1", 0)
	if err := s.EnqueueMessages(ctx(t), []upstate.Message{p1, p2, other}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx(t), store.Change{Cancel: []string{upstate.PageStream("inc1")}}); err != nil {
		t.Fatal(err)
	}
	if got := ids(s.ListMessages(ctx(t), store.MessageFilter{State: upstate.MessageCancelled})); got != "p2,p1" {
		t.Errorf("cancelled = %s (inc10's page is not inc1's)", got)
	}
	// Each lane is read on its own: a page and a subscriber's message are
	// not among the operator channels' messages, nor each other's.
	page := msg("lane-page", "x", upstate.PageStream("L")+"1:1", 0)
	sub := msg("lane-sub", upstate.SubscriberChannel("42"), "L", 0)
	if err := s.EnqueueMessages(ctx(t), []upstate.Message{page, sub}); err != nil {
		t.Fatal(err)
	}
	for lane, want := range map[upstate.Lane]string{upstate.LanePage: "p3,lane-page", upstate.LaneSubscriber: "lane-sub", upstate.LaneOperator: "a2,a1y,c2"} {
		q := due(0, 10)
		q.Lane = lane
		if got := ids(s.DueMessages(ctx(t), q)); got != want {
			t.Errorf("due in lane %s = %s, want %s", lane, got, want)
		}
	}
	// By hand, a failed message goes back in: due now, the note before
	// its error; anything not failed is not found.
	f1 := msg("f1", "z", "F", 0)
	if err := s.EnqueueMessages(ctx(t), []upstate.Message{f1}); err != nil {
		t.Fatal(err)
	}
	f1.State, f1.Attempts, f1.LastError = upstate.MessageFailed, 3, "HTTP 410"
	if err := s.RecordAttempt(ctx(t), f1); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryMessage(ctx(t), "f1", t0.Add(time.Minute), "retried by hand after: "); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListMessages(ctx(t), store.MessageFilter{ID: "f1"}); len(got) != 1 || got[0].State != upstate.MessagePending || !got[0].NextAt.Equal(t0.Add(time.Minute)) ||
		got[0].LastError != "retried by hand after: HTTP 410" {
		t.Errorf("f1 retried = %+v", got)
	}
	if err := s.RetryMessage(ctx(t), "f1", t0, ""); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("retrying a pending message: %v, want ENOTFOUND", err)
	}
	// The next to fall due: b1, put off to t0+1h; none in the page lane
	// after p2 (an hour on).
	if next, ok, err := s.NextDue(ctx(t), upstate.LaneOperator, t0.Add(time.Minute)); err != nil || !ok || !next.Equal(t0.Add(time.Hour)) {
		t.Errorf("next due = %v, %v, %v; want b1's %v", next, ok, err, t0.Add(time.Hour))
	}
	if _, ok, err := s.NextDue(ctx(t), upstate.LaneSubscriber, t0.Add(time.Minute)); err != nil || ok {
		t.Errorf("next due among subscribers = %v, %v; want none (lane-sub is due already)", ok, err)
	}
	v1, err := s.Setting(ctx(t), "ack_key", func() string { return "first" })
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := s.Setting(ctx(t), "ack_key", func() string { return "second" })
	if v1 != "first" || v2 != "first" {
		t.Errorf("setting = %q then %q", v1, v2)
	}
}

func testSilences(t *testing.T, s store.Store) {
	m, _ := upstate.ParseMatcher("component=api")
	n, _ := upstate.ParseMatcher("channel!=pd")
	a := upstate.Silence{ID: "a", Matchers: []upstate.Matcher{m, n}, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "Dana", Comment: "DB upgrade", CreatedAt: t0}
	old := upstate.Silence{ID: "old", Matchers: []upstate.Matcher{m}, StartsAt: t0.Add(-2 * time.Hour), EndsAt: t0.Add(-time.Hour), CreatedBy: "Dana", CreatedAt: t0}
	for _, x := range []upstate.Silence{a, old} {
		if err := s.SaveSilence(ctx(t), x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListSilences(ctx(t), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "a" || len(got[0].Matchers) != 2 || got[0].Matchers[1] != n || got[0].Comment != "DB upgrade" || !got[0].EndsAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("silences = %+v", got)
	}
	if err := s.DeleteSilence(ctx(t), "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSilence(ctx(t), "a"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("deleting twice: %v", err)
	}
}

func testSubscribers(t *testing.T, s store.Store) {
	a := upstate.Subscriber{ID: "a", Kind: upstate.SubscriberEmail, Address: "ann@example.com", Components: []string{"api"}, CreatedAt: t0}
	confirm := upstate.Message{ID: "confirm-a", Channel: upstate.SubscriberChannel("a"), Stream: "subscription", CreatedAt: t0, NextAt: t0,
		Event: upstate.Event{ID: "c", Type: upstate.EventSubscriptionConfirm}}
	if err := s.CreateSubscriber(ctx(t), a, []upstate.Message{confirm}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSubscriber(ctx(t), upstate.Subscriber{ID: "b", Kind: upstate.SubscriberEmail, Address: "ann@example.com", CreatedAt: t0}, nil); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("same address twice: %v", err)
	}
	hook := upstate.Subscriber{ID: "h", Kind: upstate.SubscriberWebhook, Address: "https://hooks.example.com/x", Secret: "whsec_abc", CreatedAt: t0, ConfirmedAt: &t0}
	if err := s.CreateSubscriber(ctx(t), hook, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSubscriber(ctx(t), "a")
	if err != nil || got.Confirmed() || got.Components[0] != "api" {
		t.Errorf("a = %+v, %v", got, err)
	}
	if err := s.ConfirmSubscriber(ctx(t), "a", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.ConfirmSubscriber(ctx(t), "a", t0.Add(time.Hour)) // confirming twice keeps the first time
	if got, _ := s.GetSubscriber(ctx(t), "a"); got.ConfirmedAt == nil || !got.ConfirmedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("confirmed at %v", got.ConfirmedAt)
	}
	list, _ := s.ListSubscribers(ctx(t))
	if len(list) != 2 || list[1].Secret.Reveal() != "whsec_abc" {
		t.Errorf("list = %+v", list)
	}
	if err := s.DeleteSubscriber(ctx(t), "a"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.ListMessages(ctx(t), store.MessageFilter{ID: "confirm-a"}); len(ms) != 1 || ms[0].State != upstate.MessageCancelled {
		t.Errorf("an unsubscribed address is still owed %+v", ms)
	}
	if _, err := s.GetSubscriber(ctx(t), "a"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("deleted: %v", err)
	}
}

func testFiringAlerts(t *testing.T, s store.Store) {
	a := upstate.FiringAlert{CheckID: "prom", Fingerprint: "fp1", Severity: "critical", Summary: "API down", Source: "alertmanager", StartsAt: t0, SeenAt: t0}
	if err := s.SaveFiringAlert(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	a.SeenAt = t0.Add(time.Hour)
	s.SaveFiringAlert(ctx(t), a) // re-sent: refreshes
	s.SaveFiringAlert(ctx(t), upstate.FiringAlert{CheckID: "prom", Fingerprint: "fp2", StartsAt: t0, SeenAt: t0})
	got, err := s.ListFiringAlerts(ctx(t))
	if err != nil || len(got) != 2 || got[0] != a {
		t.Fatalf("alerts = %+v, %v", got, err)
	}
	if err := s.DeleteFiringAlert(ctx(t), "prom", "fp1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFiringAlert(ctx(t), "prom", "nope"); err != nil {
		t.Errorf("deleting an unknown alert: %v", err)
	}
	if got, _ := s.ListFiringAlerts(ctx(t)); len(got) != 1 || got[0].Fingerprint != "fp2" {
		t.Errorf("after delete: %+v", got)
	}
}

func testMetricPoints(t *testing.T, s store.Store) {
	ps := []upstate.Point{{At: t0.Add(5 * time.Second), Value: 10}, {At: t0.Add(50 * time.Second), Value: 20}, {At: t0.Add(time.Minute), Value: 7}}
	if err := s.AddPoints(ctx(t), "blocked", ps); err != nil {
		t.Fatal(err)
	}
	s.AddPoints(ctx(t), "blocked", []upstate.Point{{At: t0.Add(30 * time.Second), Value: 30}})
	s.AddPoints(ctx(t), "other", []upstate.Point{{At: t0, Value: 1}})
	got, err := s.ListPoints(ctx(t), "blocked", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := s.ListSeries(ctx(t)); err != nil || strings.Join(keys, ",") != "blocked,other" {
		t.Errorf("series = %v, %v; want blocked,other", keys, err)
	}
	if len(got) != 2 || got[0].Value != 20 || !got[0].At.Equal(t0) || got[1].Value != 7 {
		t.Errorf("points = %+v (the first minute is the mean of 10, 20 and 30)", got)
	}
	// History replaces the minutes it names, so writing it twice keeps
	// it once; a live point after it averages with it as with any other.
	hist := []upstate.Point{{At: t0.Add(10 * time.Second), Value: 4}, {At: t0.Add(2 * time.Minute), Value: 5}}
	for range 2 {
		if err := s.SetPoints(ctx(t), "blocked", hist); err != nil {
			t.Fatal(err)
		}
	}
	s.AddPoints(ctx(t), "blocked", []upstate.Point{{At: t0.Add(2 * time.Minute), Value: 7}})
	got, err = s.ListPoints(ctx(t), "blocked", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Value != 4 || got[1].Value != 7 || got[2].Value != 6 || !got[2].At.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after history: %+v, want 4, 7 (untouched) and 6 (5 then a live 7)", got)
	}
	if n, err := s.PrunePoints(ctx(t), t0.Add(30*time.Second)); err != nil || n != 2 {
		t.Errorf("prune: %d %v", n, err)
	}
}

func testOverrides(t *testing.T, s store.Store) {
	o := upstate.OnCallOverride{ID: "o1", Schedule: "primary", Person: "lee", From: t0, Until: t0.Add(12 * time.Hour), CreatedBy: "Lee", CreatedAt: t0}
	old := upstate.OnCallOverride{ID: "o0", Schedule: "primary", Person: "sam", From: t0.Add(-48 * time.Hour), Until: t0.Add(-24 * time.Hour), CreatedBy: "Sam", CreatedAt: t0}
	for _, x := range []upstate.OnCallOverride{o, old} {
		if err := s.SaveOverride(ctx(t), x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListOverrides(ctx(t), t0)
	if err != nil || len(got) != 1 || got[0] != o {
		t.Errorf("overrides = %+v, %v", got, err)
	}
	if err := s.DeleteOverride(ctx(t), "o1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOverride(ctx(t), "o1"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("twice: %v", err)
	}
}

func testHistory(t *testing.T, s store.Store) {
	ch := func(id string, d time.Duration, st upstate.Status) upstate.StatusChange {
		return upstate.StatusChange{ComponentID: id, At: t0.Add(d), Status: st}
	}
	changes := []upstate.StatusChange{
		ch("api", -48*time.Hour, upstate.Operational),
		ch("api", -2*time.Hour, upstate.MajorOutage),
		ch("web", -time.Hour, upstate.DegradedPerformance),
		ch("api", time.Hour, upstate.Operational),
		ch("web", 2*time.Hour, upstate.Operational),
		ch("web", 30*time.Hour, upstate.PartialOutage),
	}
	for _, c := range changes {
		if err := s.Apply(ctx(t), store.Change{Statuses: []upstate.StatusChange{c}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListStatusChanges(ctx(t), t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"api -2h0m0s major_outage", "web -1h0m0s degraded_performance", "api 1h0m0s operational", "web 2h0m0s operational"}
	if len(got) != len(want) {
		t.Fatalf("got %d changes, want %d: %+v", len(got), len(want), got)
	}
	for i, g := range got {
		if s := fmt.Sprintf("%s %s %s", g.ComponentID, g.At.Sub(t0), g.Status); s != want[i] {
			t.Errorf("change %d = %s, want %s", i, s, want[i])
		}
	}
}

func testHeartbeats(t *testing.T, s store.Store) {
	if err := s.SaveHeartbeat(ctx(t), "nightly", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveHeartbeat(ctx(t), "nightly", t0.Add(-time.Hour)); err != nil { // late delivery of an older ping
		t.Fatal(err)
	}
	got, err := s.ListHeartbeats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !got["nightly"].Equal(t0) {
		t.Errorf("last heartbeat = %v, want %v", got["nightly"], t0)
	}
}

// testConcurrentWrites proves that many concurrent writers all get their
// writes committed and acknowledged.
func testConcurrentWrites(t *testing.T, s store.Store) {
	const n = 50
	errs := make(chan error, n)
	for i := range n {
		go func() {
			in := incident(fmt.Sprintf("inc%09d", i), t0.Add(time.Duration(i)*time.Second), upstate.Investigating)
			errs <- s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{in}})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListIncidents(ctx(t), upstate.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Errorf("got %d incidents, want %d", len(all), n)
	}
}

func user(id, email string, role upstate.Role) upstate.User {
	return upstate.User{ID: id, Email: email, Name: "Ann " + id, Role: role, PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$AA$AA", CreatedAt: t0}
}

func testUsers(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx(t), user("u1", "Ann@School.example", upstate.RoleOwner)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx(t), user("u2", "ann@school.EXAMPLE ", upstate.RoleViewer)); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("duplicate email (other case): err = %v, want ECONFLICT", err)
	}
	got, err := s.GetUserByEmail(ctx(t), "ANN@school.example")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "u1" || got.Email != "ann@school.example" || got.Role != upstate.RoleOwner || got.PasswordHash == "" || !got.CreatedAt.Equal(t0) {
		t.Errorf("user = %+v", got)
	}
	if _, err := s.GetUser(ctx(t), "nope"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("missing user: %v", err)
	}
	if _, err := s.GetUserByEmail(ctx(t), "nope@x"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("missing email: %v", err)
	}
	_ = s.CreateUser(ctx(t), user("u3", "bob@school.example", upstate.RoleResponder))
	all, err := s.ListUsers(ctx(t))
	if err != nil || len(all) != 2 {
		t.Errorf("users = %v, %v", all, err)
	}
}

func testSessions(t *testing.T, s store.Store) {
	_ = s.CreateUser(ctx(t), user("u1", "ann@school.example", upstate.RoleOwner))
	sess := upstate.Session{TokenHash: "h1", UserID: "u1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateSession(ctx(t), sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSession(ctx(t), "h1", t0.Add(time.Minute))
	if err != nil || got.UserID != "u1" || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("session = %+v, %v", got, err)
	}
	if _, err := s.GetSession(ctx(t), "h1", t0.Add(2*time.Hour)); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("expired session: %v", err)
	}
	n, err := s.DeleteExpiredSessions(ctx(t), t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Errorf("deleted %d, %v", n, err)
	}
	_ = s.CreateSession(ctx(t), upstate.Session{TokenHash: "h2", UserID: "u1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	if err := s.DeleteSession(ctx(t), "h2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx(t), "h2", t0); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("deleted session: %v", err)
	}
}

func testTokens(t *testing.T, s store.Store) {
	_ = s.CreateUser(ctx(t), user("u1", "ann@school.example", upstate.RoleOwner))
	tok := upstate.Token{ID: "t1", Name: "deploy bot", UserID: "u1", Scopes: []upstate.Scope{upstate.ScopeRead, upstate.ScopeIncidents}, Hash: "hash1", CreatedAt: t0}
	if err := s.CreateToken(ctx(t), tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTokenByHash(ctx(t), "hash1", t0.Add(time.Hour))
	if err != nil || got.Name != "deploy bot" || !got.Has(upstate.ScopeIncidents) || got.Has(upstate.ScopeAdmin) {
		t.Errorf("token = %+v, %v", got, err)
	}
	list, err := s.ListTokens(ctx(t))
	if err != nil || len(list) != 1 || list[0].LastUsed == nil || !list[0].LastUsed.Equal(t0.Add(time.Hour)) {
		t.Errorf("tokens = %+v, %v (last use recorded?)", list, err)
	}
	if err := s.RevokeToken(ctx(t), "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTokenByHash(ctx(t), "hash1", t0); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("revoked token still works: %v", err)
	}
	if err := s.RevokeToken(ctx(t), "nope"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("revoking an unknown token: %v", err)
	}
}

func testMaintenances(t *testing.T, s store.Store) {
	m := upstate.Maintenance{ID: "m1", Name: "Database upgrade", Message: "Read-only for **10 minutes**.", ScheduledFor: t0.Add(time.Hour),
		ScheduledUntil: t0.Add(2 * time.Hour), Components: []string{"database", "api"}, Author: "Ann", CreatedAt: t0, UpdatedAt: t0}
	old := m
	old.ID, old.ScheduledFor, old.ScheduledUntil = "m0", t0.Add(-48*time.Hour), t0.Add(-47*time.Hour)
	for _, x := range []upstate.Maintenance{m, old} {
		if err := s.SaveMaintenance(ctx(t), x); err != nil {
			t.Fatal(err)
		}
	}
	m.Name, m.UpdatedAt = "Database upgrade (extended)", t0.Add(time.Minute)
	m.ScheduledUntil = t0.Add(3 * time.Hour)
	if err := s.SaveMaintenance(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListMaintenances(ctx(t), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "Database upgrade (extended)" || !got[0].ScheduledUntil.Equal(t0.Add(3*time.Hour)) ||
		len(got[0].Components) != 2 || got[0].Author != "Ann" || !got[0].CreatedAt.Equal(t0) {
		t.Errorf("maintenances = %+v", got)
	}
	if all, _ := s.ListMaintenances(ctx(t), t0.Add(-72*time.Hour)); len(all) != 2 || all[0].ID != "m0" {
		t.Errorf("all = %+v", all)
	}
	if err := s.DeleteMaintenance(ctx(t), "m1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMaintenance(ctx(t), "m1"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("deleting twice: %v", err)
	}
}

func testPostmortems(t *testing.T, s store.Store) {
	in := incident("pmpmpmpmpmpm", t0, upstate.Resolved)
	if err := s.Apply(ctx(t), store.Change{Incidents: []*upstate.Incident{in}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPostmortem(ctx(t), in.ID); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("no postmortem yet: %v", err)
	}
	p := upstate.PostmortemDoc{IncidentID: in.ID, RootCause: "A long query held a lock.", Fix: "Statement timeouts.", Status: upstate.PostmortemDraft, Author: "Dana", UpdatedAt: t0,
		Actions: []upstate.ActionItem{{Text: "Add a 5 s statement timeout", Owner: "Dana", State: "done"}}}
	if err := s.SavePostmortem(ctx(t), p, store.Change{}); err != nil {
		t.Fatal(err)
	}
	pub := t0.Add(time.Hour)
	p.Status, p.PublishedAt = upstate.PostmortemPublished, &pub
	in.Status = upstate.Postmortem
	entry := upstate.TimelineEntry{ID: "pm1", IncidentID: in.ID, At: pub, Status: upstate.Postmortem, Body: "Postmortem published.", Public: true, Actor: "Dana"}
	if err := s.SavePostmortem(ctx(t), p, store.Change{Incidents: []*upstate.Incident{in}, Entries: []upstate.TimelineEntry{entry}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPostmortem(ctx(t), in.ID)
	if err != nil || got.Status != upstate.PostmortemPublished || got.PublishedAt == nil || len(got.Actions) != 1 || got.Actions[0].Owner != "Dana" {
		t.Errorf("postmortem = %+v, %v", got, err)
	}
	stored, _ := s.GetIncident(ctx(t), in.ID)
	if stored.Status != upstate.Postmortem || len(stored.Updates) != 1 {
		t.Errorf("incident after publishing = %+v", stored)
	}
	all, err := s.ListPostmortems(ctx(t), []string{in.ID, "other"})
	if err != nil || len(all) != 1 {
		t.Errorf("list = %v, %v", all, err)
	}
}

// testWriteHealth: a store that writes says so; faults (a held lock, a
// full disk, a stalled write) are each backend's own tests, as the ways
// to cause them differ.
func testWriteHealth(t *testing.T, s store.Store) {
	if err := s.Probe(ctx(t)); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if err := s.WriteHealth(); err != nil {
		t.Errorf("health after a write: %v", err)
	}
}

func testWarnings(t *testing.T, s store.Store) {
	w := upstate.Warning{CheckID: "api-cert", Key: "certificate", What: "TLS certificate of api:443 expires in 10 days", Stage: 14,
		Due: t0.Add(10 * 24 * time.Hour), Since: t0, Seen: t0, CheckName: "API certificate", Components: []string{"api", "web"}}
	raised := upstate.Message{ID: "ops:" + w.EventID(false, t0), Channel: "ops", Stream: w.Stream(), CreatedAt: t0, NextAt: t0, State: upstate.MessagePending,
		Event: upstate.Event{ID: w.EventID(false, t0), Type: upstate.EventWarningRaised, At: t0, Warning: &w}}
	if err := s.SaveWarning(ctx(t), w, raised); err != nil {
		t.Fatal(err)
	}
	// A new stage replaces it; a warning without a due time keeps none.
	w2 := upstate.Warning{CheckID: "api-cert", Key: "certificate", What: "expires in 5 days", Stage: 7, Due: w.Due, Since: t0, Seen: t0.Add(time.Hour),
		CheckName: "API certificate", Components: []string{"api"}}
	other := upstate.Warning{CheckID: "mail", Key: "certificate", What: "x", Stage: 14, Since: t0, Seen: t0}
	for _, x := range []upstate.Warning{w2, other} {
		if err := s.SaveWarning(ctx(t), x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListWarnings(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Stage != 7 || got[0].What != "expires in 5 days" || !got[0].Due.Equal(w.Due) || !got[0].Since.Equal(t0) ||
		!got[0].Seen.Equal(t0.Add(time.Hour)) || got[0].CheckName != "API certificate" || len(got[0].Components) != 1 || got[1].CheckID != "mail" || !got[1].Due.IsZero() {
		t.Errorf("warnings = %+v", got)
	}
	msgs, err := s.ListMessages(ctx(t), store.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Event.Warning == nil || msgs[0].Event.Warning.Stage != 14 || msgs[0].Lane() != upstate.LaneOperator {
		t.Errorf("messages = %+v", msgs)
	}
	cleared := raised
	cleared.ID, cleared.Event.Type = "ops:"+w.EventID(true, t0.Add(time.Hour)), upstate.EventWarningCleared
	if err := s.DeleteWarning(ctx(t), "api-cert", "certificate", cleared); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWarning(ctx(t), "api-cert", "certificate"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if got, _ := s.ListWarnings(ctx(t)); len(got) != 1 || got[0].CheckID != "mail" {
		t.Errorf("after delete = %+v", got)
	}
	if msgs, _ := s.ListMessages(ctx(t), store.MessageFilter{}); len(msgs) != 2 {
		t.Errorf("messages after delete = %d", len(msgs))
	}
}

func testArtifacts(t *testing.T, s store.Store) {
	png := func(n int) []byte { return []byte(fmt.Sprintf("\x89PNG %d", n)) }
	for i := range 4 {
		a := upstate.Artifact{ID: fmt.Sprint("login-", i), CheckID: "login", At: t0.Add(time.Duration(i) * time.Minute), ContentType: "image/png",
			Data: png(i), Note: fmt.Sprintf("step 3 (click #login): failure %d", i), Components: []string{"web", "sso_login"}}
		if err := s.SaveArtifact(ctx(t), a, 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveArtifact(ctx(t), upstate.Artifact{ID: "home-0", CheckID: "home", At: t0, ContentType: "image/png", Data: png(9), Components: []string{"api"}}, 3); err != nil {
		t.Fatal(err)
	}
	ids := func(as []upstate.Artifact) string {
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return strings.Join(out, " ")
	}
	// Only the newest three of a check are kept, newest first, without data.
	got, err := s.ListArtifacts(ctx(t), upstate.ArtifactFilter{CheckID: "login"})
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "login-3 login-2 login-1" || got[0].Data != nil || got[0].Size != len(png(3)) || !got[0].At.Equal(t0.Add(3*time.Minute)) ||
		got[0].Note != "step 3 (click #login): failure 3" || strings.Join(got[0].Components, ",") != "web,sso_login" || got[0].ContentType != "image/png" {
		t.Errorf("login artifacts = %s %+v", ids(got), got)
	}
	// By component (a whole id: "sso" is not "sso_login", "_" is no wildcard) and time.
	for _, c := range []struct {
		f    upstate.ArtifactFilter
		want string
	}{
		{upstate.ArtifactFilter{Components: []string{"sso_login"}}, "login-3 login-2 login-1"},
		{upstate.ArtifactFilter{Components: []string{"sso"}}, ""},
		{upstate.ArtifactFilter{Components: []string{"ssoXlogin"}}, ""},
		{upstate.ArtifactFilter{Components: []string{"api", "nothing"}}, "home-0"},
		{upstate.ArtifactFilter{Since: t0.Add(2 * time.Minute), Until: t0.Add(3 * time.Minute)}, "login-2"},
		{upstate.ArtifactFilter{Limit: 1}, "login-3"},
	} {
		got, err := s.ListArtifacts(ctx(t), c.f)
		if err != nil || ids(got) != c.want {
			t.Errorf("ListArtifacts(%+v) = %q, %v; want %q", c.f, ids(got), err, c.want)
		}
	}
	one, err := s.GetArtifact(ctx(t), "login-2")
	if err != nil || string(one.Data) != string(png(2)) || one.Size != len(png(2)) || one.CheckID != "login" {
		t.Errorf("GetArtifact = %+v, %v", one, err)
	}
	if _, err := s.GetArtifact(ctx(t), "login-0"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("a dropped artifact: %v", err)
	}
	n, err := s.PruneArtifacts(ctx(t), t0.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("pruned %d, %v; want login-1 and home-0", n, err)
	}
	if got, _ := s.ListArtifacts(ctx(t), upstate.ArtifactFilter{}); ids(got) != "login-3 login-2" {
		t.Errorf("after pruning: %s", ids(got))
	}
}

// testManageUsers: changing, signing out and removing users, and never
// leaving no owner.
func testManageUsers(t *testing.T, s store.Store) {
	for _, u := range []upstate.User{user("own", "own@school.example", upstate.RoleOwner), user("res", "res@school.example", upstate.RoleResponder)} {
		if err := s.CreateUser(ctx(t), u); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"own", "res", "res"} {
		if err := s.CreateSession(ctx(t), upstate.Session{TokenHash: fmt.Sprintf("s%d", i), UserID: id, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateToken(ctx(t), upstate.Token{ID: fmt.Sprintf("t%d", i), Name: "ci", UserID: id, Scopes: []upstate.Scope{upstate.ScopeRead}, Hash: fmt.Sprintf("th%d", i), CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}

	// The last owner can be neither demoted nor removed.
	own, _ := s.GetUser(ctx(t), "own")
	demoted := own
	demoted.Role = upstate.RoleViewer
	if err := s.UpdateUser(ctx(t), demoted); upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(err.Error(), "last owner") {
		t.Errorf("demote the last owner: err = %v, want ECONFLICT naming the last owner", err)
	}
	if err := s.DeleteUser(ctx(t), "own"); upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(err.Error(), "last owner") {
		t.Errorf("remove the last owner: err = %v, want ECONFLICT naming the last owner", err)
	}
	if got, _ := s.GetUser(ctx(t), "own"); got.Role != upstate.RoleOwner {
		t.Errorf("after refusals, owner's role = %q", got.Role)
	}
	if _, err := s.GetSession(ctx(t), "s0", t0); err != nil {
		t.Errorf("a refused removal ended the owner's session: %v", err)
	}

	// Name, role and password change; id, email and creation stay.
	res, _ := s.GetUser(ctx(t), "res")
	res.Role, res.Name, res.PasswordHash, res.Email = upstate.RoleOwner, "Res Two", "$argon2id$new", "other@school.example"
	if err := s.UpdateUser(ctx(t), res); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetUser(ctx(t), "res")
	if got.Role != upstate.RoleOwner || got.Name != "Res Two" || got.PasswordHash != "$argon2id$new" || got.Email != "res@school.example" || !got.CreatedAt.Equal(t0) {
		t.Errorf("updated user = %+v", got)
	}
	// With two owners, one may step down.
	if err := s.UpdateUser(ctx(t), demoted); err != nil {
		t.Errorf("demote one of two owners: %v", err)
	}
	if err := s.UpdateUser(ctx(t), user("nope", "nope@school.example", upstate.RoleViewer)); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("update a missing user: err = %v, want ENOTFOUND", err)
	}

	// Signing out everywhere ends every session and revokes every token.
	sessions, tokens, err := s.SignOutUser(ctx(t), "res")
	if err != nil || sessions != 2 || tokens != 2 {
		t.Errorf("sign out: %d sessions, %d tokens, %v; want 2, 2", sessions, tokens, err)
	}
	for _, h := range []string{"s1", "s2"} {
		if _, err := s.GetSession(ctx(t), h, t0); upstate.ErrorCode(err) != upstate.ENOTFOUND {
			t.Errorf("session %s after sign out: %v", h, err)
		}
		if _, err := s.GetTokenByHash(ctx(t), "t"+h, t0); upstate.ErrorCode(err) != upstate.ENOTFOUND {
			t.Errorf("token %s after sign out: %v", h, err)
		}
	}
	if _, err := s.GetSession(ctx(t), "s0", t0); err != nil {
		t.Errorf("signing one user out ended another's session: %v", err)
	}
	if _, _, err := s.SignOutUser(ctx(t), "nope"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("sign out a missing user: err = %v, want ENOTFOUND", err)
	}

	// Removing a user ends their sessions and tokens at once.
	if err := s.DeleteUser(ctx(t), "own"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(ctx(t), "own"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("removed user: %v", err)
	}
	if _, err := s.GetSession(ctx(t), "s0", t0); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("removed user's session: %v", err)
	}
	if _, err := s.GetTokenByHash(ctx(t), "th0", t0); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("removed user's token: %v", err)
	}
	if err := s.DeleteUser(ctx(t), "own"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("remove a missing user: err = %v, want ENOTFOUND", err)
	}
	if all, _ := s.ListUsers(ctx(t)); len(all) != 1 || all[0].ID != "res" {
		t.Errorf("users left = %+v", all)
	}
}

func testConsoleItems(t *testing.T, s store.Store) {
	if got, err := s.ListConsoleItems(ctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	items := []upstate.ConsoleItem{
		{Kind: upstate.ConsoleCheck, ID: "web", Keys: []byte(`{"id":"web","kind":"http"}`), CreatedAt: t0, UpdatedAt: t0},
		{Kind: upstate.ConsoleComponent, ID: "web", Keys: []byte(`{"id":"web"}`), CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Minute)},
		{Kind: upstate.ConsoleCheck, ID: "api", Keys: []byte(`{"id":"api","kind":"tcp"}`), CreatedAt: t0.Add(2 * time.Minute), UpdatedAt: t0.Add(2 * time.Minute)},
	}
	for _, it := range items {
		if err := s.SaveConsoleItem(ctx(t), it); err != nil {
			t.Fatal(err)
		}
	}
	// Replacing one keeps its place and when it was made.
	edited := items[0]
	edited.Keys, edited.CreatedAt, edited.UpdatedAt = []byte(`{"id":"web","kind":"http","paused":true}`), t0.Add(time.Hour), t0.Add(time.Hour)
	if err := s.SaveConsoleItem(ctx(t), edited); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListConsoleItems(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range got {
		ids = append(ids, string(it.Kind)+"/"+it.ID)
	}
	if want := "check/web component/web check/api"; strings.Join(ids, " ") != want {
		t.Errorf("items = %v, want %s (the order they were made in)", ids, want)
	}
	if g := got[0]; string(g.Keys) != string(edited.Keys) || !g.CreatedAt.Equal(t0) || !g.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("edited = %s created %v updated %v", g.Keys, g.CreatedAt, g.UpdatedAt)
	}
	if err := s.DeleteConsoleItem(ctx(t), upstate.ConsoleCheck, "web"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConsoleItem(ctx(t), upstate.ConsoleCheck, "web"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("deleting it again: %v, want ENOTFOUND", err)
	}
	if got, _ := s.ListConsoleItems(ctx(t)); len(got) != 2 || got[0].Kind != upstate.ConsoleComponent {
		t.Errorf("after delete: %v", got)
	}
}

// An imported incident is written whole and, imported again, replaced:
// its timeline, status history and postmortem are what the last import
// said, never twice; components' current statuses are not touched.
func testImportIncidents(t *testing.T, s store.Store) {
	if err := s.SyncComponents(ctx(t), []upstate.Component{{ID: "api", Name: "API"}}, t0); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(time.Hour)
	imported := func(updates ...string) store.Imported {
		in := incident("imported0001", t0, upstate.Resolved)
		in.ResolvedAt = &end
		for i, body := range updates {
			in.Updates = append(in.Updates, upstate.TimelineEntry{ID: fmt.Sprintf("imported0001-%d", i), IncidentID: in.ID, At: t0.Add(time.Duration(i) * time.Minute),
				Status: upstate.Identified, Body: body, Public: true, Actor: "import"})
		}
		return store.Imported{Incident: in,
			Statuses:   []upstate.StatusChange{{ComponentID: "api", At: t0, Status: upstate.MajorOutage, IncidentID: in.ID}, {ComponentID: "api", At: end, Status: upstate.Operational, IncidentID: in.ID}},
			Postmortem: &upstate.PostmortemDoc{IncidentID: in.ID, RootCause: "A lock.", Fix: "A timeout.", Status: upstate.PostmortemPublished, Author: "import", UpdatedAt: end, PublishedAt: &end}}
	}
	n, err := s.ImportIncidents(ctx(t), []store.Imported{imported("first words", "second words")})
	if err != nil || n != 1 {
		t.Fatalf("first import: %d new, %v", n, err)
	}
	n, err = s.ImportIncidents(ctx(t), []store.Imported{imported("corrected words")})
	if err != nil || n != 0 {
		t.Fatalf("second import: %d new, %v", n, err)
	}
	got, err := s.GetIncident(ctx(t), "imported0001")
	if err != nil || len(got.Updates) != 1 || got.Updates[0].Body != "corrected words" {
		t.Fatalf("after a second import: %+v, %v", got, err)
	}
	changes, err := s.ListStatusChanges(ctx(t), t0.Add(-time.Hour), end.Add(time.Hour))
	if err != nil || len(changes) != 2 {
		t.Errorf("status history after two imports: %+v, %v", changes, err)
	}
	if pm, err := s.GetPostmortem(ctx(t), "imported0001"); err != nil || pm.RootCause != "A lock." {
		t.Errorf("postmortem: %+v, %v", pm, err)
	}
	comps, _ := s.ListComponents(ctx(t))
	if len(comps) != 1 || comps[0].Status != upstate.Operational {
		t.Errorf("an import set a component's current status: %+v", comps)
	}
}
