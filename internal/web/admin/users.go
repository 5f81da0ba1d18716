package admin

import (
	"context"
	"net/http"
	"strconv"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/auth"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// People manages who may sign in (auth.People); only owners reach it.
type People interface {
	List(ctx context.Context) ([]upstate.User, error)
	Count(ctx context.Context) (int, error)
	Add(ctx context.Context, u auth.NewUser, actor string) (upstate.User, error)
	SetRole(ctx context.Context, ref string, role upstate.Role, actor string) (upstate.User, error)
	SetPassword(ctx context.Context, ref, password, actor string) (upstate.User, error)
	Remove(ctx context.Context, ref, actor string) (upstate.User, error)
	SignOut(ctx context.Context, ref, actor string) (u upstate.User, sessions, tokens int64, err error)
}

// userForm is the add-a-user form as typed; the password never comes
// back.
type userForm struct{ Email, Name, Role string }

// registerPeople adds the owners' page: list, add, change role, set a
// password, remove, sign out everywhere. Every form is guarded like the
// others; ScopeAdmin is the owners' alone.
func (s *Server) registerPeople(mux *http.ServeMux) {
	if s.opts.People == nil {
		return
	}
	mux.HandleFunc("GET /admin/users", s.authed(upstate.ScopeAdmin, s.users))
	mux.HandleFunc("POST /admin/users", s.guard(s.authed(upstate.ScopeAdmin, s.addUser)))
	mux.HandleFunc("POST /admin/users/{id}/role", s.guard(s.authed(upstate.ScopeAdmin, s.setRole)))
	mux.HandleFunc("POST /admin/users/{id}/password", s.guard(s.authed(upstate.ScopeAdmin, s.setPassword)))
	mux.HandleFunc("POST /admin/users/{id}/remove", s.guard(s.authed(upstate.ScopeAdmin, s.removeUser)))
	mux.HandleFunc("POST /admin/users/{id}/signout", s.guard(s.authed(upstate.ScopeAdmin, s.signOutUser)))
}

// showUsers renders the page, with a problem and its status when a change
// was refused.
func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, p upstate.Principal, code int, problem string, f userForm) {
	v := s.base(p, "People")
	var err error
	if v.People, err = s.opts.People.List(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Role == "" {
		f.Role = string(upstate.RoleResponder)
	}
	v.UserForm, v.Error, v.Notice = f, problem, r.URL.Query().Get("done")
	v.Roles = []upstate.Role{upstate.RoleOwner, upstate.RoleResponder, upstate.RoleViewer}
	s.render(w, code, "users", v)
}

func (s *Server) users(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	s.showUsers(w, r, p, http.StatusOK, "", userForm{})
}

// refused shows a change the user can fix (bad input, the last owner)
// on the page; anything else is the error page.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, p upstate.Principal, err error, f userForm) {
	switch upstate.ErrorCode(err) {
	case upstate.EINVALID, upstate.ECONFLICT:
		s.showUsers(w, r, p, respond.HTTPStatus(err), upstate.ErrorMessage(err), f)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	f := userForm{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: r.PostFormValue("role")}
	respond.Describe(r, "tried to add user %q as %s", f.Email, f.Role)
	u, err := s.opts.People.Add(r.Context(), auth.NewUser{Email: f.Email, Name: f.Name, Role: upstate.Role(f.Role), Password: r.PostFormValue("password")}, p.Actor())
	if err != nil {
		s.refused(w, r, p, err, f)
		return
	}
	respond.Describe(r, "added user %s <%s> as %s", u.Name, u.Email, u.Role)
	respond.AuditTarget(r, u.ID)
	done(w, r, "/admin/users", "Added "+u.Name+" as "+string(u.Role))
}

func (s *Server) setRole(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	respond.Describe(r, "tried to make user %s %s", r.PathValue("id"), r.PostFormValue("role"))
	u, err := s.opts.People.SetRole(r.Context(), r.PathValue("id"), upstate.Role(r.PostFormValue("role")), p.Actor())
	if err != nil {
		s.refused(w, r, p, err, userForm{})
		return
	}
	respond.Describe(r, "made %s <%s> %s", u.Name, u.Email, u.Role)
	done(w, r, "/admin/users", u.Name+" is now "+string(u.Role))
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	respond.Describe(r, "tried to set a new password for user %s", r.PathValue("id"))
	u, err := s.opts.People.SetPassword(r.Context(), r.PathValue("id"), r.PostFormValue("password"), p.Actor())
	if err != nil {
		s.refused(w, r, p, err, userForm{})
		return
	}
	respond.Describe(r, "set a new password for %s <%s>", u.Name, u.Email)
	done(w, r, "/admin/users", "New password set for "+u.Name)
}

// leave ends the request of someone who has just removed or signed out
// themselves: their session is gone.
func leave(w http.ResponseWriter, r *http.Request) {
	respond.ClearSession(w)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	respond.Describe(r, "tried to remove user %s", r.PathValue("id"))
	u, err := s.opts.People.Remove(r.Context(), r.PathValue("id"), p.Actor())
	if err != nil {
		s.refused(w, r, p, err, userForm{})
		return
	}
	respond.Describe(r, "removed user %s <%s>", u.Name, u.Email)
	if u.ID == p.User.ID {
		leave(w, r)
		return
	}
	done(w, r, "/admin/users", "Removed "+u.Name+": their sessions have ended and their API tokens are revoked")
}

func (s *Server) signOutUser(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	respond.Describe(r, "tried to sign user %s out everywhere", r.PathValue("id"))
	u, sessions, tokens, err := s.opts.People.SignOut(r.Context(), r.PathValue("id"), p.Actor())
	if err != nil {
		s.refused(w, r, p, err, userForm{})
		return
	}
	respond.Describe(r, "signed %s <%s> out everywhere (%d sessions, %d tokens)", u.Name, u.Email, sessions, tokens)
	if u.ID == p.User.ID {
		leave(w, r)
		return
	}
	done(w, r, "/admin/users", u.Name+" is signed out everywhere: "+strconv.FormatInt(sessions, 10)+" sessions ended, "+strconv.FormatInt(tokens, 10)+" API tokens revoked")
}

// firstOwnerHint says, on the sign-in page, how to create the first owner
// while no one can sign in; it says nothing when it cannot tell.
func (s *Server) firstOwnerHint(ctx context.Context) bool {
	if s.opts.People == nil {
		return false
	}
	n, err := s.opts.People.Count(ctx)
	return err == nil && n == 0
}
