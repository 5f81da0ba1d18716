// Package importer reads the files teams bring to Upstate: its own import
// format for incident history, and the exports of the tools they leave.
// It converts and validates; it opens no database and no connection. The
// command that writes what it returns (`upstate import`) lives in cli and
// app.
//
// # The import format
//
// An import file (Document) is YAML or JSON (JSON is YAML), described by
// the JSON Schema in Schema, served at /api/v1/import/schema.json:
//
//	version: 1
//	components:                    # optional: created when no component has the id
//	  - {id: sso, name: Single sign-on, group: Platform}
//	incidents:
//	  - external_id: legacy:2026-09-14-sso   # required, unique: the import's identity
//	    name: Sign-in failing for schools on SSO
//	    status: resolved             # investigating, identified, monitoring, resolved, postmortem
//	    impact: major                # none, minor, major, critical
//	    components: [api, sso]       # ids in the configuration or in components above
//	    started_at: 2026-09-14T07:52:00Z
//	    detected_at: 2026-09-14T07:55:30Z      # default started_at
//	    acknowledged_at: 2026-09-14T07:58:00Z
//	    resolved_at: 2026-09-14T09:10:00Z      # required when resolved, refused when open
//	    scope: {failing_percent: [20, 35], regions: [EU], segments: [schools on SSO]}
//	    upstream: {provider: Google Workspace, title: SAML errors, url: https://…}
//	    updates:                     # oldest first
//	      - {at: 2026-09-14T07:58:00Z, status: investigating, body: We are looking into it., public: true}
//	      - {at: 2026-09-14T08:05:00Z, body: "Internal note: Google's SAML answers 502."}
//	    postmortem:
//	      summary: …
//	      root_cause: …
//	      contributing: …
//	      fix: …
//	      prevention: …
//	      actions: [{text: Add a fallback link, owner: dana, due: 2026-10-01, done: false}]
//	      published_at: 2026-09-16T12:00:00Z   # without it, a draft
//
// Parse reads it strictly, as internal/config reads a configuration:
// unknown and repeated keys, wrong types, anchors and aliases are refused;
// times are RFC 3339 with a zone and never after Options.Now; updates are
// in time order, no time is before started_at; statuses and impacts are the
// root package's. Every problem comes back at once, each as
// file:line: incidents[3].updates[1].at: what is wrong, and nothing is
// returned unless all of it is valid, so an import changes nothing unless
// it can change everything. The bounds: MaxBytes (32 MiB), MaxIncidents
// (100,000), MaxUpdates per incident, MaxBody per text, MaxProblems listed.
//
// Importing is idempotent by external_id: the importer creates the
// incidents whose external id it has not seen and replaces those it has
// (timeline and postmortem with them), so the same file imported twice
// changes nothing the second time, and a newer export of the same source
// updates what an older one brought. Incident.Incident and
// Incident.PostmortemDoc give the root package's values to store.
//
// # The converters
//
// FromStatuspage turns Atlassian Statuspage's incidents into a Document:
// the public API's GET /api/v2/incidents.json (or summary.json) and the
// manage API's incident list. external_id is "statuspage:" + the
// incident's id; updates are taken oldest first at their display_at;
// components are named by slugs of their names and created by the
// document; scheduled maintenances are skipped with a warning. The
// document is validated as Parse validates a file.
//
// FromGatus and FromUptimeKuma turn a Gatus configuration (YAML) and an
// Uptime Kuma JSON backup into the components: and checks: sections of an
// upstate.yaml (Converted), which config.Parse accepts once a page: block
// is added. Each endpoint or monitor becomes a check with a component of
// its own, in the group it had (Gatus's group; Kuma's group monitors,
// nested ones joined with " / "), so the page lists what the old
// dashboard listed. What Upstate cannot express, or expresses a little
// differently, is a Warning naming the endpoint or monitor and what was
// not carried over; nothing is dropped silently, and no secret (tokens,
// passwords, connection strings) is copied into the output: heartbeat
// tokens become ${ENV} references the warnings name.
package importer
