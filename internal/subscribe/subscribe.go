// Package subscribe is subscriptions: outsiders subscribe from the page
// (an email address, confirmed by a signed link, or a webhook URL, signed
// per Standard Webhooks), confirm and leave by signed links, and owners
// list and remove them. It keeps each subscriber's channel, built once
// when the subscriber or the configuration changes, and hands the list
// and the channels to the notification switchboard, which routes public
// news to them and from which the dispatcher sends.
package subscribe

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels"
	"github.com/upstatehq/upstate/internal/snapshot"
)

// Limits on subscriptions, which anyone may make: in all, and webhooks
// per site (registrable domain), so a wildcard domain cannot fill the
// subscribers' delivery lane with names that never answer.
const (
	MaxSubscribers     = 50_000
	MaxWebhooksPerSite = 20
)

// Store keeps subscribers.
type Store interface {
	// CreateSubscriber adds one, with messages owed to it (a confirmation)
	// in the same transaction; ECONFLICT if the address is subscribed.
	CreateSubscriber(ctx context.Context, s upstate.Subscriber, msgs []upstate.Message) error
	GetSubscriber(ctx context.Context, id string) (upstate.Subscriber, error)
	ConfirmSubscriber(ctx context.Context, id string, at time.Time) error
	// DeleteSubscriber removes one and cancels what it was still owed.
	DeleteSubscriber(ctx context.Context, id string) error
	ListSubscribers(ctx context.Context) ([]upstate.Subscriber, error)
}

// Board takes the subscribers and their channels (notify.Switchboard).
type Board interface {
	SetSubscribers(list []upstate.Subscriber, chans map[string]notify.Channel)
}

// Snapshots give the page's status now, for webhook subscribers' bodies.
type Snapshots interface {
	Current() *snapshot.Snapshot
}

// Settings are what the configuration says of subscriptions.
type Settings struct {
	PageName, PageURL string
	// Components are the ids one may subscribe to.
	Components []string
	// Email is the mail server subscriber email goes through; nil when
	// email subscriptions are not offered.
	Email *channels.SMTP
	// Webhooks offers webhook subscriptions.
	Webhooks bool
	// AllowPrivateAddresses lets webhooks point at loopback and private
	// networks (for testing only).
	AllowPrivateAddresses bool
	// Timeout bounds one delivery attempt to a webhook.
	Timeout time.Duration
	// Deps are what subscribers' channels share: page, clock, Markdown,
	// mail TLS, page id. The service sets the guarded client and the
	// page's indicator.
	Deps channels.Deps
}

// Options configure a Service.
type Options struct {
	Store     Store
	Board     Board
	Snapshots Snapshots
	Now       func() time.Time
	NewID     func() string
	// Key signs confirm and unsubscribe links.
	Key []byte
	// Wake tells the dispatcher a message is due (Dispatcher.Wake).
	Wake func()
	// Resolver checks webhook URLs' addresses; default the system's.
	Resolver notify.Resolver
	Logger   *slog.Logger
}

// Service is subscriptions.
type Service struct {
	opts Options
	mu   sync.Mutex // serialises changes
	cur  atomic.Pointer[state]
	// pending are subscribers being created: their channels are ready
	// before the store has them, as the dispatcher may find a
	// confirmation as soon as it is written. Guarded by mu.
	pending map[string]upstate.Subscriber
}

// state is one picture, replaced whole.
type state struct {
	set     Settings // Deps complete
	guarded *http.Client
	list    []upstate.Subscriber // as the store has them
	// built are the channels, by channel id, with what each was built
	// from: a subscriber's channel is rebuilt only when it changes.
	built map[string]built
}

type built struct {
	sub upstate.Subscriber
	ch  notify.Channel
}

