package adminapi

import (
	"net/http"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// warningJSON is a check's current warning as the API shows it.
type warningJSON struct {
	Check      string     `json:"check"`
	CheckName  string     `json:"check_name"`
	Key        string     `json:"key"`
	What       string     `json:"what"`
	Stage      int        `json:"stage"`
	Due        *time.Time `json:"due,omitempty"`
	Since      time.Time  `json:"since"`
	Seen       time.Time  `json:"seen"`
	Components []string   `json:"components"`
}

// listWarnings shows the checks' current warnings, soonest due first:
// what operators should act on before it fails. The public never sees them.
func (s *Server) listWarnings(w http.ResponseWriter, _ *http.Request, _ upstate.Principal) {
	out := []warningJSON{}
	if s.opts.Warnings != nil {
		for _, x := range s.opts.Warnings() {
			j := warningJSON{Check: x.CheckID, CheckName: x.CheckName, Key: x.Key, What: x.What, Stage: x.Stage, Since: x.Since.UTC(), Seen: x.Seen.UTC(),
				Components: append([]string{}, x.Components...)}
			if !x.Due.IsZero() {
				due := x.Due.UTC()
				j.Due = &due
			}
			out = append(out, j)
		}
	}
	respond.JSON(w, http.StatusOK, map[string]any{"warnings": out})
}
