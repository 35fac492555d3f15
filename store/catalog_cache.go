package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/lib/pq"
)

// DefaultCatalogTTL is how long a process keeps contents' product cards and
// products' variants (CATALOG_CACHE_TTL): what nothing announces (rows
// written by hand, a change whose announcement failed) shows within it.
// Every write through the API is announced, stock included
// (RunStockAnnouncements), so it bounds only those: ten seconds, as for
// profiles (DefaultProfileTTL).
const DefaultCatalogTTL = 10 * time.Second

// CatalogChannel is the PostgreSQL notification channel on which API
// processes tell each other which products ("p" and the id) and which
// contents' cards ("c" and the id) changed, so that each forgets what its
// CatalogCache keeps of them.
const CatalogChannel = "showcase_catalog"

// maxCachedCatalog bounds each of a CatalogCache's maps (contents' card
// lists, products); past it, entries older than the TTL are dropped, and if
// that is not enough the map starts over.
const maxCachedCatalog = 100_000

// maxCachedLists bounds the product list pages a CatalogCache keeps, the
// same way (a page per filter, order, size and cursor asked for), and
// maxCachedCatalog the product rows on them all (pages of 100 under
// cursors of the client's choosing would otherwise keep a million copies).
const maxCachedLists = 10_000

// CatalogCache keeps, per API process, which products each content carries
// as cards and each product's row and variants (priced now, campaign prices
// included, with their stock), so that a warm feed page's cards and a warm
// catalogue page's variants cost no statement. An entry is kept for the TTL
// from when the statement that read it began, and never past the next
// start or end of a campaign its variants are enrolled in (the price
// changes then without a write).
//
// What callers change through the API is forgotten at once in the process
// it went through (before the mutation answers) and in every other one when
// the notification arrives (announceCatalog, Listen): product edits, stock
// set by a shop (setInventory), campaign enrolments and windows. Stock taken
// by checkouts and given back by cancellations and released reservations
// is forgotten at once in the process that changed it and announced to the
// others in one statement every StockAnnounceInterval
// (RunStockAnnouncements), never in the checkout's transaction (that would
// serialize the hot variant's commits on PostgreSQL's notification queue
// lock). A buyer's own writes (orders, cart) are read uncached. While the
// listening connection is lost nothing is kept.
//
// It also keeps pages of the plainest product lists (ListProductsSorted
// without a search, a collection, a price filter or drafts, by ID or
// creation time: a storefront's catalogue pages). A product created or
// edited may join, leave or move in any list, so it forgets every page
// kept; a change to a product's variants alone (stock set by a shop or
// taken by a checkout in this process, campaign prices) may only move it
// into or out of a list filtered by availability, so it forgets only those
// pages.
//
// A nil *CatalogCache keeps nothing: every read runs its statement. The
// rows returned are shared: callers copy before changing them.
type CatalogCache struct {
	ttl time.Duration

	// forgetting holds the lock the maps below are read and written under.
	forgetting
	cards    map[int64]cachedCards   // by content ID
	products map[int64]cachedProduct // by product ID
	lists    map[string]cachedList   // by productListKey
	// listRows counts the edges on the pages in lists; listProducts is the
	// one copy of each product row they share (every page is forgotten
	// with any product, so pages kept at once agree on a row).
	listRows     int
	listProducts map[int64]*Product
	// availableLists is the keys in lists of the pages filtered by
	// availability, which a change to a product's variants forgets: a
	// stock announcement costs those pages, not a walk over every page.
	availableLists map[string]struct{}
}

// cachedList is a page of a product list, read by a statement that began
// at at.
type cachedList struct {
	at   time.Time
	page Page[*Product]
}

// listsKey is the row every kept product list page depends on: forgetting
// any product forgets it.
var listsKey = rowKey{'l', 0}

// availableListsKey is the row the list pages filtered by availability
// depend on besides listsKey: forgetting any product's variants forgets it.
var availableListsKey = rowKey{'l', 1}

// cachedCards is a content's card list: its products (every status) in
// card order.
type cachedCards struct {
	at    time.Time
	cards []cardRef
}

type cardRef struct {
	product, position int64
}

