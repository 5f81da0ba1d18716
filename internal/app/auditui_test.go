package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/store"
)

// Corrections in the admin UI, without JavaScript: an Edit form per
// entry, hide with a reason, delete behind a confirmation page (owners
// only), the evidence never offered for publishing; the owners' audit log
// with its filters; each form post recorded with its route.
func TestCorrectionsUI(t *testing.T) {
	a, base := startApp(t)
	olga := signIn(t, base, "owner@example.com", "owner password 1")
	rui := signIn(t, base, "responder@example.com", "responder password")
	vic := signIn(t, base, "viewer@example.com", "viewer password 1")
	api := browser(t, base, "responder@example.com", "responder password")
	code, out, _ := api.do("POST", "/api/v1/incidents", map[string]any{"name": "Drive <down>", "message": "Uploads fial.", "components": map[string]string{"drive": "major_outage"}})
	if code != 201 {
		t.Fatal(code, out)
	}
	id := out["incident"].(map[string]any)["id"].(string)
	in, _ := a.store.GetIncident(context.Background(), id)
	first := in.Updates[0].ID
	if err := a.store.Apply(context.Background(), store.Change{Entries: []upstate.TimelineEntry{
		{ID: "evidence", IncidentID: id, At: time.Now(), Status: upstate.Investigating, Body: "drive-api: HTTP 500", Actor: upstate.ActorUpstate, Kind: upstate.EntryEvidence}}}); err != nil {
		t.Fatal(err)
	}
	page := "/admin/incidents/" + id
	_, body := rui.get(page)
	if !strings.Contains(body, `action="/admin/incidents/`+id+`/updates/`+first+`/edit"`) || strings.Contains(body, `/updates/evidence/publish"`) ||
		!strings.Contains(body, `<span class="pill">evidence</span>`) {
		t.Errorf("incident page: an edit form per entry, no publish for evidence:\n%s", body)
	}
	if strings.Contains(body, `action="/admin/incidents/`+id+`/hide"`) {
		t.Error("an open incident offers to be hidden")
	}
	if code, body := vic.get(page); code != 200 || strings.Contains(body, "/edit\"") {
		t.Errorf("a viewer sees edit forms: %d", code)
	}

	// Edit: refused empty, saved, shown as edited.
	if code, body, _ := rui.post(page+"/updates/"+first+"/edit", url.Values{"body": {" "}}, nil); code != 400 || !strings.Contains(body, "body is required") {
		t.Errorf("empty edit: %d", code)
	}
	if code, body, _ := vic.post(page+"/updates/"+first+"/edit", url.Values{"body": {"x"}}, nil); code != 403 {
		t.Errorf("a viewer's edit: %d %s", code, body)
	}
	code, body, landed := rui.post(page+"/updates/"+first+"/edit", url.Values{"body": {"Uploads fail."}}, nil)
	if code != 200 || landed != page || !strings.Contains(body, "Entry edited") || !strings.Contains(body, `<span class="edited">edited `) || !strings.Contains(body, "Uploads fail.") {
		t.Errorf("edit: %d at %s\n%s", code, landed, body)
	}
	if !strings.Contains(body, "Earlier words (1)") || !strings.Contains(body, "edit at ") || !strings.Contains(body, "Uploads fial.") {
		t.Error("the incident page does not keep the words before the edit")
	}
	if code, body, _ := rui.post("/admin/incidents/nope/updates/x/edit", url.Values{"body": {"x"}}, nil); code != 404 {
		t.Errorf("edit on an unknown incident: %d %s", code, body)
	}

	// Hide: open refused, then resolved, reason required, hidden and marked.
	if code, body, _ := rui.post(page+"/hide", url.Values{"reason": {"test"}}, nil); code != 409 || !strings.Contains(body, "resolve it first") {
		t.Errorf("hide open: %d", code)
	}
	if code, out, _ := api.do("POST", "/api/v1/incidents/"+id+"/resolve", nil); code != 200 {
		t.Fatal(code, out)
	}
	if code, body, _ := rui.post(page+"/hide", url.Values{"reason": {""}}, nil); code != 400 || !strings.Contains(body, "reason is required") {
		t.Errorf("hide without reason: %d", code)
	}
	code, body, _ = rui.post(page+"/hide", url.Values{"reason": {"a <b>drill</b>"}}, nil)
	if code != 200 || !strings.Contains(body, "Hidden from the public side</strong> by Rui") || !strings.Contains(body, "a &lt;b&gt;drill&lt;/b&gt;") {
		t.Errorf("hide: %d\n%s", code, body)
	}
	if _, body := rui.get("/admin/"); !strings.Contains(body, "Drive &lt;down&gt;") || !strings.Contains(body, `<span class="pill">hidden</span> a &lt;b&gt;drill&lt;/b&gt;`) {
		t.Error("the admin list leaves out the hidden incident, or does not mark it")
	}

	// Delete: owners only, after a confirmation page, with a reason.
	if code, _ := rui.get(page + "/delete"); code != 403 {
		t.Errorf("a responder's confirmation page: %d", code)
	}
	if code, _, _ := rui.post(page+"/delete", url.Values{"reason": {"x"}}, nil); code != 403 {
		t.Errorf("a responder's delete: %d", code)
	}
	if _, body := rui.get(page); strings.Contains(body, page+"/delete") {
		t.Error("a responder is offered Delete")
	}
	if _, body := olga.get(page); !strings.Contains(body, `href="`+page+`/delete"`) {
		t.Error("the owner is not offered Delete")
	}
	code, body = olga.get(page + "/delete")
	if code != 200 || !strings.Contains(body, "Delete “Drive &lt;down&gt;”?") || !strings.Contains(body, `action="`+page+`/delete"`) || !strings.Contains(body, "3 timeline entries") {
		t.Errorf("confirmation page: %d\n%s", code, body)
	}
	if code, body, _ := olga.post(page+"/delete", url.Values{"reason": {""}}, nil); code != 400 || !strings.Contains(body, "reason is required") {
		t.Errorf("delete without reason: %d", code)
	}
	code, body, landed = olga.post(page+"/delete", url.Values{"reason": {"a drill"}}, nil)
	if code != 200 || landed != "/admin/" || !strings.Contains(body, "Deleted incident “Drive &lt;down&gt;”") {
		t.Errorf("delete: %d at %s", code, landed)
	}
	if code, _ := olga.get(page); code != 404 {
		t.Errorf("deleted incident's page: %d", code)
	}

	// The audit log: owners only, escaped, filtered, each post's route.
	if code, _ := rui.get("/admin/audit"); code != 403 {
		t.Errorf("a responder's audit page: %d", code)
	}
	if _, body := rui.get("/admin/"); strings.Contains(body, `href="/admin/audit"`) {
		t.Error("a responder is offered the audit log")
	}
	code, body = olga.get("/admin/audit")
	for _, want := range []string{`href="/admin/audit"`, "deleted incident &#39;Drive &lt;down&gt;&#39;", "POST /admin/incidents/{id}/updates/{entry}/edit",
		"hid incident &#39;Drive &lt;down&gt;&#39;", "Rui &lt;responder@example.com&gt;", "refused (needs the incidents:write scope)", `<div class="scroll">`,
		`name="viewport" content="width=device-width`, "<summary>As it was</summary>"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if code != 200 || strings.Contains(body, "Drive <down>") {
		t.Errorf("audit page: %d (unescaped?)", code)
	}
	_, body = olga.get("/admin/audit?action=hid")
	if !strings.Contains(body, "hid incident") || strings.Contains(body, "deleted incident") {
		t.Error("the action filter does not filter")
	}
	if code, body := olga.get("/admin/audit?from=yesterday"); code != 400 || !strings.Contains(body, "From: &#34;yesterday&#34; is not a date") {
		t.Errorf("bad date: %d", code)
	}
	// A forged cross-site post is refused and recorded.
	if code, _, _ := olga.post(page+"/hide", url.Values{"reason": {"x"}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("cross-site post: %d", code)
	}
	if _, body := olga.get("/admin/audit?action=cross-origin"); !strings.Contains(body, "refused (cross-origin form)") {
		t.Error("the forged post is not in the audit log")
	}
}

// The audit log fits a 390 px phone, long actions, addresses and user
// agents included: its table turns into stacked rows.
func TestAuditFitsAPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	path, err := check.NewChromium(check.ChromiumOptions{}).Find()
	if err != nil {
		if os.Getenv("UPSTATE_REAL_SERVICES") == "1" || os.Getenv("CI") != "" {
			t.Fatalf("%v; .ci/run installs Debian's chromium package", err)
		}
		t.Skip(err)
	}
	a, base := startApp(t)
	for i := range 5 {
		if err := a.store.AppendAudit(context.Background(), upstate.AuditEntry{At: time.Now(), Actor: "token 'deploy-pipeline-production-eu-west' of Olga <owner@example.com>",
			ActorKind: upstate.ActorToken, Action: fmt.Sprintf("declared incident 'Word and PowerPoint conversions failing for every school on the west coast' (%d)", i),
			Route: "POST /api/v1/incidents/{id}/updates/{entry}/publish", Targets: []string{"k68ye2llh161", "evidence"}, Status: 201,
			Addr: "2001:db8:85a3:8d3:1319:8a2e:370:7348", UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
			Detail: `{"name":"` + strings.Repeat("x", 300) + `"}`}); err != nil {
			t.Fatal(err)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(390, 844))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/admin/login"),
		chromedp.SendKeys(`input[name=email]`, "owner@example.com"),
		chromedp.SendKeys(`input[name=password]`, "owner password 1"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`#incidents`),
		chromedp.Navigate(base+"/admin/audit"),
		chromedp.WaitReady("footer"),
	); err != nil {
		t.Fatal(err)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 390 {
		t.Errorf("/admin/audit is %d px wide on a 390 px phone", width)
	}
}
