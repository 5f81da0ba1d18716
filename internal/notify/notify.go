// Package notify delivers what the outbox owes, in stages (stages.go): a
// router turns incident events into messages (written with the change
// that caused them), and a dispatcher takes each due message through
// mute, send, classify and record, retrying with exponential backoff,
// jitter and Retry-After until it is delivered or its give-up window
// passes. The Switchboard holds the router and every channel (configured
// and subscribers') as one value swapped on change; Silences is the mute
// stage; Desk is the outbox as operators see it; Acks takes the signed
// acknowledgement links in pages. Channels live in channels/, one package
// each, built through its registry; they classify their own failures with
// Permanent and RetryAfter.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// Channel delivers messages to one destination. Send returns nil once the
// receiver has accepted the message; errors it returns are retried unless
// marked Permanent.
type Channel interface {
	Send(ctx context.Context, m upstate.Message) error
}

// failure is a classified delivery error.
type failure struct {
	err        error
	permanent  bool
	retryAfter time.Duration
	retryAt    time.Time // an HTTP-date Retry-After with no Date to read it against
	answered   bool      // the receiver answered (with a refusal or an error of its own)
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// Permanent marks an error that retrying cannot fix (a 4xx other than
// 408 and 429, a bad address): the message fails at once.
func Permanent(err error) error { return &failure{err: err, permanent: true} }

// RetryAfter marks an error the receiver asked to retry no sooner than d.
func RetryAfter(err error, d time.Duration) error { return &failure{err: err, retryAfter: d} }

// RetryAt marks an error the receiver asked to retry no sooner than t.
func RetryAt(err error, t time.Time) error { return &failure{err: err, retryAt: t} }

// Answered marks an error the receiver itself gave (an HTTP status, an
// SMTP reply): it is there and answering, so its host's circuit stays
// closed however often it refuses; only silence (a timeout, a refused or
// broken connection) counts against the host.
func Answered(err error) error {
	var f *failure
	if errors.As(err, &f) {
		cp := *f
		cp.answered = true
		return &cp
	}
	return &failure{err: err, answered: true}
}

// NoAnswer reports whether err means the receiver did not answer at all
// and may answer later: not an answer, and not final (a final error, such
// as a bad address, says nothing of the host).
func NoAnswer(err error) bool {
	if err == nil {
		return false
	}
	var f *failure
	return !errors.As(err, &f) || (!f.answered && !f.permanent)
}

// Classify says whether err is final and how long from now the receiver
// asked to wait before the next attempt.
func Classify(err error, now time.Time) (permanent bool, after time.Duration) {
	var f *failure
	if errors.As(err, &f) {
		if !f.retryAt.IsZero() {
			return f.permanent, max(0, f.retryAt.Sub(now))
		}
		return f.permanent, f.retryAfter
	}
	return false, 0
}

// Do sends an HTTP request and classifies the answer the way every HTTP
// channel needs: 2xx is delivered; 408, 429 and 5xx are retried (with the
// receiver's Retry-After); any other status is final. Network errors are
// retried, without the URL (webhook URLs carry tokens).
func Do(ctx context.Context, client *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, body, nil
	}
	err = fmt.Errorf("%s answered HTTP %d%s", req.URL.Host, resp.StatusCode, snippet(body))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		// An HTTP-date Retry-After is read against the receiver's own
		// clock; without its Date, against ours when the message is
		// classified.
		ra := strings.TrimSpace(resp.Header.Get("Retry-After"))
		if at, derr := http.ParseTime(ra); derr == nil {
			if sent, derr := http.ParseTime(resp.Header.Get("Date")); derr == nil {
				return resp, body, Answered(RetryAfter(err, ParseRetryAfter(ra, sent)))
			}
			return resp, body, Answered(RetryAt(err, at))
		}
		return resp, body, Answered(RetryAfter(err, ParseRetryAfter(ra, time.Time{})))
	}
	return resp, body, Answered(Permanent(err))
}

// snippet is the start of a response body, for error messages.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return ": " + s
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// PostJSON posts v as JSON with the headers and classifies the answer as
// Do does.
func PostJSON(ctx context.Context, client *http.Client, target string, headers map[string]string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encode payload: %w", err))
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("bad URL: %w", errors.Unwrap(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Upstate")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	_, answer, err := Do(ctx, client, req)
	return answer, err
}

// Clip shortens s to at most n runes, ending in "…" when cut: receivers
// reject fields over their limits.
func Clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
