package store

import (
	"database/sql"
	"encoding/json"

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
	lineQuantities, linePositions, lineRates    []int
	lineUnitPrices, lineCommissions             []int64
	lineSources, lineCreators, lineCampaigns    []sql.NullInt64
	lineSelf                                    []bool
	// Shipping and tax per order, and tax per line (priceCheckout).
	totals, shippingAmounts, taxAmounts []int64
	shippingTitles, taxTitles           []sql.NullString
	taxRates                            []int
	taxesIncluded                       []bool
	lineTaxes                           []int64
	// The discount code applied per order ("" none) and its amount, and
	// each line's share of it.
	discountCodes                  []sql.NullString
	discountAmounts, lineDiscounts []int64
	// lineRequest is each line's index in the request.
	lineRequest []int
}

// planOrders splits a checkout into its shops' orders and attributes each
// line to the content it was bought from (sources, by line index): a line
// bought from someone else's content pays its author the shop's affiliate
// rate on the line's total, rounded down to the minor unit. A line bought
// from the buyer's own content is a self-purchase: it keeps its source but
// earns no commission and does not count toward the content's figures. An
// order's source is its lines' one source (none when they differ), its
// creator their one creator, and its commission their sum.
//
// costs are the shops' shipping and tax (priceCheckout): an order's total is
// its shop's total, and the checkout's total their sum.
func planOrders(req CheckoutRequest, byID map[int64]*lockedVariant, sources map[int]lineSource, costs checkoutCosts) pendingOrders {
	var p pendingOrders
	var shops []int64
	linesByShop := map[int64][]int{}
	for i, l := range req.Lines {
		shopID := byID[l.VariantID].ShopID
		if _, ok := linesByShop[shopID]; !ok {
			shops = append(shops, shopID)
		}
		linesByShop[shopID] = append(linesByShop[shopID], i)
	}
	for _, shopID := range shops {
		var subtotal, commission int64
		units, rate := 0, 0
		var orderSource, orderCreator sql.NullInt64
		mixedSource, mixedCreator := false, false
		for pos, i := range linesByShop[shopID] {
			l := req.Lines[i]
			v := byID[l.VariantID]
			total := v.PriceAmount * int64(l.Quantity)
			discount := costs.lineDiscount[i]
			var source, creator sql.NullInt64
			var lineRate int
			var lineCommission int64
			self := false
			if src, ok := sources[i]; ok {
				source = sql.NullInt64{Int64: src.ContentID, Valid: true}
				self = src.AuthorID == req.BuyerID
				if !self && src.AuthorID != v.ShopOwnerID {
					creator, lineRate = sql.NullInt64{Int64: src.AuthorID, Valid: true}, v.AffiliateRateBps
					lineCommission = (total - discount) * int64(lineRate) / 10_000
				}
			}
			if pos == 0 {
				orderSource = source
			} else if orderSource != source {
				mixedSource = true
			}
			if creator.Valid {
				if orderCreator.Valid && orderCreator != creator {
					mixedCreator = true
				}
				orderCreator, rate = creator, lineRate
			}
			subtotal += total
			commission += lineCommission
			units += l.Quantity
			p.lineShopIDs = append(p.lineShopIDs, shopID)
			p.lineVariantIDs = append(p.lineVariantIDs, v.ID)
			p.lineProductIDs = append(p.lineProductIDs, v.ProductID)
			p.lineTitles = append(p.lineTitles, v.Title)
			p.lineVariantTitles = append(p.lineVariantTitles, v.VariantTitle)
			p.lineSKUs = append(p.lineSKUs, v.SKU)
			p.lineQuantities = append(p.lineQuantities, l.Quantity)
			p.lineUnitPrices = append(p.lineUnitPrices, v.PriceAmount)
			p.linePositions = append(p.linePositions, pos)
			p.lineSources = append(p.lineSources, source)
			p.lineCreators = append(p.lineCreators, creator)
			p.lineRates = append(p.lineRates, lineRate)
			p.lineCommissions = append(p.lineCommissions, lineCommission)
			p.lineSelf = append(p.lineSelf, self)
			p.lineCampaigns = append(p.lineCampaigns, v.CampaignID)
			p.lineRequest = append(p.lineRequest, i)
			p.lineTaxes = append(p.lineTaxes, costs.lineTax[i])
			p.lineDiscounts = append(p.lineDiscounts, discount)
		}
		if mixedSource {
			orderSource = sql.NullInt64{}
		}
		if mixedCreator {
			orderCreator = sql.NullInt64{}
		}
		p.shopIDs = append(p.shopIDs, shopID)
		p.subtotals = append(p.subtotals, subtotal)
		p.units = append(p.units, units)
		p.sources = append(p.sources, orderSource)
		p.creators = append(p.creators, orderCreator)
		p.rates = append(p.rates, rate)
		p.commissions = append(p.commissions, commission)
		c := costs.shops[shopID]
		var shippingTitle, taxTitle sql.NullString
		if c.Selected != nil {
			shippingTitle = sql.NullString{String: c.Selected.Title, Valid: true}
		}
		if c.TaxTitle != "" {
			taxTitle = sql.NullString{String: c.TaxTitle, Valid: true}
		}
		p.totals = append(p.totals, c.Total)
		p.discountAmounts = append(p.discountAmounts, c.Discount)
		p.discountCodes = append(p.discountCodes, sql.NullString{String: c.DiscountCode, Valid: c.DiscountCode != ""})
		p.shippingTitles = append(p.shippingTitles, shippingTitle)
		p.shippingAmounts = append(p.shippingAmounts, c.Shipping)
		p.taxTitles = append(p.taxTitles, taxTitle)
		p.taxRates = append(p.taxRates, c.TaxRateBps)
		p.taxAmounts = append(p.taxAmounts, c.Tax)
		p.taxesIncluded = append(p.taxesIncluded, c.TaxesIncluded)
		p.total += c.Total
	}
	return p
}

