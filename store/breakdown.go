package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Sales surfaces: where an order was placed.
var Surfaces = []string{"VIDEO", "LIVE", "PRODUCT_CARD"}

// Sales channels, after the four positions of interest commerce: the shop's
// own accounts, affiliate creators, top creators and platform campaigns.
var Channels = []string{"OWN_ACCOUNTS", "AFFILIATES", "TOP_CREATORS", "CAMPAIGNS"}

// DefaultTopCreatorFollowers is the follower count from which an affiliate
// counts as a top creator.
const DefaultTopCreatorFollowers = 1_000_000

// SalesSlice is one part of a shop's sales.
type SalesSlice struct {
	Key       string
	Orders    int64
	UnitsSold int64
	GMVAmount int64
	Currency  string
}

// GMV is the slice's sales value.
func (s *SalesSlice) GMV() Money { return Money{Minor: s.GMVAmount, CurrencyCode: s.Currency} }

// Breakdown splits a shop's paid sales by surface and by channel.
type Breakdown struct {
	BySurface []*SalesSlice
	ByChannel []*SalesSlice
}

// ShopBreakdowns computes breakdowns for shop keys, one statement per window.
// An order is a campaign's when it carries a campaign; else its channel
// follows its creator: none (the shop's own content or pages), an affiliate,
// or a top creator with at least topFollowers followers.
func (db *DB) ShopBreakdowns(ctx context.Context, keys []MetricsKey, topFollowers int64) (map[MetricsKey]*Breakdown, error) {
	byWindow := map[string][]int64{}
	for _, k := range keys {
		byWindow[k.Window] = append(byWindow[k.Window], k.ID)
	}
	now := time.Now()
	out := make(map[MetricsKey]*Breakdown, len(keys))
	for window, ids := range byWindow {
		since, err := WindowStart(window, now)
		if err != nil {
			return nil, err
		}
		var rows []struct {
			ShopID   int64  `db:"shop_id"`
			Currency string `db:"currency_code"`
			Surface  string `db:"surface"`
			Channel  string `db:"channel"`
			Orders   int64  `db:"orders"`
			Units    int64  `db:"units"`
			GMV      int64  `db:"gmv"`
		}
		// Per line: a line counts on the surface and channel it was sold
		// through; an order whose lines came through two counts in both,
		// while units and GMV split exactly. Self-purchases count as the
		// product card surface and the shop's own channel.
		err = db.SelectContext(ctx, &rows, `SELECT s.id AS shop_id, s.currency_code,
				CASE WHEN l.self_purchase THEN 'PRODUCT_CARD' WHEN c.kind = 'VIDEO' THEN 'VIDEO' WHEN c.kind = 'LIVE' THEN 'LIVE'
				     ELSE 'PRODUCT_CARD' END AS surface,
				CASE WHEN o.campaign IS NOT NULL THEN 'CAMPAIGNS'
				     WHEN l.creator_id IS NULL THEN 'OWN_ACCOUNTS'
				     WHEN u.follower_count >= $3 THEN 'TOP_CREATORS'
				     ELSE 'AFFILIATES' END AS channel,
				count(DISTINCT o.id) AS orders, sum(l.quantity) AS units, sum(l.total_amount) AS gmv
			FROM shops s
			JOIN orders o ON o.shop_id = s.id AND o.status IN `+paidStatuses+` AND o.paid_at >= $2
			JOIN order_lines l ON l.order_id = o.id
			LEFT JOIN contents c ON c.id = l.source_content_id
			LEFT JOIN users u ON u.id = l.creator_id
			WHERE s.id = ANY($1)
			GROUP BY 1, 2, 3, 4`, pq.Array(ids), since, topFollowers)
		if err != nil {
			return nil, fmt.Errorf("shop breakdowns: %w", err)
		}
		slices := map[int64]map[string]*SalesSlice{}
		for _, id := range ids {
			slices[id] = map[string]*SalesSlice{}
			for _, k := range append(append([]string{}, Surfaces...), Channels...) {
				slices[id][k] = &SalesSlice{Key: k}
			}
		}
		for _, r := range rows {
			for _, k := range []string{r.Surface, r.Channel} {
				sl := slices[r.ShopID][k]
				sl.Orders, sl.UnitsSold, sl.GMVAmount = sl.Orders+r.Orders, sl.UnitsSold+r.Units, sl.GMVAmount+r.GMV
			}
		}
		var currencies map[int64]string
		if currencies, err = shopCurrencies(ctx, db, ids); err != nil {
			return nil, err
		}
		for _, id := range ids {
			b := &Breakdown{}
			for _, k := range Surfaces {
				slices[id][k].Currency = currencies[id]
				b.BySurface = append(b.BySurface, slices[id][k])
			}
			for _, k := range Channels {
				slices[id][k].Currency = currencies[id]
				b.ByChannel = append(b.ByChannel, slices[id][k])
			}
			out[MetricsKey{SubjectShop, id, window}] = b
		}
	}
	return out, nil
}

func shopCurrencies(ctx context.Context, db *DB, ids []int64) (map[int64]string, error) {
	shops, err := db.ShopsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(shops))
	for id, s := range shops {
		out[id] = s.CurrencyCode
	}
	return out, nil
}
