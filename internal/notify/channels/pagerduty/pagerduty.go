// Package pagerduty sends PagerDuty Events API v2 events: trigger when an
// incident opens or changes, acknowledge when someone takes it on,
// resolve when it ends — all with one dedup_key per incident, so
// PagerDuty keeps one alert for it.
package pagerduty

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
)

// DefaultURL is the Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// Options configure a PagerDuty channel.
type Options struct {
	RoutingKey upstate.Secret // the integration key
	URL        string         // default DefaultURL
	Client     *http.Client
	Page       notify.Page
	Templates  notify.Templates
}

// PagerDuty is one service integration.
type PagerDuty struct{ opts Options }

var _ notify.Destined = (*PagerDuty)(nil)

// New returns the channel.
func New(opts Options) (*PagerDuty, error) {
	if opts.RoutingKey == "" || opts.Client == nil {
		return nil, errors.New("pagerduty: Options.RoutingKey and Client are required")
	}
	if opts.URL == "" {
		opts.URL = DefaultURL
	}
	return &PagerDuty{opts: opts}, nil
}

// Event is a PagerDuty Events API v2 event.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// Payload describes a triggered alert.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp"`
	Component     string         `json:"component,omitempty"`
	Class         string         `json:"class"`
	CustomDetails map[string]any `json:"custom_details"`
}

// Link is a link shown on the alert.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// DedupKey is the one key of an incident's alert.
func DedupKey(incidentID string) string { return "upstate-incident-" + incidentID }

// Build makes the event for a message with the routing key.
func Build(m upstate.Message, key string, page notify.Page, t notify.Templates) (Event, error) {
	ev := m.Event
	in := ev.Incident
	out := Event{RoutingKey: key, DedupKey: DedupKey(in.ID)}
	switch {
	case ev.Type == upstate.EventIncidentResolved:
		out.EventAction = "resolve"
		return out, nil
	case ev.Type == upstate.EventIncidentAcknowledged:
		out.EventAction = "acknowledge"
		return out, nil
	}
	if ev.Type == upstate.EventTest {
		out.DedupKey = "upstate-test-" + ev.ID
	}
	x, err := notify.Render(ev, page, t, false)
	if err != nil {
		return out, notify.Permanent(err)
	}
	source := page.URL
	if source == "" {
		source = page.Name
	}
	out.EventAction = "trigger"
	out.Payload = &Payload{Summary: notify.Clip(x.Headline, 1024), Source: source, Severity: severity(in.Impact),
		Timestamp: ev.At.UTC().Format(time.RFC3339Nano), Class: "incident",
		CustomDetails: map[string]any{"status": x.Status, "impact": x.Impact, "components": x.Components, "latest_update": x.Body}}
	if len(in.Components) > 0 {
		out.Payload.Component = in.Components[0]
	}
	if x.URL != "" {
		out.Links = []Link{{Href: x.URL, Text: "Incident on the status page"}}
	}
	out.Client, out.ClientURL = page.Name, page.URL
	return out, nil
}

// Send implements notify.Channel. PagerDuty answers 202 Accepted. An
// update by someone who had not yet acknowledged triggers (updating the
// alert's details) and then acknowledges; a declared incident is not
// acknowledged for PagerDuty, since whoever declared it wants it paged.
func (p *PagerDuty) Send(ctx context.Context, m upstate.Message) error {
	ev, err := Build(m, p.opts.RoutingKey.Reveal(), p.opts.Page, p.opts.Templates)
	if err != nil {
		return err
	}
	if _, err := notify.PostJSON(ctx, p.opts.Client, p.opts.URL, nil, ev); err != nil {
		return err
	}
	if m.Event.Acknowledged && m.Event.Type == upstate.EventIncidentUpdated {
		ack := Event{RoutingKey: ev.RoutingKey, DedupKey: ev.DedupKey, EventAction: "acknowledge"}
		_, err = notify.PostJSON(ctx, p.opts.Client, p.opts.URL, nil, ack)
	}
	return err
}

// severity maps an incident's impact to PagerDuty's severities.
func severity(i upstate.Impact) string {
	switch i {
	case upstate.ImpactCritical:
		return "critical"
	case upstate.ImpactMajor:
		return "error"
	case upstate.ImpactMinor:
		return "warning"
	}
	return "info"
}

// Destination implements notify.Destined.
func (p *PagerDuty) Destination() string { return notify.HostOf(p.opts.URL) }
