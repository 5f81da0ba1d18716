// Package respond writes HTTP answers the one way Upstate does: JSON
// bodies, domain error codes mapped to statuses in one place, and
// "internal error" plus the request id for anything without a code.
package respond

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// RequestID returns the id of the request being answered on w, as sent in
// its X-Request-Id header; errors quote it so logs can be found.
func RequestID(w http.ResponseWriter) string { return w.Header().Get("X-Request-Id") }

// HTTPStatus maps a domain error code to an HTTP status.
func HTTPStatus(err error) int {
	switch upstate.ErrorCode(err) {
	case upstate.EINVALID:
		return http.StatusBadRequest
	case upstate.ENOTFOUND:
		return http.StatusNotFound
	case upstate.ECONFLICT:
		return http.StatusConflict
	case upstate.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case upstate.EFORBIDDEN:
		return http.StatusForbidden
	case upstate.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case upstate.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// Error answers with the error as JSON: the domain message for coded
// errors, "internal error" and the request id for the rest. status, when
// given, overrides the mapped status.
func Error(w http.ResponseWriter, err error, status ...int) {
	code := HTTPStatus(err)
	if len(status) > 0 {
		code = status[0]
	}
	body := map[string]any{"code": upstate.ErrorCode(err), "message": upstate.ErrorMessage(err), "request_id": RequestID(w)}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="upstate"`)
	}
	SetRetryAfter(w, err)
	JSON(w, code, map[string]any{"error": body})
}

// SetRetryAfter sets the Retry-After header when err asks callers to
// wait: whole seconds, rounded up.
func SetRetryAfter(w http.ResponseWriter, err error) {
	if d := upstate.RetryAfterOf(err); d > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
}

// JSON answers with v as indented JSON.
func JSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// MaxBody bounds a request body.
const MaxBody = 1 << 20

// Decode reads a JSON request body into v strictly: unknown fields, wrong
// types, trailing data and oversize bodies are EINVALID errors that name
// the field.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	return DecodeLimit(w, r, v, MaxBody)
}

// DecodeLimit is Decode for a body of at most limit bytes.
func DecodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return upstate.Errorf(upstate.EINVALID, "Content-Type must be application/json, not %q", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		if dec.More() {
			return upstate.Errorf(upstate.EINVALID, "body has data after the JSON object")
		}
		return nil
	case errors.Is(err, io.EOF):
		return upstate.Errorf(upstate.EINVALID, "body is empty: send a JSON object")
	case errors.As(err, &syn):
		return upstate.Errorf(upstate.EINVALID, "body is not valid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return upstate.Errorf(upstate.EINVALID, "field %s: want %s, got %s", typ.Field, typ.Type, typ.Value)
	case errors.As(err, &tooBig):
		return upstate.Errorf(upstate.EINVALID, "body is larger than %d bytes", tooBig.Limit)
	case upstate.ErrorCode(err) == upstate.EINVALID: // a field's own UnmarshalJSON, in its words
		return err
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return upstate.Errorf(upstate.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return upstate.Errorf(upstate.EINVALID, "body: %v", fmt.Sprint(err))
}
