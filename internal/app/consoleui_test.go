package app

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/upstatehq/upstate"
)

// formClient is a signed-in browser that does not follow redirects, so a
// test sees where a form sends it.
type formClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func consoleSignIn(t *testing.T, base, email, password string) *formClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	f := &formClient{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if code, _, _ := f.post("/admin/login", url.Values{"email": {email}, "password": {password}}, nil); code != 303 {
		t.Fatalf("sign in %s: %d", email, code)
	}
	return f
}

func (f *formClient) send(req *http.Request) (int, string, string) {
	f.t.Helper()
	resp, err := f.c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

func (f *formClient) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", f.base+path, nil)
	code, body, _ := f.send(req)
	return code, body
}

func (f *formClient) post(path string, form url.Values, hdr map[string]string) (int, string, string) {
	req, _ := http.NewRequest("POST", f.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return f.send(req)
}

func TestConsoleAdminUI(t *testing.T) {
	a, _ := startConsoleApp(t)
	base := "http://" + a.Addr()
	rui := consoleSignIn(t, base, "responder@example.com", "responder password")
	vic := consoleSignIn(t, base, "viewer@example.com", "viewer password 1")

	code, body := rui.get("/admin/")
	if code != 200 || !strings.Contains(body, `href="/admin/checks/new"`) || !strings.Contains(body, `href="/admin/components"`) {
		t.Errorf("navigation lacks the console's pages: %d", code)
	}
	if _, body := vic.get("/admin/"); strings.Contains(body, `href="/admin/checks/new"`) || !strings.Contains(body, `href="/admin/components"`) {
		t.Error("a viewer's navigation offers a new check, or no components page")
	}
	if code, _ := vic.get("/admin/checks/new"); code != 403 {
		t.Errorf("viewer's new check: %d", code)
	}
	code, body = rui.get("/admin/checks/new")
	if code != 200 || !strings.Contains(body, `<option value="heartbeat">`) || !strings.Contains(body, `name="components" value="drive"`) {
		t.Fatalf("new check form: %d\n%s", code, body)
	}

	// Refused in the form's words, next to the form, as typed.
	form := url.Values{"id": {"backup"}, "name": {"Backups"}, "kind": {"http"}, "timeout": {"soon"}, "components": {"drive"}, "keys": {"url: http://127.0.0.1:1/\naddress: a:1\n"}}
	code, body, _ = rui.post("/admin/checks", form, nil)
	if code != 400 || !strings.Contains(body, "Timeout: &#34;soon&#34; is not a duration") || !strings.Contains(body, "Address: address applies to tcp, grpc, smtp and tls checks, not http") ||
		!strings.Contains(body, `value="Backups"`) || !strings.Contains(body, "address: a:1") {
		t.Errorf("refused check: %d\n%s", code, body)
	}
	form = url.Values{"id": {"backup"}, "kind": {"http"}, "components": {"drive"}, "keys": {"url: [unclosed"}}
	if code, body, _ := rui.post("/admin/checks", form, nil); code != 400 || !strings.Contains(body, "The kind&#39;s keys are not YAML") {
		t.Errorf("bad YAML: %d\n%s", code, body)
	}
	// A form from another site is refused.
	if code, _, _ := rui.post("/admin/checks", form, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); code != 403 {
		t.Errorf("cross-site form: %d", code)
	}

	form = url.Values{"id": {"backup"}, "name": {"Backups"}, "kind": {"heartbeat"}, "components": {"drive", "api"}, "keys": {"period: 1h\ntoken: s3cret-literal\n"}}
	code, _, loc := rui.post("/admin/checks", form, nil)
	if code != 303 || !strings.HasPrefix(loc, "/admin/checks/backup?done=") || !running(a, "backup") {
		t.Fatalf("create: %d %q", code, loc)
	}
	code, body = rui.get("/admin/checks/backup/edit")
	if code != 200 || !strings.Contains(body, `value="Backups"`) || !strings.Contains(body, "period: 1h") || !strings.Contains(body, "token: &lt;secret&gt;") || strings.Contains(body, "s3cret-literal") {
		t.Fatalf("edit form: %d\n%s", code, body)
	}
	// Saved with the secret as shown, a key removed: the secret is kept.
	form = url.Values{"id": {"backup"}, "kind": {"heartbeat"}, "components": {"drive"}, "keys": {"period: 2h\ntoken: <secret>\n"}}
	if code, body, loc := rui.post("/admin/checks/backup", form, nil); code != 303 || loc != "/admin/checks/backup?done=Check+saved" {
		t.Fatalf("save: %d %q\n%s", code, loc, body)
	}
	it, _ := a.stored(upstate.ConsoleCheck, "backup")
	if k := keysOf(it); k["period"] != "2h" || k["token"] != "s3cret-literal" || k["name"] != nil || len(k["components"].([]any)) != 1 {
		t.Errorf("stored = %s", it.Keys)
	}

	// The file's: read-only, and refused.
	if code, body := rui.get("/admin/checks/nightly/edit"); code != 200 || !strings.Contains(body, "managed in upstate.yaml") || !strings.Contains(body, "<fieldset disabled>") {
		t.Errorf("provisioned edit page: %d\n%s", code, body)
	}
	if code, body, _ := rui.post("/admin/checks/nightly/pause", nil, nil); code != 409 || !strings.Contains(body, "managed in upstate.yaml; change it there") {
		t.Errorf("pausing the file's: %d\n%s", code, body)
	}
	if code, body, _ := rui.post("/admin/checks/nightly", url.Values{"id": {"nightly"}, "kind": {"heartbeat"}}, nil); code != 409 || !strings.Contains(body, "managed in upstate.yaml") {
		t.Errorf("saving the file's: %d\n%s", code, body)
	}

	if code, _, _ := rui.post("/admin/checks/backup/pause", nil, nil); code != 303 || running(a, "backup") {
		t.Errorf("pause: %d", code)
	}
	if _, body := rui.get("/admin/checks/backup/edit"); !strings.Contains(body, `action="/admin/checks/backup/resume"`) || strings.Contains(body, `action="/admin/checks/backup/pause"`) {
		t.Error("a paused check's editor does not offer Resume alone")
	}
	if code, _, _ := rui.post("/admin/checks/backup/resume", nil, nil); code != 303 || !running(a, "backup") {
		t.Errorf("resume: %d", code)
	}
	if code, _, loc := rui.post("/admin/checks/backup/delete", nil, nil); code != 303 || !strings.HasPrefix(loc, "/admin/checks?done=") || running(a, "backup") {
		t.Errorf("delete: %d %q", code, loc)
	}

	// Components.
	code, body = vic.get("/admin/components")
	if code != 200 || !strings.Contains(body, "managed in upstate.yaml") || strings.Contains(body, `action="/admin/components"`) {
		t.Errorf("viewer's components page: %d\n%s", code, body)
	}
	if code, _, _ := vic.post("/admin/components", url.Values{"id": {"billing"}}, nil); code != 403 {
		t.Errorf("viewer adds a component: %d", code)
	}
	if code, body, _ := rui.post("/admin/components", url.Values{"id": {"billing"}, "name": {"Billing"}, "order": {"first"}}, nil); code != 400 || !strings.Contains(body, "Order: &#34;first&#34; is not a whole number") || !strings.Contains(body, `value="Billing"`) {
		t.Errorf("bad order: %d\n%s", code, body)
	}
	if code, body, _ := rui.post("/admin/components", url.Values{"id": {"Bad Id"}, "name": {"Billing"}}, nil); code != 400 || !strings.Contains(body, "Id: &#34;Bad Id&#34; is not a valid id") {
		t.Errorf("bad id: %d\n%s", code, body)
	}
	if code, _, _ := rui.post("/admin/components", url.Values{"id": {"billing"}, "name": {"Billing"}, "order": {"1"}}, nil); code != 303 {
		t.Fatalf("add: %d", code)
	}
	if code, _, _ := rui.post("/admin/components/billing/edit", url.Values{"name": {"Billing and invoices"}, "group": {"Money"}}, nil); code != 303 {
		t.Errorf("edit: %d", code)
	}
	if code, body := rui.get("/admin/components"); code != 200 || !strings.Contains(body, `value="Billing and invoices"`) || !strings.Contains(body, `action="/admin/components/billing/delete"`) {
		t.Errorf("components page: %d\n%s", code, body)
	}
	if code, body, _ := rui.post("/admin/components/drive/delete", nil, nil); code != 409 || !strings.Contains(body, "managed in upstate.yaml") {
		t.Errorf("deleting the file's: %d\n%s", code, body)
	}
	if code, _, _ := rui.post("/admin/components/billing/delete", nil, nil); code != 303 {
		t.Errorf("delete: %d", code)
	}
}
