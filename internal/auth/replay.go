package auth

import (
	"sync"
	"time"
)

// Replays remembers signed requests seen within a freshness window, so a
// captured one cannot be sent again while its timestamp still passes.
// Entries older than the window are dropped; beyond Max entries (a
// sender signing faster than any real one) Seen refuses new ones. Safe
// for concurrent use.
type Replays struct {
	Window time.Duration
	Max    int

	mu   sync.Mutex
	seen map[string]time.Time
}

// NewReplays returns a replay cache for the window.
func NewReplays(window time.Duration) *Replays {
	return &Replays{Window: window, Max: 100_000, seen: map[string]time.Time{}}
}

// Seen records key (a request's signature) at now and reports whether
// it was seen within the window before, or the cache is full: either way
// the request must be refused.
func (r *Replays) Seen(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.seen[key]; ok && now.Sub(at) <= 2*r.Window {
		return true
	}
	if len(r.seen) >= r.Max {
		for k, at := range r.seen {
			if now.Sub(at) > 2*r.Window {
				delete(r.seen, k)
			}
		}
		if len(r.seen) >= r.Max {
			return true
		}
	}
	r.seen[key] = now
	return false
}

// Forget drops key, so the same request may come again: for a signed
// request that was refused for a reason of ours (the database did not
// take it), which its sender will retry as it was.
func (r *Replays) Forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.seen, key)
}
