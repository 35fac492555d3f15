package store_test

import (
	"context"
	"testing"

	"showcase/store"
	"showcase/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestDemoSeed(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	report, err := store.Seed(ctx, db, store.DemoSeedOptions())
	if err != nil {
		t.Fatal(err)
	}
	if report.Shops < 8 || report.Products < 200 || report.Videos < 300 || report.LiveSessions < 10 || report.Users < 50 {
		t.Fatalf("report = %+v", report)
	}
	checks := map[string]string{
		"shops of both operating models": `SELECT count(DISTINCT operating_model) = 2 AND count(*) >= 8 FROM shops`,
		"products, each with a variant":  `SELECT count(*) >= 200 AND bool_and(EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id)) FROM products p`,
		"videos, each with a product card": `SELECT count(*) >= 300 AND bool_and(EXISTS (SELECT 1 FROM content_products cp WHERE cp.content_id = c.id))
			FROM contents c WHERE kind = 'VIDEO'`,
		"live sessions, some on air with a pinned card": `SELECT count(*) >= 10 AND count(*) FILTER (WHERE live_status = 'LIVE' AND EXISTS (
			SELECT 1 FROM content_products cp WHERE cp.content_id = c.id AND cp.product_id = c.pinned_product_id)) >= 1
			FROM contents c WHERE kind = 'LIVE'`,
		"users and creators":               `SELECT count(*) >= 50 AND count(*) FILTER (WHERE is_creator) >= 15 FROM users`,
		"interests overlap content tags":   `SELECT EXISTS (SELECT 1 FROM users u JOIN contents c ON c.tags && u.interest_tags)`,
		"demo accounts":                    `SELECT count(*) = 3 FROM users WHERE email IN ('demo@showcase.dev', 'seller@showcase.dev', 'admin@showcase.dev')`,
		"seller owns a shop":               `SELECT EXISTS (SELECT 1 FROM shops s JOIN users u ON u.id = s.owner_id WHERE u.email = 'seller@showcase.dev')`,
		"cards only on active products":    `SELECT bool_and(p.status = 'ACTIVE') FROM content_products cp JOIN products p ON p.id = cp.product_id`,
		"variants priced in shop currency": `SELECT bool_and(v.currency_code = s.currency_code) FROM product_variants v JOIN products p ON p.id = v.product_id JOIN shops s ON s.id = p.shop_id`,
	}
	for name, q := range checks {
		var ok bool
		if err := db.GetContext(ctx, &ok, q); err != nil || !ok {
			t.Errorf("%s: %v (err %v)", name, ok, err)
		}
	}
	// Every figure and breakdown has something to show.
	var shopIDs []int64
	if err := db.SelectContext(ctx, &shopIDs, `SELECT id FROM shops`); err != nil {
		t.Fatal(err)
	}
	var keys []store.MetricsKey
	for _, id := range shopIDs {
		keys = append(keys, store.MetricsKey{Subject: store.SubjectShop, ID: id, Window: store.WindowLast30Days})
	}
	breakdowns, err := db.ShopBreakdowns(ctx, keys, store.DefaultTopCreatorFollowers)
	if err != nil {
		t.Fatal(err)
	}
	totals := map[string]int64{}
	for _, b := range breakdowns {
		for _, sl := range append(b.BySurface, b.ByChannel...) {
			totals[sl.Key] += sl.Orders
		}
	}
	for _, k := range append(append([]string{}, store.Surfaces...), store.Channels...) {
		if totals[k] == 0 {
			t.Errorf("no demo orders for %s: %v", k, totals)
		}
	}
	metrics, err := db.MetricsFor(ctx, keys[:1])
	if err != nil {
		t.Fatal(err)
	}
	if m := metrics[keys[0]]; m.Views == 0 || m.Likes == 0 || m.Comments == 0 || m.ProductClicks == 0 || m.Orders == 0 || m.GMVAmount == 0 {
		t.Errorf("a demo shop's 30-day metrics have zeros: %+v", m)
	}
	// The sequences continue after the seeded ids.
	if _, err := db.CreateUser(ctx, store.NewUser{Email: "new@example.com", PasswordHash: "-", Handle: "newbie", DisplayName: "New"}); err != nil {
		t.Fatalf("create user after seeding: %v", err)
	}
	if _, err := store.Seed(ctx, db, store.DemoSeedOptions()); err == nil {
		t.Fatal("seeding a non-empty database succeeded")
	}
}
