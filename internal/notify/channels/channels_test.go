package channels

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/notify"
	"github.com/upstatehq/upstate/internal/notify/channels/email/emailtest"
)

var t0 = time.Date(2026, 8, 17, 15, 42, 0, 0, time.UTC)

const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// received is one request a fake receiver got.
type received struct {
	Path   string
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// receiver is a fake service: it records requests and answers with code.
type receiver struct {
	mu   sync.Mutex
	got  []received
	code int
	body string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var js map[string]any
	_ = json.Unmarshal(b, &js)
	rc.mu.Lock()
	rc.got = append(rc.got, received{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: b, JSON: js})
	code, body := rc.code, rc.body
	rc.mu.Unlock()
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// event makes a message for an incident event.
func event(typ upstate.EventType, body string) upstate.Message {
	in := upstate.Incident{ID: "p31zjtct2jer", Name: "Elevated API error rates", Status: upstate.Identified, Impact: upstate.ImpactMajor,
		Components: []string{"api"}, StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}
	switch typ {
	case upstate.EventIncidentResolved:
		in.Status = upstate.Resolved
		r := t0.Add(time.Hour)
		in.ResolvedAt = &r
	case upstate.EventIncidentAcknowledged:
		in.AcknowledgedBy = "Dana"
	}
	ev := upstate.Event{ID: in.ID + "." + string(typ), Type: typ, At: t0, Incident: in, Names: map[string]string{"api": "API"},
		Entries: []upstate.TimelineEntry{{ID: "e1", IncidentID: in.ID, At: t0, Status: in.Status, Body: body, Public: true, Actor: "Dana"}}}
	return upstate.Message{ID: "ops:" + ev.ID, Channel: "ops", Stream: in.ID, Event: ev, CreatedAt: t0, NextAt: t0}
}

// schemas check each service's documented payload shape; they return
// what is wrong, if anything.
var schemas = map[string]struct {
	ok     int    // what the real service answers on success
	okBody string // and with
	check  func(t *testing.T, typ upstate.EventType, r received)
}{
	"slack": {200, "ok", func(t *testing.T, _ upstate.EventType, r received) {
		text, _ := r.JSON["text"].(string)
		blocks, _ := r.JSON["blocks"].([]any)
		if text == "" || len(blocks) == 0 || len(blocks) > 50 {
			t.Errorf("slack: text %q, %d blocks", text, len(blocks))
		}
		for _, b := range blocks {
			b := b.(map[string]any)
			switch b["type"] {
			case "header":
				tx := b["text"].(map[string]any)
				if tx["type"] != "plain_text" || utf8.RuneCountInString(tx["text"].(string)) > 150 {
					t.Errorf("slack header = %v", tx)
				}
			case "section":
				if tx, ok := b["text"].(map[string]any); ok && (tx["type"] != "mrkdwn" || utf8.RuneCountInString(tx["text"].(string)) > 3000) {
					t.Errorf("slack section = %v", tx)
				}
				if tx, ok := b["text"].(map[string]any); ok && strings.Contains(tx["text"].(string), "<!channel>") {
					t.Error("slack: user text can ping the channel")
				}
			case "context":
				if len(b["elements"].([]any)) == 0 {
					t.Error("slack: empty context")
				}
			default:
				t.Errorf("slack: unexpected block %v", b["type"])
			}
		}
	}},
	"teams": {202, "", func(t *testing.T, _ upstate.EventType, r received) {
		atts, _ := r.JSON["attachments"].([]any)
		if r.JSON["type"] != "message" || len(atts) != 1 {
			t.Fatalf("teams: %s", r.Body)
		}
		a := atts[0].(map[string]any)
		card, _ := a["content"].(map[string]any)
		if a["contentType"] != "application/vnd.microsoft.card.adaptive" || card["type"] != "AdaptiveCard" || card["version"] != "1.4" || len(card["body"].([]any)) == 0 {
			t.Errorf("teams card = %v", a)
		}
		if len(r.Body) > 28000 {
			t.Errorf("teams: %d bytes, over the message limit", len(r.Body))
		}
	}},
	"discord": {204, "", func(t *testing.T, _ upstate.EventType, r received) {
		if c, _ := r.JSON["content"].(string); utf8.RuneCountInString(c) > 2000 || c == "" {
			t.Errorf("discord content %q", c)
		}
		if u, _ := r.JSON["username"].(string); utf8.RuneCountInString(u) > 80 {
			t.Errorf("discord username %q", u)
		}
		if am, _ := r.JSON["allowed_mentions"].(map[string]any); am == nil || len(am["parse"].([]any)) != 0 {
			t.Errorf("discord: mentions are not off: %v", r.JSON["allowed_mentions"])
		}
		embeds, _ := r.JSON["embeds"].([]any)
		if len(embeds) == 0 || len(embeds) > 10 {
			t.Fatalf("discord: %d embeds", len(embeds))
		}
		total := 0
		for _, e := range embeds {
			e := e.(map[string]any)
			title, desc := e["title"].(string), e["description"].(string)
			total += utf8.RuneCountInString(title) + utf8.RuneCountInString(desc)
			if utf8.RuneCountInString(title) > 256 || utf8.RuneCountInString(desc) > 4096 || len(e["fields"].([]any)) > 25 {
				t.Errorf("discord embed over limits: %v", e)
			}
			if _, err := time.Parse(time.RFC3339, e["timestamp"].(string)); err != nil {
				t.Errorf("discord timestamp: %v", err)
			}
		}
		if total > 6000 {
			t.Errorf("discord: %d characters across embeds", total)
		}
	}},
	"pagerduty": {202, `{"status":"success","message":"Event processed","dedup_key":"x"}`, func(t *testing.T, typ upstate.EventType, r received) {
		action := map[upstate.EventType]string{upstate.EventIncidentCreated: "trigger", upstate.EventIncidentUpdated: "trigger", upstate.EventTest: "trigger",
			upstate.EventIncidentAcknowledged: "acknowledge", upstate.EventIncidentResolved: "resolve"}[typ]
		if r.JSON["routing_key"] != "R0UT1NGKEY" || r.JSON["event_action"] != action {
			t.Errorf("pagerduty %s: %s", typ, r.Body)
		}
		key, _ := r.JSON["dedup_key"].(string)
		if key == "" || len(key) > 255 || (typ != upstate.EventTest && key != "upstate-incident-p31zjtct2jer") {
			t.Errorf("pagerduty dedup_key %q", key)
		}
		if action != "trigger" {
			if _, ok := r.JSON["payload"]; ok {
				t.Errorf("pagerduty %s carries a payload", action)
			}
			return
		}
		p := r.JSON["payload"].(map[string]any)
		if s, _ := p["summary"].(string); s == "" || utf8.RuneCountInString(s) > 1024 || p["source"] == "" ||
			!slices.Contains([]any{"critical", "error", "warning", "info"}, p["severity"]) {
			t.Errorf("pagerduty payload = %v", p)
		}
	}},
	"opsgenie": {202, `{"result":"Request will be processed","took":0.1,"requestId":"r"}`, func(t *testing.T, typ upstate.EventType, r received) {
		if r.Header.Get("Authorization") != "GenieKey 0PS-K3Y" {
			t.Errorf("opsgenie auth %q", r.Header.Get("Authorization"))
		}
		switch typ {
		case upstate.EventIncidentResolved:
			if r.Path != "/v2/alerts/upstate-incident-p31zjtct2jer/close?identifierType=alias" {
				t.Errorf("opsgenie close path %s", r.Path)
			}
		case upstate.EventIncidentAcknowledged:
			if r.Path != "/v2/alerts/upstate-incident-p31zjtct2jer/acknowledge?identifierType=alias" || r.JSON["user"] != "Dana" {
				t.Errorf("opsgenie ack %s %s", r.Path, r.Body)
			}
		default:
			msg, _ := r.JSON["message"].(string)
			alias, _ := r.JSON["alias"].(string)
			if r.Path != "/v2/alerts" || msg == "" || utf8.RuneCountInString(msg) > 130 || alias == "" || len(alias) > 512 ||
				!slices.Contains([]any{"P1", "P2", "P3", "P4", "P5"}, r.JSON["priority"]) {
				t.Errorf("opsgenie create %s %s", r.Path, r.Body)
			}
		}
	}},
	"statuspage": {200, "", func(t *testing.T, typ upstate.EventType, r received) {
		id, ts, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
		if id != "ops:p31zjtct2jer."+string(typ) || ts != strconv.FormatInt(t0.Unix(), 10) {
			t.Errorf("statuspage headers id %q ts %q", id, ts)
		}
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, "whsec_"))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + string(r.Body)))
		if sig != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			t.Errorf("statuspage signature %q does not verify", sig)
		}
		meta, _ := r.JSON["meta"].(map[string]any)
		page, _ := r.JSON["page"].(map[string]any)
		in, _ := r.JSON["incident"].(map[string]any)
		if meta["unsubscribe"] != "https://status.acme.example/unsubscribe?t=x" || page["id"] != "pg1" || page["status_indicator"] != "minor" ||
			in["id"] != "p31zjtct2jer" || len(in["incident_updates"].([]any)) != 1 {
			t.Errorf("statuspage body %s", r.Body)
		}
	}},
	"webhook": {200, "", func(t *testing.T, typ upstate.EventType, r received) {
		id, ts, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
		if id != "ops:p31zjtct2jer."+string(typ) || ts != strconv.FormatInt(t0.Unix(), 10) {
			t.Errorf("webhook headers id %q ts %q", id, ts)
		}
		// Verify as a receiver would, from the spec, not with our Sign.
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, "whsec_"))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + string(r.Body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !slices.Contains(strings.Fields(sig), want) {
			t.Errorf("webhook signature %q does not verify", sig)
		}
		data, _ := r.JSON["data"].(map[string]any)
		if r.JSON["type"] != string(typ) || data == nil || data["incident"].(map[string]any)["id"] != "p31zjtct2jer" {
			t.Errorf("webhook body %s", r.Body)
		}
	}},
}

