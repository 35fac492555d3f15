// Package media stores the files sellers upload (product images) behind a
// small interface, so that the embedded default (a folder under the data
// directory) can be replaced by an S3-compatible bucket without touching the
// API. It also checks uploads: their real type is sniffed from their bytes and
// their dimensions read from their header, whatever name or type the client
// claimed.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // registers GIF for image.DecodeConfig
	_ "image/jpeg" // registers JPEG
	_ "image/png"  // registers PNG
	"io"
	"mime"
	"net/http"
	"time"

	_ "golang.org/x/image/webp" // registers WebP
)

// DefaultMaxUploadBytes is the largest file accepted by default: 10 MiB.
const DefaultMaxUploadBytes = 10 << 20

// MaxPixels bounds width × height of an accepted image (25 megapixels, e.g. 5000×5000), so a
// small file that claims a huge canvas (a decompression bomb) is refused.
const MaxPixels = 25_000_000

// MaxDecodedBytes bounds the memory one image takes once decoded (width ×
// height × bytes per pixel: 100 MB, MaxPixels at 8 bits per RGBA channel),
// so a small file of 16-bit pixels cannot make the server allocate more.
const MaxDecodedBytes = MaxPixels * 4

// DecodeSlots is how many images a process decodes at once; other uploads
// wait for a slot.
const DecodeSlots = 2

var decodeSlots = make(chan struct{}, DecodeSlots)

// bytesPerPixel is what a decoded pixel of model takes in memory.
func bytesPerPixel(model color.Model) int64 {
	switch model {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.Gray16Model:
		return 2
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Alpha16Model:
		return 2
	}
	return 4
}

// Store keeps media files. Names are chosen by the caller (content hashes, so
// the same bytes always get the same name and a stored file never changes).
// Dir (a local folder) is the embedded default; S3 keeps them in an
// S3-compatible bucket (Put as PutObject, Open as GetObject, List as
// ListObjectsV2 with StartAfter and MaxKeys, Delete as DeleteObject, URL as
// this server's /media/ or a CDN's address).
type Store interface {
	// Put stores r's bytes under name with its content type. Putting a name
	// that exists keeps (by construction) the same bytes and makes the file
	// count as just stored (its ModTime is now), so an orphan sweep's grace
	// period starts again for a file an upload in flight is about to use.
	Put(ctx context.Context, name, contentType string, r io.Reader) error
	// Open returns a stored file and its content type; ErrNotFound when
	// there is none.
	Open(ctx context.Context, name string) (io.ReadSeekCloser, string, error)
	// URL is the address clients fetch the file from.
	URL(name string) string
	// List returns at most limit stored files whose names sort after
	// after ("" for the first), in name order.
	List(ctx context.Context, after string, limit int) ([]Stored, error)
	// Delete removes a stored file; a name that is not stored is no error.
	Delete(ctx context.Context, name string) error
}

// Stored is one stored file, as List reports it.
type Stored struct {
	Name string
	// ModTime is when the file was last Put.
	ModTime time.Time
}

// ErrNotFound is returned by Open for an unknown name.
var ErrNotFound = errors.New("media: not found")

// Image is an accepted upload, ready to store.
type Image struct {
	// Name is <sha256 of the bytes>.<ext>, e.g. "9f86…08.png".
	Name        string
	ContentType string
	Width       int
	Height      int
	Data        []byte
}

// Problem says why an upload was refused, in words for the seller. Reason is
// a stable code: TOO_LARGE, UNSUPPORTED_TYPE or INVALID_IMAGE.
type Problem struct {
	Reason  string
	Message string
}

func (p *Problem) Error() string { return p.Message }

// Reasons an upload is refused.
const (
	ReasonTooLarge        = "TOO_LARGE"
	ReasonUnsupportedType = "UNSUPPORTED_TYPE"
	ReasonInvalidImage    = "INVALID_IMAGE"
)

// accepted maps sniffed content types to the extension files are stored with.
var accepted = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpg",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// formats maps image.DecodeConfig's format names to content types.
var formats = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}

// ContentTypeForExt returns the content type files named with ext are served
// with, and whether ext is one this package stores.
func ContentTypeForExt(ext string) (string, bool) {
	for ct, e := range accepted {
		if e == ext {
			return ct, true
		}
	}
	return "", false
}

// ReadImage reads at most maxBytes from r and accepts it only if it is a
// whole PNG, JPEG, GIF or WebP image: the type is sniffed from the bytes
// (http.DetectContentType), never taken from the client, and the header must
// decode (image.DecodeConfig) to the same format with sane dimensions. A
// truncated file whose header still decodes is refused too: the whole image
// is decoded once. It returns a *Problem for a file the seller must fix, or
// another error when reading failed.
func ReadImage(r io.Reader, maxBytes int64) (*Image, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, &Problem{ReasonTooLarge, fmt.Sprintf("the file is larger than %s", humanBytes(maxBytes))}
	}
	if len(data) == 0 {
		return nil, &Problem{ReasonInvalidImage, "the file is empty"}
	}
	sniffed := http.DetectContentType(data)
	ext, ok := accepted[sniffed]
	if !ok {
		return nil, &Problem{ReasonUnsupportedType, fmt.Sprintf("the file is %s; PNG, JPEG, GIF and WebP images are accepted", describe(sniffed))}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || formats[format] != sniffed {
		return nil, &Problem{ReasonInvalidImage, "the file is not a readable image (damaged or truncated)"}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, &Problem{ReasonInvalidImage, fmt.Sprintf("the image is %d×%d pixels; at most %d pixels in all are accepted", cfg.Width, cfg.Height, MaxPixels)}
	}
	if decoded := int64(cfg.Width) * int64(cfg.Height) * bytesPerPixel(cfg.ColorModel); decoded > MaxDecodedBytes {
		return nil, &Problem{ReasonInvalidImage, fmt.Sprintf("the image is %d×%d pixels of %d bytes each; at most %d MB decoded are accepted (use 8 bits per channel, or fewer pixels)",
			cfg.Width, cfg.Height, bytesPerPixel(cfg.ColorModel), MaxDecodedBytes/1_000_000)}
	}
	// At most DecodeSlots images are decoded at once in a process, so
	// concurrent uploads cannot hold more than that much decoded memory.
	decodeSlots <- struct{}{}
	_, _, err = image.Decode(bytes.NewReader(data))
	<-decodeSlots
	if err != nil {
		return nil, &Problem{ReasonInvalidImage, "the file is not a readable image (damaged or truncated)"}
	}
	sum := sha256.Sum256(data)
	return &Image{Name: hex.EncodeToString(sum[:]) + "." + ext, ContentType: sniffed, Width: cfg.Width, Height: cfg.Height, Data: data}, nil
}

func describe(contentType string) string {
	switch contentType {
	case "application/octet-stream":
		return "not a recognised file type"
	default:
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			mt = contentType
		}
		return "of type " + mt // "text/plain", not "text/plain; charset=utf-8"
	}
}

func humanBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
