package store

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Kinds of product media.
const (
	MediaKindImage = "IMAGE"
	MediaKindVideo = "VIDEO"
)

// MaxMediaPerProduct bounds a product's media.
const MaxMediaPerProduct = 20

// ProductMedia is one image or video of a product, in display order.
type ProductMedia struct {
	ID        int64  `db:"id"`
	ProductID int64  `db:"product_id"`
	Position  int    `db:"position"`
	Kind      string `db:"kind"`
	// StorageName is the media store's name of an uploaded image; URL the
	// address of an image added by URL. Exactly one is set for an image.
	StorageName *string   `db:"storage_name"`
	URL         *string   `db:"url"`
	AltText     string    `db:"alt_text"`
	Width       *int      `db:"width"`
	Height      *int      `db:"height"`
	ContentType *string   `db:"content_type"`
	SourcesJSON []byte    `db:"sources"`
	PosterURL   *string   `db:"poster_url"`
	CreatedAt   time.Time `db:"created_at"`
}

// VideoSource is one encoding of an external product video.
type VideoSource struct {
	URL      string `json:"url"`
	MimeType string `json:"mimeType"`
}

// Sources decodes a video's sources (nil for an image).
func (m *ProductMedia) Sources() []VideoSource {
	var out []VideoSource
	_ = json.Unmarshal(m.SourcesJSON, &out)
	return out
}

// MediaImage is a product image, as the schema's MediaImage shows it.
type MediaImage struct{ ProductMedia }

// ProductVideo is an external product video, as the schema's ProductVideo shows it.
type ProductVideo struct{ ProductMedia }

// Media is a product's image or video (*MediaImage or *ProductVideo).
type Media interface{ isMedia() }

func (*MediaImage) isMedia()   {}
func (*ProductVideo) isMedia() {}
func (*MediaImage) isNode()    {}
func (*ProductVideo) isNode()  {}

// AsMedia wraps a stored row in its schema type.
func (m *ProductMedia) AsMedia() Media {
	if m.Kind == MediaKindVideo {
		return &ProductVideo{*m}
	}
	return &MediaImage{*m}
}

const mediaColumns = `m.id, m.product_id, m.position, m.kind, m.storage_name, m.url, m.alt_text, m.width, m.height,
	m.content_type, m.sources, m.poster_url, m.created_at`

// NewMedia is one medium to add to a product. For an uploaded image set
// StorageName and ContentType (the file is already stored); for an image by
// URL set URL; for a video set Sources (and PosterURL).
type NewMedia struct {
	Kind        string
	StorageName string
	URL         string
	AltText     string
	Width       *int
	Height      *int
	ContentType string
	Sources     []VideoSource
	PosterURL   string
}

// Limits of a medium given by URL.
const (
	// MaxMediaURLLength bounds a URL given for an image, a video source or a poster.
	MaxMediaURLLength = 2048
	// MaxVideoMimeTypeLength bounds a video source's mimeType (codecs included).
	MaxVideoMimeTypeLength = 255
	// MaxVideoSources bounds a product video's sources.
	MaxVideoSources = 10
)

// VideoMimeTypes are the types a video source may have: files browsers
// play (MP4, WebM, Ogg, QuickTime) and adaptive streams (HLS, DASH).
// Parameters other than codecs are refused.
var VideoMimeTypes = []string{
	"video/mp4", "video/webm", "video/ogg", "video/quicktime",
	"application/vnd.apple.mpegurl", "application/x-mpegurl", "application/dash+xml",
}

// ReasonUnsupportedType marks a medium whose type is not accepted (an
// upload's bytes or a video source's mimeType).
const ReasonUnsupportedType = "UNSUPPORTED_TYPE"

// ValidateMediaURL checks a URL given for an image, a video source or a
// poster: an absolute https URL of at most MaxMediaURLLength characters,
// with a host, no user:password and no spaces or control characters. With
// allowLoopbackHTTP (development) an http URL whose host is localhost or a
// loopback address is accepted too.
func ValidateMediaURL(field, raw string, allowLoopbackHTTP bool) *Error {
	if len(raw) > MaxMediaURLLength {
		return FieldErrorf(EInvalid, field, "the URL must be at most %d characters", MaxMediaURLLength).Because(ReasonTooLong)
	}
	if raw == "" {
		return FieldErrorf(EInvalid, field, "give a URL").Because(ReasonRequired)
	}
	bad := strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	u, err := url.Parse(raw)
	if bad || err != nil || u.Host == "" || u.User != nil || u.Opaque != "" || u.Hostname() == "" {
		return FieldErrorf(EInvalid, field, "the URL must be an absolute https URL, e.g. https://cdn.example.com/clip.mp4")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowLoopbackHTTP && isLoopbackHost(u.Hostname()):
	default:
		return FieldErrorf(EInvalid, field, "the URL must be an absolute https URL, e.g. https://cdn.example.com/clip.mp4")
	}
	return nil
}

