package config

import (
	"encoding/base64"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Notifications are where Upstate sends word of incidents.
type Notifications struct {
	// GiveUpAfter is how long a message is retried before it is marked
	// failed (shown in the admin UI and /metrics). Default 24h.
	GiveUpAfter Duration `yaml:"give_up_after"`
	// Timeout bounds one delivery attempt. Default 15s.
	Timeout Duration `yaml:"timeout"`
	// Backoff is the wait before the first retry, doubling (with jitter)
	// up to MaxBackoff. Defaults 5s and 30m.
	Backoff Duration `yaml:"backoff"`
	// Renotify, when set, reminds channels of an open incident nobody has
	// updated for that long (e.g. 4h); off by default.
	Renotify   Duration  `yaml:"renotify"`
	MaxBackoff Duration  `yaml:"max_backoff"`
	Channels   []Channel `yaml:"channels"`
}

// Channel is one destination; which fields apply depends on Type.
type Channel struct {
	ID   string `yaml:"id"`
	Type string `yaml:"type"`
	// Which events: all incident events when empty.
	Events     []string `yaml:"events"`
	Components []string `yaml:"components"`
	PublicOnly bool     `yaml:"public_only"`
	// Template is checked where the channel is compiled (parsed and tried
	// on a sample, by the notification side); TemplateLine is the line of
	// its key, or of the channel, for that check's file:line.
	Template     Template `yaml:"template"`
	TemplateLine int      `yaml:"-"`

	URL        upstate.Secret `yaml:"url"`         // slack, teams, discord, webhook; pagerduty, opsgenie (API base)
	Secret     upstate.Secret `yaml:"secret"`      // webhook
	RoutingKey upstate.Secret `yaml:"routing_key"` // pagerduty
	APIKey     upstate.Secret `yaml:"api_key"`     // opsgenie
	Responders []string       `yaml:"responders"`  // opsgenie
	Username   string         `yaml:"username"`    // discord
	To         []string       `yaml:"to"`          // email
	SMTP       *SMTP          `yaml:"smtp"`        // email
}

// Template overrides a channel's message title and body (Go templates).
type Template struct {
	Title string `yaml:"title"`
	Body  string `yaml:"body"`
}

// SMTP is the mail server an email channel sends through.
type SMTP struct {
	Host     string         `yaml:"host"`
	Port     int            `yaml:"port"`
	Security string         `yaml:"security"`
	Username string         `yaml:"username"`
	Password upstate.Secret `yaml:"password"`
	From     string         `yaml:"from"`
}

// ChannelTypes are the kinds of channel notifications.channels may use:
// the channel registry's configurable kinds (a test holds the two lists
// to each other).
func ChannelTypes() []string {
	return []string{"slack", "teams", "discord", "pagerduty", "opsgenie", "email", "webhook"}
}

// channelKeys says which keys apply to which channel types.
var channelKeys = map[string][]string{
	"url":         {"slack", "teams", "discord", "webhook", "pagerduty", "opsgenie"},
	"secret":      {"webhook"},
	"routing_key": {"pagerduty"},
	"api_key":     {"opsgenie"},
	"responders":  {"opsgenie"},
	"username":    {"discord"},
	"to":          {"email"},
	"smtp":        {"email"},
	"template":    {"slack", "teams", "discord", "pagerduty", "opsgenie", "email"},
}

// Defaults for notifications.
const (
	DefaultGiveUpAfter   = 24 * time.Hour
	DefaultNotifyTimeout = 15 * time.Second
)

func (v *validator) notifications(comps map[string]int) {
	n := &v.c.Notifications
	if n.GiveUpAfter == 0 {
		n.GiveUpAfter = Duration(DefaultGiveUpAfter)
	}
	if n.GiveUpAfter.D() < time.Minute {
		v.errf("notifications.give_up_after", "%s is too short: at least 1m", n.GiveUpAfter.D())
	}
	if n.Timeout == 0 {
		n.Timeout = Duration(DefaultNotifyTimeout)
	}
	if n.Timeout.D() < time.Second || n.Timeout.D() > 2*time.Minute {
		v.errf("notifications.timeout", "%s is out of range: 1s to 2m", n.Timeout.D())
	}
	if n.Backoff == 0 {
		n.Backoff = Duration(5 * time.Second)
	}
	if n.MaxBackoff == 0 {
		n.MaxBackoff = Duration(30 * time.Minute)
	}
	if n.Backoff.D() < 10*time.Millisecond {
		v.errf("notifications.backoff", "%s is too short: at least 10ms", n.Backoff.D())
	}
	if n.Renotify != 0 && n.Renotify.D() < 5*time.Minute {
		v.errf("notifications.renotify", "%s is too short: at least 5m", n.Renotify.D())
	}
	if n.MaxBackoff.D() < n.Backoff.D() {
		v.errf("notifications.max_backoff", "must be at least notifications.backoff (%s)", n.Backoff.D())
	}
	seen := map[string]int{}
	for i := range n.Channels {
		v.channel(i, comps, seen)
	}
}

func (v *validator) channel(i int, comps, seen map[string]int) {
	ch := &v.c.Notifications.Channels[i]
	p := fmt.Sprintf("notifications.channels[%d]", i)
	v.id("notifications.channels", "channel", i, ch.ID, seen)
	ch.TemplateLine = v.line(p + ".template")
	types := ChannelTypes()
	if !slices.Contains(types, ch.Type) {
		if ch.Type == "" {
			v.errf(p, "type is required (one of %s)", strings.Join(types, ", "))
		} else {
			hint := ""
			if s := suggest(ch.Type, types); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.errf(p+".type", "unknown type %q%s; one of %s", ch.Type, hint, strings.Join(types, ", "))
		}
		return
	}
	for _, key := range v.d.keys[p] {
		if ts, ok := channelKeys[key]; ok && !slices.Contains(ts, ch.Type) {
			v.errf(p+"."+key, "%s applies to %s channels, not %s", key, strings.Join(ts, ", "), ch.Type)
		}
	}
	for j, e := range ch.Events {
		if !slices.Contains(upstate.EventTypes(), upstate.EventType(e)) {
			var names []string
			for _, t := range upstate.EventTypes() {
				names = append(names, string(t))
			}
			v.errf(fmt.Sprintf("%s.events[%d]", p, j), "unknown event %q (one of %s)", e, strings.Join(names, ", "))
		}
	}
	for j, id := range ch.Components {
		if comps[id] == 0 {
			v.errf(fmt.Sprintf("%s.components[%d]", p, j), "no component has id %q%s", id, v.known(comps))
		}
	}
	httpURL := func(key string, s upstate.Secret, required bool) {
		raw := s.Reveal()
		if raw == "" {
			if required {
				v.errf(p, "%s is required for %s channels", key, ch.Type)
			}
			return
		}
		// The URL may carry a token: say what is wrong without printing it.
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errf(p+"."+key, "is not an http(s) URL")
		}
	}
	switch ch.Type {
	case "slack", "teams", "discord":
		httpURL("url", ch.URL, true)
	case "webhook":
		httpURL("url", ch.URL, true)
		raw, ok := strings.CutPrefix(ch.Secret.Reveal(), "whsec_")
		if ch.Secret == "" {
			v.errf(p, `secret is required for webhook channels: "whsec_" and base64 of 24 to 64 random bytes (e.g. "whsec_$(openssl rand -base64 32)")`)
		} else if key, err := base64.StdEncoding.DecodeString(raw); !ok || err != nil || len(key) < 24 || len(key) > 64 {
			v.errf(p+".secret", `must be "whsec_" and base64 of 24 to 64 random bytes`)
		}
	case "pagerduty":
		httpURL("url", ch.URL, false)
		if ch.RoutingKey == "" {
			v.errf(p, "routing_key is required for pagerduty channels: the service's Events API v2 integration key")
		}
	case "opsgenie":
		httpURL("url", ch.URL, false)
		if ch.APIKey == "" {
			v.errf(p, "api_key is required for opsgenie channels")
		}
	case "email":
		if len(ch.To) == 0 {
			v.errf(p, "to is required for email channels: the addresses to write to")
		}
		for j, a := range ch.To {
			if _, err := mail.ParseAddress(a); err != nil {
				v.errf(fmt.Sprintf("%s.to[%d]", p, j), "%q is not an email address", a)
			}
		}
		v.smtp(p, ch.SMTP)
	}
}

func (v *validator) smtp(p string, s *SMTP) {
	if s == nil {
		v.errf(p, "smtp is required for email channels: host, from and, usually, username and password")
		return
	}
	p += ".smtp"
	if s.Host == "" {
		v.errf(p, "host is required")
	}
	if s.Security == "" {
		s.Security = "starttls"
	}
	if !slices.Contains([]string{"starttls", "tls", "none"}, s.Security) {
		v.errf(p+".security", "%q is not one of starttls, tls, none", s.Security)
	}
	if s.Port < 0 || s.Port > 65535 {
		v.errf(p+".port", "%d is not a port", s.Port)
	}
	if s.From == "" {
		v.errf(p, "from is required: the sender address, e.g. \"Status <status@example.com>\"")
	} else if _, err := mail.ParseAddress(s.From); err != nil {
		v.errf(p+".from", "%q is not an email address", s.From)
	}
	if (s.Username == "") != (s.Password == "") {
		v.errf(p, "username and password go together")
	}
}
