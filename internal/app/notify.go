package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/metrics"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels"
	"github.com/upstatehq/upstate/internal/oncall"
	"github.com/upstatehq/upstate/internal/store"
)

// newNotifyClient is the HTTP client notifications go out on: redirects
// are not followed (a receiver that redirects is misconfigured).
func newNotifyClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// newNotify builds the switchboard, the on-call roster, the silences, the
// dispatcher and the desk, and gives them the configuration and what the
// store keeps.
func (a *App) newNotify(ctx context.Context, cfg *config.Config) error {
	conf, err := compileChannels(cfg, a.channelDeps(cfg), a.ackKey)
	if err != nil {
		return err
	}
	a.board = notify.NewSwitchboard()
	a.board.Configure(conf)
	if a.roster, err = oncall.NewRoster(oncall.RosterOptions{Store: a.store, Now: a.opts.Clock.Now, NewID: a.opts.NewID, Changed: a.board.SetOnCall, Logger: a.log}); err != nil {
		return err
	}
	a.roster.Configure(planOf(cfg))
	if err := a.roster.Load(ctx); err != nil {
		return err
	}
	if a.silences, err = notify.NewSilences(notify.SilenceOptions{Store: a.store, Now: a.opts.Clock.Now, NewID: a.opts.NewID, Logger: a.log}); err != nil {
		return err
	}
	if err := a.silences.Load(ctx); err != nil {
		return err
	}
	a.dispatcher, err = notify.New(notify.Options{Outbox: a.store, Channel: a.board.Channel, Clock: a.opts.Clock, Logger: a.log,
		GiveUpAfter: cfg.Notifications.GiveUpAfter.D(), Timeout: cfg.Notifications.Timeout.D(), Jitter: a.opts.NotifyJitter, Claimant: a.claimant(),
		Backoff: cfg.Notifications.Backoff.D(), MaxBackoff: cfg.Notifications.MaxBackoff.D(), Muted: a.silences.Muted,
		Observe: func(m upstate.Message, outcome string) {
			a.metrics.Notifications.WithLabelValues(metrics.ChannelLabel(m.Channel), outcome).Inc()
		},
		Circuits: func(lane upstate.Lane, open int) {
			a.metrics.NotificationCircuits.WithLabelValues(string(lane)).Set(float64(open))
		}})
	if err != nil {
		return err
	}
	a.desk, err = notify.NewDesk(notify.DeskOptions{Store: a.store, Board: a.board, Now: a.opts.Clock.Now, Wake: a.dispatcher.Wake})
	return err
}

// reconfigureNotify hands a reloaded configuration, its channels compiled,
// to the notification services.
func (a *App) reconfigureNotify(cfg *config.Config, conf notify.Configured) {
	release := a.board.Hold() // one new picture, not three
	defer release()
	a.roster.Configure(planOf(cfg))
	a.board.Configure(conf)
	a.subs.Configure(subscribeSettings(cfg, a.channelDeps(cfg)))
}

// ConfigRules are what a configuration must pass beyond config's own
// checks, which do not know what a message is: each channel's templates
// parse and render a sample. config.Load reports their problems with the
// rest (`upstate validate`, serve and a reload load the file with them).
func ConfigRules() []config.Rule {
	return []config.Rule{func(c *config.Config, problem func(path, format string, args ...any)) {
		for i, ch := range c.Notifications.Channels {
			if _, err := notify.ParseTemplates(ch.Template.Title, ch.Template.Body); err != nil {
				problem(fmt.Sprintf("notifications.channels[%d].template", i), "%v", err)
			}
		}
	}, checkFiles, brandFiles, databaseRule}
}

// sendDeps are the channels' shared parts outside a running server.
func sendDeps(cfg *config.Config) channels.Deps {
	return channels.Deps{Client: newNotifyClient(cfg.Notifications.Timeout.D()), Page: notify.Page{Name: cfg.Page.Name, URL: cfg.Page.URL},
		Now: clock.Real{}.Now, Markdown: markdown.New().HTML}
}

// channelDeps are the shared parts every channel gets.
func (a *App) channelDeps(cfg *config.Config) channels.Deps {
	return channels.Deps{Client: a.notifyClient, Page: notify.Page{Name: cfg.Page.Name, URL: cfg.Page.URL}, Now: a.opts.Clock.Now,
		Markdown: markdown.New().HTML, TLS: a.opts.MailTLS}
}

