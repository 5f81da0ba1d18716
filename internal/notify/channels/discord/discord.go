// Package discord posts to a Discord webhook: one embed, mentions off so
// incident text cannot ping anyone, within Discord's field limits.
package discord

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
)

// Options configure a Discord channel.
type Options struct {
	URL        upstate.Secret // the webhook URL carries its token
	Username   string         // shown as the sender; default the page's name
	Client     *http.Client
	Page       notify.Page
	Templates  notify.Templates
	PublicOnly bool
}

// Discord is one webhook.
type Discord struct{ opts Options }

var _ notify.Destined = (*Discord)(nil)

// New returns the channel.
func New(opts Options) (*Discord, error) {
	if opts.URL == "" || opts.Client == nil {
		return nil, errors.New("discord: Options.URL and Client are required")
	}
	if opts.Username == "" {
		opts.Username = opts.Page.Name
	}
	return &Discord{opts: opts}, nil
}

type field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type embed struct {
	Title       string            `json:"title"`
	URL         string            `json:"url,omitempty"`
	Description string            `json:"description,omitempty"`
	Color       int               `json:"color"`
	Fields      []field           `json:"fields"`
	Timestamp   string            `json:"timestamp"`
	Footer      map[string]string `json:"footer"`
}

// Payload is what Discord receives.
type Payload struct {
	Username        string              `json:"username"`
	Content         string              `json:"content"`
	AllowedMentions map[string][]string `json:"allowed_mentions"`
	Embeds          []embed             `json:"embeds"`
}

// Build lays the message out as a Discord embed.
func Build(m upstate.Message, username string, page notify.Page, t notify.Templates, publicOnly bool) (Payload, error) {
	x, err := notify.Render(m.Event, page, t, publicOnly)
	if err != nil {
		return Payload{}, notify.Permanent(err)
	}
	e := embed{Title: notify.Clip(x.Title+" — "+x.Status, 256), URL: x.URL, Description: notify.Clip(x.Body, 3000), Color: x.Color,
		Fields:    []field{{"Impact", x.Impact, true}},
		Timestamp: m.Event.At.UTC().Format(time.RFC3339), Footer: map[string]string{"text": notify.Clip(page.Name, 200)}}
	if x.Components != "" {
		e.Fields = append(e.Fields, field{"Components", notify.Clip(x.Components, 1024), true})
	}
	return Payload{Username: notify.Clip(username, 80), Content: notify.Clip(x.Mark+" "+x.Headline, 2000),
		AllowedMentions: map[string][]string{"parse": {}}, Embeds: []embed{e}}, nil
}

// Send implements notify.Channel. Discord answers 204 No Content.
func (d *Discord) Send(ctx context.Context, m upstate.Message) error {
	p, err := Build(m, d.opts.Username, d.opts.Page, d.opts.Templates, d.opts.PublicOnly)
	if err != nil {
		return err
	}
	_, err = notify.PostJSON(ctx, d.opts.Client, d.opts.URL.Reveal(), nil, p)
	return err
}

// Destination implements notify.Destined.
func (d *Discord) Destination() string { return notify.HostOf(d.opts.URL.Reveal()) }
