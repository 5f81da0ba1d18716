package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// WarningStore is what Warnings reads and writes.
type WarningStore interface {
	SaveWarning(ctx context.Context, w upstate.Warning, owed ...upstate.Message) error
	DeleteWarning(ctx context.Context, checkID, key string, owed ...upstate.Message) error
	ListWarnings(ctx context.Context) ([]upstate.Warning, error)
}

// WarningOptions configure Warnings.
type WarningOptions struct {
	Store      WarningStore
	Clock      clock.Clock
	Components []upstate.Component
	Checks     []upstate.CheckSpec
	// Route turns a warning event into its messages (the switchboard's
	// Route, which gives a warning to the team's channels only).
	Route func(upstate.Event) upstate.Owed
	// Changed is called after a change is stored, to wake the dispatcher.
	Changed func()
	Logger  *slog.Logger
}

// Warnings keeps the checks' current warnings, apart from their
// conditions: a warning never changes a status, opens an incident, pages
// anyone or reaches the public page. Operators hear of a warning once
// when it begins, again only when its stage changes (a certificate: under
// warn_days, under 7 days, under 1 day), and once when it is over; each
// change is stored with the messages it owes, so a restart tells nothing
// twice. A result that is not a failure lists every current warning of its
// check, so a key it lacks is over; a failure says nothing of those it does
// not carry (a server that does not answer has not renewed its
// certificate).
type Warnings struct {
	opts WarningOptions

	mu     sync.Mutex
	cur    map[string]map[string]upstate.Warning // check → key → warning
	checks map[string]*upstate.CheckSpec
	names  map[string]string // component names
}

// NewWarnings loads the current warnings.
func NewWarnings(ctx context.Context, opts WarningOptions) (*Warnings, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("incident: WarningOptions.Store is required")
	case opts.Clock == nil:
		return nil, errors.New("incident: WarningOptions.Clock is required")
	}
	if opts.Route == nil {
		opts.Route = func(upstate.Event) upstate.Owed { return upstate.Owed{} }
	}
	if opts.Changed == nil {
		opts.Changed = func() {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Warnings{opts: opts, cur: map[string]map[string]upstate.Warning{}}
	list, err := opts.Store.ListWarnings(ctx)
	if err != nil {
		return nil, fmt.Errorf("load warnings: %w", err)
	}
	for _, x := range list {
		w.put(x)
	}
	w.Configure(ctx, opts.Components, opts.Checks)
	return w, nil
}

func (w *Warnings) put(x upstate.Warning) {
	if w.cur[x.CheckID] == nil {
		w.cur[x.CheckID] = map[string]upstate.Warning{}
	}
	w.cur[x.CheckID][x.Key] = x
}

// Configure replaces the checks and components (a reload): the warnings
// of checks that are gone are dropped without a word, as their checks
// were. Like the engine's Reconfigure it keeps checks, not a copy.
func (w *Warnings) Configure(ctx context.Context, comps []upstate.Component, checks []upstate.CheckSpec) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.checks = make(map[string]*upstate.CheckSpec, len(checks))
	for i := range checks {
		w.checks[checks[i].ID] = &checks[i] // the slice is the configuration's, never written
	}
	w.names = map[string]string{}
	for _, c := range comps {
		w.names[c.ID] = c.Name
	}
	for id, keys := range w.cur {
		if _, ok := w.checks[id]; ok {
			continue
		}
		for key := range keys {
			if err := w.opts.Store.DeleteWarning(ctx, id, key); err != nil {
				w.opts.Logger.Warn("warning of a removed check not deleted; it is tried again on the next reload", "component", "incident", "check", id, "err", err)
				continue
			}
			delete(keys, key)
		}
		if len(keys) == 0 {
			delete(w.cur, id)
		}
	}
}

