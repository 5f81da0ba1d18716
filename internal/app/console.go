package app

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/cluster"
	"github.com/upstatehq/upstate/internal/config"
)

// Checks and components made in the console (the admin API and UI) are
// stored as their keys (upstate.ConsoleItem) and merged into the file's
// configuration by config.WithConsole: at start, on every reload, and on
// every console change, which validates the whole and puts it in force
// through apply, as a reload does, without reading the file again. Those
// in the file are provisioned: the console shows them and changes none.

// The most items the console keeps of each kind.
const (
	MaxConsoleChecks     = 10000
	MaxConsoleComponents = 1000
)

// effective merges the console's items into the file's configuration and
// returns it with the items in force. An item the configuration refuses
// now (the file changed under it) is left out, logged and kept stored; a
// problem the items cause elsewhere leaves them all out: the file alone
// always starts.
func (a *App) effective(file *config.Config, items []upstate.ConsoleItem) (*config.Config, []upstate.ConsoleItem) {
	if len(items) == 0 {
		return file, nil
	}
	if !file.FromFile() {
		a.log.Warn("the configuration was not read from a file: the console's checks and components are not applied", "component", "app", "items", len(items))
		return file, nil
	}
	use := slices.Clone(items)
	for range len(items) + 1 {
		c, err := config.WithConsole(file, use, ConfigRules()...)
		if err == nil {
			for _, it := range c.Shadowed {
				a.log.Warn(fmt.Sprintf("%s %q made in the console is shadowed by the one in %s: the file's is in force", it.Kind, it.ID, filepath.Base(file.File)),
					"component", "app", "kind", string(it.Kind), "id", it.ID)
			}
			return c, use
		}
		var probs *config.Problems
		if !errors.As(err, &probs) {
			a.log.Error("the console's checks and components could not be merged; running the file's alone", "component", "app", "err", err)
			break
		}
		bad := map[string]bool{}
		for _, p := range probs.Items {
			if p.Item == "" {
				a.log.Error("the console's checks and components make the configuration invalid; running the file's alone", "component", "app", "err", err)
				return file, nil
			}
			bad[p.Item] = true
		}
		a.log.Error("console items not applied: the configuration refuses them now; fix or delete them in the console", "component", "app", "err", err)
		use = slices.DeleteFunc(use, func(it upstate.ConsoleItem) bool { return bad[itemName(it)] })
	}
	return file, nil
}

// consoleLimit is the most items of the kind the console keeps.
func (a *App) consoleLimit(kind upstate.ConsoleKind) int {
	if kind == upstate.ConsoleComponent {
		return cmp.Or(a.limits.components, MaxConsoleComponents)
	}
	return cmp.Or(a.limits.checks, MaxConsoleChecks)
}

func itemName(it upstate.ConsoleItem) string { return string(it.Kind) + " " + strconv.Quote(it.ID) }

// Console is the app's side of the console: the admin API and UI manage
// checks and components through it.
func (a *App) Console() *Console { return &Console{a: a} }

// Console lists, creates, edits, pauses and deletes the checks and
// components made in the console.
type Console struct{ a *App }

// fileName is the configuration file's base name, as the console names it.
func (a *App) fileName() string { return filepath.Base(a.file.Load().File) }

// managed refuses a change to a provisioned item.
func (a *App) managed(kind upstate.ConsoleKind, id string) error {
	return upstate.Errorf(upstate.ECONFLICT, "%s %q is managed in %s; change it there", kind, id, a.fileName())
}

// Definitions lists the checks or components in force, the file's first,
// then the console's; then the console's not in force (shadowed by the
// file's, or refused): limit of them (0 for all) from offset in that
// order, and how many there are in all. Only the page's keys are made,
// and of the file only the pieces holding them read (a file may hold
// 100,000 checks).
func (c *Console) Definitions(_ context.Context, kind upstate.ConsoleKind, offset, limit int) ([]upstate.Definition, int, error) {
	if offset < 0 || limit < 0 {
		return nil, 0, upstate.Errorf(upstate.EINVALID, "offset and limit are counts: %d, %d", offset, limit)
	}
	hi := math.MaxInt
	if limit > 0 && offset <= math.MaxInt-limit {
		hi = offset + limit
	}
	a := c.a
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	out, total := a.definitions(kind, "", offset, hi)
	return out, total, nil
}

