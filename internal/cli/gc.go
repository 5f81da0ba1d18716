package cli

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/upstatehq/upstate/internal/config"
)

// gcPercent is the collector's target serve sets for cfg (server.gogc),
// and false when the GOGC environment variable is set: Go has read it at
// start, and the operator's word wins over the file's.
func gcPercent(cfg *config.Config, getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return cfg.Server.GOGC, true
}

// setGC puts server.gogc in force, at start and after each reload, and
// says so when it changes what was in force.
func setGC(cfg *config.Config, log *slog.Logger) {
	p, ok := gcPercent(cfg, os.Getenv)
	if !ok {
		log.Debug("GOGC is set: server.gogc is not applied", "component", "cli", "GOGC", os.Getenv("GOGC"))
		return
	}
	if was := debug.SetGCPercent(p); was != p {
		log.Debug("garbage collector target set", "component", "cli", "gogc", p, "was", was)
	}
}
