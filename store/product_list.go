package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Product sort keys (the schema's ProductSortKeys).
const (
	SortID          = "ID"
	SortRelevance   = "RELEVANCE"
	SortCreatedAt   = "CREATED_AT"
	SortPrice       = "PRICE"
	SortBestSelling = "BEST_SELLING"
)

// DefaultSalesRankLag is how far behind the present BEST_SELLING counts
// sales: a walk counts the orders paid (and not cancelled) up to this long
// before its first page. It is longer than any transaction that stamps an
// order paid or cancelled may run (statements time out after 15 s, requests
// after 30 s), so no sale can appear in a walk's past once the walk began.
const DefaultSalesRankLag = time.Minute

// ProductList narrows and orders a product listing.
type ProductList struct {
	ShopID       *int64
	CollectionID *int64
	Search       string
	Tag          string
	// PriceCurrency, with MinPrice and/or MaxPrice (minor units), keeps the
	// products whose lowest variant price lies in the range and is in that
	// currency; products priced in other currencies never match.
	PriceCurrency string
	MinPrice      *int64
	MaxPrice      *int64
	// Available keeps products that can (true) or cannot (false) be bought
	// now: active with a variant in stock.
	Available *bool
	// IncludeDrafts lists drafts too; only for the shop's own managers.
	IncludeDrafts bool
	// SortKey is one of the Sort constants; "" is RELEVANCE when searching
	// and ID otherwise.
	SortKey string
	Reverse bool
	// SalesRankLag overrides DefaultSalesRankLag for BEST_SELLING (negative:
	// no lag, for tests whose sales happen in the same instant).
	SalesRankLag time.Duration
}

// sortSpec says how a sort key orders rows: its key expressions (after
// which p.id breaks ties), their SQL types for cursors, and whether the
// natural order is descending.
type sortSpec struct {
	exprs []string
	types []string
	desc  bool
}

var sortSpecs = map[string]sortSpec{
	SortID:          {},
	SortCreatedAt:   {exprs: []string{"p.created_at"}, types: []string{"timestamptz"}},
	SortPrice:       {exprs: []string{"pr.currency", "pr.min_price"}, types: []string{"text", "bigint"}},
	SortBestSelling: {exprs: []string{"s.sold"}, types: []string{"bigint"}, desc: true},
	SortRelevance:   {exprs: []string{"round(ts_rank(p.search, q.q)::numeric, 6)"}, types: []string{"numeric"}, desc: true},
}

// listCursor resumes a sorted listing after a row: the sort key it was
// made for, the row's key values as text, its id, and for BEST_SELLING the
// moment whose sales the walk ranks by.
type listCursor struct {
	Sort    string    `json:"s"`
	Reverse bool      `json:"r,omitempty"`
	Values  []string  `json:"v,omitempty"`
	ID      int64     `json:"i"`
	AsOf    time.Time `json:"t,omitzero"`
}

// cursorValuesFit reports whether a cursor's key values parse as the SQL
// types they are compared as (a forged cursor is the client's error, not the
// database's).
func cursorValuesFit(values, types []string) bool {
	for i, v := range values {
		var err error
		switch types[i] {
		case "bigint":
			_, err = strconv.ParseInt(v, 10, 64)
		case "numeric":
			var f float64
			f, err = strconv.ParseFloat(v, 64)
			if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
				return false
			}
		case "timestamptz":
			// PostgreSQL's text form, as the cursor was made (the
			// offset with or without minutes).
			if _, err = time.Parse("2006-01-02 15:04:05.999999-07", v); err != nil {
				_, err = time.Parse("2006-01-02 15:04:05.999999-07:00", v)
			}
		case "text":
			if len(v) > 100 || strings.ContainsRune(v, 0) {
				return false
			}
		}
		if err != nil {
			return false
		}
	}
	return true
}

// recentMoment reports whether a BEST_SELLING walk's moment is one its
// first page could have set: within the last day, not in the future.
func recentMoment(t time.Time) bool {
	now := time.Now()
	return !t.IsZero() && !t.After(now.Add(time.Minute)) && t.After(now.Add(-24*time.Hour))
}

