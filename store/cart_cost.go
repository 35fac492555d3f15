package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// PricedCart is a cart priced by the rules in cost.go, for the cart's
// destination: the country set on the cart (SetCartDestination), else the
// country of the saved address set on it, else of the buyer's default
// address; none until one of those exists.
type PricedCart struct {
	BuyerID int64
	// CountryCode is the destination ("" when there is none yet).
	CountryCode string
	// AddressID is the saved address the cart ships to, if any.
	AddressID *int64
	// CurrencyCode is the one currency of the cart's lines; "" when the cart
	// is empty or mixes currencies (Mixed), which one checkout cannot pay.
	CurrencyCode string
	Mixed        bool
	// Shops are the cart's shops, in the order they first appear in it.
	Shops []*PricedCartShop
	// Lines are the lines' costs by cart line id; lines whose product is not
	// on sale are left out (checkout refuses them).
	Lines map[int64]*PricedCartLine
	// Subtotal, Discount, Shipping, Tax and Total add up the shops (when not
	// Mixed). Shipping and Tax mean nothing without a destination
	// (CountryCode "").
	Subtotal, Discount, Shipping, Tax, Total int64
	// DiscountCodes are the codes entered on the cart, in order, each with
	// whether it applies to the cart now (see discounts.go).
	DiscountCodes []*CartDiscountCode
	// refused says, per entered code (lowercase), why it applies nowhere.
	refused map[string]*Error
}

// CartDiscountCode is a code entered on a cart: Applicable when it takes
// something off the cart now; otherwise Reason (a Reason… constant) and
// Message say why not, and checkout refuses the cart until it is removed.
type CartDiscountCode struct {
	Code       string
	Applicable bool
	Reason     string
	Message    string
}

// CartDiscountAllocation is what one code takes off a cart or a line, in
// minor units of CurrencyCode.
type CartDiscountAllocation struct {
	Code         string
	Amount       int64
	CurrencyCode string
}

// PricedCartShop is one shop's part of a cart: its delivery group.
type PricedCartShop struct {
	ShopCost
	CurrencyCode string
	// LineIDs are the shop's cart lines, oldest first.
	LineIDs []int64
}

// PricedCartLine is one cart line priced: the current unit price (the
// campaign price while a campaign the variant is enrolled in runs), the line's
// subtotal, its discount (and the code it comes from, "" for none) and its
// tax (zero without a destination).
type PricedCartLine struct {
	CurrencyCode string
	UnitPrice    int64
	Subtotal     int64
	Discount     int64
	DiscountCode string
	Tax          int64
}

// cartCostRow is one cart line with its shop's terms for the cart's
// destination, or a buyer's destination alone when the cart is empty.
type cartCostRow struct {
	BuyerID       int64          `db:"buyer_id"`
	Codes         pq.StringArray `db:"codes"`
	DiscountsJSON []byte         `db:"discounts_json"`
	ProductID     sql.NullInt64  `db:"product_id"`
	Country       sql.NullString `db:"country"`
	AddressID     sql.NullInt64  `db:"address_id"`
	LineID        sql.NullInt64  `db:"line_id"`
	Quantity      sql.NullInt64  `db:"quantity"`
	Price         sql.NullInt64  `db:"price_amount"`
	Currency      sql.NullString `db:"currency_code"`
	Choice        sql.NullInt64  `db:"choice"`
	ShopID        sql.NullInt64  `db:"shop_id"`
	ShopName      sql.NullString `db:"shop_name"`
	TaxesIncluded sql.NullBool   `db:"taxes_included"`
	ShipsLimited  sql.NullBool   `db:"ships_limited"`
	TaxJSON       []byte         `db:"tax_json"`
	ShippingJSON  []byte         `db:"shipping_json"`
}

// CartCostsByBuyerIDs prices the carts of several buyers in one statement,
// with the discount codes entered on them.
func (db *DB) CartCostsByBuyerIDs(ctx context.Context, buyerIDs []int64) (map[int64]*PricedCart, error) {
	return cartCosts(ctx, db, buyerIDs, nil)
}

