package store

import (
	"testing"
	"time"
)

// The ProfileCache's bookkeeping, without a database: rows are kept only
// while listening; a row forgotten (a notification, an own write) while
// the statement reading it ran is not kept; losing the listener forgets
// everything and keeps nothing until it is back, and a read begun before it
// is back is not kept after.
func TestProfileCacheBookkeeping(t *testing.T) {
	c := NewProfileCache(time.Hour, time.Hour)
	reads := 0
	read := func(during func()) func([]int64) (map[int64]*Shop, error) {
		return func(ids []int64) (map[int64]*Shop, error) {
			reads++
			if during != nil {
				during()
			}
			out := map[int64]*Shop{}
			for _, id := range ids {
				out[id] = &Shop{ID: id}
			}
			return out, nil
		}
	}
	get := func(during func()) {
		t.Helper()
		if _, err := keptByIDs(c, keptShops, 's', c.profileTTL, []int64{1, 2}, read(during)); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(what string, want int) {
		t.Helper()
		before := reads
		get(nil)
		if got := reads - before; got != want {
			t.Fatalf("%s: %d statements, want %d", what, got, want)
		}
	}
	get(nil)
	expect("before Listen (deaf)", 1)
	c.listening(true)
	get(nil)
	expect("listening, kept", 0)
	c.Forget("s:2")
	expect("after a forget", 1)
	expect("read again after the forget", 0)
	c.Forget("s:1")
	get(func() { c.Forget("s:1") }) // forgotten again while the statement ran
	expect("a row forgotten while read is not kept", 1)
	c.listening(false)
	expect("deaf: nothing served", 1)
	expect("deaf: nothing kept", 1)
	get(func() { c.listening(true) }) // begun deaf, back before it ended
	expect("a read begun before the listener was back is not kept", 1)
	expect("listening again: kept", 0)
	c.Forget("u:9", "nonsense", "x:1", "s:")
	expect("other lines forget nothing here", 0)
}
