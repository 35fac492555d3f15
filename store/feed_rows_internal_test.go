package store

import (
	"testing"
	"time"
)

// A row read by a statement that began before its content was forgotten
// (a change announced while the read was in flight) is not kept; nor is
// anything read before everything was forgotten, or while deaf; a kept
// row expires with the TTL.
func TestFeedRowsKeepOnlyWhatNoForgetPrecedes(t *testing.T) {
	r := NewFeedRows(time.Minute)
	row := func(id int64) contentRow { return contentRow{ID: id, Kind: KindVideo} }
	if _, missing := r.get([]int64{1}, time.Now()); len(missing) != 1 {
		t.Fatal("an empty cache found a row")
	}
	r.put([]contentRow{row(1)}, time.Now())
	if kept, _ := r.get([]int64{1}, time.Now()); len(kept) != 0 {
		t.Fatal("kept a row before listening")
	}
	r.listening(true)

	before := time.Now()
	time.Sleep(time.Millisecond)
	r.forget(2)
	r.put([]contentRow{row(1), row(2)}, before)
	kept, missing := r.get([]int64{1, 2}, time.Now())
	if kept[1] == nil || kept[2] != nil || len(missing) != 1 || missing[0] != 2 {
		t.Fatalf("kept %v, missing %v: want 1 kept, 2 (forgotten after its read began) not", kept, missing)
	}
	r.forgetLine("1")
	if kept, _ := r.get([]int64{1}, time.Now()); kept[1] != nil {
		t.Fatal("a notified row is still kept")
	}

	before = time.Now()
	time.Sleep(time.Millisecond)
	r.forgetAll()
	r.put([]contentRow{row(3)}, before)
	if kept, _ := r.get([]int64{3}, time.Now()); kept[3] != nil {
		t.Fatal("kept a row read before everything was forgotten")
	}

	r.put([]contentRow{row(4)}, time.Now())
	if kept, _ := r.get([]int64{4}, time.Now().Add(time.Minute)); kept[4] != nil {
		t.Fatal("a row older than the TTL was served")
	}
	r.listening(false)
	if kept, _ := r.get([]int64{4}, time.Now()); kept[4] != nil {
		t.Fatal("losing the listener kept a row")
	}
	r.put([]contentRow{row(5)}, time.Now())
	if kept, _ := r.get([]int64{5}, time.Now()); kept[5] != nil {
		t.Fatal("kept a row while deaf")
	}
	var none *FeedRows
	if kept, missing := none.get([]int64{6}, time.Now()); kept == nil || len(missing) != 1 {
		t.Fatal("a nil cache must find nothing and return a usable map")
	}
	none.put([]contentRow{row(6)}, time.Now())
	none.forget(6)
}
