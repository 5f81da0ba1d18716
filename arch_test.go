package upstate_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
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
	forbidden := []string{mod + "/internal/config", mod + "/internal/web", mod + "/internal/app", mod + "/internal/cli", mod + "/internal/store/sqlite", mod + "/internal/store/postgres", mod + "/internal/notify/", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/go-sql-driver/mysql", "github.com/redis/go-redis"}
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

// TestLayerImports keeps each layer to its own: config only describes (it
// never reaches notify, where templates are compiled); the web speaks in
// the root's nouns, never the store's types or notify's; app builds
// channels through the registry, never a kind's own package; cli opens no
// store driver itself, app does.
func TestLayerImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/upstatehq/upstate"
	rules := []struct {
		pkg, dep   string
		transitive bool // through any path, not only a direct import
		why        string
	}{
		{mod + "/internal/config", mod + "/internal/notify", true, "config describes; notify compiles templates"},
		{mod + "/internal/web", mod + "/internal/store", false, "the web uses the root's nouns, not the store's types"},
		{mod + "/internal/web", mod + "/internal/notify", false, "the web shares view nouns with notify through the root"},
		{mod + "/internal/app", mod + "/internal/notify/channels/", false, "channels are built through the registry, not by kind"},
		{mod + "/internal/cli", mod + "/internal/store/", false, "app opens the store; cli asks app"},
		// The importer only reads and converts files: the integrator's
		// command writes what it returns through app.
		{mod + "/internal/importer", mod + "/internal/store", true, "the importer converts files; app writes them"},
		{mod + "/internal/importer", mod + "/internal/web", true, "the importer converts files; the web serves its schema"},
		{mod + "/internal/importer", mod + "/internal/notify", true, "the importer converts files; nobody is notified of history"},
		{mod + "/internal/importer", mod + "/internal/app", true, "the importer converts files; app writes them"},
		{mod + "/internal/importer", mod + "/internal/config", true, "the importer writes configuration text; config reads it (the tests prove it)"},
	}
	// A prefix ending in / means the packages below it only.
	under := func(pkg, prefix string) bool {
		if strings.HasSuffix(prefix, "/") {
			return strings.HasPrefix(pkg, prefix)
		}
		return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 3)
		pkg, imports, deps := f[0], strings.Fields(f[1]), strings.Fields(f[2])
		for _, r := range rules {
			if !under(pkg, r.pkg) {
				continue
			}
			list := imports
			if r.transitive {
				list = deps
			}
			for _, dep := range list {
				if under(dep, r.dep) {
					t.Errorf("%s imports %s: %s", pkg, dep, r.why)
				}
			}
		}
	}
}

// readOnlyTables are the unexported package-level tables that are read and
// never written after start-up. Anything else at package level must not be
// of a mutable type (a slice, map, array, struct or pointer made there):
// shared state belongs to a value someone owns, and a list callers need is
// a function that returns a fresh one. A new table is added here only with
// a reason.
var readOnlyTables = map[string]string{
	"internal/auth/password.go:common":             "the commonest passwords, refused as new ones",
	"internal/check/dns.go:recordTypes":            "the record types a dns check may ask for",
	"internal/check/http.go:methods":               "the methods an http check may use",
	"internal/check/upstream.go:resolvedWords":     "words that say a provider's incident is over",
	"internal/config/notifications.go:channelKeys": "which channel types take which keys",
	"internal/config/oncall.go:weekdays":           "weekday names",
	"internal/notify/guard.go:addrRules":           "IANA's special-purpose address registries",
	"internal/notify/router.go:subscriberEvents":   "the events subscribers hear of",
	"internal/web/embed/embed.go:colours":          "badge colours by status",
	"internal/web/embed/embed.go:indicatorStatus":  "the status each page indicator stands for",
	"internal/web/server.go:bodyLimits":            "request body limits by route",
	// Header values, set whole into responses' header maps; http.Header
	// appends copy them (their capacity is their length).
	"internal/web/server.go:hdrVary":        "header value",
	"internal/web/server.go:hdrCORS":        "header value",
	"internal/web/server.go:hdrAPICache":    "header value",
	"internal/web/server.go:hdrPageCache":   "header value",
	"internal/web/server.go:hdrWidgetCache": "header value",
	"internal/web/server.go:hdrGzip":        "header value",
	"internal/web/server.go:hdrNosniff":     "header value",
	"internal/web/server.go:hdrReferrer":    "header value",
	"internal/web/server.go:hdrCSP":         "header value",
	"internal/web/server.go:hdrEmbedCSP":    "header value",
	"internal/web/server.go:hdrAdminCSP":    "header value",
}

// TestNoMutablePackageVars keeps package-level state out: every var made
// of a mutable value outside tests is either in readOnlyTables or an error.
func TestNoMutablePackageVars(t *testing.T) {
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if name.Name == "_" {
						continue
					}
					var value ast.Expr
					if i < len(vs.Values) {
						value = vs.Values[i]
					}
					if !mutable(vs.Type, value) {
						continue
					}
					key := filepath.ToSlash(path) + ":" + name.Name
					seen[key] = true
					switch {
					case name.IsExported():
						t.Errorf("%s: exported package-level var %s holds a mutable value any caller can change: make it a function that returns a fresh copy", fset.Position(name.Pos()), name.Name)
					case readOnlyTables[key] == "":
						t.Errorf("%s: package-level var %s holds a mutable value: give the state an owner (a field of a value), or, for a table nothing writes, add it to readOnlyTables with the reason", fset.Position(name.Pos()), name.Name)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range readOnlyTables {
		if !seen[key] {
			t.Errorf("readOnlyTables lists %s, which is gone: remove it from the list", key)
		}
	}
}

// mutable reports whether a package-level var of this type and value can
// be changed in place: slices, maps, arrays, channels, structs and
// pointers made by the declaration. Sentinel errors, compiled regular
// expressions and templates, and values a call returns are not counted.
func mutable(typ, value ast.Expr) bool {
	switch typ.(type) {
	case *ast.ArrayType, *ast.MapType, *ast.ChanType:
		return true
	}
	switch v := value.(type) {
	case *ast.CompositeLit:
		return true
	case *ast.UnaryExpr:
		_, lit := v.X.(*ast.CompositeLit)
		return v.Op == token.AND && lit
	case *ast.CallExpr:
		if id, ok := v.Fun.(*ast.Ident); ok && (id.Name == "make" || id.Name == "new") {
			return true
		}
	}
	return false
}