// cachedProduct is a product's row (when read as a card) and its variants
// (always).
type cachedProduct struct {
	at time.Time
	// until is the next campaign boundary of its variants (zero: none).
	until    time.Time
	product  *Product // nil when read by VariantsFor
	variants []*ProductVariant
}

// NewCatalogCache returns a cache keeping cards and variants for ttl, or nil
// (nothing kept) when ttl is 0 or less.
func NewCatalogCache(ttl time.Duration) *CatalogCache {
	if ttl <= 0 {
		return nil
	}
	c := &CatalogCache{ttl: ttl}
	c.init(func() {
		c.cards, c.products = map[int64]cachedCards{}, map[int64]cachedProduct{}
		c.clearListsLocked()
	})
	return c
}

// UseCatalogCache makes db's writes forget in c (and announce to other
// processes) the products and contents they change. Set it before serving.
func (db *DB) UseCatalogCache(c *CatalogCache) { db.catalog = c }

// CatalogCache returns the cache db's writes forget in (nil: none).
func (db *DB) CatalogCache() *CatalogCache { return db.catalog }

func (c *CatalogCache) fresh(at, until, now time.Time) bool {
	return now.Sub(at) < c.ttl && (until.IsZero() || now.Before(until))
}

// Cards is db.CardsWithVariantsByContentIDs (withVariants) or
// db.ProductsByContentIDs (variants nil), served from what the cache keeps;
// the contents it lacks are read in one statement and kept. Every content
// gets an entry in cards (active products in card order); variants has an
// entry for every product of those cards (nil: none).
func (c *CatalogCache) Cards(ctx context.Context, db *DB, contentIDs []int64, withVariants bool) (cards map[int64][]*Product, variants map[int64][]*ProductVariant, err error) {
	if c == nil {
		if withVariants {
			return db.CardsWithVariantsByContentIDs(ctx, contentIDs)
		}
		cards, err = db.ProductsByContentIDs(ctx, contentIDs)
		return cards, nil, err
	}
	cards = make(map[int64][]*Product, len(contentIDs))
	if withVariants {
		variants = map[int64][]*ProductVariant{}
	}
	var missing []int64
	began := c.now()
	c.mu.Lock()
	for _, id := range contentIDs {
		if !c.serveCardsLocked(id, began, cards, variants) {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return cards, variants, nil
	}
	lists, products, err := db.readCards(ctx, missing, began)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range missing {
		cards[id] = nil
		for _, r := range lists[id] {
			e := products[r.product]
			if e.product.Status != ProductActive {
				continue
			}
			cards[id] = append(cards[id], asCard(e.product, r.position))
			if withVariants {
				variants[r.product] = e.variants
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.keepableLocked(began) {
		return cards, variants, nil
	}
	c.makeRoomLocked(began, len(lists), len(products))
	for id, list := range lists {
		if !c.unforgottenLocked(began, rowKey{'c', id}) {
			continue
		}
		c.cards[id] = cachedCards{at: began, cards: list}
	}
	for id, e := range products {
		if !c.unforgottenLocked(began, rowKey{'p', id}) {
			continue
		}
		e.at = began
		c.products[id] = e
	}
	return cards, variants, nil
}

// serveCardsLocked puts content id's cards (and their variants, when
// variants is not nil) in the maps, if everything they need is fresh.
func (c *CatalogCache) serveCardsLocked(id int64, now time.Time, cards map[int64][]*Product, variants map[int64][]*ProductVariant) bool {
	list, ok := c.cards[id]
	if !ok || !c.fresh(list.at, time.Time{}, now) {
		return false
	}
	for _, r := range list.cards {
		e, ok := c.products[r.product]
		if !ok || e.product == nil || !c.fresh(e.at, e.until, now) {
			return false
		}
	}
	out := make([]*Product, 0, len(list.cards))
	for _, r := range list.cards {
		e := c.products[r.product]
		if e.product.Status != ProductActive {
			continue
		}
		out = append(out, asCard(e.product, r.position))
		if variants != nil {
			variants[r.product] = e.variants
		}
	}
	if len(out) == 0 {
		out = nil
	}
	cards[id] = out
	return true
}

// asCard is a copy of p at a content's card position.
func asCard(p *Product, position int64) *Product {
	cp := *p
	cp.CardPosition = position
	return &cp
}

// VariantsFor is db.VariantsByProductIDs served from what the cache keeps;
// the products it lacks are read in one statement and kept.
func (c *CatalogCache) VariantsFor(ctx context.Context, db *DB, productIDs []int64) (map[int64][]*ProductVariant, error) {
	if c == nil {
		return db.VariantsByProductIDs(ctx, productIDs)
	}
	out := make(map[int64][]*ProductVariant, len(productIDs))
	var missing []int64
	began := c.now()
	c.mu.Lock()
	for _, id := range productIDs {
		if e, ok := c.products[id]; ok && c.fresh(e.at, e.until, began) {
			out[id] = e.variants
			continue
		}
		missing = append(missing, id)
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	read, err := db.readVariants(ctx, missing, began)
	if err != nil {
		return nil, err
	}
	for _, id := range missing {
		out[id] = read[id].variants
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.keepableLocked(began) {
		return out, nil
	}
	c.makeRoomLocked(began, 0, len(read))
	for id, e := range read {
		if !c.unforgottenLocked(began, rowKey{'p', id}) {
			continue
		}
		if old, ok := c.products[id]; ok && old.product != nil && c.fresh(old.at, old.until, began) {
			continue // a card's row is kept with its variants: leave it
		}
		e.at = began
		c.products[id] = e
	}
	return out, nil
}

// makeRoomLocked drops what is older than the TTL when the maps would grow
// past maxCachedCatalog, and starts a map over if that is not enough.
func (c *CatalogCache) makeRoomLocked(now time.Time, moreCards, moreProducts int) {
	if len(c.cards)+moreCards <= maxCachedCatalog && len(c.products)+moreProducts <= maxCachedCatalog {
		return
	}
	c.pruneLocked(now)
	if len(c.cards)+moreCards > maxCachedCatalog {
		c.cards = map[int64]cachedCards{}
	}
	if len(c.products)+moreProducts > maxCachedCatalog {
		c.products = map[int64]cachedProduct{}
	}
}

// pruneLocked drops entries older than the TTL.
func (c *CatalogCache) pruneLocked(now time.Time) {
	for id, e := range c.cards {
		if !c.fresh(e.at, time.Time{}, now) {
			delete(c.cards, id)
		}
	}
	for id, e := range c.products {
		if !c.fresh(e.at, e.until, now) {
			delete(c.products, id)
		}
	}
}

// productList answers the page of a product list kept under key, if it
// is fresh (read less than the TTL ago, and nothing forgotten since).
func (c *CatalogCache) productList(key string) (Page[*Product], bool) {
	if c == nil {
		return Page[*Product]{}, false
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lists[key]
	if !ok || !c.fresh(e.at, time.Time{}, now) {
		return Page[*Product]{}, false
	}
	return e.page, true
}

// keepProductList keeps page under key, read by a statement that began at
// began, unless a product was forgotten since then (for a page filtered by
// availability, a product's variants too), or everything was, or the cache
// is deaf.
func (c *CatalogCache) keepProductList(key string, available bool, began time.Time, page Page[*Product]) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.keepableLocked(began) || !c.unforgottenLocked(began, listsKey) ||
		(available && !c.unforgottenLocked(began, availableListsKey)) {
		return
	}
	if len(c.lists) >= maxCachedLists || c.listRows+len(page.Edges) > maxCachedCatalog {
		for k, e := range c.lists {
			if !c.fresh(e.at, time.Time{}, began) {
				c.dropListLocked(k)
			}
		}
		if len(c.lists) >= maxCachedLists || c.listRows+len(page.Edges) > maxCachedCatalog {
			c.clearListsLocked()
		}
	}
	if len(c.listProducts)+len(page.Edges) > maxCachedCatalog {
		c.listProducts = map[int64]*Product{} // rows of pages dropped since
	}
	for i, e := range page.Edges {
		if p, ok := c.listProducts[e.Node.ID]; ok && sameProductRow(p, e.Node) {
			page.Edges[i].Node = p
		} else {
			c.listProducts[e.Node.ID] = e.Node
		}
	}
	if old, ok := c.lists[key]; ok {
		c.listRows -= len(old.page.Edges)
	}
	c.lists[key] = cachedList{at: began, page: page}
	c.listRows += len(page.Edges)
	if available {
		c.availableLists[key] = struct{}{}
	}
}

// dropListLocked drops the list page kept under key.
func (c *CatalogCache) dropListLocked(key string) {
	c.listRows -= len(c.lists[key].page.Edges)
	delete(c.lists, key)
	delete(c.availableLists, key)
}

// clearListsLocked drops every product list page kept.
func (c *CatalogCache) clearListsLocked() {
	if c.lists == nil {
		c.lists, c.listProducts, c.availableLists = map[string]cachedList{}, map[int64]*Product{}, map[string]struct{}{}
	}
	clear(c.lists)
	clear(c.availableLists)
	clear(c.listProducts)
	c.listRows = 0
}

// sameProductRow reports whether a and b are the same row, every column
// (times with their location: a shared row answers as either would).
func sameProductRow(a, b *Product) bool {
	return a.ID == b.ID && a.ShopID == b.ShopID && a.Title == b.Title && a.Description == b.Description &&
		slices.Equal(a.Tags, b.Tags) && a.Status == b.Status && a.CreatedAt == b.CreatedAt &&
		a.UpdatedAt == b.UpdatedAt && a.CardPosition == b.CardPosition
}

// ForgetProducts drops the rows and variants kept of products, and every
// product list page kept, and keeps those being read at this moment from
// being kept: for a product created or edited.
func (c *CatalogCache) ForgetProducts(ids ...int64) {
	c.forget(ids, true, nil)
}

// ForgetVariants drops the rows and variants kept of products whose
// variants alone changed (stock, prices, campaign enrolments), and the
// product list pages filtered by availability, and keeps those being read
// at this moment from being kept. Other list pages stay: a variant change
// never adds, removes or moves a product in them.
func (c *CatalogCache) ForgetVariants(ids ...int64) {
	c.forget(ids, false, nil)
}

// ForgetContents drops the card lists kept of contents, and keeps those
// being read at this moment from being kept.
func (c *CatalogCache) ForgetContents(ids ...int64) {
	c.forget(nil, false, ids)
}

// forget drops products (every list page too when rows is set, else the
// pages filtered by availability) and contents' card lists.
func (c *CatalogCache) forget(products []int64, rows bool, contents []int64) {
	if c == nil || len(products)+len(contents) == 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range products {
		c.forgotten[rowKey{'p', id}] = now
		delete(c.products, id)
	}
	if len(products) > 0 {
		c.forgotten[availableListsKey] = now
		if rows {
			c.forgotten[listsKey] = now
			c.clearListsLocked()
		} else {
			for k := range c.availableLists {
				c.dropListLocked(k)
			}
		}
	}
	for _, id := range contents {
		c.forgotten[rowKey{'c', id}] = now
		delete(c.cards, id)
	}
	c.pruneForgottenLocked(now, c.ttl, maxCachedCatalog)
}

// Listen forgets, in c, the products and contents any API process announces
// until ctx ends, on a connection of its own; only once it has begun does c
// keep anything. When the connection is lost it forgets everything (a
// notification may have been missed), keeps nothing until it has
// reconnected, then forgets everything again; once ctx has ended it keeps
// nothing. It returns once listening has begun, or the first error.
func (c *CatalogCache) Listen(ctx context.Context, dsn string) error {
	if c == nil {
		return nil
	}
	return c.listen(ctx, dsn, CatalogChannel, "catalog", func(s string) {
		if len(s) < 2 {
			return
		}
		id, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil {
			return
		}
		switch s[0] {
		case 'p':
			c.ForgetProducts(id)
		case 'v':
			c.ForgetVariants(id)
		case 'c':
			c.ForgetContents(id)
		}
	})
}

// announceCatalogSQL notifies channel $1 of the products $2 (bigint[]), each
// after the prefix $3 ("p" an edit, "v" its variants alone), 500 a
// notification, one a line: one statement.
const announceCatalogSQL = `SELECT count(pg_notify($1, s)) FROM (
		SELECT string_agg($3 || id, E'\n') AS s
		FROM (SELECT id, (row_number() OVER ()) / 500 AS chunk FROM unnest($2::bigint[]) id) x
		GROUP BY chunk) y`

// catalogChanged forgets products created or edited in this process's
// CatalogCache at once and tells every other API process (one statement,
// after the write has committed), whether or not this process keeps a
// cache (others on the same database may). A failed announcement is
// logged: the others then show the change within CATALOG_CACHE_TTL.
func (db *DB) catalogChanged(ctx context.Context, productIDs ...int64) {
	db.announceCatalog(ctx, "p", productIDs)
}

// variantsChanged is catalogChanged for products whose variants alone
// changed (stock set, campaign prices): it forgets less (ForgetVariants).
func (db *DB) variantsChanged(ctx context.Context, productIDs ...int64) {
	db.announceCatalog(ctx, "v", productIDs)
}

func (db *DB) announceCatalog(ctx context.Context, prefix string, productIDs []int64) {
	if len(productIDs) == 0 {
		return
	}
	db.catalog.forget(productIDs, prefix == "p", nil)
	if _, err := db.ExecContext(context.WithoutCancel(ctx), announceCatalogSQL, CatalogChannel, pq.Array(productIDs), prefix); err != nil {
		slog.ErrorContext(ctx, "catalog change not announced; other API processes show it within CATALOG_CACHE_TTL", "err", err)
	}
}

// productsOfVariants returns the products of variants (one statement), for
// announcing changes made by variant. It runs after the change committed,
// so it does not end with ctx: a client gone or a request timed out at that
// moment would otherwise leave the change forgotten nowhere (review7).
func (db *DB) productsOfVariants(ctx context.Context, variantIDs []int64) []int64 {
	if len(variantIDs) == 0 {
		return nil
	}
	var ids []int64
	if err := db.SelectContext(context.WithoutCancel(ctx), &ids, `SELECT DISTINCT product_id FROM product_variants WHERE id = ANY($1)`, pq.Array(variantIDs)); err != nil {
		slog.ErrorContext(ctx, "catalog change not announced; other API processes show it within CATALOG_CACHE_TTL", "err", err)
	}
	return ids
}

// pricesChangeColumn is in how many seconds, by PostgreSQL's clock,
// variant v's campaign price next changes (a campaign it is enrolled in
// starts or ends), NULL if never. A duration, not an instant: the cache
// adds it to when its read began by its own clock (untilAfter), so a clock
// of this host behind PostgreSQL's cannot keep an ended price.
const pricesChangeColumn = `(SELECT extract(epoch FROM min(b.t) - now()) FROM campaign_variants cv JOIN campaigns k ON k.id = cv.campaign_id
		CROSS JOIN LATERAL (VALUES (k.starts_at), (k.ends_at)) b(t)
		WHERE cv.variant_id = v.id AND b.t > now()) AS prices_change_in`

// readCardsSQL reads the cards of contents $1 (every product status), each
// product's variants beside it (one row per variant; NULL variant columns
// for a product without any), campaign-priced now.
const readCardsSQL = `SELECT cp.content_id, cp.position, p.id, p.shop_id, p.title, p.description, p.tags, p.status,
		p.created_at, p.updated_at, v.id, v.sku, v.title, v.price_amount, v.currency_code, v.stock, v.position,
		v.created_at, o.campaign_id, o.price_amount, o.compare_at_amount, ` + pricesChangeColumn + `
	FROM content_products cp JOIN products p ON p.id = cp.product_id
	LEFT JOIN product_variants v ON v.product_id = p.id` + variantOfferJoin + `
	WHERE cp.content_id = ANY($1)
	ORDER BY cp.content_id, cp.position, p.id, v.position, v.id`

// readCards reads the card lists of contents (every content gets an entry)
// and their products with every variant, in one statement, scanned by hand
// (no encoding/json, no reflection).
// began is when the read began by the cache's clock (prices_change_in
// counts from after it).
func (db *DB) readCards(ctx context.Context, contentIDs []int64, began time.Time) (map[int64][]cardRef, map[int64]cachedProduct, error) {
	rows, err := db.QueryContext(ctx, readCardsSQL, pq.Array(contentIDs))
	if err != nil {
		return nil, nil, fmt.Errorf("cards by contents: %w", err)
	}
	defer rows.Close()
	lists := make(map[int64][]cardRef, len(contentIDs))
	for _, id := range contentIDs {
		lists[id] = nil
	}
	products := map[int64]cachedProduct{}
	// filling is the product whose variants the rows are giving; a
	// product on several contents of the batch takes its variants once.
	var filling int64
	for rows.Next() {
		var (
			contentID, position int64
			p                   Product
			vID, vPrice         sql.NullInt64
			vStock, vPosition   sql.NullInt64
			vSKU, vTitle, vCur  sql.NullString
			vCreated            sql.NullTime
			campaign, cPrice    sql.NullInt64
			compareAt           sql.NullInt64
			changeIn            sql.NullFloat64
		)
		if err := rows.Scan(&contentID, &position, &p.ID, &p.ShopID, &p.Title, &p.Description, &p.Tags, &p.Status,
			&p.CreatedAt, &p.UpdatedAt, &vID, &vSKU, &vTitle, &vPrice, &vCur, &vStock, &vPosition,
			&vCreated, &campaign, &cPrice, &compareAt, &changeIn); err != nil {
			return nil, nil, fmt.Errorf("cards by contents: %w", err)
		}
		list := lists[contentID]
		if n := len(list); n == 0 || list[n-1].product != p.ID {
			lists[contentID] = append(list, cardRef{product: p.ID, position: position})
			if _, seen := products[p.ID]; seen {
				filling = 0
			} else {
				products[p.ID] = cachedProduct{product: &p}
				filling = p.ID
			}
		}
		if filling != p.ID || !vID.Valid {
			continue
		}
		e := products[p.ID]
		e.variants = append(e.variants, &ProductVariant{ID: vID.Int64, ProductID: p.ID, SKU: vSKU.String, Title: vTitle.String,
			PriceAmount: vPrice.Int64, CurrencyCode: vCur.String, Stock: int(vStock.Int64), Position: int(vPosition.Int64),
			ProductState: e.product.Status, CreatedAt: vCreated.Time,
			CampaignID: nullInt(campaign), CampaignPriceAmount: nullInt(cPrice), CompareAtAmount: nullInt(compareAt)})
		if changeIn.Valid {
			e.until = untilAfter(e.until, began, changeIn.Float64)
		}
		products[p.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("cards by contents: %w", err)
	}
	return lists, products, nil
}

// untilAfter is the earlier of until (zero: none) and began plus seconds.
func untilAfter(until, began time.Time, seconds float64) time.Time {
	t := began.Add(time.Duration(seconds * float64(time.Second)))
	if until.IsZero() || t.Before(until) {
		return t
	}
	return until
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// cachedVariantsSQL is variantsByProductsSQL with each variant's next price
// change by the clock.
const cachedVariantsSQL = `SELECT ` + variantColumns + `, ` + pricesChangeColumn + `
		FROM product_variants v JOIN products p ON p.id = v.product_id` + variantOfferJoin + `
		WHERE v.product_id = ANY($1) ORDER BY v.product_id, v.position, v.id`

// readVariants reads every variant of products (every product gets an
// entry; nil variants: none) in one statement.
func (db *DB) readVariants(ctx context.Context, productIDs []int64, began time.Time) (map[int64]cachedProduct, error) {
	var rows []struct {
		ProductVariant
		ChangeIn *float64 `db:"prices_change_in"`
	}
	if err := db.SelectContext(ctx, &rows, cachedVariantsSQL, pq.Array(productIDs)); err != nil {
		return nil, fmt.Errorf("variants by products: %w", err)
	}
	out := make(map[int64]cachedProduct, len(productIDs))
	for _, id := range productIDs {
		out[id] = cachedProduct{}
	}
	for i := range rows {
		r := &rows[i]
		e := out[r.ProductID]
		e.variants = append(e.variants, &r.ProductVariant)
		if r.ChangeIn != nil {
			e.until = untilAfter(e.until, began, *r.ChangeIn)
		}
		out[r.ProductID] = e
	}
	return out, nil
}
