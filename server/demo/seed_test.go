package demo_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// demoChecks are facts about the demo dataset, each a query answering true.
var demoChecks = map[string]string{
	"shops of both operating models": `SELECT count(DISTINCT operating_model) = 2 AND count(*) >= 8 FROM shops`,
	"shop terms": `SELECT bool_and(affiliate_rate_bps BETWEEN 500 AND 2000 AND currency_code IN ('USD', 'EUR'))
		AND count(*) FILTER (WHERE currency_code = 'EUR') BETWEEN 1 AND count(*) / 2 FROM shops`,
	"shops owned by distinct users": `SELECT count(DISTINCT owner_id) = count(*) FROM shops`,
	"products, each with 1-4 variants": `SELECT count(*) >= 200 AND bool_and((SELECT count(*) FROM product_variants v
		WHERE v.product_id = p.id) BETWEEN 1 AND 4) FROM products p`,
	"mostly active products": `SELECT count(*) FILTER (WHERE status = 'ACTIVE') > 0.9 * count(*)
		AND count(*) FILTER (WHERE status = 'DRAFT') > 0 FROM products`,
	"variants priced and stocked": `SELECT bool_and(price_amount BETWEEN 399 AND 20500 AND stock BETWEEN 0 AND 500)
		AND count(*) FILTER (WHERE stock = 0) > 0 FROM product_variants`,
	"variants priced in shop currency": `SELECT bool_and(v.currency_code = s.currency_code) FROM product_variants v
		JOIN products p ON p.id = v.product_id JOIN shops s ON s.id = p.shop_id`,
	"videos, each with 1-3 product cards": `SELECT count(*) >= 300 AND bool_and((SELECT count(*) FROM content_products cp
		WHERE cp.content_id = c.id) BETWEEN 1 AND 3) FROM contents c WHERE kind = 'VIDEO'`,
	"videos well formed": `SELECT bool_and(caption LIKE '%#%' AND playback_url = 'https://cdn.showcase.example/v/' || id || '.m3u8'
		AND thumbnail_url <> '' AND duration_seconds BETWEEN 8 AND 180 AND cardinality(tags) > 0
		AND published_at BETWEEN now() - interval '60 days' AND now()) FROM contents WHERE kind = 'VIDEO'`,
	"video authors are creators": `SELECT bool_and(u.is_creator) FROM contents c JOIN users u ON u.id = c.author_id WHERE c.kind = 'VIDEO'`,
	"own and affiliate videos": `SELECT count(*) FILTER (WHERE s.owner_id = c.author_id) > 0 AND count(*) FILTER (WHERE s.owner_id <> c.author_id) > 0
		FROM contents c JOIN shops s ON s.id = c.shop_id WHERE c.kind = 'VIDEO'`,
	"cards from the content's shop, positions from 0": `SELECT bool_and(p.shop_id = c.shop_id) AND bool_and(cp.position < 6)
		AND count(*) FILTER (WHERE cp.position = 0) = (SELECT count(*) FROM contents)
		FROM content_products cp JOIN contents c ON c.id = cp.content_id JOIN products p ON p.id = cp.product_id`,
	"cards only on active products": `SELECT bool_and(p.status = 'ACTIVE') FROM content_products cp JOIN products p ON p.id = cp.product_id`,
	"live sessions, 3 on air with a pinned card": `SELECT count(*) >= 10 AND count(*) FILTER (WHERE live_status = 'LIVE' AND EXISTS (
		SELECT 1 FROM content_products cp WHERE cp.content_id = c.id AND cp.product_id = c.pinned_product_id)) >= 3
		FROM contents c WHERE kind = 'LIVE'`,
	"live sessions with 2-6 products": `SELECT bool_and((SELECT count(*) FROM content_products cp WHERE cp.content_id = c.id) BETWEEN 2 AND 6)
		FROM contents c WHERE kind = 'LIVE'`,
	"live timeline": `SELECT bool_and(CASE live_status
		WHEN 'LIVE' THEN started_at BETWEEN now() - interval '2 hours' AND now() AND published_at = started_at AND ended_at IS NULL
		WHEN 'SCHEDULED' THEN scheduled_start_at > now() AND started_at IS NULL AND pinned_product_id IS NULL
		ELSE started_at < ended_at AND ended_at < now() END)
		AND count(DISTINCT live_status) = 3 FROM contents WHERE kind = 'LIVE'`,
	"live hosts create or own a shop": `SELECT bool_and(u.is_creator OR EXISTS (SELECT 1 FROM shops s WHERE s.owner_id = u.id))
		FROM contents c JOIN users u ON u.id = c.author_id WHERE c.kind = 'LIVE'`,
	"users and creators": `SELECT count(*) >= 50 AND count(*) FILTER (WHERE is_creator) >= 15 FROM users`,
	"handles lowercase, emails from handles": `SELECT bool_and(handle ~ '^[a-z][a-z0-9.]*$')
		AND count(*) FILTER (WHERE email = handle || '@example.com') = count(*) - 3 FROM users`,
	"distinct interests":             `SELECT bool_and(cardinality(interest_tags) = (SELECT count(DISTINCT t) FROM unnest(interest_tags) t)) FROM users`,
	"interests overlap content tags": `SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM contents c WHERE c.tags && u.interest_tags)) = count(*) FROM users u`,
	"demo accounts": `SELECT count(*) = 3 AND bool_and(is_admin = (handle = 'admin')) FROM users
		WHERE (email, handle) IN (('demo@showcase.dev', 'demo'), ('seller@showcase.dev', 'seller'), ('admin@showcase.dev', 'admin'))`,
	"seller owns the first shop": `SELECT u.email = 'seller@showcase.dev' FROM shops s JOIN users u ON u.id = s.owner_id ORDER BY s.id LIMIT 1`,
	// Follows (follows.go): counts are the rows, for every user and shop.
	"follower counts are the follows": `SELECT bool_and(u.follower_count = (SELECT count(*) FROM follows f WHERE f.creator_id = u.id))
		AND (SELECT bool_and(s.follower_count = (SELECT count(*) FROM follows f WHERE f.shop_id = s.id)) FROM shops s) FROM users u`,
	"only creators and others' shops are followed": `SELECT NOT EXISTS (SELECT 1 FROM follows f LEFT JOIN users c ON c.id = f.creator_id
		LEFT JOIN shops s ON s.id = f.shop_id WHERE (f.creator_id IS NOT NULL AND NOT c.is_creator) OR s.owner_id = f.follower_id)`,
	"the demo buyer follows creators and shops": `SELECT count(creator_id) >= 2 AND count(shop_id) >= 1 FROM follows f JOIN users u ON u.id = f.follower_id
		WHERE u.email = 'demo@showcase.dev'`,
}

