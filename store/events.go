package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Engagement event types.
const (
	EventView              = "VIEW"
	EventProductImpression = "PRODUCT_IMPRESSION"
	EventProductClick      = "PRODUCT_CLICK"
	EventShare             = "SHARE"
)

// MaxEventsPerBatch bounds one recordEvents call.
const MaxEventsPerBatch = 500

// CountWindow is how often one viewer's event of one kind on one content
// (and product) can count: once per clock-aligned window of this length
// (on the hour and the half hour). A VIEW repeated within the window adds
// neither a view nor watch time; clicks, impressions and shares likewise.
const CountWindow = 30 * time.Minute

// Event is one engagement signal from a client.
type Event struct {
	Type      string
	ContentID int64
	ProductID int64 // PRODUCT_IMPRESSION and PRODUCT_CLICK
	WatchMs   int64 // VIEW
	At        time.Time
	// Viewer names who sent the event ("user:42", "device:d-81f2"): each
	// kind of event counts once per viewer per content (and product) per
	// CountWindow, across replicas and restarts. Empty means a trusted
	// source counted every time (demo data, benchmarks of the old path).
	Viewer string
}

// onceKey is one (window, kind, content, product, viewer) that counts once:
// the window's start and a 64-bit hash of the rest.
type onceKey struct {
	window int64 // unix seconds of the window's start
	hash   int64
}

// onceKeyOf names the count an event may add once per window.
func onceKeyOf(e Event) onceKey {
	product := int64(0)
	if e.Type == EventProductClick || e.Type == EventProductImpression {
		product = e.ProductID
	}
	// A cryptographic hash, so that nobody can pick a deviceId whose key is
	// another viewer's and keep that viewer's events from counting.
	var buf [128]byte
	b := append(buf[:0], e.Type...)
	b = strconv.AppendInt(append(b, 0), e.ContentID, 10)
	b = strconv.AppendInt(append(b, 0), product, 10)
	b = append(append(b, 0), e.Viewer...)
	sum := sha256.Sum256(b)
	return onceKey{window: e.At.Truncate(CountWindow).Unix(), hash: int64(binary.BigEndian.Uint64(sum[:8]))}
}

type contentBucket struct {
	contentID int64
	bucket    int64 // unix minute
}

type productBucket struct {
	productID int64
	bucket    int64
}

type contentCounts struct{ views, watchMs, shares, impressions, clicks int64 }

type productCounts struct{ impressions, clicks int64 }

// EventBuffer aggregates accepted events in memory and adds them to the
// per-minute counters in one transaction per flush, so the rate of writes
// does not follow the rate of events and hot content never queues on a row
// lock. Likes and unlikes pass through it too, as popularity deltas.
//
// Events with a Viewer count once per viewer per CountWindow: the buffer
// keeps the first of each (window, content, kind, product, viewer), and the
// flush counts it only if engagement_once did not have it yet.
//
// Run flushes every interval, and sooner once a quarter of what Offer lets
// wait is waiting. A large flush is split by viewer into up to
// SetFlushWorkers transactions that run at once (each viewer's events,
// signals and profile rows in one of them, so none is counted or learned
// twice), and Offer refuses events
// while the buffer holds more than the flush writes in half an interval
// (back-pressure: memory and the delay before events count stay bounded).
// The bound is shared fairly between callers: past half of it, a caller
// that holds more than its share is refused while the others' events are
// still taken (see Offer).
type EventBuffer struct {
	db *DB

	mu       sync.Mutex
	contents map[contentBucket]*contentCounts
	products map[productBucket]*productCounts
	once     map[onceKey]Event // the first event of each key since the last flush
	likes    map[int64]int64   // content id -> like delta
	signals  map[signalKey]*signalSum
	pending  int
	// bySource counts the events each caller's Offer added since the last
	// flush, for the fair share of the buffer (shareLocked).
	bySource map[string]int

	// learning weighs what events and signals teach viewers' profiles.
	learning ForYouSettings

	// rankings forgets the For You arrangements of the profiles a flush
	// taught (SetFeedRankings), so a viewer's next first page shows it.
	rankings *FeedRankings

	workers     int           // transactions a large flush is split into
	maxBuffered int           // events Offer lets wait at most
	interval    time.Duration // Run's, for the back-pressure bound
	rate        float64       // events per second recent flushes wrote (0: none measured yet)

	// kick wakes Run for a flush before its next tick once a quarter of
	// what Offer lets wait is waiting (one wake-up pending at most).
	kick chan struct{}

	flushMu   sync.Mutex // one flush at a time
	lastPrune time.Time  // under flushMu
}

