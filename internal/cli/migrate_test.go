package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/upstatehq/upstate/internal/probe/probetest"
)

func TestMigrateNeedsADestination(t *testing.T) {
	file := people(t)
	if code, _, errOut := run("migrate", "--config", file); code != 2 || !strings.Contains(errOut, "no destination: give --to, --to-env, or server.database") {
		t.Errorf("no destination: %d %q", code, errOut)
	}
	if code, _, errOut := run("migrate", "--config", file, "--to-env", "UPSTATE_NO_SUCH_VARIABLE"); code != 2 || !strings.Contains(errOut, "the variable is not set") {
		t.Errorf("an unset variable: %d %q", code, errOut)
	}
}

// As the issue writes it: --from sqlite:PATH --to a PostgreSQL database.
func TestMigrateCommand(t *testing.T) {
	dsn := probetest.FreshPostgres(t, "upstate_cli_")
	file := people(t)
	src := filepath.Join(filepath.Dir(file), "data", "upstate.db")
	if _, err := os.Stat(src); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UPSTATE_MIGRATE_TO", dsn)
	code, out, errOut := run("migrate", "--from", "sqlite:"+src, "--to-env", "UPSTATE_MIGRATE_TO")
	if code != 0 || !strings.Contains(out, "every count verified") || !strings.Contains(errOut, "copied users: 2 rows") {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	if strings.Contains(out+errOut, "password=") {
		t.Error("the destination's password is printed")
	}
	if code, _, errOut := run("migrate", "--from", "sqlite:"+src, "--to-env", "UPSTATE_MIGRATE_TO"); code != 2 || !strings.Contains(errOut, "--replace") {
		t.Errorf("again without --replace: %d %q", code, errOut)
	}
	if code, out, errOut := run("migrate", "--from", "sqlite:"+src, "--to-env", "UPSTATE_MIGRATE_TO", "--replace"); code != 0 {
		t.Errorf("again with --replace: %d %q %q", code, out, errOut)
	}
}
