package incident

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// ProviderUpdate is an update a provider posted on its incident.
type ProviderUpdate struct {
	At   time.Time
	Text string
}

// Mirror copies a provider's updates onto our open incident linked to
// its incident (by the link's URL), as public entries in the provider's
// name (the entry's actor is Upstate: it was not one of us) with a link
// to their page, each once. It returns how many it added.
func (e *Engine) Mirror(ctx context.Context, link upstate.Upstream, updates []ProviderUpdate) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var target *upstate.Incident
	for _, in := range e.open {
		if in.Upstream != nil && in.Upstream.URL == link.URL && in.Upstream.Provider == link.Provider {
			target = in
		}
	}
	if target == nil || len(updates) == 0 {
		return 0, nil
	}
	stored, err := e.opts.Store.GetIncident(ctx, target.ID)
	if err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, u := range stored.Updates {
		have[u.Body] = true
	}
	now := e.opts.Clock.Now()
	var change store.Change
	for _, u := range updates {
		text := strings.TrimSpace(u.Text)
		if text == "" {
			continue
		}
		body := fmt.Sprintf("**%s** (%s): %s\n\n[Their status page](%s)", upstate.EscapeMarkdown(link.Provider), e.clock(u.At), text, link.URL)
		if have[body] {
			continue
		}
		have[body] = true
		change.Entries = append(change.Entries, upstate.TimelineEntry{ID: e.opts.NewID(), IncidentID: target.ID, At: now, Status: target.Status,
			Body: body, Public: true, Actor: upstate.ActorUpstate})
	}
	if len(change.Entries) == 0 {
		return 0, nil
	}
	cp := *target
	cp.UpdatedAt = now
	change.Incidents = []*upstate.Incident{&cp}
	e.owe(&change)
	if err := e.opts.Store.Apply(ctx, change); err != nil {
		return 0, fmt.Errorf("mirror %s: %w", link.Provider, err)
	}
	e.replaceOpen(&cp)
	e.opts.Changed(maps.Clone(e.statuses))
	return len(change.Entries), nil
}
