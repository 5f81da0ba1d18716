package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// loadAlerts puts the alerts still firing when Upstate last stopped back
// in the book.
func (a *App) loadAlerts(ctx context.Context) error {
	list, err := a.store.ListFiringAlerts(ctx)
	if err != nil {
		return fmt.Errorf("load inbound alerts: %w", err)
	}
	for _, x := range list {
		a.env.Alerts.Put(x)
	}
	return nil
}

// SignatureWindow is how far a signed alert webhook's timestamp may be
// from our clock: a captured request is refused once it is older, and
// the replay cache refuses it again within.
const SignatureWindow = 5 * time.Minute

// CheckAlertHeaders checks what an alert webhook's headers alone can
// show, before its body is read: the bearer token, or that a Grafana
// signature comes with a fresh timestamp. It returns the signature to
// verify against the body ("" for a bearer token).
func (a *App) CheckAlertHeaders(h http.Header) (string, error) {
	in := a.cfg.Load().Inbound
	if in.Token == "" && in.HMACSecret == "" {
		return "", upstate.Errorf(upstate.ENOTFOUND, "inbound alerts are not configured: add an alert check and inbound.token")
	}
	if authz := h.Get("Authorization"); in.Token != "" && authz != "" {
		scheme, tok, ok := strings.Cut(authz, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && in.Token.Equal(strings.TrimSpace(tok)) {
			return "", nil
		}
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "wrong bearer token for inbound alerts")
	}
	sig := strings.ToLower(strings.TrimSpace(h.Get("X-Grafana-Alerting-Signature")))
	if in.HMACSecret == "" || sig == "" {
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "send the inbound token as \"Authorization: Bearer ...\" (or sign the body, for Grafana)")
	}
	ts := h.Get(in.HMACTimestampHeader)
	if ts == "" {
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "a signed webhook must carry its timestamp in %s (set Grafana's HMAC \"Timestamp Header\" to it): an unstamped signature could be replayed for ever", in.HMACTimestampHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "%s: %q is not a Unix time in seconds", in.HMACTimestampHeader, ts)
	}
	if skew := a.opts.Clock.Now().Sub(time.Unix(sec, 0)); skew > SignatureWindow || skew < -SignatureWindow {
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "the signature's timestamp is %s from our clock, outside the %s window: a replay, or a clock to fix", skew.Abs().Round(time.Second), SignatureWindow)
	}
	return sig, nil
}

// authAlerts checks an alert webhook's credentials: the bearer token, or
// Grafana's HMAC signature (hex HMAC-SHA256 of "timestamp:body"), fresh
// and not seen before.
func (a *App) authAlerts(body []byte, h http.Header) error {
	sig, err := a.CheckAlertHeaders(h)
	if err != nil || sig == "" {
		return err
	}
	in := a.cfg.Load().Inbound
	mac := hmac.New(sha256.New, []byte(in.HMACSecret.Reveal()))
	mac.Write([]byte(h.Get(in.HMACTimestampHeader) + ":"))
	mac.Write(body)
	if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		return upstate.Errorf(upstate.EUNAUTHORIZED, "the X-Grafana-Alerting-Signature does not match the timestamp and body")
	}
	if a.replays.Seen(sig, a.opts.Clock.Now()) {
		return upstate.Errorf(upstate.EUNAUTHORIZED, "this signed webhook was received before: replays are refused")
	}
	return nil
}

// ReceiveAlerts applies an Alertmanager or Grafana webhook: each alert
// fires or resolves on every alert check whose labels it matches, and
// each touched check is judged at once through the same decide →
// incident path as a probe. It answers once that is durable.
func (a *App) ReceiveAlerts(ctx context.Context, body []byte, h http.Header) (rc check.Receipt, err error) {
	if err := a.authAlerts(body, h); err != nil {
		return check.Receipt{}, err
	}
	defer func() {
		// Not kept (the database refused it): Grafana sends the same
		// signed request again, and it must not be taken for a replay.
		if err != nil && upstate.ErrorCode(err) != upstate.EINVALID {
			if sig := strings.ToLower(strings.TrimSpace(h.Get("X-Grafana-Alerting-Signature"))); sig != "" {
				a.replays.Forget(sig)
			}
		}
	}()
	w, err := check.ParseAlertWebhook(body)
	if err != nil {
		return check.Receipt{}, upstate.Errorf(upstate.EINVALID, "%v", err)
	}
	rc = check.Receipt{Source: w.Source(), Alerts: len(w.Alerts)}
	set := a.checks.Load().compiled
	now := a.opts.Clock.Now()
	touched := map[string]check.Prober{}
	var order []string
	for _, al := range w.Alerts {
		matched := false
		for _, ac := range set.alerts {
			if !ac.match(al.Labels) {
				continue
			}
			matched = true
			if _, ok := touched[ac.id]; !ok {
				touched[ac.id] = ac.prober
				order = append(order, ac.id)
			}
			if al.Status == "resolved" {
				if err := a.store.DeleteFiringAlert(ctx, ac.id, al.Fingerprint); err != nil {
					return rc, err
				}
				a.env.Alerts.Drop(ac.id, al.Fingerprint)
				continue
			}
			fa := upstate.FiringAlert{CheckID: ac.id, Fingerprint: al.Fingerprint, Severity: al.Labels["severity"], Summary: al.Summary(),
				Source: rc.Source, URL: al.URL(), StartsAt: al.StartsAt, SeenAt: now}
			if fa.StartsAt.IsZero() || fa.StartsAt.After(now) {
				fa.StartsAt = now
			}
			if err := a.store.SaveFiringAlert(ctx, fa); err != nil {
				return rc, err
			}
			a.env.Alerts.Put(fa)
		}
		if matched {
			rc.Matched++
		}
	}
	for _, id := range order {
		r := touched[id].Probe(ctx)
		a.onResult(ctx, r)
	}
	rc.Checks = order
	if rc.Matched < rc.Alerts {
		a.log.Info("inbound alerts matched no alert check", "component", "alerts", "source", rc.Source, "unmatched", rc.Alerts-rc.Matched)
	}
	return rc, nil
}
