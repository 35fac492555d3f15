package store_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// contentFixture makes one video with one product card and returns their ids.
func contentFixture(t *testing.T, db *store.DB) (contentID, productID int64) {
	return contentFixtureTB(t, db)
}

func contentFixtureTB(t testing.TB, db *store.DB) (contentID, productID int64) {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.NewUser{Email: "s@example.com", PasswordHash: "-", Handle: "seller", DisplayName: "S"})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := db.CreateShop(ctx, store.NewShop{OwnerID: u.ID, Handle: "shop", Name: "Shop", OperatingModel: store.SelfOperated, CurrencyCode: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.CreateProduct(ctx, store.NewProduct{ShopID: shop.ID, Title: "Serum", Status: store.ProductActive,
		Variants: []store.NewVariant{{SKU: "S-1", Title: "30 ml", Price: store.Money{Minor: 1990, CurrencyCode: "USD"}, Stock: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.PublishVideo(ctx, store.NewVideo{AuthorID: u.ID, ShopID: &shop.ID, Caption: "c", PlaybackURL: "https://x/1",
		DurationSeconds: 10, ProductIDs: []int64{p.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return v.ID, p.ID
}

func counts(t *testing.T, db *store.DB, contentID int64) (views, clicks, viewCount int64) {
	t.Helper()
	err := db.QueryRowContext(context.Background(), `SELECT coalesce(sum(views), 0), coalesce(sum(product_clicks), 0),
		(SELECT view_count FROM contents WHERE id = $1) FROM content_event_counts WHERE content_id = $1`, contentID).Scan(&views, &clicks, &viewCount)
	if err != nil {
		t.Fatal(err)
	}
	return views, clicks, viewCount
}

func TestEventBufferAggregatesConcurrentEvents(t *testing.T) {
	db := storetest.NewDB(t)
	contentID, productID := contentFixture(t, db)
	buf := store.NewEventBuffer(db)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				buf.Add([]store.Event{
					{Type: store.EventView, ContentID: contentID, WatchMs: 100, At: time.Now()},
					{Type: store.EventProductClick, ContentID: contentID, ProductID: productID, At: time.Now()},
				})
				if i%100 == 0 {
					if err := buf.Flush(context.Background()); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := buf.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if views, clicks, viewCount := counts(t, db, contentID); views != 4000 || clicks != 4000 || viewCount != 4000 {
		t.Fatalf("views %d, clicks %d, view_count %d; want 4000 each", views, clicks, viewCount)
	}
}

// TestEventsCountOncePerViewerPerWindow: 500 identical views from one device,
// sent four times through two buffers (two replicas), count once; another
// viewer or the next window counts again, and clicks follow the same rule.
func TestEventsCountOncePerViewerPerWindow(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	contentID, productID := contentFixture(t, db)
	replicas := []*store.EventBuffer{store.NewEventBuffer(db), store.NewEventBuffer(db)}
	at := time.Now().Truncate(store.CountWindow).Add(time.Minute)
	batch := func(viewer string, at time.Time) []store.Event {
		events := make([]store.Event, 500)
		for i := range events {
			events[i] = store.Event{Type: store.EventView, ContentID: contentID, WatchMs: 1000, At: at, Viewer: viewer}
			if i%2 == 1 {
				events[i] = store.Event{Type: store.EventProductClick, ContentID: contentID, ProductID: productID, At: at, Viewer: viewer}
			}
		}
		return events
	}
	send := func(buf *store.EventBuffer, events []store.Event) {
		t.Helper()
		buf.Add(events)
		if err := buf.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		send(replicas[i%2], batch("device:d-81f2", at))
	}
	if views, clicks, viewCount := counts(t, db, contentID); views != 1 || clicks != 1 || viewCount != 1 {
		t.Fatalf("2,000 views and clicks from one device: views %d, clicks %d, view_count %d; want 1 each", views, clicks, viewCount)
	}
	var watch int64
	if err := db.QueryRowContext(ctx, `SELECT sum(watch_ms) FROM content_event_counts WHERE content_id = $1`, contentID).Scan(&watch); err != nil || watch != 1000 {
		t.Fatalf("watch time %d (err %v), want one view's 1000", watch, err)
	}
	send(replicas[0], batch("user:7", at.Add(time.Minute)))
	send(replicas[1], batch("device:d-81f2", at.Add(store.CountWindow)))
	if views, clicks, viewCount := counts(t, db, contentID); views != 3 || clicks != 3 || viewCount != 3 {
		t.Fatalf("after another viewer and the next window: views %d, clicks %d, view_count %d; want 3 each", views, clicks, viewCount)
	}
	// A restart: a new buffer still knows what counted.
	send(store.NewEventBuffer(db), batch("user:7", at))
	if views, _, _ := counts(t, db, contentID); views != 3 {
		t.Fatalf("after a restart, a repeated view counted: views %d", views)
	}
}

// TestCountedOnceSurvivesAFailedFlush: when the counters cannot be written,
// neither are the keys, so the retry counts the view once.
func TestCountedOnceSurvivesAFailedFlush(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	contentID, _ := contentFixture(t, db)
	buf := store.NewEventBuffer(db)
	view := []store.Event{{Type: store.EventView, ContentID: contentID, At: time.Now(), Viewer: "device:x"}}
	buf.Add(view)
	if _, err := db.ExecContext(ctx, `ALTER TABLE content_event_counts RENAME TO content_event_counts_away`); err != nil {
		t.Fatal(err)
	}
	if err := buf.Flush(ctx); err == nil {
		t.Fatal("flush into a missing table succeeded")
	}
	buf.Add(view) // the same view again, while it waits
	if _, err := db.ExecContext(ctx, `ALTER TABLE content_event_counts_away RENAME TO content_event_counts`); err != nil {
		t.Fatal(err)
	}
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if views, _, viewCount := counts(t, db, contentID); views != 1 || viewCount != 1 || buf.Pending() != 0 {
		t.Fatalf("views %d, view_count %d, pending %d after a failed and a good flush; want 1, 1, 0", views, viewCount, buf.Pending())
	}
}

// TestCountedOnceForgetsOldWindows: the flush deletes keys of windows more
// than one window old, and keeps the current and the previous one.
func TestCountedOnceForgetsOldWindows(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	contentID, _ := contentFixture(t, db)
	current := time.Now().Truncate(store.CountWindow)
	if _, err := db.ExecContext(ctx, `INSERT INTO engagement_once (window_start, key) VALUES ($1, 1), ($2, 2), ($3, 3)`,
		current.Add(-3*store.CountWindow), current.Add(-2*store.CountWindow), current.Add(-store.CountWindow)); err != nil {
		t.Fatal(err)
	}
	buf := store.NewEventBuffer(db)
	buf.Add([]store.Event{{Type: store.EventView, ContentID: contentID, At: time.Now(), Viewer: "device:x"}})
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var keys []int64
	if err := db.SelectContext(ctx, &keys, `SELECT key FROM engagement_once WHERE window_start < $1 ORDER BY key`, current); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != 3 {
		t.Fatalf("keys of past windows after a flush: %v, want only the previous window's [3]", keys)
	}
}

func TestEventBufferKeepsEventsWhenAFlushFails(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	contentID, _ := contentFixture(t, db)
	buf := store.NewEventBuffer(db)
	buf.Add([]store.Event{{Type: store.EventView, ContentID: contentID, At: time.Now()}})
	if _, err := db.ExecContext(ctx, `ALTER TABLE content_event_counts RENAME TO content_event_counts_away`); err != nil {
		t.Fatal(err)
	}
	if err := buf.Flush(ctx); err == nil {
		t.Fatal("flush into a missing table succeeded")
	}
	buf.Add([]store.Event{{Type: store.EventView, ContentID: contentID, At: time.Now()}})
	if _, err := db.ExecContext(ctx, `ALTER TABLE content_event_counts_away RENAME TO content_event_counts`); err != nil {
		t.Fatal(err)
	}
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if views, _, _ := counts(t, db, contentID); views != 2 {
		t.Fatalf("views = %d after a failed and a good flush, want 2", views)
	}
}

func TestEventBufferFlushesOnShutdown(t *testing.T) {
	db := storetest.NewDB(t)
	contentID, _ := contentFixture(t, db)
	buf := store.NewEventBuffer(db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf.Run(ctx, time.Hour) // no periodic flush within the test
	}()
	buf.Add([]store.Event{{Type: store.EventShare, ContentID: contentID, At: time.Now()}, {Type: store.EventView, ContentID: contentID, At: time.Now()}})
	cancel()
	<-done
	if views, _, _ := counts(t, db, contentID); views != 1 || buf.Pending() != 0 {
		t.Fatalf("after shutdown: views %d, pending %d", views, buf.Pending())
	}
}

// BenchmarkIngestion measures events accepted and flushed per second, in
// batches of 100 on one hot video, flushing every second as the server does:
// NewViewers gives every event a viewer never seen (each one a row in
// engagement_once, the worst case), OneViewer repeats one viewer's events
// (dropped in memory), Untracked has no viewer (counted every time).
func BenchmarkIngestion(b *testing.B) {
	for _, mode := range []string{"NewViewers", "OneViewer", "Untracked"} {
		b.Run(mode, func(b *testing.B) { benchmarkIngestion(b, mode) })
	}
}

func benchmarkIngestion(b *testing.B, mode string) {
	db := storetest.NewDB(b)
	contentID, productID := contentFixtureTB(b, db)
	buf := store.NewEventBuffer(db)
	template := make([]store.Event, 100)
	for i := range template {
		template[i] = store.Event{Type: store.EventView, ContentID: contentID, WatchMs: 1000, At: time.Now()}
		if i%4 == 0 {
			template[i] = store.Event{Type: store.EventProductClick, ContentID: contentID, ProductID: productID, At: time.Now()}
		}
		if mode == "OneViewer" {
			template[i].Viewer = "device:one"
		}
	}
	ctx := context.Background()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf.Run(runCtx, time.Second) // flushing as the server does, every second
	}()
	var viewers atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		batch := slices.Clone(template)
		for pb.Next() {
			if mode == "NewViewers" {
				for i := range batch {
					batch[i].Viewer = "device:" + strconv.FormatInt(viewers.Add(1), 10)
				}
			}
			accepted, _, err := db.CheckEvents(ctx, batch)
			if err != nil {
				b.Error(err)
				return
			}
			buf.Add(accepted)
		}
	})
	stop()
	<-done // the final flush
	b.StopTimer()
	if buf.Pending() != 0 {
		b.Fatalf("%d events not flushed", buf.Pending())
	}
	b.ReportMetric(float64(b.N*len(template))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkFlush times one flush of 20,000 events of new viewers on one
// content (a quarter product clicks that teach, the rest 1-second views that
// teach nothing), as the server's flush after a second of ingestion, in
// one transaction and split across two that run at once.
func BenchmarkFlush(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("Workers%d", workers), func(b *testing.B) { benchmarkFlush(b, workers) })
	}
}

func benchmarkFlush(b *testing.B, workers int) {
	db := storetest.NewDB(b)
	contentID, productID := contentFixtureTB(b, db)
	buf := store.NewEventBuffer(db)
	buf.SetFlushWorkers(workers)
	ctx := context.Background()
	const n = 20000
	viewer := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		events := make([]store.Event, n)
		for i := range events {
			viewer++
			events[i] = store.Event{Type: store.EventView, ContentID: contentID, WatchMs: 1000, At: time.Now(), Viewer: "device:" + strconv.Itoa(viewer)}
			if i%4 == 0 {
				events[i].Type, events[i].ProductID, events[i].WatchMs = store.EventProductClick, productID, 0
			}
		}
		buf.Add(events)
		b.StartTimer()
		if err := buf.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkFlushSizes times flushes of n 1-second views of one content by
// new viewers (one row each in engagement_once; the ingest group's load) in
// one transaction, for the sizes a flush has when Run flushes once a
// quarter of the back-pressure bound waits (2,500 of 10,000; more when the
// flush is behind) and after a second of 20,000 events a second.
func BenchmarkFlushSizes(b *testing.B) {
	db := storetest.NewDB(b)
	contentID, _ := contentFixtureTB(b, db)
	viewer := 0
	for _, n := range []int{1000, 2500, 5000, 20000} {
		b.Run(fmt.Sprintf("Events%d", n), func(b *testing.B) {
			buf := store.NewEventBuffer(db)
			buf.SetFlushWorkers(1)
			ctx := context.Background()
			for range b.N {
				b.StopTimer()
				events := make([]store.Event, n)
				for i := range events {
					viewer++
					events[i] = store.Event{Type: store.EventView, ContentID: contentID, WatchMs: 1000, At: time.Now(), Viewer: "device:" + strconv.Itoa(viewer)}
				}
				buf.Add(events)
				b.StartTimer()
				if err := buf.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestOfferRefusesWhenTheBufferIsFull: before any flush measured the flush's
// speed, Offer lets 10,000 events from many callers wait (each batch from a
// caller of its own, so no caller's share binds); the next batch is refused whole with
// a retryable SERVICE_UNAVAILABLE (EVENTS_BACKED_UP) and changes nothing, and
// once a flush wrote the buffer it is taken again. Add (trusted callers) is
// never refused.
func TestOfferRefusesWhenTheBufferIsFull(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	contentID, _ := contentFixture(t, db)
	buf := store.NewEventBuffer(db)
	viewer := 0
	batch := func() []store.Event {
		events := make([]store.Event, 100)
		for i := range events {
			viewer++
			events[i] = store.Event{Type: store.EventView, ContentID: contentID, WatchMs: 1000, At: time.Now(), Viewer: "device:" + strconv.Itoa(viewer)}
		}
		return events
	}
	for i := 0; i < 100; i++ {
		if err := buf.Offer("ip:"+strconv.Itoa(i), batch()); err != nil {
			t.Fatalf("batch %d refused with %d waiting: %v", i, buf.Pending(), err)
		}
	}
	err := buf.Offer("ip:new", batch())
	if appErr, ok := store.AsError(err); !ok || appErr.Code != store.EUnavailable || appErr.Reason != store.ReasonBackedUp {
		t.Fatalf("with 10,000 events waiting, Offer answered %v; want SERVICE_UNAVAILABLE, EVENTS_BACKED_UP", err)
	}
	if n := buf.Pending(); n != 10000 {
		t.Fatalf("a refused batch changed the buffer: %d waiting", n)
	}
	buf.Add(batch())
	if n := buf.Pending(); n != 10100 {
		t.Fatalf("Add was refused: %d waiting", n)
	}
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := buf.Offer("", batch()); err != nil {
		t.Fatalf("after a flush, Offer refused: %v", err)
	}
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if views, _, viewCount := counts(t, db, contentID); views != 10200 || viewCount != 10200 {
		t.Fatalf("views %d, view_count %d; want the 10,200 taken, not the refused 100", views, viewCount)
	}
}

// TestSplitFlushesCountAndLearnOnce: flushes split across four transactions,
// by two buffers (two replicas) flushing the same events at the same time,
// count each viewer's view and click once, teach each viewer's profile once,
// and do not deadlock.
func TestSplitFlushesCountAndLearnOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	contentID, productID := contentFixture(t, db)
	const viewers = 6000
	at := time.Now()
	events := make([]store.Event, 0, 2*viewers)
	for v := range viewers {
		viewer := "device:split-" + strconv.Itoa(v)
		events = append(events,
			store.Event{Type: store.EventView, ContentID: contentID, WatchMs: 1000, At: at, Viewer: viewer},
			store.Event{Type: store.EventProductClick, ContentID: contentID, ProductID: productID, At: at, Viewer: viewer})
	}
	for round := 0; round < 2; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			buf := store.NewEventBuffer(db)
			buf.SetFlushWorkers(4)
			// Each replica gets the events in another order.
			mine := slices.Clone(events)
			if i == 1 {
				slices.Reverse(mine)
			}
			buf.Add(mine)
			wg.Go(func() { errs[i] = buf.Flush(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if views, clicks, viewCount := counts(t, db, contentID); views != viewers || clicks != viewers || viewCount != viewers {
		t.Fatalf("views %d, clicks %d, view_count %d; want %d each", views, clicks, viewCount, viewers)
	}
	// A click teaches FORYOU_PRODUCT_CLICK once (a 1-second view of a
	// 10-second video teaches nothing).
	var profiles, wrong int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE weight <> $2)
		FROM profile_contents WHERE content_id = $1`, contentID, store.DefaultForYouSettings.ProductClick).Scan(&profiles, &wrong); err != nil {
		t.Fatal(err)
	}
	if profiles != viewers || wrong != 0 {
		t.Fatalf("%d profiles learned the content (%d with another weight than one click's); want %d, 0", profiles, wrong, viewers)
	}
}

// TestOfferSharesTheBufferBetweenCallers: one caller's flood is refused once
// it holds half of what may wait (5,000 of 10,000 before a flush measured
// its speed), while another caller's events are still taken; with two
// callers holding their share (a third each) a third caller still gets in;
// a flush frees the flooder's share; every event taken is counted.
func TestOfferSharesTheBufferBetweenCallers(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	contentID, _ := contentFixture(t, db)
	buf := store.NewEventBuffer(db)
	viewer := 0
	batch := func(n int) []store.Event {
		events := make([]store.Event, n)
		for i := range events {
			viewer++
			events[i] = store.Event{Type: store.EventView, ContentID: contentID, At: time.Now(), Viewer: "device:" + strconv.Itoa(viewer)}
		}
		return events
	}
	backedUp := func(err error) bool {
		appErr, ok := store.AsError(err)
		return ok && appErr.Code == store.EUnavailable && appErr.Reason == store.ReasonBackedUp
	}
	taken := 0
	flood := func(source string) int {
		held := 0
		for i := 0; ; i++ {
			err := buf.Offer(source, batch(100))
			if backedUp(err) {
				return held
			}
			if err != nil || i > 200 {
				t.Fatalf("%s: batch %d: %v", source, i, err)
			}
			held += 100
			taken += 100
		}
	}
	if held := flood("ip:flooder"); held != 5000 {
		t.Fatalf("a lone flooder held %d events before it was refused; want half of 10,000", held)
	}
	if err := buf.Offer("user:2", batch(100)); err != nil {
		t.Fatalf("another caller was refused while the flooder held its share: %v", err)
	}
	taken += 100
	// A second flooder gets a third of the bound (3,333: 33 batches of 100,
	// one of them sent above), and a third caller still gets in.
	if held := flood("user:2"); held+100 != 3300 {
		t.Fatalf("a second flooder held %d events; want about a third of 10,000", held+100)
	}
	if err := buf.Offer("ip:third", batch(100)); err != nil {
		t.Fatalf("a third caller was refused while two flooders held their shares: %v", err)
	}
	taken += 100
	if err := buf.Offer("ip:flooder", batch(1)); !backedUp(err) {
		t.Fatalf("the flooder was taken again before a flush: %v", err)
	}
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := buf.Offer("ip:flooder", batch(100)); err != nil {
		t.Fatalf("after a flush, the flooder was refused: %v", err)
	}
	taken += 100
	if err := buf.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if views, _, viewCount := counts(t, db, contentID); views != int64(taken) || viewCount != int64(taken) {
		t.Fatalf("views %d, view_count %d; want the %d taken", views, viewCount, taken)
	}
}

// TestRunFlushesOnceAQuarterWaits: Run writes the buffer before its next
// tick as soon as a quarter of what Offer lets wait (10,000 before a flush
// measured its speed) is waiting, so that a steady stream from one caller is
// written as it comes instead of reaching the caller's share (half) and
// being refused until the tick; less than that waits for the tick.
func TestRunFlushesOnceAQuarterWaits(t *testing.T) {
	db := storetest.NewDB(t)
	contentID, _ := contentFixture(t, db)
	buf := store.NewEventBuffer(db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf.Run(ctx, time.Hour) // no tick within the test
	}()
	defer func() { cancel(); <-done }()
	viewer := 0
	batch := func(n int) []store.Event {
		events := make([]store.Event, n)
		for i := range events {
			viewer++
			events[i] = store.Event{Type: store.EventView, ContentID: contentID, WatchMs: 1000, At: time.Now(), Viewer: "device:" + strconv.Itoa(viewer)}
		}
		return events
	}
	if err := buf.Offer("ip:one", batch(2499)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := buf.Pending(); n != 2499 {
		t.Fatalf("%d waiting; want the 2,499 offered, left for the tick", n)
	}
	if err := buf.Offer("ip:one", batch(1)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if views, _, _ := counts(t, db, contentID); views == 2500 && buf.Pending() == 0 {
			break
		}
		if time.Now().After(deadline) {
			views, _, _ := counts(t, db, contentID)
			t.Fatalf("with a quarter of the bound waiting and no tick: %d views written, %d waiting; want 2,500 and 0", views, buf.Pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
