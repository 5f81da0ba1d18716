package sqlcore

import (
	"slices"
	"strings"
)

// maxIn bounds the values one IN list binds. SQLite refuses a statement
// with more than 32,766 variables and PostgreSQL one with more than
// 65,535, and an installation may have 100,000 checks: a longer list is
// asked in parts.
const maxIn = 500

// inParts calls fn with successive parts of ids, at most maxIn each: the
// IN list that binds the part, "(?,?,…)", and the part as arguments. Each
// id is asked once, in order (an id in two parts would answer twice).
func inParts(ids []string, fn func(list string, args []any) error) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for len(ids) > 0 {
		n := min(len(ids), maxIn)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := fn("(?"+strings.Repeat(",?", n-1)+")", args); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// valuesOf is a table of n rows of one column (column1, in SQLite and
// PostgreSQL alike), each bound to a placeholder: "(VALUES (?),(?),…)".
func valuesOf(n int) string {
	return "(VALUES (?)" + strings.Repeat(",(?)", n-1) + ")"
}
