package store

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"github.com/lib/pq"
)

// rankedItem is a candidate with what the diversity rules look at.
type rankedItem struct {
	ID       int64   `db:"id"`
	AuthorID int64   `db:"author_id"`
	ShopID   int64   `db:"shop_id"`
	Fresh    bool    `db:"fresh"`
	Matches  bool    `db:"matches"` // a positive affinity for the viewer
	Avoided  bool    `db:"avoided"` // a negative one
	Score    float64 `db:"score"`
	// Seed varies the discovery slots (Diversify) from one page to the
	// next, deterministically: the same for every item of a ranking.
	Seed int64 `db:"seed"`
}

// forYou answers a page of the For You feed. The first page ranks every
// candidate for the viewer and stores the arrangement as a walk (or, within
// args.Rankings' TTL, continues the walk another first page stored for the
// same viewer, writing nothing); each page after it re-ranks the items not
// served yet for the viewer's profile and scores as they are now (so a
// signal sent meanwhile shows on the next page) and stores that tail as a
// walk row of its own: rows are never changed once written, so a walk still
// never repeats or skips an item, whichever of its cursors continues it.
// A ranked page costs two statements (a walk's end one, a walk no longer
// kept two), a reused first page one; a ranked page costs one when args.Rankings keeps
// the viewer's state and, on a next page, the walk row (viewerState).
func (db *DB) forYou(ctx context.Context, args FeedArgs) (Page[Content], error) {
	s := args.ForYou
	if s == nil {
		s = &DefaultForYouSettings
	}
	profile := args.Profile
	if profile == "" && args.ViewerID != 0 {
		profile = UserProfile(args.ViewerID)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var (
		cur   walkCursor
		items []rankedItem
		err   error
	)
	var (
		order []int64
		ok    bool // the page was served: its arrangement may be reused
		found bool // a next page's walk was found
	)
	if args.After == "" {
		key := ""
		var (
			gen    uint64
			kept   feedRanking
			reused bool
		)
		if args.Rankings != nil {
			key = rankingKey(args, profile, s)
			var done func()
			kept, gen, reused, done = args.Rankings.get(ctx, key, profile, now)
			defer done()
		}
		if reused {
			return db.forYouPage(ctx, args, walkCursor{Walk: kept.walk}, kept.order, true)
		}
		cur.Walk = newWalkID()
		items, _, err = db.rankForYou(ctx, args.Rankings, s, args.Weights, profile, args.ViewerID, now, 0, 0)
		if err == nil && args.Rankings != nil {
			defer func() {
				if order != nil && ok {
					args.Rankings.put(key, profile, gen, feedRanking{order: order, walk: cur.Walk, at: now})
				}
			}()
		}
	} else {
		if cur, err = decodeWalkCursor(args.After); err != nil {
			return Page[Content]{}, err
		}
		items, found, err = db.rankForYou(ctx, args.Rankings, s, args.Weights, profile, args.ViewerID, now, cur.Walk, cur.Pos-cur.Off)
		if err == nil && !found {
			items = nil
		}
	}
	if err != nil {
		return Page[Content]{}, err
	}
	if args.After != "" && len(items) == 0 {
		// The walk's end, or a walk no longer there (expired, or lost in
		// a crash), which missingWalk tells the client.
		if !found {
			if err := db.missingWalk(ctx, cur, args.ViewerID, "feed"); err != nil {
				return Page[Content]{}, err
			}
		}
		return walkPage(nil, cur, args.PageArgs), nil
	}
	// Discovery's order: this profile's own (so that people discover
	// different things), moved by each signal that engaged and by the
	// position in the walk.
	h := fnv.New64a()
	_, _ = h.Write([]byte(profile))
	for i := range items {
		items[i].Seed = int64(h.Sum64()) ^ (items[i].Seed*1_000_003 + cur.Pos)
	}
	// Only the page (and a reused first page's spare) is served in this
	// order; the rest is the tail, re-ranked by the next page.
	order = diversifyFirst(items, args.First, s, arranged(args.First))
	if args.After != "" {
		// The re-ranked tail goes into a row of its own, which holds the
		// walk's positions after cur.Pos.
		cur = walkCursor{Walk: newWalkID(), Pos: cur.Pos, Off: cur.Pos}
	}
	p, err := db.forYouPage(ctx, args, cur, order, false)
	ok = err == nil
	return p, err
}

// forYouSpare is how many items past a page a first page served from a
// reused arrangement reads, so that live sessions that ended since it was
// ranked can be left out and the page still be full.
const forYouSpare = 5

// arranged is how many items of a ranking a page of first items arranges:
// the page, one to tell whether another follows, and the spare.
func arranged(first int) int { return first + 1 + forYouSpare }

// forYouPage returns the page at the head of order, the arrangement of the
// walk's items after cur.Pos, in one statement. Unless reused, it stores
// order in the same statement as a new walk row with id cur.Walk, holding
// the walk's positions after cur.Off (a first page's whole arrangement, or
// the tail a next page re-ranked). From a reused arrangement, already
// stored as row cur.Walk by the first page that ranked it, it writes
// nothing, and leaves out of the page the live sessions that ended since
// (they stay in the walk, whose later pages leave them out too). A row it
// stores is kept in args.Rankings too, for the walk's next page.
func (db *DB) forYouPage(ctx context.Context, args FeedArgs, cur walkCursor, order []int64, reused bool) (Page[Content], error) {
	n := args.First + 1
	if reused {
		n += forYouSpare
	}
	page := order[:min(len(order), n)]
	// The page's rows this process keeps (db.feedRows) are not read again.
	readAt := time.Now()
	kept, missing := db.feedRows.get(page, readAt)
	var (
		rows []contentRow
		err  error
	)
	switch {
	case reused && len(missing) == 0:
		// Nothing to read and nothing to write: no statement.
	case reused:
		err = db.SelectContext(ctx, &rows, `SELECT `+contentColumns+` FROM contents c WHERE c.id = ANY($1)`,
			pq.Array(missing))
	case len(missing) == 0:
		_, err = db.ExecContext(ctx, `INSERT INTO list_walks (id, viewer_id, kind, ids) VALUES ($1, $2, 'feed', $3)`,
			cur.Walk, args.ViewerID, pq.Array(order))
	default:
		err = db.SelectContext(ctx, &rows, `WITH walk AS (INSERT INTO list_walks (id, viewer_id, kind, ids) VALUES ($1, $2, 'feed', $3))
			SELECT `+contentColumns+` FROM contents c WHERE c.id = ANY($4)`,
			cur.Walk, args.ViewerID, pq.Array(order), pq.Array(missing))
	}
	if err != nil {
		return Page[Content]{}, fmt.Errorf("feed: %w", err)
	}
	db.feedRows.put(rows, readAt)
	if !reused {
		// A next page on this process reads the row's tail from memory.
		args.Rankings.putWalk(cur.Walk, args.ViewerID, order, time.Now())
	}
	for i := range rows {
		kept[rows[i].ID] = &rows[i]
	}
	if reused {
		// Live sessions that ended since the arrangement was ranked are
		// left out.
		for id, r := range kept {
			if r.Kind != KindVideo && r.LiveStatus.String == LiveEnded {
				delete(kept, id)
			}
		}
	}
	byID := kept
	out := make([]feedRow, 0, len(page))
	for i, id := range page {
		if r := byID[id]; r != nil && len(out) < args.First+1 {
			out = append(out, feedRow{Pos: cur.Pos + int64(i) + 1, contentRow: *r})
		}
	}
	return walkPage(out, cur, args.PageArgs), nil
}

// Diversify arranges ranked items (best first) into pages of pageSize:
// each slot takes the best item left whose author is not the previous
// item's, whose shop has fewer than ShopCapPerPage items on the page, and
// which, if fresh with little exposure, keeps such items within
// ExploreShare of the page. When no item left meets every rule, the rules
// are relaxed in that order (exploration cap, shop cap, author). The
// exploration share is also reserved: every 1/ExploreShare-th slot of a
// page goes to the best fresh item left that matches the viewer's
// interests, if one meets the rules, so new content reaches the people it
// suits even below established favourites; when there is none, the slot
// goes to discovery: an item the viewer has no affinity for either way, picked in an order that the items' Seed shuffles (so pages
// served after different signals or at different positions of a walk
// discover different things). Without discovery a feed only ever shows
// what the viewer already engaged with, and never learns an interest
// that the first pages happened not to show. It returns the items' ids in
// page order.
func Diversify(items []rankedItem, pageSize int, s *ForYouSettings) []int64 {
	return diversifyFirst(items, pageSize, s, len(items))
}

// diversifyWindow bounds the search for a slot (diversifyFirst): past the
// first diversifyWindow items left in rank order, the rules give way.
const diversifyWindow = 200

// diversifyFirst is Diversify for the first n slots only: they are what
// Diversify's are (each slot's pick depends on the slots before it), and
// the items left follow in rank order. A page serves only the head of its
// arrangement; the rest is the walk's tail, which the next page re-ranks
// (it reads it as a set), so arranging it would be work thrown away.
func diversifyFirst(items []rankedItem, pageSize int, s *ForYouSettings, n int) []int64 {
	if pageSize <= 0 {
		pageSize = 1
	}
	shopCap := int(s.ShopCapPerPage)
	if shopCap <= 0 {
		shopCap = math.MaxInt
	}
	exploreCap := int(math.Floor(s.ExploreShare * float64(pageSize)))
	every := 0 // the reserved exploration slots: every such slot of a page
	if s.ExploreShare > 0 {
		every = int(math.Round(1 / s.ExploreShare))
	}
	// The items left, in rank order, as a linked list (a pick unlinks in
	// constant time), and the discovery candidates (no affinity either way)
	// in discovery order: a slot costs at most the window, not the items
	// left.
	arrange := min(max(n, 0), len(items))
	n = len(items)
	next, prev := make([]int, n+1), make([]int, n+1) // n is the list's head and end
	for i := 0; i <= n; i++ {
		next[i], prev[i] = i+1, i-1
	}
	next[n], prev[0] = 0, n
	taken := make([]bool, n)
	neutral := make([]int, 0, n)
	hashes := make([]uint64, n)
	// Each item's shop as a small index (0: none) into the page's counts:
	// the rules look at a shop's count for every item they pass over.
	shopOf := make([]int32, n)
	shopIdx := make(map[int64]int32, 64)
	for i, it := range items {
		if !it.Matches && !it.Avoided {
			neutral = append(neutral, i)
			hashes[i] = mix64(uint64(it.Seed)*0x9e3779b97f4a7c15 ^ uint64(it.ID))
		}
		if it.ShopID != 0 {
			k, ok := shopIdx[it.ShopID]
			if !ok {
				k = int32(len(shopIdx) + 1)
				shopIdx[it.ShopID] = k
			}
			shopOf[i] = k
		}
	}
	slices.SortStableFunc(neutral, func(a, b int) int { return cmp.Compare(hashes[a], hashes[b]) })
	out := make([]int64, 0, n)
	// shops[k]: the page's items of shop k; shops[0] (no shop) stays 0,
	// never capped (shopCap >= 1). onPage: the shops counted on the page,
	// to clear them.
	shops := make([]int, len(shopIdx)+1)
	onPage := make([]int32, 0, pageSize)
	explored := 0
	prevAuthor := int64(-1)
	for len(out) < arrange {
		if len(out)%pageSize == 0 {
			for _, k := range onPage {
				shops[k] = 0
			}
			onPage = onPage[:0]
			explored = 0
		}
		pick := -1
		if every > 0 && (len(out)%pageSize+1)%every == 0 && explored < exploreCap {
			for i, k := next[n], 0; i != n && k < diversifyWindow; i, k = next[i], k+1 {
				it := &items[i]
				if it.Fresh && it.Matches && it.AuthorID != prevAuthor && shops[shopOf[i]] < shopCap {
					pick = i
					break
				}
			}
			if pick < 0 {
				// Discovery: the first neutral item left, in discovery
				// order, that meets the author and shop rules.
				for len(neutral) > 0 && taken[neutral[0]] {
					neutral = neutral[1:]
				}
				for _, i := range neutral {
					if taken[i] || items[i].AuthorID == prevAuthor || shops[shopOf[i]] >= shopCap {
						continue
					}
					pick = i
					break
				}
			}
		}
		for pass := 0; pass < 4 && pick < 0; pass++ {
			for i, k := next[n], 0; i != n && k < diversifyWindow; i, k = next[i], k+1 {
				it := &items[i]
				if pass < 3 && it.AuthorID == prevAuthor {
					continue
				}
				if pass < 2 && shops[shopOf[i]] >= shopCap {
					continue
				}
				if pass < 1 && it.Fresh && explored >= exploreCap {
					continue
				}
				pick = i
				break
			}
		}
		it := &items[pick]
		taken[pick] = true
		next[prev[pick]], prev[next[pick]] = next[pick], prev[pick]
		out = append(out, it.ID)
		prevAuthor = it.AuthorID
		if k := shopOf[pick]; k != 0 {
			if shops[k] == 0 {
				onPage = append(onPage, k)
			}
			shops[k]++
		}
		if it.Fresh {
			explored++
		}
	}
	for i := next[n]; i != n; i = next[i] {
		out = append(out, items[i].ID)
	}
	return out
}

// mix64 is SplitMix64's finaliser: a well-spread deterministic hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
