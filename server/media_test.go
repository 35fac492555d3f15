package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"showcase/media"
	"showcase/store"
	"showcase/store/storetest"
)

// TestMediaUploadedAndServed uploads an image through the real routes (the
// GraphQL multipart request spec) and fetches it back from /media/ with its
// content type and cache headers; unknown and malformed names are 404.
func TestMediaUploadedAndServed(t *testing.T) {
	db := storetest.NewDB(t)
	dir := t.TempDir()
	images, err := media.NewDir(filepath.Join(dir, "media"), "")
	if err != nil {
		t.Fatal(err)
	}
	tokens := testTokens(t)
	srv := testServer(t, db, tokens, nil, nil, func(c *config) { c.Media = images })
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.NewUser{Email: "s@example.com", PasswordHash: "-", Handle: "seller1", DisplayName: "Seller"})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := db.CreateShop(ctx, store.NewShop{OwnerID: u.ID, Handle: "s-shop", Name: "S", OperatingModel: store.SelfOperated, CurrencyCode: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.CreateProduct(ctx, store.NewProduct{ShopID: shop.ID, Title: "Lamp", Status: store.ProductActive,
		Variants: []store.NewVariant{{SKU: "L-1", Title: "One", Price: store.Money{Minor: 1000, CurrencyCode: "USD"}, Stock: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	token, _ := tokens.Issue(u.ID)

	img := image.NewRGBA(image.Rect(0, 0, 12, 9))
	img.Set(3, 3, color.RGBA{255, 0, 0, 255})
	var pngBytes bytes.Buffer
	_ = png.Encode(&pngBytes, img)

	fi, _, _ := uploadProductImage(t, srv.URL, token, p.ID, "lamp.png", pngBytes.Bytes(), "The lamp, lit")
	if fi.Width != 12 || fi.Height != 9 || fi.AltText != "The lamp, lit" || !strings.HasPrefix(fi.URL, "/media/") {
		t.Fatalf("featuredImage = %+v", fi)
	}

	get, err := http.Get(srv.URL + fi.URL)
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if get.StatusCode != http.StatusOK || !bytes.Equal(served, pngBytes.Bytes()) {
		t.Fatalf("GET %s: %d, %d bytes", fi.URL, get.StatusCode, len(served))
	}
	for k, v := range map[string]string{
		"Content-Type":           "image/png",
		"Cache-Control":          "public, max-age=31536000, immutable",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := get.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "media")); len(entries) != 1 {
		t.Errorf("media folder holds %d files, want 1", len(entries))
	}

	for _, path := range []string{
		"/media/" + strings.Repeat("0", 64) + ".png", // unknown
		"/media/../media_test.go",
		"/media/%2e%2e%2fjwt-secret",
		"/media/" + strings.Repeat("a", 64) + ".svg", // not a type it stores
		"/media/",
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
}

// globalProductID is the API's global ID of a product.
func globalProductID(id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "Product:%d", id))
}

// checkSeededImages: the demo products (seeded by the real binary) show
// images, served from the data folder with their headers.
func checkSeededImages(t *testing.T, base string) {
	t.Helper()
	var out struct {
		Products struct {
			Edges []struct {
				Node struct {
					FeaturedImage *struct {
						URL           string
						Width, Height int
					}
					Media struct{ Edges []any }
				}
			}
		}
	}
	post(t, base, "", `{ products(first: 20) { edges { node { featuredImage { url width height } media { edges { node { id } } } } } } }`, &out)
	if len(out.Products.Edges) != 20 {
		t.Fatalf("products = %+v", out)
	}
	for _, e := range out.Products.Edges {
		n := e.Node
		if n.FeaturedImage == nil || len(n.Media.Edges) < 1 || len(n.Media.Edges) > 4 {
			t.Fatalf("a demo product without 1-4 images: %+v", n)
		}
	}
	img := out.Products.Edges[0].Node.FeaturedImage
	res, err := http.Get(base + img.URL)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if res.StatusCode != http.StatusOK || err != nil || cfg.Width != img.Width || cfg.Height != img.Height ||
		res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("GET %s: %d %v %+v, headers %v", img.URL, res.StatusCode, err, cfg, res.Header)
	}
}

// checkSeededPosters: the demo videos (seeded by the real binary) have 9:16
// posters, served from the data folder as PNGs with their cache headers.
func checkSeededPosters(t *testing.T, base string) {
	t.Helper()
	var out struct {
		Feed struct {
			Edges []struct {
				Node struct {
					Typename string `json:"__typename"`
					Poster   *struct {
						URL           string
						Width, Height int
						AltText       string
					}
				}
			}
		}
	}
	post(t, base, "", `{ feed(first: 20) { edges { node { __typename ... on Video { poster { url width height altText } } } } } }`, &out)
	videos := 0
	for _, e := range out.Feed.Edges {
		n := e.Node
		if n.Typename != "Video" {
			continue
		}
		videos++
		p := n.Poster
		if p == nil || p.Width*16 != p.Height*9 || !strings.HasPrefix(p.URL, "/media/") || p.AltText == "" || strings.Contains(p.AltText, "#") {
			t.Fatalf("a demo video without a 9:16 poster: %+v", p)
		}
		res, err := http.Get(base + p.URL)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if res.StatusCode != http.StatusOK || err != nil || cfg.Width != p.Width || cfg.Height != p.Height ||
			res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s: %d %v %+v, headers %v", p.URL, res.StatusCode, err, cfg, res.Header)
		}
	}
	if videos == 0 {
		t.Fatal("no video in the feed's first 20")
	}
}

// TestMediaS3Settings: the MEDIA_S3_* settings fill the bucket's
// configuration; bucket settings without an endpoint stop the server.
func TestMediaS3Settings(t *testing.T) {
	env := map[string]string{"MEDIA_S3_ENDPOINT": "https://s3.eu-west-1.amazonaws.com", "MEDIA_S3_BUCKET": "shop-media", "MEDIA_S3_REGION": "eu-west-1",
		"MEDIA_S3_ACCESS_KEY_ID": "AKIA", "MEDIA_S3_SECRET_ACCESS_KEY": "secret", "MEDIA_S3_PREFIX": "media/", "MEDIA_PUBLIC_URL": "https://cdn.example.com"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	want := media.S3Config{Endpoint: "https://s3.eu-west-1.amazonaws.com", Bucket: "shop-media", Region: "eu-west-1", AccessKeyID: "AKIA",
		SecretAccessKey: "secret", Prefix: "media/", PublicURL: "https://cdn.example.com"}
	if err != nil || cfg.MediaS3 != want {
		t.Fatalf("MediaS3 = %+v, %v", cfg.MediaS3, err)
	}
	if _, err := parseConfig(nil, func(k string) string { return map[string]string{"MEDIA_S3_BUCKET": "b"}[k] }, io.Discard); err == nil {
		t.Error("a bucket without an endpoint was accepted")
	}
}

// TestMediaSettings: MEDIA_DIR defaults to DATA_DIR/media, UPLOAD_MAX_BYTES
// to 10 MiB, and a bad UPLOAD_MAX_BYTES stops the server at start.
func TestMediaSettings(t *testing.T) {
	parse := func(env map[string]string) (config, error) {
		return parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := parse(map[string]string{"DATA_DIR": "/srv/showcase"})
	if err != nil || cfg.MediaDir != "/srv/showcase/media" || cfg.MaxUploadBytes != 10<<20 {
		t.Fatalf("defaults: %q %d %v", cfg.MediaDir, cfg.MaxUploadBytes, err)
	}
	cfg, err = parse(map[string]string{"MEDIA_DIR": "/mnt/images", "UPLOAD_MAX_BYTES": "2048"})
	if err != nil || cfg.MediaDir != "/mnt/images" || cfg.MaxUploadBytes != 2048 {
		t.Fatalf("set: %q %d %v", cfg.MediaDir, cfg.MaxUploadBytes, err)
	}
	for _, bad := range []string{"ten", "0", "100", "2000000000"} {
		if _, err := parse(map[string]string{"UPLOAD_MAX_BYTES": bad}); err == nil || !strings.Contains(err.Error(), "UPLOAD_MAX_BYTES") {
			t.Errorf("UPLOAD_MAX_BYTES=%s: %v", bad, err)
		}
	}
}
