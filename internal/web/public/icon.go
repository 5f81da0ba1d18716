package public

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/upstatehq/upstate/internal/snapshot"
)

// The page's icon, when it has none of its own, is a dot in the colour
// of its status, so a tab left open says whether anything is wrong.

// indicatorColors are the page's status colours (style.css's), by the
// Statuspage indicator.
func indicatorColor(indicator string) color.RGBA {
	switch indicator {
	case "minor":
		return color.RGBA{0xe8, 0xb3, 0x39, 0xff}
	case "major":
		return color.RGBA{0xec, 0x7a, 0x2c, 0xff}
	case "critical":
		return color.RGBA{0xd9, 0x3b, 0x3b, 0xff}
	case "maintenance":
		return color.RGBA{0x3b, 0x82, 0xc4, 0xff}
	}
	return color.RGBA{0x2f, 0xa6, 0x6a, 0xff}
}

// iconIndicators are the indicators an icon is drawn for.
func iconIndicators() []string { return []string{"none", "minor", "major", "critical", "maintenance"} }

// icons are the drawn icons, by indicator: SVG and ICO.
type icons struct {
	svg, ico map[string][]byte
}

func drawIcons() (icons, error) {
	ic := icons{svg: map[string][]byte{}, ico: map[string][]byte{}}
	for _, ind := range iconIndicators() {
		c := indicatorColor(ind)
		ic.svg[ind] = fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="13" fill="#%02x%02x%02x"/></svg>`, c.R, c.G, c.B)
		ico, err := dotICO(c)
		if err != nil {
			return icons{}, err
		}
		ic.ico[ind] = ico
	}
	return ic, nil
}

// dotICO draws a 32×32 dot and wraps its PNG in an ICO file (one image;
// ICO may hold PNG data since Windows Vista, and every browser reads it).
func dotICO(c color.RGBA) ([]byte, error) {
	const size, r, sub = 32, 13.0, 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			// Coverage by sub-sampling gives the edge a smooth alpha.
			in := 0
			for sy := range sub {
				for sx := range sub {
					dx := float64(x) + (float64(sx)+0.5)/sub - size/2
					dy := float64(y) + (float64(sy)+0.5)/sub - size/2
					if dx*dx+dy*dy <= r*r {
						in++
					}
				}
			}
			if in > 0 {
				img.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, uint8(in * 255 / (sub * sub))})
			}
		}
	}
	var p bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), one image; then its ICONDIRENTRY:
	// width, height, no palette, reserved, one plane, 32 bits, size, offset.
	_ = binary.Write(&b, binary.LittleEndian, [3]uint16{0, 1, 1})
	b.Write([]byte{size, size, 0, 0})
	_ = binary.Write(&b, binary.LittleEndian, [2]uint16{1, 32})
	_ = binary.Write(&b, binary.LittleEndian, [2]uint32{uint32(p.Len()), 22})
	b.Write(p.Bytes())
	return b.Bytes(), nil
}

// brandDocs are the page's images and colour as documents: its icon
// (its own, or the dot of its status), its logo, and its theme.
func (r *Renderer) brandDocs(s *snapshot.Snapshot) []Doc {
	var docs []Doc
	if f := s.Page.Favicon; len(f.Data) > 0 {
		docs = append(docs, Doc{Path: "/favicon.ico", ContentType: f.Type, Body: f.Data})
	} else {
		ind := s.Indicator
		if r.icons.ico[ind] == nil {
			ind = "none"
		}
		docs = append(docs, Doc{Path: "/favicon.ico", ContentType: "image/x-icon", Body: r.icons.ico[ind]},
			Doc{Path: "/favicon.svg", ContentType: "image/svg+xml", Body: r.icons.svg[ind]})
	}
	if l := s.Page.Logo; len(l.Data) > 0 {
		docs = append(docs, Doc{Path: "/logo", ContentType: l.Type, Body: l.Data})
	}
	if a := s.Page.Accent; a != "" {
		// Only a validated colour (#rgb or #rrggbb) gets here.
		docs = append(docs, Doc{Path: "/theme.css", ContentType: "text/css; charset=utf-8",
			Body: fmt.Appendf(nil, ":root { --accent: %s; }\n", a)})
	}
	return docs
}
