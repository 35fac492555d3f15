package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Metrics windows.
const (
	WindowLastHour    = "LAST_HOUR"
	WindowLast24Hours = "LAST_24_HOURS"
	WindowLast7Days   = "LAST_7_DAYS"
	WindowLast30Days  = "LAST_30_DAYS"
	WindowAllTime     = "ALL_TIME"
)

// WindowStart returns when a window begins, relative to now.
func WindowStart(window string, now time.Time) (time.Time, error) {
	switch window {
	case WindowLastHour:
		return now.Add(-time.Hour), nil
	case WindowLast24Hours:
		return now.Add(-24 * time.Hour), nil
	case WindowLast7Days:
		return now.AddDate(0, 0, -7), nil
	case WindowLast30Days:
		return now.AddDate(0, 0, -30), nil
	case WindowAllTime:
		return time.Unix(0, 0).UTC(), nil
	}
	return time.Time{}, Errorf(EInvalid, "unknown metrics window %q", window)
}

// Subjects of metrics.
const (
	SubjectContent = "content"
	SubjectProduct = "product"
	SubjectShop    = "shop"
)

// MetricsKey asks for one subject's figures over a window.
type MetricsKey struct {
	Subject string
	ID      int64
	Window  string
}

// Metrics are the engagement and conversion figures of a video, live
// session, product or shop over a window. Orders, units and GMV count paid
// orders attributed to the subject that were not cancelled or refunded.
type Metrics struct {
	Subject            string
	SubjectID          int64
	Window             string
	Views              int64
	Likes              int64
	Comments           int64
	Shares             int64
	ProductImpressions int64
	ProductClicks      int64
	Orders             int64
	UnitsSold          int64
	// GMVAmount is the GMV in CurrencyCode, the subject's currency (its
	// shop's; USD for content without a shop).
	GMVAmount    int64
	CurrencyCode string
	// OtherGMV is the GMV paid in other currencies, by currency code: it
	// cannot be added to GMVAmount, and is not dropped either.
	OtherGMV []Money
	// Commercial is whether the viewer may see the commercial figures.
	Commercial bool
}

