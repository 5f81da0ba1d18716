package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// subView is what the subscription pages show.
type subView struct {
	Step       string // "ask-confirm", "confirmed", "ask-unsubscribe", "unsubscribed", "subscribed-email", "subscribed-webhook"
	Subscriber upstate.Subscriber
	Token      string
	Secret     string
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	if wait, ok := s.limit.Allow(auth.AddressKey(respond.ClientAddr(r)), s.opts.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
		s.errorPage(w, http.StatusTooManyRequests, fmt.Sprintf("Too many subscriptions from your address; try again in %s.", upstate.FormatDuration(wait, upstate.DurationWords)))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	sub, err := s.opts.Subscriptions.Subscribe(r.Context(), r.PostFormValue("kind"), r.PostFormValue("address"), r.PostForm["component"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := view{Title: "Subscribed", Sub: subView{Step: "subscribed-email", Subscriber: sub}}
	if sub.Kind == upstate.SubscriberWebhook {
		v.Sub.Step, v.Sub.Secret = "subscribed-webhook", sub.Secret.Reveal()
	}
	s.render(w, http.StatusOK, "subscription", v)
}

// subscriptionPage asks before confirming or unsubscribing: mail scanners
// follow links, and must not do either by fetching.
func (s *Server) subscriptionPage(purpose string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := r.URL.Query().Get("t")
		sub, err := s.opts.Subscriptions.ByLink(r.Context(), purpose, t)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		step := "ask-confirm"
		if purpose == "unsubscribe" {
			step = "ask-unsubscribe"
		}
		s.render(w, http.StatusOK, "subscription", view{Title: "Your subscription", Sub: subView{Step: step, Subscriber: sub, Token: t}})
	}
}

func (s *Server) confirmSubscription(w http.ResponseWriter, r *http.Request) {
	sub, err := s.opts.Subscriptions.Confirm(r.Context(), r.PostFormValue("t"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "subscription", view{Title: "Subscription confirmed", Sub: subView{Step: "confirmed", Subscriber: sub}})
}

// unsubscribe takes the token from the form or, for RFC 8058 one-click
// unsubscribes from mail clients, from the query.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	t := r.PostFormValue("t")
	if t == "" {
		t = r.URL.Query().Get("t")
	}
	sub, err := s.opts.Subscriptions.Unsubscribe(r.Context(), t)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "subscription", view{Title: "Unsubscribed", Sub: subView{Step: "unsubscribed", Subscriber: sub}})
}
