package auth

import (
	"net/netip"
	"sync"
	"time"
)

// Throttle slows password guessing without handing attackers a way to
// lock people out.
//
//   - Failures count per account and address first: FreeFailures free, then
//     waits doubling from 1 s up to MaxWait. Someone guessing from one place
//     slows only themselves; the owner signing in from elsewhere is not
//     affected.
//   - Far above that, an account failing Accounts.Limit times within
//     Accounts.Window from anywhere (a guess spread over many addresses)
//     is refused to new devices until it is below that again, and an
//     address failing Addresses.Limit times within Addresses.Window (one
//     host spraying many accounts) likewise.
//   - A device that signed in to the account before (it holds a device
//     token) is exempt from both: strangers cannot lock out the owner, nor
//     a school's students the teacher behind the same NAT address. Its own
//     failures count per token, as an address's do.
//   - IPv6 addresses count by their /64, one host's usual allocation, and
//     towards the address-wide limit by their /56, a site's, so hopping
//     within them does not escape the limits.
//
// Attempts count when they begin, before the password is hashed, so many
// sent at once cannot slip past the limits while the hashes run; a right
// password then takes its attempt back. Safe for concurrent use.
type Throttle struct {
	now func() time.Time

	// FreeFailures per account and address (or device) before waits start.
	FreeFailures int
	// MaxWait caps the wait of one account and address.
	MaxWait time.Duration
	// Accounts and Addresses count failures per account, and per
	// address, in any window: at their limit, an account or an address is
	// refused to unknown devices.
	Accounts, Addresses *Limiter
	// Forget is how long a pair's failures are remembered after its last.
	Forget time.Duration
	// MaxRecords bounds the account-and-address pairs kept; beyond it the
	// stalest go first.
	MaxRecords int

	mu    sync.Mutex
	pairs map[string]*pairRecord
}

type pairRecord struct {
	failures int
	last     time.Time
	until    time.Time
}

// NewThrottle returns a throttle with the house limits: 5 free failures
// per account and address, then waits doubling from 1 s to 15 min; 50
// failures of one account, or 300 from one address, within 15 minutes
// close it to devices that never signed in.
func NewThrottle(now func() time.Time) *Throttle {
	t := &Throttle{now: now, FreeFailures: 5, MaxWait: 15 * time.Minute,
		Accounts: NewLimiter(50, 15*time.Minute), Addresses: NewLimiter(300, 15*time.Minute),
		Forget: 24 * time.Hour, MaxRecords: 100_000, pairs: map[string]*pairRecord{}}
	// A quarter of the pairs' bound each: at most 10 MB of account
	// failures and 60 MB of address failures, and only after millions of
	// hashed guesses.
	t.Accounts.MaxKeys, t.Addresses.MaxKeys = t.MaxRecords/4, t.MaxRecords/4
	return t
}

// Attempt is a sign-in the throttle let through; End says how it went,
// or Cancel takes it back.
type Attempt struct {
	pair, account, addr string
	known               bool
	prevUntil           time.Time // the pair's wait before this attempt
	at                  time.Time // when it was counted
}

// AddressKey is what an address counts as: IPv6 addresses by their /64,
// IPv4 (and IPv4-mapped) addresses as themselves.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// SiteKey is what an address counts as towards the address-wide limit:
// IPv6 addresses by their /56, IPv4 addresses as themselves.
func SiteKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(56)
	return p.String()
}

// Begin lets an attempt at account from addr through, counting it as a
// failure until End says otherwise, or says how long to wait. device is
// the device token's identity when the request carries a valid one for
// this account, else empty.
func (t *Throttle) Begin(account, addr, device string) (*Attempt, time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	at := &Attempt{account: account, addr: SiteKey(addr), known: device != ""}
	if at.known {
		at.pair = account + "\x00device\x00" + device
	} else {
		at.pair = account + "\x00" + AddressKey(addr)
	}
	p := t.pairs[at.pair]
	if p != nil && now.Sub(p.last) > t.Forget {
		p = nil
	}
	if p != nil && now.Before(p.until) {
		return nil, p.until.Sub(now), false
	}
	if !at.known {
		if wait := t.Accounts.Wait(account, now); wait > 0 {
			return nil, wait, false
		}
		if wait := t.Addresses.Wait(at.addr, now); wait > 0 {
			return nil, wait, false
		}
	}
	t.trim(now)
	if p == nil {
		p = &pairRecord{}
		t.pairs[at.pair] = p
	}
	at.prevUntil = p.until
	p.failures++
	p.last = now
	if over := p.failures - t.FreeFailures; over > 0 {
		p.until = now.Add(min(time.Second<<min(over-1, 20), t.MaxWait))
	}
	at.at = now
	t.Accounts.Add(account, now)
	t.Addresses.Add(at.addr, now)
	return at, 0, true
}

// End records how an attempt went: a right password clears its account
// and address (or device) and takes back its count; a wrong one stays
// counted.
func (t *Throttle) End(at *Attempt, ok bool) {
	if at == nil || !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs, at.pair)
	t.Accounts.TakeBack(at.account, at.at)
	t.Addresses.TakeBack(at.addr, at.at)
}

// Cancel takes back an attempt that was let through but never checked
// (no password was hashed for it).
func (t *Throttle) Cancel(at *Attempt) {
	if at == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.pairs[at.pair]; p != nil {
		p.failures = max(0, p.failures-1)
		p.until = at.prevUntil
	}
	t.Accounts.TakeBack(at.account, at.at)
	t.Addresses.TakeBack(at.addr, at.at)
}

// trim keeps the pairs within MaxRecords: those forgotten, or with only
// free failures long ago, go first; then, still full (an attack from
// very many places), the half heard from longest ago. Waits end early
// for some; the account and address limits, bounded on their own, still
// hold. Must be called with t.mu held.
func (t *Throttle) trim(now time.Time) {
	if len(t.pairs) < t.MaxRecords {
		return
	}
	for k, p := range t.pairs {
		if now.Sub(p.last) > t.Forget || (p.failures <= t.FreeFailures && now.Sub(p.last) > t.Accounts.Window) {
			delete(t.pairs, k)
		}
	}
	if len(t.pairs) >= t.MaxRecords/2 {
		halve(t.pairs, func(p *pairRecord) int64 { return p.last.UnixNano() })
	}
}
