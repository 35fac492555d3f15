package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

const contentColumns = `c.id, c.kind, c.author_id, c.shop_id, c.tags, c.published_at, c.view_count, c.like_count,
	c.caption, c.playback_url, c.thumbnail_url, c.duration_seconds,
	c.title, c.live_status, c.scheduled_start_at, c.started_at, c.ended_at, c.pinned_product_id`

// contentRow is one row of the contents table, of either kind.
type contentRow struct {
	ID               int64          `db:"id"`
	Kind             string         `db:"kind"`
	AuthorID         int64          `db:"author_id"`
	ShopID           *int64         `db:"shop_id"`
	Tags             pq.StringArray `db:"tags"`
	PublishedAt      time.Time      `db:"published_at"`
	ViewCount        int64          `db:"view_count"`
	LikeCount        int64          `db:"like_count"`
	Caption          sql.NullString `db:"caption"`
	PlaybackURL      sql.NullString `db:"playback_url"`
	ThumbnailURL     sql.NullString `db:"thumbnail_url"`
	DurationSeconds  sql.NullInt64  `db:"duration_seconds"`
	Title            sql.NullString `db:"title"`
	LiveStatus       sql.NullString `db:"live_status"`
	ScheduledStartAt *time.Time     `db:"scheduled_start_at"`
	StartedAt        *time.Time     `db:"started_at"`
	EndedAt          *time.Time     `db:"ended_at"`
	PinnedProductID  *int64         `db:"pinned_product_id"`
}

func (r *contentRow) content() Content {
	base := ContentBase{
		ID: r.ID, AuthorID: r.AuthorID, ShopID: r.ShopID, Tags: []string(r.Tags),
		PublishedAt: r.PublishedAt, ViewCount: r.ViewCount, LikeCount: r.LikeCount,
	}
	if base.Tags == nil {
		base.Tags = []string{}
	}
	if r.Kind == KindLive {
		return &LiveSession{
			ContentBase: base, Title: r.Title.String, Status: r.LiveStatus.String,
			ScheduledStartAt: r.ScheduledStartAt, StartedAt: r.StartedAt, EndedAt: r.EndedAt,
			PinnedProductID: r.PinnedProductID,
		}
	}
	return &Video{
		ContentBase: base, Caption: r.Caption.String, PlaybackURL: r.PlaybackURL.String,
		ThumbnailURL: r.ThumbnailURL.String, DurationSeconds: int(r.DurationSeconds.Int64),
	}
}

