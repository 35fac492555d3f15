package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Size of the demo videos' posters, in pixels: 9:16, like the videos.
const (
	seedPosterWidth  = 216
	seedPosterHeight = 384
)

// posters draws a poster for every demo video (after videos(): it reads
// each video's first card), stores it and records it in video_posters. A
// poster is a vertical gradient in the first card's category colour, the
// product's initials and a play button; it depends only on that product
// and the video's id, so the same dataset draws the same bytes. Nothing is
// drawn without SeedOptions.Media.
func (s *seeder) posters() error {
	if s.opts.Media == nil {
		return nil
	}
	type poster struct {
		id   int64
		name string
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	var out []poster
	for id := int64(1); id <= int64(s.opts.Videos); id++ {
		cards := s.cards[id]
		if len(cards) == 0 {
			continue
		}
		p := cards[0]
		img := drawPoster(seedCategories[s.productCat[p]].Name, s.productTitle[p], id)
		var buf bytes.Buffer
		if err := enc.Encode(&buf, img); err != nil {
			return fmt.Errorf("demo poster: %w", err)
		}
		sum := sha256.Sum256(buf.Bytes())
		name := hex.EncodeToString(sum[:]) + ".png"
		if err := s.opts.Media.Put(s.ctx, name, "image/png", bytes.NewReader(buf.Bytes())); err != nil {
			return fmt.Errorf("store demo poster: %w", err)
		}
		out = append(out, poster{id, name})
	}
	s.report.Posters = len(out)
	return s.copyRows("posters", "video_posters", []string{"content_id", "storage_name", "content_type", "width", "height"}, len(out), func(i int) []any {
		return []any{out[i].id, out[i].name, "image/png", seedPosterWidth, seedPosterHeight}
	})
}

// drawPoster draws one 9:16 poster: a top-to-bottom gradient in the
// category's hue (shifted a little per video, so neighbouring posters
// differ), a lighter disc behind a white play triangle, and the product's
// initials above it.
func drawPoster(category, title string, videoID int64) *image.Paletted {
	const w, h, steps = seedPosterWidth, seedPosterHeight, 64
	hue := seedCategoryHues[category] + float64(videoID%7)*5
	from := hsv(hue, 0.45, 0.92)
	to := hsv(hue+30, 0.9, 0.35)
	palette := gradientPalette(from, to, steps, 60)
	white := uint8(2 * steps)
	img := image.NewPaletted(image.Rect(0, 0, w, h), palette)
	cx, cy, r := w/2, h*5/8, w/5
	for y := 0; y < h; y++ {
		band := uint8(y * (steps - 1) / (h - 1))
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for x := range row {
			dx, dy := x-cx, y-cy
			c := band
			if dx*dx+dy*dy < r*r {
				c += steps
			}
			// The play triangle: pointing right, inside the disc.
			tx, ty := x-(cx-r/3), abs(dy)
			if tx >= 0 && tx < r*5/6 && ty*5 < (r*5/6-tx)*3 {
				c = white
			}
			row[x] = c
		}
	}
	drawText(img, initials(title), white, w/2, h*5/16, 6)
	return img
}

// drawText writes text centred on (cx, cy) in palette colour c, the 7×13
// bitmap font scaled up scale times.
func drawText(img *image.Paletted, text string, c uint8, cx, cy, scale int) {
	small := image.NewAlpha(image.Rect(0, 0, 7*len(text), 13))
	d := font.Drawer{Dst: small, Src: image.Opaque, Face: basicfont.Face7x13, Dot: fixed.P(0, 11)}
	d.DrawString(text)
	tw, th := small.Bounds().Dx()*scale, small.Bounds().Dy()*scale
	x0, y0 := cx-tw/2, cy-th/2
	for y := 0; y < th; y++ {
		for x := 0; x < tw; x++ {
			if small.AlphaAt(x/scale, y/scale).A > 127 {
				img.SetColorIndex(x0+x, y0+y, c)
			}
		}
	}
}