// DefaultFlushWorkers is how many transactions a large flush is split into
// unless SetFlushWorkers says otherwise.
const DefaultFlushWorkers = 2

// minPartEvents is the fewest counted-once events a flush's part gets: a
// smaller flush is not split.
const minPartEvents = 2000

// DefaultMaxBufferedEvents bounds the events Offer lets wait for a flush
// unless SetMaxBuffered says otherwise.
const DefaultMaxBufferedEvents = 200_000

// minBufferedEvents is how many events Offer always lets wait, and all it
// lets wait before the first flush measured the flush's speed.
const minBufferedEvents = 10_000

// ReasonBackedUp is the reason of Offer's refusal: events arrive faster
// than they are written; send them again after a second.
const ReasonBackedUp = "EVENTS_BACKED_UP"

// SetFeedRankings makes each flush forget the For You arrangements kept
// in f for the profiles it taught, and announce them to every API process
// (FeedProfilesChannel, in the flush's transaction); call it before the
// buffer is used.
func (b *EventBuffer) SetFeedRankings(f *FeedRankings) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rankings = f
}

// NewEventBuffer returns an empty buffer over db.
func NewEventBuffer(db *DB) *EventBuffer {
	b := &EventBuffer{db: db, learning: DefaultForYouSettings, workers: DefaultFlushWorkers, maxBuffered: DefaultMaxBufferedEvents,
		kick: make(chan struct{}, 1)}
	b.reset()
	return b
}

// SetFlushWorkers sets how many transactions at once a large flush is split
// into (at least 1; DefaultFlushWorkers until set).
func (b *EventBuffer) SetFlushWorkers(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.workers = max(n, 1)
}

// SetMaxBuffered sets the most events Offer lets wait for a flush, however
// fast the flush is (DefaultMaxBufferedEvents until set; at least
// minBufferedEvents).
func (b *EventBuffer) SetMaxBuffered(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.maxBuffered = max(n, minBufferedEvents)
}

// limitLocked is how many events may wait: what the flush writes in half
// an interval at its measured speed, at least minBufferedEvents and at
// most maxBuffered. With b.mu held.
func (b *EventBuffer) limitLocked() int {
	lim := minBufferedEvents
	if b.rate > 0 {
		interval := b.interval
		if interval <= 0 {
			interval = time.Second
		}
		lim = max(lim, int(b.rate*interval.Seconds()/2))
	}
	return min(lim, b.maxBuffered)
}

// behind reports whether enough waits that the next flush should start at
// once rather than at the next tick: a quarter of what Offer lets wait, so
// that a flush starts while a lone caller, refused past half of it, still
// has a quarter of the bound to send into during the flush.
func (b *EventBuffer) behind() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.behindLocked()
}

func (b *EventBuffer) behindLocked() bool { return b.pending >= b.limitLocked()/4 }

func (b *EventBuffer) reset() {
	b.contents = map[contentBucket]*contentCounts{}
	b.products = map[productBucket]*productCounts{}
	b.once = map[onceKey]Event{}
	b.likes = map[int64]int64{}
	b.signals = map[signalKey]*signalSum{}
	b.pending = 0
	b.bySource = map[string]int{}
}

// SetLearning sets the weights of what events and signals teach viewers'
// profiles (DefaultForYouSettings until set); call it before Run.
func (b *EventBuffer) SetLearning(s ForYouSettings) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.learning = s
}

// AddSignal takes a like, comment, add to cart or purchase for the
// viewer's profile; it is learned at the next flush.
func (b *EventBuffer) AddSignal(s Signal) {
	if s.Profile == "" || s.Weight == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	addSignal(b.signals, signalKey{s.Profile, s.ContentID, s.ProductID, s.VariantID}, s.Weight, -1, false)
	b.pending++
}

// Add takes validated events, however many wait (trusted callers: demo
// data, tools). An event whose viewer already sent one of the same key
// since the last flush is dropped here.
func (b *EventBuffer) Add(events []Event) {
	keys := onceKeysOf(events)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.addLocked(events, keys)
}

