package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"showcase/graph"
	"showcase/store"
)

const recordEventsMutation = `mutation($events: [EngagementEventInput!]!) { recordEvents(events: $events) { accepted userErrors { field code message } } }`

type recordOut struct {
	RecordEvents struct {
		Accepted   int
		UserErrors []userError
	}
}

func events(n int, typ, contentID, productID string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		// Each from its own device: an event counts once per viewer per window.
		out[i] = map[string]any{"type": typ, "contentId": contentID, "watchMs": 1000, "deviceId": fmt.Sprintf("device-%d", i)}
		if productID != "" {
			out[i]["productId"] = productID
		}
	}
	return out
}

const metricsFragment = `metrics(window: $window) { window views likes comments shares engagementRate
	productImpressions productClicks orders unitsSold gmv { amount currencyCode } clickThroughRate conversionRate gpm { amount } }`

type metricsOut struct {
	Window                            string
	Views, Likes, Comments, Shares    int
	EngagementRate                    float64
	ProductImpressions, ProductClicks *int
	Orders, UnitsSold                 *int
	Gmv                               *struct{ Amount, CurrencyCode string }
	ClickThroughRate, ConversionRate  *float64
	Gpm                               *struct{ Amount string }
}

// metricsWorld is a creator's video of a seller's product, with known engagement and sales.
type metricsWorld struct {
	shop         fixture
	creatorToken string
	buyerToken   string
	videoID      string
}

func newMetricsWorld(a *testAPI) metricsWorld {
	a.t.Helper()
	w := metricsWorld{shop: a.fixture("brand")}
	w.creatorToken, _ = a.user("kol", true)
	w.buyerToken, _ = a.user("ana", false)
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(w.creatorToken, publishVideoMutation, videoInput(w.shop.productID), &pv)
	w.videoID = pv.PublishVideo.Video.ID

	batch := append(events(10, "VIEW", w.videoID, ""), events(2, "SHARE", w.videoID, "")...)
	batch = append(batch, events(4, "PRODUCT_IMPRESSION", w.videoID, w.shop.productID)...)
	batch = append(batch, events(3, "PRODUCT_CLICK", w.videoID, w.shop.productID)...)
	var rec recordOut
	a.ok("", recordEventsMutation, map[string]any{"events": batch}, &rec) // anonymous: one viewer per device
	if rec.RecordEvents.Accepted != 19 {
		a.t.Fatalf("recordEvents = %+v", rec)
	}
	for _, token := range []string{w.buyerToken, w.creatorToken, w.buyerToken} { // the buyer likes twice: counts once
		a.ok(token, `mutation($id: ID!) { likeContent(contentId: $id) { userErrors { code } } }`, map[string]any{"id": w.videoID}, nil)
	}
	a.ok(w.buyerToken, `mutation($id: ID!) { commentOnContent(contentId: $id, body: "Love it!") { comment { id } } }`, map[string]any{"id": w.videoID}, nil)

	buy := func(key string, qty int) string {
		in := checkoutInput(key, "tok_ok", line(w.shop.variantIDs[0], qty))
		in["in"].(map[string]any)["sourceContentId"] = w.videoID
		var out checkoutOut
		a.ok(w.buyerToken, checkoutMutation, in, &out)
		return out.Checkout.Orders[0].ID
	}
	buy("paid", 2)
	cancelled := buy("cancelled", 1)
	a.ok(w.buyerToken, cancelMutation, map[string]any{"id": cancelled}, nil)
	if err := a.events.Flush(context.Background()); err != nil {
		a.t.Fatal(err)
	}
	return w
}

func (a *testAPI) videoMetrics(token, videoID, window string) (metricsOut, gqlResponse) {
	a.t.Helper()
	resp := a.post(token, `query($id: ID!, $window: MetricsWindow) { video(id: $id) { `+metricsFragment+` } }`,
		map[string]any{"id": videoID, "window": window})
	var out struct {
		Video struct{ Metrics metricsOut }
	}
	if err := jsonUnmarshalStrict(resp.Data, &out); err != nil {
		a.t.Fatalf("decode %s: %v", resp.Data, err)
	}
	return out.Video.Metrics, resp
}

