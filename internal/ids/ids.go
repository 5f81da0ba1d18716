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

// Stable returns a 12-character id derived from s, the same every time:
// for things that have a name but no stored id (the page, groups).
func Stable(s string) string {
	var h uint64 = 14695981039346656037 // FNV-1a
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	var b [12]byte
	for i := range b {
		// Mix before every digit so all twelve depend on every byte.
		h ^= h >> 29
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 32
		b[i] = alphabet[h%36]
	}
	return string(b[:])
}
