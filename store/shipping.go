package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
)

// ShippingRate is how a shop ships to a destination country: a flat price,
// free from a merchandise subtotal on when FreeOverAmount is set. A nil
// CountryCode is the rest of the world: it serves every country the shop has
// no rate of its own for. A shop with no rates at all ships everywhere, free.
type ShippingRate struct {
	ID          int64   `db:"id"`
	ShopID      int64   `db:"shop_id"`
	CountryCode *string `db:"country_code"`
	Name        string  `db:"name"`
	// PriceAmount and FreeOverAmount are minor units of the shop's currency.
	PriceAmount    int64     `db:"price_amount"`
	FreeOverAmount *int64    `db:"free_over_amount"`
	CreatedAt      time.Time `db:"created_at"`
}

// TaxRate is a shop's tax rate for a destination country, in basis points
// (2000 = 20%); a nil CountryCode is the rest of the world.
type TaxRate struct {
	ID          int64     `db:"id"`
	ShopID      int64     `db:"shop_id"`
	CountryCode *string   `db:"country_code"`
	Title       string    `db:"title"`
	RateBps     int       `db:"rate_bps"`
	CreatedAt   time.Time `db:"created_at"`
}

// MaxShippingRates and MaxTaxRates bound what one shop keeps.
const (
	MaxShippingRates = 100
	MaxTaxRates      = 250
)

// ShippingRateFields are a shipping rate's settings, as created or replaced.
type ShippingRateFields struct {
	// CountryCode is ISO 3166-1 alpha-2; "" is the rest of the world.
	CountryCode    string
	Name           string
	PriceAmount    int64
	FreeOverAmount *int64
}

// Validate checks the fields' shape.
func (f ShippingRateFields) Validate() Problems {
	var p Problems
	if f.CountryCode != "" && !countryPattern.MatchString(f.CountryCode) {
		p.add("countryCode", "", "countryCode must be two capital letters, e.g. US, or null for the rest of the world")
	}
	p.text("name", f.Name, true, 100)
	if f.PriceAmount < 0 {
		p.add("price", "", "price must not be negative")
	}
	if f.FreeOverAmount != nil && *f.FreeOverAmount < 0 {
		p.add("freeOver", "", "freeOver must not be negative")
	}
	return p
}

func nullCountry(c string) *string {
	if c == "" {
		return nil
	}
	return &c
}

const shippingRateColumns = `id, shop_id, country_code, name, price_amount, free_over_amount, created_at`

// ShippingRatesByShopIDs loads several shops' shipping rates (by country,
// the rest of the world last, then by price) in one statement.
func (db *DB) ShippingRatesByShopIDs(ctx context.Context, ids []int64) (map[int64][]*ShippingRate, error) {
	var rows []*ShippingRate
	if err := db.SelectContext(ctx, &rows, `SELECT `+shippingRateColumns+` FROM shipping_rates WHERE shop_id = ANY($1)
		ORDER BY shop_id, country_code NULLS LAST, price_amount, id`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("shipping rates: %w", err)
	}
	return groupByKey(ids, rows, func(r *ShippingRate) int64 { return r.ShopID }), nil
}

// ShippingRateByID loads one shipping rate (NOT_FOUND when unknown).
func (db *DB) ShippingRateByID(ctx context.Context, id int64) (*ShippingRate, error) {
	return getOne[ShippingRate](ctx, db.DB, `SELECT `+shippingRateColumns+` FROM shipping_rates WHERE id = $1`, "shipping rate", id)
}

// CreateShippingRate adds a rate to a shop. Problems: the fields' shape, a
// name the shop already uses for that country (TAKEN), too many rates.
func (db *DB) CreateShippingRate(ctx context.Context, shopID int64, f ShippingRateFields) (*ShippingRate, Problems, error) {
	if p := f.Validate(); len(p) > 0 {
		return nil, p, nil
	}
	var r ShippingRate
	err := db.GetContext(ctx, &r, `INSERT INTO shipping_rates (shop_id, country_code, name, price_amount, free_over_amount)
		SELECT $1, $2, $3, $4, $5 WHERE (SELECT count(*) FROM shipping_rates WHERE shop_id = $1) < $6
		RETURNING `+shippingRateColumns, shopID, nullCountry(f.CountryCode), strings.TrimSpace(f.Name), f.PriceAmount, f.FreeOverAmount, MaxShippingRates)
	return rateResult(&r, err, "shipping rate", MaxShippingRates)
}

// UpdateShippingRate replaces a rate's fields.
func (db *DB) UpdateShippingRate(ctx context.Context, id int64, f ShippingRateFields) (*ShippingRate, Problems, error) {
	if p := f.Validate(); len(p) > 0 {
		return nil, p, nil
	}
	var r ShippingRate
	err := db.GetContext(ctx, &r, `UPDATE shipping_rates SET country_code = $2, name = $3, price_amount = $4, free_over_amount = $5
		WHERE id = $1 RETURNING `+shippingRateColumns, id, nullCountry(f.CountryCode), strings.TrimSpace(f.Name), f.PriceAmount, f.FreeOverAmount)
	if isNoRows(err) {
		return nil, nil, Errorf(ENotFound, "shipping rate not found")
	}
	return rateResult(&r, err, "shipping rate", MaxShippingRates)
}

