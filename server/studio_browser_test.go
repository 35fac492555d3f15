package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"showcase/server/demo"
	"showcase/store/storetest"
)

// TestStudioProductImagesInABrowser drives the studio in headless Chromium
// as the demo seller: a product is added with three images (uploaded with
// the GraphQL multipart request spec), an image moved and another deleted,
// each change checked through the API; screenshots go to .artifacts/.
func TestStudioProductImagesInABrowser(t *testing.T) {
	page := newBrowser(t, 1100, 1400)
	db := storetest.NewDB(t)
	images := seedWithImages(t, db, demo.SeedOptions{Users: 20, Creators: 5, Shops: 4, Products: 40, Videos: 20, LiveSessions: 2, HistoryDays: 3, Seed: 7})
	srv := browserTestServer(t, db, nil, images)
	token := login(t, srv.URL, demo.SellerEmail)

	// Three images a seller might pick, told apart by colour and name.
	dir := t.TempDir()
	var files []string
	for _, f := range []struct {
		name string
		c    color.RGBA
	}{{"red-front", color.RGBA{220, 60, 60, 255}}, {"green-side", color.RGBA{60, 180, 90, 255}}, {"blue-detail", color.RGBA{60, 110, 220, 255}}} {
		img := image.NewRGBA(image.Rect(0, 0, 120, 90))
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = f.c.R, f.c.G, f.c.B, 255
		}
		var buf bytes.Buffer
		_ = png.Encode(&buf, img)
		path := filepath.Join(dir, f.name+".png")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}

	eval := func(js string) string {
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
			t.Fatalf("waiting for %s: %v (page: %s)", js, err, eval(`document.getElementById('studio').innerText.slice(0, 400)`))
		}
	}
	// shot saves the products section (the studio's charts above it are
	// the storefront test's).
	shot := func(name string) {
		if png, err := chromedp.Run(page, chromedp.Screenshot(`section[aria-label=Products]`)); err == nil {
			_ = os.WriteFile(filepath.Join(artifactsDir, name), png, 0o644)
		}
	}
	// alts lists the product's images' alt texts in order, through the API.
	alts := func(productID string) string {
		var out struct {
			Product struct {
				Media struct {
					Edges []struct{ Node struct{ Alt string } }
				}
			}
		}
		post(t, srv.URL, "", `query($id: ID!) { product(id: $id) { media { edges { node { alt } } } } }`, &out, map[string]any{"id": productID})
		var a []string
		for _, e := range out.Product.Media.Edges {
			a = append(a, e.Node.Alt)
		}
		return strings.Join(a, ", ")
	}

	if err := chromedp.Do(page, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	eval(fmt.Sprintf(`localStorage.setItem('showcase.token', %q); localStorage.setItem('showcase.handle', 'seller'); ""`, token))
	if err := chromedp.Do(page, chromedp.Navigate(srv.URL+"/studio")); err != nil {
		t.Fatal(err)
	}
	waitFor(`!!document.querySelector('#new-product') && document.querySelectorAll('#products li.product').length > 0`)
	// The seeded products show their images.
	waitFor(`[...document.querySelectorAll('#products li.product img')].slice(0, 4).every((i) => i.complete && i.naturalWidth === 256)`)

	// Add a product with three images.
	eval(`document.querySelector('#new-product [name=title]').value = 'Linen tote bag';
		document.querySelector('#new-product [name=price]').value = '24.90';
		document.querySelector('#new-product [name=stock]').value = '7'; ""`)
	if _, err := chromedp.Run(page, chromedp.SetUploadFiles(`#new-product [name=images]`, files)); err != nil {
		t.Fatal(err)
	}
	eval(`document.querySelector('#new-product').requestSubmit(); ""`)
	const added = `[...document.querySelectorAll('#products li.product')].find((p) => p.innerText.includes('Linen tote bag'))`
	waitFor(`(() => { const p = ` + added + `; return !!p && p.querySelectorAll('li.thumb img').length === 3 &&
		[...p.querySelectorAll('li.thumb img')].every((i) => i.complete && i.naturalWidth === 120); })()`)
	productID := eval(added + `.dataset.id`)
	if got := alts(productID); got != "red front, green side, blue detail" {
		t.Fatalf("after adding: images %q", got)
	}
	if msg := eval(`document.querySelector('section[aria-label=Products] > p.errors').innerText`); msg != "" {
		t.Fatalf("error shown: %q", msg)
	}
	shot("studio-product-added.png")

	// Move the first image later: green, red, blue.
	eval(added + `.querySelector('li.thumb button.right').click(); ""`)
	waitFor(`(() => { const p = ` + added + `; return !!p && p.querySelector('li.thumb img').alt === 'green side'; })()`)
	if got := alts(productID); got != "green side, red front, blue detail" {
		t.Fatalf("after moving: images %q", got)
	}
	// Delete the last: green, red.
	eval(added + `.querySelectorAll('li.thumb button.delete')[2].click(); ""`)
	waitFor(`(() => { const p = ` + added + `; return !!p && p.querySelectorAll('li.thumb img').length === 2; })()`)
	if got := alts(productID); got != "green side, red front" {
		t.Fatalf("after deleting: images %q", got)
	}
	// A file that is not an image is refused with the API's words, and
	// nothing is added.
	bad := filepath.Join(dir, "notes.png")
	_ = os.WriteFile(bad, []byte("just some text, not a picture"), 0o644)
	if _, err := chromedp.Run(page, chromedp.SetUploadFiles(`li.product[data-id="`+productID+`"] li.thumb.add input`, []string{bad})); err != nil {
		t.Fatal(err)
	}
	waitFor(`(() => { const p = ` + added + `; return !!p && p.querySelector('.errors').innerText.includes('notes.png: ') &&
		p.querySelector('.errors').innerText.includes('PNG, JPEG, GIF and WebP'); })()`)
	if got := alts(productID); got != "green side, red front" {
		t.Fatalf("after a refused file: images %q", got)
	}
	shot("studio-product-edited.png")
}
