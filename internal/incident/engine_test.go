package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/store"
)

// memStore is a hand-written fake of the engine's store.
type memStore struct {
	mu        sync.Mutex
	incidents map[string]*upstate.Incident
	order     []string
	statuses  []upstate.StatusChange
	maint     map[string]upstate.Maintenance
	holds     map[string]upstate.Hold
	messages  []upstate.Message
	// transitions are those applied, each with the change it came in.
	transitions []upstate.Transition
	applied     []store.Change
	audit       []upstate.AuditEntry // written with deletes
	fail        error
	// lateFail, when set, is returned once after the change was applied:
	// a write that committed after its writer gave up on it.
	lateFail error
}

func newMemStore() *memStore { return &memStore{incidents: map[string]*upstate.Incident{}} }

func (m *memStore) Apply(_ context.Context, c store.Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.applied = append(m.applied, c)
	for _, t := range c.Transitions {
		if !slices.ContainsFunc(m.transitions, func(x upstate.Transition) bool {
			return x.To.CheckID == t.To.CheckID && x.To.At.Equal(t.To.At) && x.To.State == t.To.State
		}) {
			m.transitions = append(m.transitions, t) // kept once, as the real store does
		}
	}
	for _, in := range c.Incidents {
		cp := *in
		cp.Components = slices.Clone(in.Components)
		if old, ok := m.incidents[in.ID]; ok {
			cp.Updates = old.Updates
		} else {
			m.order = append(m.order, in.ID)
		}
		cp.Updates = slices.Clone(cp.Updates)
		m.incidents[in.ID] = &cp
	}
	for _, e := range c.Entries {
		in := m.incidents[e.IncidentID]
		if slices.ContainsFunc(in.Updates, func(x upstate.TimelineEntry) bool { return x.ID == e.ID }) {
			continue // kept already, as the real store does
		}
		in.Updates = append(in.Updates, e)
		slices.SortStableFunc(in.Updates, func(a, b upstate.TimelineEntry) int { return a.At.Compare(b.At) })
	}
	m.statuses = append(m.statuses, c.Statuses...)
	m.messages = append(m.messages, c.Messages...)
	for _, h := range c.Holds {
		if m.holds == nil {
			m.holds = map[string]upstate.Hold{}
		}
		m.holds[h.ComponentID] = h.Hold
	}
	if err := m.lateFail; err != nil {
		m.lateFail = nil
		return err
	}
	return nil
}

func (m *memStore) GetIncident(_ context.Context, id string) (*upstate.Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.incidents[id]
	if !ok {
		return nil, upstate.Errorf(upstate.ENOTFOUND, "no incident %q", id)
	}
	cp := *in
	cp.Updates = slices.Clone(in.Updates)
	return &cp, nil
}

func (m *memStore) ListIncidents(_ context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*upstate.Incident
	for i := len(m.order) - 1; i >= 0; i-- {
		in := m.incidents[m.order[i]]
		if f.OpenOnly && !in.Open() {
			continue
		}
		cp := *in
		out = append(out, &cp)
	}
	return out, nil
}

func (m *memStore) SaveMaintenance(_ context.Context, x upstate.Maintenance, owed ...upstate.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages = append(m.messages, owed...)
	if m.maint == nil {
		m.maint = map[string]upstate.Maintenance{}
	}
	m.maint[x.ID] = x
	return nil
}

func (m *memStore) DeleteMaintenance(_ context.Context, id string, owed ...upstate.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages = append(m.messages, owed...)
	if _, ok := m.maint[id]; !ok {
		return upstate.Errorf(upstate.ENOTFOUND, "no maintenance %q", id)
	}
	delete(m.maint, id)
	return nil
}

func (m *memStore) ListMaintenances(_ context.Context, since time.Time) ([]upstate.Maintenance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []upstate.Maintenance
	for _, x := range m.maint {
		if !x.ScheduledUntil.Before(since) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b upstate.Maintenance) int { return a.ScheduledFor.Compare(b.ScheduledFor) })
	return out, nil
}

func (m *memStore) ListComponents(context.Context) ([]upstate.ComponentState, error) { return nil, nil }