// sqlArgs numbers positional parameters as they are added.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// productFilterSQL returns the FROM additions and WHERE conditions of f.
func productFilterSQL(f ProductList, args *sqlArgs) (from, where string) {
	var conds []string
	if f.ShopID != nil {
		conds = append(conds, "p.shop_id = "+args.add(*f.ShopID))
	}
	if f.CollectionID != nil {
		conds = append(conds, "EXISTS (SELECT 1 FROM collection_products cp WHERE cp.collection_id = "+args.add(*f.CollectionID)+" AND cp.product_id = p.id)")
	}
	if f.Tag != "" {
		conds = append(conds, "p.tags @> ARRAY["+args.add(f.Tag)+"]")
	}
	if f.IncludeDrafts {
		conds = append(conds, "p.status IN ('ACTIVE', 'DRAFT')")
	} else {
		conds = append(conds, "p.status = 'ACTIVE'")
	}
	if search := strings.TrimSpace(f.Search); search != "" {
		from += ", search_query(" + args.add(search) + ") AS q(q)"
		conds = append(conds, "p.search @@ q.q")
	}
	if f.PriceCurrency != "" {
		conds = append(conds, "pr.currency = "+args.add(f.PriceCurrency))
		if f.MinPrice != nil {
			conds = append(conds, "pr.min_price >= "+args.add(*f.MinPrice))
		}
		if f.MaxPrice != nil {
			conds = append(conds, "pr.min_price <= "+args.add(*f.MaxPrice))
		}
	}
	if f.Available != nil {
		inStock := "(p.status = 'ACTIVE' AND EXISTS (SELECT 1 FROM product_variants av WHERE av.product_id = p.id AND av.stock > 0))"
		if *f.Available {
			conds = append(conds, inStock)
		} else {
			conds = append(conds, "NOT "+inStock)
		}
	}
	return from, strings.Join(conds, " AND ")
}

// priceLateral gives each product its lowest variant price and currency.
const priceLateral = ` CROSS JOIN LATERAL (SELECT min(v.price_amount) AS min_price, min(v.currency_code)::text AS currency
	FROM product_variants v WHERE v.product_id = p.id) pr`

// soldLateral gives each product the units sold in orders paid by the
// walk's moment t.as_of and not cancelled by then.
const soldLateral = ` CROSS JOIN LATERAL (SELECT coalesce(sum(l.quantity), 0)::bigint AS sold
	FROM order_lines l JOIN orders o ON o.id = l.order_id
	WHERE l.product_id = p.id AND o.paid_at <= t.as_of AND (o.cancelled_at IS NULL OR o.cancelled_at > t.as_of)) s`

