package graph_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"showcase/graph"
	"showcase/media"
)

// testPNG draws a w×h PNG.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{200, 10, 90, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testGIF(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testWebP is a 1×1 lossless WebP image.
func testWebP(t testing.TB) []byte {
	b, err := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadFile is one file part of a multipart request.
type uploadFile struct {
	name        string
	contentType string
	data        []byte
}

// multipartRequest builds a GraphQL multipart request (operations, map, then
// the files) whose files fill variables.media.<i>.upload in order.
func multipartRequest(t testing.TB, token, query string, vars map[string]any, files []uploadFile) *http.Request {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_ = w.WriteField("operations", string(ops))
	m := map[string][]string{}
	for i := range files {
		m[fmt.Sprint(i)] = []string{fmt.Sprintf("variables.media.%d.upload", i)}
	}
	mb, _ := json.Marshal(m)
	_ = w.WriteField("map", string(mb))
	for i, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%d"; filename="%s"`, i, f.name))
		h.Set("Content-Type", f.contentType)
		part, _ := w.CreatePart(h)
		_, _ = part.Write(f.data)
	}
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body.Bytes()))
	req.Header.Set("Content-Type", w.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

const mediaAddMutation = `mutation($p: ID!, $media: [ProductMediaInput!]!) { productMediaAdd(productId: $p, media: $media) {
	product { id media { edges { node { __typename id alt mediaContentType
		... on MediaImage { image { url width height altText } }
		... on ProductVideo { sources { url mimeType } previewImage { url } } } } } featuredImage { url } }
	media { id }
	userErrors { field message code } } }`

type mediaNode struct {
	Typename         string `json:"__typename"`
	ID               string
	Alt              string
	MediaContentType string
	Image            *struct {
		URL           string
		Width, Height *int
		AltText       string
	}
	Sources []struct{ URL, MimeType string }
}

type mediaAddOut struct {
	ProductMediaAdd struct {
		Product *struct {
			ID    string
			Media struct {
				Edges []struct{ Node mediaNode }
			}
			FeaturedImage *struct{ URL string }
		}
		Media      []struct{ ID string }
		UserErrors []userError
	}
}

// newMediaAPI is a test API that stores uploads in a fresh folder, with
// uploads limited to maxBytes.
func newMediaAPI(t *testing.T, maxBytes int64) (*testAPI, string) {
	dir := t.TempDir()
	store, err := media.NewDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.Media = store; r.MaxUploadBytes = maxBytes })
	return a, dir
}

func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func uploadVars(productID string, n int, alt string) map[string]any {
	media := make([]map[string]any, n)
	for i := range media {
		media[i] = map[string]any{"upload": nil, "altText": fmt.Sprintf("%s %d", alt, i)}
	}
	return map[string]any{"p": productID, "media": media}
}

