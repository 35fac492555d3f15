package store

import "context"

// ListsKept reports the product list pages c keeps: how many, the longest
// key's length in bytes, the product rows on them in all and how many
// distinct copies of rows those are.
func (c *CatalogCache) ListsKept() (pages, longestKey, rows, copies int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[*Product]bool{}
	for k, e := range c.lists {
		pages++
		longestKey = max(longestKey, len(k))
		rows += len(e.page.Edges)
		for _, e := range e.page.Edges {
			seen[e.Node] = true
		}
	}
	return pages, longestKey, rows, len(seen)
}

// ProductsOfVariants is productsOfVariants, for tests.
func (db *DB) ProductsOfVariants(ctx context.Context, variantIDs []int64) []int64 {
	return db.productsOfVariants(ctx, variantIDs)
}
