package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Console manages the checks and components made in the console (the
// app's Console); the file's are shown read-only.
type Console interface {
	// Definitions lists limit of them (0 for all) from offset, and how
	// many there are.
	Definitions(ctx context.Context, kind upstate.ConsoleKind, offset, limit int) ([]upstate.Definition, int, error)
	Definition(ctx context.Context, kind upstate.ConsoleKind, id string) (upstate.Definition, error)
	Create(ctx context.Context, kind upstate.ConsoleKind, keys []byte, actor string) (upstate.Definition, error)
	Update(ctx context.Context, kind upstate.ConsoleKind, id string, patch []byte, actor string) (upstate.Definition, error)
	Delete(ctx context.Context, kind upstate.ConsoleKind, id, actor string) error
	Pause(ctx context.Context, id string, paused bool, actor string) (upstate.Definition, error)
}

// registerConsole adds the check editor and the components page.
// /admin/checks and /admin/checks/{id} (the list and a check's page) are
// the check pages'; these link to them.
func (s *Server) registerConsole(mux *http.ServeMux) {
	if s.opts.Console == nil {
		return
	}
	mux.HandleFunc("GET /admin/checks/new", s.authed(upstate.ScopeChecks, s.newCheck))
	mux.HandleFunc("POST /admin/checks", s.guard(s.authed(upstate.ScopeChecks, s.createCheck)))
	mux.HandleFunc("GET /admin/checks/{id}/edit", s.authed(upstate.ScopeChecks, s.editCheck))
	mux.HandleFunc("POST /admin/checks/{id}", s.guard(s.authed(upstate.ScopeChecks, s.saveCheck)))
	mux.HandleFunc("POST /admin/checks/{id}/pause", s.guard(s.authed(upstate.ScopeChecks, s.pauseCheck(true))))
	mux.HandleFunc("POST /admin/checks/{id}/resume", s.guard(s.authed(upstate.ScopeChecks, s.pauseCheck(false))))
	mux.HandleFunc("POST /admin/checks/{id}/delete", s.guard(s.authed(upstate.ScopeChecks, s.deleteCheck)))
	mux.HandleFunc("GET /admin/components", s.authed(upstate.ScopeRead, s.componentsPage))
	mux.HandleFunc("POST /admin/components", s.guard(s.authed(upstate.ScopeComponents, s.addComponent)))
	mux.HandleFunc("POST /admin/components/{id}/edit", s.guard(s.authed(upstate.ScopeComponents, s.editComponent)))
	mux.HandleFunc("POST /admin/components/{id}/delete", s.guard(s.authed(upstate.ScopeComponents, s.deleteComponent)))
}

// checkForm is the check editor as typed: the common keys in fields, the
// kind's own keys as YAML.
type checkForm struct {
	ID, Name, Kind, Interval, Timeout string
	Components                        map[string]bool
	// Keys are the kind's keys (and any other), as YAML.
	Keys string
	// Editing is the id of the check being edited; empty for a new one.
	Editing string
	// ReadOnly names the file a provisioned check is managed in.
	ReadOnly string
	// Paused says the check being edited is paused.
	Paused bool
}

// commonKeys are the keys the check editor has fields for.
func commonKeys() []string {
	return []string{"id", "name", "kind", "interval", "timeout", "components"}
}

// checkLabels are the check editor's labels for config's paths.
func checkLabels() map[string]string {
	l := map[string]string{"id": "Id", "name": "Name", "kind": "Kind", "interval": "Interval", "timeout": "Timeout", "components": "Components"}
	for i := range 50 {
		l["components["+strconv.Itoa(i)+"]"] = "Components"
	}
	return l
}

// formOf is a check's keys as the editor shows them.
func formOf(keys map[string]any) checkForm {
	f := checkForm{Components: map[string]bool{}}
	str := func(k string) string {
		switch v := keys[k].(type) {
		case string:
			return v
		case nil:
			return ""
		default:
			return strings.Trim(strings.TrimSpace(yamlText(v)), "\n")
		}
	}
	f.ID, f.Name, f.Kind, f.Interval, f.Timeout = str("id"), str("name"), str("kind"), str("interval"), str("timeout")
	if cs, ok := keys["components"].([]any); ok {
		for _, c := range cs {
			if id, ok := c.(string); ok {
				f.Components[id] = true
			}
		}
	}
	rest := map[string]any{}
	for k, v := range keys {
		if !slices.Contains(commonKeys(), k) {
			rest[k] = v
		}
	}
	if len(rest) > 0 {
		f.Keys = yamlText(rest)
	}
	return f
}

func yamlText(v any) string {
	b, err := yaml.Marshal(jsonable(v))
	if err != nil {
		return ""
	}
	return string(b)
}

// jsonable turns json.Numbers into plain numbers for YAML.
func jsonable(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	}
	return v
}

