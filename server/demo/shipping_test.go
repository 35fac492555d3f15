package demo_test

import (
	"context"
	"testing"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

// Every demo shop has shipping and tax rates and serves every country (a
// rest-of-world rate); dollar shops add tax, euro shops include it; the
// demo buyer has a default address.
func TestDemoShopsShipAndTax(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(t), store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := demo.Seed(ctx, db, demo.SeedOptions{Users: 30, Creators: 5, Shops: 8, Products: 16, Videos: 5, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	var offenders []string
	if err := db.SelectContext(ctx, &offenders, `SELECT s.name FROM shops s
		WHERE NOT EXISTS (SELECT 1 FROM shipping_rates r WHERE r.shop_id = s.id AND r.country_code IS NULL)
		   OR NOT EXISTS (SELECT 1 FROM tax_rates r WHERE r.shop_id = s.id)
		   OR s.taxes_included <> (s.currency_code = 'EUR')`); err != nil {
		t.Fatal(err)
	}
	if len(offenders) > 0 {
		t.Fatalf("shops without worldwide shipping, tax rates or the right tax inclusion: %v", offenders)
	}
	var euro int
	if err := db.GetContext(ctx, &euro, `SELECT count(*) FROM shops WHERE currency_code = 'EUR'`); err != nil || euro == 0 {
		t.Fatalf("no euro shop to check (%v)", err)
	}
	var defaults int
	if err := db.GetContext(ctx, &defaults, `SELECT count(*) FROM customer_addresses a JOIN users u ON u.id = a.user_id
		WHERE u.email = $1 AND a.is_default`, demo.BuyerEmail); err != nil || defaults != 1 {
		t.Fatalf("the demo buyer has %d default addresses (%v)", defaults, err)
	}
}