// Definition is one check or component; ENOTFOUND if there is none.
func (c *Console) Definition(_ context.Context, kind upstate.ConsoleKind, id string) (upstate.Definition, error) {
	a := c.a
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	ds, _ := a.definitions(kind, id, 0, math.MaxInt)
	for _, d := range ds {
		if d.ShadowedBy == "" {
			return d, nil
		}
	}
	return upstate.Definition{}, upstate.Errorf(upstate.ENOTFOUND, "no %s %q", kind, id)
}

// definitions must be called with consoleMu held. It makes those at
// places lo to hi-1 of the list Definitions tells, and says how many it
// tells in all; only, when not "", keeps those with that id alone. Only
// the file items made have their keys read.
func (a *App) definitions(kind upstate.ConsoleKind, only string, lo, hi int) ([]upstate.Definition, int) {
	cfg, file := a.cfg.Load(), a.file.Load()
	want := func(pos int, id string) bool { return pos >= lo && pos < hi && (only == "" || id == only) }
	var fileKeys []map[string]any // of the file's items lo to hi-1, read when the first is made
	read := false
	keysAt := func(i int) map[string]any {
		if only != "" {
			return config.FileKeysAt(file, kind, i)
		}
		if !read {
			fileKeys, read = config.FileKeysIn(file, kind, lo, hi), true
		}
		if j := i - lo; j >= 0 && j < len(fileKeys) {
			return fileKeys[j]
		}
		return nil
	}
	stored := map[string]upstate.ConsoleItem{}
	for _, it := range a.items {
		if it.Kind == kind {
			stored[it.ID] = it
		}
	}
	var out []upstate.Definition
	shown := map[string]bool{}
	pos := 0 // the item's place in the list: the file's in force come first
	add := func(id string, console, paused bool) {
		i := pos
		pos++
		if console {
			shown[id] = true
		}
		if !want(i, id) {
			return
		}
		d := upstate.Definition{Kind: kind, ID: id, Paused: paused, Provisioned: !console}
		if console {
			d.Keys = keysOf(stored[id])
		} else {
			d.File = a.fileName()
			d.Keys = keysAt(i)
		}
		d.Keys = config.RedactSecrets(d.Keys)
		out = append(out, d)
	}
	if kind == upstate.ConsoleCheck {
		for _, ch := range cfg.Checks {
			add(ch.ID, ch.Console, ch.Paused)
		}
	} else {
		for _, comp := range cfg.Components {
			add(comp.ID, comp.Console, false)
		}
	}
	for _, it := range cfg.Shadowed {
		if it.Kind == kind {
			shown[it.ID] = true
			if want(pos, it.ID) {
				out = append(out, upstate.Definition{Kind: kind, ID: it.ID, Keys: config.RedactSecrets(keysOf(it)), ShadowedBy: a.fileName()})
			}
			pos++
		}
	}
	for _, it := range a.items {
		if it.Kind == kind && !shown[it.ID] {
			if want(pos, it.ID) {
				out = append(out, upstate.Definition{Kind: kind, ID: it.ID, Keys: config.RedactSecrets(keysOf(it)),
					Problem: "not in force: the configuration refuses it now (see the log); fix or delete it"})
			}
			pos++
		}
	}
	return out, pos
}

// keysOf is an item's keys as a map, numbers as written.
func keysOf(it upstate.ConsoleItem) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(it.Keys))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return map[string]any{}
	}
	return m
}

// inFile reports whether the file defines the item.
func (a *App) inFile(kind upstate.ConsoleKind, id string) bool {
	return config.FileHas(a.file.Load(), kind, id)
}

func (a *App) stored(kind upstate.ConsoleKind, id string) (upstate.ConsoleItem, bool) {
	for _, it := range a.items {
		if it.Kind == kind && it.ID == id {
			return it, true
		}
	}
	return upstate.ConsoleItem{}, false
}

