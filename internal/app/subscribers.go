package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels/email"
	"github.com/upstatehq/upstate/internal/notify/channels/statuspage"
)

// loadSubscribers refreshes the subscribers the router tells.
func (a *App) loadSubscribers(ctx context.Context) error {
	list, err := a.store.ListSubscribers(ctx)
	if err != nil {
		return fmt.Errorf("load subscribers: %w", err)
	}
	a.subscribers.Store(&list)
	return nil
}

func (a *App) subscriberList() []upstate.Subscriber {
	if l := a.subscribers.Load(); l != nil {
		return *l
	}
	return nil
}

func (a *App) links() *notify.Links {
	return &notify.Links{Base: a.cfg.Load().Page.URL, Key: a.ackKey}
}

// unsubscribeURL is a subscriber's one-click unsubscribe link.
func (a *App) unsubscribeURL(id string) string {
	return a.cfg.Load().Page.URL + "/unsubscribe?t=" + a.links().Token("unsubscribe", id)
}

// subscriberChannel builds the channel for a subscriber's messages. A
// confirmation may go to an address not yet confirmed, so the store is
// asked when the list does not have it.
func (a *App) subscriberChannel(id string) (notify.Channel, bool) {
	cfg := a.cfg.Load()
	var sub *upstate.Subscriber
	for _, s := range a.subscriberList() {
		if s.ID == id {
			sub = &s
		}
	}
	if sub == nil {
		s, err := a.store.GetSubscriber(context.Background(), id)
		if err != nil {
			return nil, false
		}
		sub = &s
	}
	deps := a.channelDeps(cfg)
	switch sub.Kind {
	case upstate.SubscriberEmail:
		e := cfg.Subscribers.Email
		if e == nil || e.SMTP == nil {
			return nil, false
		}
		unsub := a.unsubscribeURL(sub.ID)
		var tc = deps.TLS
		if tc != nil {
			tc = tc.Clone()
			tc.ServerName = e.SMTP.Host
		}
		ch, err := email.New(email.Options{Host: e.SMTP.Host, Port: e.SMTP.Port, Security: e.SMTP.Security, Username: e.SMTP.Username, Password: e.SMTP.Password,
			From: e.SMTP.From, To: []string{sub.Address}, TLSConfig: tc, Page: deps.Page, Markdown: deps.Markdown, Now: deps.Now, PublicOnly: true,
			Unsubscribe: unsub,
			Headers: func(upstate.Message, string) map[string]string {
				return map[string]string{"List-Unsubscribe": "<" + unsub + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Precedence": "bulk"}
			}})
		return ch, err == nil
	case upstate.SubscriberWebhook:
		if !cfg.Subscribers.Webhooks {
			return nil, false
		}
		ch, err := statuspage.New(statuspage.Options{URL: sub.Address, Secret: sub.Secret, Client: a.guardedClient.Load(), PageID: pageOf(cfg).ID, Page: deps.Page,
			Indicator: a.indicator, Unsubscribe: a.unsubscribeURL(sub.ID), Now: deps.Now})
		return ch, err == nil
	}
	return nil, false
}

// indicator is the page's overall status, from the current snapshot.
func (a *App) indicator() (string, string) {
	if s := a.snaps.Current(); s != nil {
		return s.Indicator, s.Description
	}
	return "none", "All Systems Operational"
}

// Limits on subscriptions, which anyone may make: in all, and webhooks
// per site (registrable domain), so a wildcard domain cannot fill the
// subscribers' delivery lane with names that never answer.
const (
	MaxSubscribers     = 50_000
	MaxWebhooksPerSite = 20
)

// Subscribe adds a subscriber: an email address gets a message asking it
// to confirm (in the same transaction); a webhook is subscribed at once,
// and its signing secret is returned, to be shown this once.
func (a *App) Subscribe(ctx context.Context, kind, address string, components []string) (upstate.Subscriber, error) {
	cfg := a.cfg.Load()
	now := a.opts.Clock.Now()
	subs := a.subscriberList()
	if len(subs) >= MaxSubscribers {
		return upstate.Subscriber{}, upstate.Errorf(upstate.ECONFLICT, "this status page has as many subscribers as it takes (%d): follow its Atom or RSS feed instead", MaxSubscribers)
	}
	s := upstate.Subscriber{ID: a.opts.NewID(), Kind: kind, Address: strings.TrimSpace(address), CreatedAt: now}
	known := map[string]bool{}
	for _, c := range cfg.Components {
		known[c.ID] = true
	}
	for _, c := range components {
		if !known[c] {
			return s, upstate.Errorf(upstate.EINVALID, "component: no component %q", c)
		}
		if !slices.Contains(s.Components, c) {
			s.Components = append(s.Components, c)
		}
	}
	var msgs []upstate.Message
	switch kind {
	case upstate.SubscriberEmail:
		if cfg.Subscribers.Email == nil {
			return s, upstate.Errorf(upstate.EINVALID, "email subscriptions are not offered here")
		}
		addr, err := mail.ParseAddress(s.Address)
		if err != nil || addr.Name != "" || len(addr.Address) > 254 {
			return s, upstate.Errorf(upstate.EINVALID, "email: %q is not an email address", s.Address)
		}
		s.Address = strings.ToLower(addr.Address)
		confirm := cfg.Page.URL + "/subscribe/confirm?t=" + a.links().Token("confirm", s.ID)
		ev := upstate.Event{ID: "confirm." + s.ID, Type: upstate.EventSubscriptionConfirm, At: now,
			Incident: upstate.Incident{Name: "Confirm your subscription to " + cfg.Page.Name},
			Entries: []upstate.TimelineEntry{{ID: "confirm", At: now, Public: true, Actor: upstate.ActorUpstate,
				Body: fmt.Sprintf("Someone, hopefully you, asked to be told by email when %s has an incident. To confirm, open %s\n\nIf it was not you, ignore this mail: nothing more will be sent.", upstate.EscapeMarkdown(cfg.Page.Name), confirm)}}}
		ch := upstate.SubscriberChannel(s.ID)
		msgs = append(msgs, upstate.Message{ID: ch + ":confirm", Channel: ch, Stream: "subscription", Event: ev, CreatedAt: now, NextAt: now, State: upstate.MessagePending})
	case upstate.SubscriberWebhook:
		if !cfg.Subscribers.Webhooks {
			return s, upstate.Errorf(upstate.EINVALID, "webhook subscriptions are not offered here")
		}
		if err := notify.CheckSubscriberURL(ctx, s.Address, cfg.Subscribers.AllowPrivateAddresses, net.DefaultResolver); err != nil {
			return s, upstate.Errorf(upstate.EINVALID, "url: %v", err)
		}
		site, n := notify.SiteOf(s.Address), 0
		for _, o := range subs {
			if o.Kind == upstate.SubscriberWebhook && notify.SiteOf(o.Address) == site {
				n++
			}
		}
		if n >= MaxWebhooksPerSite {
			return s, upstate.Errorf(upstate.ECONFLICT, "url: %s has %d webhook subscriptions already, as many as one site may have", site, n)
		}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		s.Secret = upstate.Secret("whsec_" + base64.StdEncoding.EncodeToString(key))
		s.ConfirmedAt = &now
	default:
		return s, upstate.Errorf(upstate.EINVALID, "kind: %q is not email or webhook", kind)
	}
	if err := a.store.CreateSubscriber(ctx, s, msgs); err != nil {
		return s, err
	}
	a.dispatcher.Wake()
	a.log.Info("subscriber added", "component", "notify", "subscriber", s.ID, "kind", kind)
	return s, a.loadSubscribers(ctx)
}

// subscriberByToken finds the subscriber a signed link is for.
func (a *App) subscriberByToken(ctx context.Context, purpose, token string) (upstate.Subscriber, error) {
	id, ok := a.links().CheckToken(purpose, token)
	if !ok {
		return upstate.Subscriber{}, upstate.Errorf(upstate.EFORBIDDEN, "this link is not valid: use the one in the mail you received")
	}
	s, err := a.store.GetSubscriber(ctx, id)
	if upstate.ErrorCode(err) == upstate.ENOTFOUND {
		return s, upstate.Errorf(upstate.ENOTFOUND, "this subscription does not exist any more")
	}
	return s, err
}

// SubscriptionByLink shows whom a confirm or unsubscribe link is for.
func (a *App) SubscriptionByLink(ctx context.Context, purpose, token string) (upstate.Subscriber, error) {
	return a.subscriberByToken(ctx, purpose, token)
}

// ConfirmSubscription confirms an email subscriber from its link.
func (a *App) ConfirmSubscription(ctx context.Context, token string) (upstate.Subscriber, error) {
	s, err := a.subscriberByToken(ctx, "confirm", token)
	if err != nil {
		return s, err
	}
	if err := a.store.ConfirmSubscriber(ctx, s.ID, a.opts.Clock.Now()); err != nil {
		return s, err
	}
	return s, a.loadSubscribers(ctx)
}

// Unsubscribe removes a subscriber from its link (one click).
func (a *App) Unsubscribe(ctx context.Context, token string) (upstate.Subscriber, error) {
	s, err := a.subscriberByToken(ctx, "unsubscribe", token)
	if err != nil {
		return s, err
	}
	if err := a.store.DeleteSubscriber(ctx, s.ID); err != nil {
		return s, err
	}
	a.log.Info("subscriber left", "component", "notify", "subscriber", s.ID)
	return s, a.loadSubscribers(ctx)
}

// SubscriptionKinds are the ways to subscribe the configuration offers.
func SubscriptionKinds(cfg *config.Config) []string {
	var out []string
	if cfg.Subscribers.Email != nil {
		out = append(out, upstate.SubscriberEmail)
	}
	if cfg.Subscribers.Webhooks {
		out = append(out, upstate.SubscriberWebhook)
	}
	return out
}

// ListSubscribers returns every subscriber, confirmed or not.
func (a *App) ListSubscribers(ctx context.Context) ([]upstate.Subscriber, error) {
	return a.store.ListSubscribers(ctx)
}

// RemoveSubscriber removes a subscriber (an operator cleaning up).
func (a *App) RemoveSubscriber(ctx context.Context, id string) error {
	if err := a.store.DeleteSubscriber(ctx, id); err != nil {
		return err
	}
	return a.loadSubscribers(ctx)
}