func spec(kind, url string) Spec {
	s := Spec{ID: "ops", Kind: kind, URL: upstate.Secret(url)}
	switch kind {
	case "pagerduty":
		s.RoutingKey = "R0UT1NGKEY"
	case "opsgenie":
		s.APIKey = "0PS-K3Y"
	case "webhook", SubscriberStatuspage:
		s.Secret = whsec
	}
	if kind == SubscriberStatuspage {
		s.Unsubscribe = "https://status.acme.example/unsubscribe?t=x"
	}
	return s
}

// TestEveryKind walks every registered kind (but the two emails, which
// have their own SMTP test) through the same checks: each event type
// arrives in the service's documented shape; a 5xx is retried, a 4xx is
// final, and a 429 carries its Retry-After.
func TestEveryKind(t *testing.T) {
	deps := Deps{Client: http.DefaultClient, Page: notify.Page{Name: "Acme Status", URL: "https://status.acme.example"}, Now: func() time.Time { return t0 },
		Markdown: markdown.New().HTML, Guarded: http.DefaultClient, PageID: "pg1", Indicator: func() (string, string) { return "minor", "Partial System Outage" }}
	for _, k := range Kinds() {
		if k.Name == "email" || k.Name == SubscriberEmail {
			continue
		}
		t.Run(k.Name, func(t *testing.T) {
			sc, ok := schemas[k.Name]
			if !ok {
				t.Fatalf("kind %s has no schema check: add one", k.Name)
			}
			rc := &receiver{code: sc.ok, body: sc.okBody}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			ch, err := Build(spec(k.Name, srv.URL), deps)
			if err != nil {
				t.Fatal(err)
			}
			// The dispatcher keeps a failing receiver's host to its own slots
			// and circuit: every kind says where it delivers, and only the
			// host; subscribers' URLs, outsiders' to choose, by site.
			want := strings.TrimPrefix(srv.URL, "http://")
			if k.Subscriber {
				want = notify.SiteOf(srv.URL)
			}
			if dc, ok := ch.(notify.Destined); !ok || dc.Destination() != want {
				t.Errorf("destination of %s: %v, want %s", k.Name, ch, want)
			}
			long := strings.Repeat("Word conversions fail <!channel> **now**. ", 400)
			for _, typ := range []upstate.EventType{upstate.EventIncidentCreated, upstate.EventIncidentUpdated, upstate.EventIncidentAcknowledged, upstate.EventIncidentResolved, upstate.EventTest} {
				rc.got = nil
				body := "The issue has been **identified**."
				if typ == upstate.EventIncidentUpdated {
					body = long
				}
				if err := ch.Send(context.Background(), event(typ, body)); err != nil {
					t.Fatalf("%s: %v", typ, err)
				}
				if len(rc.got) != 1 {
					t.Fatalf("%s: %d requests", typ, len(rc.got))
				}
				if ct := rc.got[0].Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s: content type %q", typ, ct)
				}
				sc.check(t, typ, rc.got[0])
			}
			for _, tc := range []struct {
				code      int
				permanent bool
				after     time.Duration
				header    string
			}{{500, false, 0, ""}, {503, false, 0, ""}, {429, false, 30 * time.Second, "30"}, {400, true, 0, ""}, {404, true, 0, ""}, {410, true, 0, ""}} {
				srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tc.header != "" {
						w.Header().Set("Retry-After", tc.header)
					}
					w.WriteHeader(tc.code)
					io.WriteString(w, `{"error":"garbage`)
				})
				err := ch.Send(context.Background(), event(upstate.EventIncidentCreated, "x"))
				perm, after := notify.Classify(err, time.Time{}) // Retry-After in seconds: no clock needed
				if err == nil || perm != tc.permanent || after != tc.after {
					t.Errorf("HTTP %d: err %v, permanent %v, after %v", tc.code, err, perm, after)
				}
				if err != nil && strings.Contains(err.Error(), srv.URL) {
					t.Errorf("HTTP %d: the error shows the URL: %v", tc.code, err)
				}
			}
		})
	}
}

