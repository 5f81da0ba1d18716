package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/demo"
)

func demoCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("demo", "[--listen ADDR] [--speed N]", "Run Upstate against a simulated ed-tech SaaS (web app, API, database, a file-conversion\nprovider, a cloud drive and a classroom API) and replay a bad back-to-school month on a\ncompressed clock: API latency climbing to 12 s then 25% HTTP 500s, conversions failing\nfor Word and PowerPoint but not PDF, the cloud drive down, the classroom API quota\nexhausted. Needs no network and no configuration; data lives in a temporary directory.", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` of the status page")
	speed := fs.Float64("speed", 60, "simulated seconds per real second while incidents unfold")
	dataDir := fs.String("data-dir", "", "keep the demo's database in this `directory` (default: a temporary one, removed on exit)")
	level := fs.String("log-level", "warn", "log `level`: debug, info, warn or error")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *speed < 1 || *speed > 600 {
		fmt.Fprintf(stderr, "upstate demo: --speed %g is out of range (1 to 600)\n", *speed)
		return exitUsage
	}
	log, err := newLogger(stderr, *level, "text")
	if err != nil {
		fmt.Fprintf(stderr, "upstate demo: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir := *dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "upstate-demo-"); err != nil {
			fmt.Fprintf(stderr, "upstate demo: %v\n", err)
			return exitFailure
		}
		defer os.RemoveAll(dir)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "upstate demo: listen on %s: %v (is something else using it? try --listen 127.0.0.1:8081)\n", *listen, err)
		return exitFailure
	}
	worldLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "upstate demo: %v\n", err)
		return exitFailure
	}
	dbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		worldLn.Close()
		fmt.Fprintf(stderr, "upstate demo: %v\n", err)
		return exitFailure
	}

	clk := clock.NewScaled(demo.Start, *speed)
	clockCtx, stopClock := context.WithCancel(context.Background())
	clockDone := make(chan struct{})
	go func() {
		defer close(clockDone)
		clk.Run(clockCtx)
	}()
	// Deferred before the app is started, so it runs after the app has
	// stopped: the clock stops once everything that waits on its timers
	// has.
	defer func() {
		stopClock()
		<-clockDone
	}()

	world := demo.NewWorld(clk)
	worldCtx, stopWorld := context.WithCancel(context.Background())
	worldDone := make(chan struct{})
	go func() {
		defer close(worldDone)
		world.Serve(worldCtx, worldLn, dbLn)
	}()
	defer func() {
		stopWorld()
		<-worldDone
	}()

	cfg, err := config.Parse("demo.yaml", []byte(demo.Config(ln.Addr().String(), worldLn.Addr().String(), dbLn.Addr().String())), func(string) (string, bool) { return "", false })
	if err != nil {
		fmt.Fprintf(stderr, "upstate demo: built-in configuration: %v\n", err)
		return exitFailure
	}
	cfg.Server.DataDir = dir
	signIn, err := demoOwner(ctx, cfg, clk.Now)
	if err != nil {
		fmt.Fprintf(stderr, "upstate demo: %v\n", err)
		return exitFailure
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Clock: clk, Logger: log, Version: Version, Listener: ln})
	if err != nil {
		fmt.Fprintf(stderr, "upstate demo: %v\n", err)
		return exitFailure
	}
	if err := a.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "upstate demo: %v\n", err)
		_ = a.Stop(context.Background())
		return exitFailure
	}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stdout, "Upstate demo: open %s\n\n", url)
	fmt.Fprintf(stdout, "Replaying a bad back-to-school month at %gx speed (one simulated minute every %.1f s),\n", *speed, 60 / *speed)
	fmt.Fprintln(stdout, "skipping the quiet days between incidents. The simulated SaaS runs on loopback; Upstate")
	fmt.Fprintln(stdout, "probes it exactly as `upstate serve` would. Also try /api/v2/summary.json and /history.atom.")
	fmt.Fprintf(stdout, "Admin side: %sadmin/ %s\n", url, signIn)
	fmt.Fprintf(stdout, "Data: %s\n\n", dir)

	ping := demo.HTTPPinger(&http.Client{Timeout: 10 * time.Second}, ln.Addr().String())
	err = demo.Play(ctx, world, scaledDriver{clk}, ping, stdout)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		fmt.Fprintf(stderr, "upstate demo: %v\n", err)
	default:
		fmt.Fprintf(stdout, "\nReplay finished. The page keeps running at %s; press Ctrl-C to stop.\n", url)
		<-ctx.Done()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Stop(sctx); err != nil {
		fmt.Fprintf(stderr, "upstate demo: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// demoEmail is the demo's owner account.
const demoEmail = "owner@demo.example"

// demoOwner creates the demo's owner account with a fresh password and
// returns the words that tell how to sign in; the password is shown this
// once. A kept --data-dir already has the account from an earlier run,
// whose password was shown then.
func demoOwner(ctx context.Context, cfg *config.Config, now func() time.Time) (string, error) {
	password := rand.Text()
	_, err := app.AddUser(ctx, cfg, app.NewUser{Email: demoEmail, Name: "Demo owner", Role: upstate.RoleOwner, Password: password}, now)
	switch {
	case err == nil:
		return fmt.Sprintf("(sign in as %s, password %s; shown only now)", demoEmail, password), nil
	case upstate.ErrorCode(err) == upstate.ECONFLICT:
		return fmt.Sprintf("(sign in as %s with the password shown when this data directory was first used)", demoEmail), nil
	default:
		return "", fmt.Errorf("demo owner account %s: %w", demoEmail, err)
	}
}

// scaledDriver moves the demo's scaled clock.
type scaledDriver struct{ c *clock.Scaled }

// Now implements demo.Clocked.
func (d scaledDriver) Now() time.Time { return d.c.Now() }

func (d scaledDriver) Wait(ctx context.Context, dur time.Duration) error {
	return clock.Sleep(ctx, d.c, dur)
}

func (d scaledDriver) Jump(ctx context.Context, dur time.Duration) error {
	d.c.Jump(dur)
	// Give the probes started by the jump a moment of real time, so the
	// page shows the quiet days passing rather than a single leap.
	t := time.NewTimer(150 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
