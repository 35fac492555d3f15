package store_test

import (
	"context"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// One flush learns what teaches and writes nothing else: a swipe past
// (under FORYOU_MIN_VIEW_SHARE) writes no row, a view to the end teaches its
// share and is remembered as completed, a product signal without content
// teaches the product's shop, and a signal about a content that does not
// exist (profile_contents has no foreign key) is dropped without failing
// the flush.
func TestFlushLearnsOnlyWhatTeaches(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	contentID, productID := contentFixture(t, db)
	var author, shop int64
	if err := db.QueryRowContext(ctx, `SELECT author_id, shop_id FROM contents WHERE id = $1`, contentID).Scan(&author, &shop); err != nil {
		t.Fatal(err)
	}
	buf := store.NewEventBuffer(db)
	now := time.Now()
	buf.Add([]store.Event{
		{Type: store.EventView, ContentID: contentID, WatchMs: 1000, At: now, Viewer: "device:swipe"}, // 10% of 10 s
		{Type: store.EventView, ContentID: contentID, WatchMs: 10000, At: now, Viewer: "device:fan"},  // to the end
	})
	buf.AddSignal(store.Signal{Profile: "device:cart", ProductID: productID, Weight: 3})
	buf.AddSignal(store.Signal{Profile: "device:ghost", ContentID: contentID + 1000, Weight: 2})
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	weight := func(profile, key string) (w float64, ok bool) {
		t.Helper()
		var v *float64
		err := db.QueryRowContext(ctx, `SELECT (weights->>$2)::float8 FROM interests WHERE profile = $1`, profile, key).Scan(&v)
		if err != nil || v == nil {
			return 0, false
		}
		return *v, true
	}
	rows := func(table, profile string) (n int) {
		t.Helper()
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE profile = $1`, profile).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows("interests", "device:swipe") + rows("profile_contents", "device:swipe"); n != 0 {
		t.Errorf("a swipe past wrote %d rows", n)
	}
	view := store.DefaultForYouSettings.View
	if w, _ := weight("device:fan", "CREATOR:"+itoa(author)); w != view {
		t.Errorf("a view to the end teaches the creator %v, want %v", w, view)
	}
	if w, _ := weight("device:fan", "SHOP:"+itoa(shop)); w != view {
		t.Errorf("a view to the end teaches the shop %v, want %v", w, view)
	}
	var completed bool
	if err := db.QueryRowContext(ctx, `SELECT completed FROM profile_contents WHERE profile = 'device:fan' AND content_id = $1`, contentID).Scan(&completed); err != nil || !completed {
		t.Errorf("the view to the end is not remembered as completed: %v %v", completed, err)
	}
	if w, _ := weight("device:cart", "SHOP:"+itoa(shop)); w != 3 {
		t.Errorf("a product signal teaches its shop %v, want 3", w)
	}
	if _, ok := weight("device:cart", "CREATOR:"+itoa(author)); ok {
		t.Error("a product signal without content taught a creator")
	}
	if n := rows("interests", "device:ghost") + rows("profile_contents", "device:ghost"); n != 0 {
		t.Errorf("a signal about a missing content wrote %d rows", n)
	}
	if buf.Pending() != 0 {
		t.Errorf("%d left pending", buf.Pending())
	}
}

func itoa(n int64) string { return store.UserProfile(n)[len("user:"):] }
