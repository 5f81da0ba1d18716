package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/ids"
	"github.com/upstatehq/upstate/internal/importer"
	"github.com/upstatehq/upstate/internal/store"
)

// ImportCounts says what an import did.
type ImportCounts struct {
	New, Updated, Components int
}

// ComponentIDs are the components in force for the configuration: the
// file's and the console's (read beside a running server).
func ComponentIDs(ctx context.Context, cfg *config.Config) []string {
	items, err := readConsoleItems(ctx, cfg)
	var out []string
	for _, c := range components(mergedOr(cfg, items, err)) {
		out = append(out, c.ID)
	}
	return out
}

// importedID is the id an imported incident keeps, import after import:
// its external id's. An incident an Upstate exported keeps the id it had
// there, so a history moved away and back (or imported twice) replaces
// rather than doubles.
func importedID(externalID string) string {
	if id, ok := strings.CutPrefix(externalID, importer.ExternalIDPrefix); ok && id != "" {
		return id
	}
	return ids.Stable("import:" + externalID)
}

// ImportHistory writes a validated import document into the store: the
// components it names that do not exist yet (made as the console makes
// them, so they are kept, listed and exported like any other), then every
// incident with its timeline, the status history it caused and its
// postmortem, in one transaction, each replacing what an earlier import of
// the same external id wrote. Nothing is written unless all of it fits:
// an incident still open is refused (the engine runs what is open; declare
// it instead), as are components the configuration would not take. No
// one is notified: this is the past.
func ImportHistory(ctx context.Context, cfg *config.Config, doc *importer.Document, source string) (ImportCounts, error) {
	var counts ImportCounts
	var open []string
	for i, x := range doc.Incidents {
		if x.Status.Open() {
			open = append(open, fmt.Sprintf("incidents[%d] (%s) is %s", i, x.ExternalID, x.Status))
		}
	}
	if len(open) > 0 {
		return counts, upstate.Errorf(upstate.EINVALID, "%s: import only incidents that have ended (resolved or postmortem); declare one still going on in the console", strings.Join(open, "; "))
	}
	db, err := openStore(ctx, cfg, storeOptions{Now: time.Now})
	if err != nil {
		return counts, err
	}
	defer db.Close()

	// Components first: those the configuration lacks become console
	// items, validated with the rest before any is written.
	items, err := db.ListConsoleItems(ctx)
	if err != nil {
		return counts, err
	}
	have := map[string]bool{}
	for _, c := range components(withConsole(ctx, cfg, db)) {
		have[c.ID] = true
	}
	now := time.Now()
	var added []upstate.ConsoleItem
	for _, c := range doc.Components {
		if have[c.ID] {
			continue
		}
		keys := map[string]string{"id": c.ID, "name": c.Name, "group": c.Group, "description": c.Description}
		for k, v := range keys {
			if v == "" {
				delete(keys, k)
			}
		}
		b, err := json.Marshal(keys)
		if err != nil {
			return counts, err
		}
		added = append(added, upstate.ConsoleItem{Kind: upstate.ConsoleComponent, ID: c.ID, Keys: b, CreatedAt: now, UpdatedAt: now})
		have[c.ID] = true
	}
	// What runs is the file with the console's items: the components
	// written below must keep the console's, not the file's alone.
	eff := withConsole(ctx, cfg, db)
	if len(added) > 0 {
		if !cfg.FromFile() {
			return counts, upstate.Errorf(upstate.EINVALID, "the import names components the configuration lacks, and the configuration was not read from a file")
		}
		if eff, err = config.WithConsole(cfg, append(items, added...), ConfigRules()...); err != nil {
			return counts, fmt.Errorf("the components the import would create: %w", err)
		}
	}
	var ins []store.Imported
	for _, x := range doc.Incidents {
		ins = append(ins, imported(x))
	}

	for _, it := range added {
		if err := db.SaveConsoleItem(ctx, it); err != nil {
			return counts, err
		}
	}
	if err := db.SyncComponents(ctx, components(eff), now); err != nil {
		return counts, err
	}
	created, err := db.ImportIncidents(ctx, ins)
	if err != nil {
		return counts, err
	}
	counts.New, counts.Updated, counts.Components = created, len(ins)-created, len(added)
	// What the import wrote is in the audit log, as the command line's
	// other changes are; the history is written even if the log refuses.
	targets := make([]string, 0, min(len(ins), 100))
	for _, im := range ins[:min(len(ins), 100)] {
		targets = append(targets, im.Incident.ID)
	}
	entry := upstate.AuditEntry{At: time.Now(), Actor: CommandLineActor(), ActorKind: upstate.ActorCLI, Route: "upstate import", Targets: targets,
		Action: fmt.Sprintf("imported %d incidents (%d new, %d replaced) and %d components from %s", len(ins), counts.New, counts.Updated, counts.Components, source)}
	if err := db.AppendAudit(ctx, entry.Bounded()); err != nil {
		return counts, fmt.Errorf("the history was imported, but the audit log did not record it: %w", err)
	}
	return counts, nil
}

