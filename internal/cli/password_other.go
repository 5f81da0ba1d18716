//go:build !linux

package cli

import "os"

// readHidden reads a line from the terminal; echo cannot be turned off
// here without another dependency, so prefer --password-stdin.
func readHidden(f *os.File) (string, error) { return readLine(f) }
