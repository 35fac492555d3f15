package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

const productColumns = `p.id, p.shop_id, p.title, p.description, p.tags, p.status, p.created_at, p.updated_at`

const variantColumns = `v.id, v.product_id, v.sku, v.title, v.price_amount, v.currency_code, v.stock,
	v.position, v.created_at, p.status AS product_status`

// NewVariant is one variant of a product being created.
type NewVariant struct {
	SKU   string
	Title string
	Price Money
	Stock int
}

// NewProduct is what createProduct stores.
type NewProduct struct {
	ShopID      int64
	Title       string
	Description string
	Tags        []string
	Status      string
	Variants    []NewVariant
}

// CreateProduct stores a product and its variants in one transaction.
func (db *DB) CreateProduct(ctx context.Context, in NewProduct) (*Product, error) {
	var out *Product
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		p, err := getOne[Product](ctx, tx, `INSERT INTO products AS p (shop_id, title, description, tags, status)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+productColumns,
			"product", in.ShopID, in.Title, in.Description, pq.Array(orEmpty(in.Tags)), in.Status)
		if err != nil {
			return err
		}
		for i, v := range in.Variants {
			_, err := tx.ExecContext(ctx, `INSERT INTO product_variants
				(product_id, sku, title, price_amount, currency_code, stock, position)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				p.ID, v.SKU, v.Title, v.Price.Minor, v.Price.CurrencyCode, v.Stock, i)
			var pqErr *pq.Error
			if errors.As(err, &pqErr) && pqErr.Code == "23505" {
				return FieldErrorf(EConflict, fmt.Sprintf("variants.%d.sku", i), "SKU %q is already in use", v.SKU).Because(ReasonTaken)
			}
			if err != nil {
				return fmt.Errorf("insert variant: %w", err)
			}
		}
		out = p
		return nil
	})
	return out, err
}

// ProductUpdate holds the fields to change; nil leaves a field as it is.
type ProductUpdate struct {
	Title       *string
	Description *string
	Tags        []string
	SetTags     bool
	Status      *string
}

// UpdateProduct changes a product's editable fields. Its shop never changes.
func (db *DB) UpdateProduct(ctx context.Context, id int64, upd ProductUpdate) (*Product, error) {
	var tags any
	if upd.SetTags {
		tags = pq.Array(orEmpty(upd.Tags))
	}
	return getOne[Product](ctx, db.DB, `UPDATE products AS p SET
			title = coalesce($2, title),
			description = coalesce($3, description),
			tags = coalesce($4::text[], tags),
			status = coalesce($5, status),
			updated_at = now()
		WHERE id = $1 RETURNING `+productColumns,
		"product", id, upd.Title, upd.Description, tags, upd.Status)
}

// SetInventory sets a variant's stock to an absolute number of units.
func (db *DB) SetInventory(ctx context.Context, variantID int64, stock int) (*ProductVariant, error) {
	return getOne[ProductVariant](ctx, db.DB, `WITH v AS (
			UPDATE product_variants SET stock = $2 WHERE id = $1 RETURNING *)
		SELECT `+variantColumns+` FROM v JOIN products p ON p.id = v.product_id`,
		"variant", variantID, stock)
}

// ProductsByIDs loads products by id in one statement.
func (db *DB) ProductsByIDs(ctx context.Context, ids []int64) (map[int64]*Product, error) {
	var rows []*Product
	if err := db.SelectContext(ctx, &rows, `SELECT `+productColumns+` FROM products p WHERE p.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("products by ids: %w", err)
	}
	return indexByID(rows, func(p *Product) int64 { return p.ID }), nil
}

// VariantsByIDs loads variants by id in one statement.
func (db *DB) VariantsByIDs(ctx context.Context, ids []int64) (map[int64]*ProductVariant, error) {
	var rows []*ProductVariant
	if err := db.SelectContext(ctx, &rows, `SELECT `+variantColumns+`
		FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("variants by ids: %w", err)
	}
	return indexByID(rows, func(v *ProductVariant) int64 { return v.ID }), nil
}

