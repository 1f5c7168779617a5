// Package media turns uploaded card images into safe, re-encoded renditions: the size limit is
// applied while reading, the header is checked before any pixel is decoded, and nothing of the
// uploaded file (metadata, colour profiles, trailing bytes) survives re-encoding.
package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
)

// Limits bound what an upload may cost.
type Limits struct {
	MaxBytes  int64 // largest file accepted
	MaxPixels int   // largest width × height decoded
	MaxSide   int   // largest width or height decoded
}

// DefaultLimits are the card image limits: 5 MB, 40 megapixels, 12,000 px a side.
var DefaultLimits = Limits{MaxBytes: 5 << 20, MaxPixels: 40_000_000, MaxSide: 12_000}

// Rendition sizes: the card keeps the ratio within CardMaxSide; the square crop for Facebook
// and Instagram generic templates is at most SquareMaxSide.
const (
	CardMaxSide   = 2048
	SquareMaxSide = 1080
	jpegQuality   = 85
)

// Error is a refused upload; Key is the i18n message key the console shows.
type Error struct {
	Key string
	Err error
}

// Error returns the message key and cause, for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Key
}

// Unwrap exposes the cause.
func (e *Error) Unwrap() error { return e.Err }

// The ways an upload is refused.
var (
	ErrTooLarge   = &Error{Key: "campaigns.error_image_too_large"}
	ErrFormat     = &Error{Key: "campaigns.error_image_format"}
	ErrMalformed  = &Error{Key: "campaigns.error_image_malformed"}
	ErrTooManyPix = &Error{Key: "campaigns.error_image_pixels"}
)

// Is matches refusals by key.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Key == e.Key
}

// Rendition is one encoded image ready to store and serve.
type Rendition struct {
	Mime          string
	Width, Height int
	Data          []byte
	Hash          string // hex SHA-256 of Data
}

// Result is a processed upload: the size it arrived in and its two renditions.
type Result struct {
	SourceWidth, SourceHeight int
	Card                      Rendition
	Square                    Rendition
}

// Process reads at most lim.MaxBytes from r and returns the renditions, or an *Error.
func Process(r io.Reader, lim Limits) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		if isTooLarge(err) {
			return nil, ErrTooLarge
		}
		return nil, &Error{Key: ErrMalformed.Key, Err: err}
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, ErrTooLarge
	}
	return ProcessBytes(data, lim)
}

// isTooLarge recognises http.MaxBytesReader's error without importing net/http.
func isTooLarge(err error) bool {
	return err != nil && err.Error() == "http: request body too large"
}

// ProcessBytes checks and re-encodes an image already in memory.
func ProcessBytes(data []byte, lim Limits) (*Result, error) {
	if int64(len(data)) > lim.MaxBytes {
		return nil, ErrTooLarge
	}
	format := sniff(data)
	if format == "" {
		return nil, ErrFormat
	}
	cfg, err := decodeConfig(format, data)
	if err != nil {
		return nil, &Error{Key: ErrMalformed.Key, Err: err}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, ErrMalformed
	}
	if cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide || cfg.Width*cfg.Height > lim.MaxPixels {
		return nil, ErrTooManyPix
	}
	img, err := decode(format, data)
	if err != nil {
		return nil, &Error{Key: ErrMalformed.Key, Err: err}
	}
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, ErrMalformed
	}
	img = normalize(img)
	card, err := encode(format, fit(img, CardMaxSide))
	if err != nil {
		return nil, err
	}
	square, err := encode(format, squareCrop(img, SquareMaxSide))
	if err != nil {
		return nil, err
	}
	return &Result{SourceWidth: cfg.Width, SourceHeight: cfg.Height, Card: card, Square: square}, nil
}

// sniff names the format from the magic bytes; the file name and declared type are ignored.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	}
	return ""
}

func decodeConfig(format string, b []byte) (image.Config, error) {
	if format == "png" {
		return png.DecodeConfig(bytes.NewReader(b))
	}
	return jpeg.DecodeConfig(bytes.NewReader(b))
}

func decode(format string, b []byte) (img image.Image, err error) {
	defer func() {
		// The decoders are not expected to panic, but an upload must never take the server down.
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("decoder panic: %v", p)
		}
	}()
	if format == "png" {
		return png.Decode(bytes.NewReader(b))
	}
	return jpeg.Decode(bytes.NewReader(b))
}

// normalize turns everything that is not 8-bit RGB(A) or YCbCr (CMYK JPEGs, 16-bit and
// paletted PNGs, grey) into 8-bit colour the encoders and platforms all handle.
func normalize(img image.Image) image.Image {
	switch img.(type) {
	case *image.YCbCr, *image.RGBA, *image.NRGBA:
		return img
	}
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	stddraw.Draw(dst, dst.Bounds(), img, b.Min, stddraw.Src)
	return dst
}

// fit scales img down so neither side exceeds max; smaller images are kept as they are.
func fit(img image.Image, limit int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= limit && h <= limit {
		return img
	}
	if w >= h {
		h, w = max(1, h*limit/w), limit
	} else {
		w, h = max(1, w*limit/h), limit
	}
	return scale(img, b, w, h)
}

// squareCrop takes the centred square of img and scales it down to at most side pixels.
func squareCrop(img image.Image, side int) image.Image {
	b := img.Bounds()
	s := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-s)/2
	y0 := b.Min.Y + (b.Dy()-s)/2
	crop := image.Rect(x0, y0, x0+s, y0+s)
	out := min(s, side)
	return scale(img, crop, out, out)
}

func scale(img image.Image, src image.Rectangle, w, h int) image.Image {
	var dst stddraw.Image
	if _, ok := img.(*image.YCbCr); ok {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	} else {
		dst = image.NewNRGBA(image.Rect(0, 0, w, h))
	}
	if src.Dx() == w && src.Dy() == h {
		stddraw.Draw(dst, dst.Bounds(), img, src.Min, stddraw.Src)
		return dst
	}
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, src, draw.Src, nil)
	return dst
}

func encode(format string, img image.Image) (Rendition, error) {
	var buf bytes.Buffer
	mime := "image/jpeg"
	var err error
	if format == "png" {
		mime = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, opaque(img), &jpeg.Options{Quality: jpegQuality})
	}
	if err != nil {
		return Rendition{}, fmt.Errorf("encode %s: %w", format, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	b := img.Bounds()
	return Rendition{Mime: mime, Width: b.Dx(), Height: b.Dy(), Data: buf.Bytes(), Hash: hex.EncodeToString(sum[:])}, nil
}

// opaque passes JPEG-ready images through; JPEG has no alpha, so anything else is flattened
// onto white rather than black.
func opaque(img image.Image) image.Image {
	switch img.(type) {
	case *image.YCbCr, *image.Gray:
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(b)
	stddraw.Draw(dst, b, image.NewUniform(color.White), image.Point{}, stddraw.Src)
	stddraw.Draw(dst, b, img, b.Min, stddraw.Over)
	return dst
}
