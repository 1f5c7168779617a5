package capture

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// maxDepth bounds multipart nesting so a hostile message cannot recurse forever.
const maxDepth = 8

// parse extracts the subject and the text and HTML bodies from raw. A
// message that cannot be fully parsed is still returned with ParseError set.
func parse(raw []byte) Captured {
	c := Captured{Raw: raw}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		c.ParseError = "reading header: " + err.Error()
		return c
	}
	c.Headers = msg.Header
	dec := wordDecoder()
	if subject, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		c.Subject = subject
	} else {
		c.Subject = msg.Header.Get("Subject")
		c.ParseError = "decoding subject: " + err.Error()
	}
	p := part{
		contentType: msg.Header.Get("Content-Type"),
		encoding:    msg.Header.Get("Content-Transfer-Encoding"),
		disposition: msg.Header.Get("Content-Disposition"),
		body:        msg.Body,
	}
	if err := walk(&c, p, 0); err != nil && c.ParseError == "" {
		c.ParseError = err.Error()
	}
	return c
}

type part struct {
	contentType, encoding, disposition string
	body                               io.Reader
}

func walk(c *Captured, p part, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("multipart nesting deeper than %d", maxDepth)
	}
	mediaType, params := "text/plain", map[string]string{"charset": "us-ascii"} // RFC 2045 default
	if p.contentType != "" {
		var err error
		mediaType, params, err = mime.ParseMediaType(p.contentType)
		if err != nil {
			return fmt.Errorf("content type %q: %w", p.contentType, err)
		}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			return fmt.Errorf("%s without a boundary", mediaType)
		}
		mr := multipart.NewReader(p.body, boundary)
		for {
			// NextRawPart leaves decoding to us, so every part is decoded the same way.
			sub, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading %s: %w", mediaType, err)
			}
			if err := walk(c, part{
				contentType: sub.Header.Get("Content-Type"),
				encoding:    sub.Header.Get("Content-Transfer-Encoding"),
				disposition: sub.Header.Get("Content-Disposition"),
				body:        sub,
			}, depth+1); err != nil {
				return err
			}
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	if disp, _, _ := mime.ParseMediaType(p.disposition); disp == "attachment" {
		return nil
	}
	if (mediaType == "text/plain" && c.Text != "") || (mediaType == "text/html" && c.HTML != "") {
		return nil // the first part of each kind is the body; later ones are alternatives we do not show
	}
	text, err := decodeBody(p.body, p.encoding, params["charset"])
	if err != nil {
		return fmt.Errorf("%s part: %w", mediaType, err)
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if mediaType == "text/plain" {
		c.Text = text
	} else {
		c.HTML = text
	}
	return nil
}

func decodeBody(body io.Reader, encoding, charset string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips CR and LF itself
	default:
		return "", fmt.Errorf("unknown transfer encoding %q", encoding)
	}
	r, err := charsetReader(charset, body)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("decoding %s body: %w", encoding, err)
	}
	return string(b), nil
}

func wordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: charsetReader}
}

// charsetReader converts legacy charsets (Big5 is still common in Taiwan)
// to UTF-8.
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "", "utf-8", "utf8", "us-ascii":
		return r, nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	return enc.NewDecoder().Reader(r), nil
}