// Create makes a check or component from its keys (a JSON object, the
// same keys as in YAML).
func (c *Console) Create(ctx context.Context, kind upstate.ConsoleKind, body []byte, actor string) (upstate.Definition, error) {
	a := c.a
	keys, _, err := config.NormalizeKeys(body)
	if err != nil {
		return upstate.Definition{}, err
	}
	id, isString := keys["id"].(string)
	if _, has := keys["id"]; has && !isString {
		return upstate.Definition{}, upstate.Errorf(upstate.EINVALID, "id: want a string, e.g. \"api-health\"")
	}
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	if id != "" && a.inFile(kind, id) {
		return upstate.Definition{}, upstate.Errorf(upstate.ECONFLICT, "%s %q is already defined in %s; change it there, or choose another id", kind, id, a.fileName())
	}
	if _, ok := a.stored(kind, id); ok && id != "" {
		return upstate.Definition{}, upstate.Errorf(upstate.ECONFLICT, "%s %q already exists (made in the console); edit it, or choose another id", kind, id)
	}
	n, limit := 0, a.consoleLimit(kind)
	for _, it := range a.items {
		if it.Kind == kind {
			n++
		}
	}
	if n >= limit {
		return upstate.Definition{}, upstate.Errorf(upstate.ECONFLICT, "the console keeps at most %d %ss; delete some, or move them to %s (upstate export)", limit, kind, a.fileName())
	}
	now := a.opts.Clock.Now()
	it, err := item(kind, id, keys, now, now)
	if err != nil {
		return upstate.Definition{}, err
	}
	if err := a.change(ctx, it, false); err != nil {
		return upstate.Definition{}, err
	}
	a.log.Info(fmt.Sprintf("%s created in the console", kind), "component", "app", "id", id, "actor", actor)
	return a.definitionOf(kind, id), nil
}

func item(kind upstate.ConsoleKind, id string, keys map[string]any, created, updated time.Time) (upstate.ConsoleItem, error) {
	b, err := json.Marshal(keys)
	if err != nil {
		return upstate.ConsoleItem{}, upstate.Errorf(upstate.EINVALID, "the keys cannot be kept: %v", err)
	}
	return upstate.ConsoleItem{Kind: kind, ID: id, Keys: b, CreatedAt: created, UpdatedAt: updated}, nil
}

// definitionOf must be called with consoleMu held.
func (a *App) definitionOf(kind upstate.ConsoleKind, id string) upstate.Definition {
	if ds, _ := a.definitions(kind, id, 0, math.MaxInt); len(ds) > 0 {
		return ds[0]
	}
	return upstate.Definition{Kind: kind, ID: id}
}

// Update changes a console item's keys: patch is a JSON object whose keys
// replace the item's, null removing one; a secret sent back as
// "<secret>" keeps its value.
func (c *Console) Update(ctx context.Context, kind upstate.ConsoleKind, id string, patch []byte, actor string) (upstate.Definition, error) {
	a := c.a
	p, _, err := config.NormalizeKeys(patch)
	if err != nil {
		return upstate.Definition{}, err
	}
	if err := config.UnknownKey(kind, p); err != nil {
		return upstate.Definition{}, err
	}
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	old, err := a.editable(kind, id)
	if err != nil {
		return upstate.Definition{}, err
	}
	keys := keysOf(old)
	was := keysOf(old)
	for k, v := range p {
		if v == nil {
			delete(keys, k)
			continue
		}
		keys[k] = v
	}
	if got, _ := keys["id"].(string); got != id {
		return upstate.Definition{}, upstate.Errorf(upstate.EINVALID, "id: %s %q keeps its id; to rename it, make a new one and delete this one", kind, id)
	}
	if err := config.KeepSecrets(keys, was); err != nil {
		return upstate.Definition{}, err
	}
	it, err := item(kind, id, keys, old.CreatedAt, a.opts.Clock.Now())
	if err != nil {
		return upstate.Definition{}, err
	}
	if err := a.change(ctx, it, false); err != nil {
		return upstate.Definition{}, err
	}
	a.log.Info(fmt.Sprintf("%s changed in the console", kind), "component", "app", "id", id, "actor", actor)
	return a.definitionOf(kind, id), nil
}

