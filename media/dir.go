package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// URLPrefix is the path the server serves stored media under.
const URLPrefix = "/media/"

// validName matches the names this package makes: a lowercase hex SHA-256
// and a known extension. Anything else is never opened, so a request can not
// walk out of the folder.
var validName = regexp.MustCompile(`^[0-9a-f]{64}\.(png|jpg|gif|webp)$`)

// ValidName reports whether name is one a Store may hold.
func ValidName(name string) bool { return validName.MatchString(name) }

// Dir stores media as files in one folder (the embedded default:
// DATA_DIR/media). Files are written to a temporary name and renamed, so a
// reader never sees half a file.
type Dir struct {
	path string
	// base is prepended to URLPrefix in URLs: "" for paths relative to the
	// server, or an absolute origin such as "https://cdn.example.com".
	base string
}

var _ Store = (*Dir)(nil)

// NewDir opens (creating it if needed) a media folder at path. base is the
// origin URLs start with; "" makes them server-relative ("/media/…").
func NewDir(path, base string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("media folder: %w", err)
	}
	return &Dir{path: path, base: strings.TrimRight(base, "/")}, nil
}

// Put implements Store.
func (d *Dir) Put(ctx context.Context, name, contentType string, r io.Reader) error {
	if !ValidName(name) {
		return fmt.Errorf("media: invalid name %q", name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	final := filepath.Join(d.path, name)
	if _, err := os.Stat(final); err == nil {
		// Content-addressed: the same name holds the same bytes. The file
		// counts as stored now, so an orphan sweep leaves it alone while
		// the upload that wants it commits.
		now := time.Now()
		if err := os.Chtimes(final, now, now); err == nil {
			return nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("media: %w", err)
		}
		// Swept in between: write it again.
	}
	tmp, err := os.CreateTemp(d.path, ".upload-*")
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return fmt.Errorf("media: write: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("media: write: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	return nil
}

// Open implements Store.
func (d *Dir) Open(ctx context.Context, name string) (io.ReadSeekCloser, string, error) {
	if !ValidName(name) {
		return nil, "", ErrNotFound
	}
	ct, _ := ContentTypeForExt(name[strings.LastIndexByte(name, '.')+1:])
	f, err := os.Open(filepath.Join(d.path, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("media: %w", err)
	}
	return f, ct, nil
}

// List implements Store: the folder's files with valid names (temporary
// files of writes in progress are not listed).
func (d *Dir) List(ctx context.Context, after string, limit int) ([]Stored, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(d.path) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("media: list: %w", err)
	}
	var out []Stored
	for _, e := range entries {
		if len(out) >= limit {
			break
		}
		if e.Name() <= after || !e.Type().IsRegular() || !ValidName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("media: list: %w", err)
		}
		out = append(out, Stored{Name: e.Name(), ModTime: info.ModTime()})
	}
	return out, nil
}

// Delete implements Store.
func (d *Dir) Delete(ctx context.Context, name string) error {
	if !ValidName(name) {
		return fmt.Errorf("media: invalid name %q", name)
	}
	if err := os.Remove(filepath.Join(d.path, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("media: delete: %w", err)
	}
	return nil
}

// URL implements Store.
func (d *Dir) URL(name string) string { return d.base + URLPrefix + name }

// Handler serves GET /media/<name> from s with the stored content type,
// "Cache-Control: public, max-age=31536000, immutable" (names are content
// hashes, so a file never changes) and "X-Content-Type-Options: nosniff".
// Unknown or malformed names are 404. Range and conditional requests work as
// with http.ServeContent.
func Handler(s Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, URLPrefix)
		f, ct, err := s.Open(r.Context(), name)
		if errors.Is(err, ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, "media unavailable", http.StatusServiceUnavailable)
			return
		}
		defer f.Close()
		h := w.Header()
		h.Set("Content-Type", ct)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+strings.TrimSuffix(name, name[strings.LastIndexByte(name, '.'):])+`"`)
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		http.ServeContent(w, r, "", zeroTime, f)
	})
}

var zeroTime = time.Time{}
