package upstate

import "time"

// PostmortemDoc is what people write after an incident: why it happened and
// what will stop it happening again.
type PostmortemDoc struct {
	IncidentID   string
	RootCause    string // Markdown
	Contributing string // contributing factors, Markdown
	Fix          string // fix and prevention, Markdown
	Actions      []ActionItem
	Status       string // draft or published
	Author       string
	UpdatedAt    time.Time
	PublishedAt  *time.Time
	// RootCauseHTML, ContributingHTML and FixHTML are the three as the
	// markdown package renders them, set as TimelineEntry.BodyHTML is: by
	// a store that kept them rendered by the renderer this binary runs;
	// empty otherwise.
	RootCauseHTML, ContributingHTML, FixHTML string `json:"-"`
}

// The postmortem statuses.
const (
	PostmortemDraft     = "draft"
	PostmortemPublished = "published"
)

// ActionItem is one thing to do so it does not happen again.
type ActionItem struct {
	Text  string `json:"text"`
	Owner string `json:"owner"`
	State string `json:"state"` // open or done
}
