package app

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
)

func TestBrandFilesAreChecked(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("notes.txt", []byte("not an image"))
	write("big.png", append(pngBytes(t), make([]byte, maxImage)...))
	src := "page: {name: X, logo: missing.png, favicon: notes.txt}\ncomponents: [{id: a}]\n"
	_, err := config.Parse(filepath.Join(dir, "upstate.yaml"), []byte(src), noEnv, ConfigRules()...)
	if err == nil {
		t.Fatal("missing and wrong images accepted")
	}
	for _, want := range []string{
		"upstate.yaml:1: page.logo: cannot read " + filepath.Join(dir, "missing.png") + ": no such file or directory",
		"upstate.yaml:1: page.favicon: " + filepath.Join(dir, "notes.txt") + " is text/plain, not an image (PNG, JPEG, GIF, WebP, SVG or ICO)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = config.Parse(filepath.Join(dir, "upstate.yaml"), []byte("page: {name: X, logo: big.png}\ncomponents: [{id: a}]\n"), noEnv, ConfigRules()...)
	if err == nil || !strings.Contains(err.Error(), "big.png is larger than 256 KiB; use a smaller image") {
		t.Errorf("a large logo: %v", err)
	}
}

// The page serves its own logo and colour, and a drawn icon while it has
// none of its own; a reload changes them.
func TestBrandServed(t *testing.T) {
	dir := t.TempDir()
	logo := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>`)
	if err := os.WriteFile(filepath.Join(dir, "logo.svg"), logo, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "upstate.yaml")
	parse := func(src string) *config.Config {
		cfg, err := config.Parse(file, []byte(src), noEnv, ConfigRules()...)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Server.DataDir = dir
		return cfg
	}
	a := reopenApp(t, parse("page: {name: Acme}\ncomponents: [{id: a}]\n"), Options{Clock: clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	get := func(path string) (int, string, string) {
		rec := httptest.NewRecorder()
		a.web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()
	}
	if code, ct, _ := get("/favicon.ico"); code != 200 || ct != "image/x-icon" {
		t.Errorf("/favicon.ico = %d %s", code, ct)
	}
	if code, _, _ := get("/logo"); code != 404 {
		t.Errorf("/logo without a logo = %d", code)
	}
	if err := a.Reload(context.Background(), parse("page: {name: Acme, logo: logo.svg, accent_color: '#0b5fff'}\ncomponents: [{id: a}]\n")); err != nil {
		t.Fatal(err)
	}
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, ct, body := get("/logo"); code != 200 || ct != "image/svg+xml" || body != string(logo) {
		t.Errorf("/logo = %d %s %q", code, ct, body)
	}
	if _, _, body := get("/theme.css"); !strings.Contains(body, "--accent: #0b5fff") {
		t.Errorf("/theme.css = %q", body)
	}
	if _, _, body := get("/"); !strings.Contains(body, `<img class="logo" src="/logo?v=`) {
		t.Error("the page does not show its logo")
	}
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