func (m *memStore) EnqueueMessages(_ context.Context, ms []upstate.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages = append(m.messages, ms...)
	return nil
}
func (m *memStore) ListConditions(context.Context) (map[string]upstate.Condition, error) {
	return nil, nil
}
func (m *memStore) ConditionsSince(context.Context, int64) (map[string]upstate.Condition, int64, error) {
	return map[string]upstate.Condition{}, 0, nil
}
func (m *memStore) ListTransitions(_ context.Context, checkID string, from, to time.Time) ([]upstate.Transition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []upstate.Transition
	for _, t := range m.transitions {
		if t.To.CheckID == checkID && !t.To.At.Before(from) && t.To.At.Before(to) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (m *memStore) all() []*upstate.Incident {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*upstate.Incident
	for _, id := range m.order {
		out = append(out, m.incidents[id])
	}
	return out
}

var t0 = time.Date(2026, 8, 17, 14, 55, 0, 0, time.UTC)

type fixture struct {
	t      *testing.T
	clock  *clock.Fake
	store  *memStore
	engine *Engine
	n      int
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, clock: clock.NewFake(t0), store: newMemStore()}
	comps := []upstate.Component{
		{ID: "web", Name: "Web app", DependsOn: []string{"api"}},
		{ID: "api", Name: "API", DependsOn: []string{"database"}},
		{ID: "database", Name: "Database"},
		{ID: "drive", Name: "Cloud drive"},
		{ID: "worker", Name: "Worker", DependsOn: []string{"database"}},
	}
	spec := func(id string, comps []string, impact map[upstate.ImpactKey]upstate.Status) upstate.CheckSpec {
		return upstate.CheckSpec{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Kind: "http", Interval: time.Minute, Components: comps, Impact: impact,
			Decide: &upstate.DecideSpec{RecoveryWindow: 2 * time.Minute}}
	}
	checks := []upstate.CheckSpec{
		spec("web-home", []string{"web"}, nil),
		spec("api-health", []string{"api"}, nil),
		spec("db-port", []string{"database"}, nil),
		spec("drive-api", []string{"drive"}, nil),
		spec("worker-queue", []string{"worker"}, nil),
		spec("convert", []string{"drive"}, map[upstate.ImpactKey]upstate.Status{upstate.ImpactDown: upstate.PartialOutage}),
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	e, err := New(context.Background(), Options{Store: f.store, Clock: f.clock, Components: comps, Checks: checks, Location: la,
		NewID: func() string { f.n++; return fmt.Sprintf("id%d", f.n) }})
	if err != nil {
		t.Fatal(err)
	}
	f.engine = e
	return f
}

func (f *fixture) transition(check string, from, to upstate.State, partial bool) {
	f.t.Helper()
	now := f.clock.Now()
	tr := upstate.Transition{
		From: upstate.Condition{CheckID: check, State: from},
		To:   upstate.Condition{CheckID: check, State: to, Partial: partial, Since: now.Add(-20 * time.Second), At: now, Evidence: "HTTP 500 after 35 ms: status 500 Internal Server Error", Failures: 3, Samples: 10},
	}
	if to == upstate.StateUp {
		tr.To.Evidence = "answered normally HTTP 200 after 20 ms"
	}
	if err := f.engine.Handle(context.Background(), tr); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) tick() {
	f.t.Helper()
	if _, err := f.engine.Tick(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func TestOpenWorsenRecoverResolve(t *testing.T) {
	f := newFixture(t)
	f.transition("api-health", upstate.StateUp, upstate.StateDegraded, false)
	ins := f.store.all()
	if len(ins) != 1 {
		t.Fatalf("%d incidents, want 1", len(ins))
	}
	in := ins[0]
	if in.Name != "Degraded performance of API" || in.Impact != upstate.ImpactMinor || in.Status != upstate.Investigating || !in.Auto {
		t.Errorf("incident = %+v", in)
	}
	if !in.StartedAt.Equal(t0.Add(-20*time.Second)) || !in.DetectedAt.Equal(t0) {
		t.Errorf("started %v detected %v", in.StartedAt, in.DetectedAt)
	}
	// The public reads plain words; the evidence is an internal note.
	if got, want := in.Updates[0], "The API is slow."; got.Body != want || !got.Public {
		t.Errorf("first entry:\n got %q (public %v)\nwant %q, public", got.Body, got.Public, want)
	}
	want := "API: degraded performance. Api-health (api-health) is slow since Aug 17 07:54:40 PDT; latest: HTTP 500 after 35 ms: status 500 Internal Server Error."
	if got := in.Updates[1]; got.Body != want || got.Public {
		t.Errorf("the evidence:\n got %q (public %v)\nwant %q, internal", got.Body, got.Public, want)
	}
	if a := in.Updates[0].Affected; len(a) != 1 || a[0].OldStatus != upstate.Operational || a[0].NewStatus != upstate.DegradedPerformance {
		t.Errorf("affected = %+v", a)
	}

	f.clock.Advance(5 * time.Minute)
	f.transition("api-health", upstate.StateDegraded, upstate.StateDown, false)
	in = f.store.all()[0]
	if in.Name != "Major outage of API" || in.Impact != upstate.ImpactCritical || len(in.Updates) != 4 ||
		in.Updates[2].Body != "The API is not responding." || !in.Updates[2].Public ||
		!strings.HasPrefix(in.Updates[3].Body, "API worsened from degraded performance to major outage.") || in.Updates[3].Public {
		t.Errorf("after worsening: %s, %s, %+v", in.Name, in.Impact, in.Updates)
	}

	f.clock.Advance(10 * time.Minute)
	f.transition("api-health", upstate.StateDown, upstate.StateUp, false)
	in = f.store.all()[0]
	if in.Status != upstate.Monitoring || in.MonitoringAt == nil || in.Impact != upstate.ImpactCritical {
		t.Errorf("after recovery: %+v", in)
	}
	f.clock.Advance(time.Minute)
	f.tick()
	if f.store.all()[0].Status != upstate.Monitoring {
		t.Error("resolved before the recovery window passed")
	}
	f.clock.Advance(time.Minute)
	f.tick()
	in = f.store.all()[0]
	if in.Status != upstate.Resolved || in.ResolvedAt == nil || !in.ResolvedAt.Equal(t0.Add(17*time.Minute)) {
		t.Fatalf("not resolved: %+v", in)
	}
	last := in.Updates[len(in.Updates)-1].Body
	if last != "Every check has passed for 2 minutes. The problem lasted 15 minutes, from Aug 17 07:54:40 PDT to Aug 17 08:10:00 PDT." {
		t.Errorf("closing entry = %q", last)
	}
	if st := f.engine.Statuses(); st["api"] != upstate.Operational {
		t.Errorf("api status %s", st["api"])
	}
}

func TestRelapseDuringMonitoringReopensInvestigation(t *testing.T) {
	f := newFixture(t)
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false)
	f.clock.Advance(time.Minute)
	f.transition("drive-api", upstate.StateDown, upstate.StateUp, false)
	f.clock.Advance(time.Minute)
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false)
	ins := f.store.all()
	if len(ins) != 1 {
		t.Fatalf("%d incidents: a relapse while monitoring must not open another", len(ins))
	}
	in := ins[0]
	if in.Status != upstate.Investigating || in.MonitoringAt != nil {
		t.Errorf("status %s monitoring_at %v", in.Status, in.MonitoringAt)
	}
	f.clock.Advance(10 * time.Minute)
	f.tick()
	if f.store.all()[0].Status != upstate.Investigating {
		t.Error("a failing incident resolved")
	}
}

func TestDependencyFailuresJoinOneIncident(t *testing.T) {
	f := newFixture(t)
	f.transition("db-port", upstate.StateUp, upstate.StateDown, false)
	f.clock.Advance(10 * time.Second)
	f.transition("api-health", upstate.StateUp, upstate.StateDown, false)
	f.transition("web-home", upstate.StateUp, upstate.StateDegraded, true)
	f.transition("worker-queue", upstate.StateUp, upstate.StateDown, false)
	// An unrelated failure is its own incident.
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false)
	ins := f.store.all()
	if len(ins) != 2 {
		t.Fatalf("%d incidents, want 2 (database family, drive)", len(ins))
	}
	db := ins[0]
	if !slices.Equal(db.Components, []string{"database", "api", "web", "worker"}) {
		t.Errorf("components = %v", db.Components)
	}
	text := ""
	for _, u := range db.Updates {
		text += u.Body + "\n"
	}
	for _, w := range []string{"API is affected too (major outage)", "API depends on Database.", "Web app is affected too (partial outage)", "Web app depends on Database."} {
		if !strings.Contains(text, w) {
			t.Errorf("timeline lacks %q:\n%s", w, text)
		}
	}
	if ins[1].Components[0] != "drive" {
		t.Errorf("second incident on %v", ins[1].Components)
	}
}

func TestSiblingsDoNotJoinWithoutTheirDependencyFailing(t *testing.T) {
	f := newFixture(t)
	f.transition("api-health", upstate.StateUp, upstate.StateDown, false)
	f.transition("worker-queue", upstate.StateUp, upstate.StateDown, false)
	if n := len(f.store.all()); n != 2 {
		t.Errorf("%d incidents: API and Worker share a dependency that is fine, so two problems", n)
	}
}

func TestImpactOverrideAndWorstOfChecks(t *testing.T) {
	f := newFixture(t)
	f.transition("convert", upstate.StateUp, upstate.StateDown, false)
	if st := f.engine.Statuses()["drive"]; st != upstate.PartialOutage {
		t.Errorf("convert down with impact override: drive is %s, want partial_outage", st)
	}
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false)
	if st := f.engine.Statuses()["drive"]; st != upstate.MajorOutage {
		t.Errorf("drive is %s, want the worst of its checks", st)
	}
	f.transition("drive-api", upstate.StateDown, upstate.StateUp, false)
	if st := f.engine.Statuses()["drive"]; st != upstate.PartialOutage {
		t.Errorf("drive is %s after one check recovered, want partial_outage", st)
	}
	if in := f.store.all()[0]; in.Status != upstate.Investigating {
		t.Errorf("incident %s while a check still fails", in.Status)
	}
}

