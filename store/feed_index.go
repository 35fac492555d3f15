package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DefaultFeedIndexMaxLag is how late, at most, a change made through any API
// process reaches this process's feed index (FEED_INDEX_MAX_LAG): the index
// catches up every half of it, and a ranking that finds it older catches up
// first.
const DefaultFeedIndexMaxLag = time.Second

// FeedChangesRetention is how long the feed index's change log keeps its
// rows (RunFeedChangesPrune): an index that did not catch up for longer
// reloads in full.
const FeedChangesRetention = 10 * time.Minute

// feedEntry is what the For You ranking reads of one content. Entries
// live in one slab (FeedIndex.entries) indexed by slot and hold no pointer
// (tags, categories and campaign windows are ids of lists interned in the
// index), so that the garbage collector does not scan them: at 2,000,000
// contents, individually allocated entries with three slices each made
// every collection follow some 15 million pointers. A change overwrites
// the entry in place (x.mu write-held); a ranking reads entries with x.mu
// read-held and keeps slots or ids, never a pointer, past it.
type feedEntry struct {
	id, author, shop    int64 // shop 0: none
	published, created  int64 // unix microseconds
	views, likes        int64
	base, gpm, eng      float64
	tags, cats          int32 // ids of interned lists (FeedIndex.listItems; 0: none)
	campaigns           int32 // id of an interned list of windows (FeedIndex.campLists; 0: none)
	live, ended, scored bool  // live: a LIVE on air; ended: not servable (a LIVE ended or without status); scored: has a content_scores row
	isLive              bool  // kind LIVE
	// slot is the content's place in FeedIndex.entries, from 0 to below
	// FeedIndex.slots, kept while the content's author, shop, tags,
	// publication, creation and live state stay and reused after it is
	// gone: a ranking marks the candidates it has drawn in a bitset by
	// slot rather than a map by id.
	slot int32
}

// campaignWindow is when a campaign carried by a content's cards runs,
// [starts, ends) in unix microseconds.
type campaignWindow struct{ starts, ends int64 }

// sortedEntries is a list of entry slots kept in the order of less (a
// strict order: ids break ties), which reads the entries in a slab.
type sortedEntries struct {
	less func(a, b *feedEntry) int
	list []int32
}

// find returns where the entry at slot is, or would be, in s (es: the
// slab, the entry as it is listed).
func (s *sortedEntries) find(es []feedEntry, slot int32) (int, bool) {
	e := &es[slot]
	return slices.BinarySearchFunc(s.list, e, func(t int32, e *feedEntry) int { return s.less(&es[t], e) })
}

func (s *sortedEntries) insert(es []feedEntry, slot int32) {
	if i, found := s.find(es, slot); !found {
		s.list = slices.Insert(s.list, i, slot)
	}
}

// add appends slot; sort puts the list in order after a load of adds.
func (s *sortedEntries) add(_ []feedEntry, slot int32) { s.list = append(s.list, slot) }

func (s *sortedEntries) sort(es []feedEntry) {
	slices.SortFunc(s.list, func(a, b int32) int { return s.less(&es[a], &es[b]) })
}

func (s *sortedEntries) remove(es []feedEntry, slot int32) {
	if i, found := s.find(es, slot); found && s.list[i] == slot {
		s.list = slices.Delete(s.list, i, i+1)
	}
}

func byIDDesc(a, b *feedEntry) int { return cmp.Compare(b.id, a.id) }

func byPublishedDesc(a, b *feedEntry) int {
	if c := cmp.Compare(b.published, a.published); c != 0 {
		return c
	}
	return cmp.Compare(b.id, a.id)
}

func byCreatedDesc(a, b *feedEntry) int {
	if c := cmp.Compare(b.created, a.created); c != 0 {
		return c
	}
	return cmp.Compare(b.id, a.id)
}

