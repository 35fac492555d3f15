package store

import (
	"context"
	"fmt"
	"sort"
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

// SalesSlice is one part of a shop's sales. Orders counts the orders with
// at least one line in the slice (an order whose lines went through two
// slices counts in both); units and GMV are the slice's lines' own, so the
// slices' units and GMV add up exactly to the shop's.
type SalesSlice struct {
	Key       string
	Orders    int64
	UnitsSold int64
	// GMVAmount is in Currency, the shop's; OtherGMV holds any sales in
	// other currencies, which cannot be added to it.
	GMVAmount int64
	Currency  string
	OtherGMV  []Money
}

// GMV is the slice's sales value in the shop's currency.
func (s *SalesSlice) GMV() Money { return Money{Minor: s.GMVAmount, CurrencyCode: s.Currency} }

// GMVByCurrency is the slice's sales value in every currency it was paid
// in: the shop's first (also when zero), then the others by code.
func (s *SalesSlice) GMVByCurrency() []Money { return append([]Money{s.GMV()}, s.OtherGMV...) }

// add counts a group of lines in the slice.
func (s *SalesSlice) add(orders, units, gmv int64, currency string) {
	s.Orders, s.UnitsSold = s.Orders+orders, s.UnitsSold+units
	if currency == s.Currency {
		s.GMVAmount += gmv
		return
	}
	for i := range s.OtherGMV {
		if s.OtherGMV[i].CurrencyCode == currency {
			s.OtherGMV[i].Minor += gmv
			return
		}
	}
	s.OtherGMV = append(s.OtherGMV, Money{Minor: gmv, CurrencyCode: currency})
	sort.Slice(s.OtherGMV, func(i, j int) bool { return s.OtherGMV[i].CurrencyCode < s.OtherGMV[j].CurrencyCode })
}

// Breakdown splits a shop's paid sales by surface and by channel.
type Breakdown struct {
	BySurface []*SalesSlice
	ByChannel []*SalesSlice
}

// ShopBreakdowns computes breakdowns for shop keys as of now (the moment
// the shop's own figures are computed as of), one statement per window.
// A line is a campaign's when the checkout credited it to a campaign (an
// enrolled variant bought at its campaign price while the campaign ran);
// else its channel follows its creator: none (the shop's own content or pages), an affiliate,
// or a top creator with at least topFollowers followers.
func (db *DB) ShopBreakdowns(ctx context.Context, now time.Time, keys []MetricsKey, topFollowers int64) (map[MetricsKey]*Breakdown, error) {
	byWindow := map[string][]int64{}
	for _, k := range keys {
		byWindow[k.Window] = append(byWindow[k.Window], k.ID)
	}
	out := make(map[MetricsKey]*Breakdown, len(keys))
	for window, ids := range byWindow {
		since, err := WindowStart(window, now)
		if err != nil {
			return nil, err
		}
		var rows []struct {
			ShopID  int64   `db:"shop_id"`
			Sales   string  `db:"sales_currency"`
			Surface *string `db:"surface"`
			Channel *string `db:"channel"`
			Orders  int64   `db:"orders"`
			Units   int64   `db:"units"`
			GMV     int64   `db:"gmv"`
		}
		// Per line: a line counts on the surface and channel it was sold
		// through; an order whose lines came through two counts once in
		// each, while units and GMV split exactly. Self-purchases count as
		// the product card surface and the shop's own channel. Surfaces
		// and channels are grouped apart (grouping sets), so an order is
		// counted once per slice however its lines spread over the other
		// dimension.
		err = db.SelectContext(ctx, &rows, `SELECT shop_id, sales_currency, surface, channel,
				count(DISTINCT order_id) AS orders, sum(quantity) AS units, sum(total_amount) AS gmv
			FROM (SELECT o.shop_id, o.currency_code AS sales_currency, o.id AS order_id, l.quantity, l.total_amount,
				CASE WHEN l.self_purchase THEN 'PRODUCT_CARD' WHEN c.kind = 'VIDEO' THEN 'VIDEO' WHEN c.kind = 'LIVE' THEN 'LIVE'
				     ELSE 'PRODUCT_CARD' END AS surface,
				CASE WHEN l.campaign_id IS NOT NULL THEN 'CAMPAIGNS'
				     WHEN l.creator_id IS NULL THEN 'OWN_ACCOUNTS'
				     WHEN u.follower_count >= $3 THEN 'TOP_CREATORS'
				     ELSE 'AFFILIATES' END AS channel
				FROM orders o
				JOIN order_lines l ON l.order_id = o.id
				LEFT JOIN contents c ON c.id = l.source_content_id
				LEFT JOIN users u ON u.id = l.creator_id
				WHERE o.shop_id = ANY($1) AND o.status IN `+paidStatuses+` AND o.paid_at >= $2) x
			GROUP BY GROUPING SETS ((shop_id, sales_currency, surface), (shop_id, sales_currency, channel))`,
			pq.Array(ids), since, topFollowers)
		if err != nil {
			return nil, fmt.Errorf("shop breakdowns: %w", err)
		}
		var currencies map[int64]string
		if currencies, err = shopCurrencies(ctx, db, ids); err != nil {
			return nil, err
		}
		slices := map[int64]map[string]*SalesSlice{}
		for _, id := range ids {
			slices[id] = map[string]*SalesSlice{}
			for _, k := range append(append([]string{}, Surfaces...), Channels...) {
				slices[id][k] = &SalesSlice{Key: k, Currency: currencies[id]}
			}
		}
		for _, r := range rows {
			k := r.Surface
			if k == nil {
				k = r.Channel
			}
			slices[r.ShopID][*k].add(r.Orders, r.Units, r.GMV, r.Sales)
		}
		for _, id := range ids {
			b := &Breakdown{}
			for _, k := range Surfaces {
				b.BySurface = append(b.BySurface, slices[id][k])
			}
			for _, k := range Channels {
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
