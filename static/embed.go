// Package static embeds the stylesheet, script and vendored front-end files served under /static.
package static

import "embed"

// FS holds every static file.
//
//go:embed app.css app.js sandbox.css campaigns.css campaigns.js modules.css link.css liff-link.js sandbox-liff-sdk.js favicon.ico vendor
var FS embed.FS
