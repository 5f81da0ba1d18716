package agent

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/upstatehq/upstate"
)

// Queue is the agent's results waiting to be sent, on disk so neither a
// lost connection, a server restart nor the agent's own restart loses
// them: a directory of segment files, each at most one report's worth of
// results (one JSON result a line, synced as it is written), sent oldest
// first and removed once the server has them. Bounded by size: when full,
// the oldest segments go, and how many results went is logged.
type Queue struct {
	dir      string
	maxBytes int64

	mu      sync.Mutex
	seq     uint64   // the newest segment's number
	closed  []uint64 // segments complete, oldest first
	cur     *os.File // the segment being written; nil when none
	curN    int      // results in it
	sizes   map[uint64]int64
	total   int64
	dropped int // results dropped for room, since start
}

const segPrefix, segSuffix = "results-", ".jsonl"

// maxSegment bounds a segment's bytes, so a report stays well within the
// server's body limit (1 MiB) however long the results' errors are.
const maxSegment = 512 << 10

// OpenQueue opens the queue in dir (made if need be), with what an
// earlier run left in it.
func OpenQueue(dir string, maxBytes int64) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("the agent's buffer %s: %w", dir, err)
	}
	q := &Queue{dir: dir, maxBytes: maxBytes, sizes: map[uint64]int64{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		q.closed = append(q.closed, n)
		q.sizes[n] = info.Size()
		q.total += info.Size()
		q.seq = max(q.seq, n)
	}
	slices.Sort(q.closed)
	return q, nil
}

func (q *Queue) path(n uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%s%020d%s", segPrefix, n, segSuffix))
}

// Add appends results, durably: they are on disk when it returns.
func (q *Queue) Add(rs ...upstate.AgentResult) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range rs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		line = append(line, '\n')
		if q.cur == nil {
			q.seq++
			f, err := os.OpenFile(q.path(q.seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				return fmt.Errorf("the agent's buffer: %w", err)
			}
			q.cur, q.curN = f, 0
		}
		if _, err := q.cur.Write(line); err != nil {
			return fmt.Errorf("the agent's buffer: %w", err)
		}
		q.curN++
		q.sizes[q.seq] += int64(len(line))
		q.total += int64(len(line))
		if q.curN >= upstate.MaxAgentBatch || q.sizes[q.seq] >= maxSegment {
			q.seal()
		}
	}
	if q.cur != nil {
		if err := q.cur.Sync(); err != nil {
			return fmt.Errorf("the agent's buffer: %w", err)
		}
	}
	q.trim()
	return nil
}

// seal closes the segment being written: it is complete, to be sent.
// Must be called with q.mu held.
func (q *Queue) seal() {
	if q.cur == nil {
		return
	}
	_ = q.cur.Sync()
	_ = q.cur.Close()
	q.cur = nil
	q.closed = append(q.closed, q.seq)
}

// trim drops the oldest segments while the queue is over its bound.
// Must be called with q.mu held.
func (q *Queue) trim() {
	for q.total > q.maxBytes && len(q.closed) > 0 {
		n := q.closed[0]
		if len(q.closed) == 1 && q.cur == nil {
			break // the newest results stay, whatever their size
		}
		lines, _ := q.read(n)
		q.dropped += len(lines)
		q.remove(n)
	}
}

// Dropped is how many results were dropped for room since start.
func (q *Queue) Dropped() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// Len is the bytes waiting.
func (q *Queue) Len() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total
}

// Batch is one segment's results, to send.
type Batch struct {
	Seg     uint64
	Results []upstate.AgentResult
}

// Next is the oldest batch waiting (the segment being written is sealed
// when none other is), or false when nothing is. Lines that do not parse
// (a write cut short by a crash) are left out.
func (q *Queue) Next() (Batch, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.closed) == 0 {
		q.seal()
	}
	for len(q.closed) > 0 {
		n := q.closed[0]
		rs, err := q.read(n)
		if err != nil {
			return Batch{}, false, err
		}
		if len(rs) == 0 {
			q.remove(n)
			continue
		}
		return Batch{Seg: n, Results: rs}, true, nil
	}
	return Batch{}, false, nil
}

func (q *Queue) read(n uint64) ([]upstate.AgentResult, error) {
	f, err := os.Open(q.path(n))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []upstate.AgentResult
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r upstate.AgentResult
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.ID != "" {
			out = append(out, r)
		}
	}
	return out, nil
}

// Done removes a batch the server has.
func (q *Queue) Done(b Batch) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.remove(b.Seg)
}

// Replace writes a batch again without some of its results (those the
// server refused).
func (q *Queue) Replace(b Batch, keep []upstate.AgentResult) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(keep) == 0 {
		q.remove(b.Seg)
		return nil
	}
	var buf []byte
	for _, r := range keep {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	// Written aside, synced, then put in place and the directory synced:
	// a crash leaves the old segment or the new one, never half of one.
	tmp := q.path(b.Seg) + ".tmp"
	if err := writeSynced(tmp, buf); err != nil {
		return err
	}
	if err := os.Rename(tmp, q.path(b.Seg)); err != nil {
		return err
	}
	if err := syncDir(q.dir); err != nil {
		return err
	}
	q.total += int64(len(buf)) - q.sizes[b.Seg]
	q.sizes[b.Seg] = int64(len(buf))
	return nil
}

// remove must be called with q.mu held.
func (q *Queue) remove(n uint64) {
	_ = os.Remove(q.path(n))
	q.total -= q.sizes[n]
	delete(q.sizes, n)
	q.closed = slices.DeleteFunc(q.closed, func(m uint64) bool { return m == n })
}

// Close closes the segment being written; it is sent on the next run.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cur == nil {
		return nil
	}
	err := q.cur.Close()
	q.cur = nil
	q.closed = append(q.closed, q.seq)
	return err
}

// writeSynced writes data to a new file at path, only its user's, and
// syncs it before closing.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
