package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/notify/channels/email/emailtest"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/subscribe"
)

func TestSubscribers(t *testing.T) {
	box := emailtest.Start(t, emailtest.Options{})
	var hookMu sync.Mutex
	var hooks []*http.Request
	var hookBodies [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hookMu.Lock()
		hooks, hookBodies = append(hooks, r), append(hookBodies, b)
		hookMu.Unlock()
	}))
	defer hook.Close()
	yaml := `page: {name: Acme Status, url: 'https://status.acme.example'}
components:
  - {id: api, name: API}
  - {id: drive, name: Drive}
subscribers:
  email:
    smtp: {host: 127.0.0.1, port: ` + strconv.Itoa(box.Port) + `, security: none, from: "Acme Status <status@acme.example>"}
  webhooks: true
  allow_private_addresses: true
`
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	a := newApp(t, yaml, Options{Clock: clk})
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h := a.web.Handler()
	do := func(method, target string, form url.Values) (int, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	drain := func() {
		t.Helper()
		if _, err := a.dispatcher.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mails := func() []*mail.Message {
		var out []*mail.Message
		for _, m := range box.Mails() {
			msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, msg)
		}
		return out
	}
	bodyOf := func(m *mail.Message) string { b, _ := io.ReadAll(quotedprintable.NewReader(m.Body)); return string(b) }

	// The page offers it.
	if code, page := do("GET", "/", nil); code != 200 || !strings.Contains(page, `action="/subscribe"`) {
		t.Fatalf("the page has no subscribe form: %d", code)
	}
	// Subscribe by email, to API only: a confirmation mail, nothing else until confirmed.
	code, page := do("POST", "/subscribe", url.Values{"kind": {"email"}, "address": {"Ann@Example.com"}, "component": {"api"}})
	if code != 200 || !strings.Contains(page, "Check your inbox") {
		t.Fatalf("subscribe: %d\n%s", code, page)
	}
	drain()
	ms := mails()
	if len(ms) != 1 || ms[0].Header.Get("To") != "ann@example.com" {
		t.Fatalf("confirmation mails = %d", len(ms))
	}
	confirm := regexp.MustCompile(`https://status\.acme\.example(/subscribe/confirm\?t=[A-Za-z0-9._=-]+)`).FindStringSubmatch(bodyOf(ms[0]))
	if confirm == nil {
		t.Fatal("the confirmation mail has no link")
	}
	in, _ := a.engine.Declare(ctx, incident.Change{Name: "API errors", Message: "Errors on uploads.", Set: map[string]upstate.Status{"api": upstate.PartialOutage}, Actor: "Ann"})
	drain()
	if len(box.Mails()) != 1 {
		t.Fatal("an unconfirmed address was sent an incident")
	}
	link, _ := url.QueryUnescape(confirm[1])
	u, _ := url.Parse(link)
	if code, page := do("GET", u.RequestURI(), nil); code != 200 || !strings.Contains(page, "Confirm</button>") {
		t.Fatalf("confirm page: %d", code)
	}
	if code, page := do("POST", "/subscribe/confirm", url.Values{"t": {u.Query().Get("t")}}); code != 200 || !strings.Contains(page, "Subscribed") {
		t.Fatalf("confirm: %d\n%s", code, page)
	}
	if code, _ := do("POST", "/subscribe/confirm", url.Values{"t": {"x.forged"}}); code != 403 {
		t.Errorf("forged confirm: %d", code)
	}

	// A webhook subscriber gets its secret once.
	code, page = do("POST", "/subscribe", url.Values{"kind": {"webhook"}, "address": {hook.URL + "/status"}})
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(html.UnescapeString(page))
	if code != 200 || secret == "" {
		t.Fatalf("webhook subscribe: %d\n%s", code, page)
	}

	// Public updates reach both; internal notes and other components do not.
	a.engine.Update(ctx, in.ID, incident.Change{Message: "Paged the DBA.", Public: new(bool), Actor: "Ann"})
	a.engine.Update(ctx, in.ID, incident.Change{Status: upstate.Identified, Message: "A lock on **submissions**.", Actor: "Ann"})
	a.engine.Declare(ctx, incident.Change{Name: "Drive sync", Set: map[string]upstate.Status{"drive": upstate.MajorOutage}, Actor: "Ann"})
	drain()
	ms = mails()
	if len(ms) != 2 {
		t.Fatalf("%d mails, want the confirmation and one update", len(ms))
	}
	up := ms[1]
	body := bodyOf(up)
	if !strings.Contains(body, "A lock on **submissions**") || strings.Contains(body, "Paged the DBA") {
		t.Errorf("update mail:\n%s", body)
	}
	lu := up.Header.Get("List-Unsubscribe")
	if !strings.HasPrefix(lu, "<https://status.acme.example/unsubscribe?t=") || up.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(body, "Unsubscribe: https://status.acme.example/unsubscribe?t=") {
		t.Errorf("unsubscribe headers: %q %q", lu, up.Header.Get("List-Unsubscribe-Post"))
	}
	hookMu.Lock()
	if len(hooks) != 2 { // the API incident's update, and the drive incident (all components)
		t.Fatalf("webhook got %d", len(hooks))
	}
	r, b := hooks[0], hookBodies[0]
	if !strings.Contains(string(b), in.ID) { // streams of different incidents go side by side
		r, b = hooks[1], hookBodies[1]
	}
	hookMu.Unlock()
	var doc struct {
		Meta struct{ Unsubscribe string } `json:"meta"`
		Page struct {
			StatusIndicator string `json:"status_indicator"`
		} `json:"page"`
		Incident struct {
			ID              string                  `json:"id"`
			Status          string                  `json:"status"`
			IncidentUpdates []struct{ Body string } `json:"incident_updates"`
		} `json:"incident"`
	}
	json.Unmarshal(b, &doc)
	if doc.Incident.ID != in.ID || doc.Incident.Status != "identified" || len(doc.Incident.IncidentUpdates) != 1 || !strings.HasPrefix(doc.Meta.Unsubscribe, "https://status.acme.example/unsubscribe?t=") || doc.Page.StatusIndicator == "" {
		t.Errorf("webhook body = %s", b)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(b)))
	if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Error("the webhook signature does not verify with the secret shown")
	}

	// One-click unsubscribe, as a mail provider does it (RFC 8058).
	unsub, _ := url.Parse(strings.Trim(lu, "<>"))
	req := httptest.NewRequest("POST", unsub.RequestURI(), strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Unsubscribed") {
		t.Fatalf("one-click unsubscribe: %d\n%s", rec.Code, rec.Body)
	}
	a.engine.Update(ctx, in.ID, incident.Change{Status: upstate.Resolved, Message: "Fixed.", Actor: "Ann"})
	drain()
	if n := len(box.Mails()); n != 2 {
		t.Errorf("%d mails after unsubscribing, want 2", n)
	}
	if code, _ := do("GET", unsub.RequestURI(), nil); code != 404 {
		t.Errorf("a used unsubscribe link: %d", code)
	}
	// Subscribers add no series to the public /metrics: their messages
	// are counted together.
	a.countOutbox(ctx)
	if _, m := do("GET", "/metrics", nil); strings.Contains(m, "subscriber:") || !strings.Contains(m, `upstate_notification_attempts_total{channel="subscribers",outcome="sent"}`) {
		t.Errorf("/metrics labels subscribers one by one:\n%s", grepLines(m, "upstate_notification"))
	}

	// Bad input.
	for _, tc := range []struct {
		form url.Values
		code int
		want string
	}{
		{url.Values{"kind": {"email"}, "address": {"not an address"}}, 400, "is not an email address"},
		{url.Values{"kind": {"email"}, "address": {"cy@example.com"}}, 200, "Check your inbox"},
		{url.Values{"kind": {"email"}, "address": {"CY@example.com"}}, 409, "subscribed already"},
		{url.Values{"kind": {"email"}, "address": {"bo@example.com"}, "component": {"nope"}}, 400, `no component &#34;nope&#34;`},
		{url.Values{"kind": {"webhook"}, "address": {"ftp://x"}}, 400, "is not an https URL"},
		{url.Values{"kind": {"pigeon"}, "address": {"x"}}, 400, "is not email or webhook"},
	} {
		if code, page := do("POST", "/subscribe", tc.form); code != tc.code || !strings.Contains(page, tc.want) {
			t.Errorf("%v: %d, want %d with %q\n", tc.form, code, tc.code, tc.want)
		}
	}
}