// TestPagerDutyUpdateAcknowledges: an update by someone who had not
// acknowledged yet both refreshes and acknowledges the alert.
func TestPagerDutyUpdateAcknowledges(t *testing.T) {
	rc := &receiver{code: 202}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ch, _ := Build(spec("pagerduty", srv.URL), Deps{Client: http.DefaultClient, Page: notify.Page{Name: "Acme"}, Now: time.Now})
	m := event(upstate.EventIncidentUpdated, "On it.")
	m.Event.Acknowledged = true
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(rc.got) != 2 || rc.got[0].JSON["event_action"] != "trigger" || rc.got[1].JSON["event_action"] != "acknowledge" {
		t.Errorf("requests = %d", len(rc.got))
	}
	m = event(upstate.EventIncidentCreated, "Declared.")
	m.Event.Acknowledged = true
	rc.got = nil
	ch.Send(context.Background(), m)
	if len(rc.got) != 1 {
		t.Error("a declared incident was acknowledged in PagerDuty: nobody would be paged")
	}
}

func TestTemplates(t *testing.T) {
	rc := &receiver{code: 200, body: "ok"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	tm, err := notify.ParseTemplates("{{.Impact}} — {{.Title}} ({{.Components}})", "Latest: {{.Body}}")
	if err != nil {
		t.Fatal(err)
	}
	s := spec("slack", srv.URL)
	s.Templates = tm
	ch, _ := Build(s, Deps{Client: http.DefaultClient, Page: notify.Page{Name: "Acme"}, Now: time.Now})
	ch.Send(context.Background(), event(upstate.EventIncidentCreated, "Down."))
	if txt := rc.got[0].JSON["text"]; txt != "Major — Elevated API error rates (API)" {
		t.Errorf("text = %q", txt)
	}
	if !strings.Contains(string(rc.got[0].Body), "Latest: Down.") {
		t.Errorf("body = %s", rc.got[0].Body)
	}
}

// TestKindsAreConfigsAndDocs: the kinds notifications.channels may use are
// the registry's configurable ones, and the README's channel table
// documents each.
func TestKindsAreConfigsAndDocs(t *testing.T) {
	if got, want := Configurable(), config.ChannelTypes(); !slices.Equal(got, want) {
		t.Errorf("registry's configurable kinds %v, config's channel types %v", got, want)
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range config.ChannelTypes() {
		if !strings.Contains(string(readme), "\n| `"+name+"` |") {
			t.Errorf("the README's channel table has no row for %s", name)
		}
	}
	for _, k := range Kinds() {
		if k.Subscriber && slices.Contains(config.ChannelTypes(), k.Name) {
			t.Errorf("%s is for subscribers, yet configurable", k.Name)
		}
	}
}

// TestSubscriberEmail: a subscriber's mail goes to the one address, shows
// only public entries, and carries the unsubscribe link in its foot and
// its List-Unsubscribe headers.
func TestSubscriberEmail(t *testing.T) {
	box := emailtest.Start(t, emailtest.Options{})
	s := Spec{ID: "subscriber:s1", Kind: SubscriberEmail, To: []string{"ann@example.com"}, Unsubscribe: "https://status.acme.example/unsubscribe?t=s1.sig",
		SMTP: SMTP{Host: "127.0.0.1", Port: box.Port, Security: "none", From: "Acme Status <status@acme.example>"}}
	ch, err := Build(s, Deps{Page: notify.Page{Name: "Acme Status"}, Now: func() time.Time { return t0 }, Markdown: markdown.New().HTML})
	if err != nil {
		t.Fatal(err)
	}
	m := event(upstate.EventIncidentUpdated, "Public news.")
	m.Event.Entries = append(m.Event.Entries, upstate.TimelineEntry{ID: "e2", At: t0, Body: "Internal note.", Actor: "Dana"})
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := box.Mails()
	if len(got) != 1 || got[0].To != "ann@example.com" {
		t.Fatalf("mails = %+v", got)
	}
	data := string(got[0].Data)
	for _, want := range []string{"List-Unsubscribe: <https://status.acme.example/unsubscribe?t=s1.sig>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click", "Precedence: bulk", "Public news."} {
		if !strings.Contains(data, want) {
			t.Errorf("the mail lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(data, "Internal note") {
		t.Errorf("a subscriber was sent an internal note:\n%s", data)
	}
}
