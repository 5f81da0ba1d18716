package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/upstatehq/upstate/internal/app"
)

func serve(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "[--config FILE]", "Run Upstate: probe the configured checks, open and resolve incidents, and serve the\nstatus page, the Statuspage-compatible API, feeds, /metrics and /healthz.\nSIGHUP reloads the configuration; SIGINT or SIGTERM shut down cleanly.", stderr)
	file := fs.String("config", "upstate.yaml", "configuration `file`")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	format := fs.String("log-format", "text", "log `format`: text or json")
	grace := fs.Duration("shutdown-timeout", 15*time.Second, "how long to wait for in-flight work on shutdown")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	log, err := newLogger(stderr, *level, *format)
	if err != nil {
		fmt.Fprintf(stderr, "upstate serve: %v\n", err)
		return exitUsage
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	if addr := os.Getenv(profileEnv); addr != "" {
		if err := serveProfiles(addr, log); err != nil {
			fmt.Fprintf(stderr, "upstate serve: %v\n", err)
			return exitUsage
		}
	}
	setGC(cfg.Server.GOGC, log) // before the checks are built: at 100,000 they are most of the heap
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: log, Version: Version})
	if err != nil {
		fmt.Fprintf(stderr, "upstate serve: %v\n", err)
		return exitFailure
	}
	if err := a.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "upstate serve: %v\n", err)
		_ = a.Stop(context.Background())
		return exitFailure
	}
	fmt.Fprintf(stdout, "Upstate is serving %s at http://%s/\n", cfg.Page.Name, a.Addr())

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			next, _ := loadConfig(*file, stderr)
			if next == nil {
				log.Error("reload refused: the configuration has problems (see above); still running the old one", "component", "cli", "config", *file)
				continue
			}
			if err := a.Reload(ctx, next); err != nil {
				log.Error("reload failed; still running the old configuration", "component", "cli", "err", err)
				continue
			}
			setGC(next.Server.GOGC, log)
		case <-ctx.Done():
			log.Info("shutting down", "component", "cli")
			sctx, cancel := context.WithTimeout(context.Background(), *grace)
			defer cancel()
			if err := a.Stop(sctx); err != nil {
				fmt.Fprintf(stderr, "upstate serve: %v\n", err)
				return exitFailure
			}
			return exitOK
		}
	}
}
