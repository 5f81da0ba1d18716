package auth

import (
	"slices"
	"sync"
	"time"
)

// Limiter allows at most Limit events per key in each Window, the window
// starting at a key's first event: one address may subscribe 20 times an
// hour, say. Its records are bounded by MaxKeys; beyond that, windows
// that are over go first, then the half furthest from their limit. Safe
// for concurrent use. The sign-in Throttle counts its account-wide and
// address-wide failures with the same windows.
type Limiter struct {
	Limit   int
	Window  time.Duration
	MaxKeys int

	mu sync.Mutex
	w  windows
}

// NewLimiter returns a limiter of limit events per key in each window,
// keeping at most 100,000 keys.
func NewLimiter(limit int, window time.Duration) *Limiter {
	return &Limiter{Limit: limit, Window: window, MaxKeys: 100_000, w: windows{}}
}

// Allow counts an event for key at now when it is within the limit;
// otherwise it counts nothing and says how long until the key's window
// ends.
func (l *Limiter) Allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.w.wait(key, now, l.Limit, l.Window); wait > 0 {
		return wait, false
	}
	l.w.trim(now, l.Window, l.MaxKeys)
	l.w.add(key, now, l.Window, 1)
	return 0, true
}

// windows counts events per key in fixed windows. Not safe for
// concurrent use on its own: its owner holds a lock.
type windows map[string]*window

type window struct {
	start    time.Time
	failures int
}

// wait is how long until key may have another event under limit: zero
// when it may now.
func (ws windows) wait(key string, now time.Time, limit int, span time.Duration) time.Duration {
	if x := ws[key]; x != nil && now.Sub(x.start) < span && x.failures >= limit {
		return x.start.Add(span).Sub(now)
	}
	return 0
}

// add adds n to key's window, starting a new window when the last one is
// over; a negative n takes events back from a window still running.
func (ws windows) add(key string, now time.Time, span time.Duration, n int) {
	w := ws[key]
	if w == nil || now.Sub(w.start) >= span {
		if n < 0 {
			return // the event's window is over already
		}
		w = &window{start: now}
		ws[key] = w
	}
	w.failures = max(0, w.failures+n)
}

// trim keeps fewer than max keys: windows that are over go first, then,
// while still at a quarter of max or more, the half of the windows
// furthest from their limits (the fullest, the ones that matter, stay).
func (ws windows) trim(now time.Time, span time.Duration, max int) {
	if len(ws) < max {
		return
	}
	ws.expire(now, span)
	if len(ws) >= max/4 {
		halve(ws, func(w *window) int64 { return int64(w.failures) })
	}
}

// expire deletes the windows that are over.
func (ws windows) expire(now time.Time, span time.Duration) {
	for k, w := range ws {
		if now.Sub(w.start) >= span {
			delete(ws, k)
		}
	}
}

// halve deletes the records whose score is at or below the median.
func halve[R any](m map[string]R, score func(R) int64) {
	scores := make([]int64, 0, len(m))
	for _, r := range m {
		scores = append(scores, score(r))
	}
	slices.Sort(scores)
	cut := scores[len(scores)/2]
	for k, r := range m {
		if score(r) <= cut {
			delete(m, k)
		}
	}
}