// cartCosts prices the buyers' carts; codes, when not nil, are the discount
// codes to price them with instead of those entered on the carts.
func cartCosts(ctx context.Context, q sqlx.QueryerContext, buyerIDs []int64, codes []string) (map[int64]*PricedCart, error) {
	var rows []cartCostRow
	var override any
	if codes != nil {
		override = pq.Array(codes)
	}
	err := sqlx.SelectContext(ctx, q, &rows, `WITH dest0 AS (
			SELECT b.id AS buyer_id, coalesce(a.country_code, d.country_code, da.country_code) AS country,
				CASE WHEN d.address_id IS NOT NULL THEN d.address_id WHEN d.country_code IS NULL THEN da.id END AS address_id,
				coalesce($2::text[], (SELECT array_agg(cd.code ORDER BY cd.position) FROM cart_discount_codes cd WHERE cd.buyer_id = b.id), '{}') AS codes
			FROM unnest($1::bigint[]) AS b(id)
			LEFT JOIN cart_destinations d ON d.buyer_id = b.id
			LEFT JOIN customer_addresses a ON a.id = d.address_id
			LEFT JOIN customer_addresses da ON da.user_id = b.id AND da.is_default
		), dest AS (
			SELECT dest0.*, CASE WHEN cardinality(dest0.codes) > 0 THEN (SELECT json_agg(t) FROM (
				SELECT `+discountTermsColumns(personBuyerKeysSQL(`dest0.buyer_id`))+` FROM discount_codes dc
				WHERE dc.active AND lower(dc.code) IN (SELECT lower(c) FROM unnest(dest0.codes) c)
				  AND dc.shop_id IN (SELECT p.shop_id FROM cart_lines l JOIN product_variants v ON v.id = l.variant_id
					JOIN products p ON p.id = v.product_id WHERE l.buyer_id = dest0.buyer_id)) t) END AS discounts_json
			FROM dest0
		)
		SELECT dest.buyer_id, dest.country, dest.address_id, dest.codes, dest.discounts_json, x.*
		FROM dest LEFT JOIN LATERAL (
			SELECT l.id AS line_id, p.id AS product_id, l.quantity, coalesce(o.price_amount, v.price_amount) AS price_amount, v.currency_code, sel.shipping_rate_id AS choice,
				`+shopTermsColumns(`dest.country`)+`
			FROM cart_lines l JOIN product_variants v ON v.id = l.variant_id JOIN products p ON p.id = v.product_id
				JOIN shops s ON s.id = p.shop_id
				LEFT JOIN cart_delivery_options sel ON sel.buyer_id = l.buyer_id AND sel.shop_id = s.id
				CROSS JOIN LATERAL campaign_offer(v.id, v.price_amount, now()) o
			WHERE l.buyer_id = dest.buyer_id AND p.status = 'ACTIVE'
		) x ON true
		ORDER BY dest.buyer_id, x.line_id`, pq.Array(buyerIDs), override)
	if err != nil {
		return nil, fmt.Errorf("cart costs: %w", err)
	}
	type shopLines struct {
		terms     shopTerms
		choice    int64
		currency  string
		lineIDs   []int64
		subtotals []int64
		dlines    []discountLine
	}
	out := make(map[int64]*PricedCart, len(buyerIDs))
	byBuyer := map[int64][]*shopLines{}
	entered := map[int64][]string{}
	terms := map[int64][]*discountTerms{}
	for _, r := range rows {
		c := out[r.BuyerID]
		if c == nil {
			c = &PricedCart{BuyerID: r.BuyerID, CountryCode: r.Country.String, Lines: map[int64]*PricedCartLine{}}
			entered[r.BuyerID] = normalizeCodes(r.Codes)
			if len(r.DiscountsJSON) > 0 {
				var t []*discountTerms
				if err := json.Unmarshal(r.DiscountsJSON, &t); err != nil {
					return nil, fmt.Errorf("discount codes of cart %d: %w", r.BuyerID, err)
				}
				terms[r.BuyerID] = t
			}
			if r.AddressID.Valid {
				id := r.AddressID.Int64
				c.AddressID = &id
			}
			out[r.BuyerID] = c
		}
		if !r.LineID.Valid {
			continue
		}
		var s *shopLines
		for _, x := range byBuyer[r.BuyerID] {
			if x.terms.ShopID == r.ShopID.Int64 {
				s = x
			}
		}
		if s == nil {
			s = &shopLines{terms: shopTerms{ShopID: r.ShopID.Int64, ShopName: r.ShopName.String, TaxesIncluded: r.TaxesIncluded.Bool,
				ShipsLimited: r.ShipsLimited.Bool, TaxJSON: r.TaxJSON, ShippingJSON: r.ShippingJSON}, choice: r.Choice.Int64, currency: r.Currency.String}
			byBuyer[r.BuyerID] = append(byBuyer[r.BuyerID], s)
		}
		subtotal := r.Price.Int64 * r.Quantity.Int64
		s.lineIDs, s.subtotals = append(s.lineIDs, r.LineID.Int64), append(s.subtotals, subtotal)
		s.dlines = append(s.dlines, discountLine{ProductID: r.ProductID.Int64, Subtotal: subtotal})
		c.Lines[r.LineID.Int64] = &PricedCartLine{CurrencyCode: r.Currency.String, UnitPrice: r.Price.Int64, Subtotal: subtotal}
	}
	for buyer, c := range out {
		shops := byBuyer[buyer]
		shopIDs, lines, currency := make([]int64, len(shops)), map[int64][]discountLine{}, map[int64]string{}
		for i, s := range shops {
			shopIDs[i], lines[s.terms.ShopID], currency[s.terms.ShopID] = s.terms.ShopID, s.dlines, s.currency
		}
		disc := evaluateDiscounts(entered[buyer], terms[buyer], shopIDs, lines, currency)
		c.refused = disc.refused
		for _, code := range entered[buyer] {
			dc := &CartDiscountCode{Code: code, Applicable: true}
			if e := disc.refused[strings.ToLower(code)]; e != nil {
				dc.Applicable, dc.Reason, dc.Message = false, e.Reason, e.Message
			}
			c.DiscountCodes = append(c.DiscountCodes, dc)
		}
		for i, s := range shops {
			sc, _, _, err := priceShop(s.terms, s.subtotals, disc.byShop[s.terms.ShopID], s.choice, c.CountryCode != "")
			if err != nil {
				return nil, err
			}
			for k, id := range s.lineIDs {
				c.Lines[id].Tax = sc.LineTaxes[k]
				c.Lines[id].Discount = sc.LineDiscounts[k]
				if sc.LineDiscounts[k] > 0 {
					c.Lines[id].DiscountCode = sc.DiscountCode
				}
			}
			c.Shops = append(c.Shops, &PricedCartShop{ShopCost: sc, CurrencyCode: s.currency, LineIDs: s.lineIDs})
			if i == 0 {
				c.CurrencyCode = s.currency
			} else if s.currency != c.CurrencyCode {
				c.Mixed = true
			}
			c.Subtotal += sc.Subtotal
			c.Discount += sc.Discount
			c.Shipping += sc.Shipping
			c.Tax += sc.Tax
			c.Total += sc.Total
		}
		if c.Mixed {
			c.CurrencyCode = ""
		}
	}
	for _, id := range buyerIDs {
		if out[id] == nil {
			out[id] = &PricedCart{BuyerID: id, Lines: map[int64]*PricedCartLine{}}
		}
	}
	return out, nil
}

