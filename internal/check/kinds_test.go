package check

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// Every kind is well formed: a unique lowercase name and a section that
// is a pointer to a struct, new on every call, whose fields are keys.
func TestKindsAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	name := regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	for _, k := range Kinds() {
		if !name.MatchString(k.Name) || seen[k.Name] {
			t.Errorf("kind %q: want a unique lowercase name", k.Name)
		}
		seen[k.Name] = true
		a, b := k.New(), k.New()
		v := reflect.ValueOf(a)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			t.Errorf("%s: New returns %T, not a pointer to a struct", k.Name, a)
			continue
		}
		if a == b {
			t.Errorf("%s: New returns the same section twice", k.Name)
		}
		for i := 0; i < v.Elem().NumField(); i++ {
			if f := v.Elem().Type().Field(i); f.IsExported() && f.Tag.Get("yaml") == "" {
				t.Errorf("%s: field %s has no yaml key", k.Name, f.Name)
			}
		}
		if got, ok := KindOf(k.Name); !ok || got.Name != k.Name {
			t.Errorf("KindOf(%q) = %v, %v", k.Name, got.Name, ok)
		}
	}
	if _, ok := KindOf("ping"); ok {
		t.Error("KindOf finds a kind that is not registered")
	}
	if !slices.Equal(KindNames(), []string{"http", "tcp", "dns", "heartbeat", "alert", "upstream", "metric", "quota", "slo", "grpc", "websocket", "icmp", "smtp", "tls", "postgres", "mysql", "redis", "browser"}) {
		t.Errorf("KindNames() = %v: the configuration's messages list them in this order", KindNames())
	}
}

// Kinds whose results are not latencies we measured have no sparkline.
func TestToldKinds(t *testing.T) {
	var told []string
	for _, k := range Kinds() {
		if k.Told {
			told = append(told, k.Name)
		}
	}
	if want := []string{"heartbeat", "alert", "upstream", "metric", "quota", "slo"}; !slices.Equal(told, want) {
		t.Errorf("told kinds = %v, want %v", told, want)
	}
}

// The feed table, the README's upstream row and the validation's message
// list the same feeds.
func TestFeedsAreDocumented(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| `upstream` |") {
			row = line
		}
	}
	_, rest, ok := strings.Cut(row, "`feed` (")
	list, _, ok2 := strings.Cut(rest, ")")
	if !ok || !ok2 {
		t.Fatalf("the README's check table has no upstream row with \"`feed` (...)\": %q", row)
	}
	var documented []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(list, -1) {
		documented = append(documented, m[1])
	}
	if !slices.Equal(documented, feedNames()) {
		t.Errorf("the README's upstream row lists the feeds %v; the table has %v", documented, feedNames())
	}
	for _, f := range feedFormats() {
		if (f.URL == "") != (f.Provider == "") || (f.URL == "") != (f.Base == "") {
			t.Errorf("feed %s: a default URL comes with its provider's name and its links' base", f.Name)
		}
		if feedNamed(f.Name) != f {
			t.Errorf("feedNamed(%q) = %+v", f.Name, feedNamed(f.Name))
		}
	}
	v := &problems{}
	(&UpstreamSection{Feed: "atom"}).Validate(v, &Common{})
	if want := `feed: unknown feed "atom" (one of statuspage, google-workspace, google-cloud, rss)`; !slices.Contains(v.errs, want) {
		t.Errorf("problems %q, want %q", v.errs, want)
	}
}

// rss is read as RSS 2.0 or Atom (the reader's FeedRSS); a provider with
// one place needs no url, and its incident links are relative to it.
func TestUpstreamSection(t *testing.T) {
	env := Env{FeedError: func(string, error) {}}
	for _, tc := range []struct {
		s                     UpstreamSection
		format, url, provider string
		base                  string
	}{
		{UpstreamSection{Feed: "rss", URL: "https://feeds.example.com/x.rss"}, FeedRSS, "https://feeds.example.com/x.rss", "feeds.example.com", ""},
		{UpstreamSection{Feed: "google-cloud"}, FeedGoogleCloud, "https://status.cloud.google.com/incidents.json", "Google Cloud", "https://status.cloud.google.com/"},
		{UpstreamSection{Feed: "google-cloud", URL: "https://mirror.example/gc/incidents.json", Provider: "GC"}, FeedGoogleCloud, "https://mirror.example/gc/incidents.json", "GC", "https://mirror.example/gc/"},
		{UpstreamSection{Feed: "statuspage", URL: "https://status.example.com/api/v2/summary.json"}, FeedStatuspage, "https://status.example.com/api/v2/summary.json", "status.example.com", ""},
	} {
		v, c := &problems{}, Common{ID: "u"}
		tc.s.Validate(v, &c)
		if len(v.errs) > 0 || c.Interval != 2*time.Minute || c.FailAfter != 1 || c.RecoverAfter != 1 || c.Recheck == nil || tc.s.Window != 6*time.Hour {
			t.Errorf("%s: problems %q, common %+v, section %+v", tc.s.Feed, v.errs, c, tc.s)
		}
		p, err := tc.s.Prober(c, env)
		u, _ := p.(*Upstream)
		if err != nil || u == nil || u.Format != tc.format || u.URL != tc.url || u.Provider != tc.provider || u.Base != tc.base {
			t.Errorf("%s: prober %+v, %v", tc.s.Feed, u, err)
		}
	}
}

// problems is a Validator for tests: "key: message" a line.
type problems struct {
	errs, warns []string
	inbound     bool
}

func (p *problems) Errorf(key, format string, args ...any) {
	p.errs = append(p.errs, strings.TrimPrefix(key+": ", ": ")+fmt.Sprintf(format, args...))
}

func (p *problems) Warnf(key, format string, args ...any) {
	p.warns = append(p.warns, strings.TrimPrefix(key+": ", ": ")+fmt.Sprintf(format, args...))
}

func (p *problems) InboundAuth() bool { return p.inbound }

// Sections that read pushed numbers say which series, so they are kept:
// the Prometheus ones are not pushed.
func TestPushedSeries(t *testing.T) {
	labels := map[string]string{"site": "edge"}
	for _, tc := range []struct {
		s    PushedReader
		want []string
	}{
		{&MetricSection{Metric: "m", Labels: labels}, []string{`m{site="edge"}`}},
		{&MetricSection{Metric: "m", Prometheus: &PromSource{Query: "up"}}, nil},
		{&QuotaSection{Usage: "u", LimitMetric: "l", Errors: "e"}, []string{"u", "l", "e"}},
		{&QuotaSection{Usage: "u", Prometheus: &PromSource{Query: "q"}, Errors: "e"}, []string{"e"}},
		{&SLOSection{Good: "g", Total: "t"}, []string{"g", "t"}},
		{&SLOSection{Good: "g", Total: "t", Prometheus: &PromSource{GoodQuery: "gq"}}, []string{"t"}},
	} {
		if got := tc.s.PushedSeries(); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: pushed %q, want %q", tc.s, got, tc.want)
		}
	}
	var _ Pinged = (*HeartbeatSection)(nil)
	var _ Matched = (*AlertSection)(nil)
	if tok := (&HeartbeatSection{Token: upstate.Secret("s")}).PingToken(); tok.Reveal() != "s" {
		t.Errorf("ping token %q", tok.Reveal())
	}
}
