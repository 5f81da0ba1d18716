package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/notify/channels/email/emailtest"
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
