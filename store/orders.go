package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Order statuses. PENDING orders hold reserved stock while a payment runs and
// are never shown.
const (
	OrderPending   = "PENDING"
	OrderPaid      = "PAID"
	OrderFulfilled = "FULFILLED"
	OrderDelivered = "DELIVERED"
	OrderCancelled = "CANCELLED"
	OrderRefunded  = "REFUNDED"
)

// Address is where an order ships.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode"`
	// CountryCode is ISO 3166-1 alpha-2.
	CountryCode string `json:"countryCode"`
	Phone       string `json:"phone,omitempty"`
}

// Order is one shop's part of a checkout.
type Order struct {
	ID                int64           `db:"id"`
	Number            int64           `db:"number"`
	CheckoutID        int64           `db:"checkout_id"`
	BuyerID           int64           `db:"buyer_id"`
	ShopID            int64           `db:"shop_id"`
	Status            string          `db:"status"`
	CurrencyCode      string          `db:"currency_code"`
	SubtotalAmount    int64           `db:"subtotal_amount"`
	TotalAmount       int64           `db:"total_amount"`
	Units             int             `db:"units"`
	Campaign          *string         `db:"campaign"`
	SourceContentID   *int64          `db:"source_content_id"`
	CreatorID         *int64          `db:"creator_id"`
	CommissionRateBps int             `db:"commission_rate_bps"`
	CommissionAmount  int64           `db:"commission_amount"`
	ShippingJSON      json.RawMessage `db:"shipping_address"`
	Carrier           *string         `db:"carrier"`
	TrackingNumber    *string         `db:"tracking_number"`
	CreatedAt         time.Time       `db:"created_at"`
	PaidAt            *time.Time      `db:"paid_at"`
	FulfilledAt       *time.Time      `db:"fulfilled_at"`
	DeliveredAt       *time.Time      `db:"delivered_at"`
	CancelledAt       *time.Time      `db:"cancelled_at"`
	// Shipping and tax as charged (see cost.go): TotalAmount is
	// SubtotalAmount + ShippingAmount + TaxAmount (TaxAmount only when
	// TaxesIncluded is false).
	ShippingTitle  *string `db:"shipping_title"`
	ShippingAmount int64   `db:"shipping_amount"`
	TaxTitle       *string `db:"tax_title"`
	TaxRateBps     int     `db:"tax_rate_bps"`
	TaxAmount      int64   `db:"tax_amount"`
	TaxesIncluded  bool    `db:"taxes_included"`
	// DiscountCode is the code applied to the order (nil: none), and
	// DiscountAmount what it took off: the sum of its lines' DiscountAmount.
	// TotalAmount is then SubtotalAmount - DiscountAmount + ShippingAmount
	// (+ TaxAmount when not included).
	DiscountCode   *string `db:"discount_code"`
	DiscountAmount int64   `db:"discount_amount"`
}

func (*Order) isNode() {}

// Subtotal is the sum of the order's lines.
func (o *Order) Subtotal() Money { return Money{Minor: o.SubtotalAmount, CurrencyCode: o.CurrencyCode} }

// Total is what the buyer paid for this order.
func (o *Order) Total() Money { return Money{Minor: o.TotalAmount, CurrencyCode: o.CurrencyCode} }

// Commission is what the affiliate creator earns on the order.
func (o *Order) Commission() Money {
	return Money{Minor: o.CommissionAmount, CurrencyCode: o.CurrencyCode}
}

// ShippingAddress decodes the stored address.
func (o *Order) ShippingAddress() *Address {
	var a Address
	if err := json.Unmarshal(o.ShippingJSON, &a); err != nil {
		return nil
	}
	return &a
}

// OrderLine is one purchased variant, with the title and price it had then.
type OrderLine struct {
	ID              int64  `db:"id"`
	OrderID         int64  `db:"order_id"`
	VariantID       int64  `db:"variant_id"`
	ProductID       int64  `db:"product_id"`
	Title           string `db:"title"`
	VariantTitle    string `db:"variant_title"`
	SKU             string `db:"sku"`
	Quantity        int    `db:"quantity"`
	UnitPriceAmount int64  `db:"unit_price_amount"`
	TotalAmount     int64  `db:"total_amount"`
	CurrencyCode    string `db:"currency_code"`
	// SourceContentID is the video or live session the line was bought
	// from, when its product is a card on it.
	SourceContentID *int64 `db:"source_content_id"`
	// CreatorID is the affiliate who earns the line's commission.
	CreatorID         *int64 `db:"creator_id"`
	CommissionRateBps int    `db:"commission_rate_bps"`
	// CommissionAmount is TotalAmount × CommissionRateBps / 10,000, rounded
	// down to the minor unit.
	CommissionAmount int64 `db:"commission_amount"`
	// SelfPurchase is set when the buyer made the source content: no
	// commission, and the line does not count toward the content's figures.
	SelfPurchase bool `db:"self_purchase"`
	// TaxAmount is the line's tax (cost.go's per-line rule).
	TaxAmount int64 `db:"tax_amount"`
	// DiscountAmount is the line's share of its order's discount code
	// (DiscountCode), allocated by the largest remainder (discounts.go).
	DiscountAmount int64   `db:"discount_amount"`
	DiscountCode   *string `db:"discount_code"`
	// CampaignID is the campaign the line is credited to: set by the
	// checkout when it sold an enrolled variant at its campaign price while
	// the campaign ran.
	CampaignID *int64 `db:"campaign_id"`
}