// Observe takes a result's warnings: it tells what is new and what is
// over. A change the store refuses is logged and tried again with the
// check's next result, which carries the same news.
func (w *Warnings) Observe(ctx context.Context, r upstate.Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	spec, ok := w.checks[r.CheckID]
	if !ok {
		return nil // removed by a reload while its probe ran
	}
	if len(r.Warnings) == 0 && len(w.cur[r.CheckID]) == 0 {
		return nil // nearly every result: nothing raised, nothing to clear
	}
	var errs []error
	carried := map[string]bool{}
	for _, x := range r.Warnings {
		x.CheckID = r.CheckID
		carried[x.Key] = true
		if err := w.raise(ctx, *spec, x, r.At); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Outcome == upstate.OutcomeFail {
		return errors.Join(errs...)
	}
	keys := make([]string, 0, len(w.cur[r.CheckID]))
	for key := range w.cur[r.CheckID] {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if !carried[key] {
			if err := w.clear(ctx, w.cur[r.CheckID][key], r.At); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// raise keeps an observed warning and tells it when it is new or at a new
// stage. Must be called with w.mu held.
func (w *Warnings) raise(ctx context.Context, spec upstate.CheckSpec, x upstate.Warning, at time.Time) error {
	x.CheckName, x.Components, x.Seen = spec.DisplayName(), slices.Clone(spec.Components), at
	prev, known := w.cur[x.CheckID][x.Key]
	if known && prev.Same(x) {
		// Nothing new to tell: keep what it says now ("4 days") in memory.
		x.Since = prev.Since
		w.put(x)
		return nil
	}
	x.Since = at
	if known {
		x.Since = prev.Since // the same warning, closer
	}
	ev := w.event(upstate.EventWarningRaised, x, at)
	if err := w.opts.Store.SaveWarning(ctx, x, w.opts.Route(ev).Messages...); err != nil {
		return fmt.Errorf("save warning %s of %s: %w", x.Key, x.CheckID, err)
	}
	w.put(x)
	w.opts.Logger.Info("warning raised", "component", "incident", "check", x.CheckID, "key", x.Key, "stage", x.Stage, "what", x.What)
	w.opts.Changed()
	return nil
}

// clear tells that a warning is over and forgets it. Must be called with
// w.mu held.
func (w *Warnings) clear(ctx context.Context, x upstate.Warning, at time.Time) error {
	ev := w.event(upstate.EventWarningCleared, x, at)
	if err := w.opts.Store.DeleteWarning(ctx, x.CheckID, x.Key, w.opts.Route(ev).Messages...); err != nil {
		return fmt.Errorf("clear warning %s of %s: %w", x.Key, x.CheckID, err)
	}
	delete(w.cur[x.CheckID], x.Key)
	if len(w.cur[x.CheckID]) == 0 {
		delete(w.cur, x.CheckID)
	}
	w.opts.Logger.Info("warning cleared", "component", "incident", "check", x.CheckID, "key", x.Key)
	w.opts.Changed()
	return nil
}

// event is a warning's news for the team's channels. Its one entry is an
// internal note: it is never public.
func (w *Warnings) event(t upstate.EventType, x upstate.Warning, at time.Time) upstate.Event {
	ev := upstate.Event{ID: x.EventID(t == upstate.EventWarningCleared, at), Type: t, At: at, Warning: &x, Names: map[string]string{}}
	for _, c := range x.Components {
		ev.Names[c] = w.names[c]
	}
	ev.Entries = []upstate.TimelineEntry{{ID: "warning", At: at, Public: false, Actor: upstate.ActorUpstate, Body: WarningBody(t, x)}}
	return ev
}

// WarningBody says a warning's news in a sentence or two, for people.
func WarningBody(t upstate.EventType, x upstate.Warning) string {
	check := upstate.EscapeMarkdown(x.CheckName)
	if t == upstate.EventWarningCleared {
		return fmt.Sprintf("Over: %s no longer warns (it said: %s).", check, upstate.EscapeMarkdown(x.What))
	}
	s := fmt.Sprintf("%s warns: %s.", check, upstate.EscapeMarkdown(x.What))
	if !x.Due.IsZero() {
		s += fmt.Sprintf(" The public status is unchanged until it fails, on %s.", x.Due.UTC().Format("Jan 2, 2006 15:04 UTC"))
	} else {
		s += " The public status is unchanged."
	}
	return s
}

// List returns the current warnings, soonest due first.
func (w *Warnings) List() []upstate.Warning {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []upstate.Warning
	for _, keys := range w.cur {
		for _, x := range keys {
			x.Components = slices.Clone(x.Components)
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b upstate.Warning) int {
		switch {
		case a.Due.IsZero() != b.Due.IsZero():
			if a.Due.IsZero() {
				return 1
			}
			return -1
		case !a.Due.Equal(b.Due):
			return a.Due.Compare(b.Due)
		}
		return strings.Compare(a.CheckID+"\x00"+a.Key, b.CheckID+"\x00"+b.Key)
	})
	return out
}
