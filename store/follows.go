package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Reasons a follow is refused.
const (
	// ReasonCannotFollowSelf: a person may not follow themselves, nor a shop
	// they own.
	ReasonCannotFollowSelf = "CANNOT_FOLLOW_SELF"
	// ReasonNotFollowable: only creators and shops can be followed.
	ReasonNotFollowable = "NOT_FOLLOWABLE"
)

// FollowTarget names what is followed: a creator (a user) or a shop; exactly
// one of the two ids is set.
type FollowTarget struct {
	CreatorID int64
	ShopID    int64
}

// Follow makes followerID follow the target and reports whether it changed
// anything (false when the follow already existed: following is idempotent).
// The follows row and the target's follower_count change in one statement
// (the count by the follows_count trigger, migration 0013), so the count is
// exact under any number of concurrent follows and unfollows. Errors: the
// target does not exist or is a guest (NOT_FOUND: a guest is no profile,
// so it answers as no user at all); it is the follower, or a shop they own
// (CANNOT_FOLLOW_SELF); a user who is not a creator (NOT_FOLLOWABLE).
func (db *DB) Follow(ctx context.Context, followerID int64, t FollowTarget) (bool, error) {
	var row struct {
		Found      bool `db:"found"`
		Followable bool `db:"followable"`
		Self       bool `db:"self"`
		Inserted   bool `db:"inserted"`
	}
	var q string
	var target int64
	if t.CreatorID != 0 {
		target = t.CreatorID
		q = `WITH t AS (SELECT id, is_creator AS followable, id = $1 AS self FROM users WHERE id = $2 AND NOT is_guest),
			ins AS (INSERT INTO follows (follower_id, creator_id)
				SELECT $1, id FROM t WHERE followable AND NOT self
				ON CONFLICT (follower_id, creator_id) WHERE creator_id IS NOT NULL DO NOTHING RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM t) AS found, coalesce((SELECT followable FROM t), false) AS followable,
				coalesce((SELECT self FROM t), false) AS self, EXISTS (SELECT 1 FROM ins) AS inserted`
	} else {
		target = t.ShopID
		q = `WITH t AS (SELECT id, true AS followable, owner_id = $1 AS self FROM shops WHERE id = $2),
			ins AS (INSERT INTO follows (follower_id, shop_id)
				SELECT $1, id FROM t WHERE NOT self
				ON CONFLICT (follower_id, shop_id) WHERE shop_id IS NOT NULL DO NOTHING RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM t) AS found, coalesce((SELECT followable FROM t), false) AS followable,
				coalesce((SELECT self FROM t), false) AS self, EXISTS (SELECT 1 FROM ins) AS inserted`
	}
	err := db.GetContext(ctx, &row, q, followerID, target)
	t.forgetCount(db.profiles)
	if err != nil {
		return false, fmt.Errorf("follow: %w", err)
	}
	switch {
	case !row.Found:
		return false, FieldErrorf(ENotFound, "id", "nothing to follow with this id")
	case row.Self:
		return false, FieldErrorf(EInvalid, "id", "you cannot follow yourself or your own shop").Because(ReasonCannotFollowSelf)
	case !row.Followable:
		return false, FieldErrorf(EInvalid, "id", "only creators and shops can be followed").Because(ReasonNotFollowable)
	}
	return row.Inserted, nil
}

