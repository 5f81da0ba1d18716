package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/store"
)

// hookReceiver is a webhook endpoint that refuses each message's first
// attempt with a 503 and records what it accepts, in order.
type hookReceiver struct {
	mu       sync.Mutex
	seen     map[string]int
	accepted []string // event types
	ids      []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := r.Header.Get("webhook-id")
	h.seen[id]++
	if h.seen[id] == 1 {
		w.WriteHeader(503)
		return
	}
	var body struct {
		Type string `json:"type"`
	}
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &body)
	h.accepted = append(h.accepted, body.Type)
	h.ids = append(h.ids, id)
}

func TestNotificationsThroughTheOutbox(t *testing.T) {
	hook := &hookReceiver{seen: map[string]int{}}
	hsrv := httptest.NewServer(hook)
	defer hsrv.Close()
	var refused int
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refused++
		w.WriteHeader(400)
		io.WriteString(w, "invalid_payload")
	}))
	defer bad.Close()
	yaml := "page: {name: Acme Status, url: 'https://status.acme.example'}\ncomponents:\n  - {id: api, name: API}\n  - {id: drive, name: Drive}\n" +
		"notifications:\n  channels:\n" +
		"    - {id: hook, type: webhook, url: '" + hsrv.URL + "', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n" +
		"    - {id: slack, type: slack, url: '" + bad.URL + "', components: [api]}\n"
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	a := newApp(t, yaml, Options{Clock: clk, NotifyJitter: func() float64 { return 0 }})
	ctx := context.Background()
	in, err := a.engine.Declare(ctx, incident.Change{Name: "Drive sync failing", Message: "Sync fails.", Set: map[string]upstate.Status{"drive": upstate.MajorOutage}, Actor: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	a.engine.Update(ctx, in.ID, incident.Change{Status: upstate.Identified, Message: "The provider is down.", Actor: "Ann"})
	clk.Advance(time.Second)
	a.engine.Update(ctx, in.ID, incident.Change{Status: upstate.Resolved, Message: "Back.", Actor: "Ann"})
	if _, err := a.dispatcher.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	chs, _, _ := a.desk.Channels(ctx)
	if len(chs) != 2 || chs[0].ID != "hook" || chs[0].Pending != 3 || chs[1].Pending != 0 {
		t.Errorf("after the first attempt (the slack route is for api only): %+v", chs)
	}
	// Retries come after the backoff; each message is retried before the next is sent.
	for range 5 {
		clk.Advance(10 * time.Second)
		a.dispatcher.Drain(ctx)
	}
	if got := strings.Join(hook.accepted, ","); got != "incident.created,incident.updated,incident.resolved" {
		t.Errorf("accepted in order %s", got)
	}
	for _, id := range hook.ids {
		if hook.seen[id] != 2 {
			t.Errorf("message %s was sent %d times, want 2 (one 503, one accepted) with the same id", id, hook.seen[id])
		}
	}
	// A silence mutes what it matches: the message is kept as silenced, not sent.
	if _, err := a.silences.Add(ctx, []string{"component=api", "channel=slack"}, time.Time{}, clk.Now().Add(time.Hour), "known issue", "Ann"); err != nil {
		t.Fatal(err)
	}
	muted, _ := a.engine.Declare(ctx, incident.Change{Name: "API slow", Set: map[string]upstate.Status{"api": upstate.DegradedPerformance}, Actor: "Ann"})
	a.dispatcher.Drain(ctx)
	if refused != 0 {
		t.Errorf("a silenced message reached the receiver")
	}
	sil, _ := a.store.ListMessages(ctx, store.MessageFilter{State: upstate.MessageSilenced})
	if len(sil) != 1 || sil[0].Event.Incident.ID != muted.ID || !strings.Contains(sil[0].LastError, "known issue") {
		t.Errorf("silenced = %+v", sil)
	}
	for _, bad := range []struct {
		matchers []string
		ends     time.Time
		comment  string
		want     string
	}{
		{nil, clk.Now().Add(time.Hour), "x", "matchers is required"},
		{[]string{"team=ops"}, clk.Now().Add(time.Hour), "x", `matchers[0]: "team=ops" is not NAME=VALUE`},
		{[]string{"component=api"}, clk.Now().Add(-time.Hour), "x", "ends before it starts"},
		{[]string{"component=api"}, clk.Now().Add(time.Hour), " ", "comment is required"},
	} {
		if _, err := a.silences.Add(ctx, bad.matchers, time.Time{}, bad.ends, bad.comment, "Ann"); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("silence %v: %v, want %q", bad.matchers, err, bad.want)
		}
	}
	list, _ := a.silences.List(ctx)
	if err := a.silences.Remove(ctx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	// A refusing receiver: the message fails at once and shows, and can be retried by hand.
	a.engine.Declare(ctx, incident.Change{Name: "API errors", Set: map[string]upstate.Status{"api": upstate.PartialOutage}, Actor: "Ann"})
	a.dispatcher.Drain(ctx)
	chs, failed, _ := a.desk.Channels(ctx)
	if chs[1].Failed != 1 || len(failed) != 1 || !strings.Contains(failed[0].LastError, "HTTP 400: invalid_payload") || refused != 1 {
		t.Fatalf("failed = %+v %+v", chs, failed)
	}
	if err := a.desk.Retry(ctx, failed[0].ID); err != nil {
		t.Fatal(err)
	}
	a.dispatcher.Drain(ctx)
	if refused != 2 {
		t.Errorf("retry by hand made %d attempts in all, want 2", refused)
	}
	if err := a.desk.Retry(ctx, "nope"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("retry unknown: %v", err)
	}
	// /metrics shows what is owed or was not delivered, by channel and
	// state; what was sent is counted by the attempts counter instead.
	a.countOutbox(ctx)
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var owed []string
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "upstate_notifications{") {
			owed = append(owed, line)
		}
	}
	// The hook answers each message's first try with a 503: two wait to be retried.
	if got := strings.Join(owed, "\n"); got != `upstate_notifications{channel="hook",state="pending"} 2`+"\n"+
		`upstate_notifications{channel="slack",state="failed"} 1`+"\n"+`upstate_notifications{channel="slack",state="silenced"} 1` {
		t.Errorf("outbox gauges:\n%s", got)
	}
	// The test button.
	if err := a.desk.Test(ctx, "slack"); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("test a refusing channel: %v", err)
	}
	if err := a.desk.Test(ctx, "nope"); upstate.ErrorCode(err) != upstate.ENOTFOUND {
		t.Errorf("test unknown: %v", err)
	}
}

