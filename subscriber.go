package upstate

import (
	"slices"
	"strings"
	"time"
)

// Subscriber kinds.
const (
	SubscriberEmail   = "email"
	SubscriberWebhook = "webhook"
)

// Subscriber is someone outside the team who asked to be told: by email
// (after confirming the address) or by a signed webhook.
type Subscriber struct {
	ID      string
	Kind    string // SubscriberEmail or SubscriberWebhook
	Address string // the email address or webhook URL
	// Components limits it to incidents on these; all when empty.
	Components []string
	// Secret signs a webhook subscriber's messages (Standard Webhooks).
	Secret      Secret
	CreatedAt   time.Time
	ConfirmedAt *time.Time // nil until an email address is confirmed
}

// Confirmed reports whether messages may go to the subscriber.
func (s Subscriber) Confirmed() bool { return s.ConfirmedAt != nil }

// Wants reports whether the subscriber asked about any of the components.
func (s Subscriber) Wants(components []string) bool {
	if len(s.Components) == 0 {
		return true
	}
	for _, c := range components {
		if slices.Contains(s.Components, c) {
			return true
		}
	}
	return false
}

// SubscriberChannel is the channel id of a subscriber's messages.
func SubscriberChannel(id string) string { return subscriberChannelPrefix + id }

const subscriberChannelPrefix = "subscriber:"

// IsSubscriberChannel reports whether a channel id is a subscriber's.
func IsSubscriberChannel(id string) bool { return strings.HasPrefix(id, subscriberChannelPrefix) }

// EventSubscriptionConfirm asks a new email subscriber to confirm.
const EventSubscriptionConfirm EventType = "subscription.confirm"
