// Package typo finds what a person probably meant: the known word closest
// to one that is not known, for "did you mean" in the messages that
// refuse a file's keys (the configuration, an import file).
package typo

// maxLen bounds the words compared: the distance costs the product of the
// two lengths, and a hostile file's key may be long.
const maxLen = 64

// Closest returns the name closest to word when it is near enough to be a
// typo (at most two edits away), or "".
func Closest(word string, names []string) string {
	if len(word) > maxLen {
		return ""
	}
	best, bestD := "", 3
	for _, n := range names {
		if d := distance(word, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
