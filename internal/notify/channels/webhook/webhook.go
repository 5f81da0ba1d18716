// Package webhook posts events to any HTTP endpoint, signed per the
// Standard Webhooks specification: webhook-id (the message id, stable
// across retries, for deduplication), webhook-timestamp and
// webhook-signature ("v1," + base64 HMAC-SHA256 of id.timestamp.body).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
)

// Options configure a webhook channel.
type Options struct {
	URL    string
	Secret upstate.Secret // "whsec_" + base64 of 24–64 random bytes
	Client *http.Client
	Page   notify.Page
	Now    func() time.Time
	// PublicOnly leaves internal notes out of the body.
	PublicOnly bool
}

// Webhook is one endpoint.
type Webhook struct {
	opts Options
	key  []byte
}

var _ notify.Destined = (*Webhook)(nil)

// New returns the channel; the secret must decode.
func New(opts Options) (*Webhook, error) {
	if opts.URL == "" || opts.Client == nil || opts.Now == nil {
		return nil, errors.New("webhook: Options.URL, Client and Now are required")
	}
	key, err := DecodeSecret(opts.Secret)
	if err != nil {
		return nil, err
	}
	return &Webhook{opts: opts, key: key}, nil
}

// DecodeSecret reads a Standard Webhooks secret: "whsec_" and base64.
func DecodeSecret(s upstate.Secret) ([]byte, error) {
	raw, ok := strings.CutPrefix(s.Reveal(), "whsec_")
	if !ok {
		return nil, errors.New(`the secret must start with "whsec_" followed by base64 (e.g. "whsec_" and the output of: openssl rand -base64 32)`)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, errors.New(`the secret after "whsec_" must be base64 of 24 to 64 random bytes`)
	}
	return key, nil
}

// Sign returns the v1 signature of a body sent with the id at ts.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Body is what the endpoint receives.
type Body struct {
	Type      upstate.EventType `json:"type"`
	Timestamp time.Time         `json:"timestamp"`
	Data      Data              `json:"data"`
}

// Data is the incident and what changed.
type Data struct {
	Incident    *Incident    `json:"incident,omitempty"`
	Maintenance *Maintenance `json:"maintenance,omitempty"`
	Warning     *Warning     `json:"warning,omitempty"`
	Updates     []Update     `json:"updates"`
	Page        *Page        `json:"page,omitempty"`
}

// Page is set when the message pages someone on call.
type Page struct {
	Level  int    `json:"level"`
	Run    int    `json:"round"`
	Person string `json:"person"`
	AckURL string `json:"acknowledge_url,omitempty"`
}

// Incident is the incident as the webhook describes it.
type Incident struct {
	ID             string                 `json:"id"`
	Name           string                 `json:"name"`
	Status         upstate.IncidentStatus `json:"status"`
	Impact         upstate.Impact         `json:"impact"`
	Components     []Component            `json:"components"`
	StartedAt      time.Time              `json:"started_at"`
	ResolvedAt     *time.Time             `json:"resolved_at"`
	AcknowledgedBy string                 `json:"acknowledged_by,omitempty"`
	URL            string                 `json:"url,omitempty"`
}

// Maintenance is a planned window as the webhook describes it.
type Maintenance struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	Status         string      `json:"status"`
	ScheduledFor   time.Time   `json:"scheduled_for"`
	ScheduledUntil time.Time   `json:"scheduled_until"`
	Components     []Component `json:"components"`
	Message        string      `json:"message"`
}

// Warning is a check's warning as the webhook describes it (events
// warning.raised and warning.cleared).
type Warning struct {
	Check      string      `json:"check"`
	CheckName  string      `json:"check_name"`
	Key        string      `json:"key"`
	What       string      `json:"what"`
	Stage      int         `json:"stage"`
	Due        *time.Time  `json:"due,omitempty"`
	Since      time.Time   `json:"since"`
	Components []Component `json:"components"`
}

// Component is an affected component.
type Component struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Update is a timeline entry the change wrote.
type Update struct {
	ID     string                 `json:"id"`
	At     time.Time              `json:"at"`
	Status upstate.IncidentStatus `json:"status"`
	Body   string                 `json:"body"`
	Public bool                   `json:"public"`
	Actor  string                 `json:"actor"`
}

// Build makes the body for a message.
func Build(m upstate.Message, page notify.Page, publicOnly bool) Body {
	ev := m.Event
	in := ev.Incident
	b := Body{Type: ev.Type, Timestamp: ev.At.UTC(), Data: Data{Updates: []Update{}}}
	comps := []Component{}
	for _, c := range ev.Components() {
		comps = append(comps, Component{ID: c, Name: ev.Names[c]})
	}
	if w := ev.Warning; w != nil {
		b.Data.Warning = &Warning{Check: w.CheckID, CheckName: w.CheckName, Key: w.Key, What: w.What, Stage: w.Stage, Since: w.Since.UTC(), Components: comps}
		if !w.Due.IsZero() {
			due := w.Due.UTC()
			b.Data.Warning.Due = &due
		}
	} else if m := ev.Maintenance; m != nil {
		b.Data.Maintenance = &Maintenance{ID: m.ID, Name: m.Name, Status: string(m.StatusAt(ev.At)), ScheduledFor: m.ScheduledFor.UTC(),
			ScheduledUntil: m.ScheduledUntil.UTC(), Components: comps, Message: m.Message}
		if ev.Type == upstate.EventMaintenanceCancelled {
			b.Data.Maintenance.Status = "cancelled"
		}
	} else {
		b.Data.Incident = &Incident{ID: in.ID, Name: in.Name, Status: in.Status, Impact: in.Impact, StartedAt: in.StartedAt.UTC(), ResolvedAt: in.ResolvedAt,
			AcknowledgedBy: in.AcknowledgedBy, Components: comps}
		if page.URL != "" && ev.Type != upstate.EventTest {
			b.Data.Incident.URL = page.URL + "/incidents/" + in.ID
		}
	}
	if pg := ev.Page; pg != nil {
		b.Data.Page = &Page{pg.Level, pg.Run, pg.Person, pg.AckURL}
	}
	for _, e := range ev.Entries {
		if publicOnly && !e.Public {
			continue
		}
		b.Data.Updates = append(b.Data.Updates, Update{ID: e.ID, At: e.At.UTC(), Status: e.Status, Body: e.Body, Public: e.Public, Actor: e.Actor})
	}
	return b
}

// Send implements notify.Channel: any 2xx is delivered; the id header is
// the message id, the same on every retry.
func (w *Webhook) Send(ctx context.Context, m upstate.Message) error {
	body, err := json.Marshal(Build(m, w.opts.Page, w.opts.PublicOnly))
	if err != nil {
		return notify.Permanent(err)
	}
	req, err := http.NewRequest(http.MethodPost, w.opts.URL, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("bad URL: %w", errors.Unwrap(err)))
	}
	ts := w.opts.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Upstate")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", Sign(w.key, m.ID, ts, body))
	_, _, err = notify.Do(ctx, w.opts.Client, req)
	return err
}

// Destination implements notify.Destined.
func (w *Webhook) Destination() string { return notify.HostOf(w.opts.URL) }
