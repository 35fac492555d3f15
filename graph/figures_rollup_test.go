package graph_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestAllTimeFiguresOnEveryPathThroughTheRollup: a video's, a product's and
// a shop's all-time figures (orders in two currencies paid up to 400 days
// ago, engagement likewise) are the same through node, the type's root
// field, the feed page (contents and their product cards) and the shop
// page: as written (most rows timed before the rollup's boundary, added to
// its totals by the writers' triggers), after a fold that moves every row
// into the totals, and after an old order's refund, an old like's removal
// and an old comment's deletion behind the boundary, which change exactly
// the figures they are part of.
func TestAllTimeFiguresOnEveryPathThroughTheRollup(t *testing.T) {
	a := newTestAPI(t)
	w := a.figuresWorld()
	ctx := context.Background()
	const F = `{ views likes comments shares productImpressions productClicks orders unitsSold gmv { amount currencyCode } gmvByCurrency { amount currencyCode } }`
	read := func(stage string) map[string]figures {
		t.Helper()
		out := map[string]figures{}
		put := func(path, id string, f figures) {
			t.Helper()
			if prev, ok := out[id]; ok && !reflect.DeepEqual(prev, f) {
				t.Fatalf("%s: %s %s\n  %+v\nwhere another path read\n  %+v", stage, path, id, f, prev)
			}
			out[id] = f
		}
		for _, id := range []string{w.ownVideo, w.kolV, w.p1, w.p1b, w.p2, w.usdShop, w.eurShop} {
			var node struct {
				Node struct{ Metrics figures }
			}
			a.ok(w.seller, `query($id: ID!) { node(id: $id) { ... on Video { metrics(window: ALL_TIME) `+F+` }
				... on Product { metrics(window: ALL_TIME) `+F+` } ... on Shop { metrics(window: ALL_TIME) `+F+` } } }`,
				map[string]any{"id": id}, &node)
			put("node", id, node.Node.Metrics)
		}
		for _, id := range []string{w.ownVideo, w.kolV} {
			var v struct{ Video struct{ Metrics figures } }
			a.ok(w.seller, `query($id: ID!) { video(id: $id) { metrics(window: ALL_TIME) `+F+` } }`, map[string]any{"id": id}, &v)
			put("video", id, v.Video.Metrics)
		}
		for _, id := range []string{w.p1, w.p1b, w.p2} {
			var p struct{ Product struct{ Metrics figures } }
			a.ok(w.seller, `query($id: ID!) { product(id: $id) { metrics(window: ALL_TIME) `+F+` } }`, map[string]any{"id": id}, &p)
			put("product", id, p.Product.Metrics)
		}
		for handle, id := range map[string]string{"figs": w.usdShop, "figs-eu": w.eurShop} {
			var s struct {
				Shop struct {
					Metrics  figures
					Products struct {
						Edges []struct {
							Node struct {
								ID      string
								Metrics figures
							}
						}
					}
				}
			}
			a.ok(w.seller, `query($h: String!) { shop(handle: $h) { metrics(window: ALL_TIME) `+F+`
				products(first: 20) { edges { node { id metrics(window: ALL_TIME) `+F+` } } } } }`, map[string]any{"h": handle}, &s)
			put("shop", id, s.Shop.Metrics)
			for _, e := range s.Shop.Products.Edges {
				put("shop's products", e.Node.ID, e.Node.Metrics)
			}
		}
		var feed struct {
			Feed struct {
				Edges []struct {
					Node struct {
						ID       string
						Metrics  figures
						Products struct {
							Edges []struct {
								Node struct {
									ID      string
									Metrics figures
								}
							}
						}
					}
				}
			}
		}
		a.ok(w.seller, `{ feed(first: 20) { edges { node { id metrics(window: ALL_TIME) `+F+`
			products(first: 3) { edges { node { id metrics(window: ALL_TIME) `+F+` } } } } } } }`, nil, &feed)
		seen := 0
		for _, e := range feed.Feed.Edges {
			if e.Node.ID == w.ownVideo || e.Node.ID == w.kolV {
				seen++
			}
			put("feed", e.Node.ID, e.Node.Metrics)
			for _, c := range e.Node.Products.Edges {
				put("feed card", c.Node.ID, c.Node.Metrics)
			}
		}
		if seen != 2 {
			t.Fatalf("%s: the feed lists %d of the two videos: %+v", stage, seen, feed)
		}
		return out
	}

	written := read("as written")
	if f, err := a.db.FoldFigures(ctx, time.Now().Add(48*time.Hour)); err != nil || !f.Folded {
		t.Fatalf("fold: %+v %v", f, err)
	}
	folded := read("after folding every row")
	if !reflect.DeepEqual(written, folded) {
		t.Fatalf("figures changed by a fold:\n  %+v\n  %+v", written, folded)
	}

	// Behind the boundary: the 400-day-old order (one unit of fig-b at 3.50
	// from the seller's video) is refunded, a 400-day-old like and comment
	// of that video go.
	for _, stmt := range []string{
		`UPDATE orders SET status = 'REFUNDED' WHERE id = ` + fmt.Sprint(mustID(t, w.orders["old"])),
		`DELETE FROM content_likes WHERE (content_id, user_id) IN (SELECT content_id, user_id FROM content_likes
			WHERE content_id = ` + fmt.Sprint(mustID(t, w.ownVideo)) + ` AND created_at < now() - interval '399 days' LIMIT 1)`,
		`DELETE FROM comments WHERE id IN (SELECT id FROM comments
			WHERE content_id = ` + fmt.Sprint(mustID(t, w.ownVideo)) + ` AND created_at < now() - interval '399 days' LIMIT 1)`,
	} {
		if res, err := a.db.Exec(stmt); err != nil {
			t.Fatal(err)
		} else if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%s: %d rows", stmt, n)
		}
	}
	after := read("after late changes")
	want := map[string]figures{}
	for id, f := range folded {
		want[id] = f
	}
	less := func(id string, likes, comments, orders, units, gmv int) {
		f := want[id]
		f.Likes, f.Comments, f.Orders, f.UnitsSold = f.Likes-likes, f.Comments-comments, f.Orders-orders, f.UnitsSold-units
		f.Gmv.Amount = fmt.Sprintf("%.2f", float64(minor(t, f.Gmv.Amount)-gmv)/100)
		f.GmvByCurrency = append(f.GmvByCurrency[:0:0], f.GmvByCurrency...)
		f.GmvByCurrency[0].Amount = f.Gmv.Amount
		want[id] = f
	}
	less(w.ownVideo, 1, 1, 1, 1, 350)
	less(w.p1b, 0, 0, 1, 1, 350)
	less(w.usdShop, 1, 1, 1, 1, 350)
	for id := range want {
		if !reflect.DeepEqual(after[id], want[id]) {
			t.Fatalf("after late changes, %s:\n got %+v\nwant %+v", id, after[id], want[id])
		}
	}
}
