package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/config"
)

const userUsage = "Usage: upstate user add|list|passwd|role|remove [flags]\n\n" +
	"  upstate user add --email EMAIL --name NAME [--role owner|responder|viewer]\n" +
	"  upstate user list\n" +
	"  upstate user passwd --email EMAIL\n" +
	"  upstate user role --email EMAIL --role owner|responder|viewer\n" +
	"  upstate user remove --email EMAIL\n\n" +
	"Each takes --config FILE (default upstate.yaml; its data_dir holds the users).\n" +
	"A password is asked for without echo at a terminal, or read from the first line\n" +
	"of standard input (--password-stdin, or when it is not a terminal), e.g.\n" +
	"  printf '%s\\n' \"$PASSWORD\" | upstate user add --email ann@example.com --name Ann\n"

func user(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	subs := map[string]func([]string, io.Reader, io.Writer, io.Writer) int{
		"add": userAdd, "list": userList, "passwd": userPasswd, "role": userRole, "remove": userRemove,
	}
	if len(args) > 0 {
		if run, ok := subs[args[0]]; ok {
			return run(args[1:], stdin, stdout, stderr)
		}
	}
	help := len(args) > 0 && (args[0] == "--help" || args[0] == "-h")
	if len(args) > 0 && !help {
		fmt.Fprintf(stderr, "upstate user: unknown subcommand %q\n", args[0])
	}
	io.WriteString(stderr, userUsage)
	if help {
		return exitOK
	}
	return exitUsage
}

// withPeople loads the configuration and runs fn on the people in its
// database, turning what went wrong into a message and an exit code:
// 2 for what the user can fix (bad input, no such user, the last owner),
// 1 for failures.
func withPeople(cmd string, cfg *config.Config, stderr io.Writer, fn func(p *auth.People) error) int {
	err := app.WithPeople(context.Background(), cfg, time.Now, fn)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "upstate user %s: %v\n", cmd, upstate.ErrorMessage(err))
	if upstate.ErrorCode(err) == upstate.EINTERNAL {
		fmt.Fprintf(stderr, "  (%v)\n", err)
		return exitFailure
	}
	return exitUsage
}

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "upstate.yaml", "configuration `file` (its data_dir holds the users)")
}

func emailFlag(fs *flag.FlagSet) *string {
	return fs.String("email", "", "the user's `email`, used to sign in")
}

// actor is how the command line signs what it changes in the log.
const actor = "upstate user (command line)"

func userAdd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("user add", "--email EMAIL --name NAME [--role ROLE] [--password-stdin] [--config FILE]", "Create a user who can sign in to the admin side. The first user should be an owner.\nThe password (at least 12 characters) is asked for without echo at a terminal,\nor read from the first line of standard input.", stderr)
	file := configFlag(fs)
	email := emailFlag(fs)
	name := fs.String("name", "", "the user's `name`, shown on timelines")
	role := fs.String("role", "owner", "`role`: owner (everything), responder (incidents, components, maintenances), viewer (read only)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input, even at a terminal")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	password, err := readPassword("user add", *fromStdin, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "upstate user add: %v\n", err)
		return exitFailure
	}
	return withPeople("add", cfg, stderr, func(p *auth.People) error {
		u, err := p.Add(context.Background(), auth.NewUser{Email: *email, Name: *name, Role: upstate.Role(*role), Password: password}, actor)
		if err == nil {
			fmt.Fprintf(stdout, "added %s <%s> as %s\n", u.Name, u.Email, u.Role)
		}
		return err
	})
}

func userList(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("user list", "[--config FILE]", "List the users who can sign in to the admin side, oldest first.", stderr)
	file := configFlag(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	return withPeople("list", cfg, stderr, func(p *auth.People) error {
		us, err := p.List(context.Background())
		if err != nil {
			return err
		}
		if len(us) == 0 {
			fmt.Fprintln(stdout, "no users yet: add the first owner with\n  upstate user add --role owner --email EMAIL --name NAME")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tADDED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, u.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		return tw.Flush()
	})
}

func userPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("user passwd", "--email EMAIL [--password-stdin] [--config FILE]", "Set a new password for a user (at least 12 characters). It is asked for twice\nwithout echo at a terminal, or read from the first line of standard input.\nThe user's sessions stay signed in: `upstate user remove` or the admin page's\n\"sign out everywhere\" ends them.", stderr)
	file := configFlag(fs)
	email := emailFlag(fs)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input, even at a terminal")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *email == "" {
		fmt.Fprintln(stderr, "upstate user passwd: --email is required")
		return exitUsage
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	password, err := readPassword("user passwd", *fromStdin, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "upstate user passwd: %v\n", err)
		return exitFailure
	}
	return withPeople("passwd", cfg, stderr, func(p *auth.People) error {
		u, err := p.SetPassword(context.Background(), *email, password, actor)
		if err == nil {
			fmt.Fprintf(stdout, "set a new password for %s <%s>\n", u.Name, u.Email)
		}
		return err
	})
}

func userRole(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("user role", "--email EMAIL --role ROLE [--config FILE]", "Change what a user may do. The last owner stays an owner.", stderr)
	file := configFlag(fs)
	email := emailFlag(fs)
	role := fs.String("role", "", "the new `role`: owner, responder or viewer")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *email == "" || *role == "" {
		fmt.Fprintln(stderr, "upstate user role: --email and --role are required")
		return exitUsage
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	return withPeople("role", cfg, stderr, func(p *auth.People) error {
		u, err := p.SetRole(context.Background(), *email, upstate.Role(*role), actor)
		if err == nil {
			fmt.Fprintf(stdout, "%s <%s> is now %s\n", u.Name, u.Email, u.Role)
		}
		return err
	})
}

func userRemove(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("user remove", "--email EMAIL [--config FILE]", "Remove a user: their sessions end and their API tokens are revoked at once.\nThe last owner cannot be removed.", stderr)
	file := configFlag(fs)
	email := emailFlag(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *email == "" {
		fmt.Fprintln(stderr, "upstate user remove: --email is required")
		return exitUsage
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	return withPeople("remove", cfg, stderr, func(p *auth.People) error {
		u, err := p.Remove(context.Background(), *email, actor)
		if err == nil {
			fmt.Fprintf(stdout, "removed %s <%s>: their sessions have ended and their API tokens are revoked\n", u.Name, u.Email)
		}
		return err
	})
}
