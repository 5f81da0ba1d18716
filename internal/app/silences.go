package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// loadSilences refreshes the silences the dispatcher consults.
func (a *App) loadSilences(ctx context.Context) error {
	list, err := a.store.ListSilences(ctx, a.opts.Clock.Now())
	if err != nil {
		return fmt.Errorf("load silences: %w", err)
	}
	a.silences.Store(&list)
	return nil
}

// muted implements notify.Options.Muted.
func (a *App) muted(m upstate.Message, now time.Time) (string, bool) {
	list := a.silences.Load()
	if list == nil {
		return "", false
	}
	for _, s := range *list {
		if s.Mutes(m, now) {
			return fmt.Sprintf("%s by %s (%s)", s.ID, s.CreatedBy, s.Comment), true
		}
	}
	return "", false
}

// Silences returns the silences not yet over.
func (a *App) Silences(ctx context.Context) ([]upstate.Silence, error) {
	return a.store.ListSilences(ctx, a.opts.Clock.Now())
}

// Silence mutes notifications matching every matcher from startsAt (zero:
// now) to endsAt.
func (a *App) Silence(ctx context.Context, matchers []string, startsAt, endsAt time.Time, comment, actor string) (upstate.Silence, error) {
	now := a.opts.Clock.Now()
	var probs []string
	s := upstate.Silence{ID: a.opts.NewID(), StartsAt: startsAt, EndsAt: endsAt, CreatedBy: actor, Comment: strings.TrimSpace(comment), CreatedAt: now}
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	if len(matchers) == 0 {
		probs = append(probs, "matchers is required: e.g. component=api, channel=ops-slack")
	}
	for i, x := range matchers {
		m, err := upstate.ParseMatcher(x)
		if err != nil {
			probs = append(probs, fmt.Sprintf("matchers[%d]: %v", i, err))
			continue
		}
		s.Matchers = append(s.Matchers, m)
	}
	switch {
	case s.EndsAt.IsZero():
		probs = append(probs, "ends_at is required")
	case !s.EndsAt.After(s.StartsAt):
		probs = append(probs, "ends_at must be after starts_at: the silence ends before it starts")
	case !s.EndsAt.After(now):
		probs = append(probs, "ends_at is in the past")
	}
	if s.Comment == "" {
		probs = append(probs, "comment is required: say why, for the people it mutes")
	}
	if len(probs) > 0 {
		return upstate.Silence{}, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	if err := a.store.SaveSilence(ctx, s); err != nil {
		return upstate.Silence{}, err
	}
	a.log.Info("silence created", "component", "notify", "silence", s.ID, "actor", actor, "until", s.EndsAt)
	return s, a.loadSilences(ctx)
}

// Unsilence ends a silence now.
func (a *App) Unsilence(ctx context.Context, id string) error {
	if err := a.store.DeleteSilence(ctx, id); err != nil {
		return err
	}
	return a.loadSilences(ctx)
}
