// Package channels is the one registry of notification channel kinds:
// each entry builds a notify.Channel from a Spec. A test walks every
// entry through the same delivery checks.
package channels

import (
	"crypto/tls"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels/discord"
	"github.com/upstatehq/upstate/internal/notify/channels/email"
	"github.com/upstatehq/upstate/internal/notify/channels/opsgenie"
	"github.com/upstatehq/upstate/internal/notify/channels/pagerduty"
	"github.com/upstatehq/upstate/internal/notify/channels/slack"
	"github.com/upstatehq/upstate/internal/notify/channels/teams"
	"github.com/upstatehq/upstate/internal/notify/channels/webhook"
)

// Spec is one configured channel.
type Spec struct {
	ID, Kind   string
	URL        upstate.Secret
	Secret     upstate.Secret // webhook signing secret
	Key        upstate.Secret // PagerDuty routing key, Opsgenie API key
	Username   string         // Discord sender
	Responders []string       // Opsgenie teams
	To         []string       // email
	SMTP       SMTP           // email
	PublicOnly bool
	Templates  notify.Templates
}

// SMTP is an email channel's server.
type SMTP struct {
	Host     string
	Port     int
	Security string
	Username string
	Password upstate.Secret
	From     string
}

// Deps are what every channel shares.
type Deps struct {
	Client   *http.Client
	Page     notify.Page
	Now      func() time.Time
	Markdown func(string) template.HTML
	// TLS verifies mail servers; nil for the system roots.
	TLS *tls.Config
}

// Kind builds one kind of channel.
type Kind struct {
	Name  string
	Build func(Spec, Deps) (notify.Channel, error)
}

// Kinds lists every channel kind.
func Kinds() []Kind {
	return []Kind{
		{"slack", func(s Spec, d Deps) (notify.Channel, error) {
			return slack.New(slack.Options{URL: s.URL, Client: d.Client, Page: d.Page, Templates: s.Templates, PublicOnly: s.PublicOnly})
		}},
		{"teams", func(s Spec, d Deps) (notify.Channel, error) {
			return teams.New(teams.Options{URL: s.URL, Client: d.Client, Page: d.Page, Templates: s.Templates, PublicOnly: s.PublicOnly})
		}},
		{"discord", func(s Spec, d Deps) (notify.Channel, error) {
			return discord.New(discord.Options{URL: s.URL, Username: s.Username, Client: d.Client, Page: d.Page, Templates: s.Templates, PublicOnly: s.PublicOnly})
		}},
		{"pagerduty", func(s Spec, d Deps) (notify.Channel, error) {
			return pagerduty.New(pagerduty.Options{RoutingKey: s.Key, URL: s.URL.Reveal(), Client: d.Client, Page: d.Page, Templates: s.Templates})
		}},
		{"opsgenie", func(s Spec, d Deps) (notify.Channel, error) {
			return opsgenie.New(opsgenie.Options{APIKey: s.Key, URL: s.URL.Reveal(), Responders: s.Responders, Client: d.Client, Page: d.Page, Templates: s.Templates})
		}},
		{"email", func(s Spec, d Deps) (notify.Channel, error) {
			var tc *tls.Config
			if d.TLS != nil {
				tc = d.TLS.Clone()
				tc.ServerName = s.SMTP.Host
			}
			return email.New(email.Options{Host: s.SMTP.Host, Port: s.SMTP.Port, Security: s.SMTP.Security, Username: s.SMTP.Username, Password: s.SMTP.Password,
				From: s.SMTP.From, To: s.To, TLSConfig: tc, Page: d.Page, Templates: s.Templates, Markdown: d.Markdown, Now: d.Now, PublicOnly: s.PublicOnly})
		}},
		{"webhook", func(s Spec, d Deps) (notify.Channel, error) {
			return webhook.New(webhook.Options{URL: s.URL.Reveal(), Secret: s.Secret, Client: d.Client, Page: d.Page, Now: d.Now, PublicOnly: s.PublicOnly})
		}},
	}
}

// Build makes the channel a spec describes.
func Build(s Spec, d Deps) (notify.Channel, error) {
	for _, k := range Kinds() {
		if k.Name == s.Kind {
			ch, err := k.Build(s, d)
			if err != nil {
				return nil, fmt.Errorf("channel %s: %w", s.ID, err)
			}
			return ch, nil
		}
	}
	return nil, fmt.Errorf("channel %s: unknown kind %q", s.ID, s.Kind)
}
