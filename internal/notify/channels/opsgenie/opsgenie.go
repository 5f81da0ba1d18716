// Package opsgenie sends alerts to the Opsgenie Alert API, or to Jira
// Service Management Ops, which took the same API over (Opsgenie support
// ends 2027-04-05): create when an incident opens or changes, acknowledge
// and close by alias, one alias per incident.
package opsgenie

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/notify"
)

// DefaultURL is Opsgenie's API; EU accounts use https://api.eu.opsgenie.com
// and JSM Ops https://api.atlassian.com/jsm/ops/integration.
const DefaultURL = "https://api.opsgenie.com"

// Options configure an Opsgenie channel.
type Options struct {
	APIKey     upstate.Secret
	URL        string   // base URL; default DefaultURL
	Responders []string // team names to route to
	Client     *http.Client
	Page       notify.Page
	Templates  notify.Templates
}

// Opsgenie is one API integration.
type Opsgenie struct{ opts Options }

var _ notify.Destined = (*Opsgenie)(nil)

// New returns the channel.
func New(opts Options) (*Opsgenie, error) {
	if opts.APIKey == "" || opts.Client == nil {
		return nil, errors.New("opsgenie: Options.APIKey and Client are required")
	}
	if opts.URL == "" {
		opts.URL = DefaultURL
	}
	opts.URL = strings.TrimRight(opts.URL, "/")
	return &Opsgenie{opts: opts}, nil
}

// Alias is the one alias of an incident's alert.
func Alias(incidentID string) string { return "upstate-incident-" + incidentID }

// Request is a call to make: a path under the base URL and a body.
type Request struct {
	Path string
	Body map[string]any
}

// Build makes the API call for a message.
func Build(m upstate.Message, o Options) (Request, error) {
	ev := m.Event
	alias := Alias(ev.Incident.ID)
	if ev.Type == upstate.EventTest {
		alias = "upstate-test-" + ev.ID
	}
	source := o.Page.Name
	switch ev.Type {
	case upstate.EventIncidentResolved:
		return Request{"/v2/alerts/" + url.PathEscape(alias) + "/close?identifierType=alias", map[string]any{"source": source, "note": latest(ev)}}, nil
	case upstate.EventIncidentAcknowledged:
		return Request{"/v2/alerts/" + url.PathEscape(alias) + "/acknowledge?identifierType=alias",
			map[string]any{"user": ev.Incident.AcknowledgedBy, "source": source, "note": latest(ev)}}, nil
	}
	x, err := notify.Render(ev, o.Page, o.Templates, false)
	if err != nil {
		return Request{}, notify.Permanent(err)
	}
	desc := x.Body
	if x.URL != "" {
		desc += "\n\n" + x.URL
	}
	body := map[string]any{
		"message": notify.Clip(x.Title, 130), "alias": alias, "description": notify.Clip(desc, 15000),
		"tags": []string{"upstate", strings.ToLower(x.Impact)}, "entity": x.Components, "source": source, "priority": priority(ev.Incident.Impact),
		"details": map[string]string{"status": x.Status, "impact": x.Impact, "components": x.Components, "url": x.URL},
	}
	if len(o.Responders) > 0 {
		var rs []map[string]string
		for _, r := range o.Responders {
			rs = append(rs, map[string]string{"name": r, "type": "team"})
		}
		body["responders"] = rs
	}
	return Request{"/v2/alerts", body}, nil
}

func latest(ev upstate.Event) string {
	e, _ := ev.Latest(false)
	return notify.Clip(e.Body, 25000)
}

// Send implements notify.Channel. Opsgenie answers 202 and processes the
// request later.
func (o *Opsgenie) Send(ctx context.Context, m upstate.Message) error {
	r, err := Build(m, o.opts)
	if err != nil {
		return err
	}
	_, err = notify.PostJSON(ctx, o.opts.Client, o.opts.URL+r.Path, map[string]string{"Authorization": "GenieKey " + o.opts.APIKey.Reveal()}, r.Body)
	return err
}

func priority(i upstate.Impact) string {
	switch i {
	case upstate.ImpactCritical:
		return "P1"
	case upstate.ImpactMajor:
		return "P2"
	case upstate.ImpactMinor:
		return "P3"
	}
	return "P4"
}

// Destination implements notify.Destined.
func (o *Opsgenie) Destination() string { return notify.HostOf(o.opts.URL) }
