package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lib/pq"
)

// DefaultFiguresTTL is how long a feed page's figures are shared between
// requests (FIGURES_CACHE_TTL): the flush interval, the lag engagement
// events already have.
const DefaultFiguresTTL = time.Second

// FiguresChannel is the PostgreSQL notification channel on which API
// processes tell each other whose figures a caller changed directly (a
// like, an unlike, a comment), so that each forgets what its FiguresCache
// keeps of them.
const FiguresChannel = "showcase_figures"

// maxCachedFigures bounds a FiguresCache (a feed page is 20 figures; the
// pages read within a TTL hold a few thousand contents); past it, figures
// older than the TTL are dropped, and if that is not enough the cache
// starts over.
const maxCachedFigures = 50_000

// metricsWindows are every window a content's figures are kept for.
var metricsWindows = []string{WindowLastHour, WindowLast24Hours, WindowLast7Days, WindowLast30Days, WindowAllTime}

// FiguresCache shares contents' figures between requests for a TTL, so a
// feed page read by many viewers costs its figures statement once per TTL
// instead of once per request. An entry is as old as the statement that
// computed it, from when it began. What a caller writes directly (likes,
// comments) is forgotten at once in the process it went through (Forget,
// before the mutation answers) and in every other one when the
// notification arrives (AnnounceFigures, Listen); the rest (views, shares,
// impressions and clicks, which the event buffer flushes every second,
// and other people's likes and comments) shows within the TTL. A nil
// *FiguresCache keeps nothing: every read runs the statement.
type FiguresCache struct {
	ttl time.Duration

	// forgetting holds the lock entries is read and written under.
	forgetting
	entries map[MetricsKey]cachedFigures
}

type cachedFigures struct {
	m  *Metrics
	at time.Time // when the statement that computed m began
}

// NewFiguresCache returns a cache keeping figures for ttl, or nil (nothing
// kept) when ttl is 0 or less.
func NewFiguresCache(ttl time.Duration) *FiguresCache {
	if ttl <= 0 {
		return nil
	}
	c := &FiguresCache{ttl: ttl}
	c.init(func() { c.entries = map[MetricsKey]cachedFigures{} })
	return c
}

