package media

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProcessAcceptsRealImages(t *testing.T) {
	cases := []struct {
		file       string
		mime       string
		w, h       int
		squareSide int
	}{
		{"photo.jpg", "image/jpeg", 1200, 800, 800},
		{"small.png", "image/png", 400, 300, 300},
		{"tall.png", "image/png", 300, 1000, 300},
		{"cmyk.jpg", "image/jpeg", 800, 600, 600},
		{"png16.png", "image/png", 700, 500, 500},
		{"alpha.png", "image/png", 900, 600, 600},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			in := read(t, tc.file)
			res, err := ProcessBytes(in, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if res.SourceWidth != tc.w || res.SourceHeight != tc.h {
				t.Fatalf("source size %dx%d", res.SourceWidth, res.SourceHeight)
			}
			for _, r := range []Rendition{res.Card, res.Square} {
				if r.Mime != tc.mime {
					t.Errorf("mime %s", r.Mime)
				}
				if bytes.Equal(r.Data, in) {
					t.Error("the upload was stored as it came, not re-encoded")
				}
				cfg, format, err := image.DecodeConfig(bytes.NewReader(r.Data))
				if err != nil || cfg.Width != r.Width || cfg.Height != r.Height {
					t.Fatalf("rendition does not decode as %dx%d: %v %+v", r.Width, r.Height, err, cfg)
				}
				// What we serve is plain 8-bit colour every platform shows: no CMYK, no 16-bit.
				if format == "jpeg" && cfg.ColorModel != nil {
					img, _ := jpeg.Decode(bytes.NewReader(r.Data))
					if _, ok := img.(*image.CMYK); ok {
						t.Error("a CMYK JPEG was served as CMYK")
					}
				}
				if format == "png" {
					img, _ := png.Decode(bytes.NewReader(r.Data))
					switch img.(type) {
					case *image.RGBA64, *image.NRGBA64, *image.Gray16:
						t.Errorf("a 16-bit PNG was served as %T", img)
					}
				}
			}
			if res.Card.Width != tc.w || res.Card.Height != tc.h {
				t.Errorf("card rendition %dx%d, want the original ratio and size", res.Card.Width, res.Card.Height)
			}
			if res.Square.Width != tc.squareSide || res.Square.Height != tc.squareSide {
				t.Errorf("square rendition %dx%d, want %d", res.Square.Width, res.Square.Height, tc.squareSide)
			}
		})
	}
}

