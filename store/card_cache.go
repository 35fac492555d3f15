package store

import "sync"

// maxCachedCardSets bounds the card cache; past it the cache starts over,
// which costs one statement per content on the next batches.
const maxCachedCardSets = 100_000

// cardCache remembers which products each content carries, so a stream of
// engagement events on a hot video is checked in memory instead of costing a
// statement per batch. Contents are never deleted and their cards are
// written with them, in the same transaction, so a known set never goes
// stale; only contents that exist are remembered.
type cardCache struct {
	mu   sync.RWMutex
	sets map[int64][]int64
}

func (c *cardCache) get(contentID int64) ([]int64, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	products, ok := c.sets[contentID]
	return products, ok
}

func (c *cardCache) put(sets map[int64][]int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sets == nil || len(c.sets)+len(sets) > maxCachedCardSets {
		c.sets = make(map[int64][]int64, len(sets))
	}
	for id, products := range sets {
		c.sets[id] = products
	}
}