// New returns the service; Configure gives it its settings and Load its
// subscribers.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Board == nil || opts.Snapshots == nil || opts.Now == nil || opts.NewID == nil || opts.Key == nil || opts.Wake == nil {
		return nil, errors.New("subscribe: Options.Store, Board, Snapshots, Now, NewID, Key and Wake are required")
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, pending: map[string]upstate.Subscriber{}}
	s.cur.Store(&state{built: map[string]built{}})
	return s, nil
}

// Configure applies new settings (a start or reload): every subscriber's
// channel is built again, on them.
func (s *Service) Configure(set Settings) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	st := &state{set: set, guarded: old.guarded, list: old.list}
	if old.guarded == nil || set.AllowPrivateAddresses != old.set.AllowPrivateAddresses || set.Timeout != old.set.Timeout {
		// The guard follows the configuration at send time too, not only
		// when someone subscribes.
		st.guarded = notify.GuardedClient(set.Timeout, set.AllowPrivateAddresses)
	}
	st.set.Deps.Guarded, st.set.Deps.Indicator = st.guarded, s.indicator
	s.publish(st, nil)
	if old.guarded != nil && old.guarded != st.guarded {
		old.guarded.CloseIdleConnections()
	}
}

// Load reads the subscribers from the store.
func (s *Service) Load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(ctx)
}

// load must be called with s.mu held.
func (s *Service) load(ctx context.Context) error {
	list, err := s.opts.Store.ListSubscribers(ctx)
	if err != nil {
		return fmt.Errorf("load subscribers: %w", err)
	}
	old := s.cur.Load()
	s.publish(&state{set: old.set, guarded: old.guarded, list: list}, old.built)
	return nil
}

// publish builds the channels of st's subscribers and of those pending,
// reusing those in reuse built from the same subscriber, and hands them
// to the board. Must be called with s.mu held.
func (s *Service) publish(st *state, reuse map[string]built) {
	st.built = make(map[string]built, len(st.list)+len(s.pending))
	add := func(sub upstate.Subscriber) {
		id := upstate.SubscriberChannel(sub.ID)
		if b, ok := reuse[id]; ok && sameChannel(b.sub, sub) {
			st.built[id] = b
			return
		}
		if ch, ok := s.build(st.set, sub); ok {
			st.built[id] = built{sub: sub, ch: ch}
		}
	}
	for _, sub := range st.list {
		add(sub)
	}
	for _, sub := range s.pending {
		add(sub)
	}
	chans := make(map[string]notify.Channel, len(st.built))
	for id, b := range st.built {
		chans[id] = b.ch
	}
	s.cur.Store(st)
	s.opts.Board.SetSubscribers(st.list, chans)
}

// republish publishes the current picture again, as the pending
// subscribers changed. Must be called with s.mu held.
func (s *Service) republish() {
	old := s.cur.Load()
	s.publish(&state{set: old.set, guarded: old.guarded, list: old.list}, old.built)
}

// sameChannel reports whether a and b make the same channel.
func sameChannel(a, b upstate.Subscriber) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Address == b.Address && a.Secret == b.Secret
}

// build makes a subscriber's channel; false when the settings no longer
// offer its kind (its messages then fail as for a removed channel).
func (s *Service) build(set Settings, sub upstate.Subscriber) (notify.Channel, bool) {
	spec := channels.Spec{ID: upstate.SubscriberChannel(sub.ID), Unsubscribe: s.unsubscribeURL(set, sub.ID)}
	switch sub.Kind {
	case upstate.SubscriberEmail:
		if set.Email == nil {
			return nil, false
		}
		spec.Kind, spec.To, spec.SMTP = channels.SubscriberEmail, []string{sub.Address}, *set.Email
	case upstate.SubscriberWebhook:
		if !set.Webhooks {
			return nil, false
		}
		spec.Kind, spec.URL, spec.Secret = channels.SubscriberStatuspage, upstate.Secret(sub.Address), sub.Secret
	default:
		return nil, false
	}
	ch, err := channels.Build(spec, set.Deps)
	if err != nil {
		s.opts.Logger.Warn("subscriber's channel not built; its messages will fail", "component", "notify", "subscriber", sub.ID, "err", err)
		return nil, false
	}
	return ch, true
}

