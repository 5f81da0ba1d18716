package config

import "github.com/upstatehq/upstate"

// Subscribers says how people outside the team can ask to be told.
type Subscribers struct {
	// Email, when it has an SMTP server, lets people subscribe by email
	// (double opt-in).
	Email *SubscriberEmail `yaml:"email"`
	// Webhooks lets people subscribe a URL, signed per Standard Webhooks.
	Webhooks bool `yaml:"webhooks"`
	// AllowPrivateAddresses lets webhook subscribers point at loopback
	// and private networks; off, so the status page cannot be used to
	// reach inside yours.
	AllowPrivateAddresses bool `yaml:"allow_private_addresses"`
}

// SubscriberEmail is the mail server subscriber email goes through.
type SubscriberEmail struct {
	SMTP *SMTP `yaml:"smtp"`
}

func (v *validator) subscribers() {
	s := &v.c.Subscribers
	if s.Email != nil {
		v.smtp("subscribers.email", s.Email.SMTP)
	}
	if (s.Email != nil || s.Webhooks) && v.c.Page.URL == "" {
		v.errf("page.url", "is required when subscribers are on: messages carry confirm and unsubscribe links")
	}
}

// Inbound authenticates alert webhooks (Alertmanager, Grafana).
type Inbound struct {
	// Token is the bearer token senders present ("Authorization: Bearer").
	Token upstate.Secret `yaml:"token"`
	// HMACSecret checks Grafana's X-Grafana-Alerting-Signature instead.
	HMACSecret upstate.Secret `yaml:"hmac_secret"`
	// HMACTimestampHeader is the header Grafana sends its signature's
	// timestamp in (its HMAC "Timestamp Header" setting, which has no
	// default there). Signed webhooks must carry a fresh one.
	HMACTimestampHeader string `yaml:"hmac_timestamp_header"`
}

// DefaultHMACTimestampHeader is the timestamp header Grafana's
// documentation names, and what Upstate expects unless told otherwise.
const DefaultHMACTimestampHeader = "X-Grafana-Alerting-Signature-Timestamp"
