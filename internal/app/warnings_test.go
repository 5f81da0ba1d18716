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
	"github.com/upstatehq/upstate/internal/certtest"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/store"
)

// recorder is an HTTP endpoint that keeps every body it is sent.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (h *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, string(b))
	w.WriteHeader(http.StatusAccepted)
}

func (h *recorder) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// A certificate that expires in five days is the team's warning: their
// channel hears of it once (again only as it comes closer, and when it is
// over), the admin side lists it, and the public page stays operational;
// no alerting service and no subscriber hears of it. Only once it has
// expired does the public status change.
func TestCertificateExpiryWarnsOperators(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	clk := clock.NewFake(now)
	ca := certtest.NewCA(t, now)
	day := 24 * time.Hour
	endpoint := certtest.Serve(t, ca.Leaf(now.Add(5*day+time.Hour), "127.0.0.1"))
	ops, pd := &recorder{}, &recorder{}
	opsSrv, pdSrv := httptest.NewServer(ops), httptest.NewServer(pd)
	defer opsSrv.Close()
	defer pdSrv.Close()
	subSrv := httptest.NewTLSServer(http.NotFoundHandler()) // subscribers' webhooks are https
	defer subSrv.Close()
	yaml := "page: {name: Acme Status, url: 'https://status.acme.example'}\ncomponents:\n  - {id: api, name: API}\n" +
		"checks:\n" +
		"  - {id: api-cert, name: API certificate, kind: tls, address: '" + endpoint.Addr + "', ca_file: '" + ca.File() + "', components: [api], fail_after: 1}\n" +
		"notifications:\n  channels:\n" +
		"    - {id: ops, type: webhook, url: '" + opsSrv.URL + "', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n" +
		"    - {id: pd, type: pagerduty, routing_key: k, url: '" + pdSrv.URL + "'}\n" +
		"subscribers: {webhooks: true, allow_private_addresses: true}\n"
	cfg, err := config.Parse("t.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	a := reopenApp(t, cfg, Options{Clock: clk, NotifyJitter: func() float64 { return 0 }})
	ctx := context.Background()

	// A confirmed webhook subscriber, who must hear nothing of it.
	s, err := a.subs.Subscribe(ctx, upstate.SubscriberWebhook, subSrv.URL+"/hook", nil)
	if err != nil || !s.Confirmed() {
		t.Fatalf("a webhook subscriber is confirmed at once: %+v, %v", s, err)
	}

	probe := func() upstate.Result {
		t.Helper()
		r := runCheck(t, a, "api-cert")
		if _, err := a.dispatcher.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	publicStatus := func() string {
		t.Helper()
		if err := a.snaps.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		a.web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v2/components.json", nil))
		var doc struct {
			Components []struct{ ID, Status string } `json:"components"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || len(doc.Components) != 1 {
			t.Fatalf("components.json: %v %s", err, rec.Body.String())
		}
		return doc.Components[0].Status
	}
	warningTypes := func() []string {
		var out []string
		for _, b := range ops.got() {
			var body struct {
				Type string `json:"type"`
				Data struct {
					Warning *struct {
						What  string `json:"what"`
						Stage int    `json:"stage"`
					} `json:"warning"`
				} `json:"data"`
			}
			json.Unmarshal([]byte(b), &body)
			if !strings.HasPrefix(body.Type, "warning.") {
				continue // the incident's own news, once it has expired
			}
			if body.Data.Warning == nil {
				t.Errorf("ops got a warning without its warning: %s", b)
				continue
			}
			out = append(out, body.Type)
		}
		return out
	}

	// Five days left: operators are told, once.
	for range 3 {
		if r := probe(); r.Outcome != upstate.OutcomeOK || len(r.Warnings) != 1 {
			t.Fatalf("probe: %+v", r)
		}
		clk.Advance(time.Minute)
	}
	if got := warningTypes(); len(got) != 1 || got[0] != "warning.raised" {
		t.Fatalf("ops got %v, want one warning.raised", got)
	}
	if !strings.Contains(ops.got()[0], "expires in 5 days") {
		t.Errorf("ops got %s", ops.got()[0])
	}
	if st := publicStatus(); st != "operational" {
		t.Errorf("public status with a warning = %s, want operational", st)
	}
	if open, _ := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true}); len(open) != 0 {
		t.Errorf("a warning opened incidents: %+v", open)
	}
	// The admin API lists it (and the admin page's incident list shows it).
	u, err := AddUser(ctx, cfg, NewUser{Email: "olga@example.com", Name: "Olga", Role: upstate.RoleOwner, Password: "owner password 1"}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := a.auth.CreateToken(ctx, upstate.Principal{User: u, Scopes: upstate.Scopes()}, "reader", []upstate.Scope{upstate.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/warnings", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, req)
	var listed struct {
		Warnings []struct {
			Check      string   `json:"check"`
			Stage      int      `json:"stage"`
			Components []string `json:"components"`
		} `json:"warnings"`
	}
	if json.Unmarshal(rec.Body.Bytes(), &listed); rec.Code != 200 || len(listed.Warnings) != 1 || listed.Warnings[0].Check != "api-cert" ||
		listed.Warnings[0].Stage != 7 || len(listed.Warnings[0].Components) != 1 {
		t.Errorf("GET /api/v1/warnings: %d %s", rec.Code, rec.Body.String())
	}
	web := httptest.NewServer(a.web.Handler())
	defer web.Close()
	ui := newUI(t, web.URL)
	if code, _, _ := ui.post("/admin/login", url.Values{"email": {"olga@example.com"}, "password": {"owner password 1"}, "next": {"/admin/"}}, nil); code != 200 {
		t.Fatalf("sign in: %d", code)
	}
	if code, page := ui.get("/admin/"); code != 200 || !strings.Contains(page, `<section id="warnings">`) || !strings.Contains(page, "expires in 5 days") ||
		!strings.Contains(page, "API certificate") {
		t.Errorf("the admin incident list does not show the warning: %d\n%s", code, page)
	}
	if list := a.warnings.List(); len(list) != 1 || list[0].CheckName != "API certificate" || !list[0].Due.Equal(now.Add(5*day+time.Hour)) {
		t.Errorf("warnings = %+v", list)
	}

	// A restart tells nothing again.
	a.store.Close()
	a = reopenApp(t, cfg, Options{Clock: clk, NotifyJitter: func() float64 { return 0 }})
	probe()
	if got := warningTypes(); len(got) != 1 {
		t.Errorf("after a restart ops got %v, want still one", got)
	}

	// Under a day left: the next stage, told again.
	clk.AdvanceTo(now.Add(4*day + 2*time.Hour))
	probe()
	probe()
	if got := warningTypes(); len(got) != 2 || !strings.Contains(ops.got()[1], "expires in 23 hours") || !strings.Contains(ops.got()[1], `"stage":1`) {
		t.Errorf("ops got %v (%s), want the second warning at under a day", got, ops.got())
	}
	if st := publicStatus(); st != "operational" {
		t.Errorf("public status a day before expiry = %s", st)
	}

	// Expired: now the public status changes (fail_days 0), and the
	// warning stays, as a failure says nothing of it.
	clk.AdvanceTo(now.Add(5*day + 2*time.Hour))
	if r := probe(); r.Outcome != upstate.OutcomeFail || !strings.Contains(r.Error, "expired 1 hour ago") {
		t.Fatalf("expired: %+v", r)
	}
	if st := publicStatus(); st != "major_outage" {
		t.Errorf("public status once expired = %s, want major_outage", st)
	}
	if len(a.warnings.List()) != 1 {
		t.Errorf("the failure cleared the warning: %+v", a.warnings.List())
	}

	// Renewed: the warning is over, and operators are told so.
	endpoint.Set(ca.Leaf(clk.Now().Add(90*day), "127.0.0.1"))
	clk.Advance(time.Minute)
	probe()
	if got := warningTypes(); len(got) != 3 || got[2] != "warning.cleared" {
		t.Errorf("after renewal ops got %v", got)
	}
	if len(a.warnings.List()) != 0 {
		t.Errorf("warnings after renewal = %+v", a.warnings.List())
	}

	// No alerting service and no subscriber heard of the warnings; the
	// incident's own news went where it goes.
	msgs, err := a.store.ListMessages(ctx, store.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	told := map[string]bool{}
	for _, m := range msgs {
		told[m.Channel] = true
		if m.Event.Warning != nil && (m.Channel != "ops" || m.Lane() != upstate.LaneOperator) {
			t.Errorf("warning message %s went to %s in lane %s", m.ID, m.Channel, m.Lane())
		}
	}
	for _, b := range pd.got() {
		if strings.Contains(b, "warning") || strings.Contains(b, "expires in 5 days") {
			t.Errorf("the alerting service got a warning: %s", b)
		}
	}
	if len(pd.got()) == 0 || !told[upstate.SubscriberChannel(s.ID)] {
		t.Errorf("pagerduty (%d bodies) or the subscriber (%v) heard nothing of the outage either: the test proves nothing", len(pd.got()), told)
	}
}

// A check's ca_file that cannot be read is a problem at its line, with
// the rest, when the configuration is loaded (validate, serve, reload).
func TestCheckFilesAreConfigProblems(t *testing.T) {
	src := "page: {name: X}\ncomponents: [{id: web}]\nchecks:\n" +
		"  - id: c\n    kind: tls\n    address: api.example.com:443\n    ca_file: /nonexistent/ca.pem\n    components: [web]\n" +
		"  - {id: m, kind: smtp, address: 'mx.example.com:25', ca_file: " + t.TempDir() + ", components: [web]}\n" +
		"  - {id: g, kind: grpc, address: 'api:443', tls: true, components: [nope]}\n"
	_, err := config.Parse("t.yaml", []byte(src), noEnv, ConfigRules()...)
	for _, want := range []string{
		"t.yaml:7: checks[0].ca_file: open /nonexistent/ca.pem: no such file or directory",
		"t.yaml:9: checks[1].ca_file: read ",
		`t.yaml:10: checks[2].components[0]: no component has id "nope"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
}