// compileChannels builds the channels and routes a configuration
// describes, through the channel registry; ackKey signs acknowledgement
// links (nil: pages carry none). Every template problem is reported, at
// its template's line.
func compileChannels(cfg *config.Config, deps channels.Deps, ackKey []byte) (notify.Configured, error) {
	c := notify.Configured{Channels: map[string]notify.Channel{}, Kinds: map[string]string{}, Subscriptions: len(SubscriptionKinds(cfg)) > 0,
		Test: notify.TestSample{PageName: cfg.Page.Name, Timeout: cfg.Notifications.Timeout.D()}}
	if len(cfg.Components) > 0 {
		c.Test.Component, c.Test.ComponentName = cfg.Components[0].ID, cfg.Components[0].Name
	}
	if ackKey != nil {
		c.Links = &notify.Links{Base: cfg.Page.URL, Key: ackKey}
	}
	probs := &config.Problems{File: cfg.File}
	for i, ch := range cfg.Notifications.Channels {
		tm, err := notify.ParseTemplates(ch.Template.Title, ch.Template.Body)
		if err != nil {
			probs.Items = append(probs.Items, config.Problem{Line: ch.TemplateLine, Path: fmt.Sprintf("notifications.channels[%d].template", i), Message: err.Error()})
			continue
		}
		sp := channels.Spec{ID: ch.ID, Kind: ch.Type, URL: ch.URL, Secret: ch.Secret, RoutingKey: ch.RoutingKey, APIKey: ch.APIKey, Username: ch.Username, Responders: ch.Responders,
			To: ch.To, PublicOnly: ch.PublicOnly, Templates: tm}
		if ch.SMTP != nil {
			sp.SMTP = smtpOf(ch.SMTP)
		}
		built, err := channels.Build(sp, deps)
		if err != nil {
			return c, err
		}
		c.Channels[ch.ID] = built
		c.Kinds[ch.ID] = ch.Type
		c.Order = append(c.Order, ch.ID)
		rt := notify.Route{Channel: ch.ID, Components: slices.Clone(ch.Components), PublicOnly: ch.PublicOnly,
			Incidents: channels.Alerting(ch.Type)}
		for _, e := range ch.Events {
			rt.Events = append(rt.Events, upstate.EventType(e))
		}
		c.Routes = append(c.Routes, rt)
	}
	if len(probs.Items) > 0 {
		return c, probs
	}
	return c, nil
}

func smtpOf(s *config.SMTP) channels.SMTP {
	return channels.SMTP{Host: s.Host, Port: s.Port, Security: s.Security, Username: s.Username, Password: s.Password, From: s.From}
}

// planOf is the on-call configuration as the roster takes it.
func planOf(cfg *config.Config) oncall.Plan {
	oc := cfg.OnCall
	var p oncall.Plan
	for _, pp := range oc.People {
		p.People = append(p.People, oncall.Person{ID: pp.ID, Name: pp.Name, Channels: pp.Channels})
	}
	for _, s := range oc.Schedules {
		p.Schedules = append(p.Schedules, scheduleOf(s))
	}
	for _, pol := range oc.Escalation {
		op := oncall.Policy{ID: pol.ID, Components: pol.Components, Repeat: pol.Repeat, RepeatEvery: pol.RepeatEvery.D()}
		for _, l := range pol.Levels {
			lv := oncall.Level{After: l.After.D()}
			for _, n := range l.Notify {
				if tg, err := oncall.ParseTarget(n); err == nil { // config checked them
					lv.Notify = append(lv.Notify, tg)
				}
			}
			op.Levels = append(op.Levels, lv)
		}
		p.Policies = append(p.Policies, op)
	}
	return p
}

func scheduleOf(s config.Schedule) oncall.Schedule {
	out := oncall.Schedule{ID: s.ID, Name: s.Name, Location: s.Location}
	for _, l := range s.Layers {
		ol := oncall.Layer{Rotation: oncall.Rotation(l.Rotation), Every: l.Every, HandoffHour: l.HandoffHour, HandoffMinute: l.HandoffMinute,
			Weekday: l.WeekdayValue, Start: l.StartDate, People: l.People}
		if h := l.Hours; h != nil {
			ol.Hours = &oncall.Window{FromHour: h.FromHour, FromMinute: h.FromMinute, ToHour: h.ToHour, ToMinute: h.ToMinute, Days: h.DayValues}
		}
		out.Layers = append(out.Layers, ol)
	}
	for _, o := range s.Overrides {
		out.Overrides = append(out.Overrides, oncall.Override{Person: o.Person, From: o.FromTime, Until: o.UntilTime})
	}
	return out
}

// SendTest builds one channel from a configuration and sends it a sample,
// without opening the store: `upstate notify test` works beside a running
// server.
func SendTest(ctx context.Context, cfg *config.Config, id string) error {
	c, err := compileChannels(cfg, sendDeps(cfg), nil)
	if err != nil {
		return err
	}
	ch, ok := c.Channels[id]
	if !ok {
		return upstate.Errorf(upstate.ENOTFOUND, "no channel %q in %s (channels: %v)", id, cfg.File, c.Order)
	}
	return notify.SendSample(ctx, ch, id, c.Test, clock.Real{}.Now())
}

// countOutbox refreshes the outbox gauges; it runs every minute.
func (a *App) countOutbox(ctx context.Context) {
	counts, err := a.store.CountMessages(ctx)
	if err != nil {
		return
	}
	a.metrics.NotificationsOwed.Reset()
	for _, c := range counts {
		if c.State != upstate.MessageSent {
			a.metrics.NotificationsOwed.WithLabelValues(metrics.ChannelLabel(c.Channel), string(c.State)).Add(float64(c.N))
		}
	}
}

// secretKey is a key the server makes at first start and keeps in the
// database under name, so what it signs (acknowledgement links, device
// tokens) stays valid across restarts.
func secretKey(ctx context.Context, db store.Settings, name string) ([]byte, error) {
	v, err := db.Setting(ctx, name, func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	})
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	return base64.StdEncoding.DecodeString(v)
}
