// Package channels is the one registry of notification channel kinds:
// each entry builds a notify.Channel from a Spec. Most are configured
// under notifications.channels; two are built for subscribers (their
// email, and the Statuspage-shaped webhook). A test walks every entry
// through the same delivery checks, and another holds the configurable
// names to config's and the README's.
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
	"github.com/upstatehq/upstate/internal/notify/channels/statuspage"
	"github.com/upstatehq/upstate/internal/notify/channels/teams"
	"github.com/upstatehq/upstate/internal/notify/channels/webhook"
)

// Spec is one channel: configured, or a subscriber's.
type Spec struct {
	ID, Kind   string
	URL        upstate.Secret // a subscriber's webhook URL too
	Secret     upstate.Secret // webhook signing secret, a webhook subscriber's too
	RoutingKey upstate.Secret // PagerDuty's
	APIKey     upstate.Secret // Opsgenie's
	Username   string         // Discord sender
	Responders []string       // Opsgenie teams
	To         []string       // email; a subscriber's address
	SMTP       SMTP           // email, subscriber email
	PublicOnly bool
	Templates  notify.Templates
	// Unsubscribe is a subscriber's one-click unsubscribe link.
	Unsubscribe string
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
	// Guarded is the client for URLs outsiders choose (subscribers'
	// webhooks): it refuses private addresses (notify.GuardedClient).
	Guarded *http.Client
	// PageID and Indicator are the page's id and its status now
	// (indicator, description), for subscribers' webhooks.
	PageID    string
	Indicator func() (string, string)
}

// Kind builds one kind of channel.
type Kind struct {
	Name string
	// Subscriber marks a kind built for a subscriber, from a
	// subscription, rather than configured under notifications.channels.
	Subscriber bool
	// Alerting marks an alerting service (one alert per incident, paged
	// on): it hears of incidents only, never of maintenance.
	Alerting bool
	Build    func(Spec, Deps) (notify.Channel, error)
}

// The kinds built for subscribers.
const (
	SubscriberEmail      = "subscriber-email"
	SubscriberStatuspage = "statuspage"
)

// Kinds lists every channel kind.
func Kinds() []Kind {
	return []Kind{
		{Name: "slack", Build: func(s Spec, d Deps) (notify.Channel, error) {
			return slack.New(slack.Options{URL: s.URL, Client: d.Client, Page: d.Page, Templates: s.Templates, PublicOnly: s.PublicOnly})
		}},
		{Name: "teams", Build: func(s Spec, d Deps) (notify.Channel, error) {
			return teams.New(teams.Options{URL: s.URL, Client: d.Client, Page: d.Page, Templates: s.Templates, PublicOnly: s.PublicOnly})
		}},
		{Name: "discord", Build: func(s Spec, d Deps) (notify.Channel, error) {
			return discord.New(discord.Options{URL: s.URL, Username: s.Username, Client: d.Client, Page: d.Page, Templates: s.Templates, PublicOnly: s.PublicOnly})
		}},
		{Name: "pagerduty", Alerting: true, Build: func(s Spec, d Deps) (notify.Channel, error) {
			return pagerduty.New(pagerduty.Options{RoutingKey: s.RoutingKey, URL: s.URL.Reveal(), Client: d.Client, Page: d.Page, Templates: s.Templates})
		}},
		{Name: "opsgenie", Alerting: true, Build: func(s Spec, d Deps) (notify.Channel, error) {
			return opsgenie.New(opsgenie.Options{APIKey: s.APIKey, URL: s.URL.Reveal(), Responders: s.Responders, Client: d.Client, Page: d.Page, Templates: s.Templates})
		}},
		{Name: "email", Build: func(s Spec, d Deps) (notify.Channel, error) {
			return email.New(email.Options{Host: s.SMTP.Host, Port: s.SMTP.Port, Security: s.SMTP.Security, Username: s.SMTP.Username, Password: s.SMTP.Password,
				From: s.SMTP.From, To: s.To, TLSConfig: mailTLS(d, s.SMTP.Host), Page: d.Page, Templates: s.Templates, Markdown: d.Markdown, Now: d.Now, PublicOnly: s.PublicOnly})
		}},
		{Name: "webhook", Build: func(s Spec, d Deps) (notify.Channel, error) {
			return webhook.New(webhook.Options{URL: s.URL.Reveal(), Secret: s.Secret, Client: d.Client, Page: d.Page, Now: d.Now, PublicOnly: s.PublicOnly})
		}},
		// A subscriber's mail: public entries only, with the unsubscribe
		// link at its foot and in List-Unsubscribe (RFC 8058 one-click).
		{Name: SubscriberEmail, Subscriber: true, Build: func(s Spec, d Deps) (notify.Channel, error) {
			unsub := s.Unsubscribe
			return email.New(email.Options{Host: s.SMTP.Host, Port: s.SMTP.Port, Security: s.SMTP.Security, Username: s.SMTP.Username, Password: s.SMTP.Password,
				From: s.SMTP.From, To: s.To, TLSConfig: mailTLS(d, s.SMTP.Host), Page: d.Page, Markdown: d.Markdown, Now: d.Now, PublicOnly: true,
				Unsubscribe: unsub,
				Headers: func(upstate.Message, string) map[string]string {
					return map[string]string{"List-Unsubscribe": "<" + unsub + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Precedence": "bulk"}
				}})
		}},
		// A subscriber's webhook, in Statuspage's subscriber body, through
		// the guarded client.
		{Name: SubscriberStatuspage, Subscriber: true, Build: func(s Spec, d Deps) (notify.Channel, error) {
			return statuspage.New(statuspage.Options{URL: s.URL.Reveal(), Secret: s.Secret, Client: d.Guarded, PageID: d.PageID, Page: d.Page,
				Indicator: d.Indicator, Unsubscribe: s.Unsubscribe, Now: d.Now})
		}},
	}
}

// mailTLS is the TLS configuration for a mail server: the shared one with
// the server's name, or nil for the system roots.
func mailTLS(d Deps, host string) *tls.Config {
	if d.TLS == nil {
		return nil
	}
	tc := d.TLS.Clone()
	tc.ServerName = host
	return tc
}

// Configurable names the kinds notifications.channels may use, in order.
func Configurable() []string {
	var out []string
	for _, k := range Kinds() {
		if !k.Subscriber {
			out = append(out, k.Name)
		}
	}
	return out
}

// Alerting reports whether kind is an alerting service (see Kind).
func Alerting(kind string) bool {
	for _, k := range Kinds() {
		if k.Name == kind {
			return k.Alerting
		}
	}
	return false
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