// Unfollow ends followerID's follow of the target and reports whether there
// was one (unfollowing is idempotent). The count moves with the row, as for
// Follow.
func (db *DB) Unfollow(ctx context.Context, followerID int64, t FollowTarget) (bool, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM follows WHERE follower_id = $1
		AND (($2 <> 0 AND creator_id = $2) OR ($3 <> 0 AND shop_id = $3))`, followerID, t.CreatorID, t.ShopID)
	t.forgetCount(db.profiles)
	if err != nil {
		return false, fmt.Errorf("unfollow: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// forgetCount forgets, in the process's ProfileCache, the target whose
// follower_count a follow or an unfollow moved.
func (t FollowTarget) forgetCount(c *ProfileCache) {
	if t.CreatorID != 0 {
		c.forget('u', t.CreatorID)
	}
	if t.ShopID != 0 {
		c.forget('s', t.ShopID)
	}
}

// Follower is one follower of a creator or a shop, with when they followed.
type Follower struct {
	User
	FollowedAt time.Time `db:"followed_at"`
}

// Followed is one creator or shop a person follows (exactly one of
// CreatorID and ShopID is set), with when they followed.
type Followed struct {
	CreatorID  *int64    `db:"creator_id"`
	ShopID     *int64    `db:"shop_id"`
	FollowedAt time.Time `db:"followed_at"`
}

// followCursor resumes a list of follows ordered newest first: the follow's
// time in microseconds since the epoch, then (for the following list) 0 for
// a creator and 1 for a shop, then the other side's id. These never change
// for a follows row, so follows added or removed during a walk make the
// others neither repeat nor vanish.
type followCursor struct {
	T int64 `json:"ft"`
	K int64 `json:"k,omitempty"`
	I int64 `json:"i"`
}

// followPageArrays turns page keys into the arrays of a batched statement:
// parents, the cursors' times (-1 for the first page), kinds and ids, and
// the limits (First+1, to learn whether a next page exists).
func followPageArrays(keys []ChildPageKey) (parents, afterT, afterK, afterI, limits []int64, err error) {
	for _, k := range keys {
		c := followCursor{T: -1}
		if k.After != "" {
			if err := decodeCursor(k.After, &c); err != nil {
				return nil, nil, nil, nil, nil, err
			}
			if c.T < 0 || c.I <= 0 || c.K < 0 || c.K > 1 {
				return nil, nil, nil, nil, nil, FieldErrorf(EInvalid, "after", "after is not a cursor from this list")
			}
		}
		parents = append(parents, k.ParentID)
		afterT, afterK, afterI = append(afterT, c.T), append(afterK, c.K), append(afterI, c.I)
		limits = append(limits, int64(k.First+1))
	}
	return parents, afterT, afterK, afterI, limits, nil
}

// micros is t in microseconds since the epoch, as PostgreSQL keeps it.
func micros(t time.Time) int64 { return t.UnixMicro() }

// usAt is the SQL for a cursor's microseconds back as a timestamptz, exactly.
const usAt = `('epoch'::timestamptz + %s * interval '1 microsecond')`

// FollowerPages loads one page of followers, newest first, for each creator
// (shops false) or shop (shops true) key, in one statement.
func (db *DB) FollowerPages(ctx context.Context, shops bool, keys []ChildPageKey) (map[ChildPageKey]Page[*Follower], error) {
	parents, afterT, _, afterI, limits, err := followPageArrays(keys)
	if err != nil {
		return nil, err
	}
	col := "creator_id"
	if shops {
		col = "shop_id"
	}
	var rows []struct {
		Ord int `db:"ord"`
		Follower
	}
	err = db.SelectContext(ctx, &rows, `SELECT k.ord, f.followed_at, `+userColumns+`
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::int[]) WITH ORDINALITY AS k(parent, after_t, after_i, lim, ord)
		CROSS JOIN LATERAL (
			SELECT follower_id, created_at AS followed_at FROM follows
			WHERE `+col+` = k.parent
			  AND (k.after_t < 0 OR (created_at, follower_id) < (`+fmt.Sprintf(usAt, "k.after_t")+`, k.after_i))
			ORDER BY created_at DESC, follower_id DESC LIMIT k.lim) f
		JOIN users u ON u.id = f.follower_id
		ORDER BY k.ord, f.followed_at DESC, u.id DESC`,
		pq.Array(parents), pq.Array(afterT), pq.Array(afterI), pq.Array(limits))
	if err != nil {
		return nil, fmt.Errorf("follower pages: %w", err)
	}
	grouped := make([][]*Follower, len(keys))
	for i := range rows {
		grouped[rows[i].Ord-1] = append(grouped[rows[i].Ord-1], &rows[i].Follower)
	}
	out := make(map[ChildPageKey]Page[*Follower], len(keys))
	for i, k := range keys {
		out[k] = newPage(grouped[i], k.pageArgs(), func(f *Follower) string {
			return encodeCursor(followCursor{T: micros(f.FollowedAt), I: f.ID})
		})
	}
	return out, nil
}

// FollowingPages loads one page of the creators and shops each key's person
// follows, newest follow first, in one statement.
func (db *DB) FollowingPages(ctx context.Context, keys []ChildPageKey) (map[ChildPageKey]Page[*Followed], error) {
	parents, afterT, afterK, afterI, limits, err := followPageArrays(keys)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Ord int `db:"ord"`
		Followed
	}
	err = db.SelectContext(ctx, &rows, `SELECT k.ord, f.creator_id, f.shop_id, f.followed_at
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[]) WITH ORDINALITY AS k(parent, after_t, after_k, after_i, lim, ord)
		CROSS JOIN LATERAL (
			SELECT creator_id, shop_id, created_at AS followed_at,
				(shop_id IS NOT NULL)::int AS kind, coalesce(creator_id, shop_id) AS target
			FROM follows
			WHERE follower_id = k.parent
			  AND (k.after_t < 0 OR (created_at, (shop_id IS NOT NULL)::int, coalesce(creator_id, shop_id))
			      < (`+fmt.Sprintf(usAt, "k.after_t")+`, k.after_k, k.after_i))
			ORDER BY created_at DESC, kind DESC, target DESC LIMIT k.lim) f
		ORDER BY k.ord, f.followed_at DESC, f.kind DESC, f.target DESC`,
		pq.Array(parents), pq.Array(afterT), pq.Array(afterK), pq.Array(afterI), pq.Array(limits))
	if err != nil {
		return nil, fmt.Errorf("following pages: %w", err)
	}
	grouped := make([][]*Followed, len(keys))
	for i := range rows {
		grouped[rows[i].Ord-1] = append(grouped[rows[i].Ord-1], &rows[i].Followed)
	}
	out := make(map[ChildPageKey]Page[*Followed], len(keys))
	for i, k := range keys {
		out[k] = newPage(grouped[i], k.pageArgs(), func(f *Followed) string {
			if f.ShopID != nil {
				return encodeCursor(followCursor{T: micros(f.FollowedAt), K: 1, I: *f.ShopID})
			}
			return encodeCursor(followCursor{T: micros(f.FollowedAt), I: *f.CreatorID})
		})
	}
	return out, nil
}

// feedCursor resumes the FOLLOWING feed: the content's publication time in
// microseconds since the epoch, then its id.
type feedCursor struct {
	T int64 `json:"pt"`
	I int64 `json:"i"`
}

func (c feedCursor) appendJSON(b []byte) []byte {
	b = appendIntField(append(b, '{'), true, "pt", c.T)
	return append(appendIntField(b, false, "i", c.I), '}')
}

// encode is encodeCursor(c).
func (c feedCursor) encode() string {
	var js intCursorJSON
	return encodeJSONCursor(c.appendJSON(js[:0]))
}

// FollowingFeed returns a page of the FOLLOWING feed of viewerID: the videos
// and live sessions (scheduled or on air; an ended session leaves it) that
// followed creators authored or that carry a followed shop's products (a
// content's shop), newest published first, ties by id. The cursor holds the
// last item's (published_at, id), so follows, unfollows and new content
// during a walk make nothing after the cursor repeat or vanish; new content
// lands above it, for the next walk. A live session that goes on air is
// published again at that moment and so moves to the top.
func (db *DB) FollowingFeed(ctx context.Context, viewerID int64, args PageArgs) (Page[Content], error) {
	c := feedCursor{T: -1}
	if args.After != "" {
		if err := decodeCursor(args.After, &c); err != nil {
			return Page[Content]{}, err
		}
		if c.T < 0 || c.I <= 0 {
			return Page[Content]{}, FieldErrorf(EInvalid, "after", "after is not a cursor from this list")
		}
	}
	// Each followed creator's and shop's newest items after the cursor, at
	// most a page each (from the (author or shop, published_at, id)
	// indexes), then the page of their union: the cost grows with the
	// number followed, never with the whole catalogue.
	after := `($3::bigint < 0 OR (c.published_at, c.id) < (` + fmt.Sprintf(usAt, "$3::bigint") + `, $4))
		AND c.published_at <= $5 AND (c.kind = 'VIDEO' OR c.live_status <> 'ENDED')`
	var rows []contentRow
	err := db.SelectContext(ctx, &rows, `
		WITH f AS (SELECT creator_id, shop_id FROM follows WHERE follower_id = $1),
		ids AS (
			SELECT x.id FROM f CROSS JOIN LATERAL (
				SELECT c.id FROM contents c WHERE c.author_id = f.creator_id AND `+after+`
				ORDER BY c.published_at DESC, c.id DESC LIMIT $2) x
			WHERE f.creator_id IS NOT NULL
			UNION
			SELECT x.id FROM f CROSS JOIN LATERAL (
				SELECT c.id FROM contents c WHERE c.shop_id = f.shop_id AND `+after+`
				ORDER BY c.published_at DESC, c.id DESC LIMIT $2) x
			WHERE f.shop_id IS NOT NULL
		)
		SELECT `+contentColumns+` FROM contents c WHERE c.id IN (SELECT id FROM ids)
		ORDER BY c.published_at DESC, c.id DESC LIMIT $2`,
		viewerID, args.First+1, c.T, c.I, time.Now().UTC())
	if err != nil {
		return Page[Content]{}, fmt.Errorf("following feed: %w", err)
	}
	items := make([]Content, len(rows))
	for i := range rows {
		items[i] = rows[i].content()
	}
	return newPage(items, args, func(it Content) string {
		b := it.Base()
		return feedCursor{T: micros(b.PublishedAt), I: b.ID}.encode()
	}), nil
}

// Followable is what a person can follow: a creator (*User) or a *Shop.
type Followable interface{ isFollowable() }

func (*User) isFollowable() {}
func (*Shop) isFollowable() {}

// FollowedBy reports which of the targets followerID follows, in one
// statement (for User.viewerFollows and Shop.viewerFollows across a page).
func (db *DB) FollowedBy(ctx context.Context, followerID int64, targets []FollowTarget) (map[FollowTarget]bool, error) {
	var creators, shops []int64
	for _, t := range targets {
		if t.CreatorID != 0 {
			creators = append(creators, t.CreatorID)
		} else {
			shops = append(shops, t.ShopID)
		}
	}
	var rows []struct {
		CreatorID *int64 `db:"creator_id"`
		ShopID    *int64 `db:"shop_id"`
	}
	err := db.SelectContext(ctx, &rows, `SELECT creator_id, shop_id FROM follows
		WHERE follower_id = $1 AND (creator_id = ANY($2) OR shop_id = ANY($3))`, followerID, pq.Array(creators), pq.Array(shops))
	if err != nil {
		return nil, fmt.Errorf("followed by: %w", err)
	}
	out := make(map[FollowTarget]bool, len(targets))
	for _, t := range targets {
		out[t] = false
	}
	for _, r := range rows {
		if r.CreatorID != nil {
			out[FollowTarget{CreatorID: *r.CreatorID}] = true
		} else {
			out[FollowTarget{ShopID: *r.ShopID}] = true
		}
	}
	return out, nil
}