// isLoopbackHost reports whether host is localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NormalizeVideoMimeType checks a video source's mimeType and returns it as
// stored: the type lowercased, with its codecs parameter if given (e.g.
// `video/mp4; codecs="avc1.42E01E, mp4a.40.2"`). A type not in
// VideoMimeTypes, other parameters, or more than MaxVideoMimeTypeLength
// characters is an error for field.
func NormalizeVideoMimeType(field, raw string) (string, *Error) {
	if len(raw) > MaxVideoMimeTypeLength {
		return "", FieldErrorf(EInvalid, field, "mimeType must be at most %d characters", MaxVideoMimeTypeLength).Because(ReasonTooLong)
	}
	allowed := "mimeType must be one of " + strings.Join(VideoMimeTypes, ", ")
	mt, params, err := mime.ParseMediaType(raw)
	if err != nil || !slices.Contains(VideoMimeTypes, mt) {
		return "", FieldErrorf(EInvalid, field, "%s", allowed).Because(ReasonUnsupportedType)
	}
	for k := range params {
		if k != "codecs" {
			return "", FieldErrorf(EInvalid, field, "mimeType may carry only a codecs parameter, not %q", truncateRunes(k, 40)).Because(ReasonUnsupportedType)
		}
	}
	return mime.FormatMediaType(mt, params), nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Validate checks one new medium; field is its input path ("media.0").
// A video source's mimeType is normalized in place (see
// NormalizeVideoMimeType). allowLoopbackHTTP is ValidateMediaURL's.
func (m *NewMedia) Validate(field string, allowLoopbackHTTP bool) Problems {
	var p Problems
	if len(m.AltText) > 512 {
		p = append(p, FieldErrorf(EInvalid, field+".altText", "alt text must be at most 512 characters").Because(ReasonTooLong))
	}
	for _, d := range []struct {
		name string
		v    *int
	}{{"width", m.Width}, {"height", m.Height}} {
		if d.v != nil && (*d.v <= 0 || *d.v > 100_000) {
			p = append(p, FieldErrorf(EInvalid, field+"."+d.name, "%s must be between 1 and 100000 pixels", d.name))
		}
	}
	switch m.Kind {
	case MediaKindImage:
		if m.URL != "" {
			if e := ValidateMediaURL(field+".url", m.URL, allowLoopbackHTTP); e != nil {
				p = append(p, e)
			}
		}
	case MediaKindVideo:
		if m.Width != nil || m.Height != nil {
			p = append(p, FieldErrorf(EInvalid, field+".width", "width and height are for images; leave them out for a video"))
		}
		if len(m.Sources) == 0 || len(m.Sources) > MaxVideoSources {
			p = append(p, FieldErrorf(EInvalid, field+".videoSources", "give 1 to %d video sources", MaxVideoSources))
		}
		seen := map[string]bool{}
		for i, s := range m.Sources {
			at := fmt.Sprintf("%s.videoSources.%d", field, i)
			if e := ValidateMediaURL(at+".url", s.URL, allowLoopbackHTTP); e != nil {
				p = append(p, e)
			} else if seen[s.URL] {
				p = append(p, FieldErrorf(EInvalid, at+".url", "the same URL is given twice"))
			}
			seen[s.URL] = true
			mt, e := NormalizeVideoMimeType(at+".mimeType", s.MimeType)
			if e != nil {
				p = append(p, e)
			}
			m.Sources[i].MimeType = mt
		}
		if m.PosterURL != "" {
			if e := ValidateMediaURL(field+".posterUrl", m.PosterURL, allowLoopbackHTTP); e != nil {
				p = append(p, e)
			}
		}
	}
	if m.Kind != MediaKindVideo && m.PosterURL != "" {
		p = append(p, FieldErrorf(EInvalid, field+".posterUrl", "posterUrl is for videos (with videoSources)"))
	}
	return p
}

// AddProductMedia appends media to a product, after those it has, in one
// transaction. A product holds at most MaxMediaPerProduct media. store,
// when not nil, runs inside the transaction once the additions are known to
// fit and before the rows are written (it writes the uploaded files): a
// refused call stores no file, and a failed store writes no row.
func (db *DB) AddProductMedia(ctx context.Context, productID int64, media []NewMedia, store func() error) ([]*ProductMedia, error) {
	var out []*ProductMedia
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Lock the product so concurrent additions number positions in turn.
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(m.id) FROM (SELECT id FROM products WHERE id = $1 FOR UPDATE) p
			LEFT JOIN product_media m ON m.product_id = p.id`, productID); err != nil {
			return fmt.Errorf("count media: %w", err)
		}
		if n+len(media) > MaxMediaPerProduct {
			return FieldErrorf(EInvalid, "media", "a product has at most %d media; it has %d", MaxMediaPerProduct, n)
		}
		if store != nil {
			// Held until commit: the orphan sweep does not delete a file
			// stored here before its row is visible.
			if err := lockMediaWrites(ctx, tx); err != nil {
				return err
			}
			if err := store(); err != nil {
				return err
			}
		}
		var maxPos int
		if err := tx.GetContext(ctx, &maxPos, `SELECT coalesce(max(position), -1) FROM product_media WHERE product_id = $1`, productID); err != nil {
			return fmt.Errorf("media positions: %w", err)
		}
		for i, m := range media {
			var sources any
			if m.Kind == MediaKindVideo {
				b, _ := json.Marshal(m.Sources)
				sources = string(b)
			}
			row, err := getOne[ProductMedia](ctx, tx, `INSERT INTO product_media AS m
				(product_id, position, kind, storage_name, url, alt_text, width, height, content_type, sources, poster_url)
				VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''), $6, $7, $8, nullif($9, ''), $10::jsonb, nullif($11, ''))
				RETURNING `+mediaColumns,
				"product", productID, maxPos+1+i, m.Kind, m.StorageName, m.URL, m.AltText, m.Width, m.Height,
				m.ContentType, sources, m.PosterURL)
			if err != nil {
				return err
			}
			out = append(out, row)
		}
		return recordProductUpdated(ctx, tx, productID)
	})
	return out, err
}

// MediaByIDs loads media by id in one statement.
func (db *DB) MediaByIDs(ctx context.Context, ids []int64) (map[int64]*ProductMedia, error) {
	var rows []*ProductMedia
	if err := db.SelectContext(ctx, &rows, `SELECT `+mediaColumns+` FROM product_media m WHERE m.id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("media by ids: %w", err)
	}
	return indexByID(rows, func(m *ProductMedia) int64 { return m.ID }), nil
}

