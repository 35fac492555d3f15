package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Collection is a shop's curated, ordered list of products.
type Collection struct {
	ID          int64     `db:"id"`
	ShopID      int64     `db:"shop_id"`
	Handle      string    `db:"handle"`
	Title       string    `db:"title"`
	Description string    `db:"description"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

func (*Collection) isNode() {}

// MaxCollectionProducts bounds a collection's products.
const MaxCollectionProducts = 1000

const collectionColumns = `c.id, c.shop_id, c.handle, c.title, c.description, c.created_at, c.updated_at`

// NewCollection is what collectionCreate stores.
type NewCollection struct {
	ShopID      int64
	Handle      string
	Title       string
	Description string
	ProductIDs  []int64
}

// Validate checks a new collection.
func (in NewCollection) Validate() Problems {
	var p Problems
	if !shopHandlePattern.MatchString(in.Handle) {
		p.add("handle", "", "handle must be 2 to 40 lowercase letters, digits and dashes")
	}
	p.text("title", in.Title, true, 100)
	p.text("description", in.Description, false, 2000)
	if len(in.ProductIDs) > MaxCollectionProducts {
		p.add("productIds", "", "a collection holds at most %d products", MaxCollectionProducts)
	}
	return p
}

// CollectionUpdate holds the fields to change; nil leaves a field as it is.
type CollectionUpdate struct {
	Handle      *string
	Title       *string
	Description *string
}

// Validate checks a collection update.
func (upd CollectionUpdate) Validate() Problems {
	var p Problems
	if upd.Handle != nil && !shopHandlePattern.MatchString(*upd.Handle) {
		p.add("handle", "", "handle must be 2 to 40 lowercase letters, digits and dashes")
	}
	if upd.Title != nil {
		p.text("title", *upd.Title, true, 100)
	}
	if upd.Description != nil {
		p.text("description", *upd.Description, false, 2000)
	}
	return p
}

func collectionTaken(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" && pqErr.Constraint == "collections_handle_key" {
		return FieldErrorf(EConflict, "handle", "this collection handle is taken").Because(ReasonTaken)
	}
	return err
}

// CreateCollection stores a collection and its products, in one transaction.
func (db *DB) CreateCollection(ctx context.Context, in NewCollection) (*Collection, error) {
	var out *Collection
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := getOne[Collection](ctx, tx, `INSERT INTO collections AS c (shop_id, handle, title, description)
			VALUES ($1, $2, $3, $4) RETURNING `+collectionColumns, "collection", in.ShopID, in.Handle, in.Title, in.Description)
		if err != nil {
			return collectionTaken(err)
		}
		if err := setCollectionProducts(ctx, tx, c, in.ProductIDs); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// UpdateCollection changes a collection's handle, title or description.
func (db *DB) UpdateCollection(ctx context.Context, id int64, upd CollectionUpdate) (*Collection, error) {
	c, err := getOne[Collection](ctx, db.DB, `UPDATE collections AS c SET
			handle = coalesce($2, handle), title = coalesce($3, title),
			description = coalesce($4, description), updated_at = now()
		WHERE id = $1 RETURNING `+collectionColumns, "collection", id, upd.Handle, upd.Title, upd.Description)
	if err != nil {
		return nil, collectionTaken(err)
	}
	return c, nil
}

// DeleteCollection removes a collection (its products stay).
func (db *DB) DeleteCollection(ctx context.Context, id int64) error {
	res, err := db.ExecContext(ctx, `DELETE FROM collections WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete collection: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENotFound, "collection not found")
	}
	return nil
}

