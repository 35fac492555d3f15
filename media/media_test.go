package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"testing"

	"showcase/media"
)

// pngHeader is the start of a PNG claiming w×h pixels: signature and IHDR.
func pngHeader(w, h uint32) []byte { return pngHeaderDepth(w, h, 8) }

// pngHeaderDepth is pngHeader with depth bits per RGBA channel.
func pngHeaderDepth(w, h uint32, depth byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, 6 // RGBA
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestReadImage(t *testing.T) {
	var ok bytes.Buffer
	_ = png.Encode(&ok, image.NewGray(image.Rect(0, 0, 3, 2)))
	img, err := media.ReadImage(bytes.NewReader(ok.Bytes()), 1<<20)
	if err != nil || img.Width != 3 || img.Height != 2 || img.ContentType != "image/png" || len(img.Name) != 64+4 || !media.ValidName(img.Name) {
		t.Fatalf("ReadImage = %+v, %v", img, err)
	}
	for name, tc := range map[string]struct {
		data   []byte
		max    int64
		reason string
	}{
		"over the limit":            {ok.Bytes(), int64(ok.Len() - 1), media.ReasonTooLarge},
		"a decompression bomb":      {pngHeader(20000, 20000), 1 << 20, media.ReasonInvalidImage},
		"a header and nothing else": {pngHeader(10, 10), 1 << 20, media.ReasonInvalidImage},
		"html":                      {[]byte("<html><body>hi</body></html>"), 1 << 20, media.ReasonUnsupportedType},
	} {
		_, err := media.ReadImage(bytes.NewReader(tc.data), tc.max)
		var p *media.Problem
		if !errors.As(err, &p) || p.Reason != tc.reason {
			t.Errorf("%s: %v, want %s", name, err, tc.reason)
		}
	}
}

// TestSmallFilesCannotDecodeHuge: a few bytes declaring 3,600×3,600 pixels
// of 16-bit RGBA (13 MP, under MaxPixels, but 104 MB decoded) are refused
// before anything is decoded; the same pixels at 8 bits (52 MB) get as far
// as decoding (and fail there, being only a header).
func TestSmallFilesCannotDecodeHuge(t *testing.T) {
	_, err := media.ReadImage(bytes.NewReader(pngHeaderDepth(3600, 3600, 16)), 10<<20)
	var p *media.Problem
	if !errors.As(err, &p) || p.Reason != media.ReasonInvalidImage || !bytes.Contains([]byte(p.Message), []byte("decoded")) {
		t.Fatalf("16-bit 3600×3600: %v", err)
	}
	_, err = media.ReadImage(bytes.NewReader(pngHeaderDepth(3600, 3600, 8)), 10<<20)
	if !errors.As(err, &p) || bytes.Contains([]byte(p.Message), []byte("decoded")) {
		t.Fatalf("8-bit 3600×3600 should pass the decoded-size check: %v", err)
	}
}
