package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/upstatehq/upstate/internal/metrics"
)

// discard is a ResponseWriter that keeps only its header map, cleared for
// each request as net/http's is new for each.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkServeSummary is Upstate's own part of a public read (the
// middleware, routing and serveAsset), without net/http's: bench/page.sh
// measures the whole against a bare server writing the same bytes.
func BenchmarkServeSummary(b *testing.B) {
	s, err := New(Options{Metrics: metrics.New("test"), Heartbeats: &fakeBeats{}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Publish(fixture()); err != nil {
		b.Fatal(err)
	}
	for _, enc := range []string{"", "gzip"} {
		b.Run("enc="+enc, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/api/v2/summary.json", nil)
			r.Header.Set("Accept-Encoding", enc)
			r.Header.Set("User-Agent", "wrk")
			w := &discard{h: http.Header{}}
			h := s.Handler()
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}
