package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"
)

// uploadedImage is a product's featured image as productMediaAdd answers it.
type uploadedImage struct {
	URL           string
	Width, Height int
	AltText       string
}

// uploadProductImage adds one image file (file's bytes, named name and sent
// as image/png) with altText to product productID through the server at
// baseURL, as token's holder, by the GraphQL multipart request spec. It
// answers the product's featured image afterwards, the HTTP status and the
// raw reply; it fails the test when the request cannot be sent or the reply
// carries errors or userErrors.
func uploadProductImage(t *testing.T, baseURL, token string, productID int64, name string, file []byte, altText string) (uploadedImage, int, []byte) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	medium := map[string]any{"upload": nil}
	if altText != "" {
		medium["altText"] = altText
	}
	ops, _ := json.Marshal(map[string]any{
		"query": `mutation($p: ID!, $m: [ProductMediaInput!]!) { productMediaAdd(productId: $p, media: $m) {
			product { featuredImage { url width height altText } } userErrors { code message } } }`,
		"variables": map[string]any{"p": globalProductID(productID), "m": []map[string]any{medium}},
	})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"f": ["variables.m.0.upload"]}`)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="f"; filename="`+name+`"`)
	h.Set("Content-Type", "image/png")
	part, _ := w.CreatePart(h)
	_, _ = part.Write(file)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/graphql", &body)
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
					FeaturedImage uploadedImage
				}
				UserErrors []any
			}
		}
		Errors []any
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 || len(out.Data.ProductMediaAdd.UserErrors) > 0 {
		t.Fatalf("upload: %d %s", res.StatusCode, raw)
	}
	return out.Data.ProductMediaAdd.Product.FeaturedImage, res.StatusCode, raw
}
