package subscribe

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels"
	"github.com/upstatehq/upstate/internal/snapshot"
)

var t0 = time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC)

// memStore is a Store in memory; onCreate runs as a subscriber is created.
type memStore struct {
	subs     []upstate.Subscriber
	msgs     []upstate.Message
	onCreate func(upstate.Subscriber) error
}

func (m *memStore) CreateSubscriber(_ context.Context, s upstate.Subscriber, msgs []upstate.Message) error {
	if m.onCreate != nil {
		if err := m.onCreate(s); err != nil {
			return err
		}
	}
	m.subs, m.msgs = append(m.subs, s), append(m.msgs, msgs...)
	return nil
}

func (m *memStore) GetSubscriber(_ context.Context, id string) (upstate.Subscriber, error) {
	for _, s := range m.subs {
		if s.ID == id {
			return s, nil
		}
	}
	return upstate.Subscriber{}, upstate.Errorf(upstate.ENOTFOUND, "no subscriber %q", id)
}

func (m *memStore) ConfirmSubscriber(_ context.Context, id string, at time.Time) error {
	for i := range m.subs {
		if m.subs[i].ID == id {
			m.subs[i].ConfirmedAt = &at
			return nil
		}
	}
	return upstate.Errorf(upstate.ENOTFOUND, "no subscriber %q", id)
}

func (m *memStore) DeleteSubscriber(_ context.Context, id string) error {
	for i, s := range m.subs {
		if s.ID == id {
			m.subs = slices.Delete(m.subs, i, i+1)
			return nil
		}
	}
	return upstate.Errorf(upstate.ENOTFOUND, "no subscriber %q", id)
}

func (m *memStore) ListSubscribers(context.Context) ([]upstate.Subscriber, error) {
	return slices.Clone(m.subs), nil
}

type noSnapshots struct{}

func (noSnapshots) Current() *snapshot.Snapshot { return nil }

func settings() Settings {
	return Settings{PageName: "Acme Status", PageURL: "https://status.acme.example", Components: []string{"api"},
		Email: &channels.SMTP{Host: "127.0.0.1", Port: 2525, Security: "none", From: "Acme Status <status@acme.example>"}, Webhooks: true,
		AllowPrivateAddresses: true, Timeout: time.Second,
		Deps: channels.Deps{Page: notify.Page{Name: "Acme Status", URL: "https://status.acme.example"}, Now: func() time.Time { return t0 }, Markdown: markdown.New().HTML}}
}

func newService(t *testing.T, st *memStore) (*Service, *notify.Switchboard, *int) {
	t.Helper()
	board := notify.NewSwitchboard()
	n, wakes := 0, 0
	s, err := New(Options{Store: st, Board: board, Snapshots: noSnapshots{}, Now: func() time.Time { return t0 }, NewID: func() string { n++; return fmt.Sprint("s", n) },
		Key: []byte("key"), Wake: func() { wakes++ }})
	if err != nil {
		t.Fatal(err)
	}
	s.Configure(settings())
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, board, &wakes
}