// indicator is the page's overall status, from the current snapshot.
func (s *Service) indicator() (string, string) {
	if snap := s.opts.Snapshots.Current(); snap != nil {
		return snap.Indicator, snap.Description
	}
	return "none", "All Systems Operational"
}

func (s *Service) links(set Settings) *notify.Links {
	return &notify.Links{Base: set.PageURL, Key: s.opts.Key}
}

// unsubscribeURL is a subscriber's one-click unsubscribe link.
func (s *Service) unsubscribeURL(set Settings, id string) string {
	return set.PageURL + "/unsubscribe?t=" + s.links(set).Token("unsubscribe", id)
}

// Subscribe adds a subscriber: an email address gets a message asking it
// to confirm (in the same transaction); a webhook is subscribed at once,
// and its signing secret is returned, to be shown this once.
func (s *Service) Subscribe(ctx context.Context, kind, address string, components []string) (upstate.Subscriber, error) {
	st := s.cur.Load()
	set := st.set
	now := s.opts.Now()
	if len(st.list) >= MaxSubscribers {
		return upstate.Subscriber{}, upstate.Errorf(upstate.ECONFLICT, "this status page has as many subscribers as it takes (%d): follow its Atom or RSS feed instead", MaxSubscribers)
	}
	sub := upstate.Subscriber{ID: s.opts.NewID(), Kind: kind, Address: strings.TrimSpace(address), CreatedAt: now}
	for _, c := range components {
		if !slices.Contains(set.Components, c) {
			return sub, upstate.Errorf(upstate.EINVALID, "component: no component %q", c)
		}
		if !slices.Contains(sub.Components, c) {
			sub.Components = append(sub.Components, c)
		}
	}
	var msgs []upstate.Message
	switch kind {
	case upstate.SubscriberEmail:
		if set.Email == nil {
			return sub, upstate.Errorf(upstate.EINVALID, "email subscriptions are not offered here")
		}
		addr, err := mail.ParseAddress(sub.Address)
		if err != nil || addr.Name != "" || len(addr.Address) > 254 {
			return sub, upstate.Errorf(upstate.EINVALID, "email: %q is not an email address", sub.Address)
		}
		sub.Address = strings.ToLower(addr.Address)
		msgs = append(msgs, s.confirmation(set, sub, now))
	case upstate.SubscriberWebhook:
		if !set.Webhooks {
			return sub, upstate.Errorf(upstate.EINVALID, "webhook subscriptions are not offered here")
		}
		if err := notify.CheckSubscriberURL(ctx, sub.Address, set.AllowPrivateAddresses, s.opts.Resolver); err != nil {
			return sub, upstate.Errorf(upstate.EINVALID, "url: %v", err)
		}
		site, n := notify.SiteOf(sub.Address), 0
		for _, o := range st.list {
			if o.Kind == upstate.SubscriberWebhook && notify.SiteOf(o.Address) == site {
				n++
			}
		}
		if n >= MaxWebhooksPerSite {
			return sub, upstate.Errorf(upstate.ECONFLICT, "url: %s has %d webhook subscriptions already, as many as one site may have", site, n)
		}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		sub.Secret = upstate.Secret("whsec_" + base64.StdEncoding.EncodeToString(key))
		sub.ConfirmedAt = &now
	default:
		return sub, upstate.Errorf(upstate.EINVALID, "kind: %q is not email or webhook", kind)
	}
	// The channel is there before the confirmation is written; the router
	// hears of the subscriber once the store has it.
	s.mu.Lock()
	s.pending[sub.ID] = sub
	s.republish()
	s.mu.Unlock()
	err := s.opts.Store.CreateSubscriber(ctx, sub, msgs)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, sub.ID)
	if err != nil {
		s.republish()
		return sub, err
	}
	s.opts.Wake()
	s.opts.Logger.Info("subscriber added", "component", "notify", "subscriber", sub.ID, "kind", kind)
	if err := s.load(ctx); err != nil {
		// The store has the subscriber but could not list them all: add
		// it to the list we have, so its confirmation finds its channel.
		s.opts.Logger.Warn("subscribers not reloaded; adding the new one to the list in memory", "component", "notify", "err", err)
		old := s.cur.Load()
		s.publish(&state{set: old.set, guarded: old.guarded, list: append(slices.Clone(old.list), sub)}, old.built)
	}
	return sub, nil
}