// Offer takes validated events from one caller (source: "user:42",
// "app:7", "ip:203.0.113.9", whoever the rate limit charges) as Add does,
// unless the buffer already holds more than the flush writes in half an
// interval (at least 10,000 events, at most SetMaxBuffered), or, once it
// holds more than half of that, the caller already holds more than its
// share (shareLocked): then it takes none of them and returns an
// EUnavailable error with ReasonBackedUp, and the client should send them
// again after a second. So one caller's flood is refused before it fills
// the buffer for everyone else. An empty source is one caller like any
// other.
func (b *EventBuffer) Offer(source string, events []Event) error {
	keys := onceKeysOf(events)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending > 0 {
		limit, after := b.limitLocked(), b.pending+len(events)
		if after > limit || (after > limit/2 && b.bySource[source]+len(events) > b.shareLocked(source, limit)) {
			return (&Error{Code: EUnavailable, Field: "events", Message: "events arrive faster than they are written; send them again in a second"}).Because(ReasonBackedUp)
		}
	}
	if added := b.addLocked(events, keys); added > 0 {
		b.bySource[source] += added
	}
	return nil
}

// shareLocked is the most events one caller may have waiting once the
// buffer is half full: limit ÷ (n + 2), n the other callers with events
// waiting; a lone caller may fill half the buffer. It is never below
// MaxEventsPerBatch, so any caller may have one batch waiting while the
// global bound allows it. What a caller took while its share was larger
// (the half a lone caller filled) it keeps until the flush, so a share
// bounds one caller's flood, not several's: three callers flooding one
// after another (half, a third, then the rest) fill the whole bound and
// everyone is refused until the next flush
// (TestOfferLeavesRoomWhenThreeCallersFlood, skipped). With b.mu held.
func (b *EventBuffer) shareLocked(source string, limit int) int {
	others := len(b.bySource)
	if _, ok := b.bySource[source]; ok {
		others--
	}
	return max(limit/(others+2), MaxEventsPerBatch)
}

// onceKeysOf hashes each event with a viewer (outside the buffer's lock);
// events without one get the zero key.
func onceKeysOf(events []Event) []onceKey {
	keys := make([]onceKey, len(events))
	for i, e := range events {
		if e.Viewer != "" {
			keys[i] = onceKeyOf(e)
		}
	}
	return keys
}

// addLocked adds events to the buffer and returns how many it added (an
// event whose key is already waiting adds nothing).
func (b *EventBuffer) addLocked(events []Event, keys []onceKey) int {
	before := b.pending
	for i, e := range events {
		if e.Viewer != "" {
			if _, dup := b.once[keys[i]]; !dup {
				b.once[keys[i]] = e
				b.pending++
			}
			continue
		}
		addCounts(b.contents, b.products, e)
		b.pending++
	}
	if b.pending > before && b.behindLocked() {
		select {
		case b.kick <- struct{}{}: // Run flushes now, not at its next tick
		default:
		}
	}
	return b.pending - before
}

// addCounts adds one event to per-minute counters.
func addCounts(contents map[contentBucket]*contentCounts, products map[productBucket]*productCounts, e Event) {
	if e.Type == EventNotInterested {
		return // teaches the viewer's profile, counts nothing
	}
	minute := e.At.Unix() / 60
	cb := contentBucket{e.ContentID, minute}
	c := contents[cb]
	if c == nil {
		c = &contentCounts{}
		contents[cb] = c
	}
	switch e.Type {
	case EventView:
		c.views++
		c.watchMs += e.WatchMs
	case EventShare:
		c.shares++
	case EventProductImpression, EventProductClick:
		pb := productBucket{e.ProductID, minute}
		p := products[pb]
		if p == nil {
			p = &productCounts{}
			products[pb] = p
		}
		if e.Type == EventProductClick {
			c.clicks++
			p.clicks++
		} else {
			c.impressions++
			p.impressions++
		}
	}
}

// AddLike records a like (+1) or unlike (-1) for the popularity counter.
func (b *EventBuffer) AddLike(contentID, delta int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.likes[contentID] += delta
	b.pending++
}

// Pending returns how many events wait for the next flush.
func (b *EventBuffer) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pending
}

