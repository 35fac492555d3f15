package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"showcase/media"
	"showcase/store"
	"showcase/store/storetest"
)

// TestMediaUploadedToS3: with an S3-compatible bucket (gofakes3, started
// on loopback) as the media store, an upload through the real routes lands
// in the bucket under the prefix and is served at /media/ with its headers.
func TestMediaUploadedToS3(t *testing.T) {
	ctx := context.Background()
	backend := s3mem.New()
	if err := backend.CreateBucket("showcase-media"); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3srv.Close()
	bucket, err := media.NewS3(ctx, media.S3Config{Endpoint: s3srv.URL, Bucket: "showcase-media", AccessKeyID: "k", SecretAccessKey: "s", Prefix: "media/"})
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.NewDB(t)
	tokens := testTokens(t)
	srv := testServer(t, db, tokens, nil, nil, func(c *config) { c.Media = bucket })
	u, err := db.CreateUser(ctx, store.NewUser{Email: "s3@example.com", PasswordHash: "-", Handle: "s3seller", DisplayName: "S3"})
	if err != nil {
		t.Fatal(err)
	}
	shop, err := db.CreateShop(ctx, store.NewShop{OwnerID: u.ID, Handle: "s3-shop", Name: "S3", OperatingModel: store.SelfOperated, CurrencyCode: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.CreateProduct(ctx, store.NewProduct{ShopID: shop.ID, Title: "Bucket", Status: store.ProductActive,
		Variants: []store.NewVariant{{SKU: "B-1", Title: "One", Price: store.Money{Minor: 1000, CurrencyCode: "USD"}, Stock: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	token, _ := tokens.Issue(u.ID)
	var pngBytes bytes.Buffer
	_ = png.Encode(&pngBytes, image.NewGray(image.Rect(0, 0, 7, 5)))

	fi, status, raw := uploadProductImage(t, srv.URL, token, p.ID, "b.png", pngBytes.Bytes(), "")
	if fi.Width != 7 {
		t.Fatalf("upload: %d %s", status, raw)
	}
	stored, err := bucket.List(ctx, "", 10)
	if err != nil || len(stored) != 1 {
		t.Fatalf("bucket holds %+v (%v), want the upload", stored, err)
	}
	if obj, _ := backend.HeadObject("showcase-media", "media/"+stored[0].Name); obj == nil {
		t.Errorf("no object under the prefix")
	}
	get, err := http.Get(srv.URL + fi.URL)
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if get.StatusCode != http.StatusOK || !bytes.Equal(served, pngBytes.Bytes()) || get.Header.Get("Content-Type") != "image/png" ||
		get.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("GET: %d, %d bytes, %v", get.StatusCode, len(served), get.Header)
	}
}