func TestProcessDropsMetadata(t *testing.T) {
	in := read(t, "photo.jpg")
	// An APP1 (EXIF) segment with a GPS-like marker right after SOI.
	exif := append([]byte{0xff, 0xe1, 0x00, 0x16}, []byte("Exif\x00\x00GPS-SECRET-25.03N")...)
	tagged := append(append([]byte{0xff, 0xd8}, exif...), in[2:]...)
	if _, err := jpeg.Decode(bytes.NewReader(tagged)); err != nil {
		t.Fatalf("test file is not a JPEG any more: %v", err)
	}
	res, err := ProcessBytes(tagged, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(res.Card.Data, []byte("GPS-SECRET")) || bytes.Contains(res.Square.Data, []byte("GPS-SECRET")) {
		t.Fatal("metadata survived re-encoding")
	}
}

func TestProcessCropsTheCentre(t *testing.T) {
	// Left third red, middle blue, right third green: the square must be all blue.
	img := image.NewRGBA(image.Rect(0, 0, 900, 300))
	for x := 0; x < 900; x++ {
		for y := 0; y < 300; y++ {
			switch {
			case x < 300:
				img.Pix[img.PixOffset(x, y)], img.Pix[img.PixOffset(x, y)+3] = 255, 255
			case x < 600:
				img.Pix[img.PixOffset(x, y)+2], img.Pix[img.PixOffset(x, y)+3] = 255, 255
			default:
				img.Pix[img.PixOffset(x, y)+1], img.Pix[img.PixOffset(x, y)+3] = 255, 255
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	res, err := ProcessBytes(buf.Bytes(), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	sq, _ := png.Decode(bytes.NewReader(res.Square.Data))
	for _, p := range []image.Point{{2, 2}, {150, 150}, {297, 297}} {
		r, g, b, _ := sq.At(p.X, p.Y).RGBA()
		if r != 0 || g != 0 || b < 0xf000 {
			t.Fatalf("square pixel %v is %d,%d,%d, want blue (the centre)", p, r>>8, g>>8, b>>8)
		}
	}
}

func TestProcessScalesLargeImagesDown(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, nil)
	res, err := ProcessBytes(buf.Bytes(), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if res.Card.Width != CardMaxSide || res.Card.Height != 1536 || res.Square.Width != SquareMaxSide {
		t.Fatalf("card %dx%d square %d", res.Card.Width, res.Card.Height, res.Square.Width)
	}
}

func TestProcessRefusesBadFiles(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want *Error
	}{
		{"non-image with an image extension", read(t, "notimage.jpg"), ErrFormat},
		{"truncated JPEG", read(t, "truncated.jpg"), ErrMalformed},
		{"PNG bomb", read(t, "bomb.png"), ErrTooManyPix},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrFormat},
		{"empty", nil, ErrFormat},
		{"JPEG magic, no image", []byte("\xff\xd8\xff\xe0garbage"), ErrMalformed},
		{"PNG magic, cut in the header", read(t, "small.png")[:20], ErrMalformed},
		{"truncated PNG", read(t, "small.png")[:len(read(t, "small.png"))/2], ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ProcessBytes(tc.data, DefaultLimits)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestProcessStopsReadingAtTheLimit proves an oversized upload is refused after reading just
// past the limit, not after reading the whole body.
func TestProcessStopsReadingAtTheLimit(t *testing.T) {
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: DefaultLimits.MaxPixels, MaxSide: DefaultLimits.MaxSide}
	r := &countingReader{r: strings.NewReader(strings.Repeat("x", 50<<20))}
	if _, err := Process(r, lim); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
	if r.n > lim.MaxBytes+64<<10 {
		t.Fatalf("read %d bytes for a %d-byte limit", r.n, lim.MaxBytes)
	}
	// A real photo over the limit is refused too.
	noise := image.NewRGBA(image.Rect(0, 0, 1500, 1500))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = byte(rng.UintN(256))
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, noise, &jpeg.Options{Quality: 100})
	if buf.Len() <= int(lim.MaxBytes) {
		t.Fatalf("noise JPEG only %d bytes", buf.Len())
	}
	if _, err := Process(&buf, lim); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized JPEG: %v", err)
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// FuzzProcess feeds arbitrary bytes (seeded with the real test files) through the pipeline:
// it must never panic, and whatever it accepts must be a decodable image within the limits.
func FuzzProcess(f *testing.F) {
	// Small seeds keep every execution fast: the real small files, a tiny JPEG, and the first
	// bytes of the big real files (headers, tables and a cut-off scan).
	for _, name := range []string{"small.png", "tall.png", "png16.png", "alpha.png", "notimage.jpg"} {
		f.Add(read(f, name))
	}
	for _, name := range []string{"photo.jpg", "cmyk.jpg"} {
		f.Add(read(f, name)[:2048])
	}
	var tiny bytes.Buffer
	_ = jpeg.Encode(&tiny, image.NewGray(image.Rect(0, 0, 24, 16)), nil)
	f.Add(tiny.Bytes())
	lim := Limits{MaxBytes: 256 << 10, MaxPixels: 1_000_000, MaxSide: 2000}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ProcessBytes(data, lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("refusal is not a media error: %v", err)
			}
			return
		}
		for _, r := range []Rendition{res.Card, res.Square} {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(r.Data))
			if err != nil || cfg.Width != r.Width || cfg.Height != r.Height || r.Width > CardMaxSide || r.Height > CardMaxSide {
				t.Fatalf("accepted upload produced a bad rendition: %v %+v", err, cfg)
			}
		}
		if res.Square.Width != res.Square.Height {
			t.Fatal("square rendition is not square")
		}
	})
}
