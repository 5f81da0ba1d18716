// Package e2e runs the real upstate binary: `serve` with a config file on
// a random port, watched only through its public API, as a user would.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// built is the binary, compiled once for every test in the package.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// build compiles the binary once per test run.
func build(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "upstate-e2e"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "upstate")
		cmd := exec.Command("go", "build", "-o", built.bin, "../cmd/upstate")
		cmd.Stderr = os.Stderr
		built.err = cmd.Run()
	})
	if built.err != nil {
		t.Fatalf("build: %v", built.err)
	}
	return built.bin
}

type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *strings.Builder
	done chan error
}

func start(t *testing.T, bin, config string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", config, "--log-level", "debug")
	stdout, _ := cmd.StdoutPipe()
	logs := &strings.Builder{}
	cmd.Stderr = &lockedWriter{b: logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: logs, done: make(chan error, 1)}
	lw := cmd.Stderr.(*lockedWriter)
	currentLogs = func() string { lw.mu.lock(); defer lw.mu.unlock(); return logs.String() }
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`at http://([^/]+)/`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case p.addr = <-addrCh:
	case err := <-p.done:
		t.Fatalf("serve exited early: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

type lockedWriter struct {
	b  *strings.Builder
	mu atomicMutex
}

type atomicMutex struct{ v atomic.Bool }

func (m *atomicMutex) lock() {
	for !m.v.CompareAndSwap(false, true) {
	}
}
func (m *atomicMutex) unlock() { m.v.Store(false) }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.lock()
	defer w.mu.unlock()
	return w.b.Write(p)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

type incidentsDoc struct {
	Incidents []struct {
		ID              string  `json:"id"`
		Name            string  `json:"name"`
		Status          string  `json:"status"`
		Impact          string  `json:"impact"`
		ResolvedAt      *string `json:"resolved_at"`
		IncidentUpdates []struct {
			Status string `json:"status"`
			Body   string `json:"body"`
		} `json:"incident_updates"`
		Components []struct {
			ID string `json:"id"`
		} `json:"components"`
	} `json:"incidents"`
}

// waitFor polls the public API until cond holds; the bound is generous
// because this test runs a real process on real time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\n%s", what, logsOf(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const configTemplate = `page:
  name: E2E Status
  url: http://127.0.0.1:8080
  time_zone: Europe/Berlin
server:
  listen: 127.0.0.1:0
  data_dir: ./data
components:
  - {id: api, name: API, group: Platform}
%s
checks:
  - id: api-health
    kind: http
    url: %s/health
    interval: 1s
    timeout: 900ms
    recheck: {count: 3, every: 100ms}
    recovery_window: 1s
    expect: {status: [200], body_contains: ok}
    components: [api]
  - id: batch
    kind: heartbeat
    period: 1h
    token: ${E2E_HEARTBEAT_TOKEN}
    components: [api]
`

func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	var failing atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer target.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "upstate.yaml")
	write := func(extra string) {
		if err := os.WriteFile(cfgPath, fmt.Appendf(nil, configTemplate, extra, target.URL), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	t.Setenv("E2E_HEARTBEAT_TOKEN", "hb-secret-token")
	bin := build(t)
	p := start(t, bin, cfgPath)
	base := "http://" + p.addr

	var status struct {
		Status struct{ Indicator string } `json:"status"`
	}
	waitFor(t, "all operational", func() bool {
		getJSON(t, base+"/api/v2/status.json", &status)
		return status.Status.Indicator == "none"
	})

	// The target fails: an incident opens, visible in the public API.
	failing.Store(true)
	var open incidentsDoc
	waitFor(t, "an open incident", func() bool {
		getJSON(t, base+"/api/v2/incidents/unresolved.json", &open)
		return len(open.Incidents) == 1
	})
	in := open.Incidents[0]
	if in.Name != "Major outage of API" || in.Impact != "critical" || in.Status != "investigating" || len(in.Components) != 1 || in.Components[0].ID != "api" {
		t.Errorf("incident = %+v", in)
	}
	// The public reads plain words; the evidence (the check, HTTP 503,
	// when) is the team's, in an internal note.
	if body := in.IncidentUpdates[len(in.IncidentUpdates)-1].Body; body != "The API is not responding." || strings.Contains(body, "503") {
		t.Errorf("first public update: %q, want plain words and no evidence", body)
	}
	getJSON(t, base+"/api/v2/status.json", &status)
	if status.Status.Indicator != "critical" {
		t.Errorf("indicator = %q during the outage", status.Status.Indicator)
	}

	// Heartbeats need their token; the secret never appears in logs.
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer wrong", 401}, {"Bearer hb-secret-token", 200}} {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/heartbeats/batch", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("heartbeat with %q: %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
	}

	// Recovery resolves it after the recovery window.
	failing.Store(false)
	var all incidentsDoc
	waitFor(t, "the incident resolved", func() bool {
		getJSON(t, base+"/api/v2/incidents.json", &all)
		return len(all.Incidents) == 1 && all.Incidents[0].Status == "resolved"
	})
	ups := all.Incidents[0].IncidentUpdates
	if ups[0].Status != "resolved" || ups[1].Status != "monitoring" || all.Incidents[0].ResolvedAt == nil {
		t.Errorf("updates = %+v", ups)
	}

	// SIGHUP reloads: a new component appears without losing history.
	write("  - {id: docs, name: Docs}")
	p.cmd.Process.Signal(syscall.SIGHUP)
	var comps struct {
		Components []struct{ ID string } `json:"components"`
	}
	waitFor(t, "the reloaded component", func() bool {
		getJSON(t, base+"/api/v2/components.json", &comps)
		for _, c := range comps.Components {
			if c.ID == "docs" {
				return true
			}
		}
		return false
	})

	// SIGTERM shuts down cleanly; history survives a restart.
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM\n%s", err, p.logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
	if strings.Contains(p.logs.String(), "hb-secret-token") {
		t.Error("the heartbeat token appears in the logs")
	}
	p2 := start(t, bin, cfgPath)
	getJSON(t, "http://"+p2.addr+"/api/v2/incidents.json", &all)
	if len(all.Incidents) != 1 || all.Incidents[0].Status != "resolved" {
		t.Errorf("after restart: %+v", all.Incidents)
	}
	p2.cmd.Process.Signal(syscall.SIGTERM)
	<-p2.done
}

var currentLogs func() string

func logsOf(*testing.T) string {
	if currentLogs == nil {
		return ""
	}
	return currentLogs()
}

// addUser runs `upstate user add` beside the configuration, the password
// on its standard input.
func addUser(t *testing.T, bin, cfgPath, email, name, role, password string) {
	t.Helper()
	add := exec.Command(bin, "user", "add", "--config", cfgPath, "--email", email, "--name", name, "--role", role)
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
}

// signIn signs in at base and returns a poster of JSON with that session:
// it fails the test on an answer of 300 or more, and returns the answer's
// JSON.
func signIn(t *testing.T, base, email, password string) func(path string, body any) map[string]any {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	post := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := client.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	post("/api/v1/login", map[string]string{"email": email, "password": password})
	return post
}
