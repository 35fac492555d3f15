package demo_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"showcase/media"
	"showcase/server/demo"
	"showcase/store/storetest"
)

// demoFunnels are each content's, product's and shop's counters and
// funnel, as the coherence checks read them. $1 is demo.CategoriesJSON.
const demoFunnels = `WITH cats AS (
		SELECT key AS name, ARRAY(SELECT jsonb_array_elements_text(value->'tags')) AS tags,
			ARRAY(SELECT jsonb_array_elements_text(value->'nouns')) AS nouns FROM jsonb_each($1::jsonb)),
	shop_cat AS (SELECT s.id AS shop_id, s.name AS shop, c.name AS cat, c.tags, c.nouns
		FROM shops s LEFT JOIN cats c ON s.name ILIKE '% ' || c.name || ' %'),
	e AS (SELECT content_id, sum(views) AS views, sum(shares) AS shares, sum(product_impressions) AS impressions,
		sum(product_clicks) AS clicks FROM content_event_counts GROUP BY 1),
	lk AS (SELECT content_id, count(*) AS n FROM content_likes GROUP BY 1),
	cm AS (SELECT content_id, count(*) AS n FROM comments GROUP BY 1),
	o AS (SELECT source_content_id AS content_id, count(DISTINCT order_id) AS n, sum(total_amount) AS gmv
		FROM order_lines WHERE source_content_id IS NOT NULL GROUP BY 1),
	content_funnel AS (SELECT c.id, c.kind, c.view_count, c.like_count, coalesce(e.views, 0) AS views,
		coalesce(e.shares, 0) AS shares, coalesce(e.impressions, 0) AS impressions, coalesce(e.clicks, 0) AS clicks,
		coalesce(lk.n, 0) AS likes, coalesce(cm.n, 0) AS comments, coalesce(o.n, 0) AS orders, coalesce(o.gmv, 0) AS gmv
		FROM contents c LEFT JOIN e ON e.content_id = c.id LEFT JOIN lk ON lk.content_id = c.id
		LEFT JOIN cm ON cm.content_id = c.id LEFT JOIN o ON o.content_id = c.id),
	product_funnel AS (SELECT p.id, p.title, coalesce(pe.impressions, 0) AS impressions, coalesce(pe.clicks, 0) AS clicks,
		(SELECT count(DISTINCT l.order_id) FROM order_lines l WHERE l.product_id = p.id) AS orders
		FROM products p LEFT JOIN (SELECT product_id, sum(impressions) AS impressions, sum(clicks) AS clicks
			FROM product_event_counts GROUP BY 1) pe ON pe.product_id = p.id),
	shop_funnel AS (SELECT s.id, s.name, coalesce(sum(f.views), 0) AS views, coalesce(sum(f.impressions), 0) AS impressions,
		coalesce(sum(f.clicks), 0) AS clicks,
		(SELECT count(*) FROM orders x WHERE x.shop_id = s.id) AS orders,
		(SELECT coalesce(sum(x.total_amount), 0) FROM orders x WHERE x.shop_id = s.id) AS gmv
		FROM shops s LEFT JOIN contents c ON c.shop_id = s.id LEFT JOIN content_funnel f ON f.id = c.id GROUP BY s.id)
	`

