// Package agent is the probe agent, `upstate probe`: it runs the checks the
// server assigns its region, on the server's slots of their intervals,
// and streams their results back. Results wait in an on-disk queue
// (Queue) until the server has them, so a lost connection, a server
// restart or the agent's own restart loses none; the server takes each
// once by its id, so sending one again duplicates none. The check list
// is kept on disk too: an agent restarted while the server is away
// probes what it probed.
package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/ids"
	"github.com/upstatehq/upstate/internal/schedule"
)

// Options configure an agent.
type Options struct {
	Server string // the server's base URL: https://status.example.com
	Region string
	Token  upstate.Secret
	// DataDir holds the queue and the last check list.
	DataDir string
	// MaxBuffer bounds the queue, in bytes; default 64 MiB.
	MaxBuffer int64
	Clock     clock.Clock
	Logger    *slog.Logger
	// Client talks to the server; default a client with a 30 s timeout
	// (HTTP/2 over TLS where the server offers it).
	Client *http.Client
	// NewID makes result ids; default random.
	NewID func() string
	// Env is what the checks' probers share; default built here.
	Env *check.Env
}

// Agent is a running probe agent.
type Agent struct {
	opts  Options
	log   *slog.Logger
	queue *Queue
	sched *schedule.Scheduler
	env   check.Env
	wake  chan struct{}

	mu      sync.Mutex
	version string // the check list in force, as the server sent it
	dropped int
}

// New opens the agent's queue; nothing runs until Run.
func New(opts Options) (*Agent, error) {
	var probs []string
	if !strings.HasPrefix(opts.Server, "http://") && !strings.HasPrefix(opts.Server, "https://") {
		probs = append(probs, fmt.Sprintf("--server %q: want the server's URL (https://status.example.com)", opts.Server))
	}
	if !upstate.ValidRegion(opts.Region) || opts.Region == upstate.LocalRegion {
		probs = append(probs, fmt.Sprintf("--region %q: want a region name (lower-case letters, digits and dashes), not %q, which is the server's own", opts.Region, upstate.LocalRegion))
	}
	if opts.Token == "" {
		probs = append(probs, "a token is required: --token-file, UPSTATE_PROBE_TOKEN or --token (an owner makes one with scopes [\"agent:REGION\"])")
	}
	if opts.DataDir == "" {
		probs = append(probs, "--data is required: the directory results wait in")
	}
	if len(probs) > 0 {
		return nil, errors.New(strings.Join(probs, "; "))
	}
	opts.Server = strings.TrimRight(opts.Server, "/")
	if opts.MaxBuffer <= 0 {
		opts.MaxBuffer = 64 << 20
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.NewID == nil {
		opts.NewID = ids.New
	}
	q, err := OpenQueue(filepath.Join(opts.DataDir, "queue"), opts.MaxBuffer)
	if err != nil {
		return nil, err
	}
	a := &Agent{opts: opts, log: opts.Logger.With("component", "agent", "region", opts.Region), queue: q, wake: make(chan struct{}, 1)}
	if opts.Env != nil {
		a.env = *opts.Env
	} else {
		a.env = check.Env{Clock: opts.Clock, Client: check.NewHTTPClient(false, 8, nil), Insecure: check.NewHTTPClient(true, 8, nil),
			Beats: check.NewBeats(), Alerts: check.NewAlertBook(), Started: opts.Clock.Now(),
			Resolver: func(server string) check.Resolver { return check.NewResolver(server) }, Location: time.UTC}
	}
	if a.sched, err = schedule.New(schedule.Options{Clock: opts.Clock, Sink: a.onReport, Logger: opts.Logger}); err != nil {
		return nil, err
	}
	return a, nil
}

// Queue is the agent's queue (tests read it).
func (a *Agent) Queue() *Queue { return a.queue }

// onReport keeps each final result: a pending one stands for an answer
// still to come, and the server decides, so the agent asks for nothing.
func (a *Agent) onReport(_ context.Context, rep schedule.Report) schedule.Next {
	var rs []upstate.AgentResult
	for _, r := range append([]upstate.Result{rep.Result}, rep.Burst...) {
		if r.CheckID == "" || r.Pending {
			continue
		}
		rs = append(rs, upstate.AgentResultOf(a.opts.NewID(), r))
	}
	if len(rs) == 0 {
		return schedule.Next{}
	}
	if err := a.queue.Add(rs...); err != nil {
		a.log.Error("result not buffered", "err", err)
	}
	a.mu.Lock()
	if d := a.queue.Dropped(); d > a.dropped {
		a.log.Warn("the buffer is full: the oldest results were dropped", "dropped", d-a.dropped, "max_bytes", a.opts.MaxBuffer)
		a.dropped = d
	}
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return schedule.Next{}
}

// Run runs the agent until ctx is done: its checks, their refresh, and
// the sending of results.
func (a *Agent) Run(ctx context.Context) error {
	defer a.queue.Close()
	a.loadCached()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		a.sched.Run(ctx, nil) // the jobs are the ones Update gives, whenever
	}()
	go func() {
		defer wg.Done()
		a.send(ctx)
	}()
	a.refresh(ctx)
	wg.Wait()
	return nil
}

// cachePath is where the last check list is kept (it carries the checks'
// secrets: only the agent's user reads it).
func (a *Agent) cachePath() string { return filepath.Join(a.opts.DataDir, "checks.json") }

func (a *Agent) loadCached() {
	b, err := os.ReadFile(a.cachePath())
	if err != nil {
		return
	}
	var list upstate.AgentChecks
	if json.Unmarshal(b, &list) != nil || list.Region != a.opts.Region {
		return
	}
	if err := a.apply(list, string(b)); err != nil {
		a.log.Warn("the checks kept from the last run do not compile; waiting for the server's", "err", err)
		return
	}
	a.log.Info("running the checks kept from the last run until the server answers", "checks", len(list.Checks))
}

