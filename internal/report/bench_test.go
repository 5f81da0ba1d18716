package report

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/benchheap"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/markdown"
)

// yearSource is a store's reads of a year with n incidents, in memory:
// what `upstate report --from 2026-01-01 --to 2026-12-31` reads, without
// the database, so the benchmark measures the report itself.
type yearSource struct {
	comps   []upstate.ComponentState
	ins     []*upstate.Incident
	changes []upstate.StatusChange
	pms     map[string]upstate.PostmortemDoc
}

func (s *yearSource) ListComponents(context.Context) ([]upstate.ComponentState, error) {
	return s.comps, nil
}

func (s *yearSource) ListIncidents(context.Context, upstate.IncidentFilter) ([]*upstate.Incident, error) {
	return s.ins, nil
}

func (s *yearSource) ListStatusChanges(context.Context, time.Time, time.Time) ([]upstate.StatusChange, error) {
	return s.changes, nil
}

func (s *yearSource) ListPostmortems(context.Context, []string) (map[string]upstate.PostmortemDoc, error) {
	return s.pms, nil
}

// yearOf makes a year of n incidents on twelve components, seeded: each
// began a few minutes before it was detected (so backdating has work),
// touches one to three components with two to four status changes each
// (degraded, then worse, then operational), overlaps the ones beside it
// (incidents are spread evenly, so at 23,360 a year several run at once),
// has four to six timeline entries, and is one of 24 recurring kinds
// ("Quota exceeded (17)"); one in twenty is a provider's, one in three has
// a postmortem whose root cause is its kind's (shared) or, one in four,
// its own words.
func yearOf(n int) *yearSource {
	rng := rand.New(rand.NewPCG(16, uint64(n)))
	s := &yearSource{pms: map[string]upstate.PostmortemDoc{}}
	for i := range 12 {
		id := fmt.Sprintf("comp%02d", i)
		s.comps = append(s.comps, upstate.ComponentState{Component: upstate.Component{ID: id, Name: "Component " + strconv.Itoa(i)}, Status: upstate.Operational})
	}
	kinds := []string{"Quota exceeded", "Database lock", "Partial outage of API", "Firewall blocking schools", "Slow sign-in", "Sync delayed",
		"Certificate expiry", "DNS resolution failing", "Queue backlog", "Search index stale", "Upload errors", "Payment webhook delays",
		"Email delivery delayed", "Video transcoding stuck", "Cache stampede", "Rate limiting too strict", "Login loop", "Report export failing",
		"Notifications late", "Mobile push failing", "SSO provider errors", "Storage latency", "CDN purge delayed", "Backup job overran"}
	providers := []string{"Google Workspace", "Stripe", "Cloudflare"}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, la)
	year := from.AddDate(1, 0, 0).Sub(from)
	statuses := []upstate.Status{upstate.DegradedPerformance, upstate.PartialOutage, upstate.MajorOutage}
	for i := range n {
		id := fmt.Sprintf("inc%05d", i)
		start := from.Add(time.Duration(float64(year) * (float64(i) + rng.Float64()) / float64(n)))
		detect := start.Add(time.Duration(rng.IntN(10)+1) * time.Minute)
		end := detect.Add(time.Duration(rng.IntN(180)+10) * time.Minute)
		k := rng.IntN(len(kinds))
		name := kinds[k]
		if rng.IntN(2) == 0 {
			name = fmt.Sprintf("%s (%d)", name, rng.IntN(40)+1)
		}
		in := &upstate.Incident{ID: id, Name: name, Status: upstate.Resolved, Impact: upstate.ImpactMajor, Auto: rng.IntN(2) == 0,
			CreatedAt: detect, UpdatedAt: end, StartedAt: start, DetectedAt: detect, ResolvedAt: &end}
		if rng.IntN(3) == 0 {
			ack := detect.Add(time.Duration(rng.IntN(20)) * time.Minute)
			in.AcknowledgedAt, in.AcknowledgedBy = &ack, "Dana"
		}
		if rng.IntN(20) == 0 {
			p := providers[rng.IntN(len(providers))]
			in.Upstream = &upstate.Upstream{Provider: p, Title: p + " service disruption", URL: "https://status.example.com/" + id}
		}
		for _, c := range rng.Perm(len(s.comps))[:rng.IntN(3)+1] {
			comp := s.comps[c].ID
			in.Components = append(in.Components, comp)
			t := detect
			for j := range rng.IntN(3) + 1 {
				s.changes = append(s.changes, upstate.StatusChange{ComponentID: comp, At: t, Status: statuses[min(j+rng.IntN(2), 2)], IncidentID: id})
				t = t.Add(time.Duration(rng.IntN(int(end.Sub(t)/time.Minute)/2+1)) * time.Minute)
			}
			s.changes = append(s.changes, upstate.StatusChange{ComponentID: comp, At: end, Status: upstate.Operational, IncidentID: id})
		}
		entries := rng.IntN(3) + 4
		for j := range entries {
			at := detect.Add(end.Sub(detect) * time.Duration(j) / time.Duration(entries-1))
			st := upstate.Identified
			switch j {
			case 0:
				st = upstate.Investigating
			case entries - 1:
				st = upstate.Resolved
			}
			actor := upstate.ActorUpstate
			if j > 0 && rng.IntN(2) == 0 {
				actor = "Sam"
			}
			in.Updates = append(in.Updates, upstate.TimelineEntry{ID: fmt.Sprintf("%s-%d", id, j), IncidentID: id, At: at, Status: st, Actor: actor, Public: rng.IntN(8) != 0,
				Body: fmt.Sprintf("**%s**: update %d. About %d%% of requests answer HTTP 500; see `runbook/%d`.", name, j, rng.IntN(90)+5, k)})
		}
		if rng.IntN(3) == 0 {
			cause := "The " + kinds[k] + " limit was reached."
			if rng.IntN(4) == 0 {
				cause = fmt.Sprintf("%s, this time on shard %d.", cause, i)
			}
			s.pms[id] = upstate.PostmortemDoc{IncidentID: id, RootCause: cause, Fix: "Raised the limit for " + kinds[k] + " and alert at 80%.",
				Status: upstate.PostmortemPublished, Actions: []upstate.ActionItem{{Text: "Alert earlier", Owner: "Dana", State: "done"}}}
		}
		s.ins = append(s.ins, in)
	}
	// As the store reads them: changes by time, incidents newest first,
	// and the Markdown with the HTML it rendered as it was written.
	slices.SortStableFunc(s.changes, func(a, b upstate.StatusChange) int { return a.At.Compare(b.At) })
	slices.Reverse(s.ins)
	md := markdown.New()
	render := func(src string) string {
		if src == "" {
			return ""
		}
		return string(md.HTML(src))
	}
	for _, in := range s.ins {
		for j := range in.Updates {
			in.Updates[j].BodyHTML = render(in.Updates[j].Body)
		}
	}
	for id, pm := range s.pms {
		pm.RootCauseHTML, pm.ContributingHTML, pm.FixHTML = render(pm.RootCause), render(pm.Contributing), render(pm.Fix)
		s.pms[id] = pm
	}
	return s
}

