// Package static embeds the stylesheet, script and vendored front-end files served under /static.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

// FS holds every static file.
//
//go:embed app.css app.js sandbox.css campaigns.css campaigns.js modules.css link.css liff-link.js sandbox-liff-sdk.js favicon.ico vendor
var FS embed.FS

var (
	once    sync.Once
	digests map[string]string
)

// Version is the content digest of the named file (as under /static/), or "" when there is none.
func Version(name string) string {
	once.Do(func() {
		digests = map[string]string{}
		_ = fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := FS.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			digests[p] = hex.EncodeToString(sum[:6])
			return nil
		})
	})
	return digests[name]
}

// URL is the address of a static file carrying its content digest, so browsers may keep it
// for good and a new release is fetched at once.
func URL(name string) string {
	if v := Version(name); v != "" {
		return "/static/" + name + "?v=" + v
	}
	return "/static/" + name
}
