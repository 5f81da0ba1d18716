package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

// people sets up a configuration with an owner, Ann, and a responder,
// Rui, and returns the configuration file.
func people(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "upstate.yaml")
	if err := os.WriteFile(file, []byte("page: {name: X}\ncomponents: [{id: a}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range [][]string{{"ann@example.com", "Ann", "owner"}, {"rui@example.com", "Rui", "responder"}} {
		if code, _, errOut := runIn("correct horse battery\n", "user", "add", "--config", file, "--email", u[0], "--name", u[1], "--role", u[2]); code != 0 {
			t.Fatalf("add %s: %d %q", u[0], code, errOut)
		}
	}
	return file
}

func TestUserListWithNoUsersSaysHowToAddTheFirstOwner(t *testing.T) {
	file := filepath.Join(t.TempDir(), "upstate.yaml")
	os.WriteFile(file, []byte("page: {name: X}\ncomponents: [{id: a}]\n"), 0o600)
	code, out, errOut := run("user", "list", "--config", file)
	if code != 0 || !strings.Contains(out, "no users yet") || !strings.Contains(out, "upstate user add --role owner") || errOut != "" {
		t.Errorf("got %d %q %q", code, out, errOut)
	}
}

func TestUserList(t *testing.T) {
	file := people(t)
	code, out, errOut := run("user", "list", "--config", file)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || errOut != "" || len(lines) != 3 {
		t.Fatalf("got %d %q %q", code, out, errOut)
	}
	for i, want := range [][]string{{"EMAIL", "NAME", "ROLE", "ADDED"}, {"ann@example.com", "Ann", "owner"}, {"rui@example.com", "Rui", "responder"}} {
		if got := strings.Fields(lines[i]); len(got) < len(want) || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("line %d = %q, want it to start %q", i, lines[i], want)
		}
	}
	if strings.Contains(out, "argon2") {
		t.Errorf("list shows password hashes: %q", out)
	}
}

func TestUserPasswd(t *testing.T) {
	file := people(t)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		out, err    string
	}{
		{"from stdin", "a brand new password\n", []string{"--email", "RUI@example.com", "--password-stdin"}, 0, "set a new password for Rui <rui@example.com>", ""},
		{"piped without the flag", "another new password\n", []string{"--email", "rui@example.com"}, 0, "set a new password for Rui", ""},
		{"too short", "short\n", []string{"--email", "rui@example.com"}, 2, "", "upstate user passwd: password is too short"},
		{"no such user", "a brand new password\n", []string{"--email", "nobody@example.com"}, 2, "", "upstate user passwd: no user with email nobody@example.com"},
		{"no email", "a brand new password\n", nil, 2, "", "upstate user passwd: --email is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runIn(tc.stdin, append([]string{"user", "passwd", "--config", file}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) || (tc.err == "") != (errOut == "") {
				t.Errorf("got %d %q %q; want %d, %q, %q", code, out, errOut, tc.code, tc.out, tc.err)
			}
			if strings.Contains(out+errOut, "brand new") || strings.Contains(out+errOut, "short\n") {
				t.Errorf("the password was printed: %q %q", out, errOut)
			}
		})
	}
}

func TestUserRole(t *testing.T) {
	file := people(t)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"last owner stays", []string{"--email", "ann@example.com", "--role", "viewer"}, 2, "", "upstate user role: cannot make this user a viewer: they are the last owner"},
		{"bad role", []string{"--email", "rui@example.com", "--role", "admin"}, 2, "", `role "admin" is not one of owner, responder, viewer`},
		{"missing flags", []string{"--email", "rui@example.com"}, 2, "", "--email and --role are required"},
		{"no such user", []string{"--email", "x@example.com", "--role", "viewer"}, 2, "", "no user with email x@example.com"},
		{"promote", []string{"--email", "rui@example.com", "--role", "owner"}, 0, "Rui <rui@example.com> is now owner", ""},
		{"then the first may step down", []string{"--email", "ann@example.com", "--role", "viewer"}, 0, "Ann <ann@example.com> is now viewer", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(append([]string{"user", "role", "--config", file}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) || (tc.err == "") != (errOut == "") {
				t.Errorf("got %d %q %q; want %d, %q, %q", code, out, errOut, tc.code, tc.out, tc.err)
			}
		})
	}
}

func TestUserRemove(t *testing.T) {
	file := people(t)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"last owner stays", []string{"--email", "ann@example.com"}, 2, "", "upstate user remove: cannot remove this user: they are the last owner"},
		{"no email", nil, 2, "", "--email is required"},
		{"remove", []string{"--email", "rui@example.com"}, 0, "removed Rui <rui@example.com>: their sessions have ended and their API tokens are revoked", ""},
		{"twice", []string{"--email", "rui@example.com"}, 2, "", "no user with email rui@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(append([]string{"user", "remove", "--config", file}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) || (tc.err == "") != (errOut == "") {
				t.Errorf("got %d %q %q; want %d, %q, %q", code, out, errOut, tc.code, tc.out, tc.err)
			}
		})
	}
	if _, out, _ := run("user", "list", "--config", file); strings.Contains(out, "rui@") || !strings.Contains(out, "ann@") {
		t.Errorf("after removing Rui, list = %q", out)
	}
}

func TestUserCommandsNeedAConfig(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "upstate.yaml")
	for _, args := range [][]string{{"list"}, {"passwd", "--email", "a@example.com"}, {"role", "--email", "a@example.com", "--role", "viewer"}, {"remove", "--email", "a@example.com"}} {
		code, _, errOut := runIn("a brand new password\n", append(append([]string{"user"}, args...), "--config", missing)...)
		if code != 2 || !strings.Contains(errOut, "config file not found") {
			t.Errorf("%s: %d %q", args[0], code, errOut)
		}
	}
}

// What `upstate user` changes is in the audit log as made at the command
// line, by whom on which machine.
func TestUserChangesAreAudited(t *testing.T) {
	file := people(t)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(cfg.Server.DataDir, "upstate.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.ListAudit(t.Context(), upstate.AuditFilter{})
	if err != nil || len(entries) != 2 {
		t.Fatalf("audit after adding two people: %d entries, %v", len(entries), err)
	}
	e := entries[0]
	if !strings.HasPrefix(e.Actor, "command line (") || e.ActorKind != upstate.ActorCLI || !strings.Contains(e.Action, "rui@example.com") && !strings.Contains(e.Action, "Rui") {
		t.Errorf("newest entry = %+v", e)
	}
	if e.Actor != app.CommandLineActor() {
		t.Errorf("actor %q, want %q", e.Actor, app.CommandLineActor())
	}
}
