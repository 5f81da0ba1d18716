package admin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/checkview"
	"github.com/upstatehq/upstate/internal/cluster"
)

func clusterPageBody(t *testing.T, status func() (cluster.Status, bool)) string {
	t.Helper()
	s := checkServer(t, checkview.Report{})
	s.opts.Cluster = status
	rec := httptest.NewRecorder()
	s.clusterPage(rec, httptest.NewRequest("GET", "/admin/cluster", nil), upstate.Principal{User: upstate.User{Name: "Vi", Role: upstate.RoleViewer}, Scopes: upstate.RoleViewer.Grants()})
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

// The page lists each instance (this one marked, the leader badged),
// its state, where it listens, how late it runs, the timings in words,
// and the first 50 checks each runs.
func TestClusterPage(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	runs := make([]string, 120)
	for i := range runs {
		runs[i] = fmt.Sprintf("chk%03d", i)
	}
	body := clusterPageBody(t, func() (cluster.Status, bool) {
		return cluster.Status{Self: "a", Leader: "b", At: at, Lease: 10 * time.Second, Beat: 2 * time.Second, Grace: 7 * time.Second,
			Instances: []cluster.Instance{
				{Member: cluster.Member{ID: "ia", Name: "a", Addr: "10.0.0.1:8080", Version: "1.4.0", Started: at.Add(-time.Hour), Heartbeat: at.Add(-time.Second),
					Checks: 120, Lag: 120 * time.Millisecond, Live: true}, Runs: runs, Age: 3 * time.Second},
				{Member: cluster.Member{ID: "ib", Name: "b", Addr: "10.0.0.2:8080", Version: "1.4.0", Checks: 2, Leader: true, Live: true}, Runs: []string{"web", "db"}, Age: time.Second},
				{Member: cluster.Member{ID: "ic", Name: "c", Addr: "10.0.0.3:8080", Version: "1.3.9"}, Runs: []string{}, Age: 20 * time.Minute},
			}}, true
	})
	for _, want := range []string{`<span class="pill">this instance</span>`, `<span class="pill">leader</span>`, "10.0.0.1:8080", "1.3.9", "3 s ago", "20 min ago",
		"120 ms", `<span class="state state-up">live</span>`, `<span class="state state-down">gone</span>`, "<strong>b</strong> leads",
		"heartbeat every 2 s", "older than 8 s (the lease, 10 s, less a beat) is gone; its checks are taken over at their next slot", "waits 7 s", "for 5 s runs nothing",
		`<a href="/admin/checks/chk000">chk000</a>`, `<a href="/admin/checks/chk049">chk049</a>`, "and 70 more", `GET /api/v1/cluster?instance=a`,
		`<a href="/admin/checks/web">web</a>`, "None: it is gone.", `<a href="/admin/cluster">Cluster</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the cluster page lacks %q", want)
		}
	}
	if strings.Contains(body, "chk050") {
		t.Error("the page lists more than 50 of an instance's checks")
	}
	if strings.Contains(body, "fenced") {
		t.Error("an instance that is not fenced is said to be")
	}
}

func TestClusterPageFenced(t *testing.T) {
	body := clusterPageBody(t, func() (cluster.Status, bool) {
		return cluster.Status{Self: "a", Fenced: true, Lease: 10 * time.Second, Beat: 2 * time.Second, Grace: 7 * time.Second,
			Instances: []cluster.Instance{{Member: cluster.Member{Name: "a", Live: true}, Runs: []string{}}}}, true
	})
	for _, want := range []string{"This instance is fenced:", `<span class="state state-down">fenced</span>`, "under 1 ms", "No instance holds the leader's lease"} {
		if !strings.Contains(body, want) {
			t.Errorf("the fenced page lacks %q", want)
		}
	}
}

// On SQLite the page says there is one instance and how to run several.
func TestClusterPageAlone(t *testing.T) {
	for name, status := range map[string]func() (cluster.Status, bool){
		"sqlite": func() (cluster.Status, bool) { return cluster.Status{}, false },
		"nil":    nil,
	} {
		body := clusterPageBody(t, status)
		for _, want := range []string{"This server runs alone: one instance", "PostgreSQL", "server.database", "docs/CLUSTER.md"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %q", name, want)
			}
		}
		if strings.Contains(body, "<table") {
			t.Errorf("%s: alone, the page has a table of instances", name)
		}
	}
}

// Addresses come from the database and are shown escaped, and so is
// anything else an instance row holds.
func TestClusterPageEscapes(t *testing.T) {
	body := clusterPageBody(t, func() (cluster.Status, bool) {
		return cluster.Status{Self: "<script>n</script>", Lease: 10 * time.Second, Beat: 2 * time.Second, Grace: 7 * time.Second,
			Instances: []cluster.Instance{{Member: cluster.Member{Name: "<script>n</script>", ID: `"><script>i</script>`, Addr: "<script>alert(1)</script>:80",
				Version: "<b>v</b>", Live: true}, Runs: []string{`"><script>c</script>`}}}}, true
	})
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>v") {
		t.Errorf("the page does not escape what the database holds:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;:80") {
		t.Error("the address is not shown, escaped")
	}
}

// The page is behind sign-in.
func TestClusterPageNeedsSignIn(t *testing.T) {
	mux := http.NewServeMux()
	checkServer(t, checkview.Report{}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/cluster", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/login?next=%2Fadmin%2Fcluster" {
		t.Errorf("anonymous: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}
