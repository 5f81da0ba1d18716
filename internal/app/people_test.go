package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLoginPageSaysHowToCreateTheFirstOwner(t *testing.T) {
	a := runApp(t, "page: {name: Empty, url: 'http://127.0.0.1'}\ncomponents: [{id: api}]\n", Options{})
	code, body := newUI(t, "http://"+a.Addr()).get("/admin/login")
	if code != 200 || !strings.Contains(body, "No one can sign in yet") || !strings.Contains(body, "upstate user add --role owner") {
		t.Errorf("login page with no users: %d\n%s", code, body)
	}
	_, base := startApp(t)
	if _, body := newUI(t, base).get("/admin/login"); strings.Contains(body, "No one can sign in yet") {
		t.Error("the first-owner hint shows while users exist")
	}
}

// signIn signs a person in to the admin UI.
func signIn(t *testing.T, base, email, password string) *uiClient {
	t.Helper()
	ui := newUI(t, base)
	if code, _, landed := ui.post("/admin/login", url.Values{"email": {email}, "password": {password}}, nil); code != 200 || landed != "/admin/" {
		t.Fatalf("sign in %s: %d at %s", email, code, landed)
	}
	return ui
}

// signedOut says whether a page request lands on the sign-in form.
func signedOut(ui *uiClient) bool {
	_, body := ui.get("/admin/")
	return strings.Contains(body, `action="/admin/login"`)
}