// ListProductsSorted pages through products under any sort key, with
// filters. Paging is exact under every key. RELEVANCE is a stored walk (see
// listProductsByRelevance). Under the other keys pagination is keyset: a
// cursor carries the row's key values and id (the tie-breaker), and a
// BEST_SELLING walk ranks every page by the sales of one moment (its first
// page's, less SalesRankLag), so sales made during a walk never make it
// repeat or skip a product. A cursor from another sort order is a
// BAD_USER_INPUT error.
func (db *DB) ListProductsSorted(ctx context.Context, f ProductList, page PageArgs) (Page[*Product], error) {
	key := f.SortKey
	if key == "" {
		key = SortID
		if strings.TrimSpace(f.Search) != "" {
			key = SortRelevance
		}
	}
	spec, ok := sortSpecs[key]
	if !ok {
		return Page[*Product]{}, FieldErrorf(EInvalid, "sortKey", "unknown sort key %q", key)
	}
	if key == SortRelevance && strings.TrimSpace(f.Search) == "" {
		return Page[*Product]{}, FieldErrorf(EInvalid, "sortKey", "RELEVANCE needs filter.search")
	}
	if key == SortRelevance {
		return db.listProductsByRelevance(ctx, f, page)
	}
	var after *listCursor
	if page.After != "" {
		after = new(listCursor)
		if err := decodeCursor(page.After, after); err != nil {
			return Page[*Product]{}, err
		}
		if after.Sort != key || after.Reverse != f.Reverse || len(after.Values) != len(spec.exprs) || after.ID <= 0 ||
			!cursorValuesFit(after.Values, spec.types) || (key == SortBestSelling && !recentMoment(after.AsOf)) {
			return Page[*Product]{}, FieldErrorf(EInvalid, "after", "after is not a cursor from this list (sorted by %s)", key)
		}
	}
	listKey, cacheable := productListKey(f, key, page)
	cacheable = cacheable && db.catalog != nil
	if cacheable {
		if pg, ok := db.catalog.productList(listKey); ok {
			return pg, nil
		}
	}
	var began time.Time
	if cacheable {
		began = db.catalog.now()
	}
	var args sqlArgs
	var asOf any
	if after != nil && key == SortBestSelling {
		asOf = after.AsOf
	}
	lag := f.SalesRankLag
	if lag == 0 {
		lag = DefaultSalesRankLag
	} else if lag < 0 {
		lag = 0
	}
	t := "(SELECT coalesce(" + args.add(asOf) + "::timestamptz, statement_timestamp() - " + args.add(lag.Microseconds()) + " * interval '1 microsecond') AS as_of) t"
	from, where := productFilterSQL(f, &args)
	joins := ""
	if key == SortPrice || f.PriceCurrency != "" {
		joins = priceLateral
	}
	if key == SortBestSelling {
		joins += soldLateral
	}
	desc := spec.desc != f.Reverse
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}
	keyCols := make([]string, 0, len(spec.exprs)+1)
	selectKeys := ""
	for i, e := range spec.exprs {
		selectKeys += fmt.Sprintf(", (%s)::text AS k%d", e, i)
		keyCols = append(keyCols, e)
	}
	keyCols = append(keyCols, "p.id")
	if after != nil {
		vals := make([]string, 0, len(keyCols))
		for i, v := range after.Values {
			vals = append(vals, args.add(v)+"::"+spec.types[i])
		}
		vals = append(vals, args.add(after.ID)+"::bigint")
		where += " AND (" + strings.Join(keyCols, ", ") + ") " + cmp + " (" + strings.Join(vals, ", ") + ")"
	}
	order := make([]string, len(keyCols))
	for i, c := range keyCols {
		order[i] = c + " " + dir
	}
	query := `SELECT ` + productColumns + selectKeys + `, t.as_of
		FROM ` + t + `, products p` + from + joins + `
		WHERE ` + where + `
		ORDER BY ` + strings.Join(order, ", ") + `
		LIMIT ` + args.add(page.First+1)
	rows, err := db.QueryxContext(ctx, query, args...)
	if err != nil {
		return Page[*Product]{}, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	type keyed struct {
		p      *Product
		values []string
		asOf   time.Time
	}
	var items []keyed
	for rows.Next() {
		p := new(Product)
		values := make([]string, len(spec.exprs))
		var asOf time.Time
		dest := []any{&p.ID, &p.ShopID, &p.Title, &p.Description, &p.Tags, &p.Status, &p.CreatedAt, &p.UpdatedAt}
		for i := range values {
			dest = append(dest, &values[i])
		}
		dest = append(dest, &asOf)
		if err := rows.Scan(dest...); err != nil {
			return Page[*Product]{}, fmt.Errorf("list products: %w", err)
		}
		items = append(items, keyed{p, values, asOf})
	}
	if err := rows.Err(); err != nil {
		return Page[*Product]{}, fmt.Errorf("list products: %w", err)
	}
	pg := newPage(items, page, func(k keyed) string {
		c := listCursor{Sort: key, Reverse: f.Reverse, Values: k.values, ID: k.p.ID}
		if key == SortBestSelling {
			c.AsOf = k.asOf
		}
		return encodeCursor(c)
	})
	out := Page[*Product]{HasNextPage: pg.HasNextPage, HasPreviousPage: pg.HasPreviousPage}
	for _, e := range pg.Edges {
		out.Edges = append(out.Edges, Edge[*Product]{Cursor: e.Cursor, Node: e.Node.p})
	}
	if cacheable {
		db.catalog.keepProductList(listKey, f.Available != nil, began, out)
	}
	return out, nil
}