// SetCollectionProducts replaces a collection's products with productIDs, in
// that order. Every product must belong to the collection's shop (drafts
// included: they are shown only to the shop's managers); otherwise nothing
// changes.
func (db *DB) SetCollectionProducts(ctx context.Context, id int64, productIDs []int64) (*Collection, error) {
	if len(productIDs) > MaxCollectionProducts {
		return nil, FieldErrorf(EInvalid, "productIds", "a collection holds at most %d products", MaxCollectionProducts)
	}
	var out *Collection
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := getOne[Collection](ctx, tx, `UPDATE collections AS c SET updated_at = now() WHERE id = $1 RETURNING `+collectionColumns, "collection", id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM collection_products WHERE collection_id = $1`, id); err != nil {
			return fmt.Errorf("clear collection: %w", err)
		}
		if err := setCollectionProducts(ctx, tx, c, productIDs); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

func setCollectionProducts(ctx context.Context, tx *sqlx.Tx, c *Collection, productIDs []int64) error {
	if len(uniqueIDs(productIDs)) != len(productIDs) {
		return FieldErrorf(EInvalid, "productIds", "a product is listed twice")
	}
	if len(productIDs) == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO collection_products (collection_id, product_id, position)
		SELECT $1, k.id, k.ord - 1 FROM unnest($2::bigint[]) WITH ORDINALITY AS k(id, ord)
		JOIN products p ON p.id = k.id AND p.shop_id = $3 AND p.status <> 'ARCHIVED'`,
		c.ID, pq.Array(productIDs), c.ShopID)
	if err != nil {
		return fmt.Errorf("set collection products: %w", err)
	}
	if n, _ := res.RowsAffected(); int(n) != len(productIDs) {
		return FieldErrorf(ENotFound, "productIds", "every product must be a live (not archived) product of the collection's shop")
	}
	return nil
}

// CollectionByHandle finds a collection by its handle (case-insensitive).
func (db *DB) CollectionByHandle(ctx context.Context, handle string) (*Collection, error) {
	return getOne[Collection](ctx, db.DB, `SELECT `+collectionColumns+` FROM collections c WHERE lower(c.handle) = lower($1)`, "collection", handle)
}