func TestProductMediaUploadAccepted(t *testing.T) {
	a, dir := newMediaAPI(t, 64<<10)
	f := a.fixture("uploader")
	files := []uploadFile{
		{"front.png", "image/png", testPNG(t, 40, 30)},
		{"side.jpg", "image/jpeg", testJPEG(t, 16, 8)},
		{"anim.gif", "image/gif", testGIF(t, 5, 7)},
		// The declared type and name do not matter: the bytes do.
		{"photo.bin", "application/octet-stream", testWebP(t)},
	}
	resp := a.serve(multipartRequest(t, f.sellerToken, mediaAddMutation, uploadVars(f.productID, len(files), "view"), files))
	if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
		t.Fatalf("status %d, errors %+v", resp.Status, resp.Errors)
	}
	var out mediaAddOut
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		t.Fatal(err)
	}
	p := out.ProductMediaAdd
	if len(p.UserErrors) > 0 || p.Product == nil || len(p.Media) != 4 {
		t.Fatalf("productMediaAdd = %+v", p)
	}
	want := []struct {
		ext  string
		w, h int
	}{{"png", 40, 30}, {"jpg", 16, 8}, {"gif", 5, 7}, {"webp", 1, 1}}
	for i, e := range p.Product.Media.Edges {
		n := e.Node
		if n.Typename != "MediaImage" || n.MediaContentType != "IMAGE" || n.Image == nil {
			t.Fatalf("medium %d = %+v", i, n)
		}
		if !strings.HasPrefix(n.Image.URL, "/media/") || !strings.HasSuffix(n.Image.URL, "."+want[i].ext) ||
			*n.Image.Width != want[i].w || *n.Image.Height != want[i].h || n.Alt != fmt.Sprintf("view %d", i) {
			t.Errorf("medium %d = %+v, width %d height %d; want .%s %d×%d", i, n.Image, *n.Image.Width, *n.Image.Height, want[i].ext, want[i].w, want[i].h)
		}
		if _, err := os.Stat(dir + "/" + strings.TrimPrefix(n.Image.URL, "/media/")); err != nil {
			t.Errorf("medium %d's file: %v", i, err)
		}
	}
	if p.Product.FeaturedImage == nil || p.Product.FeaturedImage.URL != p.Product.Media.Edges[0].Node.Image.URL {
		t.Errorf("featuredImage = %+v", p.Product.FeaturedImage)
	}
	if got := len(filesIn(t, dir)); got != 4 {
		t.Errorf("%d files stored, want 4", got)
	}
}

// TestProductMediaUploadChunked: a body without a Content-Length within
// the limit is spooled and stored like any other.
func TestProductMediaUploadChunked(t *testing.T) {
	a, dir := newMediaAPI(t, 64<<10)
	f := a.fixture("chunker")
	req := multipartRequest(t, f.sellerToken, mediaAddMutation, uploadVars(f.productID, 1, "view"), []uploadFile{{"front.png", "image/png", testPNG(t, 40, 30)}})
	req.ContentLength = -1
	req.Body = io.NopCloser(struct{ io.Reader }{req.Body})
	resp := a.serve(req)
	var out mediaAddOut
	if resp.Status != http.StatusOK || len(resp.Errors) > 0 || json.Unmarshal(resp.Data, &out) != nil || len(out.ProductMediaAdd.Media) != 1 {
		t.Fatalf("status %d, errors %+v, data %s", resp.Status, resp.Errors, resp.Data)
	}
	if got := len(filesIn(t, dir)); got != 1 {
		t.Errorf("%d files stored, want 1", got)
	}
}

