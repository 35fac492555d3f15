package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"showcase/server/demo"
)

// TestStorefrontCartCost drives the storefront's cart in headless Chromium
// over demo data: the cart of two shops shows each line's cost, a delivery
// choice per shop, tax and the total for the demo buyer's default address;
// changing the country and a delivery option re-prices it; checking out
// charges exactly the total shown. Screenshots: cart-cost.png,
// cart-cost-de.png.
func TestStorefrontCartCost(t *testing.T) {
	page := newBrowser(t, 420, 1100)
	ctx := context.Background()
	db, _, srv := demoBrowserServer(t)
	run := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(page, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	waitFor := func(js string) {
		t.Helper()
		if _, err := chromedp.Run(page, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", js, err)
		}
	}
	shot := func(name string) {
		if png, err := chromedp.Run(page, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(artifactsDir, name), png, 0o644)
		}
	}

	// The demo buyer's cart: one in-stock dollar product from each of two shops.
	token := login(t, srv.URL, demo.BuyerEmail)
	var list struct {
		Products struct {
			Edges []struct {
				Node struct {
					Shop     struct{ ID, CurrencyCode string }
					Variants struct {
						Edges []struct {
							Node struct {
								ID    string
								Stock int
							}
						}
					}
				}
			}
		}
	}
	post(t, srv.URL, token, `{ products(first: 60) { edges { node { shop { id currencyCode } variants(first: 1) { edges { node { id stock } } } } } } }`, &list)
	var variants []string
	shops := map[string]bool{}
	for _, e := range list.Products.Edges {
		n := e.Node
		if n.Shop.CurrencyCode == "USD" && !shops[n.Shop.ID] && len(n.Variants.Edges) > 0 && n.Variants.Edges[0].Node.Stock >= 2 && len(variants) < 2 {
			shops[n.Shop.ID] = true
			variants = append(variants, n.Variants.Edges[0].Node.ID)
		}
	}
	if len(variants) != 2 {
		t.Fatalf("no two dollar shops with stock: %v", variants)
	}
	var added struct {
		CartLinesAdd struct{ UserErrors []struct{ Message string } }
	}
	post(t, srv.URL, token, `mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { userErrors { message } } }`, &added,
		map[string]any{"l": []map[string]any{{"variantId": variants[0], "quantity": 1}, {"variantId": variants[1], "quantity": 2}}})
	if len(added.CartLinesAdd.UserErrors) > 0 {
		t.Fatalf("cartLinesAdd: %+v", added)
	}

	if err := chromedp.Do(page, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	run(fmt.Sprintf(`localStorage.setItem('showcase.token', %q); localStorage.setItem('showcase.handle', 'demo'); ""`, token))
	if err := chromedp.Do(page, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(`[...document.querySelectorAll('#account button')].some((b) => b.innerText === 'Cart')`)
	run(`[...document.querySelectorAll('#account button')].find((b) => b.innerText === 'Cart').click(); ""`)
	waitFor(`!!document.querySelector('#sheet .cart-cost')`)
	// Shipped to the default address (US): two delivery groups, each with a
	// choice, per-line costs, tax added and a total.
	if n := run(`String(document.querySelectorAll('#sheet .delivery-group select[name=delivery]').length)`); n != "2" {
		t.Fatalf("delivery choices shown: %s", n)
	}
	costText := run(`document.querySelector('#sheet .cart-cost').innerText`)
	for _, want := range []string{"Subtotal", "Shipping", "Tax", "Total", "USD"} {
		if !strings.Contains(costText, want) {
			t.Fatalf("the cart's cost shows %q, not %s", costText, want)
		}
	}
	if got := run(`document.querySelector('#sheet select[name=country]').value`); got != "US" {
		t.Fatalf("ship to = %s, want the default address's US", got)
	}
	shot("cart-cost.png")
	shownUS := run(`document.querySelector('#sheet .cost-row.total .amount').innerText`)
	if want := cartTotal(t, srv.URL, token); shownUS != want {
		t.Fatalf("the page shows %q, the API's total is %q", shownUS, want)
	}

	// Choosing Express for the first shop raises the total.
	run(`(() => { const s = document.querySelector('#sheet .delivery-group select[name=delivery]');
		s.value = [...s.options].find((o) => o.text.startsWith('Express')).value; s.dispatchEvent(new Event('change')); return ""; })()`)
	waitFor(fmt.Sprintf(`document.querySelector('#sheet .cost-row.total .amount').innerText !== %q`, shownUS))
	// Shipping to Germany: dollar shops ship internationally and charge no tax there.
	run(`(() => { const s = document.querySelector('#sheet select[name=country]'); s.value = 'DE'; s.dispatchEvent(new Event('change')); return ""; })()`)
	waitFor(`document.querySelector('#sheet select[name=country]').value === 'DE' && [...document.querySelectorAll('#sheet .delivery-group select[name=delivery]')].every((s) => s.options[0].text.startsWith('International'))`)
	shot("cart-cost-de.png")
	shown := run(`document.querySelector('#sheet .cost-row.total .amount').innerText`)
	if want := cartTotal(t, srv.URL, token); shown != want {
		t.Fatalf("the page shows %q, the API's total is %q", shown, want)
	}

	// Checking out charges exactly the total shown.
	run(`document.getElementById('cart-checkout').click(); ""`)
	waitFor(`!!document.querySelector('#sheet [role=status] .success, #sheet [role=status] .errors')`)
	if msg := run(`document.querySelector('#sheet [role=status]').innerText`); !strings.Contains(msg, "Ordered") {
		t.Fatalf("checkout answered %q", msg)
	}
	var charged int64
	if err := db.GetContext(ctx, &charged, `SELECT c.amount FROM test_provider_charges c WHERE c.idempotency_key LIKE 'checkout-%' ORDER BY c.created_at DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%d.%02d USD", charged/100, charged%100); got != shown {
		t.Fatalf("charged %s, the cart showed %s", got, shown)
	}
}

// cartTotal is the buyer's cart total as the API computes it.
func cartTotal(t *testing.T, base, token string) string {
	t.Helper()
	var out struct {
		Viewer struct {
			Cart struct {
				Cost struct {
					TotalAmount struct{ Amount, CurrencyCode string }
				}
			}
		}
	}
	post(t, base, token, `{ viewer { cart { cost { totalAmount { amount currencyCode } } } } }`, &out)
	return out.Viewer.Cart.Cost.TotalAmount.Amount + " " + out.Viewer.Cart.Cost.TotalAmount.CurrencyCode
}
