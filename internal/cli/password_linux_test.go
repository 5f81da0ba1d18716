package cli

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: the master side plays the person at
// the keyboard, the slave side is the command's standard input.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("name the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// typeWhenQuiet types each line once the terminal has turned echo off,
// as a person would after the prompt, and waits for it to come back on.
func typeWhenQuiet(master, slave *os.File, lines ...string) {
	echo := func() bool {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		return err != nil || tio.Lflag&unix.ECHO != 0
	}
	for _, l := range lines {
		for echo() {
			runtime.Gosched()
		}
		master.WriteString(l + "\n")
		for !echo() {
			runtime.Gosched()
		}
	}
}

func TestPasswordPromptDoesNotEcho(t *testing.T) {
	master, slave := openPTY(t)
	go typeWhenQuiet(master, slave, "hidden passphrase one", "hidden passphrase one")
	var prompts bytes.Buffer
	got, err := readPassword("user passwd", false, slave, &prompts)
	if err != nil || got != "hidden passphrase one" {
		t.Fatalf("got %q, %v", got, err)
	}
	if !strings.Contains(prompts.String(), "New password: ") || !strings.Contains(prompts.String(), "The same password again: ") {
		t.Errorf("prompts = %q", prompts.String())
	}
	// What the terminal showed: everything up to a marker written after.
	slave.WriteString("END\n")
	var shown bytes.Buffer
	buf := make([]byte, 256)
	for !strings.Contains(shown.String(), "END") {
		n, err := master.Read(buf)
		shown.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if strings.Contains(shown.String(), "hidden") {
		t.Errorf("the terminal echoed the password: %q", shown.String())
	}
}

func TestPasswordPromptsMustAgree(t *testing.T) {
	master, slave := openPTY(t)
	go typeWhenQuiet(master, slave, "one long passphrase", "another long passphrase")
	if _, err := readPassword("user passwd", false, slave, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "the two passwords differ") {
		t.Errorf("err = %v", err)
	}
}
