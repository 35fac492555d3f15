package graph_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// figuresWorld is a seller with a USD shop and a EUR shop, content of the
// shop's own, of an affiliate and of a top creator, and orders whose lines
// spread over surfaces, channels and currencies, paid at times straddling
// every window's start and hour and day boundaries; engagement likewise.
type figuresWorld struct {
	seller                string
	usdShop, eurShop      string
	p1, p1b, p2           string // products: two USD, one EUR
	v1, v1b, v2           string // their variants
	ownVideo, kolV, starV string // the seller's (USD and EUR products), an affiliate's, a top creator's
	orders                map[string]string
	subjects              map[string]string
	usdProducts           []string
}

func (a *testAPI) figuresWorld() *figuresWorld {
	a.t.Helper()
	w := &figuresWorld{orders: map[string]string{}}
	w.seller, _ = a.user("figseller", false)
	w.usdShop = a.shop(w.seller, "figs")
	var eur struct {
		CreateShop struct{ Shop struct{ ID string } }
	}
	a.ok(w.seller, createShopMutation, map[string]any{"in": map[string]any{
		"handle": "figs-eu", "name": "Figs EU", "operatingModel": "SELF_OPERATED", "currencyCode": "EUR"}}, &eur)
	w.eurShop = eur.CreateShop.Shop.ID
	product := func(shop, title, price, currency string) (string, string) {
		p := a.product(w.seller, shop, title, map[string]any{"variants": []map[string]any{
			{"sku": title, "title": "One", "price": map[string]any{"amount": price, "currencyCode": currency}, "stock": 100}}})
		return p.ID, p.Variants.Edges[0].Node.ID
	}
	w.p1, w.v1 = product(w.usdShop, "fig-a", "10.00", "USD")
	w.p1b, w.v1b = product(w.usdShop, "fig-b", "3.50", "USD")
	w.p2, w.v2 = product(w.eurShop, "fig-eu", "7.25", "EUR")
	w.usdProducts = []string{w.p1, w.p1b}

	kol, _ := a.user("figkol", true)
	star, _ := a.user("figstar", true)
	if _, err := a.db.Exec(`UPDATE users SET follower_count = 5000000 WHERE handle = 'figstar'`); err != nil {
		a.t.Fatal(err)
	}
	publish := func(token string, products ...string) string {
		var pv struct {
			PublishVideo struct {
				Video      struct{ ID string }
				UserErrors []userError
			}
		}
		a.ok(token, publishVideoMutation, videoInput(products...), &pv)
		if len(pv.PublishVideo.UserErrors) > 0 {
			a.t.Fatalf("publishVideo: %+v", pv.PublishVideo.UserErrors)
		}
		return pv.PublishVideo.Video.ID
	}
	w.ownVideo = publish(w.seller, w.p1, w.p1b, w.p2)
	w.kolV = publish(kol, w.p1, w.p1b)
	w.starV = publish(star, w.p1, w.p1b)

	buyer, _ := a.user("figbuyer", false)
	buy := func(name, campaign string, lines ...map[string]any) {
		in := checkoutInput("fig-"+name, "tok_ok", lines...)
		if campaign != "" {
			in["in"].(map[string]any)["campaign"] = campaign
		}
		var out checkoutOut
		a.ok(buyer, checkoutMutation, in, &out)
		if len(out.Checkout.Orders) != 1 {
			a.t.Fatalf("checkout %s = %+v", name, out)
		}
		w.orders[name] = out.Checkout.Orders[0].ID
	}
	from := func(variant string, qty int, content string) map[string]any {
		l := line(variant, qty)
		if content != "" {
			l["sourceContentId"] = content
		}
		return l
	}
	// One order, two lines on the video surface through two channels.
	buy("affiliate+star", "", from(w.v1, 1, w.kolV), from(w.v1b, 2, w.starV))
	// One order on two surfaces: a product card and the shop's own video.
	buy("card+own", "", from(w.v1, 1, ""), from(w.v1b, 1, w.ownVideo))
	// The same video sells in EUR too.
	buy("eur", "", from(w.v2, 3, w.ownVideo))
	buy("campaign", "double11", from(w.v1, 2, w.kolV))
	buy("old", "", from(w.v1b, 1, w.ownVideo))
	// Paid at times that straddle windows' starts and hour and day boundaries.
	for name, at := range map[string]string{
		"affiliate+star": "now() - interval '59 minutes 30 seconds'",
		"card+own":       "now() - interval '24 hours 30 seconds'",
		"eur":            "date_trunc('day', now()) - interval '1 second'",
		"campaign":       "date_trunc('hour', now())",
		"old":            "now() - interval '400 days'",
	} {
		if _, err := a.db.Exec(`UPDATE orders SET paid_at = `+at+` WHERE id = $1`, mustID(nil, w.orders[name])); err != nil {
			a.t.Fatal(err)
		}
	}
	// Engagement in per-minute buckets, likes and comments, at the same
	// kinds of moments, on each video and product.
	moments := []string{"interval '1 minute'", "interval '61 minutes'", "interval '59 minutes'", "interval '23 hours 59 minutes'",
		"interval '24 hours 1 minute'", "interval '6 days 23 hours 59 minutes'", "interval '7 days 1 minute'",
		"interval '29 days 23 hours 59 minutes'", "interval '30 days 1 minute'", "interval '400 days'"}
	for i, ago := range moments {
		for _, stmt := range []string{
			`INSERT INTO content_event_counts (content_id, bucket, views, shares, product_impressions, product_clicks)
				SELECT id, date_trunc('minute', now() - ` + ago + `), 100 + $1, 1, 10, 3 FROM contents
				ON CONFLICT DO NOTHING`,
			`INSERT INTO content_event_counts (content_id, bucket, views, shares, product_impressions, product_clicks)
				SELECT id, date_trunc('hour', now()) - ` + ago + ` - interval '1 minute', 7 + $1, 0, 2, 1 FROM contents
				ON CONFLICT DO NOTHING`,
			`INSERT INTO product_event_counts (product_id, bucket, impressions, clicks)
				SELECT id, date_trunc('minute', now() - ` + ago + `), 20 + $1, 4 FROM products
				ON CONFLICT DO NOTHING`,
			`INSERT INTO comments (content_id, author_id, body, created_at)
				SELECT c.id, c.author_id, 'hi ' || $1::text, now() - ` + ago + ` FROM contents c`,
		} {
			if _, err := a.db.Exec(stmt, i); err != nil {
				a.t.Fatalf("%s: %v", stmt, err)
			}
		}
		a.user(fmt.Sprintf("figliker%d", i), false)
		if _, err := a.db.Exec(`INSERT INTO content_likes (user_id, content_id, created_at)
			SELECT u.id, c.id, now() - `+ago+` FROM users u, contents c WHERE u.handle = $1`, fmt.Sprintf("figliker%d", i)); err != nil {
			a.t.Fatal(err)
		}
	}
	w.subjects = map[string]string{"own video (USD+EUR)": w.ownVideo, "affiliate video": w.kolV, "product": w.p1,
		"USD shop": w.usdShop, "EUR shop": w.eurShop}
	return w
}

