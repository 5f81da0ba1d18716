package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
)

func user(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if code, ok := subcommand("user", "add", args, "Usage: upstate user add --email EMAIL --name NAME [--role owner|responder|viewer] [--config FILE]\n\n"+
		"The password is read from the first line of standard input, e.g.\n"+
		"  printf '%s\\n' \"$PASSWORD\" | upstate user add --email ann@example.com --name Ann\n", stderr); !ok {
		return code
	}
	fs := newFlags("user add", "--email EMAIL --name NAME [--role ROLE] [--config FILE]", "Create a user who can sign in to the admin side. The first user should be an owner.\nThe password (at least 12 characters) is read from the first line of standard input.", stderr)
	file := fs.String("config", "upstate.yaml", "configuration `file` (its data_dir holds the users)")
	email := fs.String("email", "", "the user's `email`, used to sign in")
	name := fs.String("name", "", "the user's `name`, shown on timelines")
	role := fs.String("role", "owner", "`role`: owner (everything), responder (incidents, components, maintenances), viewer (read only)")
	if code, ok := parse(fs, args[1:]); !ok {
		return code
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "upstate user add: reading the password: %v\n", err)
		return exitFailure
	}
	password := strings.TrimRight(line, "\r\n")
	u, err := app.AddUser(context.Background(), cfg, app.NewUser{Email: *email, Name: *name, Role: upstate.Role(*role), Password: password}, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "upstate user add: %v\n", upstate.ErrorMessage(err))
		if upstate.ErrorCode(err) == upstate.EINTERNAL {
			fmt.Fprintf(stderr, "  (%v)\n", err)
			return exitFailure
		}
		return exitUsage
	}
	fmt.Fprintf(stdout, "added %s <%s> as %s\n", u.Name, u.Email, u.Role)
	return exitOK
}
