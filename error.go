package upstate

import (
	"errors"
	"fmt"
	"time"
)

// Domain error codes. The web layer maps them to HTTP statuses; anything
// without a code is an internal error.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
	// ETOOMANY refuses a request for now: too many of its kind (sign-ins
	// failing, metrics series); RetryAfter says when to try again.
	ETOOMANY  = "too_many_requests"
	EINTERNAL = "internal"
)

// Error is a domain error: a code for machines and a message for people.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when set, is how long the caller should wait before
	// trying again (an HTTP Retry-After).
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Later returns an *Error that asks the caller to try again after d.
func Later(code string, d time.Duration, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), RetryAfter: d}
}

// RetryAfterOf returns how long the first *Error in err's chain asks
// callers to wait, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL; nil has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// "internal error" for anything else, so internal details never reach users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
