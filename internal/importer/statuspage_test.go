package importer

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/golden"
)

func fromStatuspageFile(t *testing.T, path string) (*Document, []Warning) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, warnings, err := FromStatuspage(bytes.NewReader(data), Options{File: path, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return doc, warnings
}

func TestStatuspage(t *testing.T) {
	doc, warnings := fromStatuspageFile(t, "testdata/statuspage-incidents.json")
	out, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	for _, x := range warnings {
		w.WriteString("# warning: " + x.String() + "\n")
	}
	golden.Check(t, "statuspage-incidents.out.yaml", append([]byte(w.String()), out...))

	// What it writes is an import file Parse accepts as it is.
	if _, err := Parse(out, Options{File: "out.yaml", Now: testNow}); err != nil {
		t.Fatalf("Parse refuses the converted document: %v", err)
	}
	if got, want := len(doc.Incidents), 2; got != want {
		t.Fatalf("incidents = %d, want %d (the maintenance skipped)", got, want)
	}
	in := doc.Incidents[0]
	if in.ExternalID != "statuspage:p31zjtct2jer" || in.Status != upstate.Monitoring || in.ResolvedAt != nil {
		t.Errorf("incident = %+v", in)
	}
	if got := in.Updates; len(got) != 3 || got[0].Status != upstate.Investigating || !got[1].At.Equal(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("updates are not oldest first at display_at: %+v", got)
	}
	if got, want := strings.Join(in.Components, ","), "api,core-platform-dashboard"; got != want {
		t.Errorf("components = %s, want %s (by the name of the component, then of affected ones)", got, want)
	}
	pm := doc.Incidents[1].Postmortem
	if pm == nil || !strings.Contains(pm.Summary, "SAML endpoint failed") || pm.PublishedAt == nil {
		t.Errorf("postmortem = %+v", pm)
	}
	if !strings.Contains(warnings[0].String(), "statuspage:z9yx8w7v6u5t: a scheduled maintenance") {
		t.Errorf("warnings = %v", warnings)
	}

	// The same input gives the same document: importing it again finds
	// the same external ids and components.
	again, _ := fromStatuspageFile(t, "testdata/statuspage-incidents.json")
	out2, _ := again.Marshal()
	if !bytes.Equal(out, out2) {
		t.Error("two conversions of one file differ")
	}
}

// TestStatuspageOwnOutput converts Upstate's own Statuspage-compatible
// incidents.json (internal/web's golden file), which follows the real
// format field for field.
func TestStatuspageOwnOutput(t *testing.T) {
	doc, _ := fromStatuspageFile(t, "../web/testdata/api_v2_incidents.json")
	if len(doc.Incidents) == 0 {
		t.Fatal("no incidents")
	}
	for _, in := range doc.Incidents {
		if !strings.HasPrefix(in.ExternalID, "statuspage:") || len(in.Updates) == 0 || len(in.Components) == 0 {
			t.Errorf("incident = %+v", in)
		}
	}
}

// TestStatuspageManageAPI reads the manage API's list of incidents: the
// same objects, in a top-level array.
func TestStatuspageManageAPI(t *testing.T) {
	const list = `[
  {"id": "tks5n8x7w24h", "name": "Data layer migration", "status": "resolved", "impact": "none", "impact_override": null,
   "created_at": "2026-04-21T11:45:33-06:00", "resolved_at": "2026-04-21T13:00:00-06:00", "backfilled": false,
   "incident_updates": [{"status": "resolved", "body": "Done.", "created_at": "2026-04-21T13:00:00-06:00",
     "display_at": "2026-04-21T13:00:00-06:00", "twitter_updated_at": null, "wants_twitter_update": false}]}
]`
	doc, _, err := FromStatuspage(strings.NewReader(list), Options{File: "list.json", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	in := doc.Incidents[0]
	if in.ExternalID != "statuspage:tks5n8x7w24h" || in.ResolvedAt == nil || !in.StartedAt.Equal(time.Date(2026, 4, 21, 17, 45, 33, 0, time.UTC)) {
		t.Errorf("incident = %+v", in)
	}
}

func TestStatuspageRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "not Statuspage's JSON"},
		{"no incidents", `{"page": {}}`, "want an object with incidents"},
		{"syntax", "{\"incidents\": [\n{\"id\": \"a}]}", "sp.json:2: not Statuspage's JSON"},
		{"no id", "{\"incidents\": [\n{\"name\": \"x\"}]}", "sp.json:2: incidents[0]: an incident without an id"},
		{"bad time", "{\"incidents\": [\n{\"id\": \"a\", \"name\": \"x\", \"status\": \"investigating\", \"impact\": \"minor\", \"started_at\": \"yesterday\"}]}",
			`sp.json:2: incidents[0].started_at: "yesterday" is not an RFC 3339 time`},
		{"future", "{\"incidents\": [\n{\"id\": \"m\", \"status\": \"completed\"},\n{\"id\": \"a\", \"name\": \"x\", \"status\": \"investigating\", \"impact\": \"minor\", \"started_at\": \"2099-01-01T00:00:00Z\"}]}",
			"sp.json:3: incidents[1] (statuspage:a).started_at: 2099-01-01T00:00:00Z is in the future"},
		{"unknown status", "{\"incidents\": [\n{\"id\": \"a\", \"name\": \"x\", \"status\": \"fixed\", \"impact\": \"minor\", \"started_at\": \"2026-01-01T00:00:00Z\"}]}",
			`sp.json:2: incidents[0] (statuspage:a).status: "fixed" is not an incident status`},
		{"billion laughs", laughs("incidents"), "more than 4000000 values"},
		{"wrong type", "{\"incidents\": [\n{\"id\": \"a\", \"incident_updates\": {\"x\": 1}}]}", "sp.json:2: incidents[0]:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := FromStatuspage(strings.NewReader(tc.in), Options{File: "sp.json", Now: testNow})
			var probs *Problems
			if !errors.As(err, &probs) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want *Problems saying %q", err, tc.want)
			}
		})
	}
}
