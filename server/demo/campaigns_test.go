package demo_test

// The demo's campaign (campaigns.go), checked with the other demo facts.
func init() {
	demoChecks["a running double11 with products of most shops enrolled at 20% off"] = `SELECT
		(SELECT count(*) = 1 AND bool_and(starts_at <= now() AND now() < ends_at) FROM campaigns WHERE handle = 'double11')
		AND (SELECT count(DISTINCT shop_id) >= 5 AND bool_and(price_amount = (list_price_amount * 160 + 100) / 200)
			FROM campaign_variants)`
}
