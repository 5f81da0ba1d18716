package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/oncall"
)

// Pager turns incidents into pages for the people on call: when an
// incident opens (or reopens) the first policy that covers it plans its
// levels, each page a message due at its level's time in a stream of its
// own; when someone acknowledges or the incident ends, the pages not yet
// sent are cancelled in the same transaction.
type Pager struct {
	Directory oncall.Directory
	Policies  []oncall.Policy
	// Links signs acknowledgement links; nil for pages without one.
	Links *Links
}

func (p *Pager) route(ev upstate.Event) (pages []upstate.Message, cancel []string) {
	in := ev.Incident
	switch {
	case ev.Type == upstate.EventIncidentResolved || ev.Type == upstate.EventIncidentAcknowledged:
		return nil, []string{upstate.PageStream(in.ID)}
	case ev.Type == upstate.EventIncidentUpdated && ev.Acknowledged:
		return nil, []string{upstate.PageStream(in.ID)}
	case ev.Type != upstate.EventIncidentCreated && ev.Type != upstate.EventIncidentReopened:
		return nil, nil
	}
	for _, pol := range p.Policies {
		if !pol.Matches(in.Components) {
			continue
		}
		for _, pg := range p.Directory.Plan(pol, ev.At) {
			e := ev
			e.Page = &upstate.Page{Level: pg.Level, Run: pg.Run, Person: pg.Person}
			if pg.Person != "" && p.Links != nil {
				e.Page.AckURL = p.Links.URL(in.ID, pg.Person)
			}
			key := fmt.Sprintf("%d.%d.%s.%s", pg.Run, pg.Level, pg.Person, pg.Channel)
			pages = append(pages, upstate.Message{ID: pg.Channel + ":" + ev.ID + ":page:" + key, Channel: pg.Channel,
				Stream: upstate.PageStream(in.ID) + key, Event: e, CreatedAt: ev.At, NextAt: pg.At, State: upstate.MessagePending})
		}
		if ev.Type == upstate.EventIncidentReopened {
			cancel = []string{upstate.PageStream(in.ID)} // pages of its last opening, if any are left
		}
		return pages, cancel
	}
	return nil, nil
}

// Links makes and checks signed acknowledgement links: whoever holds the
// link for an incident and a person may acknowledge it as that person.
type Links struct {
	Base string // the page's public URL
	Key  []byte
}

// URL is the link for a person to acknowledge an incident.
func (l *Links) URL(incidentID, person string) string {
	if l.Base == "" {
		return ""
	}
	return l.Base + "/ack/" + url.PathEscape(incidentID) + "?p=" + url.QueryEscape(person) + "&s=" + l.sign(incidentID, person)
}

func (l *Links) sign(incidentID, person string) string {
	mac := hmac.New(sha256.New, l.Key)
	fmt.Fprintf(mac, "ack\x00%s\x00%s", incidentID, person)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// Valid reports whether sig is the signature of the link for the incident
// and person, in constant time.
func (l *Links) Valid(incidentID, person, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(l.sign(incidentID, person)))
}

// Token is a signed token for a purpose ("confirm", "unsubscribe") and an
// id: the id, a dot, and its signature.
func (l *Links) Token(purpose, id string) string {
	mac := hmac.New(sha256.New, l.Key)
	fmt.Fprintf(mac, "%s\x00%s", purpose, id)
	return id + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// CheckToken returns the id a token was made for, if it is genuine.
func (l *Links) CheckToken(purpose, token string) (string, bool) {
	i := strings.LastIndexByte(token, '.')
	if i <= 0 {
		return "", false
	}
	id := token[:i]
	return id, hmac.Equal([]byte(token), []byte(l.Token(purpose, id)))
}
