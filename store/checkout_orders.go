package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// pendingOrders are a checkout's orders (one per shop, in the order shops
// first appear in the request) and their lines, column by column, so that
// one statement writes them all.
type pendingOrders struct {
	total                                       int64
	shopIDs, subtotals, commissions             []int64
	units, rates                                []int
	sources, creators                           []sql.NullInt64
	lineShopIDs, lineVariantIDs, lineProductIDs []int64
	lineTitles, lineVariantTitles, lineSKUs     []string
	lineQuantities, linePositions               []int
	lineUnitPrices                              []int64
}

// planOrders splits a checkout into its shops' orders. authors maps the
// contents the lines were bought from to who made them: an order sourced
// from someone else's content pays them the shop's affiliate commission.
func planOrders(req CheckoutRequest, byID map[int64]*lockedVariant, authors map[int64]int64) pendingOrders {
	var p pendingOrders
	var shops []int64
	linesByShop := map[int64][]CheckoutLine{}
	for _, l := range req.Lines {
		shopID := byID[l.VariantID].ShopID
		if _, ok := linesByShop[shopID]; !ok {
			shops = append(shops, shopID)
		}
		linesByShop[shopID] = append(linesByShop[shopID], l)
	}
	for _, shopID := range shops {
		lines := linesByShop[shopID]
		var subtotal int64
		units := 0
		for i, l := range lines {
			v := byID[l.VariantID]
			subtotal += v.PriceAmount * int64(l.Quantity)
			units += l.Quantity
			p.lineShopIDs = append(p.lineShopIDs, shopID)
			p.lineVariantIDs = append(p.lineVariantIDs, v.ID)
			p.lineProductIDs = append(p.lineProductIDs, v.ProductID)
			p.lineTitles = append(p.lineTitles, v.Title)
			p.lineVariantTitles = append(p.lineVariantTitles, v.VariantTitle)
			p.lineSKUs = append(p.lineSKUs, v.SKU)
			p.lineQuantities = append(p.lineQuantities, l.Quantity)
			p.lineUnitPrices = append(p.lineUnitPrices, v.PriceAmount)
			p.linePositions = append(p.linePositions, i)
		}
		source := req.SourceContentID
		if source == nil {
			source = lines[0].SourceContentID
		}
		first := byID[lines[0].VariantID]
		var creator sql.NullInt64
		var rate int
		var commission int64
		if source != nil {
			if author, ok := authors[*source]; ok && author != first.ShopOwnerID {
				creator, rate = sql.NullInt64{Int64: author, Valid: true}, first.AffiliateRateBps
				commission = subtotal * int64(rate) / 10_000
			}
		}
		p.shopIDs = append(p.shopIDs, shopID)
		p.subtotals = append(p.subtotals, subtotal)
		p.units = append(p.units, units)
		p.sources = append(p.sources, nullableID(source))
		p.creators = append(p.creators, creator)
		p.rates = append(p.rates, rate)
		p.commissions = append(p.commissions, commission)
		p.total += subtotal
	}
	return p
}

// args are the arguments $1 to $23 of a statement around pendingOrdersSQL:
// claim is $2, what its "claim" CTE finds the checkout by besides the buyer
// ($1) and the request's hash ($3); $4 is the total.
func (p pendingOrders) args(req CheckoutRequest, claim any, currency string) []any {
	address, _ := json.Marshal(req.ShippingAddress)
	return []any{req.BuyerID, claim, req.hash(), p.total, currency, nullIfEmpty(req.Campaign), string(address),
		pq.Array(p.shopIDs), pq.Array(p.subtotals), pq.Array(p.units), pq.Array(p.sources),
		pq.Array(p.creators), pq.Array(p.rates), pq.Array(p.commissions),
		pq.Array(p.lineShopIDs), pq.Array(p.lineVariantIDs), pq.Array(p.lineProductIDs), pq.Array(p.lineTitles),
		pq.Array(p.lineVariantTitles), pq.Array(p.lineSKUs), pq.Array(p.lineQuantities), pq.Array(p.lineUnitPrices),
		pq.Array(p.linePositions)}
}