// ContentsByIDs loads videos and live sessions by id in one statement.
func (db *DB) ContentsByIDs(ctx context.Context, ids []int64) (map[int64]Content, error) {
	var rows []contentRow
	if err := db.SelectContext(ctx, &rows, `SELECT `+contentColumns+` FROM contents c WHERE c.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("contents by ids: %w", err)
	}
	out := make(map[int64]Content, len(rows))
	for i := range rows {
		out[rows[i].ID] = rows[i].content()
	}
	return out, nil
}

// ContentByID loads one video or live session.
func (db *DB) ContentByID(ctx context.Context, id int64) (Content, error) {
	m, err := db.ContentsByIDs(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	c, ok := m[id]
	if !ok {
		return nil, Errorf(ENotFound, "content not found")
	}
	return c, nil
}

// ProductsByContentIDs loads the product cards of several contents, in card
// order. Cards of products that are no longer active are left out.
func (db *DB) ProductsByContentIDs(ctx context.Context, contentIDs []int64) (map[int64][]*Product, error) {
	var rows []struct {
		ContentID int64 `db:"content_id"`
		Product
	}
	err := db.SelectContext(ctx, &rows, `SELECT cp.content_id, cp.position AS card_position, `+productColumns+`
		FROM content_products cp JOIN products p ON p.id = cp.product_id
		WHERE cp.content_id = ANY($1) AND p.status = 'ACTIVE'
		ORDER BY cp.content_id, cp.position, p.id`, pq.Array(contentIDs))
	if err != nil {
		return nil, fmt.Errorf("products by contents: %w", err)
	}
	// Every content gets an entry: one whose cards are all inactive has none.
	out := make(map[int64][]*Product, len(contentIDs))
	for _, id := range contentIDs {
		out[id] = nil
	}
	for i := range rows {
		out[rows[i].ContentID] = append(out[rows[i].ContentID], &rows[i].Product)
	}
	return out, nil
}

// ShopContentPages loads one page of a kind of content for each shop key in
// one statement, newest first.
func (db *DB) ShopContentPages(ctx context.Context, kind string, keys []ChildPageKey) (map[ChildPageKey]Page[Content], error) {
	parents, afters, limits, _, err := childPageArrays(keys)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Ord int `db:"ord"`
		contentRow
	}
	err = db.SelectContext(ctx, &rows, `SELECT k.ord, `+contentColumns+`
		FROM unnest($1::bigint[], $2::bigint[], $3::int[]) WITH ORDINALITY AS k(shop_id, after_id, lim, ord)
		CROSS JOIN LATERAL (
			SELECT * FROM contents c
			WHERE c.shop_id = k.shop_id AND c.kind = $4
			  AND (k.after_id = 0 OR c.id < k.after_id)
			ORDER BY c.id DESC LIMIT k.lim) c
		ORDER BY k.ord, c.id DESC`,
		pq.Array(parents), pq.Array(afters), pq.Array(limits), kind)
	if err != nil {
		return nil, fmt.Errorf("shop content pages: %w", err)
	}
	return pagesByKey(keys, ChildPageKey.pageArgs, len(rows), func(i int) int { return rows[i].Ord },
		func(i int) Content { return rows[i].content() }, func(c Content) int64 { return c.Base().ID }), nil
}

// NewVideo is what publishVideo stores.
type NewVideo struct {
	AuthorID        int64
	ShopID          *int64
	Caption         string
	PlaybackURL     string
	ThumbnailURL    string
	DurationSeconds int
	Tags            []string
	ProductIDs      []int64
}

// PublishVideo stores a video and its product cards in one transaction.
func (db *DB) PublishVideo(ctx context.Context, in NewVideo) (*Video, error) {
	var out *Video
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var row contentRow
		err := tx.GetContext(ctx, &row, `INSERT INTO contents AS c
			(kind, author_id, shop_id, tags, caption, playback_url, thumbnail_url, duration_seconds)
			VALUES ('VIDEO', $1, $2, $3, $4, $5, $6, $7) RETURNING `+contentColumns,
			in.AuthorID, in.ShopID, pq.Array(orEmpty(in.Tags)), in.Caption, in.PlaybackURL, in.ThumbnailURL, in.DurationSeconds)
		if err != nil {
			return fmt.Errorf("insert video: %w", err)
		}
		if err := insertCards(ctx, tx, row.ID, in.ProductIDs); err != nil {
			return err
		}
		out = row.content().(*Video)
		return nil
	})
	return out, err
}

// NewLiveSession is what scheduleLiveSession stores.
type NewLiveSession struct {
	HostID           int64
	ShopID           *int64
	Title            string
	ScheduledStartAt time.Time
	Tags             []string
	ProductIDs       []int64
}

// ScheduleLiveSession stores a scheduled live session and its products.
func (db *DB) ScheduleLiveSession(ctx context.Context, in NewLiveSession) (*LiveSession, error) {
	var out *LiveSession
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var row contentRow
		err := tx.GetContext(ctx, &row, `INSERT INTO contents AS c
			(kind, author_id, shop_id, tags, title, live_status, scheduled_start_at)
			VALUES ('LIVE', $1, $2, $3, $4, 'SCHEDULED', $5) RETURNING `+contentColumns,
			in.HostID, in.ShopID, pq.Array(orEmpty(in.Tags)), in.Title, in.ScheduledStartAt)
		if err != nil {
			return fmt.Errorf("insert live session: %w", err)
		}
		if err := insertCards(ctx, tx, row.ID, in.ProductIDs); err != nil {
			return err
		}
		out = row.content().(*LiveSession)
		return nil
	})
	return out, err
}

func insertCards(ctx context.Context, tx *sqlx.Tx, contentID int64, productIDs []int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO content_products (content_id, product_id, position)
		SELECT $1, pid, ord - 1 FROM unnest($2::bigint[]) WITH ORDINALITY AS t(pid, ord)
		ON CONFLICT DO NOTHING`, contentID, pq.Array(productIDs))
	if err != nil {
		return fmt.Errorf("insert product cards: %w", err)
	}
	return nil
}

// StartLiveSession moves a session from SCHEDULED to LIVE.
func (db *DB) StartLiveSession(ctx context.Context, id int64) (*LiveSession, error) {
	return db.transitionLive(ctx, id, LiveScheduled, TopicLiveSessionStarted, `live_status = 'LIVE', started_at = now(), published_at = now()`)
}

// EndLiveSession moves a session from LIVE to ENDED.
func (db *DB) EndLiveSession(ctx context.Context, id int64) (*LiveSession, error) {
	return db.transitionLive(ctx, id, LiveOnAir, TopicLiveSessionEnded, `live_status = 'ENDED', ended_at = now(), pinned_product_id = NULL`)
}

// transitionLive applies a status change only from the expected status, so
// two concurrent calls cannot both succeed. The change's webhook event
// (topic) is written in the same statement.
func (db *DB) transitionLive(ctx context.Context, id int64, from, topic, set string) (*LiveSession, error) {
	var row contentRow
	err := db.GetContext(ctx, &row, `WITH c AS (UPDATE contents SET `+set+`
		WHERE id = $1 AND kind = 'LIVE' AND live_status = $2 RETURNING *
		), src AS (SELECT c.shop_id, `+liveEventPayload+` AS payload FROM c)`+eventCTEs("l", topic, "src")+`
		SELECT `+contentColumns+` FROM c`, id, from)
	db.feedRows.forget(id) // the caller's next page shows it (other processes hear the trigger)
	if err == sql.ErrNoRows {
		cur, err := db.ContentByID(ctx, id)
		if err != nil {
			return nil, err
		}
		ls, ok := cur.(*LiveSession)
		if !ok {
			return nil, Errorf(ENotFound, "live session not found")
		}
		return nil, Errorf(EConflict, "the live session is %s, not %s", ls.Status, from).Because(ReasonInvalidTransition)
	}
	if err != nil {
		return nil, fmt.Errorf("live session transition: %w", err)
	}
	return row.content().(*LiveSession), nil
}

