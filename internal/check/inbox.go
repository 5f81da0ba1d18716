package check

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// Sink takes a result outside the schedule (a ping, an inbound alert)
// into the same decide → incident path as a probe's.
type Sink func(ctx context.Context, r upstate.Result)

// AlertStore keeps the inbound alerts still firing, so a restart does
// not forget them.
type AlertStore interface {
	ListFiringAlerts(ctx context.Context) ([]upstate.FiringAlert, error)
	SaveFiringAlert(ctx context.Context, a upstate.FiringAlert) error
	DeleteFiringAlert(ctx context.Context, checkID, fingerprint string) error
}

// AlertCheck is one alert check as the inbox sees it: which alerts it
// takes, and its prober, which judges what is firing.
type AlertCheck struct {
	ID     string
	Match  func(labels map[string]string) bool
	Prober Prober
}

// Inbox applies Alertmanager and Grafana webhooks, once authenticated,
// to the alert checks whose labels they match. Safe for concurrent use.
type Inbox struct {
	store AlertStore
	book  *AlertBook
	clock clock.Clock
	sink  Sink
	log   *slog.Logger

	mu     sync.Mutex
	checks []AlertCheck // in configuration order
}

// NewInbox puts the alerts still firing when Upstate last stopped back in
// the book.
func NewInbox(ctx context.Context, store AlertStore, book *AlertBook, clk clock.Clock, sink Sink, log *slog.Logger) (*Inbox, error) {
	list, err := store.ListFiringAlerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load inbound alerts: %w", err)
	}
	for _, x := range list {
		book.Put(x)
	}
	return &Inbox{store: store, book: book, clock: clk, sink: sink, log: log}, nil
}

// Configure sets the alert checks, on start and on every reload.
func (in *Inbox) Configure(checks []AlertCheck) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.checks = checks
}

// ReceiveAlerts applies a webhook: each alert fires or resolves on every
// alert check whose labels it matches, and each touched check is judged
// at once. It answers once that is durable; EINVALID for a body that is
// not a webhook.
func (in *Inbox) ReceiveAlerts(ctx context.Context, body []byte) (Receipt, error) {
	w, err := ParseAlertWebhook(body)
	if err != nil {
		return Receipt{}, upstate.Errorf(upstate.EINVALID, "%v", err)
	}
	rc := Receipt{Source: w.Source(), Alerts: len(w.Alerts)}
	in.mu.Lock()
	checks := in.checks
	in.mu.Unlock()
	now := in.clock.Now()
	touched := map[string]Prober{}
	var order []string
	for _, al := range w.Alerts {
		matched := false
		for _, ac := range checks {
			if !ac.Match(al.Labels) {
				continue
			}
			matched = true
			if _, ok := touched[ac.ID]; !ok {
				touched[ac.ID] = ac.Prober
				order = append(order, ac.ID)
			}
			if err := in.apply(ctx, ac.ID, al, rc.Source, now); err != nil {
				return rc, err
			}
		}
		if matched {
			rc.Matched++
		}
	}
	for _, id := range order {
		in.sink(ctx, touched[id].Probe(ctx))
	}
	rc.Checks = order
	if rc.Matched < rc.Alerts {
		in.log.Info("inbound alerts matched no alert check", "component", "alerts", "source", rc.Source, "unmatched", rc.Alerts-rc.Matched)
	}
	return rc, nil
}

// apply keeps one alert's news for one check: resolved drops it, firing
// keeps it, in the store first and then the book.
func (in *Inbox) apply(ctx context.Context, checkID string, al InboundAlert, source string, now time.Time) error {
	if al.Status == "resolved" {
		if err := in.store.DeleteFiringAlert(ctx, checkID, al.Fingerprint); err != nil {
			return err
		}
		in.book.Drop(checkID, al.Fingerprint)
		return nil
	}
	fa := upstate.FiringAlert{CheckID: checkID, Fingerprint: al.Fingerprint, Severity: al.Labels["severity"], Summary: al.Summary(),
		Source: source, URL: al.URL(), StartsAt: al.StartsAt, SeenAt: now}
	if fa.StartsAt.IsZero() || fa.StartsAt.After(now) {
		fa.StartsAt = now
	}
	if err := in.store.SaveFiringAlert(ctx, fa); err != nil {
		return err
	}
	in.book.Put(fa)
	return nil
}