func TestOwnersManagePeople(t *testing.T) {
	a, base := startApp(t)
	ctx := context.Background()
	idOf := func(email string) string {
		t.Helper()
		u, err := a.store.GetUserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	olga := signIn(t, base, "owner@example.com", "owner password 1")
	rui := signIn(t, base, "responder@example.com", "responder password")
	vic := signIn(t, base, "viewer@example.com", "viewer password 1")

	// Only owners see or change people.
	for name, ui := range map[string]*uiClient{"responder": rui, "viewer": vic} {
		if code, body := ui.get("/admin/users"); code != 403 || !strings.Contains(body, "cannot do this") {
			t.Errorf("%s opens the people page: %d", name, code)
		}
		for _, path := range []string{"/admin/users", "/admin/users/" + idOf("owner@example.com") + "/remove", "/admin/users/" + idOf("owner@example.com") + "/role",
			"/admin/users/" + idOf("owner@example.com") + "/password", "/admin/users/" + idOf("owner@example.com") + "/signout"} {
			if code, _, _ := ui.post(path, url.Values{"email": {"x@example.com"}, "name": {"X"}, "role": {"viewer"}, "password": {"a long enough password"}}, nil); code != 403 {
				t.Errorf("%s posts %s: %d, want 403", name, path, code)
			}
		}
		if _, body := ui.get("/admin/"); strings.Contains(body, `href="/admin/users"`) {
			t.Errorf("%s is shown the People link", name)
		}
	}
	if n, _ := a.store.ListUsers(ctx); len(n) != 3 {
		t.Fatalf("after refusals there are %d users", len(n))
	}

	// The owner's page lists everyone, without password hashes.
	code, body := olga.get("/admin/users")
	for _, want := range []string{"owner@example.com", "responder@example.com", "viewer@example.com", "Sign out everywhere", `href="/admin/users"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("people page: %d, lacks %q", code, want)
		}
	}
	if strings.Contains(body, "argon2") {
		t.Error("the people page shows password hashes")
	}

	// Add: a weak password is refused with the form kept as typed.
	code, body, _ = olga.post("/admin/users", url.Values{"email": {"pat@example.com"}, "name": {"Pat"}, "role": {"responder"}, "password": {"short"}}, nil)
	if code != 400 || !strings.Contains(body, "password is too short") || !strings.Contains(body, `value="pat@example.com"`) || strings.Contains(body, `value="short"`) {
		t.Errorf("weak password: %d", code)
	}
	code, body, _ = olga.post("/admin/users", url.Values{"email": {"pat@example.com"}, "name": {"Pat"}, "role": {"responder"}, "password": {"pat's first password"}}, nil)
	if code != 200 || !strings.Contains(body, "Added Pat as responder") {
		t.Fatalf("add: %d", code)
	}
	pat := signIn(t, base, "pat@example.com", "pat's first password")
	pid := idOf("pat@example.com")

	// A form from another site is refused.
	if code, _, _ := olga.post("/admin/users/"+pid+"/remove", url.Values{}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); code != 403 {
		t.Errorf("cross-site remove: %d, want 403", code)
	}

	// A role change holds at once.
	if code, body, _ := olga.post("/admin/users/"+pid+"/role", url.Values{"role": {"viewer"}}, nil); code != 200 || !strings.Contains(body, "Pat is now viewer") {
		t.Errorf("role: %d", code)
	}
	if code, _ := pat.get("/admin/incidents/new"); code != 403 {
		t.Errorf("Pat as viewer opens the declare page: %d", code)
	}

	// A new password replaces the old one.
	if code, body, _ := olga.post("/admin/users/"+pid+"/password", url.Values{"password": {"tiny"}}, nil); code != 400 || !strings.Contains(body, "password is too short") {
		t.Errorf("weak new password: %d", code)
	}
	if code, body, _ := olga.post("/admin/users/"+pid+"/password", url.Values{"password": {"pat's second password"}}, nil); code != 200 || !strings.Contains(body, "New password set for Pat") {
		t.Errorf("password: %d", code)
	}
	if code, _, _ := newUI(t, base).post("/admin/login", url.Values{"email": {"pat@example.com"}, "password": {"pat's first password"}}, nil); code != 401 {
		t.Errorf("old password still signs in: %d", code)
	}
	signIn(t, base, "pat@example.com", "pat's second password")

	// The last owner is neither demoted nor removed.
	oid := idOf("owner@example.com")
	if code, body, _ := olga.post("/admin/users/"+oid+"/role", url.Values{"role": {"responder"}}, nil); code != 409 || !strings.Contains(body, "last owner") {
		t.Errorf("demote the last owner: %d", code)
	}
	if code, body, _ := olga.post("/admin/users/"+oid+"/remove", url.Values{}, nil); code != 409 || !strings.Contains(body, "last owner") {
		t.Errorf("remove the last owner: %d", code)
	}

	// Sign out everywhere: sessions end and API tokens are revoked. Rui
	// is made an owner for a moment to make a token.
	rid := idOf("responder@example.com")
	olga.post("/admin/users/"+rid+"/role", url.Values{"role": {"owner"}}, nil)
	ruiAPI := browser(t, base, "responder@example.com", "responder password")
	code, out, _ := ruiAPI.do("POST", "/api/v1/tokens", map[string]any{"name": "ci", "scopes": []string{"read"}})
	if code != 201 {
		t.Fatalf("token: %d %v", code, out)
	}
	bot := &apiClient{t: t, base: base, http: http.DefaultClient, token: out["token"].(map[string]any)["token"].(string)}
	olga.post("/admin/users/"+rid+"/role", url.Values{"role": {"responder"}}, nil)
	if code, _, _ := bot.do("GET", "/api/v1/incidents", nil); code != 200 {
		t.Fatalf("token before sign out: %d", code)
	}
	code, body, _ = olga.post("/admin/users/"+rid+"/signout", url.Values{}, nil)
	if code != 200 || !strings.Contains(body, "Rui is signed out everywhere: 2 sessions ended, 1 API tokens revoked") {
		t.Errorf("sign out everywhere: %d", code)
	}
	if !signedOut(rui) {
		t.Error("Rui's session works after sign out everywhere")
	}
	if code, _, _ := bot.do("GET", "/api/v1/incidents", nil); code != 401 {
		t.Errorf("Rui's token after sign out everywhere: %d, want 401", code)
	}
	signIn(t, base, "responder@example.com", "responder password") // the account stays

	// Removing someone ends their session at once.
	if signedOut(pat) {
		t.Fatal("Pat is signed out before removal")
	}
	if code, body, _ := olga.post("/admin/users/"+pid+"/remove", url.Values{}, nil); code != 200 || !strings.Contains(body, "Removed Pat") {
		t.Errorf("remove: %d", code)
	}
	if !signedOut(pat) {
		t.Error("a removed user's session still works")
	}
	if code, _, _ := newUI(t, base).post("/admin/login", url.Values{"email": {"pat@example.com"}, "password": {"pat's second password"}}, nil); code != 401 {
		t.Errorf("a removed user signs in: %d", code)
	}
	if code, _, _ := olga.post("/admin/users/"+pid+"/remove", url.Values{}, nil); code != 404 {
		t.Errorf("remove twice: %d, want 404", code)
	}
}
