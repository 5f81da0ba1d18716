package client

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Reporter counts what retries hide — attempts, calls whose first attempt
// failed, and calls given up on, per host — and sends the counts of each
// interval to Upstate's POST /api/v1/metrics in the Prometheus text
// format, every Every, in one request: upstate_client_attempts,
// upstate_client_first_attempt_failures and upstate_client_giveups, per
// minute with the default interval, ready for a metric check (above, or
// anomaly). Counting never blocks the app: it is a mutex around a map,
// and sending happens in Run's goroutine; counts a failed send could not
// deliver are carried into the next.
type Reporter struct {
	// URL is Upstate's address; Token an API token with the metrics:write scope.
	URL   string
	Token string
	// App labels the series (app="..."); Every is the flush interval
	// (default 1 m); HTTP the client (default 10 s timeout).
	App   string
	Every time.Duration
	HTTP  *http.Client

	mu     sync.Mutex
	counts map[[2]string]float64 // {metric, host} → total
}

var _ Observer = (*Reporter)(nil)

func (r *Reporter) add(metric, host string) {
	r.mu.Lock()
	if r.counts == nil {
		r.counts = map[[2]string]float64{}
	}
	r.counts[[2]string{metric, host}]++
	r.mu.Unlock()
}

// Attempt implements Observer.
func (r *Reporter) Attempt(host string, n int, failed bool) {
	r.add("upstate_client_attempts", host)
	if n == 1 && failed {
		r.add("upstate_client_first_attempt_failures", host)
	}
}

// GaveUp implements Observer.
func (r *Reporter) GaveUp(host string) { r.add("upstate_client_giveups", host) }

// Text is the counts not yet sent, in the Prometheus text format.
func (r *Reporter) Text() string {
	return text(r.App, r.snapshot())
}

func (r *Reporter) snapshot() map[[2]string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[[2]string]float64, len(r.counts))
	for k, v := range r.counts {
		out[k] = v
	}
	return out
}

func text(app string, vals map[[2]string]float64) string {
	keys := make([][2]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s{app=%q,host=%q} %g\n", k[0], app, k[1], vals[k])
	}
	return b.String()
}

// Flush sends the counts so far and, once Upstate has them, starts the
// next interval from zero.
func (r *Reporter) Flush(ctx context.Context) error {
	sent := r.snapshot()
	body := text(r.App, sent)
	if body == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.URL, "/")+"/api/v1/metrics", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4")
	req.Header.Set("Authorization", "Bearer "+r.Token)
	hc := r.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("report to upstate: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("report to upstate: HTTP %d", resp.StatusCode)
	}
	r.mu.Lock()
	for k, v := range sent {
		if r.counts[k] -= v; r.counts[k] == 0 {
			delete(r.counts, k)
		}
	}
	r.mu.Unlock()
	return nil
}

// Run flushes every Every until ctx is done, then once more.
func (r *Reporter) Run(ctx context.Context) {
	every := r.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = r.Flush(fctx)
			cancel()
			return
		case <-t.C:
			_ = r.Flush(ctx)
		}
	}
}
