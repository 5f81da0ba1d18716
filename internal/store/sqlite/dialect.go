package sqlite

import "strings"

// dialect is SQLite's side of what the shared queries (sqlcore) say
// differently on each database.
type dialect struct{}

func (dialect) Contains(s string) string { return `instr(` + s + `, ?) > 0` }

func (dialect) FoldingLike() string { return `LIKE` }

// Typed leaves the placeholder bare: SQLite's values carry their types.
func (dialect) Typed(string) string { return `?` }

func (dialect) NoLimit() string { return `-1` }

// SkipLocked: SQLite has one writer at a time, and no row locks.
func (dialect) SkipLocked() string { return `` }

// Text: SQLite keeps a text's bytes as they are.
func (dialect) Text(s string) string { return s }

func (dialect) IsUnique(err error) bool { return err != nil && strings.Contains(err.Error(), "UNIQUE") }