// Run flushes every interval until ctx ends, then flushes what is left.
// A flush also starts before the tick as soon as the buffer is behind (a
// quarter of what Offer lets wait is waiting), and when a flush leaves it
// behind, the next one starts at once: so a steady stream is written as it
// comes instead of piling up until the tick and being refused. After a
// failed flush, only the tick retries.
func (b *EventBuffer) Run(ctx context.Context, interval time.Duration) {
	b.mu.Lock()
	b.interval = interval
	b.mu.Unlock()
	t := time.NewTicker(interval)
	defer t.Stop()
	failed := false
	flush := func() {
		for {
			if err := b.Flush(ctx); err != nil {
				slog.Error("event flush failed; will retry", "err", err)
				failed = true
				return
			}
			failed = false
			if ctx.Err() != nil || !b.behind() {
				return
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			if err := b.Flush(context.WithoutCancel(ctx)); err != nil {
				slog.Error("final event flush failed", "err", err)
			}
			return
		case <-t.C:
			flush()
		case <-b.kick:
			if !failed && b.behind() {
				flush()
			}
		}
	}
}

// flushBatch is what one flush (or one part of it) writes.
type flushBatch struct {
	contents map[contentBucket]*contentCounts
	products map[productBucket]*productCounts
	once     map[onceKey]Event
	likes    map[int64]int64
	signals  map[signalKey]*signalSum
	pending  int
}

// split divides a flush into n parts by viewer: each viewer's counted-once
// events and signals go to one part, so parts write disjoint engagement_once,
// product_views, interests and profile_contents rows; the untracked counts
// and likes go to the first. Each part's pending is its share of b.pending.
func (f flushBatch) split(n int) []flushBatch {
	if n <= 1 {
		return []flushBatch{f}
	}
	parts := make([]flushBatch, n)
	parts[0] = flushBatch{contents: f.contents, products: f.products, likes: f.likes}
	for i := range parts {
		parts[i].once = make(map[onceKey]Event, len(f.once)/n+1)
		parts[i].signals = map[signalKey]*signalSum{}
		if i > 0 {
			parts[i].contents, parts[i].products, parts[i].likes = map[contentBucket]*contentCounts{}, map[productBucket]*productCounts{}, map[int64]int64{}
		}
	}
	for k, e := range f.once {
		parts[viewerPart(e.Viewer, n)].once[k] = e
	}
	for k, v := range f.signals {
		parts[viewerPart(k.profile, n)].signals[k] = v
	}
	rest := f.pending
	for i := 1; i < n; i++ {
		parts[i].pending = len(parts[i].once) + len(parts[i].signals)
		rest -= parts[i].pending
	}
	parts[0].pending = rest
	return parts
}

// viewerPart is the part of n a viewer's (or profile's) rows are written in.
func viewerPart(viewer string, n int) int {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(viewer); i++ {
		h = (h ^ uint32(viewer[i])) * 16777619
	}
	return int(h % uint32(n))
}

// Flush writes everything buffered. On failure the counts go back into the
// buffer for the next flush, so nothing accepted is dropped. Events with a
// viewer are counted only when their key is new to engagement_once, in the
// same transaction as the counters. A flush of many such events is split by
// viewer into up to SetFlushWorkers transactions that run at once; a part
// that fails goes back into the buffer and the others stay written.
func (b *EventBuffer) Flush(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	all := flushBatch{b.contents, b.products, b.once, b.likes, b.signals, b.pending}
	learning, rankings, workers := b.learning, b.rankings, b.workers
	b.reset()
	b.mu.Unlock()
	if all.pending == 0 {
		return nil
	}
	start := time.Now()
	parts := all.split(min(workers, max(1, len(all.once)/minPartEvents)))
	taught := make([][]string, len(parts))
	errs := make([]error, len(parts))
	if len(parts) == 1 {
		taught[0], errs[0] = b.flushPart(ctx, parts[0], &learning, rankings)
	} else {
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() { taught[i], errs[i] = b.flushPart(ctx, parts[i], &learning, rankings) })
		}
		wg.Wait()
	}
	var failed error
	written := 0
	for i, p := range parts {
		if errs[i] != nil {
			b.mu.Lock()
			b.merge(p.contents, p.products, p.once, p.likes, p.signals, p.pending)
			b.mu.Unlock()
			failed = cmp.Or(failed, errs[i])
			continue
		}
		written += p.pending
		for _, profile := range taught[i] {
			rankings.Forget(profile)
		}
	}
	if elapsed := time.Since(start); written >= 1000 && elapsed > 0 {
		// The flush's speed, for Offer's bound: a moving average, as a
		// flush competes with whatever else runs.
		rate := float64(written) / elapsed.Seconds()
		b.mu.Lock()
		if b.rate > 0 {
			rate = (b.rate + rate) / 2
		}
		b.rate = rate
		b.mu.Unlock()
	}
	if failed != nil {
		return failed
	}
	if now := time.Now(); now.Sub(b.lastPrune) >= time.Minute {
		b.lastPrune = now
		if _, err := b.db.ExecContext(ctx, `DELETE FROM engagement_once WHERE window_start < $1`,
			now.Truncate(CountWindow).Add(-CountWindow)); err != nil {
			slog.Warn("pruning counted-once events failed; will retry", "err", err)
		}
	}
	return nil
}