// CartDeliveryChoices returns the delivery option (shipping rate) the buyer
// chose per shop for their cart, by shop id.
func (db *DB) CartDeliveryChoices(ctx context.Context, buyerID int64) (map[int64]int64, error) {
	var rows []struct {
		ShopID int64 `db:"shop_id"`
		RateID int64 `db:"shipping_rate_id"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT shop_id, shipping_rate_id FROM cart_delivery_options WHERE buyer_id = $1`, buyerID); err != nil {
		return nil, fmt.Errorf("cart delivery choices: %w", err)
	}
	out := map[int64]int64{}
	for _, r := range rows {
		out[r.ShopID] = r.RateID
	}
	return out, nil
}

// SetCartDestination sets where the buyer's cart ships to: a country
// (ISO 3166-1 alpha-2) or one of the buyer's saved addresses (addressID).
// Problems: neither or both given, a malformed country, an address that is
// not the buyer's (NOT_FOUND, as if it did not exist).
func (db *DB) SetCartDestination(ctx context.Context, buyerID int64, country string, addressID *int64) (Problems, error) {
	switch {
	case (country == "") == (addressID == nil):
		return Problems{FieldErrorf(EInvalid, "countryCode", "give a countryCode or a deliveryAddressId")}, nil
	case country != "" && !countryPattern.MatchString(country):
		return Problems{FieldErrorf(EInvalid, "countryCode", "countryCode must be two capital letters, e.g. US")}, nil
	}
	var c *string
	if country != "" {
		c = &country
	}
	res, err := db.ExecContext(ctx, `INSERT INTO cart_destinations (buyer_id, country_code, address_id)
		SELECT $1, $2, $3::bigint WHERE $3::bigint IS NULL OR EXISTS (SELECT 1 FROM customer_addresses WHERE id = $3 AND user_id = $1)
		ON CONFLICT (buyer_id) DO UPDATE SET country_code = EXCLUDED.country_code, address_id = EXCLUDED.address_id, updated_at = now()`,
		buyerID, c, addressID)
	if err != nil {
		return nil, fmt.Errorf("set cart destination: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Problems{FieldErrorf(ENotFound, "deliveryAddressId", "address not found")}, nil
	}
	return nil, nil
}

// DeliveryChoice picks a shop's delivery option for a cart: RateID 0 is the
// implicit free option of a shop without rates (it clears the choice).
type DeliveryChoice struct {
	ShopID int64
	RateID int64
}

// SelectCartDeliveryOptions records the buyer's delivery option per shop.
// A rate must be one of the shop's (NOT_FOUND otherwise); a rate that does
// not serve the cart's destination is not applied: the cart shows, and its
// checkout charges, the shop's cheapest option there instead.
func (db *DB) SelectCartDeliveryOptions(ctx context.Context, buyerID int64, in []DeliveryChoice) (Problems, error) {
	shops, rates := make([]int64, len(in)), make([]int64, len(in))
	for i, c := range in {
		shops[i], rates[i] = c.ShopID, c.RateID
	}
	return db.inTxUnlessProblems(ctx, func(tx *sqlx.Tx) (Problems, error) {
		var bad []int
		if err := tx.SelectContext(ctx, &bad, `SELECT x.n - 1 FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS x(shop_id, rate_id, n)
			WHERE x.rate_id <> 0 AND NOT EXISTS (SELECT 1 FROM shipping_rates r WHERE r.id = x.rate_id AND r.shop_id = x.shop_id)
			ORDER BY x.n`, pq.Array(shops), pq.Array(rates)); err != nil {
			return nil, fmt.Errorf("check delivery options: %w", err)
		}
		var p Problems
		for _, i := range bad {
			p = append(p, FieldErrorf(ENotFound, fmt.Sprintf("selectedDeliveryOptions.%d.deliveryOptionHandle", i), "delivery option not found"))
		}
		if len(p) > 0 {
			return p, nil
		}
		_, err := tx.ExecContext(ctx, `WITH x AS (SELECT * FROM unnest($2::bigint[], $3::bigint[]) AS x(shop_id, rate_id)),
			gone AS (DELETE FROM cart_delivery_options d USING x WHERE d.buyer_id = $1 AND d.shop_id = x.shop_id AND x.rate_id = 0)
			INSERT INTO cart_delivery_options (buyer_id, shop_id, shipping_rate_id) SELECT $1, shop_id, rate_id FROM x WHERE rate_id <> 0
			ON CONFLICT (buyer_id, shop_id) DO UPDATE SET shipping_rate_id = EXCLUDED.shipping_rate_id`, buyerID, pq.Array(shops), pq.Array(rates))
		if err != nil {
			return nil, fmt.Errorf("select delivery options: %w", err)
		}
		return nil, nil
	})
}