// FeedIndex holds, in this process, what the For You ranking needs of every
// content (author, shop, tags, card categories, scores, publication and
// creation, exposure, live state, campaigns carried), with the orders its
// candidate sources read (newest of a creator, a shop or a tag; most
// popular; converting; fresh; new since the last score refresh). It is
// loaded in full once and kept current from the change log feed_changes
// (migration 0026), which triggers fill whatever process wrote: see
// DB.FeedIndex and RunFeedIndex.
type FeedIndex struct {
	// catchUp serialises loads and catch-ups.
	catchUp sync.Mutex

	mu        sync.RWMutex
	loaded    bool
	snapshot  string    // the pg_snapshot the index is current as of
	at        time.Time // when that snapshot was taken (this process's clock, before the statement)
	refreshed int64     // content_scores_refreshed.at in unix microseconds (minInt64: never)
	// entries is the slab of entries by slot (a slot of a content gone
	// holds a zero entry until handed out again).
	entries   []feedEntry
	byID      map[int64]int32 // slot by content id
	byAuthor  map[int64]*sortedEntries
	byShop    map[int64]*sortedEntries
	byTag     map[string]*sortedEntries
	onAir     map[int64]int32 // slot by content id
	published sortedEntries
	created   sortedEntries
	strings   map[string]string // interned tags and categories
	// lists are the ids of the interned lists of tags and of categories
	// (by their items joined with NUL, which text never holds), listItems
	// their items by id (0: the empty list): contents share a few hundred
	// lists, read by every ranking, instead of holding one each.
	lists     map[string]int32
	listItems [][]string
	// campLists are the interned lists of campaign windows by id (0: none),
	// campKeys their ids by their windows' bytes: contents carrying the
	// same campaigns share one.
	campKeys  map[string]int32
	campLists [][]campaignWindow
	// slots is one past the highest entry slot handed out (len(entries));
	// freeSlots are those of contents gone, handed out again first.
	slots     int32
	freeSlots []int32
	// scoresVersion moves with every change of a scored content's base
	// score or GPM (or a scored content added, moved or gone); the popular
	// and converting orders are brought up to date for a new version.
	scoresVersion uint64
	// scoreChanges are the contents whose change moved scoresVersion since
	// the top cache was last brought up to date (x.mu write-held, or
	// read-held with topCache held); scoreChangesAll: too many, or a full
	// load: the top cache is recomputed in full.
	scoreChanges    []int64
	scoreChangesAll bool
	topCache        struct {
		sync.Mutex
		version      uint64
		popularN     int
		gpmN         int
		popular, gpm []topItem // the first popularN and gpmN of the reserves
		// The reserves: the first entries of each order (their score as
		// it was, and id), up to twice as many as asked for, so that a
		// change of a few scores updates them without a pass over every
		// entry (see updateTop); complete: a reserve holds every eligible
		// entry.
		popularAll, gpmAll           []topItem
		popularComplete, gpmComplete bool
		passes                       int // full passes, for tests
	}

	loads int // full loads, for tests
	// gone are contents deleted (seen go by a catch-up, or missing after a
	// catch-up that a walk holding them forced): a walk holding one needs
	// no catch-up for it. Ids are never reused, so it outlives full loads.
	gone map[int64]bool
}

func newFeedIndex() *FeedIndex {
	return &FeedIndex{}
}

// feedIndexEntryColumns reads one content's entry but its campaigns (c:
// contents, cs: content_scores).
const feedIndexEntryColumns = `c.id, c.kind = 'LIVE' AS is_live, coalesce(c.live_status, '') AS live_status, c.author_id, coalesce(c.shop_id, 0) AS shop_id,
	c.tags, c.card_categories, (extract(epoch FROM c.published_at) * 1000000)::bigint AS published,
	(extract(epoch FROM c.created_at) * 1000000)::bigint AS created, c.view_count, c.like_count,
	cs.content_id IS NOT NULL AS scored, coalesce(cs.base_score, 0) AS base, coalesce(cs.gpm_7d, 0) AS gpm, coalesce(cs.engagement_7d, 0) AS eng`

// feedIndexColumns reads one content's entry, its campaigns' windows by
// two subqueries on its cards: what a catch-up reads of the few contents
// changed.
const feedIndexColumns = feedIndexEntryColumns + `,
	coalesce((SELECT array_agg((extract(epoch FROM k.starts_at) * 1000000)::bigint ORDER BY k.id, cv.variant_id)
		FROM content_products cp JOIN campaign_variants cv ON cv.product_id = cp.product_id JOIN campaigns k ON k.id = cv.campaign_id
		WHERE cp.content_id = c.id), '{}') AS camp_starts,
	coalesce((SELECT array_agg((extract(epoch FROM k.ends_at) * 1000000)::bigint ORDER BY k.id, cv.variant_id)
		FROM content_products cp JOIN campaign_variants cv ON cv.product_id = cp.product_id JOIN campaigns k ON k.id = cv.campaign_id
		WHERE cp.content_id = c.id), '{}') AS camp_ends`