func TestManualIncidentsAreNotResolvedByChecks(t *testing.T) {
	f := newFixture(t)
	manual := &upstate.Incident{ID: "m1", Name: "Sync delays", Status: upstate.Identified, Impact: upstate.ImpactMinor,
		CreatedAt: t0, UpdatedAt: t0, StartedAt: t0, DetectedAt: t0, Components: []string{"drive"}}
	if err := f.store.Apply(context.Background(), store.Change{Incidents: []*upstate.Incident{manual}}); err != nil {
		t.Fatal(err)
	}
	f = &fixture{t: t, clock: f.clock, store: f.store}
	e, err := New(context.Background(), Options{Store: f.store, Clock: f.clock, Components: []upstate.Component{{ID: "drive", Name: "Cloud drive"}},
		Checks: []upstate.CheckSpec{{ID: "drive-api", Components: []string{"drive"}}}, NewID: func() string { f.n++; return fmt.Sprint("x", f.n) }})
	if err != nil {
		t.Fatal(err)
	}
	f.engine = e
	f.transition("drive-api", upstate.StateUp, upstate.StateDown, false)
	if n := len(f.store.all()); n != 1 {
		t.Fatalf("%d incidents: the failure should join the open manual one", n)
	}
	f.transition("drive-api", upstate.StateDown, upstate.StateUp, false)
	f.clock.Advance(time.Hour)
	f.tick()
	in := f.store.all()[0]
	if in.Status != upstate.Identified {
		t.Errorf("manual incident is %s; only people resolve what people declared", in.Status)
	}
	if len(in.Updates) != 4 || !in.Updates[0].Public || in.Updates[1].Public || !in.Updates[2].Public || in.Updates[3].Public {
		t.Errorf("updates (failed and recovered, each in plain words and with its evidence) = %+v", in.Updates)
	}
}

func TestFailedWriteChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.store.fail = fmt.Errorf("disk full")
	err := f.engine.Handle(context.Background(), upstate.Transition{To: upstate.Condition{CheckID: "api-health", State: upstate.StateDown, At: t0}})
	if err == nil {
		t.Fatal("no error")
	}
	if st := f.engine.Statuses()["api"]; st != upstate.Operational {
		t.Errorf("status changed to %s without being stored", st)
	}
	f.store.fail = nil
	// The next decision catches up: the condition was kept.
	f.transition("web-home", upstate.StateUp, upstate.StateUp, false)
	if st := f.engine.Statuses()["api"]; st != upstate.MajorOutage {
		t.Errorf("status %s after the store recovered", st)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second:                            "45 seconds",
		time.Minute:                                 "1 minute",
		37*time.Minute + 20*time.Second:             "37 minutes",
		2*time.Hour + 5*time.Minute:                 "2 hours 5 minutes",
		time.Hour + 59*time.Minute + 50*time.Second: "2 hours",
		72 * time.Hour:                              "3 days",
	} {
		if got := upstate.FormatDuration(d, upstate.DurationWords); got != want {
			t.Errorf("FormatDuration(%v, DurationWords) = %q, want %q", d, got, want)
		}
	}
}

// A change the store refuses is written again as it was, not worked out
// anew: if the first write committed after all (the writer gave up on a
// stalled disk too soon), the second changes nothing, and one failure
// still makes one incident, with one opening entry.
func TestRefusedChangeIsWrittenAgainAsItWas(t *testing.T) {
	f := newFixture(t)
	f.store.lateFail = upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: a write waited 5s")
	tr := upstate.Transition{From: upstate.Condition{CheckID: "api-health", State: upstate.StateUp},
		To: upstate.Condition{CheckID: "api-health", State: upstate.StateDown, At: f.clock.Now(), Since: f.clock.Now(), Evidence: "HTTP 500"}}
	if err := f.engine.Handle(context.Background(), tr); err == nil {
		t.Fatal("the refusal was not reported")
	}
	if st := f.engine.Statuses()["api"]; st != upstate.Operational {
		t.Errorf("api = %s before the change is known to be saved", st)
	}
	f.clock.Advance(5 * time.Second)
	if _, err := f.engine.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := f.store.all()
	if len(all) != 1 || len(all[0].Updates) != 2 { // the plain words and the evidence
		t.Fatalf("incidents after the retry: %d (entries %v); want one, opened once", len(all), all)
	}
	if st := f.engine.Statuses()["api"]; st != upstate.MajorOutage {
		t.Errorf("api = %s after the retry", st)
	}
	// Later changes build on it: a declared incident on another component
	// does not wait behind anything, and no change is lost.
	if _, err := f.engine.Declare(context.Background(), Change{Name: "Drive sync failing", Message: "Sync fails.", Set: map[string]upstate.Status{"drive": upstate.MajorOutage}, Actor: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.store.all()); n != 2 {
		t.Errorf("%d incidents, want 2", n)
	}
}

// A transition is saved in the same write as the change it causes, and on
// its own when it causes none; refused, it is written again with its
// change once the store takes writes, once.
func TestTransitionSavedWithItsChange(t *testing.T) {
	f := newFixture(t)
	f.transition("api-health", upstate.StateUp, upstate.StateDown, false)
	if n := len(f.store.applied); n != 1 {
		t.Fatalf("%d writes for one failure, want 1", n)
	}
	if c := f.store.applied[0]; len(c.Transitions) != 1 || c.Transitions[0].To.CheckID != "api-health" || len(c.Incidents) != 1 || len(c.Statuses) != 1 {
		t.Errorf("the write = %+v, want the transition with the incident it opens", c)
	}
	// Nothing a component can see changes: the transition alone.
	f.clock.Advance(time.Minute)
	f.transition("web-home", upstate.StateUp, upstate.StateUp, false)
	if c := f.store.applied[len(f.store.applied)-1]; len(c.Transitions) != 1 || c.Transitions[0].To.CheckID != "web-home" || len(c.Incidents)+len(c.Statuses)+len(c.Entries)+len(c.Messages) != 0 {
		t.Errorf("the write = %+v, want only the transition", c)
	}
	// A check removed by a reload while its probe ran: its history still.
	f.clock.Advance(time.Minute)
	if err := f.engine.Handle(context.Background(), upstate.Transition{To: upstate.Condition{CheckID: "gone", State: upstate.StateDown, At: f.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.store.transitions); n != 3 || f.store.transitions[2].To.CheckID != "gone" {
		t.Errorf("transitions = %+v", f.store.transitions)
	}
	// Refused, then written once with its incident change.
	f.clock.Advance(time.Minute)
	f.store.lateFail = upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: a write waited 5s")
	tr := upstate.Transition{From: upstate.Condition{CheckID: "drive-api", State: upstate.StateUp},
		To: upstate.Condition{CheckID: "drive-api", State: upstate.StateDown, At: f.clock.Now(), Since: f.clock.Now(), Evidence: "HTTP 500"}}
	if err := f.engine.Handle(context.Background(), tr); err == nil {
		t.Fatal("the refusal was not reported")
	}
	f.store.fail = fmt.Errorf("disk full")
	f.clock.Advance(time.Minute)
	behind := upstate.Transition{From: tr.To, To: upstate.Condition{CheckID: "drive-api", State: upstate.StateDown, At: f.clock.Now(), Since: tr.To.Since, Evidence: "HTTP 502"}}
	if err := f.engine.Handle(context.Background(), behind); err == nil {
		t.Fatal("the refusal was not reported")
	}
	f.store.fail = nil
	f.tick()
	var drive []upstate.Transition
	for _, x := range f.store.transitions {
		if x.To.CheckID == "drive-api" {
			drive = append(drive, x)
		}
	}
	if len(drive) != 2 || !drive[0].To.At.Equal(tr.To.At) {
		t.Errorf("drive-api transitions = %+v, want the refused one once, then the one behind it", drive)
	}
	last := f.store.applied[len(f.store.applied)-2]
	if len(last.Transitions) != 1 || last.Transitions[0].To.CheckID != "drive-api" || len(last.Incidents) != 1 {
		t.Errorf("the refused change written again = %+v, want the transition with its incident", last)
	}
}