// ratio is a fraction, 0 when the denominator is 0.
func ratio(num, den int64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// EngagementRate is (likes + comments + shares) / views.
func (m *Metrics) EngagementRate() float64 { return ratio(m.Likes+m.Comments+m.Shares, m.Views) }

// ClickThroughRate is productClicks / views.
func (m *Metrics) ClickThroughRate() float64 { return ratio(m.ProductClicks, m.Views) }

// ConversionRate is orders / productClicks.
func (m *Metrics) ConversionRate() float64 { return ratio(m.Orders, m.ProductClicks) }

// GMV is the value of the attributed paid orders in the subject's currency.
func (m *Metrics) GMV() Money { return Money{Minor: m.GMVAmount, CurrencyCode: m.CurrencyCode} }

// GMVByCurrency is the GMV in every currency it was paid in: the subject's
// currency first (also when zero), then the others by currency code.
func (m *Metrics) GMVByCurrency() []Money { return append([]Money{m.GMV()}, m.OtherGMV...) }

// GPM is GMV per thousand views, rounded to the nearest minor unit.
func (m *Metrics) GPM() Money {
	if m.Views == 0 {
		return Money{CurrencyCode: m.CurrencyCode}
	}
	return Money{Minor: int64(math.Round(float64(m.GMVAmount) * 1000 / float64(m.Views))), CurrencyCode: m.CurrencyCode}
}

// paidStatuses are the order statuses that count as sales.
const paidStatuses = `('PAID', 'FULFILLED', 'DELIVERED')`

// salesColumns are a metrics row's sales, from a lateral "o" grouped by
// currency: a subject with sales in two currencies has two rows per range,
// which metricsRows merges (an order has one currency, so orders and units
// add up exactly; GMV is kept per currency).
const salesColumns = `coalesce(o.currency_code, '') AS sales_currency, coalesce(o.n, 0) AS orders,
			coalesce(o.units, 0) AS units, coalesce(o.gmv, 0) AS gmv`

// metricsTemplates compute every figure for a list of ids ($1) over time
// ranges, one statement per subject kind. Sales are counted from order
// lines, so that a shop's figures are the sum of its products', and of its
// breakdown's slices. The ranges are spelt by placeholders that
// metricsQueries and windowQueries fill in: {RANGES} joins the ranges to
// the ids, {POINT} numbers them (from 1), {FROM} and {TO} bound each one,
// [{FROM}, {TO}).
var metricsTemplates = map[string]string{
	SubjectContent: `SELECT i.id, {POINT}, coalesce(s.currency_code, 'USD') AS currency_code,
			coalesce(e.views, 0) AS views, coalesce(e.shares, 0) AS shares,
			coalesce(e.impressions, 0) AS impressions, coalesce(e.clicks, 0) AS clicks,
			l.n AS likes, cm.n AS comments, ` + salesColumns + `
		FROM unnest($1::bigint[]) AS i(id)
		{RANGES}
		JOIN contents c ON c.id = i.id
		LEFT JOIN shops s ON s.id = c.shop_id
		LEFT JOIN LATERAL (SELECT sum(views) AS views, sum(shares) AS shares, sum(product_impressions) AS impressions,
			sum(product_clicks) AS clicks FROM content_event_counts WHERE content_id = i.id AND bucket >= {FROM} AND bucket < {TO}) e ON true
		LEFT JOIN LATERAL (SELECT count(*) AS n FROM content_likes WHERE content_id = i.id AND created_at >= {FROM} AND created_at < {TO}) l ON true
		LEFT JOIN LATERAL (SELECT count(*) AS n FROM comments WHERE content_id = i.id AND created_at >= {FROM} AND created_at < {TO}) cm ON true
		LEFT JOIN LATERAL (SELECT o.currency_code, count(DISTINCT o.id) AS n, sum(l.quantity) AS units, sum(l.total_amount) AS gmv
			FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE l.source_content_id = i.id AND NOT l.self_purchase AND o.status IN ` + paidStatuses + `
			  AND o.paid_at >= {FROM} AND o.paid_at < {TO}
			GROUP BY o.currency_code) o ON true`,
	// A product's views are its card impressions.
	SubjectProduct: `SELECT i.id, {POINT}, s.currency_code, coalesce(e.impressions, 0) AS views, 0 AS shares,
			coalesce(e.impressions, 0) AS impressions, coalesce(e.clicks, 0) AS clicks, 0 AS likes, 0 AS comments,
			` + salesColumns + `
		FROM unnest($1::bigint[]) AS i(id)
		{RANGES}
		JOIN products p ON p.id = i.id JOIN shops s ON s.id = p.shop_id
		LEFT JOIN LATERAL (SELECT sum(impressions) AS impressions, sum(clicks) AS clicks
			FROM product_event_counts WHERE product_id = i.id AND bucket >= {FROM} AND bucket < {TO}) e ON true
		LEFT JOIN LATERAL (SELECT o.currency_code, count(DISTINCT l.order_id) AS n, sum(l.quantity) AS units, sum(l.total_amount) AS gmv
			FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE l.product_id = i.id AND o.status IN ` + paidStatuses + ` AND o.paid_at >= {FROM} AND o.paid_at < {TO}
			GROUP BY o.currency_code) o ON true`,
	// A shop's engagement is that of its content; its sales are all its orders.
	SubjectShop: `SELECT i.id, {POINT}, s.currency_code, coalesce(e.views, 0) AS views, coalesce(e.shares, 0) AS shares,
			coalesce(e.impressions, 0) AS impressions, coalesce(e.clicks, 0) AS clicks,
			l.n AS likes, cm.n AS comments, ` + salesColumns + `
		FROM unnest($1::bigint[]) AS i(id)
		{RANGES}
		JOIN shops s ON s.id = i.id
		LEFT JOIN LATERAL (SELECT sum(m.views) AS views, sum(m.shares) AS shares, sum(m.product_impressions) AS impressions,
			sum(m.product_clicks) AS clicks FROM content_event_counts m JOIN contents c ON c.id = m.content_id
			WHERE c.shop_id = i.id AND m.bucket >= {FROM} AND bucket < {TO}) e ON true
		LEFT JOIN LATERAL (SELECT count(*) AS n FROM content_likes k JOIN contents c ON c.id = k.content_id
			WHERE c.shop_id = i.id AND k.created_at >= {FROM} AND k.created_at < {TO}) l ON true
		LEFT JOIN LATERAL (SELECT count(*) AS n FROM comments k JOIN contents c ON c.id = k.content_id
			WHERE c.shop_id = i.id AND k.created_at >= {FROM} AND k.created_at < {TO}) cm ON true
		LEFT JOIN LATERAL (SELECT o.currency_code, count(DISTINCT o.id) AS n, sum(l.quantity) AS units, sum(l.total_amount) AS gmv
			FROM orders o JOIN order_lines l ON l.order_id = o.id
			WHERE o.shop_id = i.id AND o.status IN ` + paidStatuses + ` AND o.paid_at >= {FROM} AND o.paid_at < {TO}
			GROUP BY o.currency_code) o ON true`,
}

// metricsQueries are metricsTemplates over each of the ranges [$2[k],
// $3[k]) (charts: one result per id and range).
var metricsQueries = fillMetricsTemplates(strings.NewReplacer(
	"{RANGES}", "CROSS JOIN unnest($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS pts(from_ts, to_ts, n)",
	"{POINT}", "pts.n", "{FROM}", "pts.from_ts", "{TO}", "pts.to_ts"))

// windowQueries are metricsTemplates over the one range [$2, $3) (a
// window's figures: one result per id), for contents and products. The same
// figures as metricsQueries with one range, in a shape PostgreSQL plans
// once per connection: after a kept statement's fifth execution it reuses a
// generic plan when that plan is estimated no dearer than the ones made for
// the given values. With the ranges as an array the generic plan is
// estimated for ten ranges, never the cheaper one, so every execution was
// planned again (about as long as it ran, and the feed reads its page's
// figures on every request). Each id is one index lookup per counted table
// whatever the range, so one plan suits every window. Shops stay on
// metricsQueries: their counts join a shop's contents, where the best plan
// depends on the window.
var windowQueries = func() map[string]string {
	all := fillMetricsTemplates(strings.NewReplacer("{RANGES}", "", "{POINT}", "1 AS n", "{FROM}", "$2", "{TO}", "$3"))
	delete(all, SubjectShop)
	return all
}()

func fillMetricsTemplates(r *strings.Replacer) map[string]string {
	out := make(map[string]string, len(metricsTemplates))
	for subject, t := range metricsTemplates {
		out[subject] = r.Replace(t)
	}
	return out
}

// metricsRow is one subject's figures over one time range.
type metricsRow struct {
	ID            int64  `db:"id"`
	Point         int    `db:"n"`
	Currency      string `db:"currency_code"`
	Views         int64  `db:"views"`
	Shares        int64  `db:"shares"`
	Impressions   int64  `db:"impressions"`
	Clicks        int64  `db:"clicks"`
	Likes         int64  `db:"likes"`
	Comments      int64  `db:"comments"`
	SalesCurrency string `db:"sales_currency"`
	Orders        int64  `db:"orders"`
	Units         int64  `db:"units"`
	GMV           int64  `db:"gmv"`
}

// metricsRange is one subject's figures over one range, its sales in every
// currency merged.
type metricsRange struct {
	ID    int64
	Point int
	m     Metrics
}

func (r *metricsRange) metrics(subject, window string) *Metrics {
	m := r.m
	m.Subject, m.SubjectID, m.Window = subject, r.ID, window
	return &m
}

// allTimeQueries are the all-time figures of contents and products ($1:
// their ids), read from the rollup (migration 0031): the running totals of
// everything timed before figures_rollup.closed_until, plus the raw rows
// (per-minute buckets, likes, comments, counted orders' sales rows) from
// that boundary on, which is at most a little over an hour behind now
// (FoldFigures). A read's rows are therefore bounded by the subject's
// recent activity, not its history. The figures are exactly the ones
// windowQueries gives over [epoch, end of time) (sums of integers; a sales
// currency is listed when it has an order), except that nothing timed
// before 1970 is left out. One snapshot reads the totals, the boundary and
// the raw rows, which the fold and the writers' triggers keep consistent.
var allTimeQueries = map[string]string{
	SubjectContent: `SELECT i.id, 1 AS n, coalesce(s.currency_code, 'USD') AS currency_code,
			coalesce(t.views, 0) + coalesce(e.views, 0) AS views, coalesce(t.shares, 0) + coalesce(e.shares, 0) AS shares,
			coalesce(t.impressions, 0) + coalesce(e.impressions, 0) AS impressions, coalesce(t.clicks, 0) + coalesce(e.clicks, 0) AS clicks,
			coalesce(t.likes, 0) + l.n AS likes, coalesce(t.comments, 0) + cm.n AS comments, ` + salesColumns + `
		FROM unnest($1::bigint[]) AS i(id)
		CROSS JOIN figures_rollup r
		JOIN contents c ON c.id = i.id
		LEFT JOIN shops s ON s.id = c.shop_id
		LEFT JOIN content_figure_totals t ON t.content_id = i.id
		LEFT JOIN LATERAL (SELECT sum(views) AS views, sum(shares) AS shares, sum(product_impressions) AS impressions,
			sum(product_clicks) AS clicks FROM content_event_counts WHERE content_id = i.id AND bucket >= r.closed_until) e ON true
		LEFT JOIN LATERAL (SELECT count(*) AS n FROM content_likes WHERE content_id = i.id AND created_at >= r.closed_until) l ON true
		LEFT JOIN LATERAL (SELECT count(*) AS n FROM comments WHERE content_id = i.id AND created_at >= r.closed_until) cm ON true
		LEFT JOIN LATERAL (SELECT x.currency_code, sum(x.n) AS n, sum(x.units) AS units, sum(x.gmv) AS gmv FROM (
				SELECT currency_code, orders AS n, units, gmv FROM content_sales_totals WHERE content_id = i.id
				UNION ALL SELECT currency_code, 1, units, gmv FROM content_sales WHERE content_id = i.id AND paid_at >= r.closed_until) x
			GROUP BY x.currency_code HAVING sum(x.n) > 0) o ON true`,
	SubjectProduct: `SELECT i.id, 1 AS n, s.currency_code, coalesce(t.impressions, 0) + coalesce(e.impressions, 0) AS views, 0 AS shares,
			coalesce(t.impressions, 0) + coalesce(e.impressions, 0) AS impressions, coalesce(t.clicks, 0) + coalesce(e.clicks, 0) AS clicks,
			0 AS likes, 0 AS comments, ` + salesColumns + `
		FROM unnest($1::bigint[]) AS i(id)
		CROSS JOIN figures_rollup r
		JOIN products p ON p.id = i.id JOIN shops s ON s.id = p.shop_id
		LEFT JOIN product_figure_totals t ON t.product_id = i.id
		LEFT JOIN LATERAL (SELECT sum(impressions) AS impressions, sum(clicks) AS clicks
			FROM product_event_counts WHERE product_id = i.id AND bucket >= r.closed_until) e ON true
		LEFT JOIN LATERAL (SELECT x.currency_code, sum(x.n) AS n, sum(x.units) AS units, sum(x.gmv) AS gmv FROM (
				SELECT currency_code, orders AS n, units, gmv FROM product_sales_totals WHERE product_id = i.id
				UNION ALL SELECT currency_code, 1, units, gmv FROM product_sales WHERE product_id = i.id AND paid_at >= r.closed_until) x
			GROUP BY x.currency_code HAVING sum(x.n) > 0) o ON true`,
}

// metricsRows computes figures for ids over each [from, to) range in one
// statement, one result per id and range, ordered by id then range.
// All-time figures of contents and products (one range from WindowStart's
// epoch to endOfTime) are read through the rollup (allTimeQueries).
func (db *DB) metricsRows(ctx context.Context, subject string, ids []int64, from, to []time.Time) ([]metricsRange, error) {
	if query, ok := allTimeQueries[subject]; ok && len(from) == 1 && from[0].Equal(time.Unix(0, 0)) && to[0].Equal(endOfTime) {
		return db.selectMetrics(ctx, subject, query, pq.Array(ids))
	}
	if query, ok := windowQueries[subject]; ok && len(from) == 1 {
		return db.selectMetrics(ctx, subject, query, pq.Array(ids), from[0], to[0])
	}
	query, ok := metricsQueries[subject]
	if !ok {
		return nil, fmt.Errorf("metrics: unknown subject %q", subject)
	}
	return db.selectMetrics(ctx, subject, query, pq.Array(ids), pq.Array(from), pq.Array(to))
}

// selectMetrics runs one of metricsQueries or windowQueries and merges
// each subject's sales in every currency into one result per range.
func (db *DB) selectMetrics(ctx context.Context, subject, query string, args ...any) ([]metricsRange, error) {
	var rows []metricsRow
	if err := db.SelectContext(ctx, &rows, query+` ORDER BY 1, 2, sales_currency`, args...); err != nil {
		return nil, fmt.Errorf("%s metrics: %w", subject, err)
	}
	var out []metricsRange
	for i := range rows {
		r := &rows[i]
		if n := len(out); n == 0 || out[n-1].ID != r.ID || out[n-1].Point != r.Point {
			out = append(out, metricsRange{ID: r.ID, Point: r.Point, m: Metrics{
				Views: r.Views, Likes: r.Likes, Comments: r.Comments, Shares: r.Shares,
				ProductImpressions: r.Impressions, ProductClicks: r.Clicks, CurrencyCode: r.Currency,
			}})
		}
		m := &out[len(out)-1].m
		m.Orders += r.Orders
		m.UnitsSold += r.Units
		switch r.SalesCurrency {
		case "", m.CurrencyCode:
			m.GMVAmount += r.GMV
		default:
			m.OtherGMV = append(m.OtherGMV, Money{Minor: r.GMV, CurrencyCode: r.SalesCurrency})
		}
	}
	return out, nil
}

// endOfTime closes ranges that run up to now, so events flushed a moment
// after the query was built still count.
var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// MetricsFor loads figures for many keys as of now (one moment per request,
// so that a window's figures and its chart's points agree), one statement
// per subject kind and window present among them.
func (db *DB) MetricsFor(ctx context.Context, now time.Time, keys []MetricsKey) (map[MetricsKey]*Metrics, error) {
	type group struct{ subject, window string }
	groups := map[group][]int64{}
	for _, k := range keys {
		g := group{k.Subject, k.Window}
		groups[g] = append(groups[g], k.ID)
	}
	out := make(map[MetricsKey]*Metrics, len(keys))
	for g, ids := range groups {
		since, err := WindowStart(g.window, now)
		if err != nil {
			return nil, err
		}
		rows, err := db.metricsRows(ctx, g.subject, ids, []time.Time{since}, []time.Time{endOfTime})
		if err != nil {
			return nil, err
		}
		for i := range rows {
			out[MetricsKey{g.subject, rows[i].ID, g.window}] = rows[i].metrics(g.subject, g.window)
		}
	}
	return out, nil
}

// Series granularities.
const (
	GranularityHour = "HOUR"
	GranularityDay  = "DAY"
)

// maxSeriesPoints bounds a chart.
const maxSeriesPoints = 800

// SeriesKey asks for one subject's figures per hour or day over a window.
type SeriesKey struct {
	MetricsKey
	Granularity string
}

// MetricsPoint is the figures of one hour or day.
type MetricsPoint struct {
	At      time.Time
	Metrics *Metrics
}

// seriesRanges splits a window into hours or days, oldest first: at is
// each point's label (the start of its hour or day), [from, to) what it
// counts. The ranges partition the window exactly, so the points add up to
// the window's figures: the first counts from the window's start (for
// ALL_TIME, whose chart shows the last 365 days, everything before them
// too), the last up to now and anything flushed after.
func seriesRanges(window, granularity string, now time.Time) (at, from, to []time.Time, err error) {
	step := time.Hour
	if granularity == GranularityDay {
		step = 24 * time.Hour
	} else if granularity != GranularityHour {
		return nil, nil, nil, Errorf(EInvalid, "unknown granularity %q", granularity)
	}
	start, err := WindowStart(window, now)
	if err != nil {
		return nil, nil, nil, err
	}
	chartStart := start
	if window == WindowAllTime {
		chartStart = now.AddDate(0, 0, -365)
	}
	end := now.Truncate(step).Add(step)
	t := chartStart.Truncate(step)
	if int(end.Sub(t)/step) > maxSeriesPoints {
		return nil, nil, nil, Errorf(EInvalid, "too many points: use DAY granularity or a shorter window")
	}
	for ; t.Before(end); t = t.Add(step) {
		at, from, to = append(at, t), append(from, t), append(to, t.Add(step))
	}
	from[0] = start
	to[len(to)-1] = endOfTime
	return at, from, to, nil
}

// MetricsSeries loads charts for many keys as of now, one statement per
// subject kind, window and granularity.
func (db *DB) MetricsSeries(ctx context.Context, now time.Time, keys []SeriesKey) (map[SeriesKey][]MetricsPoint, error) {
	type group struct{ subject, window, granularity string }
	groups := map[group][]int64{}
	for _, k := range keys {
		g := group{k.Subject, k.Window, k.Granularity}
		groups[g] = append(groups[g], k.ID)
	}
	out := make(map[SeriesKey][]MetricsPoint, len(keys))
	for g, ids := range groups {
		at, from, to, err := seriesRanges(g.window, g.granularity, now)
		if err != nil {
			return nil, err
		}
		rows, err := db.metricsRows(ctx, g.subject, ids, from, to)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			k := SeriesKey{MetricsKey{g.subject, rows[i].ID, g.window}, g.granularity}
			out[k] = append(out[k], MetricsPoint{At: at[rows[i].Point-1], Metrics: rows[i].metrics(g.subject, g.window)})
		}
	}
	return out, nil
}
