package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"showcase/store"
)

var seedComments = []string{"Need this!", "Just ordered 😍", "Does it ship to Canada?", "The color is perfect",
	"Link please", "Bought two, worth it", "How long does it last?", "Obsessed", "Restock when?", "10/10"}

// history generates HistoryDays of engagement and paid orders for every
// content published by then: daily views, shares, card impressions and
// clicks, likes, comments, and orders from videos, live sessions and product
// cards, from own and affiliate content, some through a campaign.
func (s *seeder) history() error {
	days := s.opts.HistoryDays
	if days <= 0 {
		return nil
	}
	type eventRow struct {
		content                                   int64
		bucket                                    time.Time
		views, watch, shares, impressions, clicks int64
	}
	type productDay struct {
		product int64
		day     int
	}
	var events []eventRow
	productCounts := map[productDay][2]int64{}
	type orderRow struct {
		buyer, shop, creator int64
		source               int64
		variant              seedVariant
		product              int64
		qty                  int64
		paid                 time.Time
		status               string
		campaign             any
		rate                 int
	}
	var orders []orderRow
	start := s.now.AddDate(0, 0, -days).Truncate(24 * time.Hour)
	s.contentViews = map[int64]int64{}
	for _, c := range s.contentInfo {
		cards := s.cards[c.id]
		// Each content has its own rates (see seedFunnel); the carries keep
		// the daily counts' sums at those rates exactly.
		popularity := math.Exp(3.5 + s.rng.Float64()*3) // daily views, skewed: 33 to 665
		impressionRate := 0.6 + s.rng.Float64()*0.3
		ctr := seedCTRMin + s.rng.Float64()*(seedCTRMax-seedCTRMin)
		shareRate := 0.025 + s.rng.Float64()*0.025
		var aov float64 // the cards' mean first-variant price
		for _, p := range cards {
			aov += float64(s.firstVariant[p].price) / float64(len(cards))
		}
		// Dearer cards convert less: aim at a GPM of $8-50, within 1-8%.
		conversion := min(max((800+s.rng.Float64()*4200)/(ctr*aov*1000), seedConversionMin), seedConversionMax)
		var impressionCarry, clickCarry, shareCarry seedCarry
		var orderCarry, budget float64
		var impressionTurn, clickTurn, orderTurn int
		nextQty := func() int64 {
			if s.rng.IntN(10) == 0 {
				return 2
			}
			return 1
		}
		qty := nextQty()
		bucketAt := map[int64]int{} // this content's counter rows by minute (Unix seconds)
		for d := 0; d < days; d++ {
			day := start.AddDate(0, 0, d)
			if day.Add(24 * time.Hour).Before(c.published) {
				continue
			}
			at := day.Add(time.Duration(s.rng.IntN(24*60)) * time.Minute)
			if at.Before(c.published) { // nothing is seen before it is published
				at = c.published.Add(s.now.Sub(c.published) / 2)
			}
			if at.After(s.now) {
				at = s.now.Add(-time.Minute)
			}
			views := int64(popularity*(0.5+s.rng.Float64())) + 1
			impressions := impressionCarry.take(float64(views) * impressionRate)
			clicks := clickCarry.take(float64(views) * ctr)
			s.contentViews[c.id] += views
			e := eventRow{c.id, at.Truncate(time.Minute), views, views * int64(5000+s.rng.IntN(20000)),
				shareCarry.take(float64(views) * shareRate), impressions, clicks}
			// Two days can land in one minute (a day moved after the
			// publication, today's moved before now): one counter row.
			if i, ok := bucketAt[e.bucket.Unix()]; ok {
				prev := &events[i]
				prev.views, prev.watch, prev.shares = prev.views+e.views, prev.watch+e.watch, prev.shares+e.shares
				prev.impressions, prev.clicks = prev.impressions+e.impressions, prev.clicks+e.clicks
			} else {
				bucketAt[e.bucket.Unix()] = len(events)
				events = append(events, e)
			}
			// Cards share the impressions and clicks in turn, so that each
			// card's clicks keep ahead of its orders, which also go in turn.
			for i, n := range seedSplit(impressions, len(cards), &impressionTurn) {
				pc := productCounts[productDay{cards[i], d}]
				pc[0] += n
				productCounts[productDay{cards[i], d}] = pc
			}
			for i, n := range seedSplit(clicks, len(cards), &clickTurn) {
				pc := productCounts[productDay{cards[i], d}]
				pc[1] += n
				productCounts[productDay{cards[i], d}] = pc
			}
			// An order needs a click's worth of conversion and a GPM budget
			// of seedGPMCap per thousand views for its amount.
			orderCarry += float64(clicks) * conversion
			budget += float64(views) * seedGPMCap / 1000
			for orderCarry >= 1 {
				product := cards[orderTurn%len(cards)]
				v, ok := s.firstVariant[product]
				if !ok || budget < float64(v.price*qty) {
					break
				}
				o := orderRow{buyer: int64(1 + s.rng.IntN(s.opts.Users)), shop: s.shopOfProduct[product], source: c.id,
					variant: v, product: product, qty: qty, paid: at, status: store.OrderPaid}
				if o.buyer == c.author { // no self-purchases in the demo
					o.buyer = o.buyer%int64(s.opts.Users) + 1
				}
				if c.author != s.shopOwner[o.shop-1] {
					o.creator, o.rate = c.author, 500+100*int(o.shop%16)
				}
				orders = append(orders, o)
				orderCarry--
				budget -= float64(v.price * qty)
				orderTurn++
				qty = nextQty()
			}
			// Conversion held back by the budget does not pile up.
			orderCarry = min(orderCarry, 0.999)
		}
	}
	// Orders with no content behind them, from the shop page and search:
	// a fifth more, each with the card impressions and clicks that led to it.
	// A shop's GPM counts these orders against its contents' views, so one
	// that would lift the shop over the GPM cap is left out.
	shopOfContent := map[int64]int64{}
	for _, c := range s.contentInfo {
		shopOfContent[c.id] = c.shop
	}
	shopViews, shopGMV := map[int64]int64{}, map[int64]int64{}
	for _, e := range events {
		shopViews[shopOfContent[e.content]] += e.views
	}
	for _, o := range orders {
		shopGMV[o.shop] += o.variant.price * o.qty
	}
	for i := 0; i < len(orders)/5+1 && len(s.allActive) > 0; i++ {
		product := s.allActive[s.rng.IntN(len(s.allActive))]
		v := s.firstVariant[product]
		at := start.Add(time.Duration(s.rng.Int64N(int64(s.now.Sub(start)))))
		shop := s.shopOfProduct[product]
		if (shopGMV[shop]+v.price)*1000 > seedGPMCap*shopViews[shop] {
			continue
		}
		shopGMV[shop] += v.price
		orders = append(orders, orderRow{buyer: int64(1 + s.rng.IntN(s.opts.Users)), shop: s.shopOfProduct[product],
			variant: v, product: product, qty: 1, paid: at, status: store.OrderPaid})
		d := int(at.Sub(start) / (24 * time.Hour))
		clicks := int64(15 + s.rng.IntN(60))
		pc := productCounts[productDay{product, d}]
		pc[0] += clicks * int64(15+s.rng.IntN(35))
		pc[1] += clicks
		productCounts[productDay{product, d}] = pc
	}
	for i := range orders {
		switch r := s.rng.IntN(100); {
		case r < 5:
			orders[i].status = store.OrderCancelled
		case r < 45:
			orders[i].status = store.OrderDelivered
		case r < 65:
			orders[i].status = store.OrderFulfilled
		}
		if s.rng.IntN(10) == 0 {
			orders[i].campaign = "double11"
		}
	}

	if err := s.copyRows("engagement", "content_event_counts", []string{"content_id", "bucket", "views", "watch_ms", "shares",
		"product_impressions", "product_clicks"}, len(events), func(i int) []any {
		e := events[i]
		return []any{e.content, e.bucket, e.views, e.watch, e.shares, e.impressions, e.clicks}
	}); err != nil {
		return err
	}
	productKeys := make([]productDay, 0, len(productCounts))
	for k := range productCounts {
		productKeys = append(productKeys, k)
	}
	if err := s.copyRows("card engagement", "product_event_counts", []string{"product_id", "bucket", "impressions", "clicks"},
		len(productKeys), func(i int) []any {
			k := productKeys[i]
			return []any{k.product, start.AddDate(0, 0, k.day).Add(12 * time.Hour), productCounts[k][0], productCounts[k][1]}
		}); err != nil {
		return err
	}
	if err := s.likesAndComments(days, start); err != nil {
		return err
	}

	address, _ := json.Marshal(store.Address{Name: "Demo Buyer", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", CountryCode: "US"})
	if err := s.copyRows("checkouts", "checkouts", []string{"id", "buyer_id", "idempotency_key", "request_hash", "status", "amount",
		"currency_code", "payment_ref", "created_at", "updated_at"}, len(orders), func(i int) []any {
		o := orders[i]
		return []any{i + 1, o.buyer, fmt.Sprintf("seed-%d", i+1), "seed", "PAID", o.variant.price * o.qty, o.variant.currency,
			fmt.Sprintf("pay_seed_%d", i+1), o.paid, o.paid}
	}); err != nil {
		return err
	}
	if err := s.copyRows("orders", "orders", []string{"id", "checkout_id", "buyer_id", "shop_id", "status", "currency_code",
		"subtotal_amount", "total_amount", "units", "campaign", "source_content_id", "creator_id", "commission_rate_bps",
		"commission_amount", "shipping_address", "created_at", "paid_at", "fulfilled_at", "delivered_at", "cancelled_at"},
		len(orders), func(i int) []any {
			o := orders[i]
			total := o.variant.price * o.qty
			var source, creator, fulfilled, delivered, cancelled any
			if o.source != 0 {
				source = o.source
			}
			if o.creator != 0 {
				creator = o.creator
			}
			switch o.status {
			case store.OrderDelivered:
				fulfilled, delivered = o.paid.Add(20*time.Hour), o.paid.Add(70*time.Hour)
			case store.OrderFulfilled:
				fulfilled = o.paid.Add(20 * time.Hour)
			case store.OrderCancelled:
				cancelled = o.paid.Add(2 * time.Hour)
			}
			return []any{i + 1, i + 1, o.buyer, o.shop, o.status, o.variant.currency, total, total, o.qty, o.campaign, source, creator,
				o.rate, total * int64(o.rate) / 10_000, string(address), o.paid, o.paid, fulfilled, delivered, cancelled}
		}); err != nil {
		return err
	}
	if err := s.copyRows("order lines", "order_lines", []string{"id", "order_id", "variant_id", "product_id", "title", "variant_title",
		"sku", "quantity", "unit_price_amount", "total_amount", "position", "source_content_id", "creator_id",
		"commission_rate_bps", "commission_amount"}, len(orders), func(i int) []any {
		o := orders[i]
		total := o.variant.price * o.qty
		var source, creator any
		if o.source != 0 {
			source = o.source
		}
		if o.creator != 0 {
			creator = o.creator
		}
		return []any{i + 1, i + 1, o.variant.id, o.product, fmt.Sprintf("Product %d", o.product), o.variant.title, o.variant.sku,
			o.qty, o.variant.price, total, 0, source, creator, o.rate, total * int64(o.rate) / 10_000}
	}); err != nil {
		return err
	}
	// Each seeded checkout was paid through the test provider, which
	// remembers the charge, so that cancelling a demo order refunds it.
	if err := s.copyRows("test provider charges", "test_provider_charges", []string{"idempotency_key", "ref", "amount", "currency_code",
		"created_at"}, len(orders), func(i int) []any {
		o := orders[i]
		return []any{fmt.Sprintf("seed-%d", i+1), fmt.Sprintf("pay_seed_%d", i+1), o.variant.price * o.qty, o.variant.currency, o.paid}
	}); err != nil {
		return err
	}
	if err := s.copyRows("payments", "payments", []string{"checkout_id", "provider", "provider_key", "status", "provider_ref", "amount",
		"currency_code", "refunded", "created_at", "updated_at"}, len(orders), func(i int) []any {
		o := orders[i]
		return []any{i + 1, "test", fmt.Sprintf("seed-%d", i+1), "CAPTURED", fmt.Sprintf("pay_seed_%d", i+1), o.variant.price * o.qty,
			o.variant.currency, 0, o.paid, o.paid}
	}); err != nil {
		return err
	}
	s.report.Orders = len(orders)
	// Titles in order lines are as at purchase: take the products' own.
	if _, err := s.tx.ExecContext(s.ctx, `UPDATE order_lines l SET title = p.title FROM products p WHERE p.id = l.product_id`); err != nil {
		return err
	}
	// The popularity counters the feed ranks by agree with the history.
	_, err := s.tx.ExecContext(s.ctx, `UPDATE contents c SET
		view_count = coalesce((SELECT sum(views) FROM content_event_counts e WHERE e.content_id = c.id), 0),
		like_count = (SELECT count(*) FROM content_likes l WHERE l.content_id = c.id)`)
	return err
}

// The demo funnel's rates, per content (see README's demo data): clicks per
// view (CTR), orders per click (conversion) and the most GMV per thousand
// views (GPM, in minor units of the shop's currency).
const (
	seedCTRMin, seedCTRMax               = 0.015, 0.05
	seedConversionMin, seedConversionMax = 0.01, 0.08
	seedGPMCap                           = 10000
)

// seedCarry turns fractional daily counts into whole ones whose running sum
// never falls a whole unit behind the exact one.
type seedCarry float64

func (c *seedCarry) take(x float64) int64 {
	*c += seedCarry(x)
	n := int64(*c)
	*c -= seedCarry(n)
	return n
}

// seedSplit shares total among n cards as evenly as can be, the remainder
// going to the cards in turn from *turn onwards.
func seedSplit(total int64, n int, turn *int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = total / int64(n)
	}
	for r := total % int64(n); r > 0; r-- {
		out[*turn%n]++
		*turn++
	}
	return out
}

func (s *seeder) likesAndComments(days int, start time.Time) error {
	type like struct {
		content, user int64
		at            time.Time
	}
	var likes []like
	type comment struct {
		content, author int64
		body            string
		at              time.Time
	}
	var comments []comment
	for _, c := range s.contentInfo {
		from := start
		if c.published.After(from) {
			from = c.published
		}
		span := s.now.Sub(from)
		if span <= 0 {
			continue
		}
		// At most one like per 20 views, one comment per four likes.
		n := min(s.rng.IntN(min(s.opts.Users, 25)), int(s.contentViews[c.id]/20))
		offset := s.rng.IntN(s.opts.Users)
		for k := 0; k < n; k++ {
			at := from.Add(time.Duration(s.rng.Int64N(int64(span))))
			likes = append(likes, like{c.id, int64((offset+k)%s.opts.Users + 1), at})
			if k%4 == 3 {
				comments = append(comments, comment{c.id, int64((offset+k)%s.opts.Users + 1), s.pick(seedComments), at})
			}
		}
	}
	s.report.Likes, s.report.Comments = len(likes), len(comments)
	if err := s.copyRows("likes", "content_likes", []string{"content_id", "user_id", "created_at"}, len(likes), func(i int) []any {
		return []any{likes[i].content, likes[i].user, likes[i].at}
	}); err != nil {
		return err
	}
	return s.copyRows("comments", "comments", []string{"id", "content_id", "author_id", "body", "created_at"}, len(comments), func(i int) []any {
		c := comments[i]
		return []any{i + 1, c.content, c.author, c.body, c.at}
	})
}