// flushPart writes one part of a flush in one transaction and returns the
// profiles it taught (whose For You arrangements are to be forgotten once
// it committed). It changes nothing in p, which the caller puts back into
// the buffer on failure.
func (b *EventBuffer) flushPart(ctx context.Context, p flushBatch, learning *ForYouSettings, rankings *FeedRankings) ([]string, error) {
	var taught []string
	err := b.db.inTx(ctx, func(tx *sqlx.Tx) error {
		allContents, allProducts := p.contents, p.products
		learned := p.signals
		if len(p.once) > 0 {
			fresh, err := insertOnce(ctx, tx, p.once)
			if err != nil {
				return err
			}
			if err := recordProductViews(ctx, tx, fresh); err != nil {
				return err
			}
			// Counted into copies: on failure the buffer gets back what it had.
			allContents, allProducts = map[contentBucket]*contentCounts{}, map[productBucket]*productCounts{}
			mergeCounts(allContents, allProducts, p.contents, p.products)
			// Learned into a copy too; only events that count teach.
			learned = make(map[signalKey]*signalSum, len(p.signals)+len(fresh))
			for k, v := range p.signals {
				addSignal(learned, k, v.weight, v.watchMs, v.dismissed)
			}
			for _, e := range fresh {
				addCounts(allContents, allProducts, e)
				learning.signalOfEvent(learned, e)
			}
		}
		var err error
		if taught, err = learning.learn(ctx, tx, learned, time.Now().UTC()); err != nil {
			return err
		}
		if rankings != nil && len(taught) > 0 {
			// Every API process forgets these profiles' For You
			// arrangements when this commits (FeedRankings.Listen).
			if _, err := tx.ExecContext(ctx, notifyProfilesSQL, FeedProfilesChannel, pq.Array(profilePayloads(taught))); err != nil {
				return fmt.Errorf("announce profiles: %w", err)
			}
		}
		if err := upsertContentCounts(ctx, tx, allContents); err != nil {
			return err
		}
		if err := upsertProductCounts(ctx, tx, allProducts); err != nil {
			return err
		}
		return bumpPopularity(ctx, tx, allContents, p.likes)
	})
	if err != nil {
		return nil, err
	}
	return taught, nil
}

