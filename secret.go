package upstate

import (
	"crypto/subtle"
	"log/slog"
)

// Secret is a string that never prints: String, JSON and slog all show
// "<secret>". Use Reveal where the value is really needed.
type Secret string

const redacted = "<secret>"

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer so %#v hides it too.
func (s Secret) GoString() string { return redacted }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// Equal compares in constant time.
func (s Secret) Equal(v string) bool {
	return subtle.ConstantTimeCompare([]byte(s), []byte(v)) == 1
}
