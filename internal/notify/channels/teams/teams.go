// Package teams posts to a Microsoft Teams Workflows webhook ("When a
// Teams webhook request is received"), which accepts Adaptive Cards only:
// the retired Office 365 connectors' MessageCard is not sent.
package teams

import (
	"context"
	"errors"
	"net/http"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
)

// Options configure a Teams channel.
type Options struct {
	URL        upstate.Secret // the workflow URL carries its signature
	Client     *http.Client
	Page       notify.Page
	Templates  notify.Templates
	PublicOnly bool
}

// Teams is one workflow webhook.
type Teams struct{ opts Options }

var _ notify.Destined = (*Teams)(nil)

// New returns the channel.
func New(opts Options) (*Teams, error) {
	if opts.URL == "" || opts.Client == nil {
		return nil, errors.New("teams: Options.URL and Client are required")
	}
	return &Teams{opts: opts}, nil
}

// Build lays the message out as an Adaptive Card 1.4 in a message.
func Build(m upstate.Message, page notify.Page, t notify.Templates, publicOnly bool) (map[string]any, error) {
	x, err := notify.Render(m.Event, page, t, publicOnly)
	if err != nil {
		return nil, notify.Permanent(err)
	}
	facts := []map[string]string{{"title": "Status", "value": x.Status}, {"title": "Impact", "value": x.Impact}}
	if x.Components != "" {
		facts = append(facts, map[string]string{"title": "Affected", "value": x.Components})
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": x.Mark + " " + x.Title, "weight": "Bolder", "size": "Medium", "wrap": true},
		{"type": "FactSet", "facts": facts},
	}
	if x.Body != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": notify.Clip(x.Body, 4000), "wrap": true})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"msteams": map[string]string{"width": "Full"},
		"body":    body,
	}
	if x.URL != "" {
		card["actions"] = []map[string]string{{"type": "Action.OpenUrl", "title": "View incident", "url": x.URL}}
	}
	return map[string]any{
		"type":        "message",
		"summary":     notify.Clip(x.Headline, 250),
		"attachments": []map[string]any{{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card}},
	}, nil
}

// Send implements notify.Channel. The flow answers 202 Accepted.
func (c *Teams) Send(ctx context.Context, m upstate.Message) error {
	p, err := Build(m, c.opts.Page, c.opts.Templates, c.opts.PublicOnly)
	if err != nil {
		return err
	}
	_, err = notify.PostJSON(ctx, c.opts.Client, c.opts.URL.Reveal(), nil, p)
	return err
}

// Destination implements notify.Destined.
func (c *Teams) Destination() string { return notify.HostOf(c.opts.URL.Reveal()) }
