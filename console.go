package upstate

import "time"

// ConsoleItem is a check or component made in the console (the admin API
// or UI) rather than in the configuration file: its keys as given, the
// same keys a YAML item has, as a JSON object. They are kept as written,
// not resolved, so ${ENV} references stay references; the configuration
// merges them into the file's and validates both as one.
type ConsoleItem struct {
	Kind ConsoleKind
	ID   string
	// Keys is the item's JSON object, normalized (keys sorted).
	Keys      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConsoleKind says what a console item is.
type ConsoleKind string

// The kinds of console items.
const (
	ConsoleCheck     ConsoleKind = "check"
	ConsoleComponent ConsoleKind = "component"
)
