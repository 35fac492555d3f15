package demo

import (
	"fmt"
	"time"
)

// DemoCampaignHandle is the demo's running campaign.
const DemoCampaignHandle = "double11"

// DemoCampaignPercentOff is how far below list price the demo's enrolled
// variants sell while the campaign runs.
const DemoCampaignPercentOff = 20

// campaigns writes the demo's platform campaign: "Double 11", running from
// three days before the seed to four days after it, 10% to 50% off, with
// every variant of each shop's third and fourth active products (by id) enrolled at
// DemoCampaignPercentOff off its list price, rounded half up to the minor
// unit (store.CampaignPrice). The history's orders of enrolled variants
// paid since its start are made what the checkout would have made them:
// sold at the campaign price and credited to it (their line, order,
// commission, checkout, payment and test charge amounts follow).
func (s *seeder) campaigns() error {
	var id int64
	if err := s.tx.GetContext(s.ctx, &id, `INSERT INTO campaigns (handle, name, starts_at, ends_at, min_discount_bps, max_discount_bps)
		VALUES ($1, 'Double 11', $2, $3, 1000, 5000) RETURNING id`,
		DemoCampaignHandle, s.now.Add(-3*24*time.Hour), s.now.Add(4*24*time.Hour)); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	if _, err := s.tx.ExecContext(s.ctx, `INSERT INTO campaign_variants (campaign_id, variant_id, product_id, shop_id, price_amount, list_price_amount, currency_code)
		SELECT $1, v.id, v.product_id, p.shop_id, (v.price_amount * (100 - $2) * 2 + 100) / 200, v.price_amount, v.currency_code
		FROM product_variants v JOIN products p ON p.id = v.product_id
		WHERE p.id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY shop_id ORDER BY id) AS n
			FROM products WHERE status = 'ACTIVE') x WHERE n IN (3, 4))`, id, DemoCampaignPercentOff); err != nil {
		return fmt.Errorf("campaign enrolments: %w", err)
	}
	if _, err := s.tx.ExecContext(s.ctx, `WITH credited AS (
			UPDATE order_lines l SET campaign_id = cv.campaign_id, unit_price_amount = cv.price_amount,
				total_amount = cv.price_amount * l.quantity, commission_amount = cv.price_amount * l.quantity * l.commission_rate_bps / 10000
			FROM orders o, campaign_variants cv, campaigns k
			WHERE o.id = l.order_id AND cv.variant_id = l.variant_id AND k.id = cv.campaign_id AND k.id = $1 AND o.paid_at >= k.starts_at
			RETURNING l.order_id, l.total_amount, l.commission_amount
		), o AS (
			UPDATE orders SET subtotal_amount = c.total_amount, total_amount = c.total_amount, commission_amount = c.commission_amount
			FROM credited c WHERE orders.id = c.order_id RETURNING orders.checkout_id, orders.total_amount
		), co AS (
			UPDATE checkouts SET amount = o.total_amount FROM o WHERE checkouts.id = o.checkout_id RETURNING checkouts.id, checkouts.idempotency_key
		), pay AS (
			UPDATE payments SET amount = o.total_amount FROM o WHERE payments.checkout_id = o.checkout_id RETURNING payments.id
		)
		UPDATE test_provider_charges t SET amount = o.total_amount FROM o JOIN co ON co.id = o.checkout_id
		WHERE t.idempotency_key = co.idempotency_key`, id); err != nil {
		return fmt.Errorf("campaign credit: %w", err)
	}
	return nil
}