// pendingOrdersSQL writes the orders and lines of the checkout named by a
// preceding "claim" CTE, with the arguments pendingOrders.args gives: $1 is
// the buyer, $5 the currency, $6 the campaign, $7 the shipping address.
//
// The arrays are read through a materialized CTE, so that the planner
// cannot see how long they are: its estimates are then the same with and
// without the values, and PostgreSQL keeps reusing the statement's generic
// plan (planning it afresh took longer than running it).
const pendingOrdersSQL = `arrays AS MATERIALIZED (
		SELECT $8::bigint[] AS shop_ids, $9::bigint[] AS subtotals, $10::int[] AS units, $11::bigint[] AS sources,
			$12::bigint[] AS creators, $13::int[] AS rates, $14::bigint[] AS commissions,
			$15::bigint[] AS line_shop_ids, $16::bigint[] AS variant_ids, $17::bigint[] AS product_ids, $18::text[] AS titles,
			$19::text[] AS variant_titles, $20::text[] AS skus, $21::int[] AS quantities, $22::bigint[] AS unit_prices,
			$23::int[] AS positions
	), new_orders AS (
		INSERT INTO orders (checkout_id, buyer_id, shop_id, status, currency_code, subtotal_amount, total_amount, units,
			campaign, source_content_id, creator_id, commission_rate_bps, commission_amount, shipping_address)
		SELECT claim.id, $1, o.shop_id, 'PENDING', $5, o.subtotal, o.subtotal, o.units, $6, o.source, o.creator, o.rate, o.commission, $7::jsonb
		FROM claim, arrays a, unnest(a.shop_ids, a.subtotals, a.units, a.sources, a.creators, a.rates, a.commissions)
			WITH ORDINALITY AS o(shop_id, subtotal, units, source, creator, rate, commission, n)
		ORDER BY o.n
		RETURNING id, shop_id
	), new_lines AS (
		INSERT INTO order_lines (order_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price_amount, total_amount, position)
		SELECT o.id, l.variant_id, l.product_id, l.title, l.variant_title, l.sku, l.quantity, l.unit_price, l.unit_price * l.quantity, l.position
		FROM arrays a, unnest(a.line_shop_ids, a.variant_ids, a.product_ids, a.titles, a.variant_titles, a.skus, a.quantities, a.unit_prices, a.positions)
			AS l(shop_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price, position)
			JOIN new_orders o ON o.shop_id = l.shop_id
		RETURNING variant_id, quantity, unit_price_amount
	)`

// writePendingOrders writes a claimed checkout's orders and lines, and its
// amount, in one statement.
func writePendingOrders(ctx context.Context, tx *sqlx.Tx, checkoutID int64, req CheckoutRequest, currency string, p pendingOrders) error {
	var written int
	if err := tx.GetContext(ctx, &written, `WITH claim AS (
			UPDATE checkouts SET amount = $4, currency_code = $5, updated_at = now()
			WHERE id = $2::bigint AND buyer_id = $1 AND request_hash = $3 RETURNING id
		), `+pendingOrdersSQL+` SELECT count(*) FROM new_orders`, p.args(req, checkoutID, currency)...); err != nil {
		return fmt.Errorf("insert orders: %w", err)
	}
	if written != len(p.shopIDs) {
		return fmt.Errorf("insert orders: wrote %d of %d", written, len(p.shopIDs))
	}
	return nil
}

// contentAuthors finds who made each content the lines were bought from,
// besides the request's source whose author is already known.
func contentAuthors(ctx context.Context, q sqlx.QueryerContext, req CheckoutRequest, sourceAuthor *int64) (map[int64]int64, error) {
	authors := map[int64]int64{}
	if req.SourceContentID != nil && sourceAuthor != nil {
		authors[*req.SourceContentID] = *sourceAuthor
	}
	var unknown []int64
	for _, l := range req.Lines {
		if l.SourceContentID != nil && req.SourceContentID == nil {
			if _, ok := authors[*l.SourceContentID]; !ok {
				unknown = append(unknown, *l.SourceContentID)
			}
		}
	}
	if len(unknown) == 0 {
		return authors, nil
	}
	var rows []struct {
		ID     int64 `db:"id"`
		Author int64 `db:"author_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, author_id FROM contents WHERE id = ANY($1)`, pq.Array(unknown)); err != nil {
		return nil, fmt.Errorf("content authors: %w", err)
	}
	for _, r := range rows {
		authors[r.ID] = r.Author
	}
	return authors, nil
}

func nullableID(id *int64) sql.NullInt64 {
	if id == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *id, Valid: true}
}
