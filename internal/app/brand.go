package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/snapshot"
)

// maxImage bounds a logo or favicon: the page is read on phones, and the
// image is served with every first visit.
const maxImage = 256 << 10

// imageType says whether a page may show a file of this type as its logo
// or icon.
func imageType(typ string) bool {
	switch typ {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "image/x-icon":
		return true
	}
	return false
}

// readImage reads a logo or favicon file and says what it is; every
// problem in words a person can act on.
func readImage(path string) (snapshot.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return snapshot.Image{}, fmt.Errorf("cannot read %s: %w", path, errorsWithoutPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImage+1))
	if err != nil {
		return snapshot.Image{}, fmt.Errorf("cannot read %s: %w", path, errorsWithoutPath(err))
	}
	if len(data) > maxImage {
		return snapshot.Image{}, fmt.Errorf("%s is larger than %d KiB; use a smaller image", path, maxImage>>10)
	}
	typ := http.DetectContentType(data)
	if i := strings.IndexByte(typ, ';'); i >= 0 {
		typ = typ[:i]
	}
	// SVG is XML, which sniffing calls text; the file's name and its root
	// element say what it is. It is served with the page's CSP, which
	// runs no script inside it.
	if strings.EqualFold(filepath.Ext(path), ".svg") && bytes.Contains(data, []byte("<svg")) {
		typ = "image/svg+xml"
	}
	if !imageType(typ) {
		return snapshot.Image{}, fmt.Errorf("%s is %s, not an image (PNG, JPEG, GIF, WebP, SVG or ICO)", path, typ)
	}
	sum := sha256.Sum256(data)
	return snapshot.Image{Type: typ, Data: data, Version: hex.EncodeToString(sum[:6])}, nil
}

// errorsWithoutPath keeps an os error's reason, not its repeated path.
func errorsWithoutPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// brandFiles is the configuration rule for the page's images: each must
// be there, an image, and small.
func brandFiles(c *config.Config, problem func(path, format string, args ...any)) {
	for key, path := range map[string]string{"page.logo": c.Page.Logo, "page.favicon": c.Page.Favicon} {
		if path == "" {
			continue
		}
		if _, err := readImage(path); err != nil {
			problem(key, "%v", err)
		}
	}
}

// brand puts the page's images and colour on the public page; an image
// that can no longer be read (it passed validation) is left out, said in
// the log.
func (a *App) brand(cfg *config.Config, p *snapshot.Page) {
	p.Accent = cfg.Page.AccentColor
	for _, im := range []struct {
		path string
		to   *snapshot.Image
	}{{cfg.Page.Logo, &p.Logo}, {cfg.Page.Favicon, &p.Favicon}} {
		if im.path == "" {
			continue
		}
		img, err := readImage(im.path)
		if err != nil {
			a.log.Warn("page image left out", "component", "app", "err", err)
			continue
		}
		*im.to = img
	}
}
