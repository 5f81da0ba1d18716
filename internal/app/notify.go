package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/metrics"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels"
	"github.com/upstatehq/upstate/internal/oncall"
	"github.com/upstatehq/upstate/internal/store"
)

// notifySet is the configured channels and their routes, swapped whole on
// reload.
type notifySet struct {
	router   *notify.Router
	channels map[string]notify.Channel
	order    []string // channel ids in configuration order
	kinds    map[string]string
}

// NotifyDeps are what channels need from the app; tests may replace the
// client or TLS roots.
type NotifyDeps struct {
	Client *http.Client
	Deps   channels.Deps
}

// newNotifyClient is the HTTP client notifications go out on: redirects
// are not followed (a receiver that redirects is misconfigured).
func newNotifyClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// compileNotify builds the channels, routes and on-call paging a
// configuration describes; ackKey signs acknowledgement links (nil: pages
// carry none); subs lists the subscribers (nil: none).
func compileNotify(cfg *config.Config, deps channels.Deps, ackKey []byte, subs func() []upstate.Subscriber, overrides []upstate.OnCallOverride) (*notifySet, error) {
	set := &notifySet{channels: map[string]notify.Channel{}, kinds: map[string]string{}}
	var routes []notify.Route
	for _, c := range cfg.Notifications.Channels {
		tm, err := notify.ParseTemplates(c.Template.Title, c.Template.Body)
		if err != nil {
			return nil, fmt.Errorf("channel %s: %w", c.ID, err)
		}
		key := c.RoutingKey
		if c.Type == "opsgenie" {
			key = c.APIKey
		}
		sp := channels.Spec{ID: c.ID, Kind: c.Type, URL: c.URL, Secret: c.Secret, Key: key, Username: c.Username, Responders: c.Responders,
			To: c.To, PublicOnly: c.PublicOnly, Templates: tm}
		if c.SMTP != nil {
			sp.SMTP = channels.SMTP{Host: c.SMTP.Host, Port: c.SMTP.Port, Security: c.SMTP.Security, Username: c.SMTP.Username, Password: c.SMTP.Password, From: c.SMTP.From}
		}
		ch, err := channels.Build(sp, deps)
		if err != nil {
			return nil, err
		}
		set.channels[c.ID] = ch
		set.kinds[c.ID] = c.Type
		set.order = append(set.order, c.ID)
		rt := notify.Route{Channel: c.ID, Components: slices.Clone(c.Components), PublicOnly: c.PublicOnly,
			Incidents: c.Type == "pagerduty" || c.Type == "opsgenie"}
		for _, e := range c.Events {
			rt.Events = append(rt.Events, upstate.EventType(e))
		}
		routes = append(routes, rt)
	}
	if len(SubscriptionKinds(cfg)) == 0 {
		subs = nil
	}
	set.router = notify.NewRouter(routes, pagerOf(cfg, ackKey, overrides), subs)
	return set, nil
}

// pagerOf compiles the on-call configuration and the overrides people
// added; nil when nobody is paged.
func pagerOf(cfg *config.Config, ackKey []byte, overrides []upstate.OnCallOverride) *notify.Pager {
	oc := cfg.OnCall
	if len(oc.Escalation) == 0 {
		return nil
	}
	dir := oncall.Directory{People: map[string]oncall.Person{}, Schedules: map[string]oncall.Schedule{}}
	for _, p := range oc.People {
		dir.People[p.ID] = oncall.Person{ID: p.ID, Name: p.Name, Channels: p.Channels}
	}
	for _, s := range oc.Schedules {
		dir.Schedules[s.ID] = scheduleOf(s, overrides)
	}
	pg := &notify.Pager{Directory: dir}
	for _, p := range oc.Escalation {
		pol := oncall.Policy{ID: p.ID, Components: p.Components, Repeat: p.Repeat, RepeatEvery: p.RepeatEvery.D()}
		for _, l := range p.Levels {
			lv := oncall.Level{After: l.After.D()}
			for _, n := range l.Notify {
				if tg, err := oncall.ParseTarget(n); err == nil { // config checked them
					lv.Notify = append(lv.Notify, tg)
				}
			}
			pol.Levels = append(pol.Levels, lv)
		}
		pg.Policies = append(pg.Policies, pol)
	}
	if ackKey != nil {
		pg.Links = &notify.Links{Base: cfg.Page.URL, Key: ackKey}
	}
	return pg
}

func scheduleOf(s config.Schedule, added []upstate.OnCallOverride) oncall.Schedule {
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
	// Overrides added at runtime come last: the latest word wins.
	for _, o := range added {
		if o.Schedule == s.ID {
			out.Overrides = append(out.Overrides, oncall.Override{Person: o.Person, From: o.From, Until: o.Until})
		}
	}
	return out
}