// VariantsByProductIDs loads all variants of several products, in display order.
func (db *DB) VariantsByProductIDs(ctx context.Context, productIDs []int64) (map[int64][]*ProductVariant, error) {
	var rows []*ProductVariant
	if err := db.SelectContext(ctx, &rows, `SELECT `+variantColumns+`
		FROM product_variants v JOIN products p ON p.id = v.product_id
		WHERE v.product_id = ANY($1) ORDER BY v.product_id, v.position, v.id`, pq.Array(productIDs)); err != nil {
		return nil, fmt.Errorf("variants by products: %w", err)
	}
	return groupByKey(productIDs, rows, func(v *ProductVariant) int64 { return v.ProductID }), nil
}

// ProductQuery narrows a product listing.
type ProductQuery struct {
	ShopID *int64
	Search string
	Tag    string
	// IncludeDrafts lists drafts too; only for the shop's own owner.
	IncludeDrafts bool
}

// ListProducts pages through products, newest first, or by relevance when
// searching. Archived products are never listed; drafts only on request.
//
// A search's first page ranks every match and stores the whole ranking as a
// walk (one statement either way); the pages after it read that ranking
// back by position, so edits that move a product's relevance during a walk
// never make it repeat or be skipped. A product archived (or, for a
// non-owner, drafted) since the walk began is left out of the pages that
// follow.
func (db *DB) ListProducts(ctx context.Context, f ProductQuery, args PageArgs) (Page[*Product], error) {
	search := strings.TrimSpace(f.Search)
	if search == "" {
		return db.listProductsByID(ctx, f, args)
	}
	shop := int64(-1)
	if f.ShopID != nil {
		shop = *f.ShopID
	}
	kind := walkKind("products", search, shop, f.Tag, f.IncludeDrafts)
	var rows []*rankedProduct
	var walk walkCursor
	if args.After == "" {
		walk.Walk = newWalkID()
		err := db.SelectContext(ctx, &rows, `WITH ranked AS (
				SELECT `+productColumns+`, round(ts_rank(p.search, q)::numeric, 6) AS rank
				FROM products p, websearch_to_tsquery('english', $1) q
				WHERE p.search @@ q
				  AND ($2::bigint IS NULL OR p.shop_id = $2)
				  AND ($3 = '' OR p.tags @> ARRAY[$3])
				  AND (p.status = 'ACTIVE' OR ($4 AND p.status = 'DRAFT'))
			),
			walk AS (
				INSERT INTO list_walks (id, viewer_id, kind, ids)
				SELECT $6, 0, $7, coalesce(array_agg(id ORDER BY rank DESC, id DESC), '{}') FROM ranked
			)
			SELECT `+productColumns+`, 0 AS pos FROM ranked p ORDER BY p.rank DESC, p.id DESC LIMIT $5`,
			search, f.ShopID, f.Tag, f.IncludeDrafts, args.First+1, walk.Walk, kind)
		if err != nil {
			return Page[*Product]{}, fmt.Errorf("search products: %w", err)
		}
		for i := range rows {
			rows[i].Pos = int64(i + 1) // the first page is the walk's head
		}
	} else {
		var err error
		if walk, err = decodeWalkCursor(args.After); err != nil {
			return Page[*Product]{}, err
		}
		err = db.SelectContext(ctx, &rows, `SELECT `+productColumns+`, $2 + r.n AS pos
			FROM list_walks w
			CROSS JOIN LATERAL unnest(w.ids[$2 + 1:]) WITH ORDINALITY AS r(id, n)
			JOIN products p ON p.id = r.id
			WHERE w.id = $1 AND w.viewer_id = 0 AND w.kind = $3
			  AND (p.status = 'ACTIVE' OR ($4 AND p.status = 'DRAFT'))
			ORDER BY r.n LIMIT $5`, walk.Walk, walk.Pos, kind, f.IncludeDrafts, args.First+1)
		if err != nil {
			return Page[*Product]{}, fmt.Errorf("search products: %w", err)
		}
		if len(rows) == 0 {
			if err := db.missingWalk(ctx, walk, 0, kind); err != nil {
				return Page[*Product]{}, err
			}
		}
	}
	page := newPage(rows, args, func(r *rankedProduct) string {
		return encodeCursor(walkCursor{Walk: walk.Walk, Pos: r.Pos})
	})
	out := Page[*Product]{HasNextPage: page.HasNextPage, HasPreviousPage: page.HasPreviousPage}
	for _, e := range page.Edges {
		out.Edges = append(out.Edges, Edge[*Product]{Cursor: e.Cursor, Node: &e.Node.Product})
	}
	return out, nil
}

