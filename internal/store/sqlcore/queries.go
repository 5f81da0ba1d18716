package sqlcore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// SyncComponents implements store.Components.
func (db *Core) SyncComponents(ctx context.Context, cs []upstate.Component, now time.Time) error {
	return db.exec(ctx, func(tx Tx) error {
		kept := make(map[string]bool, len(cs))
		for i, c := range cs {
			kept[c.ID] = true
			_, err := tx.ExecContext(ctx, `INSERT INTO components (id, name, grp, description, depends_on, position, status, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, 'operational', ?, ?)
				ON CONFLICT (id) DO UPDATE SET name = excluded.name, grp = excluded.grp, description = excluded.description,
				depends_on = excluded.depends_on, position = excluded.position`,
				c.ID, c.Name, c.Group, c.Description, strings.Join(c.DependsOn, ","), i+1, MS(now), MS(now))
			if err != nil {
				return fmt.Errorf("sync component %s: %w", c.ID, err)
			}
		}
		// Components no longer configured: the ids stored less those kept,
		// deleted in parts (an IN list of every kept id could pass the
		// databases' limit on variables).
		rows, err := tx.QueryContext(ctx, `SELECT id FROM components`)
		stored, err := collect(rows, err, func(r interface{ Scan(...any) error }) (id string, err error) { return id, r.Scan(&id) })
		if err != nil {
			return err
		}
		var gone []string
		for _, id := range stored {
			if !kept[id] {
				gone = append(gone, id)
			}
		}
		return inParts(gone, func(list string, args []any) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM components WHERE id IN `+list, args...)
			return err
		})
	})
}

// ListComponents implements store.Components.
func (db *Core) ListComponents(ctx context.Context) ([]upstate.ComponentState, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, grp, description, depends_on, position, status, created_at, updated_at,
		hold_status, hold_by, hold_at FROM components ORDER BY position, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []upstate.ComponentState
	for rows.Next() {
		var c upstate.ComponentState
		var deps, status, hold string
		var created, updated, holdAt int64
		if err := rows.Scan(&c.ID, &c.Name, &c.Group, &c.Description, &deps, &c.Position, &status, &created, &updated,
			&hold, &c.Hold.By, &holdAt); err != nil {
			return nil, err
		}
		if hold != "" {
			c.Hold.Status, c.Hold.At = upstate.Status(hold), FromMS(holdAt)
		}
		c.DependsOn, c.Status, c.CreatedAt, c.UpdatedAt = splitList(deps), upstate.Status(status), FromMS(created), FromMS(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ListResults implements store.Results.
func (db *Core) ListResults(ctx context.Context, checkID string, from, to time.Time) ([]upstate.Result, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT at, outcome, latency_us, status_code, error, region FROM results WHERE check_id = ? AND at >= ? AND at < ? ORDER BY at`, checkID, MS(from), MS(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []upstate.Result
	for rows.Next() {
		r := upstate.Result{CheckID: checkID}
		var at, lat int64
		var outcome string
		if err := rows.Scan(&at, &outcome, &lat, &r.StatusCode, &r.Error, &r.Region); err != nil {
			return nil, err
		}
		r.At, r.Outcome, r.Latency = FromMS(at), upstate.Outcome(outcome), time.Duration(lat)*time.Microsecond
		out = append(out, r)
	}
	return out, rows.Err()
}

// LatestByRegion implements store.Results: each check's rows from since
// on, read by the key (check, time), the newest per region.
func (db *Core) LatestByRegion(ctx context.Context, checkIDs []string, since time.Time) ([]upstate.Result, error) {
	var out []upstate.Result
	err := inParts(checkIDs, func(list string, args []any) error {
		rows, err := db.read.QueryContext(ctx, `SELECT r.check_id, r.region, r.at, r.outcome, r.latency_us, r.status_code, r.error FROM results r
		JOIN (SELECT check_id, region, MAX(at) AS at FROM results WHERE check_id IN `+list+` AND at >= ? GROUP BY check_id, region) m
		ON r.check_id = m.check_id AND r.at = m.at ORDER BY r.check_id, r.region`, append(args, MS(since))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r upstate.Result
			var at, lat int64
			var outcome string
			if err := rows.Scan(&r.CheckID, &r.Region, &at, &outcome, &lat, &r.StatusCode, &r.Error); err != nil {
				return err
			}
			r.At, r.Outcome, r.Latency = FromMS(at), upstate.Outcome(outcome), time.Duration(lat)*time.Microsecond
			out = append(out, r)
		}
		return rows.Err()
	})
	// Parts are in the order of checkIDs, each sorted: sort the whole.
	slices.SortStableFunc(out, func(a, b upstate.Result) int {
		return cmp.Or(strings.Compare(a.CheckID, b.CheckID), strings.Compare(a.Region, b.Region))
	})
	return out, err
}

// rollupCols are a rollup's counted columns, as ListRollups and
// SumRollups read them (sums and a maximum in the second).
func rollupCols(summed bool) string {
	var b strings.Builder
	col := func(agg, c string) {
		if summed {
			fmt.Fprintf(&b, ", %s(%s)", agg, c)
		} else {
			fmt.Fprintf(&b, ", %s", c)
		}
	}
	for _, c := range []string{"n", "ok", "slow", "fail", "latency_sum_us"} {
		col("SUM", c)
	}
	col("MAX", "latency_max_us")
	for i := range store.LatencyBins {
		col("SUM", fmt.Sprintf("h%02d", i))
	}
	return b.String()
}

// readRollups reads rollups of the period in [from, to), of the checks
// (every check when there are none), in parts of the checks: sel is the
// statement's columns (a check, a bucket, then rollupCols) and tail what
// follows its conditions (GROUP BY, ORDER BY).
func (db *Core) readRollups(ctx context.Context, sel, tail string, period store.Period, checkIDs []string, from, to time.Time, add func(store.Rollup)) error {
	one := func(ids string, args []any) error {
		q := `SELECT ` + sel + ` FROM rollups WHERE period = ? AND bucket >= ? AND bucket < ?` + tail
		if ids != "" {
			// The checks as a table the rows are sought from, by the key
			// (check, period, bucket): SQLite took the (period, bucket)
			// index for an IN list and read every check's rows of the
			// hours asked for once per part, 8 s a minute at 100,000
			// checks. A CROSS JOIN keeps its order in SQLite.
			q = `SELECT ` + sel + ` FROM ` + ids + ` AS ids CROSS JOIN rollups WHERE rollups.check_id = ids.column1 AND period = ? AND bucket >= ? AND bucket < ?` + tail
		}
		rows, err := db.read.QueryContext(ctx, q, append(args, string(period), MS(from), MS(to))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := store.Rollup{Period: period}
			var bucket, sum, mx int64
			dest := []any{&r.CheckID, &bucket, &r.Count, &r.OK, &r.Slow, &r.Fail, &sum, &mx}
			for i := range r.Latencies {
				dest = append(dest, &r.Latencies[i])
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			r.Start, r.LatencySum, r.LatencyMax = FromMS(bucket), time.Duration(sum)*time.Microsecond, time.Duration(mx)*time.Microsecond
			add(r)
		}
		return rows.Err()
	}
	if len(checkIDs) == 0 {
		return one("", nil)
	}
	return inParts(checkIDs, func(list string, args []any) error { return one(valuesOf(len(args)), args) })
}

// ListRollups implements store.Results.
func (db *Core) ListRollups(ctx context.Context, period store.Period, checkIDs []string, from, to time.Time) ([]store.Rollup, error) {
	var out []store.Rollup
	err := db.readRollups(ctx, `check_id, bucket`+rollupCols(false), ` ORDER BY bucket, check_id`, period, checkIDs, from, to,
		func(r store.Rollup) { out = append(out, r) })
	if len(checkIDs) > maxIn {
		slices.SortFunc(out, func(a, b store.Rollup) int {
			return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.CheckID, b.CheckID))
		})
	}
	return out, err
}

// SumRollups implements store.Results: the database adds the rows up,
// so a page over 100,000 checks reads a row per hour, not per check and
// hour.
func (db *Core) SumRollups(ctx context.Context, period store.Period, checkIDs []string, from, to time.Time, by store.SumBy) ([]store.Rollup, error) {
	if by == store.ByCheck {
		var out []store.Rollup
		// MIN(bucket) fills readRollups' bucket column; the sum's Start is from.
		err := db.readRollups(ctx, `check_id, MIN(bucket)`+rollupCols(true), ` GROUP BY check_id ORDER BY check_id`, period, checkIDs, from, to,
			func(r store.Rollup) { r.Start = from; out = append(out, r) })
		if len(checkIDs) > maxIn {
			slices.SortFunc(out, func(a, b store.Rollup) int { return strings.Compare(a.CheckID, b.CheckID) })
		}
		return out, err
	}
	byStart := map[int64]*store.Rollup{}
	err := db.readRollups(ctx, `'', bucket`+rollupCols(true), ` GROUP BY bucket`, period, checkIDs, from, to,
		func(r store.Rollup) {
			if have := byStart[MS(r.Start)]; have != nil {
				have.Add(&r)
			} else {
				byStart[MS(r.Start)] = &r
			}
		})
	out := make([]store.Rollup, 0, len(byStart))
	for _, r := range byStart {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b store.Rollup) int { return a.Start.Compare(b.Start) })
	return out, err
}

// saveTransition records a transition, unless it is recorded already,
// and makes its target the check's current condition.
func (db *Core) saveTransition(ctx context.Context, tx Tx, t upstate.Transition) error {
	c := t.To
	if _, err := tx.ExecContext(ctx, db.insertTransition,
		c.CheckID, MS(c.At), string(t.From.State), t.From.Partial, string(c.State), c.Partial, MS(c.Since), c.Evidence, c.Failures, c.Samples,
		c.CheckID, MS(c.At), string(c.State), c.Partial); err != nil {
		return fmt.Errorf("save transition of %s: %w", c.CheckID, err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO conditions (check_id, state, partial, since, at, evidence, failures, samples) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (check_id) DO UPDATE SET state = excluded.state, partial = excluded.partial, since = excluded.since,
		at = excluded.at, evidence = excluded.evidence, failures = excluded.failures, samples = excluded.samples`,
		c.CheckID, string(c.State), c.Partial, MS(c.Since), MS(c.At), c.Evidence, c.Failures, c.Samples)
	if err != nil {
		return fmt.Errorf("save condition of %s: %w", c.CheckID, err)
	}
	return nil
}

// ListConditions implements store.Conditions.
func (db *Core) ListConditions(ctx context.Context) (map[string]upstate.Condition, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT check_id, state, partial, since, at, evidence, failures, samples FROM conditions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]upstate.Condition{}
	for rows.Next() {
		var c upstate.Condition
		var state string
		var since, at int64
		if err := rows.Scan(&c.CheckID, &state, &c.Partial, &since, &at, &c.Evidence, &c.Failures, &c.Samples); err != nil {
			return nil, err
		}
		c.State, c.Since, c.At = upstate.State(state), FromMS(since), FromMS(at)
		out[c.CheckID] = c
	}
	return out, rows.Err()
}

// ConditionsSince implements store.Conditions.
func (db *Core) ConditionsSince(ctx context.Context, after int64) (map[string]upstate.Condition, int64, error) {
	out := map[string]upstate.Condition{}
	if after <= 0 {
		var last int64
		err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM transitions`).Scan(&last)
		return out, last, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, check_id, to_state, to_partial, since, at, evidence, failures, samples
		FROM transitions WHERE id > ? ORDER BY id`, after)
	if err != nil {
		return nil, after, err
	}
	defer rows.Close()
	last := after
	for rows.Next() {
		var c upstate.Condition
		var state string
		var since, at int64
		if err := rows.Scan(&last, &c.CheckID, &state, &c.Partial, &since, &at, &c.Evidence, &c.Failures, &c.Samples); err != nil {
			return nil, after, err
		}
		c.State, c.Since, c.At = upstate.State(state), FromMS(since), FromMS(at)
		out[c.CheckID] = c
	}
	return out, last, rows.Err()
}

// ListTransitions implements store.Conditions.
func (db *Core) ListTransitions(ctx context.Context, checkID string, from, to time.Time) ([]upstate.Transition, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT at, from_state, from_partial, to_state, to_partial, since, evidence, failures, samples
		FROM transitions WHERE check_id = ? AND at >= ? AND at < ? ORDER BY at, id`, checkID, MS(from), MS(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []upstate.Transition
	for rows.Next() {
		var t upstate.Transition
		var at, since int64
		var fs, ts string
		if err := rows.Scan(&at, &fs, &t.From.Partial, &ts, &t.To.Partial, &since, &t.To.Evidence, &t.To.Failures, &t.To.Samples); err != nil {
			return nil, err
		}
		t.From.CheckID, t.To.CheckID = checkID, checkID
		t.From.State, t.To.State, t.To.At, t.To.Since = upstate.State(fs), upstate.State(ts), FromMS(at), FromMS(since)
		out = append(out, t)
	}
	return out, rows.Err()
}

type affectedJSON struct {
	Component string `json:"component"`
	Old       string `json:"old"`
	New       string `json:"new"`
}

// Apply implements store.Incidents.
func (db *Core) Apply(ctx context.Context, c store.Change) error {
	if c.Empty() {
		return nil
	}
	return db.exec(ctx, func(tx Tx) error { return db.applyChange(ctx, tx, c) })
}

// applyChange writes an incident change inside a transaction.
func (db *Core) applyChange(ctx context.Context, tx Tx, c store.Change) error {
	for _, t := range c.Transitions {
		if err := db.saveTransition(ctx, tx, t); err != nil {
			return err
		}
	}
	for _, in := range c.Incidents {
		overrides, err := json.Marshal(in.Overrides)
		if err != nil || in.Overrides == nil {
			overrides = []byte("{}")
		}
		scope, err := json.Marshal(scopeJSON{in.Reach.FailingPercent, in.Reach.FailingMax, in.Reach.Regions, in.Reach.Segments})
		if err != nil {
			return fmt.Errorf("incident %s scope: %w", in.ID, err)
		}
		upstream := ""
		if in.Upstream != nil {
			b, _ := json.Marshal(upstreamJSON{in.Upstream.Provider, in.Upstream.Title, in.Upstream.URL})
			upstream = string(b)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO incidents (id, name, status, impact, created_at, updated_at, started_at, detected_at, monitoring_at, resolved_at, components, auto, overrides,
				scope, upstream, acknowledged_at, acknowledged_by, merged_into, name_fold)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_fold = excluded.name_fold, status = excluded.status, impact = excluded.impact,
			updated_at = excluded.updated_at, started_at = excluded.started_at, detected_at = excluded.detected_at,
			monitoring_at = excluded.monitoring_at, resolved_at = excluded.resolved_at, components = excluded.components, auto = excluded.auto,
			overrides = excluded.overrides, scope = excluded.scope, upstream = excluded.upstream, acknowledged_at = excluded.acknowledged_at,
			acknowledged_by = excluded.acknowledged_by, merged_into = excluded.merged_into`,
			in.ID, in.Name, string(in.Status), string(in.Impact), MS(in.CreatedAt), MS(in.UpdatedAt), MS(in.StartedAt), MS(in.DetectedAt),
			nullMS(in.MonitoringAt), nullMS(in.ResolvedAt), strings.Join(in.Components, ","), in.Auto, string(overrides),
			string(scope), upstream, nullMS(in.AcknowledgedAt), in.AcknowledgedBy, in.MergedInto, strings.ToLower(in.Name))
		if err != nil {
			return fmt.Errorf("save incident %s: %w", in.ID, err)
		}
	}
	for _, e := range c.Entries {
		aff := make([]affectedJSON, len(e.Affected))
		for i, a := range e.Affected {
			aff[i] = affectedJSON{a.ComponentID, string(a.OldStatus), string(a.NewStatus)}
		}
		affected, _ := json.Marshal(aff)
		// An entry already kept is not written again: a change written a
		// second time (its first write committed after its writer was told
		// it had not) changes nothing.
		var written *time.Time
		if !e.WrittenAt.IsZero() {
			written = &e.WrittenAt
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO incident_updates (id, incident_id, seq, at, status, body, public, actor, affected, kind, written_at, until, body_html, html_v)
			VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_updates WHERE incident_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			e.ID, e.IncidentID, e.IncidentID, MS(e.At), string(e.Status), e.Body, e.Public, e.Actor, string(affected), string(e.GuessKind()), nullMS(written), nullMS(e.Until),
			db.render(e.Body), db.mdv)
		if err != nil {
			return fmt.Errorf("save timeline entry of %s: %w", e.IncidentID, err)
		}
	}
	if err := cancel(ctx, tx, c.Cancel); err != nil {
		return err
	}
	if err := enqueue(ctx, tx, c.Messages); err != nil {
		return err
	}
	for _, h := range c.Holds {
		at := int64(0)
		if h.Hold.Status != "" {
			at = MS(h.Hold.At)
		}
		res, err := tx.ExecContext(ctx, `UPDATE components SET hold_status = ?, hold_by = ?, hold_at = ? WHERE id = ?`,
			string(h.Hold.Status), h.Hold.By, at, h.ComponentID)
		if err := one(res, err, "component", h.ComponentID); err != nil {
			return fmt.Errorf("hold component %s: %w", h.ComponentID, err)
		}
	}
	for _, s := range c.Statuses {
		if _, err := tx.ExecContext(ctx, db.insertStatusChange,
			s.ComponentID, MS(s.At), string(s.Status), s.IncidentID, s.ComponentID, MS(s.At), string(s.Status)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE components SET status = ?, updated_at = ? WHERE id = ?`, string(s.Status), MS(s.At), s.ComponentID); err != nil {
			return err
		}
	}
	return nil
}

const incidentCols = `id, name, status, impact, created_at, updated_at, started_at, detected_at, monitoring_at, resolved_at, components, auto, overrides,
	scope, upstream, acknowledged_at, acknowledged_by, merged_into, hidden_reason, hidden_by, hidden_at`

// scopeJSON and upstreamJSON are how an incident's scope and upstream
// link are kept, as JSON in their columns.
// A range's top is failing_percent_max beside failing_percent, its
// bottom: a scope of one figure is written, and read, as before ranges.
type scopeJSON struct {
	FailingPercent *float64 `json:"failing_percent,omitempty"`
	FailingMax     *float64 `json:"failing_percent_max,omitempty"`
	Regions        []string `json:"regions,omitempty"`
	Segments       []string `json:"segments,omitempty"`
}

type upstreamJSON struct {
	Provider string `json:"provider"`
	Title    string `json:"title,omitempty"`
	URL      string `json:"url"`
}

func scanIncident(rows interface{ Scan(...any) error }) (*upstate.Incident, error) {
	in := &upstate.Incident{}
	var status, impact, comps string
	var created, updated, started, detected int64
	var monitoring, resolved, acked sql.NullInt64
	var overrides, scope, upstream, hiddenReason, hiddenBy string
	var hiddenAt sql.NullInt64
	if err := rows.Scan(&in.ID, &in.Name, &status, &impact, &created, &updated, &started, &detected, &monitoring, &resolved, &comps, &in.Auto, &overrides,
		&scope, &upstream, &acked, &in.AcknowledgedBy, &in.MergedInto, &hiddenReason, &hiddenBy, &hiddenAt); err != nil {
		return nil, err
	}
	if hiddenAt.Valid {
		in.Hidden = &upstate.Hidden{Reason: hiddenReason, By: hiddenBy, At: FromMS(hiddenAt.Int64)}
	}
	if err := json.Unmarshal([]byte(overrides), &in.Overrides); err != nil {
		return nil, fmt.Errorf("incident %s overrides: %w", in.ID, err)
	}
	var sc scopeJSON
	if err := json.Unmarshal([]byte(scope), &sc); err != nil {
		return nil, fmt.Errorf("incident %s scope: %w", in.ID, err)
	}
	in.Reach = upstate.Reach{FailingPercent: sc.FailingPercent, FailingMax: sc.FailingMax, Regions: sc.Regions, Segments: sc.Segments}
	if upstream != "" {
		var u upstreamJSON
		if err := json.Unmarshal([]byte(upstream), &u); err != nil {
			return nil, fmt.Errorf("incident %s upstream: %w", in.ID, err)
		}
		in.Upstream = &upstate.Upstream{Provider: u.Provider, Title: u.Title, URL: u.URL}
	}
	in.AcknowledgedAt = fromNullMS(acked)
	if len(in.Overrides) == 0 {
		in.Overrides = nil
	}
	in.Status, in.Impact = upstate.IncidentStatus(status), upstate.Impact(impact)
	in.CreatedAt, in.UpdatedAt, in.StartedAt, in.DetectedAt = FromMS(created), FromMS(updated), FromMS(started), FromMS(detected)
	in.MonitoringAt, in.ResolvedAt, in.Components = fromNullMS(monitoring), fromNullMS(resolved), splitList(comps)
	return in, nil
}

// GetIncident implements store.Incidents.
func (db *Core) GetIncident(ctx context.Context, id string) (*upstate.Incident, error) {
	in, err := scanIncident(db.read.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, upstate.Errorf(upstate.ENOTFOUND, "no incident %q", id)
	}
	if err != nil {
		return nil, err
	}
	if err := db.loadUpdates(ctx, []*upstate.Incident{in}); err != nil {
		return nil, err
	}
	return in, nil
}

// incidentWhere is the WHERE clause of f and its arguments.
func (db *Core) incidentWhere(f upstate.IncidentFilter) (string, []any) {
	q := ` WHERE 1 = 1`
	var args []any
	if f.OpenOnly {
		q += ` AND status IN ('investigating', 'identified', 'monitoring')`
	}
	if f.ResolvedOnly {
		q += ` AND status NOT IN ('investigating', 'identified', 'monitoring')`
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.Component != "" {
		q += ` AND ` + db.d.Contains(`',' || components || ','`)
		args = append(args, ","+f.Component+",")
	}
	for _, w := range f.Words {
		// name_fold is the name as Go lowercases it (strings.ToLower), so
		// the search folds case as the admin always did, beyond ASCII.
		q += ` AND ` + db.d.Contains(`name_fold`)
		args = append(args, strings.ToLower(w))
	}
	if f.Unmerged {
		q += ` AND merged_into = ''`
	}
	switch f.Hidden {
	case upstate.HiddenExclude:
		q += ` AND hidden_at IS NULL`
	case upstate.HiddenOnly:
		q += ` AND hidden_at IS NOT NULL`
	}
	if !f.Since.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, MS(f.Since))
	}
	return q, args
}

// CountIncidents implements store.Incidents.
func (db *Core) CountIncidents(ctx context.Context, f upstate.IncidentFilter) (int, error) {
	where, args := db.incidentWhere(f)
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents`+where, args...).Scan(&n)
	return n, err
}

// ListIncidents implements store.Incidents.
func (db *Core) ListIncidents(ctx context.Context, f upstate.IncidentFilter) ([]*upstate.Incident, error) {
	where, args := db.incidentWhere(f)
	q := `SELECT ` + incidentCols + ` FROM incidents` + where + ` ORDER BY created_at DESC, id DESC`
	switch {
	case f.Limit > 0:
		q += fmt.Sprintf(` LIMIT %d OFFSET %d`, f.Limit, max(f.Offset, 0))
	case f.Offset > 0:
		q += fmt.Sprintf(` LIMIT %s OFFSET %d`, db.d.NoLimit(), f.Offset)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []*upstate.Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, in)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, db.loadUpdates(ctx, out)
}

func (db *Core) loadUpdates(ctx context.Context, ins []*upstate.Incident) error {
	byID := make(map[string]*upstate.Incident, len(ins))
	ids := make([]string, 0, len(ins))
	for _, in := range ins {
		byID[in.ID] = in
		ids = append(ids, in.ID)
	}
	return inParts(ids, func(list string, args []any) error {
		rows, err := db.read.QueryContext(ctx, `SELECT id, incident_id, at, status, body, public, actor, affected, kind, edited_at, edited_by, written_at, until, body_html, html_v
		FROM incident_updates WHERE incident_id IN `+list+` ORDER BY incident_id, at, seq`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e upstate.TimelineEntry
			var at int64
			var status, affected, kind, htmlV string
			var edited, written, until sql.NullInt64
			if err := rows.Scan(&e.ID, &e.IncidentID, &at, &status, &e.Body, &e.Public, &e.Actor, &affected, &kind, &edited, &e.EditedBy, &written, &until, &e.BodyHTML, &htmlV); err != nil {
				return err
			}
			if htmlV != db.mdv {
				e.BodyHTML = ""
			}
			if w := fromNullMS(written); w != nil {
				e.WrittenAt = *w
			}
			e.At, e.Status, e.Kind, e.EditedAt, e.Until = FromMS(at), upstate.IncidentStatus(status), upstate.EntryKind(kind), fromNullMS(edited), fromNullMS(until)
			e.Kind = e.GuessKind()
			var aff []affectedJSON
			if err := json.Unmarshal([]byte(affected), &aff); err != nil {
				return fmt.Errorf("timeline entry %s: %w", e.ID, err)
			}
			for _, a := range aff {
				e.Affected = append(e.Affected, upstate.AffectedComponent{ComponentID: a.Component, OldStatus: upstate.Status(a.Old), NewStatus: upstate.Status(a.New)})
			}
			in := byID[e.IncidentID]
			in.Updates = append(in.Updates, e)
		}
		return rows.Err()
	})
}

// ListStatusChanges implements store.History.
func (db *Core) ListStatusChanges(ctx context.Context, from, to time.Time) ([]upstate.StatusChange, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT component_id, at, status, incident_id FROM (
			SELECT s.component_id, s.at, s.status, s.incident_id, s.id FROM status_changes s
			WHERE s.id IN (SELECT MAX(id) FROM status_changes WHERE at < ? GROUP BY component_id)
			UNION ALL
			SELECT component_id, at, status, incident_id, id FROM status_changes WHERE at >= ? AND at < ?
		) AS history ORDER BY at, id`, MS(from), MS(from), MS(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []upstate.StatusChange
	for rows.Next() {
		var s upstate.StatusChange
		var at int64
		var status string
		if err := rows.Scan(&s.ComponentID, &at, &status, &s.IncidentID); err != nil {
			return nil, err
		}
		s.At, s.Status = FromMS(at), upstate.Status(status)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SaveHeartbeat implements store.Heartbeats.
func (db *Core) SaveHeartbeat(ctx context.Context, checkID string, at time.Time) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO heartbeats (check_id, at) VALUES (?, ?)
			ON CONFLICT (check_id) DO UPDATE SET at = excluded.at WHERE excluded.at > heartbeats.at`, checkID, MS(at))
		return err
	})
}

// ListHeartbeats implements store.Heartbeats.
func (db *Core) ListHeartbeats(ctx context.Context) (map[string]time.Time, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT check_id, at FROM heartbeats`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		out[id] = FromMS(at)
	}
	return out, rows.Err()
}
