package auth

import (
	"slices"
	"sync"
	"time"
)

// Limiter allows at most Limit events per key in any Window: one address
// may subscribe 20 times in any hour, an account may fail to sign in 50
// times in any 15 minutes. It keeps, per key, the times of its last
// Limit events, so there is no window boundary to burst across: at most
// MaxKeys × Limit times of 8 bytes. Beyond MaxKeys keys, those with no
// event left in the window go first, then the half with the fewest events
// (the fullest, the ones that matter, stay). Safe for concurrent use.
type Limiter struct {
	Limit   int
	Window  time.Duration
	MaxKeys int

	mu  sync.Mutex
	log map[string][]int64 // per key, Unix nanoseconds, oldest first, at most Limit
}

// NewLimiter returns a limiter of limit events per key in any window,
// keeping at most 100,000 keys.
func NewLimiter(limit int, window time.Duration) *Limiter {
	return &Limiter{Limit: limit, Window: window, MaxKeys: 100_000, log: map[string][]int64{}}
}

// Allow counts an event for key at now when it is within the limit;
// otherwise it counts nothing and says how long until it would be.
func (l *Limiter) Allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.wait(key, now); wait > 0 {
		return wait, false
	}
	l.add(key, now)
	return 0, true
}

// Wait says how long until key may have another event: zero when it may
// now.
func (l *Limiter) Wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wait(key, now)
}

// Add counts an event for key at now, whatever the limit (an event that
// happened anyway: a known device's failure still counts towards the
// address).
func (l *Limiter) Add(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.add(key, now)
}

// TakeBack removes the event counted for key at at, if it is still kept.
func (l *Limiter) TakeBack(key string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts, t := l.log[key], at.UnixNano()
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i] == t {
			l.log[key] = slices.Delete(ts, i, i+1)
			break
		}
	}
	if len(l.log[key]) == 0 {
		delete(l.log, key)
	}
}

// Count is how many of key's events are within the window at now.
func (l *Limiter) Count(key string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.live(key, now))
}

// Keys is how many keys are kept.
func (l *Limiter) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.log)
}

// live drops key's events that are out of the window and returns the
// rest. Must be called with l.mu held.
func (l *Limiter) live(key string, now time.Time) []int64 {
	ts, cut := l.log[key], now.Add(-l.Window).UnixNano()
	i := 0
	for i < len(ts) && ts[i] <= cut {
		i++
	}
	if i > 0 {
		ts = ts[i:]
		if len(ts) == 0 {
			delete(l.log, key)
		} else {
			l.log[key] = ts
		}
	}
	return ts
}

// wait must be called with l.mu held.
func (l *Limiter) wait(key string, now time.Time) time.Duration {
	ts := l.live(key, now)
	if len(ts) < l.Limit {
		return 0
	}
	// Allowed again once the Limit-th newest event leaves the window.
	return time.Unix(0, ts[len(ts)-l.Limit]).Add(l.Window).Sub(now)
}

// add must be called with l.mu held.
func (l *Limiter) add(key string, now time.Time) {
	ts := l.live(key, now)
	if ts == nil {
		l.trim(now)
	}
	ts = append(ts, now.UnixNano())
	if over := len(ts) - max(l.Limit, 1); over > 0 {
		ts = ts[over:] // only the newest Limit decide the wait
	}
	l.log[key] = ts
}

// trim keeps fewer than MaxKeys keys. Must be called with l.mu held.
func (l *Limiter) trim(now time.Time) {
	if len(l.log) < l.MaxKeys {
		return
	}
	for k := range l.log {
		l.live(k, now)
	}
	if len(l.log) >= l.MaxKeys/4 {
		halve(l.log, func(ts []int64) int64 { return int64(len(ts)) })
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
