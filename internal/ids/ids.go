// Package ids makes Statuspage-style ids: 12 lowercase base-36 characters
// from crypto/rand.
package ids

import "crypto/rand"

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// New returns a fresh random id such as "kctbh9vrtdwd".
func New() string {
	var b [12]byte
	// 36 does not divide 256: drop bytes ≥ 252 to keep every letter equally likely.
	i := 0
	var buf [32]byte
	for i < len(b) {
		_, _ = rand.Read(buf[:])
		for _, x := range buf {
			if x >= 252 || i == len(b) {
				continue
			}
			b[i] = alphabet[x%36]
			i++
		}
	}
	return string(b[:])
}
