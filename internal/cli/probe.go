package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/agent"
)

// probeTokenEnv is where an agent's token may come from instead of a file:
// a token on the command line shows in ps.
const probeTokenEnv = "UPSTATE_PROBE_TOKEN"

func probeCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("probe", "--server URL --region NAME (--token-file FILE | --token T) [--data DIR]",
		"Run a probe agent: the checks the server assigns this region (regions: in the server's\n"+
			"configuration), on their slots of each interval, their results streamed back to the server.\n"+
			"Results wait on disk under --data until the server has them: a lost connection, a server\n"+
			"restart or the agent's own loses none. The token is an owner's, made with the one scope\n"+
			"agent:NAME (POST /api/v1/tokens); it is read from --token-file, else "+probeTokenEnv+",\n"+
			"else --token (which ps shows: prefer the others). SIGINT or SIGTERM stop it.", stderr)
	server := fs.String("server", "", "the server's `URL`: https://status.example.com")
	region := fs.String("region", "", "this agent's region `name`, as checks name it in regions:")
	tokenFile := fs.String("token-file", "", "`file` holding the agent's token")
	token := fs.String("token", "", "the agent's `token` (shown by ps: prefer --token-file or "+probeTokenEnv+")")
	data := fs.String("data", "upstate-probe", "`directory` the results wait in, and the last check list")
	bufferMB := fs.Int("buffer-mb", 64, "at most this many `MiB` of results wait; beyond, the oldest are dropped")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	format := fs.String("log-format", "text", "log `format`: text or json")
	insecure := fs.Bool("insecure-http", false, "allow a plain http:// server that is not on this machine (the token and the checks' secrets then cross the network in clear)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if !*insecure && plainRemote(*server) {
		fmt.Fprintf(stderr, "upstate probe: --server %s is plain http to another machine: the token and the checks' secrets would cross the network in clear; use https (or --insecure-http on a network you trust)\n", withoutUserinfo(*server))
		return exitUsage
	}
	log, err := newLogger(stderr, *level, *format)
	if err != nil {
		fmt.Fprintf(stderr, "upstate probe: %v\n", err)
		return exitUsage
	}
	secret := *token
	switch {
	case *tokenFile != "":
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "upstate probe: --token-file: %v\n", err)
			return exitUsage
		}
		secret = strings.TrimSpace(string(b))
	case os.Getenv(probeTokenEnv) != "":
		secret = strings.TrimSpace(os.Getenv(probeTokenEnv))
	}
	if *bufferMB < 1 || *bufferMB > 1<<20 {
		fmt.Fprintf(stderr, "upstate probe: --buffer-mb %d: want 1 to %d\n", *bufferMB, 1<<20)
		return exitUsage
	}
	a, err := agent.New(agent.Options{Server: *server, Region: *region, Token: upstate.Secret(secret), DataDir: *data,
		MaxBuffer: int64(*bufferMB) << 20, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "upstate probe: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shown := withoutUserinfo(*server)
	fmt.Fprintf(stdout, "upstate probe: region %s reporting to %s; results wait in %s\n", *region, shown, *data)
	log.Info("probe agent started", "component", "agent", "region", *region, "server", shown)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "upstate probe: %v\n", err)
		return exitFailure
	}
	log.Info("probe agent stopped; what was not sent waits on disk", "component", "agent", "region", *region)
	return exitOK
}

// withoutUserinfo is a URL as it may be shown: without a user and
// password written into it.
func withoutUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// plainRemote says whether raw is an http:// URL of another machine
// (loopback is this one).
func plainRemote(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
