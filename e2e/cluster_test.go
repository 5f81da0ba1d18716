package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/upstatehq/upstate/internal/probe/probetest"
)

// clusterTarget is what three instances' checks probe and where their
// notifications go. Each instance's configuration names its own paths
// (/n1/…), so the target knows who probed and who sent.
type clusterTarget struct {
	mu sync.Mutex
	// probes are each check's probe times, and who ran them.
	probes map[string][]probe
	// hook: every message's sends, the ids in flight now, and each
	// incident's updates in the order they first arrived.
	sends    map[string][]string // message id → instances, in order
	inflight map[string]string   // message id → the instance sending it now
	flying   map[string]int      // instance → requests in flight
	twice    []string            // ids sent by two instances at once
	order    map[string][]string
	// slow is how long the hook takes to answer: deliveries are in flight
	// most of the time, so a kill lands mid-delivery.
	slow time.Duration
}

type probe struct {
	at time.Time
	by string
}

func newClusterTarget() *clusterTarget {
	return &clusterTarget{probes: map[string][]probe{}, sends: map[string][]string{}, inflight: map[string]string{}, flying: map[string]int{},
		order: map[string][]string{}, slow: 150 * time.Millisecond}
}

func (c *clusterTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	by := parts[0]
	switch parts[1] {
	case "c": // /n1/c/check-3
		c.mu.Lock()
		c.probes[parts[2]] = append(c.probes[parts[2]], probe{time.Now(), by})
		c.mu.Unlock()
		io.WriteString(w, "ok")
	case "hook":
		b, _ := io.ReadAll(r.Body)
		id := r.Header.Get("webhook-id")
		c.mu.Lock()
		if other, ok := c.inflight[id]; ok {
			c.twice = append(c.twice, fmt.Sprintf("%s by %s and %s", id, other, by))
		}
		c.inflight[id] = by
		c.flying[by]++
		c.mu.Unlock()
		time.Sleep(c.slow)
		var body struct {
			Data struct {
				Incident struct{ ID string } `json:"incident"`
				Updates  []struct{ Body string }
			} `json:"data"`
		}
		json.Unmarshal(b, &body)
		c.mu.Lock()
		delete(c.inflight, id)
		c.flying[by]--
		if len(c.sends[id]) == 0 {
			var words []string
			for _, u := range body.Data.Updates {
				words = append(words, u.Body)
			}
			in := body.Data.Incident.ID
			c.order[in] = append(c.order[in], strings.Join(words, "|"))
		}
		c.sends[id] = append(c.sends[id], by)
		c.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// TestClusterSurvivesSIGKILL runs three `upstate serve` processes on one
// real PostgreSQL: the checks are shared among them, each run once per
// slot; notifications are sent by one instance each. One instance is
// killed with SIGKILL while it delivers: its checks are taken over within
// the lease and an interval, every owed notification arrives (those it
// had in flight again, under the same id), none is ever sent by two
// instances at once, and the others' pages are served throughout.
func TestClusterSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := probetest.FreshPostgres(t, "upstate_e2e_")
	target := newClusterTarget()
	srv := httptest.NewServer(target)
	defer srv.Close()
	bin := build(t)
	dir := t.TempDir()
	const checks, interval, lease = 12, time.Second, 2 * time.Second
	config := func(name string) string {
		var b strings.Builder
		fmt.Fprintf(&b, `page: {name: Cluster Status, url: 'http://127.0.0.1'}
server:
  listen: 127.0.0.1:0
  data_dir: ./data-%[1]s
  database: ${E2E_DATABASE_%[4]s}
  cluster: {name: %[1]s, lease: %[2]s}
components:
  - {id: api, name: API}
notifications:
  timeout: 1s
  backoff: 20ms
  max_backoff: 200ms
  channels:
    - {id: hook, type: webhook, url: '%[3]s/%[1]s/hook', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
checks:
`, name, lease, srv.URL, strings.ToUpper(name))
		for i := range checks {
			fmt.Fprintf(&b, "  - {id: check-%d, kind: http, url: '%s/%s/c/check-%d', interval: %s, timeout: 900ms, components: [api]}\n", i, srv.URL, name, i, interval)
		}
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// n3 reaches the database through a proxy the test can hold, as a
	// network that stops passing packets would.
	pgc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cut := probetest.NewProxy(t, net.JoinHostPort(pgc.Host, strconv.Itoa(int(pgc.Port))))
	t.Setenv("E2E_DATABASE_N1", dsn)
	t.Setenv("E2E_DATABASE_N2", dsn)
	t.Setenv("E2E_DATABASE_N3", viaProxy(t, dsn, cut.Addr()))
	names := []string{"n1", "n2", "n3"}
	cfgs := map[string]string{}
	for _, n := range names {
		cfgs[n] = config(n)
	}
	addUser(t, bin, cfgs["n1"], "ops@example.com", "Ops", "responder", "cluster test password")
	procs := map[string]*proc{}
	for _, n := range names {
		procs[n] = start(t, bin, cfgs[n])
	}
	logs := func() string {
		var b strings.Builder
		for _, n := range names {
			lw := procs[n].cmd.Stderr.(*lockedWriter)
			lw.mu.lock()
			text := lw.b.String()
			lw.mu.unlock()
			fmt.Fprintf(&b, "--- %s\n%s\n", n, tail(text, 40))
		}
		return b.String()
	}
	type role struct {
		Cluster struct {
			Name, Role string
			Checks     int
			Live       int
		}
	}
	roles := func() map[string]role {
		out := map[string]role{}
		for _, n := range names {
			if procs[n].cmd.ProcessState != nil {
				continue
			}
			var r role
			resp, err := http.Get("http://" + procs[n].addr + "/healthz")
			if err == nil {
				json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
			}
			out[n] = r
		}
		return out
	}
	// Every instance sees the three, one leads, and the checks are shared.
	deadline := time.Now().Add(60 * time.Second)
	for {
		rs := roles()
		sum, leaders, spread := 0, 0, true
		for _, r := range rs {
			sum += r.Cluster.Checks
			if r.Cluster.Role == "leader" {
				leaders++
			}
			spread = spread && r.Cluster.Live == 3 && r.Cluster.Checks > 0
		}
		if sum == checks && leaders == 1 && spread {
			t.Logf("shared: %+v", rs)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the three never shared the checks: %+v\n%s", rs, logs())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Notifications: incidents declared and updated through n1; every
	// instance's dispatcher competes for the messages.
	base := "http://" + procs["n1"].addr
	post := signIn(t, base, "ops@example.com", "cluster test password")
	const incidents, updates = 3, 12
	const total = incidents * (updates + 1)
	want := map[string][]string{}
	var ids []string
	for i := range incidents {
		out := post("/api/v1/incidents", map[string]any{"name": fmt.Sprintf("Incident %d", i), "message": fmt.Sprintf("i%d-u0", i)})
		id := out["incident"].(map[string]any)["id"].(string)
		ids = append(ids, id)
		want[id] = append(want[id], fmt.Sprintf("i%d-u0", i))
	}
	// The others' pages show it within a second or so: each instance
	// rebuilds its own snapshot when another announces a change.
	declared := time.Now()
	for _, n := range []string{"n2", "n3"} {
		waitFor(t, n+"'s page showing the incident declared on n1", func() bool {
			var doc incidentsDoc
			getJSON(t, "http://"+procs[n].addr+"/api/v2/incidents/unresolved.json", &doc)
			return len(doc.Incidents) == incidents
		})
	}
	t.Logf("the incidents declared on n1 were on the others' pages %v later", time.Since(declared).Round(time.Millisecond))
	for u := 1; u <= updates; u++ {
		for i, id := range ids {
			msg := fmt.Sprintf("i%d-u%d", i, u)
			post("/api/v1/incidents/"+id+"/updates", map[string]any{"message": msg})
			want[id] = append(want[id], msg)
		}
	}

	// Kill an instance while it has a delivery in flight and messages are
	// still owed.
	var victim string
	deadline = time.Now().Add(60 * time.Second)
	for victim == "" {
		target.mu.Lock()
		delivered := len(target.sends)
		for _, n := range []string{"n1", "n2"} { // n3 is cut off later
			if target.flying[n] > 0 && delivered >= 3 && delivered < total-5 {
				victim = n
				procs[n].cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		target.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no instance was ever caught mid-delivery (%d delivered)\n%s", delivered, logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
	killed := time.Now()
	<-procs[victim].done
	t.Logf("killed %s mid-delivery", victim)
	var survivors []string
	for _, n := range names {
		if n != victim {
			survivors = append(survivors, n)
		}
	}

	// The page is served throughout, and everything owed arrives.
	deadline = time.Now().Add(90 * time.Second)
	for {
		for _, n := range survivors {
			resp, err := http.Get("http://" + procs[n].addr + "/")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s's page after the kill: %v %v", n, err, resp)
			}
			resp.Body.Close()
		}
		target.mu.Lock()
		got := len(target.sends)
		target.mu.Unlock()
		if got == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d notifications arrived after the kill\n%s", got, total, logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The victim's checks are run again by the others: wait until every
	// check has been probed by a survivor more than lease+interval after
	// the kill, and measure how long each took.
	takeover := time.Duration(0)
	deadline = time.Now().Add(30 * time.Second)
	for {
		target.mu.Lock()
		waiting := 0
		for i := range checks {
			ps := target.probes[fmt.Sprintf("check-%d", i)]
			first := time.Time{}
			for _, p := range ps {
				if p.at.After(killed) && p.by != victim {
					first = p.at
					break
				}
			}
			if first.IsZero() || !slices.ContainsFunc(ps, func(p probe) bool { return p.at.After(killed.Add(lease + 2*interval)) }) {
				waiting++
				continue
			}
			takeover = max(takeover, first.Sub(killed))
		}
		target.mu.Unlock()
		if waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d checks were not taken over after the kill\n%s", waiting, logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// n3 is cut off from the database: it goes on serving its last
	// snapshot, fences itself (it runs nothing), and its checks go to
	// the one left.
	cut.Hold()
	var other string
	for _, n := range survivors {
		if n != "n3" {
			other = n
		}
	}
	waitFor(t, "n3 fenced and n2's or n1's checks all twelve", func() bool {
		rs := roles()
		return rs["n3"].Cluster.Role == "fenced" && rs[other].Cluster.Checks == checks
	})
	resp, err := http.Get("http://" + procs["n3"].addr + "/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("n3's page while it cannot reach the database: %v %v", err, resp)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Incident 0") {
		t.Fatalf("n3's page while cut off lost its last snapshot:\n%s", page)
	}
	procs["n3"].cmd.Process.Signal(syscall.SIGKILL)
	<-procs["n3"].done
	procs[other].cmd.Process.Signal(syscall.SIGTERM)
	<-procs[other].done

	target.mu.Lock()
	defer target.mu.Unlock()
	if len(target.twice) > 0 {
		t.Errorf("sent by two instances at once: %v", target.twice)
	}
	for _, id := range ids {
		if got := strings.Join(target.order[id], ","); got != strings.Join(want[id], ",") {
			t.Errorf("incident %s arrived in order\n %s\nwant\n %s", id, got, strings.Join(want[id], ","))
		}
	}
	// A message goes out again only when the kill cut off the victim's
	// attempt (in flight, or answered but not yet recorded): first the
	// victim's send, then one by a survivor.
	repeats := 0
	for id, by := range target.sends {
		if len(by) > 1 {
			repeats++
			if len(by) != 2 || by[0] != victim || by[1] == victim {
				t.Errorf("message %s sent by %v; only an attempt the kill cut off may go out again, once", id, by)
			}
		}
	}
	// No check ran twice in a slot: probes of one check are an interval
	// apart (a half interval's slack for lag), whichever instance ran them.
	for i := range checks {
		id := fmt.Sprintf("check-%d", i)
		ps := target.probes[id]
		sort.Slice(ps, func(a, b int) bool { return ps[a].at.Before(ps[b].at) })
		for k := 1; k < len(ps); k++ {
			if gap := ps[k].at.Sub(ps[k-1].at); gap < interval/2 {
				t.Errorf("%s ran twice in one slot: by %s and %s %v apart", id, ps[k-1].by, ps[k].by, gap)
			}
		}
	}
	if max := lease + 2*interval; takeover > max+time.Second {
		t.Errorf("the last check was taken over %v after the kill; want within the lease and an interval (%v)", takeover, max)
	}
	t.Logf("%d notifications, %d cut off by the kill and sent again; checks taken over within %v of the kill", total, repeats, takeover.Round(time.Millisecond))
}

// viaProxy is dsn reaching its server at addr instead.
func viaProxy(t *testing.T, dsn, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = addr
		return u.String()
	}
	return dsn + " host=" + host + " port=" + port // the last of a keyword given twice counts
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
