package cli

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// gcPercent is the collector's target serve sets when the file asks for
// want (server.gogc), and false when the GOGC environment variable is
// set: Go has read it at start, and the operator's word wins over the
// file's.
func gcPercent(want int, getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return want, true
}

// setGC puts a collector target in force, server.gogc once the file is
// read (not before: with its checks read in pieces, loading 100,000 of
// them peaks at some 300 MiB at Go's 100, and at 30 took 0.2-0.8 s more
// collecting) and after each reload. It says so when it changes what was
// in force.
func setGC(want int, log *slog.Logger) {
	p, ok := gcPercent(want, os.Getenv)
	if !ok {
		log.Debug("GOGC is set: server.gogc is not applied", "component", "cli", "GOGC", os.Getenv("GOGC"))
		return
	}
	if was := debug.SetGCPercent(p); was != p {
		log.Debug("garbage collector target set", "component", "cli", "gogc", p, "was", was)
	}
}