// PinLiveProduct pins one of a live session's products while it is on air.
func (db *DB) PinLiveProduct(ctx context.Context, sessionID, productID int64) (*LiveSession, error) {
	var row contentRow
	err := db.GetContext(ctx, &row, `UPDATE contents AS c SET pinned_product_id = $2
		WHERE c.id = $1 AND c.kind = 'LIVE' AND c.live_status = 'LIVE'
		  AND EXISTS (SELECT 1 FROM content_products cp WHERE cp.content_id = c.id AND cp.product_id = $2)
		RETURNING `+contentColumns, sessionID, productID)
	db.feedRows.forget(sessionID) // the caller's next page shows it (other processes hear the trigger)
	if err == sql.ErrNoRows {
		cur, err := db.ContentByID(ctx, sessionID)
		if err != nil {
			return nil, err
		}
		ls, ok := cur.(*LiveSession)
		if !ok {
			return nil, Errorf(ENotFound, "live session not found")
		}
		if ls.Status != LiveOnAir {
			return nil, Errorf(EConflict, "products can be pinned only while the session is LIVE; it is %s", ls.Status).Because(ReasonInvalidTransition)
		}
		return nil, FieldErrorf(EInvalid, "productId", "the product is not one of this session's products").Because(ReasonNotOnContent)
	}
	if err != nil {
		return nil, fmt.Errorf("pin live product: %w", err)
	}
	return row.content().(*LiveSession), nil
}

// CardsWithVariantsByContentIDs loads, in one statement, what
// ProductsByContentIDs and VariantsByProductIDs of its products load in two: the active
// products carried as cards by the contents contentIDs, keyed by content ID
// in card order (every content gets an entry), and every variant of those
// products, keyed by product ID in display order, priced now (campaign
// prices included) as VariantsByProductIDs prices them. A feed page primes
// its ProductsByContent and VariantsByProduct loaders with it.
func (db *DB) CardsWithVariantsByContentIDs(ctx context.Context, contentIDs []int64) (cards map[int64][]*Product, variants map[int64][]*ProductVariant, err error) {
	var rows []struct {
		ContentID int64  `db:"content_id"`
		Variants  []byte `db:"variants"`
		Product
	}
	err = db.SelectContext(ctx, &rows, `SELECT cp.content_id, cp.position AS card_position, `+productColumns+`,
			coalesce((SELECT json_agg(json_build_object('ID', v.id, 'SKU', v.sku, 'Title', v.title, 'PriceAmount', v.price_amount,
				'CurrencyCode', v.currency_code, 'Stock', v.stock, 'Position', v.position, 'CreatedAt', v.created_at,
				'CampaignID', o.campaign_id, 'CampaignPriceAmount', o.price_amount, 'CompareAtAmount', o.compare_at_amount)
				ORDER BY v.position, v.id)
			FROM product_variants v`+variantOfferJoin+` WHERE v.product_id = p.id), '[]') AS variants
		FROM content_products cp JOIN products p ON p.id = cp.product_id
		WHERE cp.content_id = ANY($1) AND p.status = 'ACTIVE'
		ORDER BY cp.content_id, cp.position, p.id`, pq.Array(contentIDs))
	if err != nil {
		return nil, nil, fmt.Errorf("cards with variants by contents: %w", err)
	}
	cards = make(map[int64][]*Product, len(contentIDs))
	for _, id := range contentIDs {
		cards[id] = nil
	}
	variants = map[int64][]*ProductVariant{}
	for i := range rows {
		r := &rows[i]
		cards[r.ContentID] = append(cards[r.ContentID], &r.Product)
		if _, done := variants[r.ID]; done {
			continue // a product on several cards of the page
		}
		// The variants' JSON is keyed by ProductVariant's field names,
		// which encoding/json matches without tags: no twin type to keep
		// in step with the columns. A field the statement leaves out stays
		// zero, which TestCardsWithVariantsEqualCardsAndVariants catches
		// (it compares every field with VariantsByProductIDs' read).
		var vs []*ProductVariant
		if err := json.Unmarshal(r.Variants, &vs); err != nil {
			return nil, nil, fmt.Errorf("cards with variants by contents: %w", err)
		}
		for _, v := range vs {
			v.ProductID, v.ProductState = r.ID, r.Status
		}
		if len(vs) == 0 {
			vs = nil // none, as the loaders answer
		}
		variants[r.ID] = vs
	}
	return cards, variants, nil
}
