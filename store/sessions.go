package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
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

// IssueRefreshToken starts a new token family for a user and returns its
// first token.
func (db *DB) IssueRefreshToken(ctx context.Context, userID int64) (string, error) {
	token := NewSecret()
	_, err := db.ExecContext(ctx, `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at)
		VALUES (nextval('refresh_token_family_seq'), $1, $2, $3)`, userID, HashSecret(token), time.Now().Add(RefreshTokenTTL))
	if err != nil {
		return "", fmt.Errorf("issue refresh token: %w", err)
	}
	return token, nil
}

// RotateRefreshToken spends a refresh token and returns its successor and
// the user it belongs to. A token used twice revokes its whole family.
func (db *DB) RotateRefreshToken(ctx context.Context, token string) (next string, userID int64, err error) {
	reused := false
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
			reused = true
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, rt.ID); err != nil {
			return err
		}
		next = NewSecret()
		userID = rt.UserID
		_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
			rt.FamilyID, rt.UserID, HashSecret(next), time.Now().Add(RefreshTokenTTL))
		return err
	})
	if reused {
		return "", 0, ErrInvalidRefreshToken
	}
	var appErr *Error
	if errors.As(err, &appErr) {
		return "", 0, err
	}
	if err != nil {
		return "", 0, fmt.Errorf("rotate refresh token: %w", err)
	}
	return next, userID, nil
}

// RevokeRefreshToken ends the session a refresh token belongs to and
// reports whether there was one to end.
func (db *DB) RevokeRefreshToken(ctx context.Context, token string) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now()
		WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`, HashSecret(token))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