// editable is the stored item a change may touch: ECONFLICT for one the
// file defines, ENOTFOUND for none. Must be called with consoleMu held.
func (a *App) editable(kind upstate.ConsoleKind, id string) (upstate.ConsoleItem, error) {
	if a.inFile(kind, id) {
		return upstate.ConsoleItem{}, a.managed(kind, id)
	}
	it, ok := a.stored(kind, id)
	if !ok {
		return it, upstate.Errorf(upstate.ENOTFOUND, "no %s %q", kind, id)
	}
	return it, nil
}

// Pause pauses (or, with paused false, resumes) a check made in the
// console: it is kept, not run, and opens no incidents.
func (c *Console) Pause(ctx context.Context, id string, paused bool, actor string) (upstate.Definition, error) {
	a := c.a
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	old, err := a.editable(upstate.ConsoleCheck, id)
	if err != nil {
		return upstate.Definition{}, err
	}
	keys := keysOf(old)
	if paused {
		keys["paused"] = true
	} else {
		delete(keys, "paused")
	}
	it, err := item(upstate.ConsoleCheck, id, keys, old.CreatedAt, a.opts.Clock.Now())
	if err != nil {
		return upstate.Definition{}, err
	}
	if err := a.change(ctx, it, false); err != nil {
		return upstate.Definition{}, err
	}
	what := "resumed"
	if paused {
		what = "paused"
	}
	a.log.Info("check "+what+" in the console", "component", "app", "check", id, "actor", actor)
	return a.definitionOf(upstate.ConsoleCheck, id), nil
}

// Delete removes a console item. A check's history (results, incidents)
// stays for the reports. A component some check or component still
// names, or with open incidents, is refused (ECONFLICT, saying which).
func (c *Console) Delete(ctx context.Context, kind upstate.ConsoleKind, id, actor string) error {
	a := c.a
	a.consoleMu.Lock()
	defer a.consoleMu.Unlock()
	// A console item the file shadows may be deleted: that is how a team
	// that moved it into the file tidies up.
	it, ok := a.stored(kind, id)
	if !ok {
		_, err := a.editable(kind, id)
		return err
	}
	if kind == upstate.ConsoleComponent && !a.inFile(kind, id) {
		if err := a.componentInUse(ctx, id); err != nil {
			return err
		}
	}
	if err := a.change(ctx, it, true); err != nil {
		return err
	}
	a.log.Info(fmt.Sprintf("%s deleted in the console", kind), "component", "app", "id", id, "actor", actor)
	return nil
}

// componentInUse refuses to delete a component checks or components name,
// or with open incidents.
func (a *App) componentInUse(ctx context.Context, id string) error {
	cfg := a.cfg.Load()
	var checks, comps []string
	for _, ch := range cfg.Checks {
		if slices.Contains(ch.Components, id) || slices.Contains(ch.DependsOn, id) {
			checks = append(checks, ch.ID)
		}
	}
	for _, c := range cfg.Components {
		if slices.Contains(c.DependsOn, id) {
			comps = append(comps, c.ID)
		}
	}
	var why []string
	if len(checks) > 0 {
		why = append(why, "checks "+strings.Join(checks, ", ")+" use it")
	}
	if len(comps) > 0 {
		why = append(why, "components "+strings.Join(comps, ", ")+" depend on it")
	}
	open, err := a.store.ListIncidents(ctx, upstate.IncidentFilter{OpenOnly: true})
	if err != nil {
		return err
	}
	var ins []string
	for _, in := range open {
		if slices.Contains(in.Components, id) {
			ins = append(ins, strconv.Quote(in.Name)+" ("+in.ID+")")
		}
	}
	if len(ins) > 0 {
		why = append(why, "open incidents "+strings.Join(ins, ", ")+" affect it")
	}
	if len(why) > 0 {
		return upstate.Errorf(upstate.ECONFLICT, "component %q cannot be deleted: %s", id, strings.Join(why, "; "))
	}
	return nil
}

