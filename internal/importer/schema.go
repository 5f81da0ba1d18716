package importer

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of the import format, to
// serve at /api/v1/import/schema.json; TestSchemaMatchesTypes keeps it
// in step with Document.
//
//go:embed schema.json
var Schema string