// channelDeps are the shared parts every channel gets.
func (a *App) channelDeps(cfg *config.Config) channels.Deps {
	return channels.Deps{Client: a.notifyClient, Page: notify.Page{Name: cfg.Page.Name, URL: cfg.Page.URL}, Now: a.opts.Clock.Now,
		Markdown: markdown.New().HTML, TLS: a.opts.MailTLS}
}

// route is the engine's Route: the current configuration's routes.
func (a *App) route(ev upstate.Event) upstate.Owed { return a.notify.Load().router.Route(ev) }

func (a *App) channel(id string) (notify.Channel, bool) {
	if sub, ok := strings.CutPrefix(id, "subscriber:"); ok {
		return a.subscriberChannel(sub)
	}
	ch, ok := a.notify.Load().channels[id]
	return ch, ok
}

// TestChannel sends a sample message straight to a channel, bypassing the
// outbox, and says how it went: for `upstate notify test` and the admin
// UI's test button.
func (a *App) TestChannel(ctx context.Context, id string) error {
	ch, ok := a.channel(id)
	if !ok {
		return upstate.Errorf(upstate.ENOTFOUND, "no channel %q in the configuration", id)
	}
	return sendSample(ctx, a.cfg.Load(), ch, id, a.opts.Clock.Now())
}

func sendSample(ctx context.Context, cfg *config.Config, ch notify.Channel, id string, now time.Time) error {
	comp, name := "", ""
	if len(cfg.Components) > 0 {
		comp, name = cfg.Components[0].ID, cfg.Components[0].Name
	}
	ev := notify.Sample(cfg.Page.Name, comp, name, now)
	ctx, cancel := context.WithTimeout(ctx, cfg.Notifications.Timeout.D())
	defer cancel()
	m := upstate.Message{ID: id + ":" + ev.ID, Channel: id, Stream: "test", Event: ev, CreatedAt: now, NextAt: now}
	if err := ch.Send(ctx, m); err != nil {
		return upstate.Errorf(upstate.EINVALID, "channel %s: %v", id, err)
	}
	return nil
}

// SendTest builds one channel from a configuration and sends it a sample,
// without opening the store: `upstate notify test` works beside a running
// server.
func SendTest(ctx context.Context, cfg *config.Config, id string) error {
	deps := channels.Deps{Client: newNotifyClient(cfg.Notifications.Timeout.D()), Page: notify.Page{Name: cfg.Page.Name, URL: cfg.Page.URL},
		Now: time.Now, Markdown: markdown.New().HTML}
	set, err := compileNotify(cfg, deps, nil, nil, nil)
	if err != nil {
		return err
	}
	ch, ok := set.channels[id]
	if !ok {
		return upstate.Errorf(upstate.ENOTFOUND, "no channel %q in %s (channels: %v)", id, cfg.File, set.order)
	}
	return sendSample(ctx, cfg, ch, id, time.Now())
}

// Notifications lists the configured channels with their outbox counts,
// and the most recent failed messages.
func (a *App) Notifications(ctx context.Context) ([]notify.ChannelStatus, []upstate.Message, error) {
	counts, err := a.store.CountMessages(ctx)
	if err != nil {
		return nil, nil, err
	}
	set := a.notify.Load()
	var out []notify.ChannelStatus
	for _, id := range set.order {
		cs := notify.ChannelStatus{ID: id, Kind: set.kinds[id]}
		for _, c := range counts {
			if c.Channel != id {
				continue
			}
			switch c.State {
			case upstate.MessagePending:
				cs.Pending = c.N
			case upstate.MessageFailed:
				cs.Failed = c.N
			case upstate.MessageSent:
				cs.Sent = c.N
			}
		}
		out = append(out, cs)
	}
	failed, err := a.store.ListMessages(ctx, store.MessageFilter{State: upstate.MessageFailed, Limit: 50})
	return out, failed, err
}