func TestProductMediaUploadRefused(t *testing.T) {
	const limit = 8 << 10
	a, dir := newMediaAPI(t, limit)
	f := a.fixture("refused")
	// Noise does not compress: a PNG bigger than the limit.
	noise := image.NewRGBA(image.Rect(0, 0, 100, 100))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = byte(rng.IntN(256))
	}
	var bigBuf bytes.Buffer
	_ = png.Encode(&bigBuf, noise)
	big := bigBuf.Bytes()
	if len(big) <= limit {
		t.Fatalf("the big PNG is %d bytes", len(big))
	}
	good := testPNG(t, 4, 4)
	truncated := testPNG(t, 64, 64)
	truncated = truncated[:len(truncated)/2]
	for _, tc := range []struct {
		name  string
		files []uploadFile
		code  string
		field []string
	}{
		{"too large", []uploadFile{{"big.png", "image/png", big}}, "TOO_LARGE", []string{"media", "0", "upload"}},
		{"not an image", []uploadFile{{"notes.png", "image/png", []byte("just some text, not a picture at all")}}, "UNSUPPORTED_TYPE", []string{"media", "0", "upload"}},
		{"wrong type", []uploadFile{{"doc.pdf", "application/pdf", []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n")}}, "UNSUPPORTED_TYPE", []string{"media", "0", "upload"}},
		{"svg", []uploadFile{{"x.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}}, "UNSUPPORTED_TYPE", []string{"media", "0", "upload"}},
		{"truncated", []uploadFile{{"half.png", "image/png", truncated}}, "INVALID_IMAGE", []string{"media", "0", "upload"}},
		{"empty", []uploadFile{{"empty.png", "image/png", nil}}, "INVALID_IMAGE", []string{"media", "0", "upload"}},
		{"a good file with a bad one", []uploadFile{{"good.png", "image/png", good}, {"bad.png", "image/png", []byte("nope")}}, "UNSUPPORTED_TYPE", []string{"media", "1", "upload"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := a.serve(multipartRequest(t, f.sellerToken, mediaAddMutation, uploadVars(f.productID, len(tc.files), "x"), tc.files))
			var out mediaAddOut
			_ = json.Unmarshal(resp.Data, &out)
			ue := out.ProductMediaAdd.UserErrors
			if resp.Status != http.StatusOK || len(resp.Errors) > 0 || len(ue) != 1 || ue[0].Code != tc.code ||
				strings.Join(ue[0].Field, ".") != strings.Join(tc.field, ".") || out.ProductMediaAdd.Product != nil {
				t.Fatalf("status %d, errors %+v, payload %+v; want one %s userError at %v", resp.Status, resp.Errors, out.ProductMediaAdd, tc.code, tc.field)
			}
			if ue[0].Message == "" || strings.Contains(ue[0].Message, "sql") {
				t.Errorf("message %q", ue[0].Message)
			}
			if n := a.count("product_media"); n != 0 {
				t.Errorf("%d media rows stored", n)
			}
			if files := filesIn(t, dir); len(files) != 0 {
				t.Errorf("files stored: %v", files)
			}
		})
	}

	t.Run("another seller", func(t *testing.T) {
		other, _ := a.user("intruder", false)
		resp := a.serve(multipartRequest(t, other, mediaAddMutation, uploadVars(f.productID, 1, "x"), []uploadFile{{"a.png", "image/png", good}}))
		if resp.code() != "FORBIDDEN" {
			t.Fatalf("status %d, errors %+v; want FORBIDDEN", resp.Status, resp.Errors)
		}
		if n := a.count("product_media"); n != 0 || len(filesIn(t, dir)) != 0 {
			t.Errorf("%d rows, files %v stored", n, filesIn(t, dir))
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		resp := a.serve(multipartRequest(t, "", mediaAddMutation, uploadVars(f.productID, 1, "x"), []uploadFile{{"a.png", "image/png", good}}))
		if resp.Status != http.StatusUnauthorized || resp.code() != "UNAUTHENTICATED" {
			t.Fatalf("status %d, errors %+v; want 401 UNAUTHENTICATED", resp.Status, resp.Errors)
		}
	})
	t.Run("request over the upload request limit", func(t *testing.T) {
		huge := bytes.Repeat([]byte{0}, graph.MaxFilesPerUploadRequest*limit+graph.MaxBodyBytes+1)
		resp := a.serve(multipartRequest(t, f.sellerToken, mediaAddMutation, uploadVars(f.productID, 1, "x"), []uploadFile{{"a.png", "image/png", huge}}))
		if resp.Status != http.StatusRequestEntityTooLarge || resp.code() != "REQUEST_TOO_LARGE" {
			t.Fatalf("status %d, errors %+v; want 413 REQUEST_TOO_LARGE", resp.Status, resp.Errors)
		}
	})
	// Without a Content-Length (chunked), the overflow is only found while
	// reading: gqlgen's transport answered 422 then.
	t.Run("chunked request over the upload request limit", func(t *testing.T) {
		huge := bytes.Repeat([]byte{0}, graph.MaxFilesPerUploadRequest*limit+graph.MaxBodyBytes+1)
		req := multipartRequest(t, f.sellerToken, mediaAddMutation, uploadVars(f.productID, 1, "x"), []uploadFile{{"a.png", "image/png", huge}})
		req.ContentLength = -1
		req.Body = io.NopCloser(struct{ io.Reader }{req.Body})
		resp := a.serve(req)
		if resp.Status != http.StatusRequestEntityTooLarge || resp.code() != "REQUEST_TOO_LARGE" {
			t.Fatalf("status %d, errors %+v; want 413 REQUEST_TOO_LARGE", resp.Status, resp.Errors)
		}
		if n := a.count("product_media"); n != 0 || len(filesIn(t, dir)) != 0 {
			t.Errorf("%d rows, files %v stored", n, filesIn(t, dir))
		}
	})
	t.Run("base64 in JSON instead of a file", func(t *testing.T) {
		b64 := base64.StdEncoding.EncodeToString(good)
		resp := a.post(f.sellerToken, mediaAddMutation, map[string]any{"p": f.productID, "media": []map[string]any{{"upload": b64}}})
		if resp.code() != "BAD_USER_INPUT" || !strings.Contains(resp.Errors[0].Message, "multipart") {
			t.Fatalf("status %d, errors %+v; want BAD_USER_INPUT", resp.Status, resp.Errors)
		}
		resp = a.post(f.sellerToken, `mutation($p: ID!) { productMediaAdd(productId: $p, media: [{upload: "`+b64+`"}]) { userErrors { code } } }`,
			map[string]any{"p": f.productID})
		if resp.code() != "BAD_USER_INPUT" {
			t.Fatalf("inline: status %d, errors %+v; want BAD_USER_INPUT", resp.Status, resp.Errors)
		}
		if n := a.count("product_media"); n != 0 {
			t.Errorf("%d media rows stored", n)
		}
	})
	t.Run("malformed multipart", func(t *testing.T) {
		for _, bc := range []struct {
			name, body string
			status     int
			code       string
		}{
			{"no operations part first", "--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--B--\r\n", 400, "BAD_REQUEST"},
			{"operations not JSON", "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{nope\r\n--B--\r\n", 400, "BAD_REQUEST"},
			{"operations a batch", "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n[{\"query\":\"{__typename}\"}]\r\n--B--\r\n", 400, "BATCHING_NOT_SUPPORTED"},
			{"not multipart at all", "this is not multipart", 400, "BAD_REQUEST"},
			{"map missing", "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{__typename}\"}\r\n--B--\r\n", 400, "BAD_REQUEST"},
			// Paths into variables the operation lacks made gqlgen panic
			// (a nil map, an index past a list's end): refused up front.
			{"map names a variable that is not there", "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{__typename}\"}\r\n--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.file\"]}\r\n--B--\r\n", 400, "BAD_REQUEST"},
			{"map indexes past a list", "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{__typename}\",\"variables\":{\"f\":[{\"upload\":null}]}}\r\n--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f.99999999.upload\"]}\r\n--B--\r\n", 400, "BAD_REQUEST"},
			// Each path opens the file once: a map of thousands of paths
			// held as many descriptors.
			{"map of too many paths", "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{__typename}\",\"variables\":{\"f\":null}}\r\n--B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[" + strings.TrimSuffix(strings.Repeat(`"variables.f",`, 11), ",") + "]}\r\n--B--\r\n", 400, "BAD_REQUEST"},
		} {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(bc.body))
			req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
			req.Header.Set("Authorization", "Bearer "+f.sellerToken)
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, req)
			var resp gqlResponse
			_ = json.Unmarshal(rec.Body.Bytes(), &resp)
			if rec.Code != bc.status || resp.code() != bc.code || len(resp.Errors) == 0 {
				t.Errorf("%s: status %d, body %s; want %d %q", bc.name, rec.Code, rec.Body.String(), bc.status, bc.code)
			}
		}
		if n := a.count("product_media"); n != 0 {
			t.Errorf("%d media rows stored", n)
		}
	})
}

// recordingLimiter remembers what each request was charged and refuses
// once its budget is spent.
type recordingLimiter struct {
	mu      sync.Mutex
	charged []int
	budget  int
}

func (l *recordingLimiter) Allow(key string, sensitive bool, cost int) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.charged = append(l.charged, cost)
	if l.budget -= cost; l.budget < 0 {
		return false, 3 * time.Second
	}
	return true, 0
}

// Burst implements graph.RateLimiter: a bucket larger than any test query.
func (l *recordingLimiter) Burst(sensitive bool) int { return 1000 }

// TestUploadsAreRateLimited: a multipart request's operation is charged like
// a JSON one (by rateCharge, inside gqlgen), and refused with 429 before it
// runs, storing nothing, once the caller's bucket is empty.
func TestUploadsAreRateLimited(t *testing.T) {
	limiter := &recordingLimiter{budget: 1 << 30}
	dir := t.TempDir()
	images, _ := media.NewDir(dir, "")
	a := newTestAPIWith(t, func(r *graph.Resolver) { r.Media = images; r.RateLimiter = limiter })
	f := a.fixture("limited")
	files := []uploadFile{{"a.png", "image/png", testPNG(t, 3, 3)}}
	limiter.charged = nil
	a.post(f.sellerToken, mediaAddMutation, uploadVars(f.productID, 1, "x"))
	jsonCharges := limiter.charged
	limiter.charged = nil
	resp := a.serve(multipartRequest(t, f.sellerToken, mediaAddMutation, uploadVars(f.productID, 1, "x"), files))
	if len(resp.Errors) > 0 || len(jsonCharges) == 0 || fmt.Sprint(limiter.charged) != fmt.Sprint(jsonCharges) {
		t.Fatalf("errors %+v; charged %v for the multipart request and %v for the JSON one, want them charged alike", resp.Errors, limiter.charged, jsonCharges)
	}
	limiter.budget = 0
	resp = a.serve(multipartRequest(t, f.sellerToken, mediaAddMutation, uploadVars(f.productID, 1, "y"), []uploadFile{{"b.png", "image/png", testPNG(t, 4, 3)}}))
	if resp.Status != http.StatusTooManyRequests || resp.code() != "RATE_LIMITED" || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("status %d, errors %+v; want 429", resp.Status, resp.Errors)
	}
	if n := a.count("product_media"); n != 1 || len(filesIn(t, dir)) != 1 {
		t.Errorf("%d rows, files %v; want the first upload only", n, filesIn(t, dir))
	}
}

// TestProductMediaCap: a product holds at most 20 media.
func TestProductMediaCap(t *testing.T) {
	a, dir := newMediaAPI(t, 0)
	f := a.fixture("capped")
	ten := func(prefix string) []map[string]any {
		var m []map[string]any
		for i := 0; i < 10; i++ {
			m = append(m, map[string]any{"url": fmt.Sprintf("https://cdn.example.com/%s-%d.jpg", prefix, i)})
		}
		return m
	}
	for _, batch := range []string{"a", "b"} {
		var out mediaAddOut
		a.ok(f.sellerToken, mediaAddMutation, map[string]any{"p": f.productID, "media": ten(batch)}, &out)
		if len(out.ProductMediaAdd.UserErrors) > 0 || len(out.ProductMediaAdd.Media) != 10 {
			t.Fatalf("batch %s: %+v", batch, out.ProductMediaAdd)
		}
	}
	var out mediaAddOut
	a.ok(f.sellerToken, mediaAddMutation, map[string]any{"p": f.productID, "media": ten("c")[:1]}, &out)
	if len(out.ProductMediaAdd.UserErrors) != 1 || out.ProductMediaAdd.Product != nil || a.count("product_media") != 20 {
		t.Fatalf("the 21st medium: %+v, %d rows", out.ProductMediaAdd, a.count("product_media"))
	}
	// An upload refused by the cap stores no file either.
	resp := a.serve(multipartRequest(t, f.sellerToken, mediaAddMutation, uploadVars(f.productID, 1, "late"),
		[]uploadFile{{"late.png", "image/png", testPNG(t, 12, 9)}}))
	if err := json.Unmarshal(resp.Data, &out); err != nil || len(out.ProductMediaAdd.UserErrors) != 1 {
		t.Fatalf("a 21st upload: %s %v", resp.Data, err)
	}
	if files, err := os.ReadDir(dir); err != nil || len(files) != 0 {
		t.Fatalf("a refused upload left %d files (%v)", len(files), err)
	}
}
