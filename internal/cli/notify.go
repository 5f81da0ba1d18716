package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
)

func notifyCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if code, ok := subcommand("notify", "test", args, "Usage: upstate notify test CHANNEL [--config FILE]\n\n"+
		"Sends a sample notification to a configured channel now and says whether it arrived.\n", stderr); !ok {
		return code
	}
	fs := newFlags("notify test", "CHANNEL [--config FILE]", "Send a sample notification to a channel from the configuration, straight away (not\nthrough the outbox), and report the receiver's answer. Exits 1 if it was refused.", stderr)
	file := fs.String("config", "upstate.yaml", "configuration `file`")
	// The channel may come before or after the flags.
	var channel string
	rest := args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		channel, rest = rest[0], rest[1:]
	}
	if channel == "" {
		// Flags first: the channel is the one argument after them.
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() > 0 {
			channel, rest = fs.Arg(0), fs.Args()[1:]
		} else {
			rest = nil
		}
	}
	if code, ok := parse(fs, rest); !ok {
		return code
	}
	if channel == "" {
		fmt.Fprintln(stderr, "upstate notify test: name the channel to test (its id under notifications.channels)")
		return exitUsage
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.SendTest(ctx, cfg, channel); err != nil {
		fmt.Fprintf(stderr, "upstate notify test: %s\n", upstate.ErrorMessage(err))
		if upstate.ErrorCode(err) == upstate.ENOTFOUND {
			return exitUsage
		}
		return exitFailure
	}
	fmt.Fprintf(stdout, "sent a test notification to %s\n", channel)
	return exitOK
}
