package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Recommendation intents (the schema's ProductRecommendationIntent, as
// Shopify's Storefront API names them).
const (
	IntentRelated       = "RELATED"
	IntentComplementary = "COMPLEMENTARY"
)

// Caps of recommendations. Each bounds the rows one request reads, so the
// cost of a request does not grow with a product's popularity.
const (
	// MaxProductRecommendations is how many products productRecommendations
	// returns at most.
	MaxProductRecommendations = 10
	// RecommendSampleViewers is how many of a product's most recent viewers
	// RELATED asks what else they opened, and RecommendViewsPerViewer how
	// many of each one's most recent product views it reads.
	RecommendSampleViewers  = 500
	RecommendViewsPerViewer = 50
	// RecommendSampleOrders is how many of a product's most recent paid
	// orders COMPLEMENTARY reads (their other lines, and their buyers' other
	// recent orders, RecommendOrdersPerBuyer each).
	RecommendSampleOrders   = 500
	RecommendOrdersPerBuyer = 20
	// RecommendSeeds is how many of a person's most recent product views and
	// purchases their own recommendations start from.
	RecommendSeeds = 20
	// MaxViewerRecommendations is how long the ranking of a person's
	// recommended products is (the pages of one walk through it).
	MaxViewerRecommendations = 200
	// ProductViewRetention is how long a viewer's product view is kept
	// after its last repetition.
	ProductViewRetention = 90 * 24 * time.Hour
)

// viewerKey is the 64-bit key a viewer ("user:42", "device:…") is stored
// under in product_views.
func viewerKey(viewer string) int64 {
	sum := sha256.Sum256([]byte(viewer))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

var productViewsPrune struct {
	sync.Mutex
	last time.Time
}

// recordProductViews notes, in the flush's transaction, which products the
// viewers of counted PRODUCT_CLICK events opened (one row per viewer and
// product, counting repetitions), for co-viewing recommendations; about once
// an hour it deletes views older than ProductViewRetention.
func recordProductViews(ctx context.Context, tx *sqlx.Tx, counted []Event) error {
	type key struct{ viewer, product int64 }
	type view struct {
		user int64
		n    int64
		last time.Time
	}
	views := map[key]*view{}
	for _, e := range counted {
		// People and devices only: an app's events are no one viewer's.
		if e.Type != EventProductClick || e.ProductID == 0 || !(strings.HasPrefix(e.Viewer, "user:") || strings.HasPrefix(e.Viewer, "device:") && len(e.Viewer) > len("device:")) {
			continue
		}
		k := key{viewerKey(e.Viewer), e.ProductID}
		v := views[k]
		if v == nil {
			v = &view{}
			if id, ok := strings.CutPrefix(e.Viewer, "user:"); ok {
				v.user, _ = strconv.ParseInt(id, 10, 64)
			}
			views[k] = v
		}
		v.n++
		if e.At.After(v.last) {
			v.last = e.At
		}
	}
	if len(views) > 0 {
		keys := make([]key, 0, len(views))
		for k := range views {
			keys = append(keys, k)
		}
		// In key order, so that replicas flushing at once cannot deadlock.
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].viewer < keys[j].viewer || (keys[i].viewer == keys[j].viewer && keys[i].product < keys[j].product)
		})
		n := len(keys)
		viewers, users, products, counts, lasts := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]string, n)
		for i, k := range keys {
			v := views[k]
			viewers[i], users[i], products[i], counts[i], lasts[i] = k.viewer, v.user, k.product, v.n, v.last.UTC().Format(time.RFC3339Nano)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO product_views AS t (viewer_key, user_id, product_id, views, last_at)
			SELECT k, nullif(u, 0), p, n, l::timestamptz
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[]) AS x(k, u, p, n, l)
			WHERE EXISTS (SELECT 1 FROM products WHERE products.id = x.p)
			ON CONFLICT (viewer_key, product_id) DO UPDATE SET
				views = t.views + EXCLUDED.views, last_at = greatest(t.last_at, EXCLUDED.last_at)`,
			pq.Array(viewers), pq.Array(users), pq.Array(products), pq.Array(counts), pq.Array(lasts))
		if err != nil {
			return fmt.Errorf("flush product views: %w", err)
		}
	}
	productViewsPrune.Lock()
	due := time.Since(productViewsPrune.last) >= time.Hour
	if due {
		productViewsPrune.last = time.Now()
	}
	productViewsPrune.Unlock()
	if due {
		// Under a savepoint: a failed prune must not undo the flush.
		if _, err := tx.ExecContext(ctx, `SAVEPOINT prune_product_views`); err != nil {
			return fmt.Errorf("prune product views: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM product_views WHERE last_at < now() - $1 * interval '1 second'`,
			int64(ProductViewRetention/time.Second)); err != nil {
			slog.Warn("pruning product views failed; will retry", "err", err)
			productViewsPrune.Lock()
			productViewsPrune.last = time.Time{}
			productViewsPrune.Unlock()
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT prune_product_views`); err != nil {
				return fmt.Errorf("prune product views: %w", err)
			}
		}
	}
	return nil
}

// paidOrderStatuses are the orders that count as bought.
const paidOrderStatuses = `('PAID', 'FULFILLED', 'DELIVERED')`

// alikeProductsSQL scores products by content for the product $1 (row p0):
// each shared tag is worth 2, the same shop 1 (COMPLEMENTARY: the same shop
// 2, each shared tag 1). Candidates come from the tags index and the shop's
// products, at most 200 of each.
const alikeProductsSQL = `
	alike AS (
		SELECT c.id AS product_id,
			CASE WHEN $2 = 'COMPLEMENTARY' THEN 1 ELSE 2 END * cardinality(ARRAY(SELECT unnest(c.tags) INTERSECT SELECT unnest(p0.tags)))
			+ CASE WHEN c.shop_id = p0.shop_id THEN CASE WHEN $2 = 'COMPLEMENTARY' THEN 2 ELSE 1 END ELSE 0 END AS score
		FROM p0, LATERAL (
			(SELECT id, tags, shop_id FROM products WHERE tags && p0.tags AND status = 'ACTIVE' AND id <> p0.id ORDER BY id DESC LIMIT 200)
			UNION
			(SELECT id, tags, shop_id FROM products WHERE shop_id = p0.shop_id AND status = 'ACTIVE' AND id <> p0.id ORDER BY id DESC LIMIT 200)
		) c
	)`

// ProductRecommendations returns up to MaxProductRecommendations active
// products to show beside the product with this id (never the product
// itself, never drafts or archived products):
//
//   - RELATED: what the product's most recent viewers (RecommendSampleViewers)
//     also opened, by the number of them who did (product clicks, counted
//     once per viewer per half hour);
//   - COMPLEMENTARY: what was bought with it, in the same order (worth 2)
//     or by its buyers in their other recent orders (worth 1), over its
//     RecommendSampleOrders most recent paid orders.
//
// Either list is filled up from products like it (shared tags, the same
// shop), which is all a new product has. An unknown product gives nil.
func (db *DB) ProductRecommendations(ctx context.Context, productID int64, intent string) ([]*Product, error) {
	if intent != IntentRelated && intent != IntentComplementary {
		return nil, FieldErrorf(EInvalid, "intent", "unknown intent %q", intent)
	}
	var products []*Product
	err := db.SelectContext(ctx, &products, `WITH p0 AS (SELECT id, tags, shop_id FROM products WHERE id = $1),
		viewers AS (
			SELECT viewer_key FROM product_views WHERE product_id = $1 AND $2 = 'RELATED'
			ORDER BY last_at DESC LIMIT `+strconv.Itoa(RecommendSampleViewers)+`
		),
		coviewed AS (
			SELECT o.product_id, count(*)::float8 AS score FROM viewers v
			CROSS JOIN LATERAL (SELECT product_id FROM product_views pv WHERE pv.viewer_key = v.viewer_key
				ORDER BY last_at DESC LIMIT `+strconv.Itoa(RecommendViewsPerViewer)+`) o
			WHERE o.product_id <> $1 GROUP BY o.product_id
		),
		orders_with AS (
			SELECT DISTINCT o.id, o.buyer_id FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE l.product_id = $1 AND $2 = 'COMPLEMENTARY' AND o.status IN `+paidOrderStatuses+`
			ORDER BY o.id DESC LIMIT `+strconv.Itoa(RecommendSampleOrders)+`
		),
		cobought AS (
			SELECT product_id, sum(w)::float8 AS score FROM (
				SELECT DISTINCT ow.buyer_id, l.product_id, 2 AS w FROM orders_with ow JOIN order_lines l ON l.order_id = ow.id
				UNION ALL
				SELECT DISTINCT b.buyer_id, l.product_id, 1 FROM (SELECT DISTINCT buyer_id FROM orders_with) b
				CROSS JOIN LATERAL (SELECT o.id FROM orders o WHERE o.buyer_id = b.buyer_id AND o.status IN `+paidOrderStatuses+`
					AND o.id NOT IN (SELECT id FROM orders_with) ORDER BY o.id DESC LIMIT `+strconv.Itoa(RecommendOrdersPerBuyer)+`) bo
				JOIN order_lines l ON l.order_id = bo.id
			) x WHERE product_id <> $1 GROUP BY product_id
		),`+alikeProductsSQL+`,
		scored AS (
			-- learned signals first (1,000 per co-viewer or co-buyer), then likeness
			SELECT product_id, sum(score) AS score FROM (
				SELECT product_id, 1000 * score AS score FROM coviewed
				UNION ALL SELECT product_id, 1000 * score FROM cobought
				UNION ALL SELECT product_id, score FROM alike
			) s GROUP BY product_id
		)
		SELECT `+productColumns+` FROM scored s JOIN products p ON p.id = s.product_id
		WHERE p.status = 'ACTIVE' AND p.id <> $1
		ORDER BY s.score DESC, p.id DESC LIMIT $3`, productID, intent, MaxProductRecommendations)
	if err != nil {
		return nil, fmt.Errorf("product recommendations: %w", err)
	}
	return products, nil
}

// RecommendedProducts pages through the products recommended to a person
// (viewerID; 0 for anonymous callers). A person's come from their
// RecommendSeeds most recent product views and purchases: what other
// viewers of those products opened (3 per co-viewer), what was bought with
// them (3 per co-buyer), and products sharing their tags or shops (1 per
// tag, 1 for the shop); then popular products. Products they opened or
// bought are left out. Anonymous callers, and people with no signals yet,
// get the popular products: those carded on the best-scoring content (the
// feed's base score), then the newest.
//
// The first page ranks at most MaxViewerRecommendations products and stores
// the ranking as a walk (for that viewer only), so the pages that follow
// neither repeat nor skip a product whatever is viewed or bought meanwhile;
// a product no longer active is left out of them.
func (db *DB) RecommendedProducts(ctx context.Context, viewerID int64, page PageArgs) (Page[*Product], error) {
	const kind = "recommended"
	var rows []*rankedProduct
	var walk walkCursor
	if page.After == "" {
		walk.Walk = newWalkID()
		err := db.SelectContext(ctx, &rows, `WITH
		seeds AS (
			(SELECT product_id FROM product_views WHERE user_id = $1 AND $1 <> 0 ORDER BY last_at DESC LIMIT `+strconv.Itoa(RecommendSeeds)+`)
			UNION
			(SELECT l.product_id FROM orders o JOIN order_lines l ON l.order_id = o.id
			 WHERE o.buyer_id = $1 AND $1 <> 0 AND o.status IN `+paidOrderStatuses+` ORDER BY o.id DESC LIMIT `+strconv.Itoa(RecommendSeeds)+`)
		),
		coviewed AS (
			SELECT o.product_id, 3.0 * count(*) AS score FROM seeds s
			CROSS JOIN LATERAL (SELECT viewer_key FROM product_views pv WHERE pv.product_id = s.product_id
				ORDER BY last_at DESC LIMIT 50) v
			CROSS JOIN LATERAL (SELECT product_id FROM product_views pv WHERE pv.viewer_key = v.viewer_key
				ORDER BY last_at DESC LIMIT 20) o
			GROUP BY o.product_id
		),
		cobought AS (
			SELECT l2.product_id, 3.0 * count(DISTINCT o.buyer_id) AS score FROM seeds s
			CROSS JOIN LATERAL (SELECT l.order_id FROM order_lines l WHERE l.product_id = s.product_id ORDER BY l.id DESC LIMIT 50) lo
			JOIN orders o ON o.id = lo.order_id AND o.status IN `+paidOrderStatuses+`
			JOIN order_lines l2 ON l2.order_id = o.id
			GROUP BY l2.product_id
		),
		alike AS (
			SELECT c.id AS product_id, sum(cardinality(ARRAY(SELECT unnest(c.tags) INTERSECT SELECT unnest(sp.tags)))
				+ CASE WHEN c.shop_id = sp.shop_id THEN 1 ELSE 0 END)::float8 AS score
			FROM seeds s JOIN products sp ON sp.id = s.product_id
			CROSS JOIN LATERAL (SELECT id, tags, shop_id FROM products WHERE tags && sp.tags AND status = 'ACTIVE' ORDER BY id DESC LIMIT 50) c
			GROUP BY c.id
		),
		popular AS (
			SELECT cp.product_id, max(cs.base_score) AS best
			FROM (SELECT content_id, base_score FROM content_scores ORDER BY base_score DESC, content_id DESC LIMIT 300) cs
			JOIN content_products cp ON cp.content_id = cs.content_id
			GROUP BY cp.product_id
		),
		scored AS (
			SELECT product_id, sum(score) AS score, max(best) AS best FROM (
				SELECT product_id, score, NULL::float8 AS best FROM coviewed
				UNION ALL SELECT product_id, score, NULL FROM cobought
				UNION ALL SELECT product_id, score, NULL FROM alike
				UNION ALL SELECT product_id, 0, best FROM popular
				UNION ALL (SELECT id, 0, NULL FROM products WHERE status = 'ACTIVE' ORDER BY id DESC LIMIT `+strconv.Itoa(MaxViewerRecommendations)+`)
			) x GROUP BY product_id
		),
		ranked AS (
			SELECT `+productColumns+`, row_number() OVER (ORDER BY s.score DESC, s.best DESC NULLS LAST, p.id DESC) AS pos
			FROM scored s JOIN products p ON p.id = s.product_id
			WHERE p.status = 'ACTIVE' AND p.id NOT IN (SELECT product_id FROM seeds)
			ORDER BY pos LIMIT `+strconv.Itoa(MaxViewerRecommendations)+`
		),
		walk AS (
			INSERT INTO list_walks (id, viewer_id, kind, ids)
			SELECT $2, $1, '`+kind+`', coalesce(array_agg(id ORDER BY pos), '{}') FROM ranked
		)
		SELECT `+strings.ReplaceAll(productColumns, "p.", "r.")+`, r.pos FROM ranked r ORDER BY r.pos LIMIT $3`,
			viewerID, walk.Walk, page.First+1)
		if err != nil {
			return Page[*Product]{}, fmt.Errorf("recommended products: %w", err)
		}
	} else {
		var err error
		if walk, err = decodeWalkCursor(page.After); err != nil {
			return Page[*Product]{}, err
		}
		err = db.SelectContext(ctx, &rows, `SELECT `+productColumns+`, $2 + r.n AS pos
			FROM list_walks w
			CROSS JOIN LATERAL unnest(w.ids[$2 + 1:]) WITH ORDINALITY AS r(id, n)
			JOIN products p ON p.id = r.id
			WHERE w.id = $1 AND w.viewer_id = $3 AND w.kind = '`+kind+`' AND p.status = 'ACTIVE'
			ORDER BY r.n LIMIT $4`, walk.Walk, walk.Pos, viewerID, page.First+1)
		if err != nil {
			return Page[*Product]{}, fmt.Errorf("recommended products: %w", err)
		}
		if len(rows) == 0 {
			if err := db.missingWalk(ctx, walk, viewerID, kind); err != nil {
				return Page[*Product]{}, err
			}
		}
	}
	pg := newPage(rows, page, func(r *rankedProduct) string {
		return walkCursor{Walk: walk.Walk, Pos: r.Pos}.encode()
	})
	out := Page[*Product]{HasNextPage: pg.HasNextPage, HasPreviousPage: pg.HasPreviousPage}
	for _, e := range pg.Edges {
		out.Edges = append(out.Edges, Edge[*Product]{Cursor: e.Cursor, Node: &e.Node.Product})
	}
	return out, nil
}

// RecommendedCount counts the products of the walk a page of
// RecommendedProducts belongs to that are still active (0 for an empty
// page): the totalCount of its connection.
func (db *DB) RecommendedCount(ctx context.Context, viewerID int64, page Page[*Product]) (int, error) {
	if len(page.Edges) == 0 {
		return 0, nil
	}
	c, err := decodeWalkCursor(page.Edges[0].Cursor)
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM list_walks w CROSS JOIN LATERAL unnest(w.ids) AS r(id)
		JOIN products p ON p.id = r.id
		WHERE w.id = $1 AND w.viewer_id = $2 AND w.kind = 'recommended' AND p.status = 'ACTIVE'`, c.Walk, viewerID); err != nil {
		return 0, fmt.Errorf("count recommended products: %w", err)
	}
	return n, nil
}
