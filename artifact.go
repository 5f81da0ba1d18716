package upstate

import "time"

// Artifact is what a check kept of a failure for people to look at: a
// browser check's screenshot of the page as it failed. Artifacts are kept
// apart from results, for the last few failures of each check, and pruned
// with raw results.
type Artifact struct {
	ID      string
	CheckID string
	// At is the failing result's time (Result.At).
	At          time.Time
	ContentType string // image/png
	// Data is the content; lists leave it out (Size says how big it is).
	Data []byte
	Size int
	// Note says what failed, in words (the result's evidence).
	Note string
	// Components are the check's components when it failed, so that an
	// incident on them can show what its checks saw.
	Components []string
}

// ArtifactFilter selects artifacts.
type ArtifactFilter struct {
	CheckID    string    // any when empty
	Components []string  // those of checks on any of these, when set
	Since      time.Time // taken at or after, when set
	Until      time.Time // taken before, when set
	Limit      int       // 0 for no limit
}