// MediaByProductIDs loads the media of several products, in display order,
// in one statement.
func (db *DB) MediaByProductIDs(ctx context.Context, productIDs []int64) (map[int64][]*ProductMedia, error) {
	var rows []*ProductMedia
	if err := db.SelectContext(ctx, &rows, `SELECT `+mediaColumns+` FROM product_media m
		WHERE m.product_id = ANY($1) ORDER BY m.product_id, m.position, m.id`, pq.Array(productIDs)); err != nil {
		return nil, fmt.Errorf("media by products: %w", err)
	}
	return groupByKey(productIDs, rows, func(m *ProductMedia) int64 { return m.ProductID }), nil
}

// ImagesByVariantIDs loads the image of each variant that has one, in one
// statement.
func (db *DB) ImagesByVariantIDs(ctx context.Context, variantIDs []int64) (map[int64]*ProductMedia, error) {
	var rows []struct {
		VariantID int64 `db:"variant_id"`
		ProductMedia
	}
	if err := db.SelectContext(ctx, &rows, `SELECT vi.variant_id, `+mediaColumns+`
		FROM variant_images vi JOIN product_media m ON m.id = vi.media_id
		WHERE vi.variant_id = ANY($1)`, pq.Array(variantIDs)); err != nil {
		return nil, fmt.Errorf("variant images: %w", err)
	}
	out := make(map[int64]*ProductMedia, len(variantIDs))
	for _, id := range variantIDs {
		out[id] = nil
	}
	for i := range rows {
		out[rows[i].VariantID] = &rows[i].ProductMedia
	}
	return out, nil
}

