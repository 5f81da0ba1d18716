package notify_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels/statuspage"
	"github.com/upstatehq/upstate/internal/notify/channels/webhook"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

// BenchmarkPageBehindHangingSubscribers measures how long a page waits
// from falling due to reaching its receiver while 1,000 webhook
// subscribers point at a host that accepts connections and never answers.
// Everything is real but the network, which is loopback: the SQLite
// outbox, the channels, the dispatcher with its default options (15 s
// attempt timeout). Each iteration writes one page due 100 ms ahead (as
// the incident engine writes an escalation level, then wakes the
// dispatcher) and waits for it to arrive; p50, p99 and max of the delay
// from due to arrival are reported.
// Run with: go test ./internal/notify -run '^$' -bench PageBehind -benchtime 40x
func BenchmarkPageBehindHangingSubscribers(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "upstate.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	// The hanging host: accepts, reads nothing, never answers.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var conns []net.Conn
	var cmu sync.Mutex
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			conns = append(conns, c)
			cmu.Unlock()
		}
	}()
	defer func() {
		hung.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
	}()

	arrived := make(chan string, 16)
	pager := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("webhook-id")
	}))
	defer pager.Close()

	secret := upstate.Secret("whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	client := &http.Client{Timeout: 15 * time.Second}
	page := notify.Page{Name: "Bench", URL: "https://status.example"}
	channels := map[string]notify.Channel{}
	pd, err := webhook.New(webhook.Options{URL: pager.URL, Secret: secret, Client: client, Page: page, Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	channels["oncall"] = pd
	now := time.Now()
	var subs []upstate.Message
	for i := range 1000 {
		id := upstate.SubscriberChannel(fmt.Sprint(i))
		ch, err := statuspage.New(statuspage.Options{URL: "http://" + hung.Addr().String() + "/hook/" + fmt.Sprint(i), Secret: secret, Client: client,
			Page: page, Indicator: func() (string, string) { return "major", "Major outage" }, Now: time.Now})
		if err != nil {
			b.Fatal(err)
		}
		channels[id] = ch
		subs = append(subs, upstate.Message{ID: id + ":ev", Channel: id, Stream: "inc-1", CreatedAt: now, NextAt: now, State: upstate.MessagePending,
			Event: upstate.Event{ID: "ev", Type: upstate.EventIncidentCreated, At: now, Incident: upstate.Incident{ID: "inc-1", Name: "API errors"}}})
	}
	if err := db.EnqueueMessages(ctx, subs); err != nil {
		b.Fatal(err)
	}
	d, err := notify.New(notify.Options{Outbox: db, Clock: clock.Real{},
		Channel: func(id string) (notify.Channel, bool) { ch, ok := channels[id]; return ch, ok }})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	// Let the subscribers' attempts start and hang first.
	time.Sleep(2 * time.Second)
	var delays []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		due := time.Now().Add(100 * time.Millisecond)
		ev := upstate.Event{ID: fmt.Sprintf("page-%d", i), Type: upstate.EventIncidentCreated, At: due, Incident: upstate.Incident{ID: "inc-1", Name: "API errors"},
			Page: &upstate.Page{Level: 1, Run: 1, Person: "dana"}}
		m := upstate.Message{ID: "oncall:" + ev.ID, Channel: "oncall", Stream: upstate.PageStream("inc-1") + fmt.Sprint(i), Event: ev, CreatedAt: due, NextAt: due, State: upstate.MessagePending}
		if err := db.EnqueueMessages(ctx, []upstate.Message{m}); err != nil {
			b.Fatal(err)
		}
		d.Wake()
		select {
		case <-arrived:
			delays = append(delays, time.Since(due))
		case <-time.After(120 * time.Second):
			b.Fatalf("page %d not delivered within 120 s", i)
		}
	}
	b.StopTimer()
	slices.Sort(delays)
	q := func(p float64) float64 { return delays[min(len(delays)-1, int(p*float64(len(delays))))].Seconds() }
	b.ReportMetric(q(0.5), "p50-s")
	b.ReportMetric(q(0.99), "p99-s")
	b.ReportMetric(delays[len(delays)-1].Seconds(), "max-s")
}
