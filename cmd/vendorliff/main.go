// Command vendorliff bundles the pinned @line/liff npm package into one browser script under
// static/vendor/liff, so the LIFF page loads the official SDK from our origin and nothing runs
// Node at run time. The package is installed by `make vendor-liff` (npm, --ignore-scripts)
// into a temporary directory whose path is passed here.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

func main() {
	nodeModules := flag.String("node-modules", "", "directory holding node_modules/@line/liff")
	version := flag.String("version", "2.31.0", "the pinned @line/liff version")
	out := flag.String("out", "static/vendor/liff", "output directory")
	flag.Parse()
	if err := run(*nodeModules, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "vendorliff:", err)
		os.Exit(1)
	}
}

func run(dir, version, out string) error {
	if dir == "" {
		return fmt.Errorf("-node-modules is required")
	}
	entry := filepath.Join(dir, "entry.js")
	// The bundle exposes the SDK as window.liff, the name the LIFF page (and LINE's CDN build) use.
	if err := os.WriteFile(entry, []byte("import liff from '@line/liff';\nwindow.liff = liff;\n"), 0o644); err != nil {
		return err
	}
	res := api.Build(api.BuildOptions{
		EntryPoints:       []string{entry},
		AbsWorkingDir:     dir,
		NodePaths:         []string{filepath.Join(dir, "node_modules")},
		Bundle:            true,
		Format:            api.FormatIIFE,
		Platform:          api.PlatformBrowser,
		Target:            api.ES2018,
		MinifyWhitespace:  true,
		MinifySyntax:      true,
		MinifyIdentifiers: true,
		LegalComments:     api.LegalCommentsEndOfFile,
		Define:            map[string]string{"process.env.NODE_ENV": `"production"`},
		Write:             false,
	})
	if len(res.Errors) > 0 {
		var b strings.Builder
		for _, e := range res.Errors {
			b.WriteString(e.Text + "\n")
		}
		return fmt.Errorf("esbuild: %s", b.String())
	}
	if len(res.OutputFiles) != 1 {
		return fmt.Errorf("esbuild wrote %d files, want 1", len(res.OutputFiles))
	}
	data := res.OutputFiles[0].Contents
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	name := "liff-" + version + ".js"
	if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	fmt.Printf("%s  %s (%d bytes)\n", hex.EncodeToString(sum[:]), name, len(data))
	return nil
}
