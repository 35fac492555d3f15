package store

import "fmt"

// FeedIndexEntries returns every entry of the handle's feed index, by id,
// as text (every field the rankings read, the slot left out), without
// catching up.
func (db *DB) FeedIndexEntries() map[int64]string {
	x := db.FeedIndex()
	x.mu.RLock()
	defer x.mu.RUnlock()
	// an entry with its interned lists' items
	type entryText struct {
		id, author, shop    int64
		published, created  int64
		views, likes        int64
		base, gpm, eng      float64
		tags, cats          []string
		campaigns           []campaignWindow
		live, ended, scored bool
		isLive              bool
	}
	out := make(map[int64]string, len(x.byID))
	for id, slot := range x.byID {
		e := &x.entries[slot]
		out[id] = fmt.Sprintf("%+v", entryText{e.id, e.author, e.shop, e.published, e.created, e.views, e.likes, e.base, e.gpm, e.eng,
			x.tagsOf(e), x.catsOf(e), x.campaignsOf(e), e.live, e.ended, e.scored, e.isLive})
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
	if e := x.entry(id); e != nil {
		for _, k := range x.campaignsOf(e) {
			out = append(out, [2]int64{k.starts, k.ends})
		}
	}
	return out
}
