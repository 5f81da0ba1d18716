package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// readHidden reads a line from the terminal with echo turned off, and
// puts the terminal back as it was.
func readHidden(f *os.File) (string, error) {
	fd := int(f.Fd())
	was, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return readLine(f)
	}
	quiet := *was
	quiet.Lflag &^= unix.ECHO
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return readLine(f)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, was)
	return readLine(f)
}