func checkDemoData(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	for name, q := range demoChecks {
		var ok bool
		if err := db.GetContext(ctx, &ok, q); err != nil || !ok {
			t.Errorf("%s: %v (err %v)", name, ok, err)
		}
	}
	var hash string
	if err := db.GetContext(ctx, &hash, `SELECT password_hash FROM users WHERE email = $1`, demo.BuyerEmail); err != nil {
		t.Fatal(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("showcase-demo")); err != nil {
		t.Errorf("demo password: %v", err)
	}
}

func TestDemoSeed(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	report, err := demo.Seed(ctx, db, demo.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if report.Shops < 8 || report.Products < 200 || report.Videos < 300 || report.LiveSessions < 10 || report.Users < 50 ||
		report.Variants < report.Products {
		t.Fatalf("report = %+v", report)
	}
	if report.DemoEmail != "demo@showcase.dev" || report.DemoPassword != "showcase-demo" ||
		report.SellerEmail != "seller@showcase.dev" || report.AdminEmail != "admin@showcase.dev" {
		t.Errorf("demo accounts in report = %+v", report)
	}
	checkDemoData(t, db)
	checkDerivedRows(t, db)

	// Every figure and breakdown has something to show.
	var shopIDs []int64
	if err := db.SelectContext(ctx, &shopIDs, `SELECT id FROM shops`); err != nil {
		t.Fatal(err)
	}
	var keys []store.MetricsKey
	for _, id := range shopIDs {
		keys = append(keys, store.MetricsKey{Subject: store.SubjectShop, ID: id, Window: store.WindowLast30Days})
	}
	// With the demo's threshold (real follows of 60 people), a few creators are top creators.
	breakdowns, err := db.ShopBreakdowns(ctx, time.Now(), keys, demo.TopCreatorFollowers)
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
	metrics, err := db.MetricsFor(ctx, time.Now(), keys[:1])
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
	if _, err := demo.Seed(ctx, db, demo.DefaultOptions()); err == nil {
		t.Fatal("seeding a non-empty database succeeded")
	}
}

// The same Seed gives the same catalogue, people and content; only times
// move with the clock.
func TestSeedIsDeterministic(t *testing.T) {
	ctx := context.Background()
	opts := demo.SeedOptions{Users: 40, Creators: 10, Shops: 8, Products: 120, Videos: 150, LiveSessions: 10, Seed: 42}
	fingerprint := func(opts demo.SeedOptions) string {
		db := storetest.NewDB(t)
		if _, err := demo.Seed(ctx, db, opts); err != nil {
			t.Fatal(err)
		}
		var fp string
		err := db.GetContext(ctx, &fp, `SELECT md5(
			(SELECT string_agg(concat_ws('|', id, handle, display_name, is_creator, interest_tags, follower_count), ',' ORDER BY id) FROM users) ||
			(SELECT string_agg(concat_ws('|', id, handle, name, description, operating_model, owner_id, currency_code, affiliate_rate_bps), ',' ORDER BY id) FROM shops) ||
			(SELECT string_agg(concat_ws('|', id, shop_id, title, description, tags, status), ',' ORDER BY id) FROM products) ||
			(SELECT string_agg(concat_ws('|', id, product_id, sku, title, price_amount, stock), ',' ORDER BY id) FROM product_variants) ||
			(SELECT string_agg(concat_ws('|', id, kind, author_id, shop_id, tags, caption, title, live_status, pinned_product_id, view_count), ',' ORDER BY id) FROM contents) ||
			(SELECT string_agg(concat_ws('|', content_id, product_id, position), ',' ORDER BY content_id, position) FROM content_products))`)
		if err != nil {
			t.Fatal(err)
		}
		return fp
	}
	a, b := fingerprint(opts), fingerprint(opts)
	if a != b {
		t.Errorf("two seeds with Seed 42 differ: %s and %s", a, b)
	}
	opts.Seed = 43
	if c := fingerprint(opts); c == a {
		t.Errorf("Seed 43 gave the same dataset as Seed 42")
	}
}

// A superuser seeds without per-row foreign-key triggers and checks the keys
// in bulk instead; the data must be as good.
func TestSeedAsSuperuser(t *testing.T) {
	ctx := context.Background()
	adminDSN := storetest.AdminDSN(t)
	admin, err := store.Open(ctx, adminDSN, store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var super string
	if err := admin.GetContext(ctx, &super, `SHOW is_superuser`); err != nil {
		t.Fatal(err)
	}
	if super != "on" {
		t.Skip("the test server's admin role is not a superuser")
	}
	name := fmt.Sprintf("seed_super_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := store.Open(ctx, u.String(), store.PoolOptions{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.Migrate(ctx, db.DB.DB); err != nil {
		t.Fatal(err)
	}
	var stages []string
	opts := demo.DefaultOptions()
	opts.Progress = func(stage string, done, total int) {
		if done == total {
			stages = append(stages, stage)
		}
	}
	if _, err := demo.Seed(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	checkDemoData(t, db)
	if !slices.Contains(stages, "references") {
		t.Errorf("the foreign keys were not checked in bulk; stages: %v", stages)
	}
	checkDerivedRows(t, db)
	// The session is back to normal: triggers enforce the keys again.
	if _, err := db.ExecContext(ctx, `INSERT INTO content_products (content_id, product_id) VALUES (1, 999999)`); err == nil {
		t.Error("a dangling product card was accepted after seeding")
	}
}

// checkDerivedRows: what the triggers keep from the rows is there, whether
// or not the seed ran them: every content's card categories are its cards'
// categories, and every content's all-time views, likes, comments and
// orders (store.MetricsFor) are the sums of its raw rows.
func checkDerivedRows(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	var wrongCats, carded int
	if err := db.GetContext(ctx, &wrongCats, `SELECT count(*) FROM contents WHERE card_categories IS DISTINCT FROM content_card_categories(id)`); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &carded, `SELECT count(*) FROM contents WHERE card_categories <> '{}'`); err != nil {
		t.Fatal(err)
	}
	if wrongCats != 0 || carded == 0 {
		t.Errorf("%d contents with card categories other than their cards'; %d with any", wrongCats, carded)
	}
	var raw []struct {
		ID       int64 `db:"id"`
		Views    int64 `db:"views"`
		Likes    int64 `db:"likes"`
		Comments int64 `db:"comments"`
		Orders   int64 `db:"orders"`
	}
	if err := db.SelectContext(ctx, &raw, `SELECT c.id,
		(SELECT coalesce(sum(e.views), 0) FROM content_event_counts e WHERE e.content_id = c.id) AS views,
		(SELECT count(*) FROM content_likes l WHERE l.content_id = c.id) AS likes,
		(SELECT count(*) FROM comments m WHERE m.content_id = c.id) AS comments,
		(SELECT count(DISTINCT o.id) FROM orders o JOIN order_lines l ON l.order_id = o.id
			WHERE l.source_content_id = c.id AND NOT l.self_purchase
			AND o.status IN ('PAID', 'FULFILLED', 'DELIVERED') AND o.paid_at IS NOT NULL) AS orders
		FROM contents c ORDER BY c.id`); err != nil {
		t.Fatal(err)
	}
	keys := make([]store.MetricsKey, len(raw))
	for i, r := range raw {
		keys[i] = store.MetricsKey{Subject: store.SubjectContent, ID: r.ID, Window: store.WindowAllTime}
	}
	got, err := db.MetricsFor(ctx, time.Now(), keys)
	if err != nil {
		t.Fatal(err)
	}
	var views, orders int64
	for i, r := range raw {
		g := got[keys[i]]
		if g == nil || g.Views != r.Views || g.Likes != r.Likes || g.Comments != r.Comments || g.Orders != r.Orders {
			t.Fatalf("content %d all-time figures %+v, its raw rows sum to %+v", r.ID, g, r)
		}
		views += r.Views
		orders += r.Orders
	}
	if views == 0 || orders == 0 {
		t.Fatalf("the raw rows hold %d views and %d orders: nothing compared", views, orders)
	}
}
