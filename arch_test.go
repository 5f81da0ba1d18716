package upstate_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the house rules of DESIGN.md true: the root and
// domain packages never reach config, web, app, cli, store drivers or
// notification channels; only app imports the store backends; client is
// public and imports nothing internal.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/upstatehq/upstate"
	domain := []string{mod, mod + "/internal/check", mod + "/internal/schedule", mod + "/internal/decide", mod + "/internal/incident", mod + "/internal/report", mod + "/internal/oncall"}
	forbidden := []string{mod + "/internal/config", mod + "/internal/web", mod + "/internal/app", mod + "/internal/cli", mod + "/internal/store/sqlite", mod + "/internal/store/postgres", mod + "/internal/notify/", "modernc.org/sqlite", "github.com/jackc/pgx"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ": ")
		list := strings.Fields(deps)
		isDomain := false
		for _, d := range domain {
			if pkg == d || strings.HasPrefix(pkg, d+"/") && d != mod {
				isDomain = true
			}
		}
		for _, dep := range list {
			if isDomain {
				for _, f := range forbidden {
					if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") {
						t.Errorf("%s imports %s", pkg, dep)
					}
				}
			}
			if strings.HasPrefix(pkg, mod+"/client") && strings.HasPrefix(dep, mod+"/internal/") {
				t.Errorf("public %s imports %s", pkg, dep)
			}
			if (strings.HasPrefix(dep, mod+"/internal/store/sqlite") || strings.HasPrefix(dep, mod+"/internal/store/postgres")) &&
				!strings.HasPrefix(pkg, mod+"/internal/app") && !strings.HasPrefix(pkg, mod+"/internal/store/") && !strings.HasPrefix(pkg, mod+"/internal/cli") && pkg != mod+"/cmd/upstate" {
				t.Errorf("%s imports the store backend %s; only app may", pkg, dep)
			}
		}
	}
}

// TestNotificationImports keeps the notification side's edges: config
// describes and does not reach into notify (templates are checked where
// channels are compiled); app builds channels through the registry only,
// never a kind's own package; the admin UI and API share view nouns
// through the root, not notify's.
func TestNotificationImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Deps " "}}: {{join .Imports " "}}`, "./internal/config/...", "./internal/app/...", "./internal/web/admin/...", "./internal/web/adminapi/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/upstatehq/upstate"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, ": ", 3)
		pkg, deps, imports := parts[0], strings.Fields(parts[1]), strings.Fields(parts[2])
		for _, dep := range deps {
			if strings.HasPrefix(pkg, mod+"/internal/config") && strings.HasPrefix(dep, mod+"/internal/notify") {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
		for _, imp := range imports {
			kind, isKind := strings.CutPrefix(imp, mod+"/internal/notify/channels/")
			if strings.HasPrefix(pkg, mod+"/internal/app") && isKind && kind != "" {
				t.Errorf("%s imports the channel kind %s; build channels through the registry", pkg, imp)
			}
			if strings.HasPrefix(pkg, mod+"/internal/web/admin") && imp == mod+"/internal/notify" {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}