func TestContentMetricsDefinitions(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	m, resp := a.videoMetrics(w.creatorToken, w.videoID, "ALL_TIME")
	if len(resp.Errors) > 0 {
		t.Fatalf("errors: %+v", resp.Errors)
	}
	// 10 views, 2 likes, 1 comment, 2 shares, 4 impressions, 3 clicks, one paid order of 2 × 19.90.
	if m.Views != 10 || m.Likes != 2 || m.Comments != 1 || m.Shares != 2 {
		t.Fatalf("public counters = %+v", m)
	}
	if m.EngagementRate != 0.5 || *m.ProductImpressions != 4 || *m.ProductClicks != 3 || *m.Orders != 1 || *m.UnitsSold != 2 {
		t.Fatalf("figures = %+v", m)
	}
	if m.Gmv.Amount != "39.80" || m.Gmv.CurrencyCode != "USD" || *m.ClickThroughRate != 0.3 ||
		*m.ConversionRate != 1.0/3 || m.Gpm.Amount != "3980.00" {
		t.Fatalf("money and rates = gmv %+v ctr %v conv %v gpm %+v", m.Gmv, *m.ClickThroughRate, *m.ConversionRate, m.Gpm)
	}
	// The shop's owner sees the same commercial figures.
	if m2, resp := a.videoMetrics(w.shop.sellerToken, w.videoID, "LAST_HOUR"); len(resp.Errors) > 0 || *m2.Orders != 1 || m2.Views != 10 {
		t.Fatalf("seller view = %+v %+v", m2, resp.Errors)
	}
}

func TestCommercialFiguresAreHidden(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	for name, token := range map[string]string{"Anonymous": "", "Buyer": w.buyerToken} {
		m, resp := a.videoMetrics(token, w.videoID, "ALL_TIME")
		if m.Views != 10 || m.Likes != 2 || m.Orders != nil || m.Gmv != nil || m.Gpm != nil || m.ClickThroughRate != nil {
			t.Fatalf("%s sees %+v", name, m)
		}
		forbidden := map[string]bool{}
		for _, e := range resp.Errors {
			if e.Extensions["code"] == "FORBIDDEN" {
				forbidden[fmt.Sprint(e.Path[len(e.Path)-1])] = true
			}
		}
		for _, f := range []string{"productImpressions", "productClicks", "orders", "unitsSold", "gmv", "clickThroughRate", "conversionRate", "gpm"} {
			if !forbidden[f] {
				t.Errorf("%s: no FORBIDDEN error for %s: %+v", name, f, resp.Errors)
			}
		}
	}
}

