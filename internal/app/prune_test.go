package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/store"
)

// TestPruneOnSchedule runs the pruner as Start does: a minute after
// start and then hourly, it drops delivered notifications older than
// retention.raw and pushed numbers older than retention.hourly, and keeps
// the rest.
func TestPruneOnSchedule(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer hook.Close()
	yaml := "page: {name: Acme Status}\ncomponents:\n  - {id: api, name: API}\nretention: {raw: 1d, hourly: 2d}\n" +
		"notifications:\n  channels:\n    - {id: hook, type: webhook, url: '" + hook.URL + "', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n"
	t0 := time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	a := newApp(t, yaml, Options{Clock: clk})
	ctx := context.Background()
	declare := func(name string) {
		t.Helper()
		if _, err := a.engine.Declare(ctx, incident.Change{Name: name, Set: map[string]upstate.Status{"api": upstate.MajorOutage}, Actor: "Ann"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.dispatcher.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	declare("Old")
	points := []upstate.Point{{At: t0, Value: 1}, {At: t0.Add(48 * time.Hour), Value: 2}}
	if err := a.store.AddPoints(ctx, "quota_used", points); err != nil {
		t.Fatal(err)
	}
	clk.Advance(72 * time.Hour)
	declare("New")

	pruned := make(chan time.Time)
	loopCtx, stop := context.WithCancel(ctx)
	defer stop()
	// Wait for the loop's timer before moving the clock, or the move
	// would come before the timer and never fire it.
	timerSet := func(n int) {
		for clk.Pending() < n {
			runtime.Gosched()
		}
	}
	before := clk.Pending()
	go a.every(loopCtx, time.Minute, time.Hour, func(ctx context.Context) { a.prune(ctx); pruned <- clk.Now() })
	timerSet(before + 1)
	clk.Advance(time.Minute)
	if at := <-pruned; !at.Equal(t0.Add(72*time.Hour + time.Minute)) {
		t.Errorf("first prune at %s, want a minute after start", at)
	}
	msgs, _ := a.store.ListMessages(ctx, store.MessageFilter{})
	if len(msgs) != 1 || msgs[0].Event.Incident.Name != "New" {
		t.Errorf("notifications kept: %d, want only the one from today", len(msgs))
	}
	kept, _ := a.store.ListPoints(ctx, "quota_used", t0.Add(-time.Hour), clk.Now())
	if len(kept) != 1 || kept[0].Value != 2 {
		t.Errorf("points kept: %+v, want the one from a day ago", kept)
	}
	timerSet(before + 1)
	clk.Advance(59 * time.Minute)
	select {
	case at := <-pruned:
		t.Fatalf("pruned again at %s, before the hour was up", at)
	default:
	}
	clk.Advance(time.Minute)
	if at := <-pruned; !at.Equal(t0.Add(73*time.Hour + time.Minute)) {
		t.Errorf("second prune at %s, want an hour after the first", at)
	}
}