// RetryMessage puts a failed message back in the outbox, due now.
func (a *App) RetryMessage(ctx context.Context, id string) error {
	if err := a.store.RetryMessage(ctx, id, a.opts.Clock.Now(), "retried by hand after: "); err != nil {
		if upstate.ErrorCode(err) == upstate.ENOTFOUND {
			return upstate.Errorf(upstate.ENOTFOUND, "no failed message %q", id)
		}
		return err
	}
	a.dispatcher.Wake()
	return nil
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

// checkAckLink verifies a signed acknowledgement link and returns the
// name of the person it was made for.
func (a *App) checkAckLink(incidentID, person, sig string) (string, error) {
	links := notify.Links{Key: a.ackKey}
	if !links.Valid(incidentID, person, sig) {
		return "", upstate.Errorf(upstate.EFORBIDDEN, "this acknowledgement link is not valid: use the one in the page you received")
	}
	for _, p := range a.cfg.Load().OnCall.People {
		if p.ID == person {
			return p.Name, nil
		}
	}
	return person, nil
}

// AckByLink acknowledges an incident from a signed link in a page, as the
// person the link was made for.
func (a *App) AckByLink(ctx context.Context, incidentID, person, sig string) (*upstate.Incident, string, error) {
	name, err := a.checkAckLink(incidentID, person, sig)
	if err != nil {
		return nil, "", err
	}
	in, err := a.engine.Acknowledge(ctx, incidentID, name)
	return in, name, err
}

// AckLinkTarget shows what a link would acknowledge, without doing it.
func (a *App) AckLinkTarget(ctx context.Context, incidentID, person, sig string) (*upstate.Incident, string, error) {
	name, err := a.checkAckLink(incidentID, person, sig)
	if err != nil {
		return nil, "", err
	}
	in, err := a.store.GetIncident(ctx, incidentID)
	return in, name, err
}

// OnCallNow lists each schedule with who is on call now and the shifts of
// the next week.
func (a *App) OnCallNow(_ context.Context) []notify.ScheduleView {
	cfg := a.cfg.Load()
	now := a.opts.Clock.Now()
	names := map[string]string{}
	for _, p := range cfg.OnCall.People {
		names[p.ID] = p.Name
	}
	var out []notify.ScheduleView
	for _, s := range cfg.OnCall.Schedules {
		sc := scheduleOf(s, a.overrideList())
		v := notify.ScheduleView{ID: s.ID, Name: s.Name, Zone: s.Location.String()}
		for _, p := range cfg.OnCall.People {
			v.People = append(v.People, [2]string{p.ID, p.Name})
		}
		if v.Name == "" {
			v.Name = s.ID
		}
		for _, sh := range sc.Shifts(now, now.Add(7*24*time.Hour)) {
			v.Shifts = append(v.Shifts, notify.ShiftView{Person: sh.Person, Name: names[sh.Person], From: sh.From, Until: sh.Until, Override: sh.Layer == -1})
		}
		out = append(out, v)
	}
	return out
}

func (a *App) overrideList() []upstate.OnCallOverride {
	if l := a.overrides.Load(); l != nil {
		return *l
	}
	return nil
}

// loadOverrides reads the runtime on-call overrides.
func (a *App) loadOverrides(ctx context.Context) error {
	list, err := a.store.ListOverrides(ctx, a.opts.Clock.Now().Add(-24*time.Hour))
	if err != nil {
		return fmt.Errorf("load on-call overrides: %w", err)
	}
	a.overrides.Store(&list)
	return nil
}

// repage rebuilds the routes and pager after the overrides changed.
func (a *App) repage(ctx context.Context) error {
	if err := a.loadOverrides(ctx); err != nil {
		return err
	}
	cfg := a.cfg.Load()
	nset, err := compileNotify(cfg, a.channelDeps(cfg), a.ackKey, a.subscriberList, a.overrideList())
	if err != nil {
		return err
	}
	a.notify.Store(nset)
	return nil
}

// Overrides lists the on-call overrides people added, not yet over.
func (a *App) Overrides(ctx context.Context) ([]upstate.OnCallOverride, error) {
	return a.store.ListOverrides(ctx, a.opts.Clock.Now())
}

// AddOverride puts a person on call on a schedule from from to until:
// "I'll take tonight". Pages planned from now on follow it; pages already
// planned for an open incident keep the people they were planned for.
func (a *App) AddOverride(ctx context.Context, schedule, person string, from, until time.Time, actor string) (upstate.OnCallOverride, error) {
	cfg := a.cfg.Load()
	now := a.opts.Clock.Now()
	var probs []string
	var sched *config.Schedule
	for i := range cfg.OnCall.Schedules {
		if cfg.OnCall.Schedules[i].ID == schedule {
			sched = &cfg.OnCall.Schedules[i]
		}
	}
	if sched == nil {
		probs = append(probs, fmt.Sprintf("schedule: no schedule %q", schedule))
	}
	known := false
	for _, p := range cfg.OnCall.People {
		known = known || p.ID == person
	}
	if !known {
		probs = append(probs, fmt.Sprintf("person: no person %q under oncall.people", person))
	}
	switch {
	case from.IsZero() || until.IsZero():
		probs = append(probs, "from and until are required")
	case !until.After(from):
		probs = append(probs, "until must be after from: the override ends before it starts")
	case !until.After(now):
		probs = append(probs, "until is in the past")
	}
	if len(probs) > 0 {
		return upstate.OnCallOverride{}, upstate.Errorf(upstate.EINVALID, "%s", strings.Join(probs, "; "))
	}
	o := upstate.OnCallOverride{ID: a.opts.NewID(), Schedule: schedule, Person: person, From: from.UTC(), Until: until.UTC(), CreatedBy: actor, CreatedAt: now}
	if err := a.store.SaveOverride(ctx, o); err != nil {
		return o, err
	}
	a.log.Info("on-call override added", "component", "oncall", "schedule", schedule, "person", person, "actor", actor)
	return o, a.repage(ctx)
}

// RemoveOverride ends an override people added.
func (a *App) RemoveOverride(ctx context.Context, id string) error {
	if err := a.store.DeleteOverride(ctx, id); err != nil {
		return err
	}
	return a.repage(ctx)
}
