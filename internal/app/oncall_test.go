package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/incident"
	"github.com/upstatehq/upstate/internal/store"
)

// pageBox records the pages each person's webhook receives.
type pageBox struct {
	mu    sync.Mutex
	pages []string // "HH:MM person level round"
	acks  map[string]string
	loc   *time.Location
	now   func() time.Time
}

func (b *pageBox) handler(person string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type string `json:"type"`
			Data struct {
				Page *struct {
					Level  int    `json:"level"`
					Round  int    `json:"round"`
					Person string `json:"person"`
					Ack    string `json:"acknowledge_url"`
				} `json:"page"`
			} `json:"data"`
		}
		raw, _ := io.ReadAll(r.Body)
		json.Unmarshal(raw, &body)
		b.mu.Lock()
		defer b.mu.Unlock()
		if pg := body.Data.Page; pg != nil {
			b.pages = append(b.pages, b.now().In(b.loc).Format("15:04 MST")+" "+person+" L"+string(rune('0'+pg.Level))+" R"+string(rune('0'+pg.Round)))
			b.acks[person] = pg.Ack
		}
	})
}

// TestPagingAcrossDST: New Zealand springs forward at 02:00 on Sunday 27
// September 2026. An incident at 01:50 pages Dana, on call until the
// 03:00 handoff; fifteen minutes later (03:05 by the clock on the wall)
// nobody has acknowledged, so level 2 pages the schedule again and finds
// Lee; Lee acknowledges from the link in the page, and the next round is
// never sent.
func TestPagingAcrossDST(t *testing.T) {
	nz, _ := time.LoadLocation("Pacific/Auckland")
	clk := clock.NewFake(time.Date(2026, 9, 27, 1, 50, 0, 0, nz))
	box := &pageBox{acks: map[string]string{}, loc: nz, now: clk.Now}
	dana := httptest.NewServer(box.handler("dana"))
	defer dana.Close()
	lee := httptest.NewServer(box.handler("lee"))
	defer lee.Close()
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	yaml := `page: {name: Acme Status, url: 'https://status.acme.example', time_zone: Pacific/Auckland}
components:
  - {id: api, name: API}
notifications:
  channels:
    - {id: dana-hook, type: webhook, url: '` + dana.URL + `', secret: ` + secret + `, events: [incident.resolved]}
    - {id: lee-hook, type: webhook, url: '` + lee.URL + `', secret: ` + secret + `, events: [incident.resolved]}
oncall:
  people:
    - {id: dana, name: Dana, channels: [dana-hook]}
    - {id: lee, name: Lee, channels: [lee-hook]}
  schedules:
    - id: primary
      layers:
        - {rotation: daily, handoff: "03:00", start: 2026-09-02, people: [dana, lee]}
  escalation:
    - id: default
      repeat: 1
      levels:
        - {after: 0m, notify: [schedule:primary]}
        - {after: 15m, notify: [schedule:primary]}
`
	a := newApp(t, yaml, Options{Clock: clk})
	ctx := context.Background()
	// The rotation counts from 2 September: the shift from 26 September
	// 03:00 is Dana's, the one from 27 September 03:00 Lee's.
	in, err := a.engine.Declare(ctx, incident.Change{Name: "API down", Set: map[string]upstate.Status{"api": upstate.MajorOutage}, Actor: upstate.ActorUpstate})
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration) {
		for range int(d / time.Minute) {
			clk.Advance(time.Minute)
			if _, err := a.dispatcher.Drain(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.dispatcher.Drain(ctx)
	step(16 * time.Minute)
	box.mu.Lock()
	got := strings.Join(box.pages, "|")
	ack := box.acks["lee"]
	box.mu.Unlock()
	if want := "01:50 NZST dana L1 R1|03:05 NZDT lee L2 R1"; got != want {
		t.Fatalf("pages:\n %s\nwant\n %s", got, want)
	}
	if !strings.HasPrefix(ack, "https://status.acme.example/ack/"+in.ID+"?p=lee&s=") {
		t.Fatalf("ack link = %q", ack)
	}
	// Lee follows the link: a page that asks, then a POST that acknowledges.
	u, _ := url.Parse(ack)
	h := a.web.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", u.RequestURI(), nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "as <strong>Lee</strong>") {
		t.Fatalf("ack page: %d\n%s", rec.Code, rec.Body)
	}
	if a.engine.Statuses() == nil || mustIncident(t, a, in.ID).AcknowledgedAt != nil {
		t.Fatal("looking at the link acknowledged the incident")
	}
	form := url.Values{"p": {u.Query().Get("p")}, "s": {u.Query().Get("s")}}
	req := httptest.NewRequest("POST", "/ack/"+in.ID, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Thank you, Lee") {
		t.Fatalf("ack: %d\n%s", rec.Code, rec.Body)
	}
	if got := mustIncident(t, a, in.ID); got.AcknowledgedBy != "Lee" {
		t.Errorf("acknowledged by %q", got.AcknowledgedBy)
	}
	// The second round (due 30 minutes after the first) is cancelled: no more pages.
	step(2 * time.Hour)
	box.mu.Lock()
	if len(box.pages) != 2 {
		t.Errorf("pages after the acknowledgement: %v", box.pages)
	}
	box.mu.Unlock()
	cancelled, _ := a.store.ListMessages(ctx, storeFilterCancelled())
	if len(cancelled) != 2 {
		t.Errorf("%d pages cancelled, want the second round's 2", len(cancelled))
	}
	// Who is on call now: Lee, until Monday 03:00 NZDT; then alternating daily.
	sched := a.roster.OnCallNow(ctx)
	if len(sched) != 1 || len(sched[0].Shifts) != 8 || sched[0].Shifts[0].Name != "Lee" || sched[0].Shifts[1].Name != "Dana" ||
		sched[0].Shifts[0].Until.In(nz).Format("Mon 15:04 MST") != "Mon 03:00 NZDT" {
		t.Errorf("on call = %+v", sched)
	}
	// A forged link is refused.
	form.Set("s", "forged")
	req = httptest.NewRequest("POST", "/ack/"+in.ID, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Errorf("forged link: %d", rec.Code)
	}
}

func mustIncident(t *testing.T, a *App, id string) *upstate.Incident {
	t.Helper()
	in, err := a.store.GetIncident(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func storeFilterCancelled() store.MessageFilter {
	return store.MessageFilter{State: upstate.MessageCancelled}
}

// TestOverrideAtRuntime: at 3:42 Lee says "I'll take tonight"; the next
// incident pages Lee, not Dana, whose rotation it is.
func TestOverrideAtRuntime(t *testing.T) {
	nz, _ := time.LoadLocation("Pacific/Auckland")
	clk := clock.NewFake(time.Date(2026, 8, 18, 3, 42, 0, 0, nz))
	yaml := `page: {name: Acme Status, url: 'https://status.acme.example', time_zone: Pacific/Auckland}
components:
  - {id: api, name: API}
notifications:
  channels:
    - {id: dana-hook, type: webhook, url: 'https://hooks.example.com/dana', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, events: [incident.resolved]}
    - {id: lee-hook, type: webhook, url: 'https://hooks.example.com/lee', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, events: [incident.resolved]}
oncall:
  people:
    - {id: dana, name: Dana, channels: [dana-hook]}
    - {id: lee, name: Lee, channels: [lee-hook]}
  schedules:
    - id: primary
      layers:
        - {rotation: weekly, handoff: "09:00", start: 2026-08-03, people: [dana]}
  escalation:
    - id: default
      levels:
        - {after: 0m, notify: [schedule:primary]}
`
	a := newApp(t, yaml, Options{Clock: clk})
	cfg := a.cfg.Load()
	ctx := context.Background()
	if _, err := a.roster.AddOverride(ctx, "primary", "lee", clk.Now(), time.Date(2026, 8, 18, 9, 0, 0, 0, nz), "Lee"); err != nil {
		t.Fatal(err)
	}
	if now := a.roster.OnCallNow(ctx)[0].Shifts[0]; now.Name != "Lee" || !now.Override {
		t.Errorf("on call now = %+v", now)
	}
	in, _ := a.engine.Declare(ctx, incident.Change{Name: "API down", Set: map[string]upstate.Status{"api": upstate.MajorOutage}, Actor: upstate.ActorUpstate})
	pages, _ := a.store.ListMessages(ctx, store.MessageFilter{})
	if len(pages) != 1 || pages[0].Channel != "lee-hook" || pages[0].Event.Incident.ID != in.ID {
		t.Errorf("pages = %+v", pages)
	}
	for _, tc := range []struct {
		sched, person string
		from, until   time.Time
		want          string
	}{
		{"nope", "lee", clk.Now(), clk.Now().Add(time.Hour), `no schedule "nope"`},
		{"primary", "sam", clk.Now(), clk.Now().Add(time.Hour), `no person "sam"`},
		{"primary", "lee", clk.Now(), clk.Now().Add(-time.Hour), "ends before it starts"},
	} {
		if _, err := a.roster.AddOverride(ctx, tc.sched, tc.person, tc.from, tc.until, "Lee"); upstate.ErrorCode(err) != upstate.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	// The admin page shows the override and offers the form.
	if _, err := AddUser(ctx, cfg, NewUser{Email: "lee@example.com", Name: "Lee", Role: upstate.RoleResponder, Password: "a long enough password"}, time.Now); err != nil {
		t.Fatal(err)
	}
	login := httptest.NewRequest("POST", "/admin/login", strings.NewReader("email=lee%40example.com&password=a+long+enough+password"))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, login)
	page := httptest.NewRequest("GET", "/admin/notifications", nil)
	for _, c := range rec.Result().Cookies() {
		page.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, page)
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, `id="override"`) || !strings.Contains(body, "<strong>lee</strong> on call on primary") {
		t.Errorf("admin page: %d\n%s", rec.Code, body)
	}
	list, _ := a.roster.Overrides(ctx)
	if err := a.roster.RemoveOverride(ctx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if now := a.roster.OnCallNow(ctx)[0].Shifts[0]; now.Name != "Dana" {
		t.Errorf("after removing the override: %+v", now)
	}
}
