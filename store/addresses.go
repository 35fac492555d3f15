package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Validate checks an address's shape; prefix starts each field's path
// ("shippingAddress.", "address.").
func (a Address) Validate(prefix string) Problems {
	var p Problems
	p.text(prefix+"name", a.Name, true, 100)
	p.text(prefix+"line1", a.Line1, true, 200)
	p.text(prefix+"line2", a.Line2, false, 200)
	p.text(prefix+"city", a.City, true, 100)
	p.text(prefix+"region", a.Region, false, 100)
	p.text(prefix+"postalCode", a.PostalCode, true, 20)
	p.text(prefix+"phone", a.Phone, false, 30)
	if !countryPattern.MatchString(a.CountryCode) {
		p.add(prefix+"countryCode", "", "countryCode must be two capital letters, e.g. US")
	}
	return p
}

// CustomerAddress is an address a signed-in buyer saved; at most one of a
// buyer's is their default. Only its owner ever sees it.
type CustomerAddress struct {
	ID          int64     `db:"id"`
	UserID      int64     `db:"user_id"`
	Name        string    `db:"name"`
	Line1       string    `db:"line1"`
	Line2       string    `db:"line2"`
	City        string    `db:"city"`
	Region      string    `db:"region"`
	PostalCode  string    `db:"postal_code"`
	CountryCode string    `db:"country_code"`
	Phone       string    `db:"phone"`
	IsDefault   bool      `db:"is_default"`
	CreatedAt   time.Time `db:"created_at"`
}

func (*CustomerAddress) isNode() {}

// Address is the saved address as a shipping address.
func (a *CustomerAddress) Address() Address {
	return Address{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region,
		PostalCode: a.PostalCode, CountryCode: a.CountryCode, Phone: a.Phone}
}

// MaxCustomerAddresses bounds the addresses one buyer keeps.
const MaxCustomerAddresses = 50

const customerAddressColumns = `id, user_id, name, line1, line2, city, region, postal_code, country_code, phone, is_default, created_at`

// CustomerAddressesByIDs loads saved addresses by id in one statement.
func (db *DB) CustomerAddressesByIDs(ctx context.Context, ids []int64) (map[int64]*CustomerAddress, error) {
	var rows []*CustomerAddress
	if err := db.SelectContext(ctx, &rows, `SELECT `+customerAddressColumns+` FROM customer_addresses WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("customer addresses: %w", err)
	}
	return indexByID(rows, func(a *CustomerAddress) int64 { return a.ID }), nil
}

// CustomerAddressOf loads one of the user's saved addresses; another's, or
// an unknown one, is NOT_FOUND.
func (db *DB) CustomerAddressOf(ctx context.Context, userID, id int64) (*CustomerAddress, error) {
	return getOne[CustomerAddress](ctx, db.DB, `SELECT `+customerAddressColumns+` FROM customer_addresses
		WHERE id = $1 AND user_id = $2`, "address", id, userID)
}

// DefaultCustomerAddress is the user's default address, nil when none.
func (db *DB) DefaultCustomerAddress(ctx context.Context, userID int64) (*CustomerAddress, error) {
	var rows []*CustomerAddress
	if err := db.SelectContext(ctx, &rows, `SELECT `+customerAddressColumns+` FROM customer_addresses
		WHERE user_id = $1 AND is_default`, userID); err != nil {
		return nil, fmt.Errorf("default address: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0], nil
}

// ListCustomerAddresses pages through a user's saved addresses, oldest first.
func (db *DB) ListCustomerAddresses(ctx context.Context, userID int64, args PageArgs) (Page[*CustomerAddress], error) {
	after, err := afterID(args.After)
	if err != nil {
		return Page[*CustomerAddress]{}, err
	}
	var rows []*CustomerAddress
	if err := db.SelectContext(ctx, &rows, `SELECT `+customerAddressColumns+` FROM customer_addresses
		WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`, userID, after, args.First+1); err != nil {
		return Page[*CustomerAddress]{}, fmt.Errorf("customer addresses: %w", err)
	}
	return newPage(rows, args, func(a *CustomerAddress) string { return cursorForID(a.ID) }), nil
}

// CreateCustomerAddress saves an address for the user; the first one, or
// one with makeDefault, becomes the default.
func (db *DB) CreateCustomerAddress(ctx context.Context, userID int64, a Address, makeDefault bool) (*CustomerAddress, Problems, error) {
	if p := a.Validate("address."); len(p) > 0 {
		return nil, p, nil
	}
	var out *CustomerAddress
	p, err := db.inTxUnlessProblems(ctx, func(tx *sqlx.Tx) (Problems, error) {
		// Serialise a user's address changes so the cap and the one default hold.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return nil, err
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM customer_addresses WHERE user_id = $1`, userID); err != nil {
			return nil, err
		}
		if n >= MaxCustomerAddresses {
			return Problems{FieldErrorf(EInvalid, "address", "a buyer keeps at most %d addresses", MaxCustomerAddresses)}, nil
		}
		if makeDefault || n == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE customer_addresses SET is_default = false WHERE user_id = $1 AND is_default`, userID); err != nil {
				return nil, err
			}
		}
		var err error
		out, err = getOne[CustomerAddress](ctx, tx, `INSERT INTO customer_addresses
			(user_id, name, line1, line2, city, region, postal_code, country_code, phone, is_default)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+customerAddressColumns,
			"address", userID, a.Name, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.CountryCode, a.Phone, makeDefault || n == 0)
		return nil, err
	})
	if len(p) > 0 || err != nil {
		return nil, p, err
	}
	return out, nil, nil
}

