package e2e

import (
	"bufio"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// A real probe agent keeps probing while the server is restarted, and
// every result it took reaches the server once: none lost in the outage,
// none taken twice after it.
func TestProbeAgentSurvivesServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer target.Close()

	// A fixed port: the agent must find the server again where it was.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "upstate.yaml")
	cfg := "page: {name: Probe Status, url: 'http://127.0.0.1'}\nserver: {listen: '" + addr + "', data_dir: ./data}\n" +
		"components:\n  - {id: api, name: API}\n" +
		"checks:\n  - {id: api, kind: http, url: '" + target.URL + "', interval: 1s, timeout: 1s, regions: [eu], components: [api]}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := build(t)
	addUser(t, bin, cfgPath, "owner@example.com", "Olga", "owner", "probe test password")
	server := start(t, bin, cfgPath)
	base := "http://" + server.addr

	// An owner makes the agent's token.
	post := signIn(t, base, "owner@example.com", "probe test password")
	tok := post("/api/v1/tokens", map[string]any{"name": "eu probe", "scopes": []string{"agent:eu"}})["token"].(map[string]any)["token"].(string)
	tokenFile := filepath.Join(dir, "eu.token")
	if err := os.WriteFile(tokenFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	agent := exec.Command(bin, "probe", "--server", base, "--region", "eu", "--token-file", tokenFile, "--data", filepath.Join(dir, "probe"), "--log-level", "debug")
	agentLogs := &lockedWriter{b: &strings.Builder{}}
	agent.Stderr = agentLogs
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	agentDone := make(chan error, 1)
	go func() { agentDone <- agent.Wait() }()
	t.Cleanup(func() {
		if agent.ProcessState == nil {
			agent.Process.Kill()
			<-agentDone
		}
	})
	logs := func() string {
		agentLogs.mu.lock()
		defer agentLogs.mu.unlock()
		return agentLogs.b.String()
	}
	if strings.Contains(logs(), tok) {
		t.Fatal("the agent logged its token")
	}

	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v\nagent:\n%s\nserver:\n%s", what, d, logs(), logsOf(t))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The results the server has stored, read from its database beside
	// it (as a backup would).
	dbPath := filepath.Join(dir, "data", "upstate.db")
	stored := func() int64 {
		db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
		if err != nil {
			return 0
		}
		defer db.Close()
		var n int64
		if err := db.QueryRow(`SELECT COUNT(*) FROM results WHERE check_id = 'api'`).Scan(&n); err != nil {
			return 0
		}
		return n
	}
	waitFor("the server stores the agent's results", 30*time.Second, func() bool { return stored() >= 2 })

	// The server stops; the agent goes on probing, its results on disk.
	if err := server.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-server.done
	first := stored()
	during := hits.Load()
	waitFor("the agent probes while the server is away", 30*time.Second, func() bool { return hits.Load() >= during+3 })

	server = start(t, bin, cfgPath)
	if "http://"+server.addr != base {
		t.Fatalf("the server came back at %s, not %s", server.addr, base)
	}
	want := hits.Load()
	waitFor(fmt.Sprintf("all %d results probed by now (before the outage, in it and since) stored", want), 60*time.Second, func() bool {
		return stored() >= want
	})
	// None taken twice: what the second run took is what it added (a
	// result taken again would count without adding a row).
	waitFor("the second run takes only results it stores", 30*time.Second, func() bool {
		taken := agentResults(base)
		return taken > 0 && first+taken == stored()
	})
	if strings.Contains(logs(), tok) || strings.Contains(logsOf(t), tok) {
		t.Fatal("a token was logged")
	}
	agent.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-agentDone:
		if err != nil {
			t.Fatalf("the agent stopped with %v\n%s", err, logs())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not stop on SIGTERM")
	}
}

// agentResults reads how many results the server took from region eu
// since it started.
func agentResults(base string) int64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), `upstate_agent_results_total{region="eu"} `); ok {
			n, _ := strconv.ParseFloat(rest, 64)
			return int64(n)
		}
	}
	return 0
}
