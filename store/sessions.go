package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// RefreshTokenTTL is how long an unused refresh token stays valid.
const RefreshTokenTTL = 30 * 24 * time.Hour

// ErrInvalidRefreshToken covers every refused refresh token; callers learn
// nothing about why.
var ErrInvalidRefreshToken = Errorf(EUnauthorized, "the refresh token is invalid or expired; sign in again")

// NewSecret returns a random, URL-safe secret of 32 bytes.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system's randomness failing is not recoverable
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how stored secrets are kept: they are high-entropy, so a
// plain SHA-256 suffices and lets lookups use an index.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// IssueRefreshToken starts a new session (a refresh-token family) for a user
// and returns its first token and the session's id, which access tokens carry
// so that ending the session ends them too.
func (db *DB) IssueRefreshToken(ctx context.Context, userID int64) (token string, sessionID int64, err error) {
	token = NewSecret()
	err = db.GetContext(ctx, &sessionID, `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at)
		VALUES (nextval('refresh_token_family_seq'), $1, $2, $3) RETURNING family_id`, userID, HashSecret(token), time.Now().Add(RefreshTokenTTL))
	if err != nil {
		return "", 0, fmt.Errorf("issue refresh token: %w", err)
	}
	return token, sessionID, nil
}

// RotateRefreshToken spends a refresh token and returns its successor, the
// user and the session (family) it belongs to. A token used twice revokes its
// whole family, which ends the session.
func (db *DB) RotateRefreshToken(ctx context.Context, token string) (next string, userID, sessionID int64, err error) {
	reused := false
	var reusedFamily int64
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		var rt struct {
			ID       int64      `db:"id"`
			FamilyID int64      `db:"family_id"`
			UserID   int64      `db:"user_id"`
			Expires  time.Time  `db:"expires_at"`
			Used     *time.Time `db:"used_at"`
			Revoked  *time.Time `db:"revoked_at"`
		}
		err := tx.GetContext(ctx, &rt, `SELECT id, family_id, user_id, expires_at, used_at, revoked_at
			FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, HashSecret(token))
		if err != nil {
			return ErrInvalidRefreshToken
		}
		switch {
		case rt.Revoked != nil || time.Now().After(rt.Expires):
			return ErrInvalidRefreshToken
		case rt.Used != nil:
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now()
				WHERE family_id = $1 AND revoked_at IS NULL`, rt.FamilyID); err != nil {
				return err
			}
			reused, reusedFamily = true, rt.FamilyID
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, rt.ID); err != nil {
			return err
		}
		next = NewSecret()
		userID, sessionID = rt.UserID, rt.FamilyID
		_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
			rt.FamilyID, rt.UserID, HashSecret(next), time.Now().Add(RefreshTokenTTL))
		return err
	})
	if reused {
		db.profiles.forget('f', reusedFamily)
		return "", 0, 0, ErrInvalidRefreshToken
	}
	var appErr *Error
	if errors.As(err, &appErr) {
		return "", 0, 0, err
	}
	if err != nil {
		return "", 0, 0, fmt.Errorf("rotate refresh token: %w", err)
	}
	return next, userID, sessionID, nil
}

// RevokeRefreshToken ends the session a refresh token belongs to and
// reports whether there was one to end. The process's ProfileCache forgets
// the session before it returns; the others when the notification arrives.
func (db *DB) RevokeRefreshToken(ctx context.Context, token string) (bool, error) {
	var families []int64
	err := db.SelectContext(ctx, &families, `UPDATE refresh_tokens SET revoked_at = now()
		WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
		RETURNING family_id`, HashSecret(token))
	if err != nil {
		return false, err
	}
	if len(families) > 0 {
		db.profiles.forget('f', families[0])
	}
	return len(families) > 0, nil
}

// sessionLeft is how long, in seconds as PostgreSQL measures it, a session
// ($1, its family id) stays active: until its last token neither revoked
// nor expired expires; 0 or less (or NULL) when it has ended.
const sessionLeft = `(SELECT extract(epoch FROM max(expires_at) - now()) FROM refresh_tokens
	WHERE family_id = $1 AND revoked_at IS NULL)`

// UserInSession loads a user for an access token issued in a session: the
// user if the session is still active, ENotFound if the user is gone and
// EUnauthorized if the session ended. One statement, or none when the
// process's ProfileCache (UseProfileCache) checked the session less than
// SESSION_CACHE_TTL ago and heard of no change to it or to the user since.
func (db *DB) UserInSession(ctx context.Context, userID, sessionID int64) (*User, error) {
	if c := db.profiles; c != nil && c.sessionTTL > 0 {
		return c.userInSession(ctx, db, userID, sessionID)
	}
	u, _, err := db.userInSession(ctx, userID, sessionID)
	return u, err
}

// userInSession is UserInSession's statement; it also returns how long the
// session stays active.
func (db *DB) userInSession(ctx context.Context, userID, sessionID int64) (*User, time.Duration, error) {
	var row struct {
		User
		Left *float64 `db:"session_left"`
	}
	err := db.GetContext(ctx, &row, `SELECT `+userColumns+`, `+sessionLeft+` AS session_left
		FROM users WHERE id = $2`, sessionID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, Errorf(ENotFound, "user not found")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("user in session: %w", err)
	}
	if row.Left == nil || *row.Left <= 0 {
		return nil, 0, Errorf(EUnauthorized, "the session has ended")
	}
	return &row.User, time.Duration(*row.Left * float64(time.Second)), nil
}

// EndedCredentials reports, of the given apps and sessions, the apps that
// were revoked and the sessions that ended, in one statement; streams use it
// to notice revocation made on any replica.
func (db *DB) EndedCredentials(ctx context.Context, appIDs, sessionIDs []int64) (apps, sessions []int64, err error) {
	var rows []struct {
		Kind string `db:"kind"`
		ID   int64  `db:"id"`
	}
	err = db.SelectContext(ctx, &rows, `SELECT 'app' AS kind, id FROM apps WHERE id = ANY($1) AND revoked_at IS NOT NULL
		UNION ALL
		SELECT 'session', f FROM unnest($2::bigint[]) AS f WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens
			WHERE family_id = f AND revoked_at IS NULL AND expires_at > now())`, pq.Array(appIDs), pq.Array(sessionIDs))
	if err != nil {
		return nil, nil, fmt.Errorf("ended credentials: %w", err)
	}
	for _, r := range rows {
		if r.Kind == "app" {
			apps = append(apps, r.ID)
		} else {
			sessions = append(sessions, r.ID)
		}
	}
	return apps, sessions, nil
}
