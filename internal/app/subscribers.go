package app

import (
	"context"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/notify/channels"
	"github.com/upstatehq/upstate/internal/subscribe"
)

// newSubscriptions builds the subscription service and loads the
// subscribers into the switchboard.
func (a *App) newSubscriptions(ctx context.Context, cfg *config.Config) error {
	var err error
	a.subs, err = subscribe.New(subscribe.Options{Store: a.store, Board: a.board, Snapshots: a.snaps, Now: a.opts.Clock.Now, NewID: a.opts.NewID,
		Key: a.ackKey, Wake: a.dispatcher.Wake, Logger: a.log})
	if err != nil {
		return err
	}
	a.subs.Configure(subscribeSettings(cfg, a.channelDeps(cfg)))
	return a.subs.Load(ctx)
}

// subscribeSettings are what a configuration says of subscriptions.
func subscribeSettings(cfg *config.Config, deps channels.Deps) subscribe.Settings {
	s := subscribe.Settings{PageName: cfg.Page.Name, PageURL: cfg.Page.URL, Webhooks: cfg.Subscribers.Webhooks,
		AllowPrivateAddresses: cfg.Subscribers.AllowPrivateAddresses, Timeout: cfg.Notifications.Timeout.D(), Deps: deps}
	for _, c := range cfg.Components {
		s.Components = append(s.Components, c.ID)
	}
	if e := cfg.Subscribers.Email; e != nil && e.SMTP != nil {
		smtp := smtpOf(e.SMTP)
		s.Email = &smtp
	}
	s.Deps.PageID = pageOf(cfg).ID
	return s
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
