package store_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"testing"

	"showcase/media"
	"showcase/store"
	"showcase/store/storetest"
)

// TestSeedDrawsProductImages: with a media store, every seeded product has
// one to four PNG images, stored through that store, positioned 0, 1, 2…,
// whose recorded size is the file's; the same seed draws the same files.
func TestSeedDrawsProductImages(t *testing.T) {
	ctx := context.Background()
	opts := store.SeedOptions{Users: 20, Creators: 5, Shops: 4, Products: 40, Videos: 20, LiveSessions: 2, Seed: 7}
	seed := func() (*store.DB, *media.Dir, []string) {
		db := storetest.NewDB(t)
		dir, err := media.NewDir(t.TempDir(), "")
		if err != nil {
			t.Fatal(err)
		}
		opts.Media = dir
		report, err := store.Seed(ctx, db, opts)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		if err := db.SelectContext(ctx, &names, `SELECT storage_name FROM product_media ORDER BY product_id, position`); err != nil {
			t.Fatal(err)
		}
		if report.Images != len(names) {
			t.Errorf("report says %d images, %d stored", report.Images, len(names))
		}
		return db, dir, names
	}
	db, dir, names := seed()
	var ok bool
	if err := db.GetContext(ctx, &ok, `SELECT bool_and(n BETWEEN 1 AND 4 AND positions = n) FROM (
			SELECT p.id, count(m.id) AS n, count(DISTINCT m.position) FILTER (WHERE m.position < 4) AS positions
			FROM products p LEFT JOIN product_media m ON m.product_id = p.id GROUP BY p.id) x`); err != nil || !ok {
		t.Fatalf("every product has 1-4 images at positions 0..n-1: %v (%v)", ok, err)
	}
	var counts []int
	if err := db.SelectContext(ctx, &counts, `SELECT DISTINCT count(*) FROM product_media GROUP BY product_id ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if len(counts) != 4 {
		t.Errorf("image counts per product: %v; want each of 1-4", counts)
	}
	var rows []struct {
		Name   string `db:"storage_name"`
		Width  int    `db:"width"`
		Height int    `db:"height"`
		Alt    string `db:"alt_text"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT storage_name, width, height, alt_text FROM product_media LIMIT 8`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		f, ct, err := dir.Open(ctx, r.Name)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		data, _ := io.ReadAll(f)
		f.Close()
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil || ct != "image/png" || cfg.Width != r.Width || cfg.Height != r.Height || r.Alt == "" {
			t.Errorf("%s: %v, %s, %dx%d, alt %q; recorded %dx%d", r.Name, err, ct, cfg.Width, cfg.Height, r.Alt, r.Width, r.Height)
		}
		if _, err := media.ReadImage(bytes.NewReader(data), media.DefaultMaxUploadBytes); err != nil {
			t.Errorf("%s is not an image the upload check accepts: %v", r.Name, err)
		}
	}
	_, _, again := seed()
	if !equalStrings(names, again) {
		t.Errorf("two seeds drew different images")
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
