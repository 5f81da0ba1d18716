package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/upstatehq/upstate"
)

// WriteHealth says whether the database is accepting writes: nil, or an
// EUNAVAILABLE error saying why (locked, disk full, I/O error, or a write
// stuck for longer than the write timeout) and since when.
func (db *DB) WriteHealth() error {
	return db.health.Err(db.opts.WriteTimeout, "the disk may be stalled")
}

// Probe writes one small row, so WriteHealth is current even when nothing
// else is being written; when a commit went through within the last
// probeEvery, that is news enough and nothing is written.
func (db *DB) Probe(ctx context.Context) error {
	recent := db.health.Recent(db.opts.Now(), probeEvery)
	if recent {
		return nil
	}
	return db.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('write_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			db.opts.Now().UTC().Format(time.RFC3339Nano))
		return err
	})
}

// probeEvery is how recent a commit must be for Probe to skip its write.
const probeEvery = 10 * time.Second

// SetFull makes the database behave as on a full disk (true), or lifts
// that (false): for fault tests. It caps the file at its size and takes
// up the room left inside it. It runs on the writer's connection between
// commits, not as one of its writes, so it works while writes fail.
func (db *DB) SetFull(ctx context.Context, full bool) error {
	if !full {
		if _, err := db.write.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
			return err
		}
		_, err := db.write.ExecContext(ctx, "DROP TABLE IF EXISTS fault_filler")
		return err
	}
	if _, err := db.write.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS fault_filler (b BLOB)"); err != nil {
		return err
	}
	var pages int
	if err := db.write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return err
	}
	if _, err := db.write.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		return err
	}
	for size := 1 << 20; size >= 16; {
		if _, err := db.write.ExecContext(ctx, "INSERT INTO fault_filler (b) VALUES (zeroblob(?))", size); err != nil {
			if upstate.ErrorCode(unavailable(err)) != upstate.EUNAVAILABLE {
				return err
			}
			size /= 2
		}
	}
	return nil
}

// notAccepting is a transaction that could not begin or commit: the
// database not accepting writes, for the reason SQLite gives.
func notAccepting(err error) error {
	if err = unavailable(err); upstate.ErrorCode(err) == upstate.EUNAVAILABLE {
		return err
	}
	return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: %v", err)
}

// unavailable turns SQLite's refusals to write into an EUNAVAILABLE error
// that says why and when to try again; other errors pass unchanged.
func unavailable(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return upstate.Later(upstate.EUNAVAILABLE, 5*time.Second, "the database is not accepting writes: another process holds its write lock")
	case sqlite3.SQLITE_FULL:
		return upstate.Later(upstate.EUNAVAILABLE, time.Minute, "the database is not accepting writes: the disk is full")
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return upstate.Later(upstate.EUNAVAILABLE, 30*time.Second, "the database is not accepting writes: the disk answers with I/O errors (%v)", se)
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM:
		return upstate.Later(upstate.EUNAVAILABLE, time.Minute, "the database is not accepting writes: the file or its directory is read-only (%v)", se)
	}
	return err
}
