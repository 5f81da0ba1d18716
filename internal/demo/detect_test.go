package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/memnet"
)

// detectionDelay starts Upstate with one 60 s check, breaks the target
// `offset` after the check first succeeded, and returns how long after the
// break the incident was open. It runs in a synctest bubble, so the answer
// is exact and independent of machine speed.
func detectionDelay(t testing.TB, offset time.Duration) time.Duration {
	var delay time.Duration
	synctest.Test(t.(*testing.T), func(t *testing.T) {
		mem := memnet.New()
		upLn, targetLn := mem.Listen(), mem.Listen()
		var broken atomic.Bool
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if broken.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			io.WriteString(w, "ok")
		})}
		go srv.Serve(targetLn)
		defer srv.Close()
		yaml := fmt.Sprintf("page: {name: X}\nserver: {listen: %q}\ncomponents: [{id: api}]\nchecks:\n  - {id: api, kind: http, url: 'http://%s/', interval: 60s, components: [api]}\n", upLn.Addr(), targetLn.Addr())
		cfg, err := config.Parse("bench.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		cfg.Server.DataDir = t.TempDir()
		ctx := context.Background()
		a, err := app.New(ctx, app.Options{Config: cfg, Listener: upLn, Dial: mem.Dial})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(ctx)
		time.Sleep(61 * time.Second) // the first probe has run, whatever its phase
		time.Sleep(offset)
		broke := time.Now()
		broken.Store(true)
		for range 1200 {
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
			if s := a.Snapshot(); s != nil && len(s.Open) > 0 {
				delay = s.Open[0].DetectedAt.Sub(broke)
				return
			}
		}
		t.Fatal("no incident within two minutes")
	})
	return delay
}

// TestDetectionDelay measures, for breaks spread over a 60 s check's
// interval, how long until the incident is open, and pins the promise: the
// first failed probe comes at most one interval after the break, and a
// burst of 10 samples 0.5 s apart confirms it (the last one starts 4.5 s
// after the probe), so 4.5 s to 65 s — against 120 s to 180 s when
// confirming by whole intervals. (Before bursts, two quick re-checks 5 s
// apart confirmed it: 10 s to 70 s.) The figures are exact (a synctest
// bubble); run with -v to see them. internal/app's TestDetectionTable
// measures the other kinds of failure.
func TestDetectionDelay(t *testing.T) {
	var delays []time.Duration
	for off := time.Duration(0); off < time.Minute; off += 5 * time.Second {
		d := detectionDelay(t, off)
		if d > 65*time.Second || d < 4500*time.Millisecond {
			t.Errorf("break %v into the interval: incident after %v, want between 4.5s and 65s", off, d)
		}
		delays = append(delays, d)
	}
	t.Logf("break → incident open, breaks every 5 s across the interval: %v", delays)
	slices.Sort(delays)
	var sum time.Duration
	for _, d := range delays {
		sum += d
	}
	t.Logf("min %v, median %v, mean %v, max %v", delays[0], delays[len(delays)/2], sum/time.Duration(len(delays)), delays[len(delays)-1])
}
