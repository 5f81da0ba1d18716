package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// upstate probe says what is missing, all at once, and never echoes a
// token it was given.
func TestProbeFlags(t *testing.T) {
	code, _, stderr := run("probe", "--server", "status.example.com", "--region", "EU", "--data", t.TempDir())
	if code != exitUsage {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--server \"status.example.com\": want the server's URL", "--region \"EU\"", "a token is required: --token-file, UPSTATE_PROBE_TOKEN or --token"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	file := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(file, []byte("ups_secret_value\n"), 0o600)
	code, _, stderr = run("probe", "--server", "https://status.example.com", "--region", "local", "--token-file", file, "--data", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, "which is the server's own") || strings.Contains(stderr, "ups_secret_value") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := run("probe", "--token-file", filepath.Join(t.TempDir(), "none"), "--server", "https://x", "--region", "eu"); code != exitUsage || !strings.Contains(stderr, "--token-file") {
		t.Fatalf("a missing token file: %d %s", code, stderr)
	}
	if code, out, _ := run("probe", "--help"); code != 0 && !strings.Contains(out, "probe agent") {
		t.Fatalf("help: %d", code)
	}
}

func TestProbeShowsNoPasswordOfItsServer(t *testing.T) {
	if got := withoutUserinfo("https://probe:s3cret@status.example.com/x"); got != "https://status.example.com/x" || strings.Contains(got, "s3cret") {
		t.Errorf("shown as %q", got)
	}
	if got := withoutUserinfo("https://status.example.com"); got != "https://status.example.com" {
		t.Errorf("shown as %q", got)
	}
}

func TestProbeRefusesPlainHTTPToAnotherMachine(t *testing.T) {
	for raw, want := range map[string]bool{"http://status.example.com": true, "http://10.0.0.5:8080": true, "http://127.0.0.1:8080": false,
		"http://[::1]:8080": false, "http://localhost:8080": false, "https://status.example.com": false} {
		if got := plainRemote(raw); got != want {
			t.Errorf("plainRemote(%s) = %v", raw, got)
		}
	}
	if code, _, errOut := run("probe", "--server", "http://status.example.com", "--region", "eu", "--token", "x"); code != 2 || !strings.Contains(errOut, "in clear") {
		t.Errorf("plain http to another machine: %d %q", code, errOut)
	}
}
