// Package slack posts to a Slack incoming webhook: Block Kit blocks with
// the top-level text Slack uses for the notification itself.
package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
)

// Options configure a Slack channel.
type Options struct {
	URL       upstate.Secret // the webhook URL carries its token
	Client    *http.Client
	Page      notify.Page
	Templates notify.Templates
	// PublicOnly shows the newest public entry rather than the newest.
	PublicOnly bool
}

// Slack is one incoming webhook.
type Slack struct{ opts Options }

var _ notify.Destined = (*Slack)(nil)

// New returns the channel.
func New(opts Options) (*Slack, error) {
	if opts.URL == "" || opts.Client == nil {
		return nil, errors.New("slack: Options.URL and Client are required")
	}
	return &Slack{opts: opts}, nil
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type     string `json:"type"`
	Text     *text  `json:"text,omitempty"`
	Fields   []text `json:"fields,omitempty"`
	Elements []text `json:"elements,omitempty"`
}

// Payload is what Slack receives.
type Payload struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

// Build lays the message out as Slack blocks.
func Build(m upstate.Message, page notify.Page, t notify.Templates, publicOnly bool) (Payload, error) {
	x, err := notify.Render(m.Event, page, t, publicOnly)
	if err != nil {
		return Payload{}, notify.Permanent(err)
	}
	p := Payload{Text: notify.Clip(escape(x.Headline), 3000)}
	p.Blocks = append(p.Blocks,
		block{Type: "header", Text: &text{"plain_text", notify.Clip(x.Mark+" "+x.Title, 150)}},
		block{Type: "section", Fields: []text{{"mrkdwn", "*Status:*\n" + escape(x.Status)}, {"mrkdwn", "*Impact:*\n" + x.Impact}}})
	if x.Body != "" {
		p.Blocks = append(p.Blocks, block{Type: "section", Text: &text{"mrkdwn", notify.Clip(mrkdwn(x.Body), 3000)}})
	}
	ctx := "Affected: " + escape(x.Components)
	if x.Components == "" {
		ctx = escape(page.Name)
	}
	if x.URL != "" {
		ctx += " · <" + x.URL + "|View incident>"
	}
	p.Blocks = append(p.Blocks, block{Type: "context", Elements: []text{{"mrkdwn", notify.Clip(ctx, 3000)}}})
	return p, nil
}

// Send implements notify.Channel. Slack answers 200 "ok".
func (s *Slack) Send(ctx context.Context, m upstate.Message) error {
	p, err := Build(m, s.opts.Page, s.opts.Templates, s.opts.PublicOnly)
	if err != nil {
		return err
	}
	_, err = notify.PostJSON(ctx, s.opts.Client, s.opts.URL.Reveal(), nil, p)
	return err
}

// escape keeps user text from being read as Slack markup ("<!channel>"
// pings everyone).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// mrkdwn turns the Markdown bodies are written in into Slack's dialect
// where they differ most: **bold** is *bold* there.
func mrkdwn(s string) string { return strings.ReplaceAll(escape(s), "**", "*") }

// Destination implements notify.Destined.
func (s *Slack) Destination() string { return notify.HostOf(s.opts.URL.Reveal()) }
