package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
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

	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($p: ID!, $m: [ProductMediaInput!]!) { productMediaAdd(productId: $p, media: $m) { product { featuredImage { url width height } } userErrors { message } } }`,
		"variables": map[string]any{"p": globalProductID(p.ID), "m": []map[string]any{{"upload": nil}}},
	})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"f": ["variables.m.0.upload"]}`)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="f"; filename="b.png"`)
	h.Set("Content-Type", "image/png")
	part, _ := w.CreatePart(h)
	_, _ = part.Write(pngBytes.Bytes())
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var out struct {
		Data struct {
			ProductMediaAdd struct {
				Product struct {
					FeaturedImage struct {
						URL           string
						Width, Height int
					}
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Data.ProductMediaAdd.Product.FeaturedImage.Width != 7 {
		t.Fatalf("upload: %d %s", res.StatusCode, raw)
	}
	stored, err := bucket.List(ctx, "", 10)
	if err != nil || len(stored) != 1 {
		t.Fatalf("bucket holds %+v (%v), want the upload", stored, err)
	}
	if obj, _ := backend.HeadObject("showcase-media", "media/"+stored[0].Name); obj == nil {
		t.Errorf("no object under the prefix")
	}
	get, err := http.Get(srv.URL + out.Data.ProductMediaAdd.Product.FeaturedImage.URL)
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
