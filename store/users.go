package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"
)

const userColumns = `id, email, password_hash, handle, display_name, avatar_url, follower_count,
	is_creator, is_admin, interest_tags, created_at, is_guest`

// NewUser is what sign-up stores.
type NewUser struct {
	Email        string
	PasswordHash string
	Handle       string
	DisplayName  string
}

// CreateUser stores a new user; a taken email or handle is a CONFLICT on that field.
func (db *DB) CreateUser(ctx context.Context, in NewUser) (*User, error) {
	var u User
	err := db.GetContext(ctx, &u, `INSERT INTO users (email, password_hash, handle, display_name)
		VALUES ($1, $2, $3, $4) RETURNING `+userColumns,
		strings.ToLower(in.Email), in.PasswordHash, in.Handle, in.DisplayName)
	if err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23505" {
			if strings.Contains(pqErr.Constraint, "email") {
				return nil, FieldErrorf(EConflict, "email", "an account with this email already exists").Because(ReasonTaken)
			}
			return nil, FieldErrorf(EConflict, "handle", "this handle is taken").Because(ReasonTaken)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return &u, nil
}

// UserByEmail finds a user by email, case-insensitively.
func (db *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENotFound, "user not found")
	}
	if err != nil {
		return nil, fmt.Errorf("user by email: %w", err)
	}
	return &u, nil
}

// UsersByIDs loads users by id in one statement.
func (db *DB) UsersByIDs(ctx context.Context, ids []int64) (map[int64]*User, error) {
	var rows []*User
	if err := db.SelectContext(ctx, &rows, `SELECT `+userColumns+` FROM users WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("users by ids: %w", err)
	}
	return indexByID(rows, func(u *User) int64 { return u.ID }), nil
}

// UserByID loads one user.
func (db *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	m, err := db.UsersByIDs(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if u, ok := m[id]; ok {
		return u, nil
	}
	return nil, Errorf(ENotFound, "user not found")
}

// HasUser reports whether an account with this email exists.
func (db *DB) HasUser(ctx context.Context, email string) (bool, error) {
	var exists bool
	err := db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))`, email)
	return exists, err
}
