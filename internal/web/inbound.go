package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Inbound is how alert webhooks prove who sent them: the bearer token
// senders present, or Grafana's HMAC signature of "timestamp:body" with
// its timestamp in TimestampHeader.
type Inbound struct {
	Token           upstate.Secret
	HMACSecret      upstate.Secret
	TimestampHeader string
}

// SignatureWindow is how far a signed alert webhook's timestamp may be
// from our clock: a captured request is refused once it is older, and
// the replay cache refuses it again within.
const SignatureWindow = 5 * time.Minute

// signatureHeader is where Grafana puts its signature.
const signatureHeader = "X-Grafana-Alerting-Signature"

// inboundHeaders checks what an alert webhook's headers alone can show,
// before its body is read: the bearer token, or that a signature comes
// with a fresh timestamp. It returns the signature to verify against the
// body ("" for a bearer token).
func (s *Server) inboundHeaders(in Inbound, h http.Header) (string, error) {
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
	sig := strings.ToLower(strings.TrimSpace(h.Get(signatureHeader)))
	if in.HMACSecret == "" || sig == "" {
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "send the inbound token as \"Authorization: Bearer ...\" (or sign the body, for Grafana)")
	}
	ts := h.Get(in.TimestampHeader)
	if ts == "" {
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "a signed webhook must carry its timestamp in %s (set Grafana's HMAC \"Timestamp Header\" to it): an unstamped signature could be replayed for ever", in.TimestampHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "%s: %q is not a Unix time in seconds", in.TimestampHeader, ts)
	}
	if skew := s.opts.Now().Sub(time.Unix(sec, 0)); skew > SignatureWindow || skew < -SignatureWindow {
		return "", upstate.Errorf(upstate.EUNAUTHORIZED, "the signature's timestamp is %s from our clock, outside the %s window: a replay, or a clock to fix", skew.Abs().Round(time.Second), SignatureWindow)
	}
	return sig, nil
}

// inboundBody verifies a signature against the body, and that the same
// signed request was not received before.
func (s *Server) inboundBody(in Inbound, sig string, body []byte, h http.Header) error {
	mac := hmac.New(sha256.New, []byte(in.HMACSecret.Reveal()))
	mac.Write([]byte(h.Get(in.TimestampHeader) + ":"))
	mac.Write(body)
	if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		return upstate.Errorf(upstate.EUNAUTHORIZED, "the %s does not match the timestamp and body", signatureHeader)
	}
	if s.replays.Seen(sig, s.opts.Now()) {
		return upstate.Errorf(upstate.EUNAUTHORIZED, "this signed webhook was received before: replays are refused")
	}
	return nil
}

// alerts takes an Alertmanager or Grafana webhook, authenticated here,
// and hands its body to the alert checks. Alertmanager retries 5xx
// answers, so only a failure to keep the alerts answers 5xx.
func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	in := s.opts.Inbound()
	sig, err := s.inboundHeaders(in, r.Header)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	if err != nil {
		writeError(w, r, upstate.Errorf(upstate.EINVALID, "the body is larger than 4 MiB or could not be read"))
		return
	}
	if sig != "" {
		if err := s.inboundBody(in, sig, body, r.Header); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	rc, err := s.opts.Alerts.ReceiveAlerts(r.Context(), body)
	if err != nil {
		// Not kept (the database refused it): Grafana sends the same
		// signed request again, and it must not be taken for a replay.
		if sig != "" && upstate.ErrorCode(err) != upstate.EINVALID {
			s.replays.Forget(sig)
		}
		s.fail(w, r, err)
		return
	}
	checks := rc.Checks
	if checks == nil {
		checks = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"source": rc.Source, "alerts": rc.Alerts, "matched": rc.Matched, "checks": checks})
}