// change validates the configuration with it (or, when remove, without
// it), stores it, and puts the result in force as a reload does. Must be
// called with consoleMu held.
func (a *App) change(ctx context.Context, it upstate.ConsoleItem, remove bool) error {
	file := a.file.Load()
	if !file.FromFile() {
		return upstate.Errorf(upstate.EUNAVAILABLE, "the configuration was not read from a file, so the console cannot add to it")
	}
	same := func(x upstate.ConsoleItem) bool { return x.Kind == it.Kind && x.ID == it.ID }
	items, applied := slices.DeleteFunc(slices.Clone(a.items), same), slices.DeleteFunc(slices.Clone(a.applied), same)
	if !remove {
		items, applied = replaced(a.items, it), replaced(a.applied, it)
	}
	cfg, err := config.WithConsole(file, applied, ConfigRules()...)
	if err != nil {
		return problemsOf(err, it)
	}
	// Put in force first, then kept: a change that cannot run (apply
	// compiles it first, refusing what cannot be built as EINVALID) is not
	// stored to run at the next start. A store that refuses it after puts
	// the running configuration back.
	prev := a.cfg.Load()
	if err := a.apply(ctx, cfg); err != nil {
		if upstate.ErrorCode(err) == upstate.EINVALID {
			return err
		}
		return fmt.Errorf("apply the console's change: %w", err)
	}
	if remove {
		err = a.store.DeleteConsoleItem(ctx, it.Kind, it.ID)
	} else {
		err = a.store.SaveConsoleItem(ctx, it)
	}
	if err != nil {
		if rerr := a.apply(ctx, prev); rerr != nil {
			a.log.Error("the console's change was not stored, and the configuration before it could not be put back", "component", "app", "err", rerr)
		}
		return err
	}
	a.items, a.applied = items, applied
	a.announce(ctx, cluster.TopicConsole)
	return nil
}

// replaced is list with it in place of the item of its kind and id, or
// appended.
func replaced(list []upstate.ConsoleItem, it upstate.ConsoleItem) []upstate.ConsoleItem {
	out := slices.Clone(list)
	for i, x := range out {
		if x.Kind == it.Kind && x.ID == it.ID {
			out[i] = it
			return out
		}
	}
	return append(out, it)
}

// problemsOf words a refused configuration for the console: problems in
// the item at its field paths ("timeout: ..."), others as the file says
// them; EINVALID.
func problemsOf(err error, it upstate.ConsoleItem) error {
	var probs *config.Problems
	if !errors.As(err, &probs) {
		return err
	}
	var msgs []string
	for _, p := range probs.Items {
		switch {
		case p.Item == itemName(it) && p.Path != "":
			msgs = append(msgs, p.Path+": "+p.Message)
		case p.Item == itemName(it):
			msgs = append(msgs, p.Message)
		default:
			msgs = append(msgs, (&config.Problems{File: filepath.Base(probs.File), Items: []config.Problem{p}}).Error())
		}
	}
	return upstate.Errorf(upstate.EINVALID, "%s", strings.Join(msgs, "; "))
}

// checkInfos is every check in force, paused ones too, with where it is
// defined.
func (a *App) checkInfos() []upstate.CheckInfo {
	cfg := a.cfg.Load()
	comp := a.checks.Load().compiled
	specs := map[string]upstate.CheckSpec{}
	for _, s := range append(slices.Clone(comp.specs), comp.paused...) {
		specs[s.ID] = s
	}
	out := make([]upstate.CheckInfo, 0, len(cfg.Checks))
	for _, ch := range cfg.Checks {
		info := upstate.CheckInfo{Spec: specs[ch.ID], Target: check.Target(ch.Section), Provisioned: !ch.Console, Paused: ch.Paused}
		if info.Provisioned {
			info.File = a.fileName()
		}
		out = append(out, info)
	}
	return out
}

// ExportConfig writes the file's configuration with the console's items
// appended (config.Export), reading them from the configuration's
// database (server.database, or SQLite in data_dir) without writing to
// it: a server may be running on it.
func ExportConfig(ctx context.Context, file *config.Config) ([]byte, error) {
	items, err := readConsoleItems(ctx, file)
	if err != nil {
		return nil, err
	}
	return config.Export(file, items)
}