// unkept is the year as a store reads it when it kept no HTML of the
// renderer this binary runs (rows written before it kept any, or by
// another version, until RenderStale is done): the html format renders
// every body.
func (s *yearSource) unkept() *yearSource {
	c := *s
	c.ins = make([]*upstate.Incident, len(s.ins))
	for i, in := range s.ins {
		x := *in
		x.Updates = slices.Clone(in.Updates)
		for j := range x.Updates {
			x.Updates[j].BodyHTML = ""
		}
		c.ins[i] = &x
	}
	c.pms = make(map[string]upstate.PostmortemDoc, len(s.pms))
	for id, pm := range s.pms {
		pm.RootCauseHTML, pm.ContributingHTML, pm.FixHTML = "", "", ""
		c.pms[id] = pm
	}
	return &c
}

// BenchmarkReportYear is a year's report as `upstate report --format F`
// makes it, past the store: read (from memory), build, and render in one
// format (build alone is the report without rendering) written to a
// writer that keeps nothing (as a file or a connection), for a small team's
// year (300), 8 a day, 32 a day and 64 a day. Its cost should grow with
// the incidents, not their square (issue 16). The store keeps each body's
// HTML as it is written, which the html format takes; html-unkept is the
// html of a year whose HTML the store did not keep (written before it
// did, or by another renderer version), every body rendered.
func BenchmarkReportYear(b *testing.B) {
	md := markdown.New()
	now := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{300, 2920, 11680, 23360} {
		year := yearOf(n)
		for _, f := range append([]string{"build"}, append(Formats(), "html-unkept")...) {
			b.Run(fmt.Sprintf("%d/%s", n, f), func(b *testing.B) {
				src := year
				if f == "html-unkept" {
					src, f = year.unkept(), "html"
				}
				b.ReportAllocs()
				defer peakHeap(b)()
				for b.Loop() {
					r, err := Gather(context.Background(), src, Params{From: "2026-01-01", To: "2026-12-31"}, "Acme", la, now)
					if err != nil {
						b.Fatal(err)
					}
					if len(r.Days) == 0 {
						b.Fatal("no days")
					}
					if f == "build" {
						continue
					}
					var out counter
					if err := Write(&out, r, f, md); err != nil || out == 0 {
						b.Fatal(out, err)
					}
				}
			})
		}
	}
}

// BenchmarkReportWrite is writing alone, a year of 23,360 incidents in
// each format: the year is made and the report built before the measured
// loop, and the year let go before writing, as `upstate report` lets go of
// the store's reads once the report is built. So peak-heap-MiB here is what
// writing needs beyond the report (and the strings it shares with the
// year): in BenchmarkReportYear the year stays live beside the report, and
// the collector, which lets the heap grow to twice what is live, gives the
// writing its headroom too.
func BenchmarkReportWrite(b *testing.B) {
	md := markdown.New()
	for _, f := range Formats() {
		b.Run("23360/"+f, func(b *testing.B) {
			r := func() *Report {
				r, err := Gather(context.Background(), yearOf(23360), Params{From: "2026-01-01", To: "2026-12-31"}, "Acme", la, time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC))
				if err != nil {
					b.Fatal(err)
				}
				return r
			}()
			b.ReportAllocs()
			defer peakHeap(b)()
			for b.Loop() {
				var out counter
				if err := Write(&out, r, f, md); err != nil || out == 0 {
					b.Fatal(out, err)
				}
			}
		})
	}
}

// counter is where the benchmark writes a report: it counts the bytes and
// keeps none, as a file or a connection would, so peak-heap-MiB is what
// rendering holds, not the output.
type counter int

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// peakHeap reports, as peak-heap-MiB, the most the heap held while the
// benchmark ran beyond what it held before (the year read from the
// store): B/op counts every byte allocated, this what the process needed
// at once. It samples the heap every millisecond until the function it
// returns is called. The collector runs at config.DefaultGOGC meanwhile,
// as `upstate report` and serve run it (server.gogc), unless GOGC is set:
// at Go's 100 the heap may grow to twice what is live, the year and the
// report (GOGC=100 go test ... measures that).
func peakHeap(b *testing.B) func() {
	if os.Getenv("GOGC") == "" {
		was := debug.SetGCPercent(config.DefaultGOGC)
		b.Cleanup(func() { debug.SetGCPercent(was) })
	}
	return benchheap.Peak(b)
}