// readCheckForm is the posted editor; keys the check's keys from it.
func readCheckForm(r *http.Request) (checkForm, map[string]any, error) {
	if err := r.ParseForm(); err != nil {
		return checkForm{}, nil, upstate.Errorf(upstate.EINVALID, "the form could not be read: %v", err)
	}
	f := checkForm{ID: strings.TrimSpace(r.PostFormValue("id")), Name: strings.TrimSpace(r.PostFormValue("name")), Kind: r.PostFormValue("kind"),
		Interval: strings.TrimSpace(r.PostFormValue("interval")), Timeout: strings.TrimSpace(r.PostFormValue("timeout")),
		Keys: r.PostFormValue("keys"), Components: map[string]bool{}}
	keys := map[string]any{}
	if strings.TrimSpace(f.Keys) != "" {
		if err := yaml.Unmarshal([]byte(f.Keys), &keys); err != nil {
			return f, nil, upstate.Errorf(upstate.EINVALID, "The kind's keys are not YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	for _, k := range commonKeys() {
		if _, ok := keys[k]; ok {
			return f, nil, upstate.Errorf(upstate.EINVALID, "The kind's keys: %s has its own field above; leave it out here", k)
		}
	}
	set := func(k, v string) {
		if v != "" {
			keys[k] = v
		}
	}
	set("id", f.ID)
	set("name", f.Name)
	set("kind", f.Kind)
	set("interval", f.Interval)
	set("timeout", f.Timeout)
	var comps []string
	for _, c := range r.PostForm["components"] {
		f.Components[c] = true
		comps = append(comps, c)
	}
	if len(comps) > 0 {
		keys["components"] = comps
	}
	return f, keys, nil
}

// showCheckForm renders the editor, with a problem and its status.
func (s *Server) showCheckForm(w http.ResponseWriter, r *http.Request, p upstate.Principal, code int, problem string, f checkForm) {
	title := "New check"
	if f.Editing != "" {
		title = "Edit check " + f.Editing
	}
	v := s.base(p, title)
	var err error
	if v.Components, err = s.components(r.Context(), nil); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Components == nil {
		f.Components = map[string]bool{}
	}
	v.CheckForm, v.Kinds, v.Error = f, check.KindNames(), problem
	s.render(w, code, "checkform", v)
}

func (s *Server) newCheck(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	s.showCheckForm(w, r, p, http.StatusOK, "", checkForm{Kind: "http", Keys: "url: https://\n"})
}

// refusedCheck shows the editor again, as typed, when the input is at
// fault or the database is not taking writes; anything else is the
// error page.
func (s *Server) refusedCheck(w http.ResponseWriter, r *http.Request, p upstate.Principal, err error, f checkForm) {
	switch upstate.ErrorCode(err) {
	case upstate.EINVALID, upstate.ECONFLICT, upstate.EUNAVAILABLE:
		respond.SetRetryAfter(w, err)
		s.showCheckForm(w, r, p, respond.HTTPStatus(err), upstate.ErrorMessage(relabel(err, checkLabels())), f)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) createCheck(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	f, keys, err := readCheckForm(r)
	if err == nil {
		var b []byte
		if b, err = json.Marshal(keys); err == nil {
			_, err = s.opts.Console.Create(r.Context(), upstate.ConsoleCheck, b, p.Actor())
		}
	}
	if err != nil {
		s.refusedCheck(w, r, p, err, f)
		return
	}
	done(w, r, "/admin/checks/"+f.ID, "Check "+f.ID+" created: it runs now")
}

func (s *Server) editCheck(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	d, err := s.opts.Console.Definition(r.Context(), upstate.ConsoleCheck, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := formOf(d.Keys)
	f.Editing, f.Paused = d.ID, d.Paused
	if d.Provisioned {
		f.ReadOnly = d.File
	}
	s.showCheckForm(w, r, p, http.StatusOK, "", f)
}

// saveCheck replaces a console check's keys with the form's: keys left
// out are removed; a secret left as "<secret>" keeps its value.
func (s *Server) saveCheck(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	old, err := s.opts.Console.Definition(r.Context(), upstate.ConsoleCheck, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, keys, err := readCheckForm(r)
	f.Editing, f.Paused = id, old.Paused
	if err == nil {
		patch := map[string]any{}
		for k := range old.Keys {
			patch[k] = nil
		}
		for k, v := range keys {
			patch[k] = v
		}
		var b []byte
		if b, err = json.Marshal(patch); err == nil {
			_, err = s.opts.Console.Update(r.Context(), upstate.ConsoleCheck, id, b, p.Actor())
		}
	}
	if err != nil {
		if upstate.ErrorCode(err) == upstate.ECONFLICT && old.Provisioned {
			f.ReadOnly = old.File
		}
		s.refusedCheck(w, r, p, err, f)
		return
	}
	done(w, r, "/admin/checks/"+id, "Check saved")
}

func (s *Server) pauseCheck(paused bool) page {
	return func(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
		id := r.PathValue("id")
		if _, err := s.opts.Console.Pause(r.Context(), id, paused, p.Actor()); err != nil {
			s.fail(w, r, err)
			return
		}
		notice := "Resumed: the check runs again"
		if paused {
			notice = "Paused: the check does not run and opens no incidents until it is resumed"
		}
		done(w, r, "/admin/checks/"+id, notice)
	}
}

func (s *Server) deleteCheck(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	if err := s.opts.Console.Delete(r.Context(), upstate.ConsoleCheck, id, p.Actor()); err != nil {
		s.fail(w, r, err)
		return
	}
	done(w, r, "/admin/checks", "Check "+id+" deleted; its history stays in the reports")
}

// componentDef is a component as its page lists it.
type componentDef struct {
	ID, Name, Group, Description, Order string
	// File names the file a provisioned one is managed in.
	File       string
	ShadowedBy string
	Problem    string
}

// componentForm is the add or edit form as typed; ID names the
// component an edit is for.
type componentForm struct {
	ID, Name, Group, Description, Order string
	Editing                             string
}

func (s *Server) showComponents(w http.ResponseWriter, r *http.Request, p upstate.Principal, code int, problem string, f componentForm) {
	v := s.base(p, "Components")
	ds, _, err := s.opts.Console.Definitions(r.Context(), upstate.ConsoleComponent, 0, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, d := range ds {
		str := func(k string) string {
			switch x := d.Keys[k].(type) {
			case string:
				return x
			case nil:
				return ""
			default:
				return strings.TrimSpace(yamlText(x))
			}
		}
		row := componentDef{ID: d.ID, Name: str("name"), Group: str("group"), Description: str("description"), Order: str("order"), File: d.File,
			ShadowedBy: d.ShadowedBy, Problem: d.Problem}
		if f.Editing == d.ID {
			row.Name, row.Group, row.Description, row.Order = f.Name, f.Group, f.Description, f.Order
		}
		v.ComponentDefs = append(v.ComponentDefs, row)
	}
	if f.Editing == "" {
		v.ComponentForm = f
	}
	v.Error, v.Notice = problem, r.URL.Query().Get("done")
	s.render(w, code, "components", v)
}

func (s *Server) componentsPage(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	s.showComponents(w, r, p, http.StatusOK, "", componentForm{})
}

func readComponentForm(r *http.Request) componentForm {
	return componentForm{ID: strings.TrimSpace(r.PostFormValue("id")), Name: strings.TrimSpace(r.PostFormValue("name")), Group: strings.TrimSpace(r.PostFormValue("group")),
		Description: strings.TrimSpace(r.PostFormValue("description")), Order: strings.TrimSpace(r.PostFormValue("order"))}
}

// componentKeys are the form's keys: blank fields are left out (null in
// an edit, which removes them).
func componentKeys(f componentForm, edit bool) ([]byte, error) {
	keys := map[string]any{}
	put := func(k, v string) {
		switch {
		case v != "":
			keys[k] = v
		case edit:
			keys[k] = nil
		}
	}
	if !edit {
		put("id", f.ID)
	}
	put("name", f.Name)
	put("group", f.Group)
	put("description", f.Description)
	if f.Order != "" {
		n, err := strconv.Atoi(f.Order)
		if err != nil {
			return nil, upstate.Errorf(upstate.EINVALID, "Order: %q is not a whole number", f.Order)
		}
		keys["order"] = n
	} else if edit {
		keys["order"] = nil
	}
	return json.Marshal(keys)
}

// componentLabels are the components form's labels for config's paths.
func componentLabels() map[string]string {
	return map[string]string{"id": "Id", "name": "Name", "group": "Group", "description": "Description", "order": "Order"}
}

func (s *Server) refusedComponent(w http.ResponseWriter, r *http.Request, p upstate.Principal, err error, f componentForm) {
	switch upstate.ErrorCode(err) {
	case upstate.EINVALID, upstate.ECONFLICT, upstate.EUNAVAILABLE:
		respond.SetRetryAfter(w, err)
		s.showComponents(w, r, p, respond.HTTPStatus(err), upstate.ErrorMessage(relabel(err, componentLabels())), f)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) addComponent(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	f := readComponentForm(r)
	b, err := componentKeys(f, false)
	if err == nil {
		_, err = s.opts.Console.Create(r.Context(), upstate.ConsoleComponent, b, p.Actor())
	}
	if err != nil {
		s.refusedComponent(w, r, p, err, f)
		return
	}
	done(w, r, "/admin/components", "Component "+f.ID+" added")
}

func (s *Server) editComponent(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	f := readComponentForm(r)
	f.Editing = r.PathValue("id")
	b, err := componentKeys(f, true)
	if err == nil {
		_, err = s.opts.Console.Update(r.Context(), upstate.ConsoleComponent, f.Editing, b, p.Actor())
	}
	if err != nil {
		s.refusedComponent(w, r, p, err, f)
		return
	}
	done(w, r, "/admin/components", "Component "+f.Editing+" saved")
}

func (s *Server) deleteComponent(w http.ResponseWriter, r *http.Request, p upstate.Principal) {
	id := r.PathValue("id")
	if err := s.opts.Console.Delete(r.Context(), upstate.ConsoleComponent, id, p.Actor()); err != nil {
		s.refusedComponent(w, r, p, err, componentForm{})
		return
	}
	done(w, r, "/admin/components", "Component "+id+" deleted")
}