// feedIndexLoadSQL reads every content's entry for a full load: the same
// rows as feedIndexColumns, but the campaigns' windows come from one
// grouped join of the cards that carry a campaign, not from two subqueries
// per content (at 2,000,000 contents, 4,000,000 subqueries each probing
// the content's cards).
const feedIndexLoadSQL = `SELECT ` + feedIndexEntryColumns + `,
	coalesce(camp.starts, '{}') AS camp_starts, coalesce(camp.ends, '{}') AS camp_ends
	FROM contents c LEFT JOIN content_scores cs ON cs.content_id = c.id
	LEFT JOIN (SELECT cp.content_id,
			array_agg((extract(epoch FROM k.starts_at) * 1000000)::bigint ORDER BY k.id, cv.variant_id) AS starts,
			array_agg((extract(epoch FROM k.ends_at) * 1000000)::bigint ORDER BY k.id, cv.variant_id) AS ends
		FROM content_products cp JOIN campaign_variants cv ON cv.product_id = cp.product_id JOIN campaigns k ON k.id = cv.campaign_id
		GROUP BY cp.content_id) camp ON camp.content_id = c.id`

type feedIndexRow struct {
	ID         int64          `db:"id"`
	IsLive     bool           `db:"is_live"`
	LiveStatus string         `db:"live_status"`
	Author     int64          `db:"author_id"`
	Shop       int64          `db:"shop_id"`
	Tags       pq.StringArray `db:"tags"`
	Cats       pq.StringArray `db:"card_categories"`
	Published  int64          `db:"published"`
	Created    int64          `db:"created"`
	Views      int64          `db:"view_count"`
	Likes      int64          `db:"like_count"`
	Scored     bool           `db:"scored"`
	Base       float64        `db:"base"`
	GPM        float64        `db:"gpm"`
	Eng        float64        `db:"eng"`
	CampStarts pq.Int64Array  `db:"camp_starts"`
	CampEnds   pq.Int64Array  `db:"camp_ends"`
}

// feedIndexMeta is what a load or catch-up reads besides contents.
type feedIndexMeta struct {
	Snapshot  string        `db:"snapshot"`
	Xmin      string        `db:"xmin"`
	Pruned    string        `db:"pruned"`
	Refreshed sql.NullInt64 `db:"refreshed"`
	// Behind: the previous snapshot's xmin is below what was pruned.
	Behind bool `db:"behind"`
}

const feedIndexMetaSQL = `SELECT pg_current_snapshot()::text AS snapshot, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
	(SELECT below FROM feed_changes_pruned)::text AS pruned,
	(SELECT CASE WHEN at = '-infinity' THEN NULL ELSE (extract(epoch FROM at) * 1000000)::bigint END FROM content_scores_refreshed) AS refreshed,
	CASE WHEN $1 = '' THEN true ELSE pg_snapshot_xmin($1::pg_snapshot) < coalesce((SELECT below FROM feed_changes_pruned), '0'::xid8) END AS behind`

// refresh brings the index up to date: a full load the first time (or when
// it fell behind the change log's retention), else the contents changed
// since the last catch-up's snapshot. It runs on a context of its own, so
// that no request's statement counter counts it.
//
// With shared, a catch-up that another caller finished while this one
// waited for it does (rankings with a max lag: under load, catch-ups
// taking longer than the lag would otherwise run one per waiting ranking).
func (x *FeedIndex) refresh(db *DB, since time.Time, shared bool) error {
	return x.refreshWithin(context.Background(), db, since, shared)
}

