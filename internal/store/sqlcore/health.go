package sqlcore

import (
	"sync"
	"time"

	"github.com/upstatehq/upstate"
)

// Health is what a driver's writer knows of its last commits: whether the
// database accepts writes, and if not, why and since when. The writer
// calls Begin and End around each commit; requests read Err. Safe for
// concurrent use.
type Health struct {
	mu    sync.Mutex
	err   error     // the last commit's failure, classified; nil when it succeeded
	since time.Time // when writes began failing
	// inFlight is when the commit in progress began, zero when none, on
	// the wall clock (with its monotonic reading), not the store's clock:
	// it is held against the write timeout, which the writer enforces as
	// a real deadline, and an injected clock may stand still (tests) or
	// run fast and jump days (the demo) while a commit takes
	// milliseconds.
	inFlight time.Time
	lastOK   time.Time // when a commit last went through
}

// Begin marks a commit in progress.
func (h *Health) Begin() {
	h.mu.Lock()
	h.inFlight = time.Now() // the wall clock: see inFlight
	h.mu.Unlock()
}

// End records the commit's outcome at now: an EUNAVAILABLE error says the
// database refused it; anything else (nil, or a request's own mistake,
// such as a constraint) says it took writes.
func (h *Health) End(now time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inFlight = time.Time{}
	if upstate.ErrorCode(err) != upstate.EUNAVAILABLE {
		h.err, h.lastOK = nil, now
		return
	}
	if h.err == nil {
		h.since = now
	}
	h.err = err
}

// Err is nil while the database accepts writes, else an EUNAVAILABLE
// error saying why and since when; a commit in progress for longer than
// timeout is one too, told with stalled (what such a stall may be, in the
// driver's words).
func (h *Health) Err(timeout time.Duration, stalled string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.inFlight.IsZero() {
		if took := time.Since(h.inFlight); took > timeout { // the wall clock: see inFlight
			return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: a write has been in progress for %s (%s)",
				took.Round(time.Second), stalled)
		}
	}
	if h.err != nil {
		return upstate.Later(upstate.ErrorCode(h.err), upstate.RetryAfterOf(h.err), "%s (since %s)", upstate.ErrorMessage(h.err), h.since.UTC().Format(time.RFC3339))
	}
	return nil
}

// Recent reports whether a commit went through within every of now, with
// no failure since: a write probe need not write.
func (h *Health) Recent(now time.Time, every time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err == nil && !h.lastOK.IsZero() && now.Sub(h.lastOK) < every
}
