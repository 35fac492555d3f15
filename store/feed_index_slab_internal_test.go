package store

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// hasPointers reports whether a value of type t holds a pointer the
// garbage collector follows (strings, slices, maps, funcs, interfaces,
// channels and pointers do).
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	default:
		return true
	}
}

// The feed index's bulk (an entry per content, the lists of slots, the
// slots by id, the top lists) holds no pointer, so that the garbage
// collector does not walk it: at 2,000,000 contents the index's pointers
// made every collection follow some 15 million of them (see
// BenchmarkFeedIndexAtScale).
func TestFeedIndexBulkIsPointerFree(t *testing.T) {
	x := reflect.TypeFor[FeedIndex]()
	elem := func(field string) reflect.Type {
		f, ok := x.FieldByName(field)
		if !ok {
			t.Fatalf("FeedIndex has no field %s", field)
		}
		return f.Type.Elem()
	}
	key := func(field string) reflect.Type {
		f, _ := x.FieldByName(field)
		return f.Type.Key()
	}
	list, _ := reflect.TypeFor[sortedEntries]().FieldByName("list")
	top, _ := reflect.TypeFor[FeedIndex]().FieldByName("topCache")
	popular, _ := top.Type.FieldByName("popularAll")
	for what, typ := range map[string]reflect.Type{
		"an entry (FeedIndex.entries)":       elem("entries"),
		"a slot by id (FeedIndex.byID)":      elem("byID"),
		"an id (FeedIndex.byID's key)":       key("byID"),
		"a slot on air (FeedIndex.onAir)":    elem("onAir"),
		"an id on air (FeedIndex.onAir)":     key("onAir"),
		"a list's item (sortedEntries.list)": list.Type.Elem(),
		"a top list's item":                  popular.Type.Elem(),
		"a ranking's candidate":              reflect.TypeFor[rankScratch]().Field(1).Type.Elem(),
	} {
		if hasPointers(typ) {
			t.Errorf("%s (%v) holds a pointer", what, typ)
		}
	}
}

// checkFeedIndexLists returns an error unless every list of x holds
// exactly the entries it should, in its order (x.mu held): by author, by
// shop, by tag, published, created, on air, and byID the slot of each.
func checkFeedIndexLists(x *FeedIndex) error {
	if int(x.slots) != len(x.entries) {
		return fmt.Errorf("%d slots, %d entries", x.slots, len(x.entries))
	}
	if len(x.byID)+len(x.freeSlots) != len(x.entries) {
		return fmt.Errorf("%d contents and %d free slots in %d", len(x.byID), len(x.freeSlots), len(x.entries))
	}
	for id, slot := range x.byID {
		if e := &x.entries[slot]; e.id != id || e.slot != slot {
			return fmt.Errorf("content %d at slot %d: the entry there is %d's, of slot %d", id, slot, e.id, e.slot)
		}
	}
	for _, slot := range x.freeSlots {
		if x.entries[slot] != (feedEntry{}) {
			return fmt.Errorf("free slot %d holds content %d", slot, x.entries[slot].id)
		}
	}
	check := func(what string, l *sortedEntries, belongs func(e *feedEntry) bool, n int) error {
		var got int
		if l != nil {
			got = len(l.list)
			for i, slot := range l.list {
				e := &x.entries[slot]
				if x.byID[e.id] != slot || !belongs(e) {
					return fmt.Errorf("%s: slot %d (content %d) does not belong", what, slot, e.id)
				}
				if i > 0 && l.less(&x.entries[l.list[i-1]], e) >= 0 {
					return fmt.Errorf("%s: out of order at %d", what, i)
				}
			}
		}
		if got != n {
			return fmt.Errorf("%s holds %d entries, want %d", what, got, n)
		}
		return nil
	}
	// how many entries each list should hold
	authors, shops, tags := map[int64]int{}, map[int64]int{}, map[string]int{}
	for _, slot := range x.byID {
		e := &x.entries[slot]
		authors[e.author]++
		if e.shop != 0 {
			shops[e.shop]++
		}
		for _, t := range slices.Compact(slices.Sorted(slices.Values(x.tagsOf(e)))) {
			tags[t]++
		}
		if _, on := x.onAir[e.id]; on != e.live {
			return fmt.Errorf("content %d: on air %v, live %v", e.id, on, e.live)
		}
	}
	if len(x.byAuthor) != len(authors) || len(x.byShop) != len(shops) || len(x.byTag) != len(tags) {
		return fmt.Errorf("lists of %d authors, %d shops, %d tags; want %d, %d, %d", len(x.byAuthor), len(x.byShop), len(x.byTag),
			len(authors), len(shops), len(tags))
	}
	for a, n := range authors {
		if err := check(fmt.Sprint("author ", a), x.byAuthor[a], func(e *feedEntry) bool { return e.author == a }, n); err != nil {
			return err
		}
	}
	for s, n := range shops {
		if err := check(fmt.Sprint("shop ", s), x.byShop[s], func(e *feedEntry) bool { return e.shop == s }, n); err != nil {
			return err
		}
	}
	for tag, n := range tags {
		if err := check("tag "+tag, x.byTag[tag], func(e *feedEntry) bool { return slices.Contains(x.tagsOf(e), tag) }, n); err != nil {
			return err
		}
	}
	if err := check("published", &x.published, func(*feedEntry) bool { return true }, len(x.byID)); err != nil {
		return err
	}
	return check("created", &x.created, func(*feedEntry) bool { return true }, len(x.byID))
}