// Commission is what the line's affiliate creator earns.
func (l *OrderLine) Commission() Money {
	return Money{Minor: l.CommissionAmount, CurrencyCode: l.CurrencyCode}
}

// UnitPrice is the price of one unit at purchase.
func (l *OrderLine) UnitPrice() Money {
	return Money{Minor: l.UnitPriceAmount, CurrencyCode: l.CurrencyCode}
}

// Total is quantity × unit price.
func (l *OrderLine) Total() Money { return Money{Minor: l.TotalAmount, CurrencyCode: l.CurrencyCode} }

const orderColumns = `o.id, o.number, o.checkout_id, o.buyer_id, o.shop_id, o.status, o.currency_code,
	o.subtotal_amount, o.total_amount, o.units, o.campaign, o.source_content_id, o.creator_id, o.commission_rate_bps,
	o.commission_amount, o.shipping_address, o.carrier, o.tracking_number, o.created_at, o.paid_at,
	o.fulfilled_at, o.delivered_at, o.cancelled_at, o.shipping_title, o.shipping_amount, o.tax_title, o.tax_rate_bps,
	o.tax_amount, o.taxes_included, o.discount_code, o.discount_amount`

const orderLineColumns = `l.id, l.order_id, l.variant_id, l.product_id, l.title, l.variant_title, l.sku, l.quantity,
	l.unit_price_amount, l.total_amount, o.currency_code, l.source_content_id, l.creator_id, l.commission_rate_bps,
	l.commission_amount, l.self_purchase, l.tax_amount, l.discount_amount, o.discount_code, l.campaign_id`

// OrdersByIDs loads visible (not PENDING) orders by id in one statement.
func (db *DB) OrdersByIDs(ctx context.Context, ids []int64) (map[int64]*Order, error) {
	var rows []*Order
	if err := db.SelectContext(ctx, &rows, `SELECT `+orderColumns+` FROM orders o
		WHERE o.id = ANY($1) AND o.status <> 'PENDING'`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("orders by ids: %w", err)
	}
	return indexByID(rows, func(o *Order) int64 { return o.ID }), nil
}

// OrderLinesByOrderIDs loads the lines of several orders in one statement.
func (db *DB) OrderLinesByOrderIDs(ctx context.Context, ids []int64) (map[int64][]*OrderLine, error) {
	var rows []*OrderLine
	if err := db.SelectContext(ctx, &rows, `SELECT `+orderLineColumns+`
		FROM order_lines l JOIN orders o ON o.id = l.order_id
		WHERE l.order_id = ANY($1) ORDER BY l.order_id, l.position`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("order lines: %w", err)
	}
	return groupByKey(ids, rows, func(l *OrderLine) int64 { return l.OrderID }), nil
}

// OrderOwner says whose orders a listing shows.
type OrderOwner struct {
	BuyerID int64
	ShopID  int64
}

// OrderPageKey asks for one page of a buyer's or a shop's orders.
type OrderPageKey struct {
	OrderOwner
	First int
	After string
}

// OrderPages loads a page of orders, newest first, for each key in one statement.
func (db *DB) OrderPages(ctx context.Context, keys []OrderPageKey) (map[OrderPageKey]Page[*Order], error) {
	var buyers, shops, afters, limits []int64
	for _, k := range keys {
		after, err := afterID(k.After)
		if err != nil {
			return nil, err
		}
		buyers, shops = append(buyers, k.BuyerID), append(shops, k.ShopID)
		afters, limits = append(afters, after), append(limits, int64(k.First+1))
	}
	var rows []struct {
		Ord int `db:"ord"`
		Order
	}
	err := db.SelectContext(ctx, &rows, `SELECT k.ord, `+orderColumns+`
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::int[]) WITH ORDINALITY AS k(buyer_id, shop_id, after_id, lim, ord)
		CROSS JOIN LATERAL (
			SELECT * FROM orders o
			WHERE (k.buyer_id = 0 OR o.buyer_id = k.buyer_id) AND (k.shop_id = 0 OR o.shop_id = k.shop_id)
			  AND o.status <> 'PENDING' AND (k.after_id = 0 OR o.id < k.after_id)
			ORDER BY o.id DESC LIMIT k.lim) o
		ORDER BY k.ord, o.id DESC`, pq.Array(buyers), pq.Array(shops), pq.Array(afters), pq.Array(limits))
	if err != nil {
		return nil, fmt.Errorf("order pages: %w", err)
	}
	return pagesByKey(keys, func(k OrderPageKey) PageArgs { return PageArgs{First: k.First, After: k.After} }, len(rows), func(i int) int { return rows[i].Ord },
		func(i int) *Order { return &rows[i].Order }, func(o *Order) int64 { return o.ID }), nil
}
