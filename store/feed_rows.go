package store

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"
)

// FeedRowsChannel is the PostgreSQL notification channel on which a trigger
// (migration 0032) announces, for every process, each content whose row
// changed or was deleted (one id a notification), so that each forgets
// what its FeedRows keeps of it.
const FeedRowsChannel = "showcase_content_rows"

// DefaultFeedRowsTTL is how long a process keeps a content row its For
// You pages read: the bound on what a listener that failed unnoticed could
// leave (every change is announced and forgotten at once otherwise).
const DefaultFeedRowsTTL = 10 * time.Second

// maxFeedRows bounds the rows a FeedRows keeps (about 300 bytes each);
// past it, it starts over.
const maxFeedRows = 50_000

// FeedRows keeps, per API process, the content rows (contentColumns: kind,
// author, shop, tags, caption, URLs, live state, pinned product) that For
// You pages served, so that a page whose items were all served lately
// reads none: a ranked page stores its walk row alone, a first page from
// a reused arrangement sends no statement.
//
// Every change to a content's row (a live session going on air or ending,
// a product pinned, an operator's SQL), through any process, is announced
// by a trigger when it commits and forgotten on every process listening
// (Listen); the process a mutation went through forgets before the
// mutation answers (forget). The counters (view_count, like_count) are not
// announced: the API does not show them from a content row (metrics come
// from the figures), so a kept row's counters may be up to the TTL old.
// A row read by a statement that began before its content was last
// forgotten is not kept. Nothing is kept before Listen has begun, while
// the listening connection is lost, or after Listen's context ends; losing
// or regaining the connection forgets everything. Each row is kept for the
// TTL from when the statement that read it began.
//
// A nil *FeedRows keeps nothing.
type FeedRows struct {
	ttl time.Duration

	// forgetting holds the lock rows is read and written under.
	forgetting
	rows map[int64]keptContentRow

	hits, misses atomic.Int64
}

// keptContentRow is a content row and when the statement that read it began.
type keptContentRow struct {
	row contentRow
	at  time.Time
}

// NewFeedRows returns a cache that keeps content rows for ttl (at most
// DefaultFeedRowsTTL is what the server uses); a ttl of zero or less
// returns nil (nothing kept). It keeps nothing until Listen has begun.
func NewFeedRows(ttl time.Duration) *FeedRows {
	if ttl <= 0 {
		return nil
	}
	r := &FeedRows{ttl: ttl}
	r.init(func() { r.rows = map[int64]keptContentRow{} })
	return r
}

// UseFeedRows makes db's For You pages keep the content rows they read in
// r, and its writes to contents forget there at once (nil: none kept).
// Call it before serving.
func (db *DB) UseFeedRows(r *FeedRows) { db.feedRows = r }

// Stats returns how many rows pages found kept and how many they read.
func (r *FeedRows) Stats() (hits, misses int64) {
	if r == nil {
		return 0, 0
	}
	return r.hits.Load(), r.misses.Load()
}

// get returns the kept rows of ids (read less than the TTL before now) and
// the ids it does not keep, in the order given.
func (r *FeedRows) get(ids []int64, now time.Time) (kept map[int64]*contentRow, missing []int64) {
	kept = make(map[int64]*contentRow, len(ids))
	if r == nil {
		return kept, ids
	}
	r.mu.Lock()
	for _, id := range ids {
		if e, ok := r.rows[id]; ok && now.Sub(e.at) < r.ttl && !now.Before(e.at) {
			row := e.row
			kept[id] = &row
		} else {
			missing = append(missing, id)
		}
	}
	r.mu.Unlock()
	r.hits.Add(int64(len(kept)))
	r.misses.Add(int64(len(missing)))
	return kept, missing
}

// put keeps rows read by a statement that began at readAt, except those
// forgotten since (or all, when everything was, or while deaf).
func (r *FeedRows) put(rows []contentRow, readAt time.Time) {
	if r == nil || len(rows) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.keepableLocked(readAt) {
		return
	}
	if len(r.rows)+len(rows) > maxFeedRows {
		r.rows = map[int64]keptContentRow{}
	}
	// A forget older than the TTL stops no put: a read that began before
	// it is too old to keep anyway.
	r.pruneForgottenLocked(readAt, r.ttl, maxFeedRows)
	for i := range rows {
		if r.unforgottenLocked(readAt, rowKey{'c', rows[i].ID}) {
			r.rows[rows[i].ID] = keptContentRow{row: rows[i], at: readAt}
		}
	}
}

// forget drops what r keeps of the contents ids; safe on a nil cache.
func (r *FeedRows) forget(ids ...int64) {
	if r == nil || len(ids) == 0 {
		return
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		delete(r.rows, id)
		r.forgotten[rowKey{'c', id}] = now
	}
}

// forgetLine forgets the content a notification names (its id).
func (r *FeedRows) forgetLine(s string) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		r.forgetAll() // not one of ours: forget rather than guess
		return
	}
	r.forget(id)
}

// Listen forgets, in r, every content the trigger announces on
// FeedRowsChannel until ctx ends, on a connection of its own; only once it
// has begun does r keep anything. When the connection is lost it forgets
// everything and keeps nothing until it has reconnected, then forgets
// everything again. When ctx ends it keeps nothing more. It returns once
// listening has begun, or the first error.
func (r *FeedRows) Listen(ctx context.Context, dsn string) error {
	if r == nil {
		return nil
	}
	return r.listen(ctx, dsn, FeedRowsChannel, "feed rows", r.forgetLine)
}
