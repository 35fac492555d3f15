package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"showcase/media"
	"showcase/server/demo"
	"showcase/store"
	"showcase/store/live"
	"showcase/store/storetest"
)

// artifactsDir receives the storefront's screenshots (git-ignored).
const artifactsDir = "../.artifacts"

// seedWithImages seeds db with opts and the images it draws, stored in a
// folder of the test's own; it returns that store for the server to serve.
func seedWithImages(t *testing.T, db *store.DB, opts demo.SeedOptions) *media.Dir {
	t.Helper()
	images, err := media.NewDir(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	opts.Media = images
	if _, err := demo.Seed(context.Background(), db, opts); err != nil {
		t.Fatal(err)
	}
	return images
}

// demoBrowserServer seeds a database of the test's own with the demo
// dataset and its drawings and serves it with live updates (a hub) for a
// browser test; it returns the database, the hub and the server.
func demoBrowserServer(t *testing.T) (*store.DB, *live.Hub, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db, err := store.Open(ctx, dsn, store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	images := seedWithImages(t, db, demo.DefaultOptions())
	hubCtx, stopHub := context.WithCancel(ctx)
	t.Cleanup(stopHub)
	hub := live.NewHub(db, dsn)
	if err := hub.Start(hubCtx); err != nil {
		t.Fatal(err)
	}
	return db, hub, browserTestServer(t, db, hub, images)
}

// browserTestServer serves db (with hub, which may be nil, and images) for a
// browser test, with rate limits out of a page's way; screenshots go to
// artifactsDir.
func browserTestServer(t *testing.T, db *store.DB, hub *live.Hub, images *media.Dir) *httptest.Server {
	t.Helper()
	_ = os.MkdirAll(artifactsDir, 0o755)
	return testServer(t, db, testTokens(t), hub, map[string]string{"RATE_LIMIT_RPS": "1000", "RATE_LIMIT_BURST": "1000"},
		func(c *config) { c.Media = images })
}

// TestStorefrontInABrowser drives the reference client in headless Chromium
// against a server with demo data: the feed scrolls, a product is bought
// from a card, the shop's owner sees the order in the studio, and a comment
// posted in one page appears live in another.
func TestStorefrontInABrowser(t *testing.T) {
	page := newBrowser(t, 420, 900)
	_, hub, srv := demoBrowserServer(t)

	eval := func(c context.Context, js string) string {
		t.Helper()
		v, err := chromedp.Run(c, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	waitFor := func(c context.Context, js string) {
		t.Helper()
		if _, err := chromedp.Run(c, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", js, err)
		}
	}
	shot := func(c context.Context, name string) {
		if png, err := chromedp.Run(c, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(artifactsDir, name), png, 0o644)
		}
	}

	// The feed scrolls: more items load as the end comes into view.
	if err := chromedp.Do(page, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(page, `document.querySelectorAll('article.item').length >= 8`)
	// Product cards show their images, loaded from /media/ (lazily: cards
	// below the fold, under a video's poster, load when asked to).
	eval(page, `document.querySelectorAll('button.card img').forEach((i, n) => { if (n < 8) i.loading = "eager"; }); ""`)
	waitFor(page, `(() => { const imgs = [...document.querySelectorAll('button.card img')];
		return imgs.length >= 8 && imgs.slice(0, 8).every((i) => i.complete && i.naturalWidth === 256 && i.src.includes('/media/')); })()`)
	shot(page, "feed.png")
	// Videos show their posters, loaded from /media/ (lazily: the first
	// video is scrolled into view).
	eval(page, `window.scrollTo(0, document.querySelector('article.item img.poster').closest('article').offsetTop - 160); ""`)
	waitFor(page, `(() => { const ps = [...document.querySelectorAll('article.item img.poster')];
		return ps.length >= 4 && ps[0].complete && ps[0].naturalWidth === 216 && ps[0].src.includes('/media/'); })()`)
	shot(page, "feed-video.png")
	eval(page, `window.scrollTo(0, document.body.scrollHeight); ""`)
	waitFor(page, `document.querySelectorAll('article.item').length >= 16`)

	// Sign in as the demo buyer through the page.
	eval(page, `document.querySelector('#login [name=email]').value = 'demo@showcase.dev';
		document.querySelector('#login [name=password]').value = 'showcase-demo';
		document.querySelector('#login').requestSubmit(); ""`)
	waitFor(page, `document.getElementById('account').innerText.includes('@demo')`)

	// Buy 2 of the first in-stock product card of a video.
	pick := eval(page, `(() => {
		for (const item of document.querySelectorAll('article.item')) {
			for (const card of item.querySelectorAll('button.card')) {
				if (card.innerText.includes('in stock') && !item.querySelector('.badge')) {
					window.scrollTo(0, 0); card.click();
					return JSON.stringify({content: item.dataset.id, product: card.dataset.product});
				}
			}
		}
		return "";
	})()`)
	if pick == "" {
		t.Fatal("no video card in stock")
	}
	var picked struct{ Content, Product string }
	_ = json.Unmarshal([]byte(pick), &picked)
	waitFor(page, `document.getElementById('sheet').open`)
	variant := eval(page, `(() => { const s = document.querySelector('#sheet select');
		const o = [...s.options].find((o) => !o.disabled); s.value = o.value;
		s.dispatchEvent(new Event('change'));
		const q = document.querySelector('#sheet [name=quantity]'); q.value = '2'; q.dispatchEvent(new Event('input')); return o.value; })()`)
	// The sheet shows the cost of 2, shipped and taxed, before "Buy now".
	waitFor(page, `(document.querySelector('#sheet .buy-cost').dataset.priced || '').includes('"quantity":2') && !document.getElementById('buy-now').disabled`)
	stockBefore := variantStock(t, srv.URL, variant)
	owner := shopOwnerEmail(t, srv.URL, picked.Product)
	ownerToken := login(t, srv.URL, owner)
	gmvBefore := contentGMV(t, srv.URL, ownerToken, picked.Content)
	shot(page, "buy-sheet.png")
	// A declined card shows the API's user error and buys nothing.
	eval(page, `document.querySelector('#sheet [name=payment]').value = 'tok_declined'; document.getElementById('buy-now').click(); ""`)
	waitFor(page, `!!document.querySelector('#sheet .result .errors')`)
	if got := variantStock(t, srv.URL, variant); got != stockBefore {
		t.Fatalf("a declined payment changed the stock: %d → %d", stockBefore, got)
	}
	// A provider that is down asks for a retry with the same key: the
	// retry sends the same key (one checkout, the stock reserved once).
	eval(page, `document.querySelector('#sheet [name=payment]').value = 'tok_error'; document.getElementById('buy-now').click(); ""`)
	waitFor(page, `(document.querySelector('#sheet .result .errors') || {}).innerText?.includes('unavailable')`)
	eval(page, `document.querySelector('#sheet .result').replaceChildren(); document.getElementById('buy-now').click(); ""`)
	waitFor(page, `(document.querySelector('#sheet .result .errors') || {}).innerText?.includes('unavailable')`)
	if got := variantStock(t, srv.URL, variant); got != stockBefore-2 {
		t.Fatalf("stock after a failed payment and its retry: %d → %d, want one reservation of 2 (one key)", stockBefore, got)
	}
	eval(page, `document.querySelector('#sheet [name=payment]').value = 'tok_ok'; document.getElementById('buy-now').click(); ""`)
	waitFor(page, `!!document.querySelector('#sheet .confirmation')`)
	confirmation := eval(page, `document.querySelector('#sheet .confirmation').innerText`)
	if !strings.Contains(confirmation, "Order #") {
		t.Fatalf("confirmation = %q", confirmation)
	}
	// The tok_error reservation stands until the reconciler releases it
	// (PAYMENT_SETTLE_AFTER); the paid purchase took 2 more.
	if got := variantStock(t, srv.URL, variant); got != stockBefore-4 {
		t.Fatalf("stock %d → %d, want a drop of 2 reserved and 2 sold", stockBefore, got)
	}
	orderNumber := strings.Fields(strings.TrimPrefix(confirmation, "Order "))[0]
	if gmvAfter := contentGMV(t, srv.URL, ownerToken, picked.Content); gmvAfter <= gmvBefore {
		t.Fatalf("the video's GMV did not rise: %.2f → %.2f", gmvBefore, gmvAfter)
	}

	// The shop's owner sees that order in the studio.
	studio, cancelStudio := chromedp.NewContext(page)
	defer cancelStudio()
	if err := chromedp.Do(studio, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	eval(studio, fmt.Sprintf(`localStorage.setItem('showcase.token', %q); localStorage.setItem('showcase.handle', 'owner'); ""`, ownerToken))
	if err := chromedp.Do(studio, chromedp.Navigate(srv.URL+"/studio")); err != nil {
		t.Fatal(err)
	}
	waitFor(studio, fmt.Sprintf(`!!document.querySelector('#orders tr[data-number="%s"]')`, orderNumber))
	waitFor(studio, `document.querySelectorAll('#content tr').length > 1 && !!document.querySelector('.uplot')`)
	shot(studio, "studio.png")

	// A comment posted in one page appears live in another.
	// The For You feed learns from what this buyer just did, so the new
	// tab's first page may rank other live sessions first: the comment goes
	// to a live session both tabs show.
	liveIDs := `[...document.querySelectorAll('article.item')].filter((i) => i.querySelector('.badge') && i.querySelector('.badge').innerText === 'LIVE').map((i) => i.dataset.id).join(",")`
	if eval(page, liveIDs) == "" {
		t.Fatal("no live session in the feed")
	}
	watcher, cancelWatcher := chromedp.NewContext(page)
	defer cancelWatcher()
	if err := chromedp.Do(watcher, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	hasLive := `[...document.querySelectorAll('article.item .badge')].some((b) => b.innerText === 'LIVE')`
	waitFor(watcher, hasLive)
	liveID := ""
	for try := 0; liveID == "" && try < 5; try++ {
		if try > 0 {
			// The first tab's page predates what it taught the feed: load
			// it again, so both show the viewer's arrangement of now.
			if err := chromedp.Do(page, chromedp.Reload()); err != nil {
				t.Fatal(err)
			}
			waitFor(page, hasLive)
		}
		for _, id := range strings.Split(eval(watcher, liveIDs), ",") {
			if slices.Contains(strings.Split(eval(page, liveIDs), ","), id) {
				liveID = id
				break
			}
		}
	}
	if liveID == "" {
		t.Fatalf("no live session in both tabs' feeds: %q and %q", eval(page, liveIDs), eval(watcher, liveIDs))
	}
	for deadline := time.Now().Add(10 * time.Second); hub.Viewers(globalIDNumber(liveID)) < 2 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	eval(page, fmt.Sprintf(`(() => { const f = document.querySelector('article.item[data-id="%s"] form.comment-form');
		f.querySelector('input').value = 'Hello from another tab'; f.requestSubmit(); return ""; })()`, liveID))
	waitFor(watcher, fmt.Sprintf(`document.querySelector('article.item[data-id="%s"] .comments').innerText.includes('Hello from another tab')`, liveID))
}

func variantStock(t *testing.T, base, variantID string) int {
	var out struct{ Node struct{ Stock int } }
	post(t, base, "", `query($id: ID!) { node(id: $id) { ... on ProductVariant { stock } } }`, &out, map[string]any{"id": variantID})
	return out.Node.Stock
}

// shopOwnerEmail finds the owner of a product's shop; demo users' emails
// are their handle at example.com, but for the well-known accounts.
func shopOwnerEmail(t *testing.T, base, productID string) string {
	var out struct {
		Product struct {
			Shop struct{ Owner struct{ Handle string } }
		}
	}
	post(t, base, "", `query($id: ID!) { product(id: $id) { shop { owner { handle } } } }`, &out, map[string]any{"id": productID})
	if h := out.Product.Shop.Owner.Handle; h == "seller" {
		return demo.SellerEmail
	} else {
		return h + "@example.com"
	}
}

func login(t *testing.T, base, email string) string {
	var out struct{ LogIn struct{ Token string } }
	post(t, base, "", `mutation($e: String!) { logIn(input: {email: $e, password: "showcase-demo"}) { token } }`, &out, map[string]any{"e": email})
	if out.LogIn.Token == "" {
		t.Fatalf("could not log in as %s", email)
	}
	return out.LogIn.Token
}

func contentGMV(t *testing.T, base, token, contentID string) float64 {
	var out struct {
		Node struct {
			Metrics struct{ Gmv struct{ Amount string } }
		}
	}
	post(t, base, token, `query($id: ID!) { node(id: $id) { ... on Video { metrics { gmv { amount } } } } }`, &out, map[string]any{"id": contentID})
	var v float64
	fmt.Sscanf(out.Node.Metrics.Gmv.Amount, "%f", &v)
	return v
}

func globalIDNumber(gid string) int64 {
	raw, _ := base64.RawURLEncoding.DecodeString(gid)
	var n int64
	_, num, _ := strings.Cut(string(raw), ":")
	fmt.Sscanf(num, "%d", &n)
	return n
}
