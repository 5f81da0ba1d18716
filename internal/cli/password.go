package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// readPassword reads a new password: the first line of standard input
// when fromStdin is set or standard input is not a terminal (a pipe, a
// file), otherwise asked for twice at a prompt on stderr without echo
// where the terminal allows it. The password is never printed.
func readPassword(cmd string, fromStdin bool, stdin io.Reader, stderr io.Writer) (string, error) {
	f, isFile := stdin.(*os.File)
	if fromStdin || !isFile || !isTerminal(f) {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	first, err := prompt(f, stderr, "New password: ")
	if err != nil {
		return "", err
	}
	again, err := prompt(f, stderr, "The same password again: ")
	if err != nil {
		return "", err
	}
	if first != again {
		return "", errors.New("the two passwords differ: nothing was changed")
	}
	return first, nil
}

func prompt(f *os.File, stderr io.Writer, label string) (string, error) {
	fmt.Fprint(stderr, label)
	line, err := readHidden(f)
	fmt.Fprintln(stderr)
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the password at the prompt: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// readLine reads one line byte by byte, so nothing after it is consumed.
func readLine(f *os.File) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := f.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			return b.String(), err
		}
	}
}
