package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"showcase/store"
)

// seedImageSize is the side of the square demo product images, in pixels.
const seedImageSize = 256

// seedCategoryHues gives each demo category its own colour (HSV hue, degrees).
var seedCategoryHues = map[string]float64{
	"beauty": 330, "fashion": 265, "home": 30, "electronics": 205, "snacks": 45, "fitness": 140, "pets": 20, "toys": 185,
}

// seedImage is one drawn product image, ready to store.
type seedImage struct {
	productID int64
	position  int
	name      string
	data      []byte
	alt       string
}

// drawProductImages draws one to four images for each product: a diagonal
// gradient in its category's colour, a shape that differs per view, and the
// product's initials. Everything is derived from the product's id, title and
// category, so the same dataset always draws the same bytes; no randomness
// is taken from the seeder's generator (the rest of the dataset does not
// change when images are on). PNGs are encoded on every core.
func drawProductImages(products []seedProductLook) []seedImage {
	type job struct {
		p   seedProductLook
		pos int
	}
	var jobs []job
	for _, p := range products {
		// 1..4, spread evenly, from the hash's high bits: the low ones
		// follow the id's, and a shop's products (every Shops-th id) all
		// had the same count.
		n := 1 + int(uint32(p.id*2654435761)>>30)
		for k := 0; k < n; k++ {
			jobs = append(jobs, job{p, k})
		}
	}
	out := make([]seedImage, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc := png.Encoder{CompressionLevel: png.BestSpeed}
			for i := range next {
				j := jobs[i]
				var buf bytes.Buffer
				if err := enc.Encode(&buf, drawProductImage(j.p, j.pos)); err != nil {
					panic(err) // encoding an in-memory RGBA image can not fail
				}
				sum := sha256.Sum256(buf.Bytes())
				views := []string{"front", "side", "detail", "in use"}
				out[i] = seedImage{productID: j.p.id, position: j.pos, name: hex.EncodeToString(sum[:]) + ".png", data: buf.Bytes(),
					alt: fmt.Sprintf("%s, %s view", j.p.title, views[j.pos])}
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// seedProductLook is what a product's images are drawn from.
type seedProductLook struct {
	id       int64
	title    string
	category string
}

// seedGradientSteps is how many bands the gradient is drawn in: the image
// is paletted (one byte a pixel), which keeps drawing and PNG encoding fast.
const seedGradientSteps = 96

// drawProductImage draws one image: its background (gradient and shape)
// depends only on the category and the view, so it is drawn once and copied.
func drawProductImage(p seedProductLook, pos int) *image.Paletted {
	bg := seedBackground(p.category, pos%4)
	img := image.NewPaletted(bg.Rect, bg.Palette)
	copy(img.Pix, bg.Pix)
	drawInitials(img, initials(p.title), uint8(len(bg.Palette)-1))
	return img
}

type seedBackgroundKey struct {
	category string
	view     int
}

var (
	seedBackgroundsMu sync.Mutex
	seedBackgrounds   = map[seedBackgroundKey]*image.Paletted{}
)

// seedBackground draws (once) the gradient in a category's colour with a
// view's shape. The palette's last entry is white, for the initials.
func seedBackground(category string, view int) *image.Paletted {
	key := seedBackgroundKey{category, view}
	seedBackgroundsMu.Lock()
	defer seedBackgroundsMu.Unlock()
	if bg, ok := seedBackgrounds[key]; ok {
		return bg
	}
	hue := seedCategoryHues[category] + float64(view)*6
	from := hsv(hue, 0.55, 0.95)
	to := hsv(hue+25, 0.85, 0.55)
	palette := gradientPalette(from, to, seedGradientSteps, 70)
	const n = seedImageSize
	img := image.NewPaletted(image.Rect(0, 0, n, n), palette)
	// A shape per view, lighter than the background: a disc, a ring, a
	// square or a stripe.
	cx, cy, r := n/2, n/2, n/3
	for y := 0; y < n; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+n]
		for x := range row {
			band := uint8((x + y) * (seedGradientSteps - 1) / (2*n - 2))
			dx, dy := x-cx, y-cy
			d2 := dx*dx + dy*dy
			var in bool
			switch view {
			case 0:
				in = d2 < r*r
			case 1:
				in = d2 < r*r && d2 > (r-n/14)*(r-n/14)
			case 2:
				in = abs(dx) < r*3/4 && abs(dy) < r*3/4
			default:
				in = abs(dx-dy) < n/8
			}
			if in {
				band += seedGradientSteps
			}
			row[x] = band
		}
	}
	seedBackgrounds[key] = img
	return img
}

// drawInitials writes text centred in palette colour c, scaled up from a
// 7×13 bitmap font.
func drawInitials(img *image.Paletted, text string, c uint8) {
	face := basicfont.Face7x13
	small := image.NewAlpha(image.Rect(0, 0, 7*len(text), 13))
	d := font.Drawer{Dst: small, Src: image.Opaque, Face: face, Dot: fixed.P(0, 11)}
	d.DrawString(text)
	const scale = 7
	w, h := small.Bounds().Dx()*scale, small.Bounds().Dy()*scale
	x0, y0 := (seedImageSize-w)/2, (seedImageSize-h)/2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if small.AlphaAt(x/scale, y/scale).A > 127 {
				img.SetColorIndex(x0+x, y0+y, c)
			}
		}
	}
}