// imported is one incident of an import file as the store keeps it: ids
// from its external id (so a second import replaces it), and the status
// history its impact implies on its components while it lasted.
func imported(x importer.Incident) store.Imported {
	in := x.Incident()
	in.ID = importedID(x.ExternalID)
	for i := range in.Updates {
		in.Updates[i].ID, in.Updates[i].IncidentID = ids.Stable(in.ID+"#"+strconv.Itoa(i)), in.ID
	}
	im := store.Imported{Incident: &in}
	for _, c := range x.Statuses {
		im.Statuses = append(im.Statuses, upstate.StatusChange{ComponentID: c.Component, At: c.At, Status: c.Status, IncidentID: in.ID})
	}
	if st := impactStatus(in.Impact); st != "" && in.ResolvedAt != nil && len(x.Statuses) == 0 {
		for _, c := range in.Components {
			im.Statuses = append(im.Statuses,
				upstate.StatusChange{ComponentID: c, At: in.StartedAt, Status: st, IncidentID: in.ID},
				upstate.StatusChange{ComponentID: c, At: *in.ResolvedAt, Status: upstate.Operational, IncidentID: in.ID})
		}
	}
	if pm := x.PostmortemDoc(); pm != nil {
		pm.IncidentID = in.ID
		if pm.UpdatedAt.IsZero() && in.ResolvedAt != nil {
			pm.UpdatedAt = *in.ResolvedAt
		}
		im.Postmortem = pm
	}
	return im
}

// impactStatus is the component status an incident of this impact gave
// its components, as Statuspage's impacts mean them.
func impactStatus(i upstate.Impact) upstate.Status {
	switch i {
	case upstate.ImpactCritical:
		return upstate.MajorOutage
	case upstate.ImpactMajor:
		return upstate.PartialOutage
	case upstate.ImpactMinor:
		return upstate.DegradedPerformance
	}
	return ""
}

// ExportHistory writes the incident history of the configuration's
// database as an import file (importer.FromIncidents): what `upstate
// import` takes into another Upstate, telling the same report. It reads
// beside a running server.
func ExportHistory(ctx context.Context, cfg *config.Config) ([]byte, []importer.Warning, error) {
	db, err := openStore(ctx, cfg, storeOptions{Now: time.Now})
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	ins, err := db.ListIncidents(ctx, upstate.IncidentFilter{Hidden: upstate.HiddenAny})
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(ins))
	for _, in := range ins {
		ids = append(ids, in.ID)
	}
	pms, err := db.ListPostmortems(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	changes, err := db.ListStatusChanges(ctx, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		return nil, nil, err
	}
	comps, err := db.ListComponents(ctx)
	if err != nil {
		return nil, nil, err
	}
	cs := make([]upstate.Component, 0, len(comps))
	for _, c := range comps {
		cs = append(cs, c.Component)
	}
	// Oldest first, as a person reads a history.
	slices.Reverse(ins)
	doc, warns := importer.FromIncidents(ins, pms, changes, cs)
	b, err := doc.Marshal()
	return b, warns, err
}