// CollectionsByIDs loads collections by id in one statement.
func (db *DB) CollectionsByIDs(ctx context.Context, ids []int64) (map[int64]*Collection, error) {
	var rows []*Collection
	if err := db.SelectContext(ctx, &rows, `SELECT `+collectionColumns+` FROM collections c WHERE c.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("collections by ids: %w", err)
	}
	return indexByID(rows, func(c *Collection) int64 { return c.ID }), nil
}

// ShopCollectionPages loads one page of collections, oldest first, for each
// shop key in one statement.
func (db *DB) ShopCollectionPages(ctx context.Context, keys []ChildPageKey) (map[ChildPageKey]Page[*Collection], error) {
	parents, afters, limits, _, err := childPageArrays(keys)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Ord int `db:"ord"`
		Collection
	}
	err = db.SelectContext(ctx, &rows, `SELECT k.ord, `+collectionColumns+`
		FROM unnest($1::bigint[], $2::bigint[], $3::int[]) WITH ORDINALITY AS k(shop_id, after_id, lim, ord)
		CROSS JOIN LATERAL (
			SELECT * FROM collections c WHERE c.shop_id = k.shop_id AND c.id > k.after_id
			ORDER BY c.id LIMIT k.lim) c
		ORDER BY k.ord, c.id`,
		pq.Array(parents), pq.Array(afters), pq.Array(limits))
	if err != nil {
		return nil, fmt.Errorf("shop collection pages: %w", err)
	}
	return pagesByKey(keys, ChildPageKey.pageArgs, len(rows), func(i int) int { return rows[i].Ord },
		func(i int) *Collection { return &rows[i].Collection }, func(c *Collection) int64 { return c.ID }), nil
}

// ShopCollectionCounts counts several shops' collections in one statement.
func (db *DB) ShopCollectionCounts(ctx context.Context, shopIDs []int64) (map[int64]int, error) {
	var rows []struct {
		ShopID int64 `db:"shop_id"`
		N      int   `db:"n"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT shop_id, count(*) AS n FROM collections WHERE shop_id = ANY($1) GROUP BY shop_id`, pq.Array(shopIDs)); err != nil {
		return nil, fmt.Errorf("shop collection counts: %w", err)
	}
	out := make(map[int64]int, len(shopIDs))
	for _, id := range shopIDs {
		out[id] = 0
	}
	for _, r := range rows {
		out[r.ShopID] = r.N
	}
	return out, nil
}

// CollectionProductPages loads one page of each collection's products, in
// the collection's order, in one statement; drafts only where the key says.
// Archived products are never listed.
func (db *DB) CollectionProductPages(ctx context.Context, keys []ChildPageKey) (map[ChildPageKey]Page[*Product], error) {
	parents := make([]int64, len(keys))
	afters := make([]int64, len(keys))
	limits := make([]int64, len(keys))
	drafts := make([]bool, len(keys))
	for i, k := range keys {
		after := int64(-1)
		if k.After != "" {
			var c positionCursor
			if err := decodeCursor(k.After, &c); err != nil {
				return nil, err
			}
			after = c.Position
		}
		parents[i], afters[i], limits[i], drafts[i] = k.ParentID, after, int64(k.First+1), k.IncludeDrafts
	}
	var rows []struct {
		Ord      int   `db:"ord"`
		Position int64 `db:"position"`
		Product
	}
	err := db.SelectContext(ctx, &rows, `SELECT k.ord, p.position, `+productColumns+`
		FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bool[]) WITH ORDINALITY AS k(collection_id, after_pos, lim, drafts, ord)
		CROSS JOIN LATERAL (
			SELECT cp.position, p.* FROM collection_products cp JOIN products p ON p.id = cp.product_id
			WHERE cp.collection_id = k.collection_id AND cp.position > k.after_pos
			  AND (p.status = 'ACTIVE' OR (k.drafts AND p.status = 'DRAFT'))
			ORDER BY cp.position LIMIT k.lim) p
		ORDER BY k.ord, p.position`,
		pq.Array(parents), pq.Array(afters), pq.Array(limits), pq.Array(drafts))
	if err != nil {
		return nil, fmt.Errorf("collection product pages: %w", err)
	}
	grouped := make([][]int, len(keys))
	for i := range rows {
		grouped[rows[i].Ord-1] = append(grouped[rows[i].Ord-1], i)
	}
	out := make(map[ChildPageKey]Page[*Product], len(keys))
	for ki, k := range keys {
		pg := newPage(grouped[ki], k.pageArgs(), func(i int) string { return positionCursor{Position: rows[i].Position}.encode() })
		p := Page[*Product]{HasNextPage: pg.HasNextPage, HasPreviousPage: pg.HasPreviousPage}
		for _, e := range pg.Edges {
			p.Edges = append(p.Edges, Edge[*Product]{Cursor: e.Cursor, Node: &rows[e.Node].Product})
		}
		out[k] = p
	}
	return out, nil
}

// positionCursor pages a hand-ordered list by position.
type positionCursor struct {
	Position int64 `json:"p"`
}

func (c positionCursor) appendJSON(b []byte) []byte {
	return append(appendIntField(append(b, '{'), true, "p", c.Position), '}')
}

// encode is encodeCursor(c).
func (c positionCursor) encode() string {
	var js intCursorJSON
	return encodeJSONCursor(c.appendJSON(js[:0]))
}

// CollectionProductCounts counts the listed products of several collections
// (drafts only where the key says) in one statement.
func (db *DB) CollectionProductCounts(ctx context.Context, keys []CountKey) (map[CountKey]int, error) {
	ids := make([]int64, len(keys))
	drafts := make([]bool, len(keys))
	for i, k := range keys {
		ids[i], drafts[i] = k.ParentID, k.IncludeDrafts
	}
	var counts []int
	if err := db.SelectContext(ctx, &counts, `SELECT (SELECT count(*) FROM collection_products cp JOIN products p ON p.id = cp.product_id
			WHERE cp.collection_id = k.id AND (p.status = 'ACTIVE' OR (k.drafts AND p.status = 'DRAFT')))
		FROM unnest($1::bigint[], $2::bool[]) WITH ORDINALITY AS k(id, drafts, ord) ORDER BY k.ord`,
		pq.Array(ids), pq.Array(drafts)); err != nil {
		return nil, fmt.Errorf("collection product counts: %w", err)
	}
	out := make(map[CountKey]int, len(keys))
	for i, k := range keys {
		out[k] = counts[i]
	}
	return out, nil
}