// maxListKeyTag and maxListKeyCursor bound, in bytes, the tag and the
// cursor of a product list page the CatalogCache keeps (productListKey): a
// tag is at most 40 characters, a cursor this server writes for ID or
// CREATED_AT about 110 bytes.
const (
	maxListKeyTag    = MaxTagLength
	maxListKeyCursor = 256
)

// productListKey is the key a page of f sorted by key is kept under in the
// CatalogCache, and whether it may be kept at all: only the plainest lists
// (no search, collection, price filter or drafts; by ID or creation time),
// whose pages change only when a product is written. A collection's
// membership, campaign prices and sales change without a product write.
func productListKey(f ProductList, key string, page PageArgs) (string, bool) {
	if f.Search != "" || f.CollectionID != nil || f.PriceCurrency != "" || f.MinPrice != nil || f.MaxPrice != nil ||
		f.IncludeDrafts || (key != SortID && key != SortCreatedAt) {
		return "", false
	}
	// The key holds the tag and the cursor as the client sent them: a tag
	// longer than a tag can be (40 characters) and a cursor longer than
	// this server writes (padded with newlines, which base64 skips, or
	// with fields a cursor lacks) are read, never kept.
	if len(f.Tag) > maxListKeyTag || len(page.After) > maxListKeyCursor {
		return "", false
	}
	b := make([]byte, 0, 64+len(f.Tag)+len(page.After))
	b = append(b, key...)
	b = append(b, '|')
	b = strconv.AppendBool(b, f.Reverse)
	b = append(b, '|')
	if f.ShopID != nil {
		b = strconv.AppendInt(b, *f.ShopID, 10)
	}
	b = append(b, '|')
	if f.Available != nil {
		b = strconv.AppendBool(b, *f.Available)
	}
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(page.First), 10)
	b = append(b, '|')
	b = append(b, page.After...)
	b = append(b, '|')
	b = append(b, f.Tag...) // last: a tag may hold any character
	return string(b), true
}

// listProductsByRelevance pages through a search by relevance (most
// relevant first, or least with Reverse; ties by id the same way). The first
// page ranks every match and stores the whole ranking as a walk (one
// statement either way); the pages after it read that ranking back by
// position, so edits that move a product's relevance (or its price, stock or
// collections) during a walk never make it repeat or be skipped. A product
// archived (or, for a non-manager, drafted) since the walk began is left out
// of the pages that follow. A cursor of another list, or of a walk no longer
// kept (ListWalkTTL), is a BAD_USER_INPUT error.
func (db *DB) listProductsByRelevance(ctx context.Context, f ProductList, page PageArgs) (Page[*Product], error) {
	kind := walkKind("products", strings.TrimSpace(f.Search), derefOr(f.ShopID, -1), derefOr(f.CollectionID, -1), f.Tag,
		f.IncludeDrafts, f.PriceCurrency, derefOr(f.MinPrice, -1), derefOr(f.MaxPrice, -1), availability(f.Available), f.Reverse)
	var rows []*rankedProduct
	var walk walkCursor
	if page.After == "" {
		walk.Walk = newWalkID()
		var args sqlArgs
		from, where := productFilterSQL(f, &args)
		joins := ""
		if f.PriceCurrency != "" {
			joins = priceLateral
		}
		dir := "DESC"
		if f.Reverse {
			dir = "ASC"
		}
		order := "rank " + dir + ", id " + dir
		err := db.SelectContext(ctx, &rows, `WITH ranked AS (
				SELECT `+productColumns+`, round(ts_rank(p.search, q.q)::numeric, 6) AS rank
				FROM products p`+from+joins+`
				WHERE `+where+`
			),
			walk AS (
				INSERT INTO list_walks (id, viewer_id, kind, ids)
				SELECT `+args.add(walk.Walk)+`, 0, `+args.add(kind)+`, coalesce(array_agg(id ORDER BY `+order+`), '{}') FROM ranked
			)
			SELECT `+productColumns+`, 0 AS pos FROM ranked p ORDER BY p.`+order+` LIMIT `+args.add(page.First+1), args...)
		if err != nil {
			return Page[*Product]{}, fmt.Errorf("search products: %w", err)
		}
		for i := range rows {
			rows[i].Pos = int64(i + 1) // the first page is the walk's head
		}
	} else {
		var err error
		if walk, err = decodeWalkCursor(page.After); err != nil {
			return Page[*Product]{}, err
		}
		err = db.SelectContext(ctx, &rows, `SELECT `+productColumns+`, $2 + r.n AS pos
			FROM list_walks w
			CROSS JOIN LATERAL unnest(w.ids[$2 + 1:]) WITH ORDINALITY AS r(id, n)
			JOIN products p ON p.id = r.id
			WHERE w.id = $1 AND w.viewer_id = 0 AND w.kind = $3
			  AND (p.status = 'ACTIVE' OR ($4 AND p.status = 'DRAFT'))
			ORDER BY r.n LIMIT $5`, walk.Walk, walk.Pos, kind, f.IncludeDrafts, page.First+1)
		if err != nil {
			return Page[*Product]{}, fmt.Errorf("search products: %w", err)
		}
		if len(rows) == 0 {
			if err := db.missingWalk(ctx, walk, 0, kind); err != nil {
				return Page[*Product]{}, err
			}
		}
	}
	pg := newPage(rows, page, func(r *rankedProduct) string {
		return walkCursor{Walk: walk.Walk, Pos: r.Pos}.encode()
	})
	out := Page[*Product]{HasNextPage: pg.HasNextPage, HasPreviousPage: pg.HasPreviousPage}
	for _, e := range pg.Edges {
		out.Edges = append(out.Edges, Edge[*Product]{Cursor: e.Cursor, Node: &e.Node.Product})
	}
	return out, nil
}

