package incident

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// warnStore is a WarningStore in memory that keeps what it was told to
// send; refuse, when set, refuses every write.
type warnStore struct {
	rows   map[string]upstate.Warning
	sent   []upstate.Message
	refuse error
}

func (s *warnStore) SaveWarning(_ context.Context, w upstate.Warning, owed ...upstate.Message) error {
	if s.refuse != nil {
		return s.refuse
	}
	s.rows[w.CheckID+"/"+w.Key] = w
	s.sent = append(s.sent, owed...)
	return nil
}

func (s *warnStore) DeleteWarning(_ context.Context, checkID, key string, owed ...upstate.Message) error {
	if s.refuse != nil {
		return s.refuse
	}
	delete(s.rows, checkID+"/"+key)
	s.sent = append(s.sent, owed...)
	return nil
}

func (s *warnStore) ListWarnings(context.Context) ([]upstate.Warning, error) {
	var out []upstate.Warning
	for _, w := range s.rows {
		out = append(out, w)
	}
	return out, nil
}

func TestWarnings(t *testing.T) {
	t0 := time.Date(2026, 8, 20, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	st := &warnStore{rows: map[string]upstate.Warning{}}
	comps := []upstate.Component{{ID: "api", Name: "API"}}
	checks := []upstate.CheckSpec{{ID: "cert", Name: "API certificate", Components: []string{"api"}}, {ID: "other", Components: []string{"api"}}}
	route := func(ev upstate.Event) upstate.Owed {
		return upstate.Owed{Messages: []upstate.Message{{ID: "ops:" + ev.ID, Channel: "ops", Stream: ev.Stream(), Event: ev}}}
	}
	woke := 0
	open := func() *Warnings {
		w, err := NewWarnings(context.Background(), WarningOptions{Store: st, Clock: clk, Components: comps, Checks: checks, Route: route, Changed: func() { woke++ }})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	w := open()
	ctx := context.Background()
	due := t0.Add(10 * 24 * time.Hour)
	result := func(at time.Time, o upstate.Outcome, ws ...upstate.Warning) upstate.Result {
		return upstate.Result{CheckID: "cert", At: at, Outcome: o, Warnings: ws}
	}
	warn := func(stage int, what string) upstate.Warning {
		return upstate.Warning{Key: "certificate", Stage: stage, What: what, Due: due}
	}
	types := func() []string {
		var out []string
		for _, m := range st.sent {
			out = append(out, string(m.Event.Type))
		}
		return out
	}

	// Told once, whatever the number of results carrying it.
	for i := range 3 {
		if err := w.Observe(ctx, result(t0.Add(time.Duration(i)*time.Minute), upstate.OutcomeOK, warn(14, "expires in 10 days"))); err != nil {
			t.Fatal(err)
		}
	}
	if got := types(); len(got) != 1 || got[0] != "warning.raised" || woke != 1 {
		t.Fatalf("sent %v (woke %d), want one warning.raised", got, woke)
	}
	ev := st.sent[0].Event
	if ev.Warning.CheckName != "API certificate" || ev.Names["api"] != "API" || ev.Stream() != "warning:cert:certificate" || ev.Public() ||
		!strings.Contains(ev.Entries[0].Body, "API certificate warns: expires in 10 days. The public status is unchanged until it fails, on Aug 30, 2026 09:00 UTC.") {
		t.Errorf("event = %+v", ev)
	}
	if l := w.List(); len(l) != 1 || !l[0].Since.Equal(t0) || !l[0].Seen.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("list = %+v", l)
	}

	// A failure clears nothing; a closer stage is told again, keeping
	// when it began.
	w.Observe(ctx, result(t0.Add(time.Hour), upstate.OutcomeFail))
	w.Observe(ctx, result(t0.Add(2*time.Hour), upstate.OutcomeFail, warn(7, "expires in 5 days")))
	if got := types(); len(got) != 2 || st.sent[1].Event.Warning.Stage != 7 || !st.sent[1].Event.Warning.Since.Equal(t0) || st.sent[1].ID == st.sent[0].ID {
		t.Fatalf("sent %v: %+v", got, st.sent)
	}

	// A restart tells nothing again.
	w = open()
	w.Observe(ctx, result(t0.Add(3*time.Hour), upstate.OutcomeOK, warn(7, "expires in 5 days")))
	if len(st.sent) != 2 {
		t.Errorf("after a restart: sent %v", types())
	}

	// A store that refuses: nothing is told or forgotten, and the next
	// result tries again.
	st.refuse = errors.New("disk full")
	if err := w.Observe(ctx, result(t0.Add(4*time.Hour), upstate.OutcomeSlow)); err == nil || len(w.List()) != 1 {
		t.Errorf("refused: %v, list %+v", err, w.List())
	}
	st.refuse = nil

	// A good result without it: over.
	w.Observe(ctx, result(t0.Add(5*time.Hour), upstate.OutcomeSlow))
	if got := types(); len(got) != 3 || got[2] != "warning.cleared" || len(w.List()) != 0 || len(st.rows) != 0 ||
		!strings.Contains(st.sent[2].Event.Entries[0].Body, "Over: API certificate no longer warns (it said: expires in 5 days).") {
		t.Errorf("sent %v, list %+v, rows %v", got, w.List(), st.rows)
	}

	// A check removed by a reload takes its warnings with it, silently;
	// results of checks unknown are ignored.
	w.Observe(ctx, result(t0.Add(6*time.Hour), upstate.OutcomeOK, warn(14, "expires in 10 days")))
	w.Configure(ctx, comps, checks[1:])
	w.Observe(ctx, result(t0.Add(7*time.Hour), upstate.OutcomeOK, warn(14, "expires in 10 days")))
	if got := types(); len(got) != 4 || len(w.List()) != 0 || len(st.rows) != 0 {
		t.Errorf("after removing the check: sent %v, list %+v, rows %v", got, w.List(), st.rows)
	}
}
