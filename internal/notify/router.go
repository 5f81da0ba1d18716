package notify

import (
	"slices"

	"github.com/upstatehq/upstate"
)

// Route says which events one channel gets.
type Route struct {
	Channel string
	// Events are the event types it gets; all when empty.
	Events []upstate.EventType
	// Components limits it to incidents on these components; all when empty.
	Components []string
	// PublicOnly leaves out changes that wrote only internal notes.
	PublicOnly bool
	// Incidents leaves out maintenance notices and warnings (alerting
	// services would page for them).
	Incidents bool
}

// Router turns events into messages, one per channel whose route matches.
type Router struct {
	routes []Route
	pager  *Pager
	subs   func() []upstate.Subscriber
}

// NewRouter returns a router over the routes; pager, when not nil, pages
// people on call as well, and subs, when not nil, lists the subscribers
// to tell of public news.
func NewRouter(routes []Route, pager *Pager, subs func() []upstate.Subscriber) *Router {
	return &Router{routes: slices.Clone(routes), pager: pager, subs: subs}
}

// subscriberEvents are what subscribers hear about.
var subscriberEvents = []upstate.EventType{upstate.EventIncidentCreated, upstate.EventIncidentUpdated, upstate.EventIncidentResolved, upstate.EventIncidentReopened,
	upstate.EventMaintenanceScheduled, upstate.EventMaintenanceStarted, upstate.EventMaintenanceCompleted, upstate.EventMaintenanceCancelled}

// Route returns the messages the event owes. A message's id is the
// channel and the event's id, so routing one event twice owes it once;
// its stream is the incident, so one incident's messages go in order.
func (r *Router) Route(ev upstate.Event) upstate.Owed {
	var out upstate.Owed
	for _, rt := range r.routes {
		if !rt.matches(ev) {
			continue
		}
		out.Messages = append(out.Messages, upstate.Message{ID: rt.Channel + ":" + ev.ID, Channel: rt.Channel, Stream: ev.Stream(), Event: ev,
			CreatedAt: ev.At, NextAt: ev.At, State: upstate.MessagePending})
	}
	if r.subs != nil && ev.Public() && slices.Contains(subscriberEvents, ev.Type) {
		for _, s := range r.subs() {
			if !s.Confirmed() || !s.Wants(ev.Components()) {
				continue
			}
			ch := upstate.SubscriberChannel(s.ID)
			out.Messages = append(out.Messages, upstate.Message{ID: ch + ":" + ev.ID, Channel: ch, Stream: ev.Stream(), Event: ev,
				CreatedAt: ev.At, NextAt: ev.At, State: upstate.MessagePending})
		}
	}
	if r.pager != nil {
		pages, cancel := r.pager.route(ev)
		out.Messages = append(out.Messages, pages...)
		out.Cancel = append(out.Cancel, cancel...)
	}
	return out
}

func (rt Route) matches(ev upstate.Event) bool {
	if rt.Incidents && (ev.Maintenance != nil || ev.Warning != nil) {
		return false
	}
	if len(rt.Events) > 0 && !slices.Contains(rt.Events, ev.Type) {
		return false
	}
	if rt.PublicOnly && !ev.Public() {
		return false
	}
	if len(rt.Components) == 0 {
		return true
	}
	for _, c := range ev.Components() {
		if slices.Contains(rt.Components, c) {
			return true
		}
	}
	return false
}