// RemoveProductMedia deletes some of a product's media (ids of other
// products are a NOT_FOUND error, and nothing is removed) and renumbers the
// rest. Stored files are left to the orphan sweep (MediaSweeper): they are
// named by content and may be shared.
func (db *DB) RemoveProductMedia(ctx context.Context, productID int64, ids []int64) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM product_media WHERE product_id = $1 AND id = ANY($2)`, productID, pq.Array(ids))
		if err != nil {
			return fmt.Errorf("remove media: %w", err)
		}
		if n, _ := res.RowsAffected(); int(n) != len(uniqueIDs(ids)) {
			return FieldErrorf(ENotFound, "mediaIds", "some media are not this product's")
		}
		if err := renumberMedia(ctx, tx, productID); err != nil {
			return err
		}
		return recordProductUpdated(ctx, tx, productID)
	})
}

// ReorderProductMedia puts the given media first, in the order given; the
// product's other media follow in their current order.
func (db *DB) ReorderProductMedia(ctx context.Context, productID int64, ids []int64) error {
	if len(uniqueIDs(ids)) != len(ids) {
		return FieldErrorf(EInvalid, "mediaIds", "a medium is listed twice")
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM product_media WHERE product_id = $1 AND id = ANY($2)`, productID, pq.Array(ids)); err != nil {
			return fmt.Errorf("reorder media: %w", err)
		}
		if n != len(ids) {
			return FieldErrorf(ENotFound, "mediaIds", "some media are not this product's")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE product_media m SET position = -1000000 + k.ord
			FROM unnest($2::bigint[]) WITH ORDINALITY AS k(id, ord)
			WHERE m.product_id = $1 AND m.id = k.id`, productID, pq.Array(ids)); err != nil {
			return fmt.Errorf("reorder media: %w", err)
		}
		if err := renumberMedia(ctx, tx, productID); err != nil {
			return err
		}
		return recordProductUpdated(ctx, tx, productID)
	})
}

// renumberMedia makes a product's positions 0, 1, 2… in their current order.
func renumberMedia(ctx context.Context, tx *sqlx.Tx, productID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE product_media m SET position = r.pos
		FROM (SELECT id, row_number() OVER (ORDER BY position, id) - 1 AS pos FROM product_media WHERE product_id = $1) r
		WHERE m.id = r.id AND m.position <> r.pos`, productID)
	if err != nil {
		return fmt.Errorf("renumber media: %w", err)
	}
	return nil
}

// SetVariantImage shows one of the product's images for a variant, or none
// when mediaID is nil. An image of another product, or a video, is refused.
func (db *DB) SetVariantImage(ctx context.Context, variantID int64, mediaID *int64) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if mediaID == nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM variant_images WHERE variant_id = $1`, variantID); err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `INSERT INTO variant_images (variant_id, media_id)
				SELECT v.id, m.id FROM product_variants v JOIN product_media m ON m.product_id = v.product_id AND m.kind = 'IMAGE'
				WHERE v.id = $1 AND m.id = $2
				ON CONFLICT (variant_id) DO UPDATE SET media_id = excluded.media_id`, variantID, *mediaID)
			if err != nil {
				return fmt.Errorf("set variant image: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return FieldErrorf(ENotFound, "imageId", "the image is not one of this product's images")
			}
		}
		return recordEvents(ctx, tx, TopicProductUpdated, `SELECT p.shop_id, `+productEventPayload+` AS payload
			FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = $1`, variantID)
	})
}

func uniqueIDs(ids []int64) map[int64]bool {
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// NewPoster is a video's poster image, already stored in the media store.
type NewPoster struct {
	StorageName string
	ContentType string
	Width       int
	Height      int
}

// VideoPoster is a video's poster image as stored.
type VideoPoster struct {
	ContentID   int64  `db:"content_id"`
	StorageName string `db:"storage_name"`
	ContentType string `db:"content_type"`
	Width       int    `db:"width"`
	Height      int    `db:"height"`
}

// SetVideoPoster gives a video its poster (replacing any). store, when not
// nil, runs inside the transaction before the row is written (it writes
// the file), as in AddProductMedia. A content that is not a video is a
// NOT_FOUND error.
func (db *DB) SetVideoPoster(ctx context.Context, contentID int64, p NewPoster, store func() error) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockMediaWrites(ctx, tx); err != nil {
			return err
		}
		if store != nil {
			if err := store(); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO video_posters (content_id, storage_name, content_type, width, height)
			SELECT id, $2, $3, $4, $5 FROM contents WHERE id = $1 AND kind = 'VIDEO'
			ON CONFLICT (content_id) DO UPDATE SET storage_name = excluded.storage_name, content_type = excluded.content_type,
				width = excluded.width, height = excluded.height`, contentID, p.StorageName, p.ContentType, p.Width, p.Height)
		if err != nil {
			return fmt.Errorf("set video poster: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(ENotFound, "no such video")
		}
		return nil
	})
}

// PostersByVideoIDs loads the posters of several videos in one statement
// (nil for a video without one).
func (db *DB) PostersByVideoIDs(ctx context.Context, ids []int64) (map[int64]*VideoPoster, error) {
	var rows []*VideoPoster
	if err := db.SelectContext(ctx, &rows, `SELECT content_id, storage_name, content_type, width, height
		FROM video_posters WHERE content_id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("video posters: %w", err)
	}
	out := make(map[int64]*VideoPoster, len(ids))
	for _, id := range ids {
		out[id] = nil
	}
	for _, r := range rows {
		out[r.ContentID] = r
	}
	return out, nil
}
