package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CreateUser implements store.Accounts.
func (db *Core) CreateUser(ctx context.Context, u upstate.User) error {
	return db.exec(ctx, func(tx Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, normEmail(u.Email)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return upstate.Errorf(upstate.ECONFLICT, "a user with email %s exists already", u.Email)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u.ID, normEmail(u.Email), u.Name, string(u.Role), u.PasswordHash, MS(u.CreatedAt))
		return err
	})
}

const userCols = `id, email, name, role, password_hash, created_at`

func scanUser(row interface{ Scan(...any) error }) (upstate.User, error) {
	var u upstate.User
	var role string
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &created)
	u.Role, u.CreatedAt = upstate.Role(role), FromMS(created)
	return u, err
}

// GetUser implements store.Accounts.
func (db *Core) GetUser(ctx context.Context, id string) (upstate.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, upstate.Errorf(upstate.ENOTFOUND, "no user %q", id)
	}
	return u, err
}

// GetUserByEmail implements store.Accounts.
func (db *Core) GetUserByEmail(ctx context.Context, email string) (upstate.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, normEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return u, upstate.Errorf(upstate.ENOTFOUND, "no user with email %s", email)
	}
	return u, err
}

// ListUsers implements store.Accounts.
func (db *Core) ListUsers(ctx context.Context) ([]upstate.User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY created_at, email`)
	return collect(rows, err, scanUser)
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CreateSession implements store.Accounts.
func (db *Core) CreateSession(ctx context.Context, s upstate.Session) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			s.TokenHash, s.UserID, MS(s.CreatedAt), MS(s.ExpiresAt))
		return err
	})
}

// GetSession implements store.Accounts.
func (db *Core) GetSession(ctx context.Context, hash string, now time.Time) (upstate.Session, error) {
	s := upstate.Session{TokenHash: hash}
	var created, expires int64
	err := db.read.QueryRowContext(ctx, `SELECT user_id, created_at, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?`, hash, MS(now)).
		Scan(&s.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return s, upstate.Errorf(upstate.ENOTFOUND, "no such session")
	}
	s.CreatedAt, s.ExpiresAt = FromMS(created), FromMS(expires)
	return s, err
}

// DeleteSession implements store.Accounts.
func (db *Core) DeleteSession(ctx context.Context, hash string) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
		return err
	})
}

// DeleteExpiredSessions implements store.Accounts.
func (db *Core) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	return db.execCount(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, MS(now))
}

func joinScopes(ss []upstate.Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

func splitScopes(s string) []upstate.Scope {
	var out []upstate.Scope
	for _, p := range splitList(s) {
		out = append(out, upstate.Scope(p))
	}
	return out
}

// CreateToken implements store.Accounts.
func (db *Core) CreateToken(ctx context.Context, t upstate.Token) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, name, user_id, scopes, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, t.UserID, joinScopes(t.Scopes), t.Hash, MS(t.CreatedAt))
		return err
	})
}

const tokenCols = `id, name, user_id, scopes, hash, created_at, last_used, revoked`

func scanToken(row interface{ Scan(...any) error }) (upstate.Token, error) {
	var t upstate.Token
	var scopes string
	var created int64
	var used sql.NullInt64
	err := row.Scan(&t.ID, &t.Name, &t.UserID, &scopes, &t.Hash, &created, &used, &t.Revoked)
	t.Scopes, t.CreatedAt, t.LastUsed = splitScopes(scopes), FromMS(created), fromNullMS(used)
	return t, err
}

// GetTokenByHash implements store.Accounts.
func (db *Core) GetTokenByHash(ctx context.Context, hash string, now time.Time) (upstate.Token, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = ? AND revoked = 0`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, upstate.Errorf(upstate.ENOTFOUND, "no such token")
	}
	if err != nil {
		return t, err
	}
	// Recording use costs a write, so it is done at most once a minute;
	// failing to record it does not fail the request.
	if t.LastUsed == nil || now.Sub(*t.LastUsed) > time.Minute {
		_ = db.exec(ctx, func(tx Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used = ? WHERE id = ?`, MS(now), t.ID)
			return err
		})
	}
	return t, nil
}

// ListTokens implements store.Accounts.
func (db *Core) ListTokens(ctx context.Context) ([]upstate.Token, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens ORDER BY created_at, id`)
	return collect(rows, err, scanToken)
}

// RevokeToken implements store.Accounts.
func (db *Core) RevokeToken(ctx context.Context, id string) error {
	return db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE id = ?`, id)
		return one(res, err, "token", id)
	})
}

// lastOwner refuses a change that would leave no owner: id is the owner
// about to stop being one.
func lastOwner(ctx context.Context, tx Tx, id, what string) error {
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = ? AND id <> ?`, string(upstate.RoleOwner), id).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		return upstate.Errorf(upstate.ECONFLICT, "%s: they are the last owner, and someone must be able to manage users (make another owner first)", what)
	}
	return nil
}

func userRole(ctx context.Context, tx Tx, id string) (upstate.Role, error) {
	var role string
	err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`, id).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", upstate.Errorf(upstate.ENOTFOUND, "no user %q", id)
	}
	return upstate.Role(role), err
}

// UpdateUser implements store.Accounts.
func (db *Core) UpdateUser(ctx context.Context, u upstate.User) error {
	return db.exec(ctx, func(tx Tx) error {
		was, err := userRole(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if was == upstate.RoleOwner && u.Role != upstate.RoleOwner {
			if err := lastOwner(ctx, tx, u.ID, "cannot make this user a "+string(u.Role)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET name = ?, role = ?, password_hash = ? WHERE id = ?`, u.Name, string(u.Role), u.PasswordHash, u.ID)
		return err
	})
}

// DeleteUser implements store.Accounts.
func (db *Core) DeleteUser(ctx context.Context, id string) error {
	return db.exec(ctx, func(tx Tx) error {
		was, err := userRole(ctx, tx, id)
		if err != nil {
			return err
		}
		if was == upstate.RoleOwner {
			if err := lastOwner(ctx, tx, id, "cannot remove this user"); err != nil {
				return err
			}
		}
		if _, _, err := signOut(ctx, tx, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return err
	})
}

// SignOutUser implements store.Accounts.
func (db *Core) SignOutUser(ctx context.Context, id string) (sessions, tokens int64, err error) {
	err = db.exec(ctx, func(tx Tx) error {
		if _, err := userRole(ctx, tx, id); err != nil {
			return err
		}
		sessions, tokens, err = signOut(ctx, tx, id)
		return err
	})
	return sessions, tokens, err
}

// signOut deletes a user's sessions and revokes their tokens.
func signOut(ctx context.Context, tx Tx, id string) (sessions, tokens int64, err error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
	if err != nil {
		return 0, 0, err
	}
	sessions, _ = res.RowsAffected()
	res, err = tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0`, id)
	if err != nil {
		return 0, 0, err
	}
	tokens, _ = res.RowsAffected()
	return sessions, tokens, nil
}
