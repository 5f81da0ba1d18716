package embed

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/snapshot"
)

func page(n int) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Page: snapshot.Page{Name: "Bench", Location: time.UTC}, Indicator: "minor", Description: "Minor Service Outage"}
	for i := range n {
		c := &snapshot.Component{ComponentState: upstate.ComponentState{Component: upstate.Component{ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("Component %d", i)},
			Status: upstate.Operational}}
		for d := range snapshot.Days {
			c.Days = append(c.Days, snapshot.Day{Uptime: 1 - float64(d%7)/1000})
		}
		s.Components = append(s.Components, c)
	}
	return s
}

func TestRender(t *testing.T) {
	docs, err := Render(page(2))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range docs {
		paths = append(paths, d.Path)
	}
	want := "/badges/status.svg /badges/uptime-7d.svg /badges/uptime-30d.svg /badges/uptime-90d.svg /badges/c0.svg /badges/c0/uptime-7d.svg /badges/c0/uptime-30d.svg /badges/c0/uptime-90d.svg /badges/c1.svg /badges/c1/uptime-7d.svg /badges/c1/uptime-30d.svg /badges/c1/uptime-90d.svg /embed"
	if strings.Join(paths, " ") != want {
		t.Errorf("paths:\n%s", strings.Join(paths, " "))
	}
	if b := string(docs[1].Body); !strings.Contains(b, "uptime 7d: 99.70%") || !strings.Contains(b, `fill="#d9a300"`) {
		t.Errorf("uptime badge: %s", b)
	}
	if w := textWidth("major outage"); w < 60 || w > 90 {
		t.Errorf("width of 'major outage' = %d", w)
	}
}

// BenchmarkRender1000 is the badges and compact page of a 1,000-component
// page, rendered on every snapshot.
func BenchmarkRender1000(b *testing.B) {
	s := page(1000)
	for b.Loop() {
		if _, err := Render(s); err != nil {
			b.Fatal(err)
		}
	}
}
