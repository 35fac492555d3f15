package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"
)

// MaxWatchMs bounds one view's watch time (a day).
const MaxWatchMs = 24 * 60 * 60 * 1000

// CheckEvents validates a batch in one statement: every event must name
// existing content, and product events a product carded on that content.
// It returns the accepted events and a problem for each refused one.
func (db *DB) CheckEvents(ctx context.Context, events []Event) ([]Event, Problems, error) {
	known := map[int64]bool{}
	carded := map[[2]int64]bool{}
	note := func(contentID int64, products []int64) {
		known[contentID] = true
		for _, p := range products {
			carded[[2]int64{contentID, p}] = true
		}
	}
	var unknown []int64
	for _, e := range events {
		if known[e.ContentID] {
			continue
		}
		if products, ok := db.cards.get(e.ContentID); ok {
			note(e.ContentID, products)
		} else {
			unknown = append(unknown, e.ContentID)
		}
	}
	if len(unknown) > 0 {
		var rows []struct {
			ContentID int64  `db:"id"`
			ProductID *int64 `db:"product_id"`
		}
		if err := db.SelectContext(ctx, &rows, `SELECT c.id, cp.product_id FROM contents c
			LEFT JOIN content_products cp ON cp.content_id = c.id WHERE c.id = ANY($1)`, pq.Array(unknown)); err != nil {
			return nil, nil, fmt.Errorf("check events: %w", err)
		}
		found := map[int64][]int64{}
		for _, r := range rows {
			products := found[r.ContentID] // the key exists even for a content with no cards
			if r.ProductID != nil {
				products = append(products, *r.ProductID)
			}
			found[r.ContentID] = products
		}
		for id, products := range found {
			note(id, products)
		}
		db.cards.put(found)
	}
	accepted := make([]Event, 0, len(events))
	var problems Problems
	for i, e := range events {
		field := func() string { return "events." + strconv.Itoa(i) } // only for a problem
		switch {
		case !known[e.ContentID]:
			problems = append(problems, FieldErrorf(ENotFound, field()+".contentId", "content not found"))
		case (e.Type == EventProductClick || e.Type == EventProductImpression) && !carded[[2]int64{e.ContentID, e.ProductID}]:
			problems = append(problems, FieldErrorf(EInvalid, field()+".productId", "the product is not on this content").Because(ReasonNotOnContent))
		case e.WatchMs < 0 || e.WatchMs > MaxWatchMs:
			problems = append(problems, FieldErrorf(EInvalid, field()+".watchMs", "watchMs must be 0 to %d", MaxWatchMs))
		default:
			accepted = append(accepted, e)
		}
	}
	return accepted, problems, nil
}

// LikeContent records a user's like; liking twice changes nothing. It
// reports whether the like is new.
func (db *DB) LikeContent(ctx context.Context, userID, contentID int64) (bool, error) {
	res, err := db.ExecContext(ctx, `INSERT INTO content_likes (content_id, user_id)
		SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM contents WHERE id = $1) ON CONFLICT DO NOTHING`, contentID, userID)
	if err != nil {
		return false, fmt.Errorf("like: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UnlikeContent removes a user's like and reports whether there was one.
func (db *DB) UnlikeContent(ctx context.Context, userID, contentID int64) (bool, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM content_likes WHERE content_id = $1 AND user_id = $2`, contentID, userID)
	if err != nil {
		return false, fmt.Errorf("unlike: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// LikedByUser reports which of the contents the user likes.
func (db *DB) LikedByUser(ctx context.Context, userID int64, contentIDs []int64) (map[int64]bool, error) {
	var ids []int64
	if err := db.SelectContext(ctx, &ids, `SELECT content_id FROM content_likes WHERE user_id = $1 AND content_id = ANY($2)`,
		userID, pq.Array(contentIDs)); err != nil {
		return nil, fmt.Errorf("liked: %w", err)
	}
	out := make(map[int64]bool, len(contentIDs))
	for _, id := range contentIDs {
		out[id] = false
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// Comment is a viewer's comment on a video or live session.
type Comment struct {
	ID        int64     `db:"id"`
	ContentID int64     `db:"content_id"`
	AuthorID  int64     `db:"author_id"`
	Body      string    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}

func (*Comment) isNode() {}

// MaxCommentLength bounds a comment, in characters.
const MaxCommentLength = 500

// AddComment stores a comment of 1 to 500 characters.
func (db *DB) AddComment(ctx context.Context, authorID, contentID int64, body string) (*Comment, error) {
	body = strings.TrimSpace(body)
	if n := utf8.RuneCountInString(body); n == 0 || n > MaxCommentLength {
		return nil, FieldErrorf(EInvalid, "body", "a comment is 1 to %d characters", MaxCommentLength)
	}
	c, err := getOne[Comment](ctx, db.DB, `INSERT INTO comments (content_id, author_id, body)
		SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM contents WHERE id = $1)
		RETURNING id, content_id, author_id, body, created_at`, "content", contentID, authorID, body)
	var appErr *Error
	if errors.As(err, &appErr) && appErr.Code == ENotFound {
		return nil, FieldErrorf(ENotFound, "contentId", "content not found")
	}
	return c, err
}

// CommentPages loads one page of comments, newest first, for each key in one
// statement.
func (db *DB) CommentPages(ctx context.Context, keys []ChildPageKey) (map[ChildPageKey]Page[*Comment], error) {
	parents, afters, limits, _, err := childPageArrays(keys)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Ord int `db:"ord"`
		Comment
	}
	err = db.SelectContext(ctx, &rows, `SELECT k.ord, c.id, c.content_id, c.author_id, c.body, c.created_at
		FROM unnest($1::bigint[], $2::bigint[], $3::int[]) WITH ORDINALITY AS k(content_id, after_id, lim, ord)
		CROSS JOIN LATERAL (
			SELECT * FROM comments c WHERE c.content_id = k.content_id AND (k.after_id = 0 OR c.id < k.after_id)
			ORDER BY c.id DESC LIMIT k.lim) c
		ORDER BY k.ord, c.id DESC`, pq.Array(parents), pq.Array(afters), pq.Array(limits))
	if err != nil {
		return nil, fmt.Errorf("comment pages: %w", err)
	}
	return pagesByKey(keys, ChildPageKey.pageArgs, len(rows), func(i int) int { return rows[i].Ord },
		func(i int) *Comment { return &rows[i].Comment }, func(c *Comment) int64 { return c.ID }), nil
}

// CommentsByIDs loads comments by id in one statement.
func (db *DB) CommentsByIDs(ctx context.Context, ids []int64) (map[int64]*Comment, error) {
	var rows []*Comment
	if err := db.SelectContext(ctx, &rows, `SELECT id, content_id, author_id, body, created_at FROM comments WHERE id = ANY($1)`,
		pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("comments by ids: %w", err)
	}
	return indexByID(rows, func(c *Comment) int64 { return c.ID }), nil
}
