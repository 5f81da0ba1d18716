package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
)

func result(i int) upstate.AgentResult {
	return upstate.AgentResult{ID: fmt.Sprintf("r%04d", i), CheckID: "api", At: time.Date(2026, 12, 1, 12, 0, i, 0, time.UTC), Outcome: upstate.OutcomeOK}
}

// What waits survives the agent's restart, a write cut short included, and
// is sent oldest first, a report's worth at a time.
func TestQueueSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range upstate.MaxAgentBatch + 3 {
		if err := q.Add(result(i)); err != nil {
			t.Fatal(err)
		}
	}
	b, ok, err := q.Next()
	if err != nil || !ok || len(b.Results) != upstate.MaxAgentBatch || b.Results[0].ID != "r0000" {
		t.Fatalf("first batch: %d results, %v %v", len(b.Results), ok, err)
	}
	q.Done(b)
	// The agent is killed mid-write: no Close, half a line at the end.
	seg := q.path(q.seq)
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id": "r9999", "check_`)
	f.Close()

	q2, err := OpenQueue(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	b, ok, err = q2.Next()
	if err != nil || !ok || len(b.Results) != 3 || b.Results[0].ID != fmt.Sprintf("r%04d", upstate.MaxAgentBatch) {
		t.Fatalf("after the restart: %+v %v %v", b.Results, ok, err)
	}
	// Not taken yet (the server is away): the same batch again.
	if again, _, _ := q2.Next(); again.Seg != b.Seg || len(again.Results) != 3 {
		t.Fatalf("the batch not sent is not the next one: %+v", again)
	}
	q2.Done(b)
	if _, ok, _ := q2.Next(); ok || q2.Len() != 0 {
		t.Fatalf("left after everything was sent: %d bytes", q2.Len())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
}

// Bounded by size: the oldest go first, counted.
func TestQueueDropsTheOldestWhenFull(t *testing.T) {
	q, err := OpenQueue(t.TempDir(), 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if err := q.Add(result(i)); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() > 64<<10+int64(upstate.MaxAgentBatch)*200 {
		t.Fatalf("the queue holds %d bytes", q.Len())
	}
	if q.Dropped() == 0 {
		t.Fatal("nothing dropped")
	}
	b, _, _ := q.Next()
	if b.Results[0].ID == "r0000" {
		t.Fatal("the oldest were kept")
	}
	t.Logf("dropped %d, kept %d bytes", q.Dropped(), q.Len())
}

// A report stays within the server's body limit however long the errors.
func TestQueueBatchesFitTheServersLimit(t *testing.T) {
	q, err := OpenQueue(t.TempDir(), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		r := result(i)
		r.Outcome, r.Error = upstate.OutcomeFail, strings.Repeat("x", 4000)
		if err := q.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	b, _, _ := q.Next()
	body, _ := json.Marshal(map[string]any{"results": b.Results})
	if len(body) > 1<<20 || len(b.Results) == 0 {
		t.Fatalf("a batch of %d results is %d bytes", len(b.Results), len(body))
	}
}