// TestChannelsBuiltOnChange: a subscriber's channel is there before the
// store has the subscriber (its confirmation may be sent at once), is the
// same channel on every look-up and after confirming, and is built again
// only when the settings change.
func TestChannelsBuiltOnChange(t *testing.T) {
	st := &memStore{}
	s, board, wakes := newService(t, st)
	ctx := context.Background()
	st.onCreate = func(sub upstate.Subscriber) error {
		if _, ok := board.Channel(upstate.SubscriberChannel(sub.ID)); !ok {
			t.Error("the confirmation is written before its channel is ready")
		}
		return nil
	}
	sub, err := s.Subscribe(ctx, upstate.SubscriberEmail, " Ann@Example.com ", []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Address != "ann@example.com" || len(st.msgs) != 1 || st.msgs[0].Event.Type != upstate.EventSubscriptionConfirm || *wakes != 1 {
		t.Fatalf("subscriber %+v, messages %+v, wakes %d", sub, st.msgs, *wakes)
	}
	id := upstate.SubscriberChannel(sub.ID)
	first, _ := board.Channel(id)
	if again, _ := board.Channel(id); again != first {
		t.Error("the channel was built again for a second look-up")
	}
	body := st.msgs[0].Event.Entries[0].Body
	link := body[strings.Index(body, "https://"):strings.Index(body, "\n\n")]
	token := strings.TrimPrefix(link, "https://status.acme.example/subscribe/confirm?t=")
	if _, err := s.Confirm(ctx, token); err != nil {
		t.Fatal(err)
	}
	if after, _ := board.Channel(id); after != first {
		t.Error("confirming built the channel again")
	}
	if _, err := s.Confirm(ctx, "s1.forged"); upstate.ErrorCode(err) != upstate.EFORBIDDEN {
		t.Errorf("forged link: %v", err)
	}
	s.Configure(settings())
	if after, _ := board.Channel(id); after == first {
		t.Error("a reload kept the channel built on the old settings")
	}
	// A subscription the store refuses leaves no channel behind.
	st.onCreate = func(upstate.Subscriber) error { return upstate.Errorf(upstate.ECONFLICT, "subscribed already") }
	if _, err := s.Subscribe(ctx, upstate.SubscriberEmail, "ann@example.com", nil); upstate.ErrorCode(err) != upstate.ECONFLICT {
		t.Errorf("duplicate: %v", err)
	}
	if _, ok := board.Channel(upstate.SubscriberChannel("s2")); ok {
		t.Error("a refused subscriber has a channel")
	}
	// Settings that stop offering email stop its channels.
	off := settings()
	off.Email = nil
	s.Configure(off)
	if _, ok := board.Channel(id); ok {
		t.Error("email is not offered, yet its subscriber has a channel")
	}
	if _, err := s.Subscribe(ctx, upstate.SubscriberEmail, "bo@example.com", nil); upstate.ErrorCode(err) != upstate.EINVALID {
		t.Errorf("email when not offered: %v", err)
	}
}

func TestWebhookLimitsAndUnsubscribe(t *testing.T) {
	st := &memStore{}
	s, board, _ := newService(t, st)
	ctx := context.Background()
	var last upstate.Subscriber
	for i := range MaxWebhooksPerSite {
		sub, err := s.Subscribe(ctx, upstate.SubscriberWebhook, fmt.Sprintf("http://127.0.0.1:9/hook/%d", i), nil)
		if err != nil {
			t.Fatalf("webhook %d: %v", i+1, err)
		}
		if !sub.Confirmed() || !strings.HasPrefix(sub.Secret.Reveal(), "whsec_") {
			t.Fatalf("webhook subscriber %+v", sub)
		}
		last = sub
	}
	if _, err := s.Subscribe(ctx, upstate.SubscriberWebhook, "http://127.0.0.1:9/hook/one-more", nil); upstate.ErrorCode(err) != upstate.ECONFLICT ||
		!strings.Contains(err.Error(), "127.0.0.1 has 20 webhook subscriptions already") {
		t.Errorf("one too many: %v", err)
	}
	for _, tc := range []struct{ kind, address, want string }{
		{"pigeon", "x", "is not email or webhook"},
		{upstate.SubscriberWebhook, "ftp://x", "is not an https URL"},
		{upstate.SubscriberEmail, "not an address", "is not an email address"},
	} {
		if _, err := s.Subscribe(ctx, tc.kind, tc.address, nil); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v", tc.kind, tc.address, err)
		}
	}
	if _, err := s.Subscribe(ctx, upstate.SubscriberEmail, "a@example.com", []string{"nope"}); !strings.Contains(fmt.Sprint(err), `no component "nope"`) {
		t.Errorf("unknown component: %v", err)
	}
	token := (&notify.Links{Key: []byte("key")}).Token("unsubscribe", last.ID)
	if _, err := s.Unsubscribe(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, ok := board.Channel(upstate.SubscriberChannel(last.ID)); ok {
		t.Error("an unsubscribed webhook keeps its channel")
	}
	if _, err := s.Unsubscribe(ctx, token); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("a used link: %v", err)
	}
	if list, _ := s.List(ctx); len(list) != MaxWebhooksPerSite-1 {
		t.Errorf("%d subscribers left", len(list))
	}
}
