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

// TestSeedDrawsVideoPosters: with a media store, every seeded video has a
// 9:16 PNG poster stored through that store, whose recorded size is the
// file's, and distinct videos get distinct files; the same seed draws the
// same posters.
func TestSeedDrawsVideoPosters(t *testing.T) {
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
		if err := db.SelectContext(ctx, &names, `SELECT p.storage_name FROM contents c LEFT JOIN video_posters p ON p.content_id = c.id
			WHERE c.kind = 'VIDEO' ORDER BY c.id`); err != nil {
			t.Fatal(err)
		}
		if report.Posters != opts.Videos || len(names) != opts.Videos {
			t.Fatalf("report says %d posters, %d videos have one; want %d", report.Posters, len(names), opts.Videos)
		}
		return db, dir, names
	}
	db, dir, names := seed()
	distinct := map[string]bool{}
	for _, n := range names {
		distinct[n] = true
	}
	if len(distinct) < len(names)*3/4 {
		t.Errorf("%d distinct posters for %d videos", len(distinct), len(names))
	}
	var rows []store.VideoPoster
	if err := db.SelectContext(ctx, &rows, `SELECT content_id, storage_name, content_type, width, height FROM video_posters`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		f, ct, err := dir.Open(ctx, r.StorageName)
		if err != nil {
			t.Fatalf("%s: %v", r.StorageName, err)
		}
		data, _ := io.ReadAll(f)
		f.Close()
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil || ct != "image/png" || r.ContentType != "image/png" || cfg.Width != r.Width || cfg.Height != r.Height || r.Width*16 != r.Height*9 {
			t.Errorf("%s: %v, %s, %dx%d; recorded %dx%d", r.StorageName, err, ct, cfg.Width, cfg.Height, r.Width, r.Height)
		}
	}
	if _, _, again := seed(); !equalStrings(names, again) {
		t.Errorf("two seeds drew different posters")
	}
}
