package respond

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

// A failed sign-in names the address typed only when it is one: a
// password typed in the email field is never recorded.
func TestSignInAs(t *testing.T) {
	for _, tc := range []struct{ typed, want string }{
		{"ana@example.com", `"ana@example.com"`},
		{"  ana@example.com ", `"ana@example.com"`},
		{"correct horse battery", "an address that is not an email"},
		{"hunter2hunter2", "an address that is not an email"},
		{"@example.com", "an address that is not an email"},
		{"ana@", "an address that is not an email"},
		{"", "an address that is not an email"},
	} {
		if got := SignInAs(tc.typed); got != tc.want {
			t.Errorf("SignInAs(%q) = %s, want %s", tc.typed, got, tc.want)
		}
	}
}

type fakeLog struct {
	got []upstate.AuditEntry
	err error
}

func (f *fakeLog) AppendAudit(_ context.Context, e upstate.AuditEntry) error {
	f.got = append(f.got, e)
	return f.err
}

func (f *fakeLog) ListAudit(context.Context, upstate.AuditFilter) ([]upstate.AuditEntry, error) {
	return f.got, nil
}

// The middleware's parts: reads are never recorded; a change is, after
// its handler, with the status it answered, its route, its targets and
// the handler's words; one that recorded itself is not recorded twice; an
// entry the store refuses is logged loudly, and the request still ends.
func TestAuditor(t *testing.T) {
	now := time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)
	serve := func(a Auditor, method string, h func(w http.ResponseWriter, r *http.Request)) {
		mux := http.NewServeMux()
		mux.HandleFunc(method+" /api/v1/incidents/{id}/updates/{entry}", func(w http.ResponseWriter, r *http.Request) {
			x, w, r := a.Begin(w, r)
			defer x.End(&upstate.Principal{User: upstate.User{ID: "u1", Name: "Ana", Email: "ana@example.com"}})
			h(w, r)
		})
		req := httptest.NewRequest(method, "/api/v1/incidents/inc1/updates/e1", nil)
		req.Header.Set("User-Agent", "curl/8")
		mux.ServeHTTP(httptest.NewRecorder(), req)
	}
	log := &fakeLog{}
	a := Auditor{Log: log, Now: func() time.Time { return now }}
	serve(a, "GET", func(w http.ResponseWriter, r *http.Request) { Describe(r, "read") })
	if len(log.got) != 0 {
		t.Errorf("a read was recorded: %+v", log.got)
	}
	serve(a, "PATCH", func(w http.ResponseWriter, r *http.Request) {
		Describe(r, "edited entry e1")
		AuditTarget(r, "extra")
		w.WriteHeader(http.StatusConflict)
	})
	if len(log.got) != 1 {
		t.Fatalf("recorded %d", len(log.got))
	}
	e := log.got[0]
	if e.Action != "failed (409): edited entry e1" || e.Status != 409 || e.Route != "PATCH /api/v1/incidents/{id}/updates/{entry}" || strings.Join(e.Targets, ",") != "inc1,e1,extra" ||
		e.Actor != "Ana <ana@example.com>" || e.ActorID != "u1" || e.Addr != "192.0.2.1" || e.UserAgent != "curl/8" || !e.At.Equal(now) {
		t.Errorf("entry = %+v", e)
	}
	serve(a, "PATCH", func(w http.ResponseWriter, r *http.Request) { Recorded(r) })
	if len(log.got) != 1 {
		t.Errorf("a change that recorded itself was recorded again")
	}
	a.Words = map[string]string{"PATCH /api/v1/incidents/{id}/updates/{entry}": "corrected"}
	serve(a, "PATCH", func(w http.ResponseWriter, r *http.Request) {})
	if got := log.got[len(log.got)-1].Action; got != "corrected inc1 e1" {
		t.Errorf("a route's words: %q", got)
	}
	a.Words = nil
	serve(a, "PATCH", func(w http.ResponseWriter, r *http.Request) {})
	if got := log.got[len(log.got)-1].Action; got != "PATCH /api/v1/incidents/inc1/updates/e1" {
		t.Errorf("a route without words: %q", got)
	}
	var logged bytes.Buffer
	refusing := Auditor{Log: &fakeLog{err: errors.New("disk full")}, Now: a.Now, Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	serve(refusing, "PATCH", func(w http.ResponseWriter, r *http.Request) { Describe(r, "edited entry e1") })
	if out := logged.String(); !strings.Contains(out, "audit entry not written") || !strings.Contains(out, "disk full") || !strings.Contains(out, `action="edited entry e1"`) {
		t.Errorf("logged: %s", out)
	}
	serve(Auditor{}, "PATCH", func(w http.ResponseWriter, r *http.Request) { Describe(r, "no log, no panic") })
}