const figuresFragment = `fragment F on ContentMetrics { views likes comments shares productImpressions productClicks orders unitsSold
	gmv { amount currencyCode } gmvByCurrency { amount currencyCode } }`

// figures are the additive figures of a ContentMetrics.
type figures struct {
	Views, Likes, Comments, Shares    int
	ProductImpressions, ProductClicks int
	Orders, UnitsSold                 int
	Gmv                               struct{ Amount, CurrencyCode string }
	GmvByCurrency                     []struct{ Amount, CurrencyCode string }
}

// minor reads a decimal amount of a two-decimal currency in minor units.
func minor(t *testing.T, amount string) int {
	t.Helper()
	whole, frac, _ := strings.Cut(amount, ".")
	n, err := strconv.Atoi(whole + (frac + "00")[:2])
	if err != nil {
		t.Fatalf("amount %q: %v", amount, err)
	}
	return n
}

// key renders the additive figures, with GMV per currency in minor units.
func (f figures) key(t *testing.T) string {
	byCur := map[string]int{}
	for _, m := range f.GmvByCurrency {
		byCur[m.CurrencyCode] += minor(t, m.Amount)
	}
	return fmt.Sprintf("views %d likes %d comments %d shares %d impressions %d clicks %d orders %d units %d gmv %v",
		f.Views, f.Likes, f.Comments, f.Shares, f.ProductImpressions, f.ProductClicks, f.Orders, f.UnitsSold, sortedMap(byCur))
}

func (f *figures) add(g figures) {
	f.Views += g.Views
	f.Likes += g.Likes
	f.Comments += g.Comments
	f.Shares += g.Shares
	f.ProductImpressions += g.ProductImpressions
	f.ProductClicks += g.ProductClicks
	f.Orders += g.Orders
	f.UnitsSold += g.UnitsSold
	f.GmvByCurrency = append(f.GmvByCurrency, g.GmvByCurrency...)
}