// rankedProduct is a search result with its position in the walk.
type rankedProduct struct {
	Product
	Pos int64 `db:"pos"`
}

// derefOr is *p, or or when p is nil (for naming a walk's filter).
func derefOr(p *int64, or int64) int64 {
	if p == nil {
		return or
	}
	return *p
}

// availability names a ProductList.Available filter for a walk's kind.
func availability(a *bool) string {
	switch {
	case a == nil:
		return "any"
	case *a:
		return "available"
	default:
		return "unavailable"
	}
}

// CountProducts counts the products a listing would walk through.
func (db *DB) CountProducts(ctx context.Context, f ProductList) (int, error) {
	var args sqlArgs
	from, where := productFilterSQL(f, &args)
	joins := ""
	if f.PriceCurrency != "" {
		joins = priceLateral
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM products p`+from+joins+` WHERE `+where, args...); err != nil {
		return 0, fmt.Errorf("count products: %w", err)
	}
	return n, nil
}

// CountKey asks for the number of a parent's (a shop's, a collection's)
// listed products, drafts included or not.
type CountKey struct {
	ParentID      int64
	IncludeDrafts bool
}

// ShopProductCounts counts several shops' listed products in one statement.
func (db *DB) ShopProductCounts(ctx context.Context, keys []CountKey) (map[CountKey]int, error) {
	shops := make([]int64, len(keys))
	drafts := make([]bool, len(keys))
	for i, k := range keys {
		shops[i], drafts[i] = k.ParentID, k.IncludeDrafts
	}
	var counts []int
	if err := db.SelectContext(ctx, &counts, `SELECT (SELECT count(*) FROM products p WHERE p.shop_id = k.shop_id
			AND (p.status = 'ACTIVE' OR (k.drafts AND p.status = 'DRAFT')))
		FROM unnest($1::bigint[], $2::bool[]) WITH ORDINALITY AS k(shop_id, drafts, ord) ORDER BY k.ord`,
		pq.Array(shops), pq.Array(drafts)); err != nil {
		return nil, fmt.Errorf("shop product counts: %w", err)
	}
	out := make(map[CountKey]int, len(keys))
	for i, k := range keys {
		out[k] = counts[i]
	}
	return out, nil
}