// confirmation is the message asking a new email subscriber to confirm.
func (s *Service) confirmation(set Settings, sub upstate.Subscriber, now time.Time) upstate.Message {
	confirm := set.PageURL + "/subscribe/confirm?t=" + s.links(set).Token("confirm", sub.ID)
	ev := upstate.Event{ID: "confirm." + sub.ID, Type: upstate.EventSubscriptionConfirm, At: now,
		Incident: upstate.Incident{Name: "Confirm your subscription to " + set.PageName},
		Entries: []upstate.TimelineEntry{{ID: "confirm", At: now, Public: true, Actor: upstate.ActorUpstate,
			Body: fmt.Sprintf("Someone, hopefully you, asked to be told by email when %s has an incident. To confirm, open %s\n\nIf it was not you, ignore this mail: nothing more will be sent.", upstate.EscapeMarkdown(set.PageName), confirm)}}}
	ch := upstate.SubscriberChannel(sub.ID)
	return upstate.Message{ID: ch + ":confirm", Channel: ch, Stream: "subscription", Event: ev, CreatedAt: now, NextAt: now, State: upstate.MessagePending}
}

// byLink finds the subscriber a signed link is for.
func (s *Service) byLink(ctx context.Context, purpose, token string) (upstate.Subscriber, error) {
	id, ok := s.links(s.cur.Load().set).CheckToken(purpose, token)
	if !ok {
		return upstate.Subscriber{}, upstate.Errorf(upstate.EFORBIDDEN, "this link is not valid: use the one in the mail you received")
	}
	sub, err := s.opts.Store.GetSubscriber(ctx, id)
	if upstate.ErrorCode(err) == upstate.ENOTFOUND {
		return sub, upstate.Errorf(upstate.ENOTFOUND, "this subscription does not exist any more")
	}
	return sub, err
}

// ByLink shows whom a confirm or unsubscribe link is for.
func (s *Service) ByLink(ctx context.Context, purpose, token string) (upstate.Subscriber, error) {
	return s.byLink(ctx, purpose, token)
}

// Confirm confirms an email subscriber from its link.
func (s *Service) Confirm(ctx context.Context, token string) (upstate.Subscriber, error) {
	sub, err := s.byLink(ctx, "confirm", token)
	if err != nil {
		return sub, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.opts.Store.ConfirmSubscriber(ctx, sub.ID, s.opts.Now()); err != nil {
		return sub, err
	}
	return sub, s.load(ctx)
}

// Unsubscribe removes a subscriber from its link (one click).
func (s *Service) Unsubscribe(ctx context.Context, token string) (upstate.Subscriber, error) {
	sub, err := s.byLink(ctx, "unsubscribe", token)
	if err != nil {
		return sub, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.opts.Store.DeleteSubscriber(ctx, sub.ID); err != nil {
		return sub, err
	}
	s.opts.Logger.Info("subscriber left", "component", "notify", "subscriber", sub.ID)
	return sub, s.load(ctx)
}

// List returns every subscriber, confirmed or not.
func (s *Service) List(ctx context.Context) ([]upstate.Subscriber, error) {
	return s.opts.Store.ListSubscribers(ctx)
}

// Remove removes a subscriber (an owner cleaning up).
func (s *Service) Remove(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.opts.Store.DeleteSubscriber(ctx, id); err != nil {
		return err
	}
	return s.load(ctx)
}
