package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/cluster"
	"github.com/upstatehq/upstate/internal/report"
)

// tokenAuth knows two tokens: "read" (a viewer's) and "metrics" (one
// that pushes numbers and reads nothing).
type tokenAuth struct{ Auth }

func (tokenAuth) FromToken(_ context.Context, secret string) (upstate.Principal, error) {
	switch secret {
	case "read":
		return upstate.Principal{User: upstate.User{Name: "Vi", Role: upstate.RoleViewer}, Token: &upstate.Token{Name: "dash"}, Scopes: []upstate.Scope{upstate.ScopeRead}}, nil
	case "metrics":
		return upstate.Principal{User: upstate.User{Name: "Olga", Role: upstate.RoleOwner}, Token: &upstate.Token{Name: "app"}, Scopes: []upstate.Scope{upstate.ScopeMetrics}}, nil
	}
	return upstate.Principal{}, upstate.Errorf(upstate.EUNAUTHORIZED, "unknown token")
}

func clusterAPI(t *testing.T, status func() (cluster.Status, bool)) http.Handler {
	t.Helper()
	s, err := New(Options{Auth: tokenAuth{}, Incidents: struct{ Incidents }{}, Components: struct{ Components }{}, Maintenances: struct{ maints }{},
		Outbox: struct{ Outbox }{}, OnCall: struct{ OnCall }{}, Silences: struct{ Silences }{}, Subscribers: struct{ Subscribers }{}, Samples: struct{ Samples }{},
		SLOs: func(context.Context) []check.SLOReport { return nil }, Reviews: struct{ Reviews }{}, Reads: struct{ Reads }{},
		Baseline: func(context.Context, string) (check.BaselineReport, error) { return check.BaselineReport{}, nil },
		PageName: func() string { return "Acme" }, Location: func() *time.Location { return time.UTC }, Markdown: report.RenderFunc(func(s string) template.HTML { return template.HTML(s) }),
		Cluster: status})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	return mux
}

func getAs(h http.Handler, token, target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", target, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// twoInstances is a cluster of a, live and leading, running 2,500
// checks, and b, gone, running none.
func twoInstances() (cluster.Status, bool) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	runs := make([]string, 2500)
	for i := range runs {
		runs[i] = fmt.Sprintf("chk%04d", i)
	}
	return cluster.Status{Self: "a", Leader: "a", At: at, Lease: 10 * time.Second, Beat: 2 * time.Second, Grace: 7 * time.Second,
		Instances: []cluster.Instance{
			{Member: cluster.Member{ID: "ia", Name: "a", Addr: "10.0.0.1:8080", Version: "1.4.0", Started: at.Add(-time.Hour), Heartbeat: at.Add(-time.Second),
				Checks: 2500, Lag: 120 * time.Millisecond, Leader: true, Live: true}, Runs: runs, Age: time.Second},
			{Member: cluster.Member{ID: "ib", Name: "b", Addr: "10.0.0.2:8080", Version: "1.4.0", Started: at.Add(-2 * time.Hour), Heartbeat: at.Add(-time.Minute)},
				Age: time.Minute},
		}}, true
}

