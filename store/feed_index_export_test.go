package store

import "fmt"

// FeedIndexEntries returns every entry of the handle's feed index, by id,
// as text (every field the rankings read, the slot left out), without
// catching up.
func (db *DB) FeedIndexEntries() map[int64]string {
	x := db.FeedIndex()
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make(map[int64]string, len(x.byID))
	for id, e := range x.byID {
		c := *e
		c.slot = 0
		out[id] = fmt.Sprintf("%+v", c)
	}
	return out
}

// FeedIndexCampaigns returns the campaign windows a content's entry holds,
// as [starts, ends) pairs in unix microseconds, without catching up.
func (db *DB) FeedIndexCampaigns(id int64) [][2]int64 {
	x := db.FeedIndex()
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out [][2]int64
	if e := x.byID[id]; e != nil {
		for _, k := range e.campaigns {
			out = append(out, [2]int64{k.starts, k.ends})
		}
	}
	return out
}