// insertOnce records the keys in engagement_once and returns the events
// whose keys were new there (the ones that count). Keys are inserted in
// order so that replicas flushing at once cannot deadlock.
func insertOnce(ctx context.Context, tx *sqlx.Tx, once map[onceKey]Event) ([]Event, error) {
	keys := make([]onceKey, 0, len(once))
	for k := range once {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b onceKey) int { return cmp.Or(cmp.Compare(a.window, b.window), cmp.Compare(a.hash, b.hash)) })
	windows, hashes := make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		windows[i], hashes[i] = k.window, k.hash
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO engagement_once (window_start, key)
		SELECT to_timestamp(w), k FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS x(w, k, i) ORDER BY i
		ON CONFLICT DO NOTHING
		RETURNING extract(epoch FROM window_start)::bigint, key`, pq.Array(windows), pq.Array(hashes))
	if err != nil {
		return nil, fmt.Errorf("flush counted-once events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var k onceKey
		if err := rows.Scan(&k.window, &k.hash); err != nil {
			return nil, fmt.Errorf("flush counted-once events: %w", err)
		}
		out = append(out, once[k])
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("flush counted-once events: %w", err)
	}
	return out, nil
}

func (b *EventBuffer) merge(contents map[contentBucket]*contentCounts, products map[productBucket]*productCounts, once map[onceKey]Event, likes map[int64]int64, signals map[signalKey]*signalSum, pending int) {
	mergeCounts(b.contents, b.products, contents, products)
	for k, v := range signals {
		addSignal(b.signals, k, v.weight, v.watchMs, v.dismissed)
	}
	for k, e := range once {
		if _, dup := b.once[k]; dup {
			pending-- // the same key came again since
			continue
		}
		b.once[k] = e
	}
	for k, v := range likes {
		b.likes[k] += v
	}
	b.pending += pending
}

// mergeCounts adds the counters of src into dst, sharing no pointers.
func mergeCounts(dstContents map[contentBucket]*contentCounts, dstProducts map[productBucket]*productCounts,
	contents map[contentBucket]*contentCounts, products map[productBucket]*productCounts) {
	for k, v := range contents {
		c := dstContents[k]
		if c == nil {
			c = &contentCounts{}
			dstContents[k] = c
		}
		c.views, c.watchMs, c.shares = c.views+v.views, c.watchMs+v.watchMs, c.shares+v.shares
		c.impressions, c.clicks = c.impressions+v.impressions, c.clicks+v.clicks
	}
	for k, v := range products {
		p := dstProducts[k]
		if p == nil {
			p = &productCounts{}
			dstProducts[k] = p
		}
		p.impressions, p.clicks = p.impressions+v.impressions, p.clicks+v.clicks
	}
}

// Rows are written in key order so that replicas flushing at once take row
// locks in the same order and cannot deadlock.
func upsertContentCounts(ctx context.Context, tx *sqlx.Tx, m map[contentBucket]*contentCounts) error {
	if len(m) == 0 {
		return nil
	}
	keys := make([]contentBucket, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].contentID < keys[j].contentID || (keys[i].contentID == keys[j].contentID && keys[i].bucket < keys[j].bucket)
	})
	n := len(keys)
	ids, buckets := make([]int64, n), make([]int64, n)
	views, watch, shares, impr, clicks := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, k := range keys {
		c := m[k]
		ids[i], buckets[i] = k.contentID, k.bucket*60
		views[i], watch[i], shares[i], impr[i], clicks[i] = c.views, c.watchMs, c.shares, c.impressions, c.clicks
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO content_event_counts AS t
			(content_id, bucket, views, watch_ms, shares, product_impressions, product_clicks)
		SELECT id, to_timestamp(b), v, w, s, i, c
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS x(id, b, v, w, s, i, c)
		WHERE EXISTS (SELECT 1 FROM contents WHERE contents.id = x.id)
		ON CONFLICT (content_id, bucket) DO UPDATE SET
			views = t.views + EXCLUDED.views, watch_ms = t.watch_ms + EXCLUDED.watch_ms, shares = t.shares + EXCLUDED.shares,
			product_impressions = t.product_impressions + EXCLUDED.product_impressions,
			product_clicks = t.product_clicks + EXCLUDED.product_clicks`,
		pq.Array(ids), pq.Array(buckets), pq.Array(views), pq.Array(watch), pq.Array(shares), pq.Array(impr), pq.Array(clicks))
	if err != nil {
		return fmt.Errorf("flush content counts: %w", err)
	}
	return nil
}

func upsertProductCounts(ctx context.Context, tx *sqlx.Tx, m map[productBucket]*productCounts) error {
	if len(m) == 0 {
		return nil
	}
	keys := make([]productBucket, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].productID < keys[j].productID || (keys[i].productID == keys[j].productID && keys[i].bucket < keys[j].bucket)
	})
	ids, buckets, impr, clicks := make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		ids[i], buckets[i], impr[i], clicks[i] = k.productID, k.bucket*60, m[k].impressions, m[k].clicks
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO product_event_counts AS t (product_id, bucket, impressions, clicks)
		SELECT id, to_timestamp(b), i, c FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS x(id, b, i, c)
		WHERE EXISTS (SELECT 1 FROM products WHERE products.id = x.id)
		ON CONFLICT (product_id, bucket) DO UPDATE SET
			impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks`,
		pq.Array(ids), pq.Array(buckets), pq.Array(impr), pq.Array(clicks))
	if err != nil {
		return fmt.Errorf("flush product counts: %w", err)
	}
	return nil
}

// bumpPopularity keeps contents.view_count and like_count, which the feed
// ranks by, current: one row update per content per flush.
func bumpPopularity(ctx context.Context, tx *sqlx.Tx, contents map[contentBucket]*contentCounts, likes map[int64]int64) error {
	views := map[int64]int64{}
	for k, c := range contents {
		views[k.contentID] += c.views
	}
	ids := make([]int64, 0, len(views)+len(likes))
	for id := range views {
		ids = append(ids, id)
	}
	for id := range likes {
		if _, ok := views[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	v, l := make([]int64, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		v[i], l[i] = views[id], likes[id]
	}
	_, err := tx.ExecContext(ctx, `UPDATE contents c SET view_count = c.view_count + x.v, like_count = greatest(c.like_count + x.l, 0)
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS x(id, v, l) WHERE c.id = x.id`,
		pq.Array(ids), pq.Array(v), pq.Array(l))
	if err != nil {
		return fmt.Errorf("flush popularity: %w", err)
	}
	return nil
}
