package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

const shopColumns = `id, handle, name, description, operating_model, owner_id, currency_code,
	affiliate_rate_bps, follower_count, created_at, taxes_included`

// NewShop is what createShop stores.
type NewShop struct {
	OwnerID        int64
	Handle         string
	Name           string
	Description    string
	OperatingModel string
	CurrencyCode   string
}

// CreateShop stores a shop; a taken handle is a CONFLICT.
func (db *DB) CreateShop(ctx context.Context, in NewShop) (*Shop, error) {
	var s Shop
	err := db.GetContext(ctx, &s, `INSERT INTO shops (owner_id, handle, name, description, operating_model, currency_code)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+shopColumns,
		in.OwnerID, in.Handle, in.Name, in.Description, in.OperatingModel, in.CurrencyCode)
	if err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23505" {
			return nil, FieldErrorf(EConflict, "handle", "this shop handle is taken").Because(ReasonTaken)
		}
		return nil, fmt.Errorf("create shop: %w", err)
	}
	return &s, nil
}

// ShopUpdate holds the fields to change; nil leaves a field as it is.
type ShopUpdate struct {
	Name        *string
	Description *string
}

// UpdateShop changes a shop's editable fields.
func (db *DB) UpdateShop(ctx context.Context, id int64, upd ShopUpdate) (*Shop, error) {
	var s Shop
	err := db.GetContext(ctx, &s, `UPDATE shops SET name = coalesce($2, name), description = coalesce($3, description)
		WHERE id = $1 RETURNING `+shopColumns, id, upd.Name, upd.Description)
	db.profiles.forget('s', id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENotFound, "shop not found")
	}
	if err != nil {
		return nil, fmt.Errorf("update shop: %w", err)
	}
	return &s, nil
}

// ShopsByIDs loads shops by id in one statement.
func (db *DB) ShopsByIDs(ctx context.Context, ids []int64) (map[int64]*Shop, error) {
	var rows []*Shop
	if err := db.SelectContext(ctx, &rows, `SELECT `+shopColumns+` FROM shops WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("shops by ids: %w", err)
	}
	return indexByID(rows, func(s *Shop) int64 { return s.ID }), nil
}

// ShopByID loads one shop.
func (db *DB) ShopByID(ctx context.Context, id int64) (*Shop, error) {
	return getOne[Shop](ctx, db.DB, `SELECT `+shopColumns+` FROM shops WHERE id = $1`, "shop", id)
}

// ShopByHandle finds a shop by handle, case-insensitively.
func (db *DB) ShopByHandle(ctx context.Context, handle string) (*Shop, error) {
	return getOne[Shop](ctx, db.DB, `SELECT `+shopColumns+` FROM shops WHERE lower(handle) = lower($1)`, "shop", handle)
}

// ListShops pages through shops, newest first, with the total count.
func (db *DB) ListShops(ctx context.Context, args PageArgs) (Page[*Shop], int, error) {
	after, err := afterID(args.After)
	if err != nil {
		return Page[*Shop]{}, 0, err
	}
	var rows []*Shop
	if err := db.SelectContext(ctx, &rows, `SELECT `+shopColumns+` FROM shops
		WHERE ($1 = 0 OR id < $1) ORDER BY id DESC LIMIT $2`, after, args.First+1); err != nil {
		return Page[*Shop]{}, 0, fmt.Errorf("list shops: %w", err)
	}
	var total int
	if err := db.GetContext(ctx, &total, `SELECT count(*) FROM shops`); err != nil {
		return Page[*Shop]{}, 0, fmt.Errorf("count shops: %w", err)
	}
	return newPage(rows, args, func(s *Shop) string { return cursorForID(s.ID) }), total, nil
}

// getOne reads a single row, turning "no rows" into a NOT_FOUND error.
func getOne[T any](ctx context.Context, q sqlx.QueryerContext, query, what string, args ...any) (*T, error) {
	var v T
	err := sqlx.GetContext(ctx, q, &v, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENotFound, "%s not found", what)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", what, err)
	}
	return &v, nil
}

// ListShopsByOwner pages through the shops a user owns, oldest first.
func (db *DB) ListShopsByOwner(ctx context.Context, ownerID int64, args PageArgs) (Page[*Shop], int, error) {
	after, err := afterID(args.After)
	if err != nil {
		return Page[*Shop]{}, 0, err
	}
	var rows []*Shop
	if err := db.SelectContext(ctx, &rows, `SELECT `+shopColumns+` FROM shops
		WHERE owner_id = $1 AND id > $2 ORDER BY id LIMIT $3`, ownerID, after, args.First+1); err != nil {
		return Page[*Shop]{}, 0, fmt.Errorf("shops by owner: %w", err)
	}
	var total int
	if err := db.GetContext(ctx, &total, `SELECT count(*) FROM shops WHERE owner_id = $1`, ownerID); err != nil {
		return Page[*Shop]{}, 0, fmt.Errorf("count shops: %w", err)
	}
	return newPage(rows, args, func(s *Shop) string { return cursorForID(s.ID) }), total, nil
}
