package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"
)

// ListWalkTTL is how long a walk through a ranked list (the feed, a product
// search) can be continued after its first page: the frozen ranking is
// kept that long, then pruned. A cursor of an older walk answers
// BAD_USER_INPUT, asking the client to start again from the first page.
const ListWalkTTL = time.Hour

// walkCursor resumes a walk through a frozen ranking: the walk's id and the
// 1-based position of the item the cursor stands on. Off is the position
// of the item before the stored row's first id: 0 for a row that holds the
// walk from its start, the position a For You next page re-ranked from for
// the row that page stored (which holds only the walk's tail). Rows are
// never changed once written, so every cursor of a walk stays valid.
type walkCursor struct {
	Walk int64 `json:"w"`
	Pos  int64 `json:"p"`
	Off  int64 `json:"o,omitempty"`
}

func (c walkCursor) appendJSON(b []byte) []byte {
	b = appendIntField(append(b, '{'), true, "w", c.Walk)
	b = appendIntField(b, false, "p", c.Pos)
	if c.Off != 0 {
		b = appendIntField(b, false, "o", c.Off)
	}
	return append(b, '}')
}

// encode is encodeCursor(c).
func (c walkCursor) encode() string {
	var js intCursorJSON
	return encodeJSONCursor(c.appendJSON(js[:0]))
}

// decodeWalkCursor reads the cursor of a ranked list; a cursor of another
// kind (including the pre-walk cursors) is not one from this list.
func decodeWalkCursor(after string) (walkCursor, error) {
	var c walkCursor
	if err := decodeCursor(after, &c); err != nil {
		return c, err
	}
	// A walk holds fewer items than PostgreSQL's arrays index (int4).
	if c.Walk == 0 || c.Pos <= 0 || c.Pos > math.MaxInt32 || c.Off < 0 || c.Off > c.Pos {
		return c, FieldErrorf(EInvalid, "after", "after is not a cursor from this list")
	}
	return c, nil
}

// newWalkID draws a walk's id: random, so one walk's cursor does not lead to
// another's by counting.
func newWalkID() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	id := int64(binary.BigEndian.Uint64(b[:]) >> 1)
	if id == 0 {
		id = 1
	}
	return id
}

// walkKind names what a walk lists, so that its cursor continues only the
// same list: "feed", or a search with its filter (hashed, so the search
// text is not stored).
func walkKind(list string, parts ...any) string {
	if len(parts) == 0 {
		return list
	}
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return list + ":" + hex.EncodeToString(h.Sum(nil)[:12])
}

// missingWalk tells an empty page at the end of a walk from a walk that is
// no longer there (expired, or lost in a database crash), which the client
// must start again.
func (db *DB) missingWalk(ctx context.Context, c walkCursor, viewerID int64, kind string) error {
	var n int
	err := db.GetContext(ctx, &n, `SELECT count(*) FROM list_walks WHERE id = $1 AND viewer_id = $2 AND kind = $3`, c.Walk, viewerID, kind)
	if err != nil {
		return fmt.Errorf("list walk: %w", err)
	}
	if n == 0 {
		return FieldErrorf(EInvalid, "after",
			"this walk through the list is no longer kept (walks are kept for an hour), or the cursor is from another list or viewer; start again from the first page")
	}
	return nil
}

// pruneWalksBatch is how many expired walks one statement of
// PruneListWalks deletes.
const pruneWalksBatch = 5000

// PruneListWalks deletes the frozen rankings of walks begun more than
// ListWalkTTL ago, pruneWalksBatch at a time, oldest first, and returns how
// many it deleted. Rows another process is pruning at the same moment are
// skipped (FOR UPDATE SKIP LOCKED), so the replicas' refreshes may prune at
// once without waiting on each other or deadlocking, and no statement holds
// more than a batch of row locks; it stops at a batch shorter than
// pruneWalksBatch (what is left is another pruner's, or none). Errors are
// the database's (ctx ended, connection lost), with the count so far.
func (db *DB) PruneListWalks(ctx context.Context) (int64, error) {
	ttl := fmt.Sprintf("%d milliseconds", ListWalkTTL.Milliseconds())
	var total int64
	for {
		var n int64
		err := db.GetContext(ctx, &n, `WITH gone AS (
				DELETE FROM list_walks WHERE id IN (
					SELECT id FROM list_walks WHERE created_at < now() - $1::interval
					ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
				RETURNING 1)
			SELECT count(*) FROM gone`, ttl, pruneWalksBatch)
		if err != nil {
			return total, fmt.Errorf("prune list walks: %w", err)
		}
		total += n
		if n < pruneWalksBatch {
			return total, nil
		}
	}
}