// gradientPalette is a drawing's palette: steps bands from one colour to
// another, the same bands lightened by white at the given alpha (a shape
// drawn over the background), then opaque white (text) at index 2×steps.
func gradientPalette(from, to color.RGBA, steps int, light uint8) color.Palette {
	palette := make(color.Palette, 0, 2*steps+1)
	for i := 0; i < steps; i++ {
		palette = append(palette, mix(from, to, float64(i)/float64(steps-1)))
	}
	over := color.RGBA{255, 255, 255, light}
	for i := 0; i < steps; i++ {
		palette = append(palette, blend(palette[i].(color.RGBA), over))
	}
	return append(palette, color.RGBA{255, 255, 255, 255})
}

// initials are the first letters of a title's first two words, upper case.
func initials(title string) string {
	var b strings.Builder
	for _, w := range strings.Fields(title) {
		if b.Len() == 2 {
			break
		}
		b.WriteString(strings.ToUpper(w[:1]))
	}
	return b.String()
}

func hsv(h, s, v float64) color.RGBA {
	for h < 0 {
		h += 360
	}
	for h >= 360 {
		h -= 360
	}
	c := v * s
	x := c * (1 - absf(modf(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	return color.RGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}

func mix(a, b color.RGBA, t float64) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

func blend(dst, src color.RGBA) color.RGBA {
	a := float64(src.A) / 255
	l := func(d, s uint8) uint8 { return uint8(float64(d)*(1-a) + float64(s)*a) }
	return color.RGBA{l(dst.R, src.R), l(dst.G, src.G), l(dst.B, src.B), 255}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func absf(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func modf(x, y float64) float64 { return x - y*float64(int(x/y)) }

// startImages draws and stores every product's images in the background
// (PostgreSQL meanwhile loads the rest of the dataset), once the products
// are chosen; finishImages waits for them and adds them as the products'
// media.
func (s *seeder) startImages() error {
	if s.opts.Media == nil {
		return nil
	}
	looks := make([]seedProductLook, 0, s.opts.Products)
	for id := int64(1); id <= int64(s.opts.Products); id++ {
		looks = append(looks, seedProductLook{id: id, title: s.productTitle[id], category: seedCategories[s.productCat[id]].Name})
	}
	done := make(chan seedImagesResult, 1)
	s.imagesDone = done
	go func() {
		imgs := drawProductImages(looks)
		for _, im := range imgs {
			if err := s.opts.Media.Put(s.ctx, im.name, "image/png", bytes.NewReader(im.data)); err != nil {
				done <- seedImagesResult{err: fmt.Errorf("store demo image: %w", err)}
				return
			}
		}
		done <- seedImagesResult{images: imgs}
	}()
	return nil
}

type seedImagesResult struct {
	images []seedImage
	err    error
}

func (s *seeder) finishImages() error {
	if s.imagesDone == nil {
		return nil
	}
	res := <-s.imagesDone
	s.imagesDone = nil
	if res.err != nil {
		return res.err
	}
	imgs := res.images
	s.report.Images = len(imgs)
	return s.copyRows("images", "product_media", []string{"product_id", "position", "kind", "storage_name", "alt_text", "width", "height",
		"content_type"}, len(imgs), func(i int) []any {
		im := imgs[i]
		return []any{im.productID, im.position, store.MediaKindImage, im.name, im.alt, seedImageSize, seedImageSize, "image/png"}
	})
}
