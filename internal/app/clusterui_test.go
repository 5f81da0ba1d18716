package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/probe/probetest"
)

// On SQLite the cluster's route and page are there and say the server
// runs alone: the app hands both its cluster status.
func TestClusterRouteAndPageAlone(t *testing.T) {
	_, base := startApp(t)
	code, out, _ := browser(t, base, "viewer@example.com", "viewer password 1").do("GET", "/api/v1/cluster", nil)
	if code != 200 || out["clustered"] != false || !strings.Contains(out["message"].(string), "PostgreSQL") {
		t.Errorf("GET /api/v1/cluster: %d %v", code, out)
	}
	code, body := signIn(t, base, "viewer@example.com", "viewer password 1").get("/admin/cluster")
	if code != 200 || !strings.Contains(body, "This server runs alone") || !strings.Contains(body, `<a href="/admin/cluster">Cluster</a>`) {
		t.Errorf("/admin/cluster: %d\n%s", code, body)
	}
}

// Two instances on one PostgreSQL: each answers GET /api/v1/cluster and
// /admin/cluster with both, the checks shared between them.
func TestClusterRouteAndPageOnPostgres(t *testing.T) {
	dsn := probetest.FreshPostgres(t, "upstate_app_")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer target.Close()
	apps := map[string]*App{}
	for _, name := range []string{"n1", "n2"} {
		var b strings.Builder
		fmt.Fprintf(&b, "page: {name: PG, url: 'http://127.0.0.1'}\nserver: {database: '${UPSTATE_DATABASE}', cluster: {name: %s, lease: 2s}}\ncomponents: [{id: api, name: API}]\nchecks:\n", name)
		for i := range 6 {
			fmt.Fprintf(&b, "  - {id: c%d, kind: http, url: '%s/%d', interval: 1h, components: [api]}\n", i, target.URL, i)
		}
		cfg, err := config.Parse("t.yaml", []byte(b.String()), func(k string) (string, bool) { return dsn, k == "UPSTATE_DATABASE" }, ConfigRules()...)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Server.DataDir = t.TempDir()
		a := reopenApp(t, cfg, Options{})
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Stop(context.Background()) })
		apps[name] = a
		if name == "n1" {
			if _, err := AddUser(context.Background(), cfg, NewUser{Email: "vic@example.com", Name: "Vic", Role: upstate.RoleViewer, Password: "viewer password 1"}, time.Now); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, ok := apps["n1"].clusterStatus()
		live := 0
		for _, in := range st.Instances {
			if in.Live {
				live++
			}
		}
		if ok && live == 2 && st.Leader != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n1 never saw both live: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	base := "http://" + apps["n1"].Addr()
	code, out, _ := browser(t, base, "vic@example.com", "viewer password 1").do("GET", "/api/v1/cluster", nil)
	if code != 200 || out["clustered"] != true || out["self"] != "n1" || out["lease_seconds"] != 2.0 {
		t.Fatalf("GET /api/v1/cluster: %d %v", code, out)
	}
	total := 0
	for _, x := range out["instances"].([]any) {
		in := x.(map[string]any)
		total += int(in["runs_total"].(float64))
		if in["live"] != true || !strings.HasPrefix(in["addr"].(string), "127.0.0.1:") {
			t.Errorf("instance %v", in)
		}
	}
	if total != 6 {
		t.Errorf("the instances run %d checks between them, want 6: %v", total, out)
	}
	code, body := signIn(t, base, "vic@example.com", "viewer password 1").get("/admin/cluster")
	if code != 200 || !strings.Contains(body, `<span class="pill">this instance</span>`) || !strings.Contains(body, "n2") || !strings.Contains(body, `href="/admin/checks/c`) {
		t.Errorf("/admin/cluster: %d\n%s", code, body)
	}
}
