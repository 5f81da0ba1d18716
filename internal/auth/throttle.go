package auth

import (
	"sync"
	"time"
)

// Throttle slows password guessing. Each account gets a few free failures
// and then an exponentially growing wait; each address gets a far higher
// allowance, so a school of hundreds behind one NAT address is not locked
// out by one student's typos, while a single host spraying many accounts
// still is. Successful logins clear the account's record. Safe for
// concurrent use.
type Throttle struct {
	now func() time.Time

	// FreeFailures per account before waits start.
	FreeFailures int
	// MaxWait caps the wait of one account.
	MaxWait time.Duration
	// AddressLimit failures per address within AddressWindow.
	AddressLimit  int
	AddressWindow time.Duration

	mu       sync.Mutex
	accounts map[string]*accountRecord
	hosts    map[string]*hostRecord
}

type accountRecord struct {
	failures int
	until    time.Time
}

type hostRecord struct {
	start    time.Time
	failures int
}

// NewThrottle returns a throttle with the house limits: 5 free failures
// per account, waits doubling from 1 s up to 15 min; 300 failures per
// address per 15 minutes.
func NewThrottle(now func() time.Time) *Throttle {
	return &Throttle{now: now, FreeFailures: 5, MaxWait: 15 * time.Minute, AddressLimit: 300, AddressWindow: 15 * time.Minute,
		accounts: map[string]*accountRecord{}, hosts: map[string]*hostRecord{}}
}

// Allow reports whether a login attempt may be checked now, and if not,
// how long to wait.
func (t *Throttle) Allow(account, addr string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if h := t.hosts[addr]; h != nil {
		if now.Sub(h.start) >= t.AddressWindow {
			delete(t.hosts, addr)
		} else if h.failures >= t.AddressLimit {
			return false, h.start.Add(t.AddressWindow).Sub(now)
		}
	}
	if a := t.accounts[account]; a != nil && now.Before(a.until) {
		return false, a.until.Sub(now)
	}
	return true, 0
}

// Failed records a failed attempt.
func (t *Throttle) Failed(account, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	h := t.hosts[addr]
	if h == nil || now.Sub(h.start) >= t.AddressWindow {
		h = &hostRecord{start: now}
		t.hosts[addr] = h
	}
	h.failures++
	a := t.accounts[account]
	if a == nil {
		a = &accountRecord{}
		t.accounts[account] = a
	}
	a.failures++
	if over := a.failures - t.FreeFailures; over > 0 {
		wait := time.Second << min(over-1, 20)
		a.until = now.Add(min(wait, t.MaxWait))
	}
}

// Succeeded clears the account's failures.
func (t *Throttle) Succeeded(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, account)
}
