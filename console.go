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

// Definition is a check or component as the console shows it: its keys
// (as the file or the console wrote them, secrets written as literals
// shown as "<secret>") and where it is defined.
type Definition struct {
	Kind ConsoleKind
	ID   string
	Keys map[string]any
	// Provisioned is true for one defined in the configuration file, which
	// File names (its base name): the console shows it read-only.
	Provisioned bool
	File        string
	// Paused checks are not run and open no incidents.
	Paused bool
	// ShadowedBy names the file when a console item's id is also the
	// file's: the file's is in force, this one is kept unused.
	ShadowedBy string
	// Problem says why a console item is not in force: the configuration
	// refuses it now (the file changed under it); empty when it is.
	Problem string
}