// args are the arguments $1 to $28 of a statement around pendingOrdersSQL:
// claim is $2, what its "claim" CTE finds the checkout by besides the buyer
// ($1) and the request's hash ($3); $4 is the total.
func (p pendingOrders) args(req CheckoutRequest, claim any, currency string) []any {
	address, _ := json.Marshal(req.ShippingAddress)
	// $6, the old client-sent campaign tag, is no longer written: lines are
	// credited to campaigns by the server ($41).
	return []any{req.BuyerID, claim, req.hash(), p.total, currency, nil, string(address),
		pq.Array(p.shopIDs), pq.Array(p.subtotals), pq.Array(p.units), pq.Array(p.sources),
		pq.Array(p.creators), pq.Array(p.rates), pq.Array(p.commissions),
		pq.Array(p.lineShopIDs), pq.Array(p.lineVariantIDs), pq.Array(p.lineProductIDs), pq.Array(p.lineTitles),
		pq.Array(p.lineVariantTitles), pq.Array(p.lineSKUs), pq.Array(p.lineQuantities), pq.Array(p.lineUnitPrices),
		pq.Array(p.linePositions), pq.Array(p.lineSources), pq.Array(p.lineCreators), pq.Array(p.lineRates),
		pq.Array(p.lineCommissions), pq.Array(p.lineSelf)}
}

// costArgs are the arguments $33 to $44 of a statement around
// pendingOrdersSQL, after the reservation's ($29 to $32): each order's total,
// shipping and tax, each line's tax, each order's discount code and amount,
// each line's discount, and each line's campaign credit.
func (p pendingOrders) costArgs() []any {
	return []any{pq.Array(p.totals), pq.Array(p.shippingTitles), pq.Array(p.shippingAmounts), pq.Array(p.taxTitles),
		pq.Array(p.taxRates), pq.Array(p.taxAmounts), pq.Array(p.taxesIncluded), pq.Array(p.lineTaxes),
		pq.Array(p.discountCodes), pq.Array(p.discountAmounts), pq.Array(p.lineDiscounts), pq.Array(p.lineCampaigns)}
}

// lines returns the planned lines as OrderLines of the written orders
// (orders by shop id), by order id.
func (p pendingOrders) lines(orders []*Order) map[int64][]*OrderLine {
	byShop := map[int64]*Order{}
	for _, o := range orders {
		byShop[o.ShopID] = o
	}
	out := map[int64][]*OrderLine{}
	for i, shopID := range p.lineShopIDs {
		o := byShop[shopID]
		if o == nil {
			continue
		}
		out[o.ID] = append(out[o.ID], &OrderLine{OrderID: o.ID, VariantID: p.lineVariantIDs[i], ProductID: p.lineProductIDs[i],
			Title: p.lineTitles[i], VariantTitle: p.lineVariantTitles[i], SKU: p.lineSKUs[i], Quantity: p.lineQuantities[i],
			UnitPriceAmount: p.lineUnitPrices[i], TotalAmount: p.lineUnitPrices[i] * int64(p.lineQuantities[i]),
			CurrencyCode: o.CurrencyCode, SourceContentID: nullToPtr(p.lineSources[i]), CreatorID: nullToPtr(p.lineCreators[i]),
			CommissionRateBps: p.lineRates[i], CommissionAmount: p.lineCommissions[i], SelfPurchase: p.lineSelf[i], TaxAmount: p.lineTaxes[i],
			DiscountAmount: p.lineDiscounts[i], DiscountCode: o.DiscountCode,
			CampaignID: nullToPtr(p.lineCampaigns[i])})
	}
	return out
}