func TestMetricsWindowsAndZeroDenominators(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	// Two hours ago: inside the last 24 hours, outside the last hour.
	if _, err := a.db.Exec(`INSERT INTO content_event_counts (content_id, bucket, views)
		SELECT content_id, date_trunc('minute', now() - interval '2 hours'), 90 FROM content_event_counts LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if m, _ := a.videoMetrics(w.creatorToken, w.videoID, "LAST_HOUR"); m.Views != 10 {
		t.Fatalf("last hour views = %d", m.Views)
	}
	if m, _ := a.videoMetrics(w.creatorToken, w.videoID, "LAST_24_HOURS"); m.Views != 100 || m.Gpm.Amount != "398.00" {
		t.Fatalf("last 24 hours = %+v", m)
	}
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(w.creatorToken, publishVideoMutation, videoInput(w.shop.productID), &pv)
	m, _ := a.videoMetrics(w.creatorToken, pv.PublishVideo.Video.ID, "ALL_TIME")
	if m.Views != 0 || m.EngagementRate != 0 || *m.ClickThroughRate != 0 || *m.ConversionRate != 0 || m.Gpm.Amount != "0.00" {
		t.Fatalf("empty video metrics = %+v", m)
	}
}

func TestProductAndShopMetrics(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	var out struct {
		Product struct{ Metrics metricsOut }
		Shop    struct{ Metrics metricsOut }
	}
	a.ok(w.shop.sellerToken, `query($id: ID!, $window: MetricsWindow) { product(id: $id) { `+metricsFragment+` }
		shop(handle: "brand-shop") { `+metricsFragment+` } }`, map[string]any{"id": w.shop.productID, "window": "LAST_7_DAYS"}, &out)
	p, s := out.Product.Metrics, out.Shop.Metrics
	if p.Views != 4 || *p.ProductClicks != 3 || *p.Orders != 1 || *p.UnitsSold != 2 || p.Gmv.Amount != "39.80" {
		t.Fatalf("product metrics = %+v", p)
	}
	if s.Views != 10 || s.Likes != 2 || *s.Orders != 1 || s.Gmv.Amount != "39.80" {
		t.Fatalf("shop metrics = %+v", s)
	}
}

func TestRecordEventsRefusesBadEvents(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	other := a.product(w.shop.sellerToken, w.shop.shopID, "not-carded", nil)
	batch := []map[string]any{
		{"type": "VIEW", "contentId": w.videoID, "deviceId": "dev-1"},
		{"type": "VIEW", "contentId": w.videoID},
		{"type": "PRODUCT_CLICK", "contentId": w.videoID, "productId": other.ID, "deviceId": "dev-1"},
		{"type": "VIEW", "contentId": strings.Replace(w.videoID, "V", "W", 1), "deviceId": "dev-1"},
		{"type": "PRODUCT_CLICK", "contentId": w.videoID, "deviceId": "dev-1"},
		{"type": "SHARE", "contentId": w.videoID, "deviceId": "dev-1"},
	}
	var out recordOut
	a.ok("", recordEventsMutation, map[string]any{"events": batch}, &out)
	if out.RecordEvents.Accepted != 2 || len(out.RecordEvents.UserErrors) != 4 {
		t.Fatalf("recordEvents = %+v", out)
	}
	fields := map[string]bool{}
	for _, e := range out.RecordEvents.UserErrors {
		fields[join(e.Field)] = true
	}
	for _, f := range []string{"events.1.deviceId", "events.2.productId", "events.4.productId"} {
		if !fields[f] {
			t.Errorf("no user error at %s: %+v", f, out.RecordEvents.UserErrors)
		}
	}
	if resp := a.post("", recordEventsMutation, map[string]any{"events": events(501, "VIEW", w.videoID, "")}); resp.code() != "BAD_USER_INPUT" {
		t.Fatalf("501 events: %+v", resp.Errors)
	}
}

func TestLikesAndComments(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	a.ok(w.buyerToken, `mutation($id: ID!) { unlikeContent(contentId: $id) { userErrors { code } } }`, map[string]any{"id": w.videoID}, nil)
	var out struct {
		Video struct {
			ViewerHasLiked bool
			Metrics        struct{ Likes int }
			Comments       struct {
				Edges []struct {
					Node struct {
						ID     string
						Body   string
						Author struct{ Handle string }
					}
				}
			}
		}
	}
	a.ok(w.buyerToken, `query($id: ID!) { video(id: $id) { viewerHasLiked metrics { likes } comments { edges { node { id body author { handle } } } } } }`,
		map[string]any{"id": w.videoID}, &out)
	if out.Video.ViewerHasLiked || out.Video.Metrics.Likes != 1 || len(out.Video.Comments.Edges) != 1 || out.Video.Comments.Edges[0].Node.Author.Handle != "ana" {
		t.Fatalf("video = %+v", out)
	}
	var n struct {
		Node struct{ Body string }
	}
	a.ok("", `query($id: ID!) { node(id: $id) { ... on Comment { body } } }`, map[string]any{"id": out.Video.Comments.Edges[0].Node.ID}, &n)
	if n.Node.Body != "Love it!" {
		t.Fatalf("node(comment) = %+v", n)
	}
	var c struct {
		CommentOnContent struct{ UserErrors []userError }
	}
	a.ok(w.buyerToken, `mutation($id: ID!, $body: String!) { commentOnContent(contentId: $id, body: $body) { userErrors { field code } } }`,
		map[string]any{"id": w.videoID, "body": strings.Repeat("x", 501)}, &c)
	if len(c.CommentOnContent.UserErrors) != 1 {
		t.Fatalf("long comment = %+v", c)
	}
}

func TestFeedWithMetricsCostsConstantStatements(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	a.manyContents(60)
	counts := map[int]int64{}
	for _, first := range []int{5, 50} {
		a.ok("", `query($first: Int) { feed(first: $first) { edges { node { id
			... on Video { metrics { views likes engagementRate } comments(first: 2) { edges { node { body } } } viewerHasLiked }
			... on LiveSession { metrics(window: LAST_HOUR) { views } } } } } }`, map[string]any{"first": first}, nil)
		counts[first] = a.statements.Load()
	}
	if counts[5] != counts[50] || counts[50] > 8 {
		t.Fatalf("statements: first 5 → %d, first 50 → %d", counts[5], counts[50])
	}
}

func TestShopBreakdownsAndSeries(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a) // one affiliate video order of 39.80
	star, _ := a.user("star", true)
	if _, err := a.db.Exec(`UPDATE users SET follower_count = 2000000 WHERE handle = 'star'`); err != nil {
		t.Fatal(err)
	}
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(star, publishVideoMutation, videoInput(w.shop.productID), &pv)
	in := checkoutInput("top", "tok_ok", line(w.shop.variantIDs[0], 1))
	in["in"].(map[string]any)["sourceContentId"] = pv.PublishVideo.Video.ID
	a.ok(w.buyerToken, checkoutMutation, in, nil) // a top creator's order of 19.90
	in = checkoutInput("card", "tok_ok", line(w.shop.variantIDs[0], 1))
	a.ok(w.buyerToken, checkoutMutation, in, nil) // a product-card order, the shop's own channel
	in = checkoutInput("campaign", "tok_ok", line(w.shop.variantIDs[0], 1))
	in["in"].(map[string]any)["campaign"] = "double11" // ignored: a client-sent campaign credits nothing
	a.ok(w.buyerToken, checkoutMutation, in, nil)

	const q = `{ shop(handle: "brand-shop") { metrics { orders bySurface { surface orders gmv { amount } } byChannel { channel orders unitsSold gmv { amount } } }
		metricsSeries(window: LAST_24_HOURS, granularity: HOUR) { at metrics { views orders } } } }`
	var out struct {
		Shop struct {
			Metrics struct {
				Orders    int
				BySurface []struct {
					Surface string
					Orders  int
					Gmv     struct{ Amount string }
				}
				ByChannel []struct {
					Channel   string
					Orders    int
					UnitsSold int
					Gmv       struct{ Amount string }
				}
			}
			MetricsSeries []struct {
				At      string
				Metrics struct{ Views, Orders int }
			}
		}
	}
	a.ok(w.shop.sellerToken, q, nil, &out)
	m := out.Shop.Metrics
	surfaces := map[string]string{}
	for _, s := range m.BySurface {
		surfaces[s.Surface] = fmt.Sprintf("%d/%s", s.Orders, s.Gmv.Amount)
	}
	channels := map[string]string{}
	for _, c := range m.ByChannel {
		channels[c.Channel] = fmt.Sprintf("%d/%s", c.Orders, c.Gmv.Amount)
	}
	wantSurfaces := map[string]string{"VIDEO": "2/59.70", "LIVE": "0/0.00", "PRODUCT_CARD": "2/39.80"}
	wantChannels := map[string]string{"OWN_ACCOUNTS": "2/39.80", "AFFILIATES": "1/39.80", "TOP_CREATORS": "1/19.90", "CAMPAIGNS": "0/0.00"}
	if m.Orders != 4 || fmt.Sprint(surfaces) != fmt.Sprint(wantSurfaces) || fmt.Sprint(channels) != fmt.Sprint(wantChannels) {
		t.Fatalf("orders %d\nsurfaces %v\nwant     %v\nchannels %v\nwant     %v", m.Orders, surfaces, wantSurfaces, channels, wantChannels)
	}
	series := out.Shop.MetricsSeries
	if len(series) < 24 || len(series) > 26 {
		t.Fatalf("hourly series over 24 hours has %d points", len(series))
	}
	last := series[len(series)-1].Metrics
	if last.Views != 10 || last.Orders != 4 {
		t.Fatalf("latest hour = %+v", last)
	}
	for _, p := range series[:len(series)-2] {
		if p.Metrics.Views != 0 || p.Metrics.Orders != 0 {
			t.Fatalf("activity in an earlier hour: %+v", p)
		}
	}
	if resp := a.post("", q, nil); resp.code() != "FORBIDDEN" {
		t.Fatalf("anonymous breakdown: %+v", resp.Errors)
	}
}

func TestFeedFavoursContentThatConverts(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("gpm")
	creator, _ := a.user("kol", true)
	buyer, _ := a.user("ana", false)
	var ids []string
	for i := 0; i < 2; i++ {
		var pv struct {
			PublishVideo struct{ Video struct{ ID string } }
		}
		a.ok(creator, publishVideoMutation, videoInput(shop.productID), &pv)
		ids = append(ids, pv.PublishVideo.Video.ID)
		a.ok("", recordEventsMutation, map[string]any{"events": withDevice(events(20, "VIEW", pv.PublishVideo.Video.ID, ""))}, nil)
	}
	// Otherwise equal: same publication time, tags and views.
	if _, err := a.db.Exec(`UPDATE contents SET published_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	if err := a.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	feedOrder := func() []string {
		var out struct {
			Feed struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		a.ok("", `{ feed(first: 2) { edges { node { id } } } }`, nil, &out)
		return []string{out.Feed.Edges[0].Node.ID, out.Feed.Edges[1].Node.ID}
	}
	if err := a.db.RefreshContentScores(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := feedOrder(); got[0] != ids[1] {
		t.Fatalf("without sales the newer id leads the tie; got %v", got)
	}
	in := checkoutInput("sale", "tok_ok", line(shop.variantIDs[0], 1))
	in["in"].(map[string]any)["sourceContentId"] = ids[0]
	a.ok(buyer, checkoutMutation, in, nil)
	if err := a.db.RefreshContentScores(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := feedOrder(); got[0] != ids[0] {
		t.Fatalf("the video with GPM does not lead: %v (want %s first)", got, ids[0])
	}
}

func withDevice(evs []map[string]any) []map[string]any {
	for i, e := range evs {
		e["deviceId"] = fmt.Sprintf("device-%d", i)
	}
	return evs
}

func TestMetricsWindowBoundaries(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	// Buckets just inside and just outside the last hour and the last 7 days.
	if _, err := a.db.Exec(`INSERT INTO content_event_counts (content_id, bucket, views)
		SELECT c.id, date_trunc('minute', now() - d.ago), d.views
		FROM contents c, (VALUES (interval '58 minutes', 1), (interval '62 minutes', 100),
		                         (interval '6 days 23 hours', 1000), (interval '7 days 1 hour', 10000)) AS d(ago, views)
		WHERE c.kind = 'VIDEO'`); err != nil {
		t.Fatal(err)
	}
	for window, want := range map[string]int{"LAST_HOUR": 11, "LAST_24_HOURS": 111, "LAST_7_DAYS": 1111, "LAST_30_DAYS": 11111, "ALL_TIME": 11111} {
		if m, _ := a.videoMetrics(w.creatorToken, w.videoID, window); m.Views != want {
			t.Errorf("%s views = %d, want %d", window, m.Views, want)
		}
	}
}

// BenchmarkFeedWithMetrics measures a feed page of 20 with authors, shops,
// product cards and all-time metrics, with and without primeFeed, and the
// server's CPU per request:
//
//	go test ./graph -run '^$' -bench FeedWithMetrics -benchtime 1000x
func BenchmarkFeedWithMetrics(b *testing.B) {
	a := newTestAPI(b)
	a.manyContents(200)
	const q = `{ feed(first: 20) { edges { node { id author { handle } shop { name }
		products(first: 3) { edges { node { title variants(first: 3) { edges { node { price { amount } } } } } } }
		metrics { views likes comments shares engagementRate } } } } }`
	for _, prime := range []bool{false, true, false, true} {
		b.Run(fmt.Sprintf("prime=%v", prime), func(b *testing.B) {
			graph.SetPriming(prime)
			defer graph.SetPriming(true)
			b.ReportAllocs()
			before, cpu := a.allStatements.Load(), processCPU()
			b.SetParallelism(8) // 16 clients on 2 cores, as the load benchmark
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if resp, err := a.postRaw("", q, nil); err != nil || len(resp.Errors) > 0 {
						b.Errorf("feed failed: %v %+v", err, resp.Errors)
						return
					}
				}
			})
			b.ReportMetric(float64(a.allStatements.Load()-before)/float64(b.N), "stmts/op")
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// TestRecordEventsBacksOffWhenTheBufferIsFull: with 10,000 events waiting
// for a flush that has not yet run, recordEvents answers SERVICE_UNAVAILABLE
// with retryable, retryAfter and reason EVENTS_BACKED_UP and records
// nothing; after the flush the same call is accepted.
func TestRecordEventsBacksOffWhenTheBufferIsFull(t *testing.T) {
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	waiting := make([]store.Event, 10000)
	for i := range waiting {
		waiting[i] = store.Event{Type: store.EventView, ContentID: -1, At: time.Now(), Viewer: fmt.Sprintf("device:waiting-%d", i)}
	}
	a.events.Add(waiting)
	vars := map[string]any{"events": events(3, "VIEW", w.videoID, "")}
	res := a.post("", recordEventsMutation, vars)
	if res.code() != "SERVICE_UNAVAILABLE" || res.Errors[0].Extensions["retryable"] != true ||
		res.Errors[0].Extensions["reason"] != "EVENTS_BACKED_UP" || res.Errors[0].Extensions["retryAfter"] == nil {
		t.Fatalf("recordEvents with the buffer full = %+v", res.Errors)
	}
	if n := a.events.Pending(); n != 10000 {
		t.Fatalf("a refused call was recorded: %d waiting", n)
	}
	if err := a.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out recordOut
	a.ok("", recordEventsMutation, vars, &out)
	if out.RecordEvents.Accepted != 3 {
		t.Fatalf("after the flush, recordEvents = %+v", out)
	}
}

// TestRecordEventsBackedUpRefusesTheFlooderFirst: an anonymous client (one
// address) flooding recordEvents with batches of 500 new devices is refused
// (SERVICE_UNAVAILABLE, EVENTS_BACKED_UP) once it holds half of what may
// wait, while a signed-in viewer's events are still accepted; after a
// flush the flooder is accepted again, and every accepted event counts.
func TestRecordEventsBackedUpRefusesTheFlooderFirst(t *testing.T) {
	ctx := context.Background()
	a := newTestAPI(t)
	w := newMetricsWorld(a)
	if err := a.events.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	views := func() int64 {
		var n int64
		if err := a.db.GetContext(ctx, &n, `SELECT coalesce(sum(views), 0) FROM content_event_counts`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := views()
	flood := func(round, i int) map[string]any {
		evs := events(500, "VIEW", w.videoID, "")
		for k, e := range evs {
			e["deviceId"] = fmt.Sprintf("flood-%d-%d-%d", round, i, k)
		}
		return map[string]any{"events": evs}
	}
	accepted := 0
	for i := 0; ; i++ {
		res := a.post("", recordEventsMutation, flood(0, i))
		if res.code() == "SERVICE_UNAVAILABLE" {
			if res.Errors[0].Extensions["reason"] != "EVENTS_BACKED_UP" || res.Errors[0].Extensions["retryable"] != true {
				t.Fatalf("the flooder's refusal = %+v", res.Errors)
			}
			break
		}
		var out recordOut
		if err := json.Unmarshal(res.Data, &out); err != nil || len(res.Errors) > 0 || out.RecordEvents.Accepted != 500 {
			t.Fatalf("flood batch %d = %s %+v", i, res.Data, res.Errors)
		}
		accepted += 500
		if i > 40 {
			t.Fatal("the flooder was never refused")
		}
	}
	if accepted != 5000 {
		t.Fatalf("the flooder had %d events accepted before its refusal; want half of the 10,000 that may wait", accepted)
	}
	var out recordOut
	a.ok(w.buyerToken, recordEventsMutation, map[string]any{"events": events(3, "VIEW", w.videoID, "")}, &out)
	if out.RecordEvents.Accepted != 3 {
		t.Fatalf("another viewer's events while the flooder is refused = %+v", out)
	}
	if res := a.post("", recordEventsMutation, flood(1, 0)); res.code() != "SERVICE_UNAVAILABLE" {
		t.Fatalf("the flooder was accepted again before a flush: %+v", res.Errors)
	}
	if err := a.events.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.ok("", recordEventsMutation, flood(2, 0), &out)
	if out.RecordEvents.Accepted != 500 {
		t.Fatalf("after the flush, the flooder's batch = %+v", out)
	}
	if err := a.events.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The signed-in viewer's three events are one viewer's: one view.
	if got, want := views()-before, int64(accepted+1+500); got != want {
		t.Fatalf("views grew by %d; want the %d accepted", got, want)
	}
}