// TestTemplateProblems: a template that does not parse, or names what a
// message lacks, stops serve and a reload, reported at its line.
func TestTemplateProblems(t *testing.T) {
	const base = "page: {name: X}\ncomponents:\n  - {id: api, name: API}\nnotifications:\n  channels:\n"
	bad := base + "    - {id: a, type: slack, url: https://x, template: {title: '{{.Nope}}'}}\n    - {id: b, type: slack, url: https://x, template: {body: '{{'}}\n"
	cfg, err := config.Parse("t.yaml", []byte(bad), noEnv)
	if err != nil {
		t.Fatalf("config alone does not know what a message has: %v", err)
	}
	cfg.Server.DataDir = t.TempDir()
	_, err = New(context.Background(), Options{Config: cfg})
	var probs *config.Problems
	if !errors.As(err, &probs) || len(probs.Items) != 2 {
		t.Fatalf("New: %v, want the two problems", err)
	}
	for _, want := range []string{"t.yaml:6: notifications.channels[0].template: title template:", "t.yaml:7: notifications.channels[1].template: body template:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, err := config.Parse("t.yaml", []byte(bad), noEnv, ConfigRules()...); err == nil || err.Error() != probs.Error() {
		t.Errorf("config with app's rules: %v, want the same problems", err)
	}
	a := newApp(t, base+"    - {id: a, type: slack, url: https://x}\n", Options{})
	if err := a.Reload(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "title template:") {
		t.Errorf("reload with a bad template: %v", err)
	}
	if got := a.board.Configured().Order; len(got) != 1 || got[0] != "a" || a.cfg.Load() == cfg {
		t.Errorf("a refused reload changed the channels: %v", got)
	}
}
