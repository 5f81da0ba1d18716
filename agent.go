package upstate

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The probe agents' wire: what GET /api/v1/agent/checks answers and POST
// /api/v1/agent/results takes. An agent (upstate probe) runs the checks
// of its region and reports their results; the server decides them.

// AgentCheck is one check an agent runs, as the server sends it.
type AgentCheck struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Interval is how often the agent probes; Slot its place in the
	// interval (from the Unix epoch), so the regions take turns.
	Interval time.Duration `json:"interval_ns"`
	Slot     time.Duration `json:"slot_ns"`
	// Definition is the check's configuration as YAML, without the keys
	// the server alone uses: the agent compiles it with the same kinds.
	Definition string `json:"definition"`
}

// AgentChecks is the answer to GET /api/v1/agent/checks.
type AgentChecks struct {
	Region string       `json:"region"`
	Checks []AgentCheck `json:"checks"`
	// Refresh is how soon the agent should ask again.
	Refresh time.Duration `json:"refresh_ns"`
}

// AgentResult is one result an agent reports. ID is the agent's, unique
// per result: the server takes each once however often it is sent.
type AgentResult struct {
	ID         string    `json:"id"`
	CheckID    string    `json:"check_id"`
	At         time.Time `json:"at"`
	Outcome    Outcome   `json:"outcome"`
	LatencyNS  int64     `json:"latency_ns"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	Note       string    `json:"note,omitempty"`
	CertExpiry time.Time `json:"cert_expiry,omitzero"`
}

// AgentResultOf is what an agent sends of a result.
// Its words are cut to what the server takes (MaxAgentText, whole
// characters, no NUL): a long error never gets a whole batch refused.
func AgentResultOf(id string, r Result) AgentResult {
	return AgentResult{ID: id, CheckID: r.CheckID, At: r.At.UTC(), Outcome: r.Outcome, LatencyNS: int64(r.Latency), StatusCode: r.StatusCode,
		Error: agentText(r.Error), Note: agentText(r.Note), CertExpiry: r.CertExpiry}
}

// MaxAgentText bounds a reported result's error and note, in bytes.
const MaxAgentText = 4096

// agentText is s as a report carries it: valid UTF-8 without NUL, cut at
// a character boundary to MaxAgentText.
func agentText(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= MaxAgentText {
		return s
	}
	cut := MaxAgentText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Result is the result the server decides, from region.
func (a AgentResult) Result(region string) Result {
	return Result{CheckID: a.CheckID, At: a.At, Outcome: a.Outcome, Latency: time.Duration(a.LatencyNS), StatusCode: a.StatusCode,
		Error: a.Error, Note: a.Note, CertExpiry: a.CertExpiry, Region: region}
}

// MaxAgentBatch bounds the results one report carries.
const MaxAgentBatch = 500

// Check says what is wrong with a reported result, in words; nil when
// nothing is.
func (a AgentResult) Check() error {
	switch {
	case a.ID == "" || len(a.ID) > 128:
		return fmt.Errorf("id is required (at most 128 characters)")
	case a.CheckID == "":
		return fmt.Errorf("check_id is required")
	case a.At.IsZero():
		return fmt.Errorf("at is required")
	case a.Outcome != OutcomeOK && a.Outcome != OutcomeSlow && a.Outcome != OutcomeFail:
		return fmt.Errorf("outcome %q is not ok, slow or fail", a.Outcome)
	case a.LatencyNS < 0:
		return fmt.Errorf("latency_ns must not be negative")
	case len(a.Error) > MaxAgentText || len(a.Note) > MaxAgentText:
		return fmt.Errorf("error and note are at most %d bytes", MaxAgentText)
	case !utf8.ValidString(a.Error+a.Note+a.CheckID) || strings.IndexByte(a.Error+a.Note+a.CheckID, 0) >= 0:
		return fmt.Errorf("check_id, error and note must be UTF-8 text without NUL")
	}
	return nil
}

// AgentReceipt is the answer to POST /api/v1/agent/results: how many
// were taken now and how many had been already (sent again after a lost
// answer).
type AgentReceipt struct {
	Accepted  int `json:"accepted"`
	Duplicate int `json:"duplicate"`
}