// Changes overwrite entries in place: after contents changed every way
// (views and scores only, moved to another author, shop, tags,
// publication or creation, on air or off, gone, new ones taking freed
// slots) every list holds exactly its entries, in order, each entry at
// its slot, and each content reads as its last row says.
func TestFeedIndexListsFollowInPlaceChanges(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	x := syntheticFeedIndex(5_000, now)
	rng := rand.New(rand.NewPCG(11, 12))
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := checkFeedIndexLists(x); err != nil {
		t.Fatalf("loaded: %v", err)
	}
	last := map[int64]feedIndexRow{}
	nextID := int64(10_000)
	tags := [][]string{{"beauty1"}, {"tech2", "home0"}, {"fresh"}, nil}
	for round := range 40 {
		for range 200 {
			id := 1 + rng.Int64N(5_000)
			e := x.entry(id)
			if e == nil || rng.IntN(10) == 0 {
				r := feedIndexRow{ID: nextID, Author: 1 + rng.Int64N(30), Shop: rng.Int64N(4), Tags: tags[rng.IntN(len(tags))],
					Published: now.UnixMicro() - rng.Int64N(1e9), Created: now.UnixMicro() - rng.Int64N(1e9), Scored: true, Base: rng.Float64()}
				nextID++
				x.apply(&r, false)
				last[r.ID] = r
				continue
			}
			r := feedIndexRow{ID: id, Author: e.author, Shop: e.shop, Tags: x.tagsOf(e), Cats: x.catsOf(e), Published: e.published,
				Created: e.created, Views: e.views, Likes: e.likes, Scored: e.scored, Base: e.base, GPM: e.gpm, Eng: e.eng}
			if e.isLive {
				r.IsLive, r.LiveStatus = true, "ENDED"
				if e.live {
					r.LiveStatus = "LIVE"
				}
			}
			switch rng.IntN(9) {
			case 0:
				r.Views, r.Base = r.Views+1, rng.Float64()*100
			case 1:
				r.Author = 1 + rng.Int64N(30)
			case 2:
				r.Shop = rng.Int64N(4)
			case 3:
				r.Tags = tags[rng.IntN(len(tags))]
			case 4:
				r.Published += rng.Int64N(1e6) - 5e5
			case 5:
				r.Created += rng.Int64N(1e6) - 5e5
			case 6:
				r.IsLive, r.LiveStatus = true, []string{"LIVE", "ENDED"}[rng.IntN(2)]
			case 7:
				r = feedIndexRow{ID: id, LiveStatus: "GONE"}
			default:
				r.CampStarts, r.CampEnds = []int64{1, 3}, []int64{2, 4}
			}
			x.apply(&r, false)
			last[r.ID] = r
		}
		if err := checkFeedIndexLists(x); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	for id, r := range last {
		e := x.entry(id)
		if r.LiveStatus == "GONE" {
			if e != nil {
				t.Fatalf("content %d gone, still held", id)
			}
			continue
		}
		if e == nil {
			t.Fatalf("content %d not held", id)
		}
		got := feedIndexRow{ID: e.id, IsLive: e.isLive, Author: e.author, Shop: e.shop, Tags: x.tagsOf(e), Cats: x.catsOf(e),
			Published: e.published, Created: e.created, Views: e.views, Likes: e.likes, Scored: e.scored, Base: e.base, GPM: e.gpm, Eng: e.eng}
		want := r
		want.LiveStatus, want.CampStarts, want.CampEnds = "", nil, nil
		if len(want.Tags) == 0 {
			want.Tags = nil
		}
		if len(want.Cats) == 0 {
			want.Cats = nil
		}
		if !reflect.DeepEqual(got, want) || e.live != (r.IsLive && r.LiveStatus == "LIVE") {
			t.Fatalf("content %d reads\n%+v\nits last row\n%+v", id, got, want)
		}
		var ws []campaignWindow
		for i := range r.CampStarts {
			ws = append(ws, campaignWindow{r.CampStarts[i], r.CampEnds[i]})
		}
		if !slices.Equal(x.campaignsOf(e), ws) {
			t.Fatalf("content %d: campaigns %v, want %v", id, x.campaignsOf(e), ws)
		}
	}
}