// pendingOrdersSQL writes the orders and lines of the checkout named by a
// preceding "claim" CTE, with the arguments pendingOrders.args gives: $1 is
// the buyer, $5 the currency, $6 the legacy campaign tag (always NULL now),
// $7 the shipping address, $33 to $43 the orders' shipping, tax and
// discounts and $44 the lines' campaign credit (pendingOrders.costArgs),
// and $32 the cart lines the checkout claims (paymentAttempt.args), which
// only the statement around it reads (as arrays.cart_line_ids).
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
			$23::int[] AS positions, $24::bigint[] AS line_sources, $25::bigint[] AS line_creators, $26::int[] AS line_rates,
			$27::bigint[] AS line_commissions, $28::bool[] AS line_self,
			$33::bigint[] AS totals, $34::text[] AS shipping_titles, $35::bigint[] AS shipping_amounts, $36::text[] AS tax_titles,
			$37::int[] AS tax_rates, $38::bigint[] AS tax_amounts, $39::bool[] AS taxes_included, $40::bigint[] AS line_taxes,
			$41::text[] AS discount_codes, $42::bigint[] AS discount_amounts, $43::bigint[] AS line_discounts,
			$44::bigint[] AS line_campaigns, $32::bigint[] AS cart_line_ids
	), new_orders AS (
		INSERT INTO orders (checkout_id, buyer_id, shop_id, status, currency_code, subtotal_amount, total_amount, units,
			campaign, source_content_id, creator_id, commission_rate_bps, commission_amount, shipping_address,
			shipping_title, shipping_amount, tax_title, tax_rate_bps, tax_amount, taxes_included, discount_code, discount_amount)
		SELECT claim.id, $1, o.shop_id, 'PENDING', $5, o.subtotal, o.total, o.units, $6, o.source, o.creator, o.rate, o.commission, $7::jsonb,
			o.shipping_title, o.shipping_amount, o.tax_title, o.tax_rate, o.tax_amount, o.taxes_included, o.discount_code, o.discount_amount
		FROM claim, arrays a, unnest(a.shop_ids, a.subtotals, a.units, a.sources, a.creators, a.rates, a.commissions,
				a.totals, a.shipping_titles, a.shipping_amounts, a.tax_titles, a.tax_rates, a.tax_amounts, a.taxes_included,
				a.discount_codes, a.discount_amounts)
			WITH ORDINALITY AS o(shop_id, subtotal, units, source, creator, rate, commission,
				total, shipping_title, shipping_amount, tax_title, tax_rate, tax_amount, taxes_included, discount_code, discount_amount, n)
		ORDER BY o.n
		RETURNING id, shop_id
	), new_lines AS (
		INSERT INTO order_lines (order_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price_amount, total_amount, position,
			source_content_id, creator_id, commission_rate_bps, commission_amount, self_purchase, tax_amount, discount_amount, campaign_id)
		SELECT o.id, l.variant_id, l.product_id, l.title, l.variant_title, l.sku, l.quantity, l.unit_price, l.unit_price * l.quantity, l.position,
			l.source, l.creator, l.rate, l.commission, l.self, l.tax, l.discount, l.campaign
		FROM arrays a, unnest(a.line_shop_ids, a.variant_ids, a.product_ids, a.titles, a.variant_titles, a.skus, a.quantities, a.unit_prices, a.positions,
				a.line_sources, a.line_creators, a.line_rates, a.line_commissions, a.line_self, a.line_taxes, a.line_discounts, a.line_campaigns)
			AS l(shop_id, variant_id, product_id, title, variant_title, sku, quantity, unit_price, position, source, creator, rate, commission, self, tax, discount, campaign)
			JOIN new_orders o ON o.shop_id = l.shop_id
		RETURNING variant_id, quantity, unit_price_amount, campaign_id
	)`

func nullToPtr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}