// rankedProduct is a search result with its position in the walk.
type rankedProduct struct {
	Product
	Pos int64 `db:"pos"`
}

func (db *DB) listProductsByID(ctx context.Context, f ProductQuery, args PageArgs) (Page[*Product], error) {
	after, err := afterID(args.After)
	if err != nil {
		return Page[*Product]{}, err
	}
	var rows []*Product
	err = db.SelectContext(ctx, &rows, `SELECT `+productColumns+` FROM products p
		WHERE ($1::bigint IS NULL OR p.shop_id = $1)
		  AND ($2 = '' OR p.tags @> ARRAY[$2])
		  AND (p.status = 'ACTIVE' OR ($3 AND p.status = 'DRAFT'))
		  AND ($4 = 0 OR p.id < $4)
		ORDER BY p.id DESC LIMIT $5`,
		f.ShopID, f.Tag, f.IncludeDrafts, after, args.First+1)
	if err != nil {
		return Page[*Product]{}, fmt.Errorf("list products: %w", err)
	}
	return newPage(rows, args, func(p *Product) string { return cursorForID(p.ID) }), nil
}

// ChildPageKey asks for one page of a parent's children (a shop's products,
// videos or live sessions). Keys are batched so that a whole GraphQL page of
// parents costs one statement.
type ChildPageKey struct {
	ParentID      int64
	First         int
	After         string
	IncludeDrafts bool
}

// ShopProductPages loads one page of products for each key in one statement.
func (db *DB) ShopProductPages(ctx context.Context, keys []ChildPageKey) (map[ChildPageKey]Page[*Product], error) {
	parents, afters, limits, drafts, err := childPageArrays(keys)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Ord int `db:"ord"`
		Product
	}
	err = db.SelectContext(ctx, &rows, `SELECT k.ord, `+productColumns+`
		FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bool[]) WITH ORDINALITY AS k(shop_id, after_id, lim, drafts, ord)
		CROSS JOIN LATERAL (
			SELECT * FROM products p
			WHERE p.shop_id = k.shop_id
			  AND (k.after_id = 0 OR p.id < k.after_id)
			  AND (p.status = 'ACTIVE' OR (k.drafts AND p.status = 'DRAFT'))
			ORDER BY p.id DESC LIMIT k.lim) p
		ORDER BY k.ord, p.id DESC`,
		pq.Array(parents), pq.Array(afters), pq.Array(limits), pq.Array(drafts))
	if err != nil {
		return nil, fmt.Errorf("shop product pages: %w", err)
	}
	return pagesByKey(keys, ChildPageKey.pageArgs, len(rows), func(i int) int { return rows[i].Ord },
		func(i int) *Product { return &rows[i].Product }, func(p *Product) int64 { return p.ID }), nil
}

func childPageArrays(keys []ChildPageKey) (parents, afters []int64, limits []int64, drafts []bool, err error) {
	for _, k := range keys {
		after, err := afterID(k.After)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		parents = append(parents, k.ParentID)
		afters = append(afters, after)
		limits = append(limits, int64(k.First+1))
		drafts = append(drafts, k.IncludeDrafts)
	}
	return parents, afters, limits, drafts, nil
}