// demoCoherence are the demo data's rules (README, "The demo data"), each
// a query listing its offenders; none may have any.
var demoCoherence = map[string]string{
	"each shop names one category": `SELECT format('shop %s %L names %s categories', s.id, s.name, count(sc.cat))
		FROM shops s LEFT JOIN shop_cat sc ON sc.shop_id = s.id AND sc.cat IS NOT NULL GROUP BY s.id HAVING count(sc.cat) <> 1`,
	"each shop sells its category": `SELECT format('shop %L (%s) sells %L tagged %s', sc.shop, sc.cat, p.title, p.tags)
		FROM products p JOIN shop_cat sc ON sc.shop_id = p.shop_id
		WHERE NOT (p.tags <@ sc.tags AND EXISTS (SELECT 1 FROM unnest(sc.nouns) n WHERE p.title LIKE '% ' || n))`,
	"captions and tags match the cards": `SELECT format('content %s %L tagged %s carries %L (%s)', c.id, coalesce(c.caption, c.title), c.tags, p.title, sc.cat)
		FROM contents c JOIN content_products cp ON cp.content_id = c.id JOIN products p ON p.id = cp.product_id
		JOIN shop_cat sc ON sc.shop_id = p.shop_id
		WHERE NOT c.tags <@ sc.tags OR p.shop_id <> c.shop_id
		   OR (c.kind = 'VIDEO' AND cp.position = 0 AND strpos(lower(c.caption), lower(p.title)) = 0)
		   OR (c.kind = 'LIVE' AND strpos(lower(c.title), sc.cat) = 0)`,
	"live sessions pin their own shop's products": `SELECT format('live %s of shop %s pins product %s', c.id, c.shop_id, c.pinned_product_id)
		FROM contents c LEFT JOIN products p ON p.id = c.pinned_product_id
		WHERE c.pinned_product_id IS NOT NULL AND (p.shop_id IS DISTINCT FROM c.shop_id
			OR NOT EXISTS (SELECT 1 FROM content_products cp WHERE cp.content_id = c.id AND cp.product_id = c.pinned_product_id))`,
	"product titles distinct within a shop": `SELECT format('shop %s has %s products titled %L', shop_id, count(*), title)
		FROM products GROUP BY shop_id, title HAVING count(*) > 1`,
	"display names distinct": `SELECT format('%s users are called %L', count(*), display_name) FROM users GROUP BY display_name HAVING count(*) > 1`,
	"handles distinct":       `SELECT format('%s users have the handle %L', count(*), lower(handle)) FROM users GROUP BY lower(handle) HAVING count(*) > 1`,
	"shop names distinct":    `SELECT format('%s shops are called %L', count(*), name) FROM shops GROUP BY name HAVING count(*) > 1`,
	"counters agree with the history": `SELECT format('content %s: view_count %s like_count %s; history %s views, %s likes', id, view_count, like_count, views, likes)
		FROM content_funnel WHERE view_count < like_count OR view_count <> views OR like_count <> likes`,
	"content funnel": `SELECT format('content %s: %s views, %s likes + %s comments + %s shares, %s impressions, %s clicks, %s orders',
			id, views, likes, comments, shares, impressions, clicks, orders)
		FROM content_funnel WHERE NOT (views >= impressions AND impressions >= clicks AND clicks >= orders
			AND likes + comments + shares <= views)`,
	"content rates": `SELECT format('content %s: engagement %s, CTR %s, conversion %s, GPM %s over %s views',
			id, round((likes + comments + shares)::numeric / views, 4), round(clicks::numeric / views, 4),
			round(orders::numeric / nullif(clicks, 0), 4), round(gmv * 1000.0 / views), views)
		FROM content_funnel WHERE views > 0 AND NOT (
			gmv * 1000 <= ` + demoGPMMax + ` * views AND orders <= 0.10 * clicks AND likes + comments + shares <= 0.15 * views
			AND (views < 1000 OR ((likes + comments + shares) >= 0.02 * views AND clicks BETWEEN 0.01 * views AND 0.10 * views)))`,
	"one to four images per product": `SELECT format('product %s %L has %s images', p.id, p.title, count(m.id))
		FROM products p LEFT JOIN product_media m ON m.product_id = p.id GROUP BY p.id HAVING count(m.id) NOT BETWEEN 1 AND 4`,
	"image alt texts name their product": `SELECT format('product %s %L has an image described %L', p.id, p.title, m.alt_text)
		FROM products p JOIN product_media m ON m.product_id = p.id WHERE strpos(m.alt_text, p.title) <> 1`,
	// A hash of the id whose low bits gave the count made every product of
	// a shop (every Shops-th id) carry the same number of images.
	"a shop's products vary in images": `SELECT format('shop %s: all %s products have %s images', shop_id, count(*), min(n))
		FROM (SELECT p.id, p.shop_id, count(m.id) AS n FROM products p LEFT JOIN product_media m ON m.product_id = p.id GROUP BY p.id) x
		GROUP BY shop_id HAVING count(*) >= 8 AND count(DISTINCT n) < 3`,
	"every video has a poster": `SELECT format('video %s %L has no poster', c.id, c.caption)
		FROM contents c LEFT JOIN video_posters vp ON vp.content_id = c.id WHERE c.kind = 'VIDEO' AND vp.content_id IS NULL`,
	"product funnel": `SELECT format('product %s %L: %s impressions, %s clicks, %s orders', id, title, impressions, clicks, orders)
		FROM product_funnel WHERE NOT (impressions >= clicks AND clicks >= orders
			AND (impressions < 1000 OR clicks BETWEEN 0.01 * impressions AND 0.10 * impressions)
			AND orders <= 0.10 * clicks)`,
	"shop funnel": `SELECT format('shop %s %L: %s views, %s impressions, %s clicks, %s orders, GPM %s', id, name, views, impressions, clicks, orders,
			round(gmv * 1000.0 / nullif(views, 0)))
		FROM shop_funnel WHERE NOT (views >= impressions AND impressions >= clicks AND clicks >= orders
			AND clicks BETWEEN 0.01 * views AND 0.10 * views AND orders BETWEEN 0.01 * clicks AND 0.10 * clicks
			AND gmv * 1000 BETWEEN ` + demoGPMMin + ` * views AND ` + demoGPMMax + ` * views)`,
}