// UpdateCustomerAddress replaces one of the user's addresses; makeDefault
// also makes it the default. Another's or an unknown address is NOT_FOUND.
func (db *DB) UpdateCustomerAddress(ctx context.Context, userID, id int64, a Address, makeDefault bool) (*CustomerAddress, Problems, error) {
	if p := a.Validate("address."); len(p) > 0 {
		return nil, p, nil
	}
	var out *CustomerAddress
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if makeDefault {
			if _, err := tx.ExecContext(ctx, `UPDATE customer_addresses SET is_default = false
				WHERE user_id = $1 AND is_default AND id <> $2 AND EXISTS (SELECT 1 FROM customer_addresses WHERE id = $2 AND user_id = $1)`, userID, id); err != nil {
				return err
			}
		}
		var err error
		out, err = getOne[CustomerAddress](ctx, tx, `UPDATE customer_addresses SET name = $3, line1 = $4, line2 = $5, city = $6,
			region = $7, postal_code = $8, country_code = $9, phone = $10, is_default = is_default OR $11
			WHERE id = $1 AND user_id = $2 RETURNING `+customerAddressColumns,
			"address", id, userID, a.Name, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.CountryCode, a.Phone, makeDefault)
		return err
	})
	return out, nil, err
}

// DeleteCustomerAddress removes one of the user's addresses (NOT_FOUND for
// another's); deleting the default leaves the user without one.
func (db *DB) DeleteCustomerAddress(ctx context.Context, userID, id int64) error {
	res, err := db.ExecContext(ctx, `DELETE FROM customer_addresses WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete address: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENotFound, "address not found")
	}
	return nil
}

// SetDefaultCustomerAddress makes one of the user's addresses the default
// (NOT_FOUND for another's).
func (db *DB) SetDefaultCustomerAddress(ctx context.Context, userID, id int64) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Two statements: the one-default index is checked row by row.
		if _, err := tx.ExecContext(ctx, `UPDATE customer_addresses SET is_default = false
			WHERE user_id = $1 AND is_default AND id <> $2 AND EXISTS (SELECT 1 FROM customer_addresses WHERE id = $2 AND user_id = $1)`, userID, id); err != nil {
			return fmt.Errorf("default address: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE customer_addresses SET is_default = true WHERE id = $2 AND user_id = $1`, userID, id)
		if err != nil {
			return fmt.Errorf("default address: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(ENotFound, "address not found")
		}
		return nil
	})
}