// MetricsFor is db.MetricsFor for contents' public figures (views, likes,
// comments, shares and what derives from them, such as the engagement
// rate), served from figures computed less than the TTL ago where the cache
// has them; the others are read in one statement per window, as of now,
// and kept. Contents' ALL_TIME figures are read without their sales
// (publicAllTimeFigures: fewer index probes a content), so their orders,
// units, GMV and currency are zero: callers serve only the public figures
// from it (graph: asksPublicFiguresOnly). Keys of other subjects are read,
// not kept. The figures returned are shared: callers copy before changing
// them.
func (c *FiguresCache) MetricsFor(ctx context.Context, db *DB, now time.Time, keys []MetricsKey) (map[MetricsKey]*Metrics, error) {
	if c == nil {
		return db.MetricsFor(ctx, now, keys)
	}
	out := make(map[MetricsKey]*Metrics, len(keys))
	var missing []MetricsKey
	began := c.now()
	c.mu.Lock()
	for _, k := range keys {
		if e, ok := c.entries[k]; ok && k.Subject == SubjectContent && began.Sub(e.at) < c.ttl {
			out[k] = e.m
			continue
		}
		missing = append(missing, k)
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	read, err := db.publicFiguresFor(ctx, now, missing)
	if err != nil {
		return nil, err
	}
	for k, m := range read {
		out[k] = m
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.keepableLocked(began) {
		return out, nil // not listening, or everything forgotten while the statement ran
	}
	if len(c.entries)+len(read) > maxCachedFigures {
		c.pruneLocked(began)
		if len(c.entries)+len(read) > maxCachedFigures {
			c.entries = map[MetricsKey]cachedFigures{}
		}
	}
	for k, m := range read {
		if k.Subject != SubjectContent {
			continue
		}
		if !c.unforgottenLocked(began, rowKey{'c', k.ID}) {
			continue // forgotten while the statement ran: it may predate the write
		}
		c.entries[k] = cachedFigures{m: m, at: began}
	}
	return out, nil
}

// publicFiguresFor is db.MetricsFor with contents' ALL_TIME figures read
// by publicAllTimeFigures (their sales left out), in one statement, and the
// other keys by db.MetricsFor.
func (db *DB) publicFiguresFor(ctx context.Context, now time.Time, keys []MetricsKey) (map[MetricsKey]*Metrics, error) {
	var allTime []int64
	rest := keys[:0:0]
	for _, k := range keys {
		if k.Subject == SubjectContent && k.Window == WindowAllTime {
			allTime = append(allTime, k.ID)
		} else {
			rest = append(rest, k)
		}
	}
	out := map[MetricsKey]*Metrics{}
	if len(rest) > 0 {
		read, err := db.MetricsFor(ctx, now, rest)
		if err != nil {
			return nil, err
		}
		out = read
	}
	if len(allTime) > 0 {
		read, err := db.publicAllTimeFigures(ctx, allTime)
		if err != nil {
			return nil, err
		}
		for id, m := range read {
			out[MetricsKey{Subject: SubjectContent, ID: id, Window: WindowAllTime}] = m
		}
	}
	return out, nil
}

// publicAllTimeFiguresSQL is allTimeQueries' content statement without
// what only the commercial figures need: the contents row (the shop's
// currency), the shop and the sales laterals. Per content it probes the
// totals and the three raw tables' indexes from the boundary on, instead
// of those plus contents, shops, content_sales_totals and content_sales:
// on a miss of a feed page's figures (a content no page read within
// FIGURES_CACHE_TTL), each probe is likely a page PostgreSQL must read.
// Every id gets a row (zeros for an id that is no content).
const publicAllTimeFiguresSQL = `SELECT i.id, coalesce(t.views, 0) + coalesce(e.views, 0) AS views,
		coalesce(t.shares, 0) + coalesce(e.shares, 0) AS shares,
		coalesce(t.impressions, 0) + coalesce(e.impressions, 0) AS impressions,
		coalesce(t.clicks, 0) + coalesce(e.clicks, 0) AS clicks,
		coalesce(t.likes, 0) + l.n AS likes, coalesce(t.comments, 0) + cm.n AS comments
	FROM unnest($1::bigint[]) AS i(id)
	CROSS JOIN figures_rollup r
	LEFT JOIN content_figure_totals t ON t.content_id = i.id
	LEFT JOIN LATERAL (SELECT sum(views) AS views, sum(shares) AS shares, sum(product_impressions) AS impressions,
		sum(product_clicks) AS clicks FROM content_event_counts WHERE content_id = i.id AND bucket >= r.closed_until) e ON true
	LEFT JOIN LATERAL (SELECT count(*) AS n FROM content_likes WHERE content_id = i.id AND created_at >= r.closed_until) l ON true
	LEFT JOIN LATERAL (SELECT count(*) AS n FROM comments WHERE content_id = i.id AND created_at >= r.closed_until) cm ON true`

// publicAllTimeFigures reads contents' ALL_TIME views, likes, comments,
// shares, product impressions and clicks (the same numbers as MetricsFor's)
// in one statement, by content ID; orders, units, GMV and the currency are
// left zero.
func (db *DB) publicAllTimeFigures(ctx context.Context, contentIDs []int64) (map[int64]*Metrics, error) {
	var rows []metricsRow // the public columns only; the sales stay zero
	if err := db.SelectContext(ctx, &rows, publicAllTimeFiguresSQL, pq.Array(contentIDs)); err != nil {
		return nil, fmt.Errorf("content public figures: %w", err)
	}
	out := make(map[int64]*Metrics, len(rows))
	for _, r := range rows {
		out[r.ID] = &Metrics{Subject: SubjectContent, SubjectID: r.ID, Window: WindowAllTime,
			Views: r.Views, Likes: r.Likes, Comments: r.Comments, Shares: r.Shares,
			ProductImpressions: r.Impressions, ProductClicks: r.Clicks}
	}
	return out, nil
}

// pruneLocked drops figures older than the TTL.
func (c *FiguresCache) pruneLocked(now time.Time) {
	for k, e := range c.entries {
		if now.Sub(e.at) >= c.ttl {
			delete(c.entries, k)
		}
	}
}

// Forget drops the figures kept of contents, every window, and keeps
// figures being computed at this moment from being kept.
func (c *FiguresCache) Forget(contentIDs ...int64) {
	if c == nil || len(contentIDs) == 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range contentIDs {
		c.forgotten[rowKey{'c', id}] = now
		for _, w := range metricsWindows {
			delete(c.entries, MetricsKey{Subject: SubjectContent, ID: id, Window: w})
		}
	}
	c.pruneForgottenLocked(now, c.ttl, maxCachedFigures)
}

// AnnounceFigures tells every API process listening (FiguresCache.Listen)
// that a caller changed these contents' figures directly, in one
// statement; the notification is delivered when it commits (at once
// outside a transaction).
func (db *DB) AnnounceFigures(ctx context.Context, contentIDs ...int64) error {
	ids := make([]string, 0, len(contentIDs))
	for _, id := range contentIDs {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	payloads := profilePayloads(ids)
	if len(payloads) == 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, notifyProfilesSQL, FiguresChannel, pq.Array(payloads)); err != nil {
		return fmt.Errorf("announce figures: %w", err)
	}
	return nil
}

// Listen forgets, in c, the contents any API process announces
// (AnnounceFigures) until ctx ends, on a connection of its own; only once
// it has begun does c keep anything. When the connection is lost it forgets
// everything (a notification may have been missed), keeps nothing until it
// has reconnected, then forgets everything again; once ctx has ended it
// keeps nothing. It returns once listening has begun, or the first error.
func (c *FiguresCache) Listen(ctx context.Context, dsn string) error {
	if c == nil {
		return nil
	}
	return c.listen(ctx, dsn, FiguresChannel, "figures", func(s string) {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			c.Forget(id)
		}
	})
}