// The GPM band, in minor units per thousand views: no content over $100, and
// every shop at least $1.
const demoGPMMin, demoGPMMax = "100", "10000"

// TestDemoDataIsCoherent seeds DefaultOptions (with images) and checks
// every rule of the demo data: one category per shop, captions and tags that
// match the cards, counters and funnels with plausible rates, distinct names,
// one to four images per product (described by their product's title, and
// not the same number for every product of a shop), a poster for every
// video. Each failure names its offenders.
func TestDemoDataIsCoherent(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	dir, err := media.NewDir(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	opts := demo.DefaultOptions()
	opts.Media = dir
	if _, err := demo.Seed(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(demoCoherence))
	for name := range demoCoherence {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var offenders []string
		if err := db.SelectContext(ctx, &offenders, demoFunnels+demoCoherence[name]+` LIMIT 10`, demo.CategoriesJSON()); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(offenders) > 0 {
			t.Errorf("%s, offenders (at most 10):\n\t%s", name, strings.Join(offenders, "\n\t"))
		}
	}
	// The rules are not met by having nothing: there are orders from content.
	var withOrders int
	if err := db.GetContext(ctx, &withOrders, `SELECT count(DISTINCT source_content_id) FROM order_lines`); err != nil || withOrders < 100 {
		t.Errorf("%d contents have orders (err %v)", withOrders, err)
	}
}

// TestSeedNamesStayDistinct: past the 520 first and last name pairs, people
// get a middle initial, and names and handles stay distinct.
func TestSeedNamesStayDistinct(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	if _, err := demo.Seed(ctx, db, demo.SeedOptions{Users: 1200, Creators: 5, Shops: 12, Products: 12, Videos: 5, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"display names distinct", "handles distinct", "shop names distinct"} {
		var offenders []string
		if err := db.SelectContext(ctx, &offenders, demoCoherence[name]+` LIMIT 10`); err != nil {
			t.Fatal(err)
		}
		if len(offenders) > 0 {
			t.Errorf("%s, offenders:\n\t%s", name, strings.Join(offenders, "\n\t"))
		}
	}
	var initials int
	if err := db.GetContext(ctx, &initials, `SELECT count(*) FROM users WHERE display_name ~ '^[A-Z][a-z]+ [A-Z]\. [A-Z][a-z]+$'
		AND handle ~ '^[a-z]+\.[a-z]\.[a-z]+$'`); err != nil || initials < 600 {
		t.Errorf("%d people with a middle initial, want at least 600 (err %v)", initials, err)
	}
}