func sortedMap(m map[string]int) string {
	var ks []string
	for k, v := range m {
		if v != 0 {
			ks = append(ks, fmt.Sprintf("%s:%d", k, v))
		}
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// A chart's points add up to its window's figures, for every subject,
// window and granularity, with data straddling the window's start and the
// hour and day boundaries; ALL_TIME charts keep what is older than their
// first day (in their first point) instead of dropping it.
func TestSeriesAddUpToTheirWindow(t *testing.T) {
	a := newTestAPI(t)
	w := a.figuresWorld()
	const q = `query($id: ID!, $window: MetricsWindow, $g: MetricsGranularity) { node(id: $id) {
		... on Video { metrics(window: $window) { ...F } metricsSeries(window: $window, granularity: $g) { at metrics { ...F } } }
		... on Product { metrics(window: $window) { ...F } metricsSeries(window: $window, granularity: $g) { at metrics { ...F } } }
		... on Shop { metrics(window: $window) { ...F } metricsSeries(window: $window, granularity: $g) { at metrics { ...F } } } } } ` + figuresFragment
	seen := map[string]bool{}
	for name, id := range w.subjects {
		for _, window := range []string{"LAST_HOUR", "LAST_24_HOURS", "LAST_7_DAYS", "LAST_30_DAYS", "ALL_TIME"} {
			for _, g := range []string{"HOUR", "DAY"} {
				resp := a.post(w.seller, q, map[string]any{"id": id, "window": window, "g": g})
				if window == "ALL_TIME" && g == "HOUR" {
					if resp.code() != "BAD_USER_INPUT" {
						t.Errorf("%s ALL_TIME by HOUR: %+v", name, resp.Errors)
					}
					continue
				}
				if len(resp.Errors) > 0 {
					t.Fatalf("%s %s %s: %+v", name, window, g, resp.Errors)
				}
				var out struct {
					Node struct {
						Metrics       figures
						MetricsSeries []struct {
							At      string
							Metrics figures
						}
					}
				}
				if err := jsonUnmarshalStrict(resp.Data, &out); err != nil {
					t.Fatal(err)
				}
				var sum figures
				for _, p := range out.Node.MetricsSeries {
					sum.add(p.Metrics)
				}
				want := out.Node.Metrics.key(t)
				if got := sum.key(t); got != want {
					t.Errorf("%s %s by %s: the points add up to\n  %s\nthe window says\n  %s", name, window, g, got, want)
				}
				seen[want] = true
			}
		}
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct figures across windows: the data does not straddle the windows", len(seen))
	}
}

// Nothing is dropped for being in another currency: content selling in USD
// and EUR shows both, gmv (and gpm) in its own currency only, never added.
func TestGMVInTwoCurrenciesIsNotDropped(t *testing.T) {
	a := newTestAPI(t)
	w := a.figuresWorld()
	var out struct {
		Node struct {
			Metrics struct {
				Gmv           struct{ Amount, CurrencyCode string }
				GmvByCurrency []struct{ Amount, CurrencyCode string }
				Gpm           struct{ Amount, CurrencyCode string }
				Orders        int
			}
		}
	}
	a.ok(w.seller, `query($id: ID!) { node(id: $id) { ... on Video { metrics(window: ALL_TIME) {
		gmv { amount currencyCode } gmvByCurrency { amount currencyCode } gpm { amount currencyCode } orders } } } }`,
		map[string]any{"id": w.ownVideo}, &out)
	m := out.Node.Metrics
	got := fmt.Sprint(m.GmvByCurrency)
	// USD: 3.50 (card+own) + 3.50 (old); EUR: 3 × 7.25.
	if got != "[{7.00 USD} {21.75 EUR}]" || m.Gmv.Amount != "7.00" || m.Gmv.CurrencyCode != "USD" || m.Gpm.CurrencyCode != "USD" || m.Orders != 3 {
		t.Fatalf("own video: gmv %+v, gmvByCurrency %s, gpm %+v, orders %d", m.Gmv, got, m.Gpm, m.Orders)
	}
	var single struct {
		Node struct {
			Metrics struct {
				GmvByCurrency []struct{ Amount, CurrencyCode string }
			}
		}
	}
	a.ok(w.seller, `query($id: ID!) { node(id: $id) { ... on Video { metrics(window: ALL_TIME) { gmvByCurrency { amount currencyCode } } } } }`,
		map[string]any{"id": w.starV}, &single)
	if got := fmt.Sprint(single.Node.Metrics.GmvByCurrency); got != "[{7.00 USD}]" {
		t.Fatalf("one currency: gmvByCurrency %s", got)
	}
}

// A shop's figures agree with every other figure claiming the same sales:
// the sums of its products', of its bySurface slices and of its byChannel
// slices (units and GMV exactly); each slice counts an order once, however
// many of its lines are in it or in other slices.
func TestShopFiguresAgreeWithBreakdownsAndProducts(t *testing.T) {
	a := newTestAPI(t)
	w := a.figuresWorld()
	type slice struct {
		Surface, Channel string
		Orders           int
		UnitsSold        int
		Gmv              struct{ Amount, CurrencyCode string }
		GmvByCurrency    []struct{ Amount, CurrencyCode string }
	}
	for _, window := range []string{"LAST_HOUR", "LAST_24_HOURS", "LAST_7_DAYS", "LAST_30_DAYS", "ALL_TIME"} {
		var out struct {
			Node struct {
				Metrics struct {
					Orders, UnitsSold int
					Gmv               struct{ Amount, CurrencyCode string }
					BySurface         []slice
					ByChannel         []slice
				}
				Products struct {
					Edges []struct {
						Node struct {
							Metrics struct {
								UnitsSold int
								Gmv       struct{ Amount string }
							}
						}
					}
				}
			}
		}
		a.ok(w.seller, `query($id: ID!, $window: MetricsWindow) { node(id: $id) { ... on Shop {
			metrics(window: $window) { orders unitsSold gmv { amount currencyCode }
				bySurface { surface orders unitsSold gmv { amount currencyCode } gmvByCurrency { amount currencyCode } }
				byChannel { channel orders unitsSold gmv { amount currencyCode } gmvByCurrency { amount currencyCode } } }
			products(first: 50) { edges { node { metrics(window: $window) { unitsSold gmv { amount } } } } } } } }`,
			map[string]any{"id": w.usdShop, "window": window}, &out)
		m := out.Node.Metrics
		shop := fmt.Sprintf("units %d gmv %d", m.UnitsSold, minor(t, m.Gmv.Amount))
		for name, slices := range map[string][]slice{"bySurface": m.BySurface, "byChannel": m.ByChannel} {
			units, gmv := 0, 0
			for _, s := range slices {
				units += s.UnitsSold
				gmv += minor(t, s.Gmv.Amount)
				if s.Orders > m.Orders || (s.UnitsSold > 0) != (s.Orders > 0) || len(s.GmvByCurrency) != 1 || s.GmvByCurrency[0] != s.Gmv {
					t.Errorf("%s %s slice %+v against the shop's %d orders", window, name, s, m.Orders)
				}
			}
			if got := fmt.Sprintf("units %d gmv %d", units, gmv); got != shop {
				t.Errorf("%s: %s adds up to %s, the shop says %s", window, name, got, shop)
			}
		}
		units, gmv := 0, 0
		for _, e := range out.Node.Products.Edges {
			units += e.Node.Metrics.UnitsSold
			gmv += minor(t, e.Node.Metrics.Gmv.Amount)
		}
		if got := fmt.Sprintf("units %d gmv %d", units, gmv); got != shop {
			t.Errorf("%s: the shop's products add up to %s, the shop says %s", window, got, shop)
		}
		if window != "ALL_TIME" {
			continue
		}
		// Orders per slice: affiliate+star (video, affiliate and top creator),
		// card+own (product card and video, own accounts), campaign (video,
		// an affiliate's: the client-sent campaign credits nothing), old
		// (video, own accounts).
		orders := map[string]int{}
		for _, s := range m.BySurface {
			orders[s.Surface] = s.Orders
		}
		for _, s := range m.ByChannel {
			orders[s.Channel] = s.Orders
		}
		want := map[string]int{"VIDEO": 4, "LIVE": 0, "PRODUCT_CARD": 1, "OWN_ACCOUNTS": 2, "AFFILIATES": 2, "TOP_CREATORS": 1, "CAMPAIGNS": 0}
		if m.Orders != 4 || fmt.Sprint(orders) != fmt.Sprint(want) {
			t.Errorf("orders %d, per slice %v, want 4 and %v", m.Orders, orders, want)
		}
	}
}
