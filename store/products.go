package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

const productColumns = `p.id, p.shop_id, p.title, p.description, p.tags, p.status, p.created_at, p.updated_at`

const variantColumns = `v.id, v.product_id, v.sku, v.title, v.price_amount, v.currency_code, v.stock,
	v.position, v.created_at, p.status AS product_status, ` + variantOfferColumns

// variantOfferColumns are the campaign price of variant v now
// (campaign_offer_rows, joined as o by variantOfferJoin): its campaign, price
// and compare-at price, NULL when none.
const variantOfferColumns = `o.campaign_id AS campaign_id, o.price_amount AS campaign_price_amount,
	o.compare_at_amount AS compare_at_amount`

// variantOfferJoin joins variant v's campaign offer now as o, for
// variantColumns. The planner inlines campaign_offer_rows (migration 0025)
// into the statement: one index lookup per variant, no function call.
const variantOfferJoin = ` LEFT JOIN LATERAL campaign_offer_rows(v.id, v.price_amount, now()) o ON true`

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
	if err == nil {
		// a new product joins the product lists kept
		db.catalogChanged(ctx, out.ID)
	}
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

// UpdateProduct changes a product's editable fields and writes its
// PRODUCT_UPDATED webhook event in the same statement. Its shop never changes.
func (db *DB) UpdateProduct(ctx context.Context, id int64, upd ProductUpdate) (*Product, error) {
	var tags any
	if upd.SetTags {
		tags = pq.Array(orEmpty(upd.Tags))
	}
	p, err := getOne[Product](ctx, db.DB, `WITH p AS (UPDATE products SET
			title = coalesce($2, title),
			description = coalesce($3, description),
			tags = coalesce($4::text[], tags),
			status = coalesce($5, status),
			updated_at = now()
		WHERE id = $1 RETURNING *), src AS (SELECT p.shop_id, `+productEventPayload+` AS payload FROM p)`+
		eventCTEs("u", TopicProductUpdated, "src")+` SELECT `+productColumns+` FROM p`,
		"product", id, upd.Title, upd.Description, tags, upd.Status)
	if err != nil {
		return nil, err
	}
	db.catalogChanged(ctx, p.ID)
	return p, nil
}

// SetInventory sets a variant's stock to an absolute number of units and
// writes its INVENTORY_CHANGED webhook event in the same statement.
func (db *DB) SetInventory(ctx context.Context, variantID int64, stock int) (*ProductVariant, error) {
	v, err := getOne[ProductVariant](ctx, db.DB, `WITH v AS (
			UPDATE product_variants SET stock = $2 WHERE id = $1 RETURNING *
		), src AS (SELECT p.shop_id, `+inventoryEventPayload+` AS payload FROM v JOIN products p ON p.id = v.product_id)`+
		eventCTEs("i", TopicInventoryChanged, "src")+`
		SELECT `+variantColumns+` FROM v JOIN products p ON p.id = v.product_id`+variantOfferJoin,
		"variant", variantID, stock)
	if err != nil {
		return nil, err
	}
	db.variantsChanged(ctx, v.ProductID)
	return v, nil
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
		FROM product_variants v JOIN products p ON p.id = v.product_id`+variantOfferJoin+` WHERE v.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("variants by ids: %w", err)
	}
	return indexByID(rows, func(v *ProductVariant) int64 { return v.ID }), nil
}

// variantsByProductsSQL selects every variant of the products $1 (bigint[]),
// campaign-priced now, in display order.
const variantsByProductsSQL = `SELECT ` + variantColumns + `
		FROM product_variants v JOIN products p ON p.id = v.product_id` + variantOfferJoin + `
		WHERE v.product_id = ANY($1) ORDER BY v.product_id, v.position, v.id`

// VariantsByProductIDs loads all variants of several products, in display order.
func (db *DB) VariantsByProductIDs(ctx context.Context, productIDs []int64) (map[int64][]*ProductVariant, error) {
	var rows []*ProductVariant
	if err := db.SelectContext(ctx, &rows, variantsByProductsSQL, pq.Array(productIDs)); err != nil {
		return nil, fmt.Errorf("variants by products: %w", err)
	}
	return groupByKey(productIDs, rows, func(v *ProductVariant) int64 { return v.ProductID }), nil
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