func decodeCluster(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestClusterNeedsTheReadScope(t *testing.T) {
	h := clusterAPI(t, twoInstances)
	if w := getAs(h, "", "/api/v1/cluster"); w.Code != 401 {
		t.Errorf("anonymous: %d %s", w.Code, w.Body.String())
	}
	if w := getAs(h, "metrics", "/api/v1/cluster"); w.Code != 403 || !strings.Contains(w.Body.String(), `\"read\" scope`) {
		t.Errorf("a token without read: %d %s", w.Code, w.Body.String())
	}
	if w := getAs(h, "read", "/api/v1/cluster"); w.Code != 200 {
		t.Errorf("a token with read: %d %s", w.Code, w.Body.String())
	}
}

func TestClusterAnswer(t *testing.T) {
	out := decodeCluster(t, getAs(clusterAPI(t, twoInstances), "read", "/api/v1/cluster"))
	for k, want := range map[string]any{"clustered": true, "self": "a", "leader": "a", "at": "2026-12-01T12:00:00Z", "fenced": false,
		"lease_seconds": 10.0, "heartbeat_seconds": 2.0, "grace_seconds": 7.0} {
		if out[k] != want {
			t.Errorf("%s: %v, want %v", k, out[k], want)
		}
	}
	ins := out["instances"].([]any)
	if len(ins) != 2 {
		t.Fatalf("instances: %v", ins)
	}
	a, b := ins[0].(map[string]any), ins[1].(map[string]any)
	for k, want := range map[string]any{"name": "a", "id": "ia", "addr": "10.0.0.1:8080", "version": "1.4.0", "started_at": "2026-12-01T11:00:00Z",
		"heartbeat_at": "2026-12-01T11:59:59Z", "heartbeat_age_ms": 1000.0, "live": true, "leader": true, "checks": 2500.0, "lag_ms": 120.0,
		"runs_total": 2500.0, "runs_truncated": true} {
		if a[k] != want {
			t.Errorf("a's %s: %v, want %v", k, a[k], want)
		}
	}
	if runs := a["runs"].([]any); len(runs) != 1000 || runs[0] != "chk0000" || runs[999] != "chk0999" {
		t.Errorf("a's runs are not its first 1000: %d", len(runs))
	}
	if _, ok := out["next"]; ok {
		t.Error("the whole answer has a next page")
	}
	if b["live"] != false || b["runs_total"] != 0.0 || b["runs_truncated"] != false || len(b["runs"].([]any)) != 0 {
		t.Errorf("the gone instance: %v", b)
	}
}

func TestClusterPagesOneInstance(t *testing.T) {
	h := clusterAPI(t, twoInstances)
	page := func(q string) ([]any, map[string]any) {
		out := decodeCluster(t, getAs(h, "read", "/api/v1/cluster?"+q))
		ins := out["instances"].([]any)
		if len(ins) != 1 {
			t.Fatalf("%s: instances %v", q, ins)
		}
		in := ins[0].(map[string]any)
		return in["runs"].([]any), out
	}
	// The default page is 1000; the last page has no next.
	runs, out := page("instance=a")
	if len(runs) != 1000 || out["next"] != "chk0999" {
		t.Errorf("first page: %d ids, next %v", len(runs), out["next"])
	}
	var all []any
	after := ""
	for range 10 {
		q := "instance=a&limit=1000"
		if after != "" {
			q += "&after=" + after
		}
		runs, out := page(q)
		all = append(all, runs...)
		next, ok := out["next"].(string)
		if !ok {
			break
		}
		after = next
	}
	if len(all) != 2500 || all[1000] != "chk1000" || all[2499] != "chk2499" {
		t.Errorf("paging gave %d ids", len(all))
	}
	runs, out = page("instance=a&limit=10000")
	in := out["instances"].([]any)[0].(map[string]any)
	if len(runs) != 2500 || in["runs_truncated"] != false || out["next"] != nil {
		t.Errorf("limit=10000: %d ids, truncated %v", len(runs), in["runs_truncated"])
	}
	// after need not be among the ids: the page starts past it.
	if runs, _ := page("instance=a&limit=2&after=chk0100x"); len(runs) != 2 || runs[0] != "chk0101" {
		t.Errorf("after an id not run: %v", runs)
	}
	if w := getAs(h, "read", "/api/v1/cluster?instance=zed"); w.Code != 404 || !strings.Contains(w.Body.String(), `no instance \"zed\"`) {
		t.Errorf("an unknown instance: %d %s", w.Code, w.Body.String())
	}
}

func TestClusterRefusesBadParameters(t *testing.T) {
	h := clusterAPI(t, twoInstances)
	for q, want := range map[string]string{
		"instance=":                "instance: give an instance's name",
		"limit=5":                  "limit: pages one instance's checks",
		"after=chk0001":            "after: pages one instance's checks",
		"instance=a&limit=0":       `limit: \"0\" is not a number from 1 to 10000`,
		"instance=a&limit=10001":   `limit: \"10001\" is not a number from 1 to 10000`,
		"instance=a&limit=lots":    `limit: \"lots\" is not a number`,
		"instance=a&after=":        "after: give a check id",
		"instance=a&limit=&after=": "limit:",
	} {
		w := getAs(h, "read", "/api/v1/cluster?"+q)
		if w.Code != 400 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s, want 400 saying %q", q, w.Code, w.Body.String(), want)
		}
	}
}

// On SQLite (or with no cluster at all) the route answers, saying so.
func TestClusterAloneSaysSo(t *testing.T) {
	for name, status := range map[string]func() (cluster.Status, bool){
		"sqlite": func() (cluster.Status, bool) { return cluster.Status{}, false },
		"nil":    nil,
	} {
		w := getAs(clusterAPI(t, status), "read", "/api/v1/cluster")
		out := decodeCluster(t, w)
		if out["clustered"] != false || len(out["instances"].([]any)) != 0 || !strings.Contains(out["message"].(string), "PostgreSQL") ||
			!strings.Contains(out["message"].(string), "docs/CLUSTER.md") {
			t.Errorf("%s: %s", name, w.Body.String())
		}
		if _, ok := out["self"]; ok {
			t.Errorf("%s: alone, it names a self: %s", name, w.Body.String())
		}
	}
}

// maints names the embedded Maintenances apart from its method of that
// name.
type maints = Maintenances
