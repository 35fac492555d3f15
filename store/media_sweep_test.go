package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"showcase/media"
	"showcase/store"
	"showcase/store/storetest"
)

// sweepName is a valid stored name for the bytes of s.
func sweepName(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:]) + ".png"
}

// putAged stores a file named for s and dates it age ago.
func putAged(t *testing.T, files *media.Dir, dir, s string, age time.Duration) string {
	t.Helper()
	name := sweepName(s)
	if err := files.Put(context.Background(), name, "image/png", bytes.NewReader([]byte(s))); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(filepath.Join(dir, name), at, at); err != nil {
		t.Fatal(err)
	}
	return name
}

func storedNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestMediaSweepRemovesOrphans: files no product medium or video poster
// names, older than the grace period, are removed; named files, and
// orphans younger than the grace period (an upload in flight), are kept.
// Sweeps are bounded and go on where the last stopped.
func TestMediaSweepRemovesOrphans(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	contentID, productID := contentFixture(t, db)
	dir := t.TempDir()
	files, err := media.NewDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	named := putAged(t, files, dir, "named", 2*time.Hour)
	if _, err := db.AddProductMedia(ctx, productID, []store.NewMedia{{Kind: store.MediaKindImage, StorageName: named, ContentType: "image/png"}}, nil); err != nil {
		t.Fatal(err)
	}
	removedRow := putAged(t, files, dir, "its row was deleted", 2*time.Hour)
	added, err := db.AddProductMedia(ctx, productID, []store.NewMedia{{Kind: store.MediaKindImage, StorageName: removedRow, ContentType: "image/png"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveProductMedia(ctx, productID, []int64{added[0].ID}); err != nil {
		t.Fatal(err)
	}
	poster := putAged(t, files, dir, "poster", 2*time.Hour)
	if err := db.SetVideoPoster(ctx, contentID, store.NewPoster{StorageName: poster, ContentType: "image/png", Width: 9, Height: 16}, nil); err != nil {
		t.Fatal(err)
	}
	neverCommitted := putAged(t, files, dir, "never committed", 2*time.Hour)
	inFlight := putAged(t, files, dir, "in flight", time.Minute)
	// Not a stored name: never listed, never removed.
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	s := &store.MediaSweeper{DB: db, Files: files, Grace: time.Hour}
	got, err := s.Sweep(ctx)
	if err != nil || got.Removed != 2 || got.Examined != 5 || got.Skipped {
		t.Fatalf("Sweep = %+v, %v; want 5 examined, 2 removed", got, err)
	}
	want := []string{named, poster, inFlight, "README"}
	slices.Sort(want)
	if left := storedNames(t, dir); !slices.Equal(left, want) {
		t.Errorf("left %v, want %v (removed %s and %s)", left, want, removedRow, neverCommitted)
	}

	t.Run("bounded batches go on where the last stopped", func(t *testing.T) {
		var orphans []string
		for i := range 7 {
			orphans = append(orphans, putAged(t, files, dir, fmt.Sprint("orphan ", i), 2*time.Hour))
		}
		b := &store.MediaSweeper{DB: db, Files: files, Grace: time.Hour, Batch: 3}
		removed := 0
		for range 4 { // 10 files: 3 + 3 + 3 + 1
			got, err := b.Sweep(ctx)
			if err != nil || got.Examined > 3 {
				t.Fatalf("Sweep = %+v, %v; want at most 3 examined", got, err)
			}
			removed += got.Removed
		}
		if removed != 7 {
			t.Errorf("removed %d in 4 bounded sweeps, want 7", removed)
		}
		for _, n := range orphans {
			if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
				t.Errorf("orphan %s left: %v", n, err)
			}
		}
	})

	t.Run("one replica at a time", func(t *testing.T) {
		orphan := putAged(t, files, dir, "while another sweeps", 2*time.Hour)
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7311540012)`); err != nil {
			t.Fatal(err)
		}
		got, err := (&store.MediaSweeper{DB: db, Files: files, Grace: time.Hour}).Sweep(ctx)
		if err != nil || !got.Skipped || got.Removed != 0 {
			t.Errorf("Sweep while another replica sweeps = %+v, %v; want skipped", got, err)
		}
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(7311540012)`); err != nil {
			t.Fatal(err)
		}
		if got, err := (&store.MediaSweeper{DB: db, Files: files, Grace: time.Hour}).Sweep(ctx); err != nil || got.Removed != 1 {
			t.Errorf("Sweep after = %+v, %v; want %s removed", got, err, orphan)
		}
	})
}

// TestMediaSweepWaitsForUploadsInFlight: with no grace period at all, a
// file stored by an upload whose row is not committed yet is not removed:
// the sweep waits for the upload's transaction, then sees its row.
func TestMediaSweepWaitsForUploadsInFlight(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	_, productID := contentFixture(t, db)
	dir := t.TempDir()
	files, err := media.NewDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	name := sweepName("uploading")
	stored, release := make(chan struct{}), make(chan struct{})
	uploaded := make(chan error, 1)
	go func() {
		_, err := db.AddProductMedia(ctx, productID, []store.NewMedia{{Kind: store.MediaKindImage, StorageName: name, ContentType: "image/png"}}, func() error {
			err := files.Put(ctx, name, "image/png", bytes.NewReader([]byte("uploading")))
			close(stored)
			<-release
			return err
		})
		uploaded <- err
	}()
	<-stored
	swept := make(chan store.MediaSwept, 1)
	sweepErr := make(chan error, 1)
	go func() {
		got, err := (&store.MediaSweeper{DB: db, Files: files, Grace: -1}).Sweep(ctx)
		swept <- got
		sweepErr <- err
	}()
	// The sweep waits on the media write lock the upload holds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweep never waited for the upload")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if err := <-uploaded; err != nil {
		t.Fatal(err)
	}
	if got, err := <-swept, <-sweepErr; err != nil || got.Removed != 0 {
		t.Fatalf("Sweep = %+v, %v; want nothing removed", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
		t.Errorf("the upload's file: %v", err)
	}
}
