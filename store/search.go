package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Kinds of search results (the schema's SearchType).
const (
	SearchVideo       = "VIDEO"
	SearchLiveSession = "LIVE_SESSION"
	SearchProduct     = "PRODUCT"
	SearchCreator     = "CREATOR"
	SearchShop        = "SHOP"
)

// SearchTypes lists every kind of search result, in the order ties of
// relevance are broken.
var SearchTypes = []string{SearchCreator, SearchShop, SearchProduct, SearchVideo, SearchLiveSession}

// SearchMaxResults bounds one search: its first page ranks every match and
// keeps the best SearchMaxResults for the pages that follow.
const SearchMaxResults = 1000

// SearchMaxQueryLength is the longest query text accepted, in characters.
const SearchMaxQueryLength = 200

// SearchHit is one search result: its kind (a Search constant) and the id
// of the video or live session (a content id), product, user or shop.
type SearchHit struct {
	Kind string
	ID   int64
}

// tagKinds names the tags of a walk's items, stored as id*8 + tag.
var tagKinds = map[int64]string{1: SearchVideo, 2: SearchProduct, 3: SearchCreator, 4: SearchShop, 5: SearchLiveSession}

// searchVisible lists, per tag, the condition an item must still meet to be
// listed: published videos and live sessions not ended (as the feed), active
// products, creators, and every shop.
const searchVisible = `CASE r.x & 7
	WHEN 1 THEN EXISTS (SELECT 1 FROM contents c WHERE c.id = r.x >> 3 AND c.published_at <= now())
	WHEN 5 THEN EXISTS (SELECT 1 FROM contents c WHERE c.id = r.x >> 3 AND c.live_status <> 'ENDED')
	WHEN 2 THEN EXISTS (SELECT 1 FROM products p WHERE p.id = r.x >> 3 AND p.status = 'ACTIVE')
	WHEN 3 THEN EXISTS (SELECT 1 FROM users u WHERE u.id = r.x >> 3 AND u.is_creator)
	WHEN 4 THEN EXISTS (SELECT 1 FROM shops s WHERE s.id = r.x >> 3)
	ELSE false END`

// Search pages through the videos, live sessions, products, creators and
// shops whose text matches query (case- and accent-insensitive, in any
// language; Chinese and Japanese by overlapping character pairs; see
// migrations/0015_search.sql), most relevant first: by ts_rank over
// weighted fields (titles, captions and names above tags and handles, above
// descriptions), ties by kind (creators, shops, products, videos, live
// sessions) and newest first. types narrows the kinds (nil or empty: all).
//
// Only what anyone may see is listed: active products, creators, shops,
// published videos, live sessions not ended. Like a product search by
// relevance, the first page ranks every match (keeping the best
// SearchMaxResults) and stores the ranking as a walk; the pages after it
// read the ranking back by position, so edits during a walk never make it
// repeat or skip an item, and an item that stopped being visible is left
// out. A query with no searchable word lists nothing. A cursor of another
// search, or of a walk no longer kept, is a BAD_USER_INPUT error.
func (db *DB) Search(ctx context.Context, query string, types []string, page PageArgs) (Page[SearchHit], error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return Page[SearchHit]{}, FieldErrorf(EInvalid, "query", "query must not be empty")
	}
	if n := len([]rune(query)); n > SearchMaxQueryLength {
		return Page[SearchHit]{}, FieldErrorf(EInvalid, "query", "query must be at most %d characters", SearchMaxQueryLength)
	}
	kinds := make([]string, 0, len(SearchTypes))
	for _, t := range SearchTypes {
		if len(types) == 0 || slices.Contains(types, t) {
			kinds = append(kinds, t)
		}
	}
	for _, t := range types {
		if !slices.Contains(SearchTypes, t) {
			return Page[SearchHit]{}, FieldErrorf(EInvalid, "types", "unknown search type %q", t)
		}
	}
	kind := walkKind("search", query, strings.Join(kinds, ","))
	type row struct {
		X   int64 `db:"x"`
		Pos int64 `db:"pos"`
	}
	var rows []row
	var walk walkCursor
	if page.After == "" {
		walk.Walk = newWalkID()
		has := func(k string) bool { return slices.Contains(kinds, k) }
		// Each part yields (x, rank, tiebreak): x is id*8 + tag.
		var parts []string
		if has(SearchVideo) || has(SearchLiveSession) {
			var ks []string
			if has(SearchVideo) {
				ks = append(ks, "'VIDEO'")
			}
			if has(SearchLiveSession) {
				ks = append(ks, "'LIVE'")
			}
			parts = append(parts, `SELECT c.id * 8 + CASE c.kind WHEN 'VIDEO' THEN 1 ELSE 5 END AS x, ts_rank(c.search, q.q) AS rank, CASE c.kind WHEN 'VIDEO' THEN 3 ELSE 4 END AS tie
				FROM contents c, q WHERE c.search @@ q.q AND c.kind IN (`+strings.Join(ks, ", ")+`)
				  AND c.published_at <= now() AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED')`)
		}
		if has(SearchProduct) {
			parts = append(parts, `SELECT p.id * 8 + 2 AS x, ts_rank(p.search, q.q) AS rank, 2 AS tie
				FROM products p, q WHERE p.search @@ q.q AND p.status = 'ACTIVE'`)
		}
		if has(SearchCreator) {
			parts = append(parts, `SELECT u.id * 8 + 3 AS x, ts_rank(u.search, q.q) AS rank, 0 AS tie
				FROM users u, q WHERE u.search @@ q.q AND u.is_creator`)
		}
		if has(SearchShop) {
			parts = append(parts, `SELECT s.id * 8 + 4 AS x, ts_rank(s.search, q.q) AS rank, 1 AS tie
				FROM shops s, q WHERE s.search @@ q.q`)
		}
		err := db.SelectContext(ctx, &rows, `WITH q AS (SELECT search_query($1) AS q),
			matched AS (`+strings.Join(parts, "\nUNION ALL\n")+`),
			ranked AS (
				SELECT x, row_number() OVER (ORDER BY round(rank::numeric, 6) DESC, tie, x >> 3 DESC) AS pos
				FROM matched ORDER BY pos LIMIT $4
			),
			walk AS (
				INSERT INTO list_walks (id, viewer_id, kind, ids)
				SELECT $2, 0, $3, coalesce(array_agg(x ORDER BY pos), '{}') FROM ranked
			)
			SELECT x, pos FROM ranked ORDER BY pos LIMIT $5`,
			query, walk.Walk, kind, SearchMaxResults, page.First+1)
		if err != nil {
			return Page[SearchHit]{}, fmt.Errorf("search: %w", err)
		}
	} else {
		var err error
		if walk, err = decodeWalkCursor(page.After); err != nil {
			return Page[SearchHit]{}, err
		}
		err = db.SelectContext(ctx, &rows, `SELECT r.x, $2 + r.n AS pos
			FROM list_walks w
			CROSS JOIN LATERAL unnest(w.ids[$2 + 1:]) WITH ORDINALITY AS r(x, n)
			WHERE w.id = $1 AND w.viewer_id = 0 AND w.kind = $3 AND `+searchVisible+`
			ORDER BY r.n LIMIT $4`, walk.Walk, walk.Pos, kind, page.First+1)
		if err != nil {
			return Page[SearchHit]{}, fmt.Errorf("search: %w", err)
		}
		if len(rows) == 0 {
			if err := db.missingWalk(ctx, walk, 0, kind); err != nil {
				return Page[SearchHit]{}, err
			}
		}
	}
	pos := make(map[SearchHit]int64, len(rows))
	hits := make([]SearchHit, 0, len(rows))
	for _, r := range rows {
		h := SearchHit{ID: r.X >> 3, Kind: tagKinds[r.X&7]}
		if h.Kind == "" {
			continue
		}
		pos[h] = r.Pos
		hits = append(hits, h)
	}
	return newPage(hits, page, func(h SearchHit) string {
		return walkCursor{Walk: walk.Walk, Pos: pos[h]}.encode()
	}), nil
}