// TestSubscriberWebhookGuard runs the SSRF guard as it runs by default,
// with allow_private_addresses off (TestSubscribers turns it on, as its
// receiver is on loopback): a webhook into the server's own networks is
// refused when subscribed, and one whose address has become private since
// is not dialled when sent.
func TestSubscriberWebhookGuard(t *testing.T) {
	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer hook.Close()
	_, port, _ := net.SplitHostPort(hook.Listener.Addr().String())
	yaml := "page: {name: Acme Status, url: 'https://status.acme.example'}\ncomponents:\n  - {id: api, name: API}\n" +
		"subscribers:\n  webhooks: true\n"
	clk := clock.NewFake(time.Date(2026, 8, 17, 15, 0, 0, 0, time.UTC))
	opts := Options{Clock: clk, NotifyJitter: func() float64 { return 0 }}
	ctx := context.Background()

	t.Run("refused when subscribed", func(t *testing.T) {
		a := newApp(t, yaml, opts)
		h := a.web.Handler()
		for _, tc := range []struct {
			name, url string
			want      []string
		}{
			{"loopback", "https://127.0.0.1:" + port + "/status", []string{"url: 127.0.0.1 resolves to 127.0.0.1, which is not a public address: 127.0.0.0/8 is Loopback"}},
			// localhost comes from /etc/hosts, as 127.0.0.1 or ::1.
			{"a name for loopback", "https://localhost:" + port + "/status", []string{"url: localhost resolves to ", ", which is not a public address: ", " is Loopback"}},
			{"private", "https://10.0.0.1/status", []string{"url: 10.0.0.1 resolves to 10.0.0.1, which is not a public address: 10.0.0.0/8 is Private-Use"}},
			{"metadata through NAT64", "https://[64:ff9b::a9fe:a9fe]/latest", []string{"embeds 169.254.169.254, and 169.254.0.0/16 is Link Local"}},
			{"plain http", hook.URL + "/status", []string{`url: "` + hook.URL + `/status" is not an https URL`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req := httptest.NewRequest("POST", "/subscribe", strings.NewReader(url.Values{"kind": {"webhook"}, "address": {tc.url}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				page := html.UnescapeString(rec.Body.String())
				if rec.Code != http.StatusBadRequest {
					t.Errorf("status %d, want 400", rec.Code)
				}
				for _, w := range tc.want {
					if !strings.Contains(page, w) {
						t.Errorf("the page does not say %q:\n%s", w, page)
					}
				}
			})
		}
		if subs, err := a.subs.List(ctx); err != nil || len(subs) != 0 {
			t.Errorf("subscribers = %v, %v; want none", subs, err)
		}
	})

	t.Run("not dialled once private", func(t *testing.T) {
		// Subscribed while private addresses were allowed, and delivered
		// to; then restarted with them refused, as a name that rebinds
		// to loopback would be found at dial time.
		allowed, err := config.Parse("t.yaml", []byte(yaml+"  allow_private_addresses: true\n"), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		allowed.Server.DataDir = t.TempDir()
		a := reopenApp(t, allowed, opts)
		sub, err := a.subs.Subscribe(ctx, upstate.SubscriberWebhook, "http://localhost:"+port+"/status", nil)
		if err != nil {
			t.Fatal(err)
		}
		in, err := a.engine.Declare(ctx, incident.Change{Name: "API errors", Message: "Errors on uploads.", Set: map[string]upstate.Status{"api": upstate.PartialOutage}, Actor: "Ann"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.dispatcher.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if n := hits.Load(); n != 1 {
			t.Fatalf("with private addresses allowed, the receiver got %d requests, want 1", n)
		}
		a.store.Close()

		guarded, err := config.Parse("t.yaml", []byte(yaml), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		guarded.Server.DataDir = allowed.Server.DataDir
		a = reopenApp(t, guarded, opts)
		clk.Advance(time.Minute)
		if _, err := a.engine.Update(ctx, in.ID, incident.Change{Status: upstate.Identified, Message: "A bad deploy.", Actor: "Ann"}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the first attempt and its retry
			if _, err := a.dispatcher.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Hour)
		}
		if n := hits.Load(); n != 1 {
			t.Errorf("the receiver got %d requests, want only the one sent before the restart", n)
		}
		msgs, err := a.store.ListMessages(ctx, store.MessageFilter{Channel: upstate.SubscriberChannel(sub.ID)})
		if err != nil {
			t.Fatal(err)
		}
		var refused []upstate.Message
		var states []upstate.MessageState
		for _, m := range msgs {
			if m.State != upstate.MessageSent {
				refused = append(refused, m)
			}
			states = append(states, m.State)
		}
		if len(refused) != 1 {
			t.Fatalf("messages %v: want the update not sent", states)
		}
		m := refused[0]
		if m.Attempts < 2 || !strings.Contains(m.LastError, "refusing to connect to ") || !strings.Contains(m.LastError, "not a public address: ") || !strings.Contains(m.LastError, " is Loopback") {
			t.Errorf("after %d attempts, %s: %q; want the guard's refusal, retried", m.Attempts, m.State, m.LastError)
		}
	})

	t.Run("not dialled once reloaded private", func(t *testing.T) {
		// The same, without a restart: a reload that turns the guard on
		// guards what is sent from then on.
		allowed, err := config.Parse("t.yaml", []byte(yaml+"  allow_private_addresses: true\n"), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		allowed.Server.DataDir = t.TempDir()
		a := reopenApp(t, allowed, opts)
		if _, err := a.subs.Subscribe(ctx, upstate.SubscriberWebhook, "http://localhost:"+port+"/status", nil); err != nil {
			t.Fatal(err)
		}
		before := hits.Load()
		in, err := a.engine.Declare(ctx, incident.Change{Name: "API errors", Message: "Errors on uploads.", Set: map[string]upstate.Status{"api": upstate.PartialOutage}, Actor: "Ann"})
		if err != nil {
			t.Fatal(err)
		}
		a.dispatcher.Drain(ctx)
		if n := hits.Load() - before; n != 1 {
			t.Fatalf("with private addresses allowed, the receiver got %d requests, want 1", n)
		}
		guarded, err := config.Parse("t.yaml", []byte(yaml), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		guarded.Server.DataDir = allowed.Server.DataDir
		if err := a.Reload(ctx, guarded); err != nil {
			t.Fatal(err)
		}
		a.engine.Update(ctx, in.ID, incident.Change{Status: upstate.Identified, Message: "A bad deploy.", Actor: "Ann"})
		a.dispatcher.Drain(ctx)
		if n := hits.Load() - before; n != 1 {
			t.Errorf("after the reload the receiver got %d requests, want only the one before it", n)
		}
	})
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// One site may have only so many webhook subscriptions, so names under
// one wildcard domain cannot fill the subscribers' lane.
func TestWebhooksPerSite(t *testing.T) {
	a := newApp(t, "page: {name: Acme Status, url: 'https://status.acme.example'}\ncomponents:\n  - {id: api, name: API}\n"+
		"subscribers:\n  webhooks: true\n  allow_private_addresses: true\n", Options{})
	ctx := context.Background()
	for i := range subscribe.MaxWebhooksPerSite {
		if _, err := a.subs.Subscribe(ctx, upstate.SubscriberWebhook, fmt.Sprintf("http://127.0.0.1:9/hook/%d", i), nil); err != nil {
			t.Fatalf("webhook %d: %v", i+1, err)
		}
	}
	_, err := a.subs.Subscribe(ctx, upstate.SubscriberWebhook, "http://127.0.0.1:9/hook/one-more", nil)
	if upstate.ErrorCode(err) != upstate.ECONFLICT || !strings.Contains(err.Error(), "127.0.0.1 has 20 webhook subscriptions already") {
		t.Errorf("webhook %d on one site: %v, want ECONFLICT naming the site", subscribe.MaxWebhooksPerSite+1, err)
	}
}