// DeleteShippingRate removes a rate; carts that chose it fall back to the
// shop's cheapest option.
func (db *DB) DeleteShippingRate(ctx context.Context, id int64) error {
	_, err := db.ExecContext(ctx, `DELETE FROM shipping_rates WHERE id = $1`, id)
	return err
}

// rateResult turns a rate write's error into problems: no row is the limit
// reached, a unique violation a name or country already used.
func rateResult[T any](r *T, err error, what string, limit int) (*T, Problems, error) {
	var pqErr *pq.Error
	switch {
	case err == nil:
		return r, nil, nil
	case errors.As(err, &pqErr) && pqErr.Code == "23505":
		field := "name"
		if what == "tax rate" {
			field = "countryCode"
		}
		return nil, Problems{FieldErrorf(EConflict, field, "the shop already has a %s by this name for this country", what).Because(ReasonTaken)}, nil
	case isNoRows(err):
		return nil, Problems{FieldErrorf(EInvalid, "", "a shop has at most %d %ss", limit, what)}, nil
	}
	return nil, nil, fmt.Errorf("write %s: %w", what, err)
}

const taxRateColumns = `id, shop_id, country_code, title, rate_bps, created_at`

// TaxRatesByShopIDs loads several shops' tax rates (by country, the rest of
// the world last) in one statement.
func (db *DB) TaxRatesByShopIDs(ctx context.Context, ids []int64) (map[int64][]*TaxRate, error) {
	var rows []*TaxRate
	if err := db.SelectContext(ctx, &rows, `SELECT `+taxRateColumns+` FROM tax_rates WHERE shop_id = ANY($1)
		ORDER BY shop_id, country_code NULLS LAST, id`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("tax rates: %w", err)
	}
	return groupByKey(ids, rows, func(r *TaxRate) int64 { return r.ShopID }), nil
}

// TaxRateByID loads one tax rate (NOT_FOUND when unknown).
func (db *DB) TaxRateByID(ctx context.Context, id int64) (*TaxRate, error) {
	return getOne[TaxRate](ctx, db.DB, `SELECT `+taxRateColumns+` FROM tax_rates WHERE id = $1`, "tax rate", id)
}

// SetTaxRate sets a shop's tax rate for a country ("" for the rest of the
// world), replacing the one it had there. Title defaults to "Tax".
func (db *DB) SetTaxRate(ctx context.Context, shopID int64, country, title string, rateBps int) (*TaxRate, Problems, error) {
	var p Problems
	if country != "" && !countryPattern.MatchString(country) {
		p.add("countryCode", "", "countryCode must be two capital letters, e.g. DE, or null for the rest of the world")
	}
	if strings.TrimSpace(title) == "" {
		title = "Tax"
	}
	p.text("title", title, false, 60)
	if rateBps < 0 || rateBps > 10_000 {
		p.add("rateBps", "", "rateBps must be 0 to 10000 (basis points: 2000 is 20%%)")
	}
	if len(p) > 0 {
		return nil, p, nil
	}
	var r TaxRate
	err := db.GetContext(ctx, &r, `INSERT INTO tax_rates (shop_id, country_code, title, rate_bps)
		SELECT $1, $2, $3, $4 WHERE (SELECT count(*) FROM tax_rates WHERE shop_id = $1) < $5
		   OR EXISTS (SELECT 1 FROM tax_rates WHERE shop_id = $1 AND country_code IS NOT DISTINCT FROM $2::char(2))
		ON CONFLICT (shop_id, coalesce(country_code, '*')) DO UPDATE SET title = EXCLUDED.title, rate_bps = EXCLUDED.rate_bps
		RETURNING `+taxRateColumns, shopID, nullCountry(country), strings.TrimSpace(title), rateBps, MaxTaxRates)
	return rateResult(&r, err, "tax rate", MaxTaxRates)
}

// DeleteTaxRate removes a tax rate: its country then takes the rest-of-world
// rate, or no tax.
func (db *DB) DeleteTaxRate(ctx context.Context, id int64) error {
	_, err := db.ExecContext(ctx, `DELETE FROM tax_rates WHERE id = $1`, id)
	return err
}

// SetShopTaxesIncluded sets whether the shop's prices include tax.
func (db *DB) SetShopTaxesIncluded(ctx context.Context, shopID int64, included bool) (*Shop, error) {
	defer db.profiles.forget('s', shopID)
	return getOne[Shop](ctx, db.DB, `UPDATE shops SET taxes_included = $2 WHERE id = $1 RETURNING `+shopColumns, "shop", shopID, included)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
