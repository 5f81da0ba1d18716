package clock

import (
	"context"
	"sync"
	"time"
)

// Scaled is a clock that runs Speed times faster than real time from a
// chosen start, and can jump forward. The demo replays a month on it.
// Timers fire when the scaled time reaches them; Run drives them and must
// be running for any timer to fire.
type Scaled struct {
	fake  *Fake
	speed float64

	mu       sync.Mutex
	base     time.Time // scaled time at realBase
	realBase time.Time
	jumped   chan struct{}
}

// NewScaled returns a clock showing start and running speed times real time.
func NewScaled(start time.Time, speed float64) *Scaled {
	if speed <= 0 {
		speed = 1
	}
	return &Scaled{fake: NewFake(start), speed: speed, base: start, realBase: time.Now(), jumped: make(chan struct{}, 1)}
}

// Now implements Clock.
func (s *Scaled) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Scaled) nowLocked() time.Time {
	elapsed := time.Since(s.realBase)
	return s.base.Add(time.Duration(float64(elapsed) * s.speed))
}

// Speed is how many scaled seconds pass per real second.
func (s *Scaled) Speed() float64 { return s.speed }

// AfterFunc implements Clock.
func (s *Scaled) AfterFunc(d time.Duration, f func()) Timer {
	return s.fake.AfterFunc(s.offset(d), f)
}

// NewTimer implements Clock.
func (s *Scaled) NewTimer(d time.Duration) Timer { return s.fake.NewTimer(s.offset(d)) }

// offset turns a delay from scaled-now into a delay from the inner fake's
// now, which lags behind between Run's steps.
func (s *Scaled) offset(d time.Duration) time.Duration {
	return s.Now().Add(d).Sub(s.fake.Now())
}

// Jump moves the clock forward by d at once; timers due in between fire in order.
func (s *Scaled) Jump(d time.Duration) {
	s.mu.Lock()
	s.base = s.nowLocked().Add(d)
	s.realBase = time.Now()
	target := s.base
	s.mu.Unlock()
	s.fake.AdvanceTo(target)
	select {
	case s.jumped <- struct{}{}:
	default:
	}
}

// Run fires timers as scaled time reaches them, until ctx is done.
func (s *Scaled) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		changed := s.fake.changes()
		s.fake.AdvanceTo(s.Now())
		wait := time.Second
		if next, ok := s.fake.Next(); ok {
			wait = time.Duration(float64(next.Sub(s.Now())) / s.speed)
			if wait < 0 {
				wait = 0
			}
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-changed:
		case <-s.jumped:
		}
	}
}
