package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate"
)

// SilenceStore keeps silences.
type SilenceStore interface {
	SaveSilence(ctx context.Context, s upstate.Silence) error
	// ListSilences returns those ending after since.
	ListSilences(ctx context.Context, since time.Time) ([]upstate.Silence, error)
	DeleteSilence(ctx context.Context, id string) error
}

// SilenceOptions configure Silences.
type SilenceOptions struct {
	Store  SilenceStore
	Now    func() time.Time
	NewID  func() string
	Logger *slog.Logger
}

// Silences is the delivery pipeline's mute stage: it owns the silences
// (made, ended, kept through its store) and says which one mutes a
// message now (Muted, the dispatcher's Options.Muted).
type Silences struct {
	opts SilenceOptions
	mu   sync.Mutex // serialises changes
	list atomic.Pointer[[]upstate.Silence]
}

// NewSilences returns the stage with no silences; Load reads them.
func NewSilences(opts SilenceOptions) (*Silences, error) {
	if opts.Store == nil || opts.Now == nil || opts.NewID == nil {
		return nil, errors.New("notify: SilenceOptions.Store, Now and NewID are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Silences{opts: opts}
	s.list.Store(&[]upstate.Silence{})
	return s, nil
}

// Load reads the silences not yet over.
func (s *Silences) Load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(ctx)
}

// load must be called with s.mu held.
func (s *Silences) load(ctx context.Context) error {
	list, err := s.opts.Store.ListSilences(ctx, s.opts.Now())
	if err != nil {
		return fmt.Errorf("load silences: %w", err)
	}
	s.list.Store(&list)
	return nil
}

// Muted says whether a silence mutes the message at now, and which.
func (s *Silences) Muted(m upstate.Message, now time.Time) (string, bool) {
	for _, x := range *s.list.Load() {
		if x.Mutes(m, now) {
			return fmt.Sprintf("%s by %s (%s)", x.ID, x.CreatedBy, x.Comment), true
		}
	}
	return "", false
}

// List returns the silences not yet over.
func (s *Silences) List(ctx context.Context) ([]upstate.Silence, error) {
	return s.opts.Store.ListSilences(ctx, s.opts.Now())
}

// Add mutes notifications matching every matcher from startsAt (zero:
// now) to endsAt.
func (s *Silences) Add(ctx context.Context, matchers []string, startsAt, endsAt time.Time, comment, actor string) (upstate.Silence, error) {
	now := s.opts.Now()
	var probs []string
	x := upstate.Silence{ID: s.opts.NewID(), StartsAt: startsAt, EndsAt: endsAt, CreatedBy: actor, Comment: strings.TrimSpace(comment), CreatedAt: now}
	if x.StartsAt.IsZero() {
		x.StartsAt = now
	}
	if len(matchers) == 0 {
		probs = append(probs, "matchers is required: e.g. component=api, channel=ops-slack")
	}
	for i, raw := range matchers {
		m, err := upstate.ParseMatcher(raw)
		if err != nil {
			probs = append(probs, fmt.Sprintf("matchers[%d]: %v", i, err))
			continue
		}
		x.Matchers = append(x.Matchers, m)
	}
	switch {
	case x.EndsAt.IsZero():
		probs = append(probs, "ends_at is required")
	case !x.EndsAt.After(x.StartsAt):
		probs = append(probs, "ends_at must be after starts_at: the silence ends before it starts")
	case !x.EndsAt.After(now):
		probs = append(probs, "ends_at is in the past")
	}
	if x.Comment == "" {
		probs = append(probs, "comment is required: say why, for the people it mutes")
	}
	if len(probs) > 0 {
		return upstate.Silence{}, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.opts.Store.SaveSilence(ctx, x); err != nil {
		return upstate.Silence{}, err
	}
	s.opts.Logger.Info("silence created", "component", "notify", "silence", x.ID, "actor", actor, "until", x.EndsAt)
	return x, s.load(ctx)
}

// Remove ends a silence now.
func (s *Silences) Remove(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.opts.Store.DeleteSilence(ctx, id); err != nil {
		return err
	}
	return s.load(ctx)
}