// refreshWithin is refresh, given up when ctx ends (RunFeedIndex's: a
// server shutting down does not wait for a full load that takes minutes).
func (x *FeedIndex) refreshWithin(parent context.Context, db *DB, since time.Time, shared bool) error {
	x.mu.RLock()
	done := x.loaded && !x.at.Before(since)
	seen := x.at
	x.mu.RUnlock()
	if done {
		return nil
	}
	x.catchUp.Lock()
	defer x.catchUp.Unlock()
	x.mu.RLock()
	done = x.loaded && (!x.at.Before(since) || (shared && !x.at.Equal(seen)))
	x.mu.RUnlock()
	if done {
		// Another catch-up began after since: it saw what this one would.
		return nil
	}
	// A full load reads every content (2,000,000 took 27 s on a loaded
	// machine, more on a slower one): it gets up to 30 minutes, past the
	// pool's statement timeout; a catch-up one minute.
	limit := time.Minute
	x.mu.RLock()
	prev := x.snapshot
	x.mu.RUnlock()
	if prev == "" {
		limit = 30 * time.Minute
	}
	ctx, cancel := context.WithTimeout(parent, limit)
	defer cancel()
	started := time.Now()
	tx, err := db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("feed index: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, `SELECT set_config('statement_timeout', $1, true)`, fmt.Sprint(limit.Milliseconds())); err != nil {
		return fmt.Errorf("feed index: %w", err)
	}
	var meta feedIndexMeta
	if err := tx.GetContext(ctx, &meta, feedIndexMetaSQL, prev); err != nil {
		return fmt.Errorf("feed index: %w", err)
	}
	var rows []feedIndexRow
	var fresh *FeedIndex
	full := prev == "" || meta.Behind
	if full {
		fresh, err = loadFeedIndex(ctx, tx)
	} else {
		err = tx.SelectContext(ctx, &rows, `WITH ch AS (
				SELECT DISTINCT content_id FROM feed_changes
				WHERE txid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(txid, $1::pg_snapshot))
			SELECT `+feedIndexColumns+` FROM ch JOIN contents c ON c.id = ch.content_id LEFT JOIN content_scores cs ON cs.content_id = c.id
			UNION ALL
			-- contents gone: an entry without kind
			SELECT ch.content_id, false, 'GONE', 0, 0, '{}', '{}', 0, 0, 0, 0, false, 0, 0, 0, '{}', '{}'
			FROM ch WHERE NOT EXISTS (SELECT 1 FROM contents c WHERE c.id = ch.content_id)`, prev)
	}
	if err != nil {
		return fmt.Errorf("feed index: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("feed index: %w", err)
	}
	x.mu.Lock()
	if full {
		x.adopt(fresh)
		x.loads++
	}
	for i := range rows {
		x.apply(&rows[i], false)
	}
	x.snapshot = meta.Snapshot
	x.at = started
	x.refreshed = minInt64
	if meta.Refreshed.Valid {
		x.refreshed = meta.Refreshed.Int64
	}
	x.loaded = true
	x.mu.Unlock()
	x.mu.RLock()
	x.warmTops()
	x.mu.RUnlock()
	return nil
}

const minInt64 = -1 << 63

// loadFeedIndex reads every content into a fresh index, each row applied
// as it arrives: at 2,000,000 contents, the rows held all at once before
// being applied took about as much memory again as the index (a struct,
// two string arrays and two integer arrays per row). The fresh index is
// nobody else's, so rankings and readiness read the current one meanwhile.
func loadFeedIndex(ctx context.Context, tx *sqlx.Tx) (*FeedIndex, error) {
	fresh := newFeedIndex()
	fresh.reset()
	rows, err := tx.QueryxContext(ctx, feedIndexLoadSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r feedIndexRow
		if err := rows.StructScan(&r); err != nil {
			return nil, err
		}
		fresh.apply(&r, true)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fresh.sortAll()
	return fresh, nil
}

// adopt makes a freshly loaded index's contents this one's (x.mu held):
// what reset and a load of every row would leave, the contents known gone
// and the load count kept.
func (x *FeedIndex) adopt(f *FeedIndex) {
	x.entries, x.byID, x.byAuthor, x.byShop, x.byTag, x.onAir = f.entries, f.byID, f.byAuthor, f.byShop, f.byTag, f.onAir
	x.published, x.created = f.published, f.created
	x.strings, x.lists, x.listItems = f.strings, f.lists, f.listItems
	x.campKeys, x.campLists = f.campKeys, f.campLists
	x.slots, x.freeSlots = f.slots, f.freeSlots
	x.scoreChanges, x.scoreChangesAll = nil, true
	x.scoresVersion++
}

func (x *FeedIndex) reset() {
	x.entries = nil
	x.byID = map[int64]int32{}
	x.byAuthor = map[int64]*sortedEntries{}
	x.byShop = map[int64]*sortedEntries{}
	x.byTag = map[string]*sortedEntries{}
	x.onAir = map[int64]int32{}
	x.published = sortedEntries{less: byPublishedDesc}
	x.created = sortedEntries{less: byCreatedDesc}
	x.slots, x.freeSlots = 0, nil
	x.scoreChanges, x.scoreChangesAll = nil, true
	if x.strings == nil {
		x.strings = map[string]string{}
		x.lists = map[string]int32{}
		x.listItems = [][]string{nil}
		x.campKeys = map[string]int32{}
		x.campLists = [][]campaignWindow{nil}
	}
	x.scoresVersion++
}

// intern returns the id of the interned list of ss (0 for none; x.mu
// held).
func (x *FeedIndex) intern(ss []string) int32 {
	if len(ss) == 0 {
		return 0
	}
	key := strings.Join(ss, "\x00")
	if id, ok := x.lists[key]; ok {
		return id
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		if v, ok := x.strings[s]; ok {
			out[i] = v
		} else {
			x.strings[s] = s
			out[i] = s
		}
	}
	id := int32(len(x.listItems))
	x.listItems = append(x.listItems, out)
	x.lists[key] = id
	return id
}

// internCampaigns returns the id of the interned list of the windows
// [starts[i], ends[i]) (0 for none; x.mu held).
func (x *FeedIndex) internCampaigns(starts, ends []int64) int32 {
	n := min(len(starts), len(ends))
	if n == 0 {
		return 0
	}
	key := make([]byte, 0, 16*n)
	for i := range n {
		key = binary.LittleEndian.AppendUint64(key, uint64(starts[i]))
		key = binary.LittleEndian.AppendUint64(key, uint64(ends[i]))
	}
	if id, ok := x.campKeys[string(key)]; ok {
		return id
	}
	ws := make([]campaignWindow, n)
	for i := range n {
		ws[i] = campaignWindow{starts[i], ends[i]}
	}
	id := int32(len(x.campLists))
	x.campLists = append(x.campLists, ws)
	x.campKeys[string(key)] = id
	return id
}

// tagsOf, catsOf and campaignsOf return an entry's tags, card categories
// and campaign windows (interned: not to be changed; x.mu held).
func (x *FeedIndex) tagsOf(e *feedEntry) []string { return x.listItems[e.tags] }

func (x *FeedIndex) catsOf(e *feedEntry) []string { return x.listItems[e.cats] }

func (x *FeedIndex) campaignsOf(e *feedEntry) []campaignWindow { return x.campLists[e.campaigns] }

// entry returns content id's entry, nil when the index lacks it (x.mu
// held; the pointer is good until x.mu is let go: a change may move the
// slab).
func (x *FeedIndex) entry(id int64) *feedEntry {
	if s, ok := x.byID[id]; ok {
		return &x.entries[s]
	}
	return nil
}

// slotOf returns content id's slot, -1 when the index lacks it (x.mu
// held).
func (x *FeedIndex) slotOf(id int64) int32 {
	if s, ok := x.byID[id]; ok {
		return s
	}
	return -1
}

func listOf[K comparable](m map[K]*sortedEntries, k K, less func(a, b *feedEntry) int) *sortedEntries {
	l := m[k]
	if l == nil {
		l = &sortedEntries{less: less}
		m[k] = l
	}
	return l
}

// sortAll orders every list after a full load (x.mu held).
func (x *FeedIndex) sortAll() {
	for _, m := range []map[int64]*sortedEntries{x.byAuthor, x.byShop} {
		for _, l := range m {
			l.sort(x.entries)
		}
	}
	for _, l := range x.byTag {
		l.sort(x.entries)
	}
	x.published.sort(x.entries)
	x.created.sort(x.entries)
}

// apply writes one content's entry (x.mu held). In a full load (bulk) it
// appends to the lists, and sortAll orders them at the end.
func (x *FeedIndex) apply(r *feedIndexRow, bulk bool) {
	slot, had := x.byID[r.ID]
	if r.LiveStatus == "GONE" {
		if had {
			scored := x.entries[slot].scored
			x.unlink(slot)
			if scored {
				x.scoreMoved(r.ID)
			}
		}
		x.markGone(r.ID)
		return
	}
	e := x.entryOf(r)
	wasScored := false
	if had {
		old := &x.entries[slot]
		wasScored = old.scored
		if sameOrder(old, &e) {
			// Most changes (views, likes, scores) move no list order: the
			// entry is overwritten where it is, the lists untouched.
			moved := old.base != e.base || old.gpm != e.gpm || old.scored != e.scored
			e.slot = slot
			*old = e
			if moved {
				x.scoreMoved(e.id)
			}
			return
		}
		// Its places move: out of every list while it still reads as
		// listed, then in again as it is now.
		x.unlink(slot)
	}
	if n := len(x.freeSlots); n > 0 {
		e.slot, x.freeSlots = x.freeSlots[n-1], x.freeSlots[:n-1]
		x.entries[e.slot] = e
	} else {
		e.slot = x.slots
		x.slots++
		x.entries = append(x.entries, e)
	}
	slot = e.slot
	x.byID[e.id] = slot
	put := (*sortedEntries).insert
	if bulk {
		put = (*sortedEntries).add
	}
	es := x.entries
	put(listOf(x.byAuthor, e.author, byIDDesc), es, slot)
	if e.shop != 0 {
		put(listOf(x.byShop, e.shop, byIDDesc), es, slot)
	}
	tags := x.listItems[e.tags]
	for i, t := range tags {
		if slices.Contains(tags[:i], t) {
			// a tag listed twice (publishVideo keeps tags as given) lists
			// the content once: a bulk add would append it twice
			continue
		}
		put(listOf(x.byTag, t, byPublishedDesc), es, slot)
	}
	if e.live {
		x.onAir[e.id] = slot
	}
	put(&x.published, es, slot)
	put(&x.created, es, slot)
	if e.scored || wasScored {
		x.scoreMoved(e.id)
	}
}

// scoreMoved notes that content id's place in the popular or converting
// order may have moved (x.mu held).
func (x *FeedIndex) scoreMoved(id int64) {
	x.scoresVersion++
	if x.scoreChangesAll {
		return
	}
	if len(x.scoreChanges) >= max(len(x.byID)/8, 1024) {
		// a pass over every entry costs less than sorting these in
		x.scoreChanges, x.scoreChangesAll = nil, true
		return
	}
	x.scoreChanges = append(x.scoreChanges, id)
}

// sameOrder reports whether a and b (two versions of one content) sit at
// the same places in every list: the same author, shop, tags (interned:
// the same list, the same id), publication, creation and live state.
func sameOrder(a, b *feedEntry) bool {
	return a.author == b.author && a.shop == b.shop && a.published == b.published && a.created == b.created &&
		a.live == b.live && a.tags == b.tags
}

// entryOf makes the entry of a row, its slot not set (x.mu held: it
// interns).
func (x *FeedIndex) entryOf(r *feedIndexRow) feedEntry {
	return feedEntry{id: r.ID, author: r.Author, shop: r.Shop, published: r.Published, created: r.Created,
		views: r.Views, likes: r.Likes, base: r.Base, gpm: r.GPM, eng: r.Eng, scored: r.Scored,
		tags: x.intern(r.Tags), cats: x.intern(r.Cats), campaigns: x.internCampaigns(r.CampStarts, r.CampEnds), isLive: r.IsLive,
		live: r.IsLive && r.LiveStatus == "LIVE", ended: r.IsLive && (r.LiveStatus == "" || r.LiveStatus == "ENDED")}
}

// unlink takes the entry at slot out of every list and frees its slot
// (x.mu held).
func (x *FeedIndex) unlink(slot int32) {
	es := x.entries
	e := &es[slot]
	delete(x.byID, e.id)
	x.freeSlots = append(x.freeSlots, slot)
	if l := x.byAuthor[e.author]; l != nil {
		if l.remove(es, slot); len(l.list) == 0 {
			delete(x.byAuthor, e.author)
		}
	}
	if l := x.byShop[e.shop]; l != nil {
		if l.remove(es, slot); len(l.list) == 0 {
			delete(x.byShop, e.shop)
		}
	}
	for _, t := range x.listItems[e.tags] {
		if l := x.byTag[t]; l != nil {
			if l.remove(es, slot); len(l.list) == 0 {
				delete(x.byTag, t)
			}
		}
	}
	delete(x.onAir, e.id)
	x.published.remove(es, slot)
	x.created.remove(es, slot)
	*e = feedEntry{}
}

// topItem is an entry of a top list: its id and the score it is ordered
// by (base score or GPM) as it was when the list was brought up to date.
type topItem struct {
	score float64
	id    int64
}

// byTopDesc orders top items by score, then id, descending: as byBaseDesc
// and byGPMDesc order the entries they were taken from.
func byTopDesc(a, b topItem) int {
	if r := cmp.Compare(b.score, a.score); r != 0 {
		return r
	}
	return cmp.Compare(b.id, a.id)
}

func baseOf(e *feedEntry) float64 { return e.base }

func gpmOf(e *feedEntry) float64 { return e.gpm }

// tops returns the n most popular scored contents (base score, then id,
// descending) and the n converting most (GPM > 0, then id, descending),
// recomputed when a score moved (x.mu read-held). The items are those of
// the last recomputation: a caller reads a content's current entry by id.
// A catch-up that moved a score recomputes them for the last sizes asked
// (see warmTops), so that rankings seldom wait for it.
func (x *FeedIndex) tops(popularN, gpmN int) (popular, gpm []topItem) {
	c := &x.topCache
	c.Lock()
	defer c.Unlock()
	if c.version != x.scoresVersion || c.popularN != popularN || c.gpmN != gpmN || c.popular == nil {
		x.computeTops(popularN, gpmN)
	}
	return c.popular, c.gpm
}

// warmTops recomputes the lists tops returns, for the sizes last asked,
// when a score moved since (x.mu read-held): a catch-up calls it, off the
// rankings' path.
func (x *FeedIndex) warmTops() {
	c := &x.topCache
	c.Lock()
	defer c.Unlock()
	if c.popular != nil && c.version != x.scoresVersion {
		x.computeTops(c.popularN, c.gpmN)
	}
}

// computeTops brings the top cache up to date (x.mu read-held, x.topCache
// held): from the reserves and the contents whose score moved since
// (updateTop) when it can, else in one pass over the entries (the
// published list's slots, not the map) that compares an entry further
// only when it may beat the worst kept.
func (x *FeedIndex) computeTops(popularN, gpmN int) {
	c := &x.topCache
	popularR, gpmR := topReserve(popularN), topReserve(gpmN)
	defer func() {
		c.version, c.popularN, c.gpmN = x.scoresVersion, popularN, gpmN
		c.popular, c.gpm = c.popularAll[:min(popularN, len(c.popularAll))], c.gpmAll[:min(gpmN, len(c.gpmAll))]
		x.scoreChanges, x.scoreChangesAll = x.scoreChanges[:0], false
	}()
	if !x.scoreChangesAll && c.popularAll != nil && c.popularN == popularN && c.gpmN == gpmN {
		changed := make(map[int64]bool, len(x.scoreChanges))
		for _, id := range x.scoreChanges {
			changed[id] = true
		}
		p, pComplete, okP := x.updateTop(c.popularAll, c.popularComplete, popularR, popularN, changed, baseOf,
			func(e *feedEntry) bool { return e.scored })
		g, gComplete, okG := x.updateTop(c.gpmAll, c.gpmComplete, gpmR, gpmN, changed, gpmOf,
			func(e *feedEntry) bool { return e.scored && e.gpm > 0 })
		if okP && okG {
			c.popularAll, c.gpmAll, c.popularComplete, c.gpmComplete = p, g, pComplete, gComplete
			return
		}
	}
	c.passes++
	p := topK(popularR)
	g := topK(gpmR)
	es := x.entries
	for _, slot := range x.published.list { // every entry, once
		e := &es[slot]
		if !e.scored {
			continue
		}
		// e.base < the worst kept's: e cannot be kept (with a NaN either
		// way the comparison is false and add decides).
		if p.k > 0 && (len(p.heap) < p.k || !(e.base < p.heap[0].score)) {
			p.add(topItem{e.base, e.id})
		}
		if e.gpm > 0 && g.k > 0 && (len(g.heap) < g.k || !(e.gpm < g.heap[0].score)) {
			g.add(topItem{e.gpm, e.id})
		}
	}
	c.popularAll, c.gpmAll = p.sorted(), g.sorted()
	c.popularComplete, c.gpmComplete = len(c.popularAll) < popularR || popularR == 0, len(c.gpmAll) < gpmR || gpmR == 0
}

// topReserve is how many entries a top list keeps for n asked: twice as
// many (at least 64 more), so that scores moving out of the first n are
// replaced from the reserve.
func topReserve(n int) int {
	if n <= 0 {
		return 0
	}
	return n + max(n, 64)
}

// updateTop brings a reserve (the first entries, by score of and then id,
// among those eligible, at most r, as they were; all of them when
// complete) up to date with the contents changed since, by id (x.mu
// read-held). Every content neither changed nor in the reserve came after
// the reserve's last item (or was not eligible, when complete): so the
// reserve's unchanged items and the changed ones that now come before
// that last item (as it was) are, in order, the first of the whole order.
// ok is false when fewer than n remain of an incomplete reserve (then a
// full pass decides).
func (x *FeedIndex) updateTop(reserve []topItem, complete bool, r, n int, changed map[int64]bool, score func(*feedEntry) float64,
	eligible func(*feedEntry) bool) (out []topItem, stillComplete, ok bool) {
	var last topItem
	if !complete {
		if len(reserve) == 0 {
			return nil, false, false
		}
		last = reserve[len(reserve)-1]
	}
	out = make([]topItem, 0, len(reserve)+len(changed))
	for _, t := range reserve {
		if !changed[t.id] {
			out = append(out, t)
		}
	}
	for id := range changed {
		if e := x.entry(id); e != nil && eligible(e) {
			if t := (topItem{score(e), e.id}); complete || byTopDesc(t, last) < 0 {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, byTopDesc)
	if len(out) > r {
		out, complete = out[:r], false
	}
	return out, complete, complete || len(out) >= n
}

func byBaseDesc(a, b *feedEntry) int {
	if r := cmp.Compare(b.base, a.base); r != 0 {
		return r
	}
	return cmp.Compare(b.id, a.id)
}

func byGPMDesc(a, b *feedEntry) int {
	if r := cmp.Compare(b.gpm, a.gpm); r != 0 {
		return r
	}
	return cmp.Compare(b.id, a.id)
}

// topKeeper keeps the k first items in the order of byTopDesc, with a
// heap whose root is the worst kept.
type topKeeper struct {
	k    int
	heap []topItem
}

func topK(k int) *topKeeper {
	return &topKeeper{k: k, heap: make([]topItem, 0, max(k, 0))}
}

func (t *topKeeper) add(e topItem) {
	if t.k <= 0 {
		return
	}
	h := t.heap
	if len(h) < t.k {
		h = append(h, e)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if byTopDesc(h[p], h[i]) >= 0 {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		t.heap = h
		return
	}
	if byTopDesc(e, h[0]) >= 0 {
		return
	}
	h[0] = e
	for i := 0; ; {
		l, r, w := 2*i+1, 2*i+2, i
		if l < len(h) && byTopDesc(h[l], h[w]) > 0 {
			w = l
		}
		if r < len(h) && byTopDesc(h[r], h[w]) > 0 {
			w = r
		}
		if w == i {
			break
		}
		h[w], h[i] = h[i], h[w]
		i = w
	}
}

func (t *topKeeper) sorted() []topItem {
	out := slices.Clone(t.heap)
	slices.SortFunc(out, byTopDesc)
	if out == nil {
		out = []topItem{}
	}
	return out
}

// holdsAll reports whether the index holds every one of ids, or knows it
// gone.
func (x *FeedIndex) holdsAll(ids []int64) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, id := range ids {
		if _, ok := x.byID[id]; !ok && !x.gone[id] {
			return false
		}
	}
	return true
}

// catchUpFor catches up when the index lacks one of ids (a walk's tail,
// read before this call) and knows it not gone. Every content a walk holds
// was committed before the walk was read, so one the catch-up still lacks
// was deleted since: it is remembered gone, and the walk's next pages need
// no catch-up for it.
func (x *FeedIndex) catchUpFor(db *DB, ids []int64) error {
	if x.holdsAll(ids) {
		return nil
	}
	if err := x.refresh(db, time.Now(), false); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		if _, ok := x.byID[id]; !ok {
			x.markGone(id)
		}
	}
	return nil
}

// markGone remembers a content deleted (x.mu held).
func (x *FeedIndex) markGone(id int64) {
	if x.gone == nil {
		x.gone = map[int64]bool{}
	}
	x.gone[id] = true
}

// Len returns how many contents the index holds.
func (x *FeedIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID)
}

// feedIndexState is a DB's index and how it is kept.
type feedIndexState struct {
	once   sync.Once
	index  *FeedIndex
	maxLag time.Duration
	mu     sync.Mutex
	// running: RunFeedIndex was started (so readiness waits for its load).
	running bool
}

// FeedIndex returns this handle's feed index (made on first use; loaded by
// the first ranking or RunFeedIndex).
func (db *DB) FeedIndex() *FeedIndex {
	db.feedIndex.once.Do(func() { db.feedIndex.index = newFeedIndex() })
	return db.feedIndex.index
}

// SetFeedIndexMaxLag sets how late a change may reach this handle's feed
// index (FEED_INDEX_MAX_LAG): 0, the default, catches up before every
// ranking. Set it before serving.
func (db *DB) SetFeedIndexMaxLag(d time.Duration) {
	db.feedIndex.mu.Lock()
	db.feedIndex.maxLag = max(d, 0)
	db.feedIndex.mu.Unlock()
}

func (db *DB) feedIndexMaxLag() time.Duration {
	db.feedIndex.mu.Lock()
	defer db.feedIndex.mu.Unlock()
	return db.feedIndex.maxLag
}

// RunFeedIndex loads the feed index and catches it up every half of
// maxLag (FEED_INDEX_MAX_LAG) until ctx ends; a failed catch-up (the
// database away) keeps the index as it was and tries again next time. It
// also sets the handle's max lag. When ctx ends it gives up the load or
// catch-up in progress and returns.
//
// Until the first load succeeds FeedIndexReady is false: it retries every
// second (a load at 2,000,000 contents took 27 s on a loaded 2-core machine).
func (db *DB) RunFeedIndex(ctx context.Context, maxLag time.Duration) {
	db.SetFeedIndexMaxLag(maxLag)
	db.feedIndex.mu.Lock()
	db.feedIndex.running = true
	db.feedIndex.mu.Unlock()
	x := db.FeedIndex()
	for x.refreshWithin(ctx, db, time.Now(), false) != nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	if maxLag <= 0 {
		return
	}
	every(ctx, maxLag/2, func() { _ = x.refreshWithin(ctx, db, time.Now(), false) })
}

// FeedIndexReady reports whether rankings can use the feed index at once:
// false only while RunFeedIndex has not finished its first load (the
// server's /readyz waits for it).
func (db *DB) FeedIndexReady() bool {
	db.feedIndex.mu.Lock()
	running := db.feedIndex.running
	db.feedIndex.mu.Unlock()
	if !running {
		return true
	}
	x := db.FeedIndex()
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.loaded
}

// currentFeedIndex returns the index caught up within the handle's max
// lag: it catches up first when its last catch-up is older.
func (db *DB) currentFeedIndex() (*FeedIndex, error) {
	x := db.FeedIndex()
	lag := db.feedIndexMaxLag()
	if err := x.refresh(db, time.Now().Add(-lag), lag > 0); err != nil {
		return nil, err
	}
	return x, nil
}
