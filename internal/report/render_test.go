package report

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/upstatehq/upstate/internal/markdown"
)

// The streamed JSON is json.MarshalIndent's, with its newline, for a
// month, a year, a period with nothing in it and a report whose arrays
// are nil.
func TestJSONAsMarshalIndent(t *testing.T) {
	month, err := Build(fixtureMonth())
	if err != nil {
		t.Fatal(err)
	}
	year, err := Gather(context.Background(), yearOf(300), Params{From: "2026-01-01", To: "2026-12-31", AlsoTZ: "Pacific/Auckland", Intro: "<b>\"days\": []</b>"}, "Acme", la, time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	empty, err := Gather(context.Background(), yearOf(0), Params{From: "2026-01-01", To: "2026-12-31"}, "Acme", la, time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Report{"month": month, "year": year, "empty": empty, "nil arrays": {Title: "nil"}} {
		want, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := Render(r, "json", nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want)+"\n" {
			t.Errorf("%s: the streamed JSON differs from MarshalIndent's", name)
		}
	}
}

// failAfter takes n bytes and then fails.
type failAfter struct{ n int }

var errFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errFull
	}
	f.n -= len(p)
	return len(p), nil
}

// A writer that fails stops the report in every format with its error,
// wherever it fails (the days' workers stop and are waited for).
func TestWriteStopsWhenTheWriterFails(t *testing.T) {
	r, err := Gather(context.Background(), yearOf(2920), Params{From: "2026-01-01", To: "2026-12-31"}, "Acme", la, time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	md := markdown.New()
	for _, f := range Formats() {
		for _, n := range []int{0, 100 << 10, 2 << 20} {
			if err := Write(&failAfter{n: n}, r, f, md); !errors.Is(err, errFull) {
				t.Errorf("%s, failing after %d bytes: %v", f, n, err)
			}
		}
	}
}
