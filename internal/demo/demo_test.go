package demo

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/memnet"
)

// sleepDriver moves bubble time: inside testing/synctest, time.Sleep
// returns as soon as every goroutine is idle, so the replay is
// deterministic and takes seconds. Quiet stretches are shortened to
// maxJump: the checks still run through them, a few times.
type sleepDriver struct{ maxJump time.Duration }

func (d sleepDriver) Wait(ctx context.Context, dur time.Duration) error {
	return clock.Sleep(ctx, clock.Real{}, dur)
}

func (d sleepDriver) Jump(ctx context.Context, dur time.Duration) error {
	return clock.Sleep(ctx, clock.Real{}, min(dur, d.maxJump))
}

// TestReplay plays the whole bad month against the real app on an
// in-memory network and checks that each outage became the incident a
// person would expect, with sensible words, and that all of them resolved.
func TestReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := memnet.New()
		upLn, worldLn, dbLn := mem.Listen(), mem.Listen(), mem.Listen()
		world := NewWorld(clock.Real{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		worldDone := make(chan struct{})
		go func() {
			defer close(worldDone)
			world.Serve(ctx, worldLn, dbLn)
		}()
		cfg, err := config.Parse("demo.yaml", []byte(Config(upLn.Addr().String(), worldLn.Addr().String(), dbLn.Addr().String())), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		cfg.Server.DataDir = t.TempDir()
		var n atomic.Int64
		a, err := app.New(ctx, app.Options{Config: cfg, Listener: upLn, Dial: mem.Dial,
			NewID: func() string { return fmt.Sprintf("id%010d", n.Add(1)) }})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		// The nightly job pings over the network, as the demo's does; no
		// connection is kept, so none outlives the bubble.
		ping := HTTPPinger(&http.Client{Transport: &http.Transport{DialContext: mem.Dial, DisableKeepAlives: true}}, upLn.Addr().String())
		var told []toldChange
		tell := func(at time.Time, say string) { told = append(told, toldChange{at, say}) }
		if err := play(ctx, world, sleepDriver{maxJump: 2 * time.Minute}, ping, tell); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute) // let the last recovery window pass
		synctest.Wait()

		snap := a.Snapshot()
		// Whole timelines, internal entries too, while the store is open.
		full := map[string]*upstate.Incident{}
		for _, in := range snap.Recent {
			if full[in.ID], err = a.Incident(ctx, in.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		cancel()
		<-worldDone

		var got []string
		for _, in := range slices.Backward(snap.Recent) {
			got = append(got, fmt.Sprintf("%s [%s] %s %s", in.Name, strings.Join(in.Components, ","), in.Impact, in.Status))
		}
		want := []string{
			"Partial outage of API [api,database] major resolved",
			"Partial outage of File conversion [conversion] major resolved",
			"Major outage of Cloud drive sync [drive] critical resolved",
			"Major outage of Classroom roster sync [classroom] critical resolved",
			"Major outage of Cloud drive sync [drive] critical resolved",
			"Major outage of Classroom roster sync [classroom] critical resolved",
		}
		if !slices.Equal(got, want) {
			t.Errorf("incidents:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		for _, c := range snap.Components {
			if c.Status != upstate.Operational {
				t.Errorf("component %s is %s after the replay", c.ID, c.Status)
			}
		}
		checkNarration(t, told, snap.Recent)
		if len(snap.Recent) == 0 {
			return
		}
		lock := snap.Recent[len(snap.Recent)-1]
		var words []string
		for _, u := range lock.Updates {
			words = append(words, string(u.Status)+": "+u.Body)
		}
		text := strings.Join(words, "\n")
		for _, w := range []string{
			"API: degraded performance. API health (api-health) is slow since",
			"latest: HTTP 200 after 2.50 s: slower than 2.00 s",
			// Slow, then a quarter failing, is one worsening: the burst
			// after the first fast answer measures the failures (before
			// bursts, quick re-checks confirmed "up" in between and the
			// page said operational while a quarter of requests failed:
			// "API is affected again (partial outage)").
			"API worsened from degraded performance to partial outage",
			"3 of 10 requests answered HTTP 500",
			"Database is affected too",
			"API depends on Database",
			"failing part of the time",
			"All affected components are operational again",
			"resolved: Every check has passed",
		} {
			if !strings.Contains(text, w) {
				t.Errorf("lock incident timeline lacks %q:\n%s", w, text)
			}
		}
		// The share the burst measured is the incident's scope.
		if f := lock.Reach.FailingPercent; f == nil || *f != 30 {
			t.Errorf("lock incident's scope = %v, want the measured 30%% failing", lock.Reach.Describe())
		}
		// The drive outages are linked to the provider's own incidents,
		// whose updates are on our timeline.
		drive := snap.Recent[len(snap.Recent)-3]
		if drive.Upstream == nil || drive.Upstream.Provider != "Google Workspace" || !strings.HasSuffix(drive.Upstream.URL, "/appsstatus/dashboard/incidents/drive1") {
			t.Errorf("drive incident upstream = %+v", drive.Upstream)
		}
		var mirrored bool
		for _, u := range drive.Updates {
			mirrored = mirrored || strings.Contains(u.Body, "**Google Workspace**") && strings.Contains(u.Body, "Users may be unable to sync files.")
		}
		if !mirrored {
			t.Errorf("the provider's update is not on the drive incident's timeline")
		}
		// The quota's forecast opens the incident before it runs out: in
		// the team's note (the public reads plain words).
		quota := snap.Recent[len(snap.Recent)-4]
		var forecast bool
		for _, u := range full[quota.ID].Updates {
			forecast = forecast || !u.Public && strings.Contains(u.Body, "classroom API quota") && strings.Contains(u.Body, "runs out in about")
		}
		if !forecast {
			t.Errorf("quota incident %q has no forecast in its internal entries", quota.Name)
		}
		conv := snap.Recent[len(snap.Recent)-2]
		// It opens in plain words for the public, the failing check named
		// only in the team's internal note.
		if !conv.Updates[0].Public || !strings.Contains(conv.Updates[0].Body, "File conversion") || strings.Contains(conv.Updates[0].Body, "Convert") {
			t.Errorf("conversion incident opens with %q (public %v)", conv.Updates[0].Body, conv.Updates[0].Public)
		}
		if conv.Updates[1].Public || !strings.Contains(conv.Updates[1].Body, "Convert") {
			t.Errorf("the conversion incident's evidence is %q (public %v)", conv.Updates[1].Body, conv.Updates[1].Public)
		}
	})
}

type toldChange struct {
	at  time.Time
	say string
}

// checkNarration holds the narration to what was stored: each incident
// began (its first failing result) at or after the change that caused it
// was told, and was detected soon after, so the terminal's times show
// how quickly Upstate noticed. Before the narration read the clock, it
// printed the scenario's times, minutes (here, weeks) behind the clock.
func checkNarration(t *testing.T, told []toldChange, recent []*upstate.Incident) {
	t.Helper()
	// The quota's incidents open on the forecast, while the quota is
	// burning and before it runs out (the next change narrated), which
	// takes the rate a few minutes to show.
	causes := []struct {
		say    string
		within time.Duration
	}{
		{"Database lock contention begins", 3 * time.Minute},
		{"Wednesday: the conversion provider starts failing", 3 * time.Minute},
		{"Friday: the cloud drive provider goes down", 3 * time.Minute},
		{"Tuesday: a new roster import burns the classroom API quota", 20 * time.Minute},
		{"Thursday: the cloud drive provider goes down again", 3 * time.Minute},
		{"The roster import runs again", 20 * time.Minute},
	}
	incidents := slices.Clone(recent)
	slices.Reverse(incidents)
	if len(incidents) != len(causes) {
		t.Errorf("%d incidents for %d narrated causes", len(incidents), len(causes))
		return
	}
	for i, in := range incidents {
		var cause *toldChange
		for j := range told {
			if !told[j].at.After(in.DetectedAt) {
				cause = &told[j]
			}
		}
		switch {
		case cause == nil:
			t.Errorf("incident %q detected at %s, before anything was narrated", in.Name, in.DetectedAt)
		case !strings.HasPrefix(cause.say, causes[i].say):
			t.Errorf("incident %q detected at %s: the last change narrated before it is %q at %s, want %q", in.Name, in.DetectedAt, cause.say, cause.at, causes[i].say)
		case in.StartedAt.Before(cause.at):
			t.Errorf("incident %q started at %s, before its cause was narrated at %s", in.Name, in.StartedAt, cause.at)
		case in.DetectedAt.Sub(cause.at) > causes[i].within:
			t.Errorf("incident %q detected %s after its cause was narrated (%s), want within %s", in.Name, in.DetectedAt.Sub(cause.at), cause.at, causes[i].within)
		default:
			t.Logf("%s: narrated %s, first failure +%s, detected +%s", causes[i].say, cause.at.Format(time.TimeOnly), in.StartedAt.Sub(cause.at), in.DetectedAt.Sub(cause.at))
		}
	}
}

// The demo's own configuration draws no warning: a newcomer's first run
// should not open on one about the demo itself.
func TestDemoConfigHasNoWarnings(t *testing.T) {
	cfg, err := config.Parse("demo.yaml", []byte(Config("127.0.0.1:8080", "127.0.0.1:1", "127.0.0.1:2")), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) > 0 {
		t.Errorf("the demo's configuration warns:\n%s", strings.Join(cfg.Warnings, "\n"))
	}
}
