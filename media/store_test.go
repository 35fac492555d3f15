package media_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"showcase/media"
)

func nameOf(data string) string {
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:]) + ".png"
}

// testStore is what every media.Store must do: Put and Open round-trip with
// the content type, unknown names are ErrNotFound, List pages in name
// order from after, Delete removes (and a missing name is no error), and
// putting a name again renews its ModTime.
func testStore(t *testing.T, s media.Store) {
	ctx := context.Background()
	var names []string
	for _, d := range []string{"one", "two", "three", "four", "five"} {
		n := nameOf(d)
		if err := s.Put(ctx, n, "image/png", strings.NewReader(d)); err != nil {
			t.Fatalf("Put: %v", err)
		}
		names = append(names, n)
	}
	f, ct, err := s.Open(ctx, nameOf("two"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != "two" || ct != "image/png" {
		t.Errorf("Open = %q, %q", got, ct)
	}
	if _, _, err := s.Open(ctx, nameOf("missing")); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Open(missing) = %v, want ErrNotFound", err)
	}
	if _, _, err := s.Open(ctx, "../etc/passwd"); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Open(bad name) = %v, want ErrNotFound", err)
	}
	var listed []string
	for after := ""; ; {
		page, err := s.List(ctx, after, 2)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(page) > 2 {
			t.Fatalf("List(limit 2) gave %d", len(page))
		}
		for _, p := range page {
			listed = append(listed, p.Name)
			if time.Since(p.ModTime) > time.Minute || time.Until(p.ModTime) > time.Minute {
				t.Errorf("%s: ModTime %v", p.Name, p.ModTime)
			}
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].Name
	}
	want := append([]string(nil), names...)
	sortStrings(want)
	if strings.Join(listed, ",") != strings.Join(want, ",") {
		t.Errorf("listed %v, want %v", listed, want)
	}
	if err := s.Delete(ctx, nameOf("three")); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, nameOf("three")); err != nil {
		t.Errorf("Delete again: %v", err)
	}
	if _, _, err := s.Open(ctx, nameOf("three")); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Open(deleted) = %v", err)
	}
	if left, _ := s.List(ctx, "", 10); len(left) != 4 {
		t.Errorf("%d left after a delete, want 4", len(left))
	}
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func TestDirStore(t *testing.T) {
	d, err := media.NewDir(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, d)
}

// newFakeS3 starts an S3-compatible server in process, on loopback, with
// one bucket, and returns its endpoint.
func newFakeS3(t *testing.T, bucket string) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestS3Store runs the same checks against the S3 implementation, talking
// to an S3-compatible server (gofakes3) started on loopback; the files are
// served by the server's /media/ handler read from the bucket, or named
// under a public URL.
func TestS3Store(t *testing.T) {
	ctx := context.Background()
	endpoint := newFakeS3(t, "showcase-media")
	cfg := media.S3Config{Endpoint: endpoint, Bucket: "showcase-media", AccessKeyID: "test", SecretAccessKey: "test-secret", Prefix: "media/"}
	s, err := media.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)

	name := nameOf("one")
	if u := s.URL(name); u != "/media/"+name {
		t.Errorf("URL = %q", u)
	}
	rec := httptest.NewRecorder()
	media.Handler(s).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/media/"+name, nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "one" || rec.Header().Get("Content-Type") != "image/png" ||
		rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("GET /media/%s: %d %q %v", name, rec.Code, rec.Body.String(), rec.Header())
	}
	rec = httptest.NewRecorder()
	media.Handler(s).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/media/"+nameOf("three"), nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET a deleted file: %d", rec.Code)
	}

	cdn := cfg
	cdn.PublicURL = "https://cdn.example.com/"
	c, err := media.NewS3(ctx, cdn)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.URL(name); u != "https://cdn.example.com/media/"+name {
		t.Errorf("URL with a public URL = %q", u)
	}

	for label, bad := range map[string]media.S3Config{
		"no such bucket":    {Endpoint: endpoint, Bucket: "nope-bucket", AccessKeyID: "a", SecretAccessKey: "b"},
		"http not loopback": {Endpoint: "http://s3.example.com", Bucket: "b-b", AccessKeyID: "a", SecretAccessKey: "b"},
		"not a URL":         {Endpoint: "s3.example.com", Bucket: "b-b", AccessKeyID: "a", SecretAccessKey: "b"},
		"no credentials":    {Endpoint: endpoint, Bucket: "showcase-media"},
	} {
		if _, err := media.NewS3(ctx, bad); err == nil {
			t.Errorf("%s: NewS3 accepted %+v", label, bad)
		}
	}
}