// refresh reads the check list now and then: at its refresh, sooner
// (with backoff) while the server does not answer.
func (a *Agent) refresh(ctx context.Context) {
	back := newBackoff()
	for {
		wait := time.Minute
		list, raw, err := a.fetch(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			wait = back.next()
			a.log.Warn("cannot read the region's checks; keeping the ones running", "err", err, "retry_in", wait.String())
		default:
			back.reset()
			if list.Refresh > 0 {
				wait = max(list.Refresh, time.Second)
			}
			if err := a.apply(list, raw); err != nil {
				a.log.Error("the server's checks do not compile here; keeping the ones running", "err", err)
			} else if err := os.WriteFile(a.cachePath(), []byte(raw), 0o600); err != nil {
				a.log.Warn("check list not kept on disk", "err", err)
			}
		}
		t := a.opts.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// apply compiles a check list and puts it in the scheduler, unless it is
// the one in force.
func (a *Agent) apply(list upstate.AgentChecks, raw string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if raw == a.version {
		return nil
	}
	defs := make([][]byte, len(list.Checks))
	for i, c := range list.Checks {
		defs[i] = []byte(c.Definition)
	}
	cfg, err := config.AgentChecks(defs)
	if err != nil {
		return err
	}
	var jobs []schedule.Job
	for i, ch := range cfg.Checks {
		p, err := ch.Section.Prober(ch.Common(), a.env)
		if err != nil {
			return fmt.Errorf("check %s: %w", ch.ID, err)
		}
		sent := list.Checks[i]
		job := schedule.Job{ID: ch.ID, Interval: sent.Interval, Prober: p, Aligned: true, Slot: sent.Slot}
		if job.Interval <= 0 {
			job.Interval = ch.Interval.D()
		}
		if b, ok := p.(check.Bounded); ok {
			job.SlowAfter = b.LatencyBound()
		}
		jobs = append(jobs, job)
	}
	a.sched.Update(jobs)
	a.version = raw
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	a.log.Info("checks in force", "checks", strings.Join(ids, ", "))
	return nil
}

func (a *Agent) request(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.opts.Server+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.opts.Token.Reveal())
	req.Header.Set("User-Agent", "upstate-probe")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return a.opts.Client.Do(req)
}

func (a *Agent) fetch(ctx context.Context) (upstate.AgentChecks, string, error) {
	resp, err := a.request(ctx, "GET", "/api/v1/agent/checks", nil)
	if err != nil {
		return upstate.AgentChecks{}, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return upstate.AgentChecks{}, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return upstate.AgentChecks{}, "", fmt.Errorf("the server answered %s: %s", resp.Status, serverWords(b))
	}
	var list upstate.AgentChecks
	if err := json.Unmarshal(b, &list); err != nil {
		return upstate.AgentChecks{}, "", fmt.Errorf("the server's check list: %w", err)
	}
	if list.Region != a.opts.Region {
		return upstate.AgentChecks{}, "", fmt.Errorf("the token is region %q's, not %q's: use that region's token", list.Region, a.opts.Region)
	}
	return list, string(b), nil
}

// serverWords is the message of an error answer, or its start.
func serverWords(b []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return strings.TrimSpace(string(b))
}

// send sends what waits, a batch at a time, oldest first; after a
// failure it waits (backing off) and sends the same batch again.
func (a *Agent) send(ctx context.Context) {
	back := newBackoff()
	for {
		b, ok, err := a.queue.Next()
		wait := time.Duration(0)
		switch {
		case err != nil:
			a.log.Error("the buffer cannot be read", "err", err)
			wait = back.next()
		case !ok:
			select {
			case <-ctx.Done():
				return
			case <-a.wake:
			}
			continue
		default:
			if err := a.post(ctx, b); err != nil {
				if ctx.Err() != nil {
					return
				}
				wait = back.next()
				a.log.Warn("results not sent; they wait on disk", "err", err, "waiting", len(b.Results), "retry_in", wait.String())
			} else {
				back.reset()
			}
		}
		if wait > 0 {
			t := a.opts.Clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
		}
	}
}

// post sends one batch. Taken: it leaves the queue. Refused for checks
// the region no longer probes: those results go (the server will never
// take them) and the rest is sent next.
func (a *Agent) post(ctx context.Context, b Batch) error {
	body, err := json.Marshal(map[string]any{"results": b.Results})
	if err != nil {
		return err
	}
	resp, err := a.request(ctx, "POST", "/api/v1/agent/results", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusOK:
		a.queue.Done(b)
		return nil
	case http.StatusForbidden:
		var e struct {
			Refused []string `json:"refused"`
		}
		if json.Unmarshal(out, &e) == nil && len(e.Refused) > 0 {
			keep := slices.DeleteFunc(slices.Clone(b.Results), func(r upstate.AgentResult) bool { return slices.Contains(e.Refused, r.CheckID) })
			a.log.Warn("the server no longer has these checks probed from here: their results are dropped", "checks", strings.Join(e.Refused, ", "), "dropped", len(b.Results)-len(keep))
			return a.queue.Replace(b, keep)
		}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		// A batch the server can never take would block every one after it.
		a.log.Error("the server refused a batch as malformed; it is dropped", "results", len(b.Results), "why", serverWords(out))
		a.queue.Done(b)
		return nil
	}
	return fmt.Errorf("the server answered %s: %s", resp.Status, serverWords(out))
}

// backoff is 1 s doubling to a minute.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = time.Second
	} else {
		b.d = min(2*b.d, time.Minute)
	}
	return b.d
}

func (b *backoff) reset() { b.d = 0 }
