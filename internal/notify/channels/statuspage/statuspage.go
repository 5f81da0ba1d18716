// Package statuspage posts to webhook subscribers in the body Atlassian
// Statuspage sends its own subscribers ({meta, page, incident}), so
// receivers built for Statuspage (chat integrations, aggregators) work
// unchanged; each request is also signed per Standard Webhooks.
package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels/webhook"
)

// Options configure one subscriber's channel.
type Options struct {
	URL    string
	Secret upstate.Secret
	Client *http.Client // guarded against private addresses by the caller
	PageID string
	Page   notify.Page
	// Indicator is the page's status now: indicator and description.
	Indicator func() (string, string)
	// Unsubscribe is the subscriber's unsubscribe link.
	Unsubscribe string
	Now         func() time.Time
}

// Subscriber is one webhook subscriber.
type Subscriber struct {
	opts Options
	key  []byte
}

var _ notify.Destined = (*Subscriber)(nil)

// New returns the channel.
func New(opts Options) (*Subscriber, error) {
	if opts.URL == "" || opts.Client == nil || opts.Now == nil || opts.Indicator == nil {
		return nil, errors.New("statuspage: Options.URL, Client, Now and Indicator are required")
	}
	key, err := webhook.DecodeSecret(opts.Secret)
	if err != nil {
		return nil, err
	}
	return &Subscriber{opts: opts, key: key}, nil
}

const stamp = "2006-01-02T15:04:05.000Z07:00"

func ts(t time.Time) string { return t.UTC().Format(stamp) }

func tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// Build makes the Statuspage subscriber-webhook body.
func Build(m upstate.Message, o Options) map[string]any {
	ev := m.Event
	in := ev.Incident
	indicator, description := o.Indicator()
	var updates []map[string]any
	for i := len(ev.Entries) - 1; i >= 0; i-- { // newest first
		e := ev.Entries[i]
		if !e.Public {
			continue
		}
		affected := []map[string]string{}
		for _, a := range e.Affected {
			affected = append(affected, map[string]string{"code": a.ComponentID, "name": ev.Names[a.ComponentID], "old_status": string(a.OldStatus), "new_status": string(a.NewStatus)})
		}
		updates = append(updates, map[string]any{"id": e.ID, "status": e.Status, "body": e.Body, "incident_id": in.ID, "created_at": ts(e.At),
			"updated_at": ts(e.At), "display_at": ts(e.At), "affected_components": affected, "deliver_notifications": true, "custom_tweet": nil, "tweet_id": nil})
	}
	comps := []map[string]any{}
	for _, c := range ev.Components() {
		comps = append(comps, map[string]any{"id": c, "name": ev.Names[c]})
	}
	shortlink := ""
	if o.Page.URL != "" {
		shortlink = o.Page.URL + "/incidents/" + in.ID
	}
	incident := map[string]any{"id": in.ID, "name": in.Name, "status": in.Status, "created_at": ts(in.CreatedAt), "updated_at": ts(in.UpdatedAt),
		"monitoring_at": tsp(in.MonitoringAt), "resolved_at": tsp(in.ResolvedAt), "impact": in.Impact, "shortlink": shortlink,
		"started_at": ts(in.StartedAt), "page_id": o.PageID, "incident_updates": updates, "components": comps}
	if m := ev.Maintenance; m != nil {
		// Statuspage sends a maintenance as an incident with its window.
		status := string(m.StatusAt(ev.At))
		if ev.Type == upstate.EventMaintenanceCancelled {
			status = "completed"
		}
		for _, u := range updates {
			u["incident_id"], u["status"] = m.ID, status
		}
		incident = map[string]any{"id": m.ID, "name": m.Name, "status": status, "created_at": ts(m.CreatedAt), "updated_at": ts(ev.At),
			"monitoring_at": nil, "resolved_at": nil, "impact": "maintenance", "shortlink": o.Page.URL, "started_at": ts(m.ScheduledFor),
			"page_id": o.PageID, "incident_updates": updates, "components": comps, "scheduled_for": ts(m.ScheduledFor), "scheduled_until": ts(m.ScheduledUntil)}
	}
	return map[string]any{
		"meta":     map[string]string{"unsubscribe": o.Unsubscribe, "documentation": "https://github.com/upstatehq/upstate#notifications"},
		"page":     map[string]string{"id": o.PageID, "status_indicator": indicator, "status_description": description},
		"incident": incident,
	}
}

// Send implements notify.Channel.
func (s *Subscriber) Send(ctx context.Context, m upstate.Message) error {
	body, err := json.Marshal(Build(m, s.opts))
	if err != nil {
		return notify.Permanent(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("bad URL: %w", errors.Unwrap(err)))
	}
	now := s.opts.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Upstate")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", webhook.Sign(s.key, m.ID, now, body))
	_, _, err = notify.Do(ctx, s.opts.Client, req)
	return err
}

// Destination implements notify.Destined: the site, as subscribers'
// URLs are outsiders' to choose (see notify.SiteOf).
func (s *Subscriber) Destination() string { return notify.SiteOf(s.opts.URL) }
