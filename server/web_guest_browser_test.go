package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"showcase/server/demo"
	"showcase/store/storetest"
)

// TestStorefrontGuestCheckoutInABrowser drives the reference storefront as an
// anonymous visitor: add to cart, check out with an email, open the order by
// its link; then sign up with that email in the same browser and find the
// order in the account. Screenshots go to .artifacts/guest-*.png.
func TestStorefrontGuestCheckoutInABrowser(t *testing.T) {
	page := newBrowser(t, 420, 900)
	db := storetest.NewDB(t)
	images := seedWithImages(t, db, demo.SeedOptions{Users: 12, Creators: 3, Shops: 2, Products: 6, Videos: 8, Seed: 23})
	srv := browserTestServer(t, db, nil, images)

	p := browserPage{t: t, ctx: page, failShot: "guest-failed.png"}
	eval, shot, waitFor := p.eval, p.shot, p.waitFor

	if err := chromedp.Do(page, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(`document.querySelectorAll('article.item button.card').length > 0`)

	// Signed out: open an in-stock card and add one to the cart.
	if eval(`(() => { for (const card of document.querySelectorAll('article.item button.card')) {
			if (card.innerText.includes('in stock')) { card.scrollIntoView(); card.click(); return "ok"; } } return ""; })()`) == "" {
		t.Fatal("no card in stock")
	}
	waitFor(`document.getElementById('sheet').open`)
	eval(`(() => { const s = document.querySelector('#sheet select[name=variant]');
		s.value = [...s.options].find((o) => !o.disabled).value; document.getElementById('add-to-cart').click(); return ""; })()`)
	waitFor(`(document.querySelector('#sheet .result .success') || {}).innerText?.includes('1 items')`)
	shot("guest-added-to-cart.png")
	cartID := eval(`localStorage.getItem('showcase.guestCart') || ""`)
	if !strings.Contains(mustDecode(t, cartID), "?key=") {
		t.Fatalf("the guest cart's ID carries no key: %q", cartID)
	}

	// The cart, checked out with an email.
	eval(`document.getElementById('sheet').close(); document.getElementById('guest-cart-button').click(); ""`)
	waitFor(`document.querySelector('#sheet h2').innerText === 'Cart (1)' && !!document.querySelector('#sheet [name=guest-email]')`)
	eval(`document.querySelector('#sheet [name=guest-email]').value = 'guest.shopper@example.com'; ""`)
	shot("guest-cart.png")
	eval(`document.getElementById('cart-checkout').click(); ""`)
	waitFor(`!!document.querySelector('#sheet .confirmation #order-link')`)
	confirmation := eval(`document.querySelector('#sheet .confirmation').innerText`)
	number := strings.TrimSpace(strings.Split(strings.TrimPrefix(confirmation, "Ordered: "), " ")[0])
	if !strings.HasPrefix(number, "#") {
		t.Fatalf("confirmation = %q", confirmation)
	}
	shot("guest-ordered.png")

	// The order, by its link (the token in the fragment).
	eval(`document.getElementById('order-link').click(); ""`)
	waitFor(`!!document.querySelector('#sheet section.order[data-number="` + number + `"]')`)
	if link := eval(`location.hash`); !strings.HasPrefix(link, "#order=ot_") {
		t.Fatalf("order link %q", link)
	}
	shot("guest-order-page.png")
	eval(`document.querySelector('#sheet button').click(); ""`) // Close

	// Sign up with the same email in this browser: the order is in the account.
	eval(`document.querySelector('#login [name=email]').value = 'guest.shopper@example.com';
		document.querySelector('#login [name=password]').value = 'a-strong-password';
		[...document.querySelectorAll('#login button')].find((b) => b.innerText === 'Sign up').click(); ""`)
	waitFor(`!!document.getElementById('orders-button')`)
	eval(`document.getElementById('orders-button').click(); ""`)
	waitFor(`!!document.querySelector('#orders li[data-number="` + number + `"]')`)
	shot("guest-adopted.png")
	if eval(`localStorage.getItem('showcase.guestCart') || ""`) != "" {
		t.Fatal("the adopted guest cart is still kept")
	}
}
