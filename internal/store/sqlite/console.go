package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store/sqlcore"
)

// ReadConsoleItems reads the console items of the database at path
// without writing to it, beside a server that may be running on it (WAL
// lets readers in while it writes): no migration, no writer. A database
// not made yet, or made before console items, has none.
func ReadConsoleItems(ctx context.Context, path string) ([]upstate.ConsoleItem, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	r, err := OpenReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	items, err := sqlcore.ReadConsoleItems(ctx, r)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read console items from %s: %w", path, err)
	}
	return items, nil
}

// OpenReadOnly opens the database at path to read only, beside a running
// server (WAL lets readers be): what `upstate export` and `upstate
// migrate` read.
func OpenReadOnly(path string) (*sql.DB, error) {
	r, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(4000)&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return r, nil
}
