package adminapi

import (
	"net/http"
	"sort"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/cluster"
	"github.com/upstatehq/upstate/internal/web/respond"
)

// Bounds on the check ids answered per instance: the whole answer lists
// at most clusterRuns each, so a cluster running 50,000 checks still
// answers in a few hundred kilobytes; ?instance= pages through one
// instance's full list.
const (
	clusterRuns     = 1000
	clusterRunsMax  = 10000
	notClusteredMsg = "this server runs alone: a cluster needs server.database on PostgreSQL, shared by every instance (docs/CLUSTER.md)"
)

// clusterJSON is the cluster as the answering instance sees it.
type clusterJSON struct {
	Clustered bool   `json:"clustered"`
	Self      string `json:"self"`
	// Leader is empty while no instance holds the lease.
	Leader    string                `json:"leader"`
	At        time.Time             `json:"at"`
	Fenced    bool                  `json:"fenced"`
	Lease     float64               `json:"lease_seconds"`
	Heartbeat float64               `json:"heartbeat_seconds"`
	Grace     float64               `json:"grace_seconds"`
	Instances []clusterInstanceJSON `json:"instances"`
	// Next is the after= of the next page of one instance's runs; absent
	// on the last.
	Next string `json:"next,omitempty"`
}

type clusterInstanceJSON struct {
	Name        string    `json:"name"`
	ID          string    `json:"id"`
	Addr        string    `json:"addr"`
	Version     string    `json:"version"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	AgeMS       int64     `json:"heartbeat_age_ms"`
	Live        bool      `json:"live"`
	Leader      bool      `json:"leader"`
	// Checks is how many checks it reported running; Runs the ids it
	// runs by the answering instance's ranking.
	Checks int      `json:"checks"`
	LagMS  int64    `json:"lag_ms"`
	Runs   []string `json:"runs"`
	// RunsTotal counts them all; Truncated says more follow the last
	// one listed.
	RunsTotal int  `json:"runs_total"`
	Truncated bool `json:"runs_truncated"`
}

// clusterQuery is GET /api/v1/cluster's parameters.
type clusterQuery struct {
	instance string
	paged    bool // instance= was given
	limit    int
	after    string
}

func readClusterQuery(q map[string][]string) (clusterQuery, error) {
	c := clusterQuery{limit: clusterRuns}
	if v, ok := q["instance"]; ok {
		c.paged = true
		if len(v) > 0 {
			c.instance = v[0]
		}
		if c.instance == "" {
			return c, upstate.Errorf(upstate.EINVALID, "instance: give an instance's name (as in the instances of GET /api/v1/cluster)")
		}
	}
	if v, ok := q["limit"]; ok {
		if !c.paged {
			return c, upstate.Errorf(upstate.EINVALID, "limit: pages one instance's checks, so it goes with instance=NAME")
		}
		s := ""
		if len(v) > 0 {
			s = v[0]
		}
		n, err := count("limit", s, 1, clusterRunsMax)
		if err != nil {
			return c, err
		}
		c.limit = n
	}
	if v, ok := q["after"]; ok {
		if !c.paged {
			return c, upstate.Errorf(upstate.EINVALID, "after: pages one instance's checks, so it goes with instance=NAME")
		}
		if len(v) > 0 {
			c.after = v[0]
		}
		if c.after == "" {
			return c, upstate.Errorf(upstate.EINVALID, "after: give a check id, the next of the previous answer")
		}
	}
	return c, nil
}

// getCluster answers who is in the cluster, who leads, which checks each
// runs and how late; on a server that runs alone (SQLite) it says so
// rather than answering 404, so tools may always ask.
func (s *Server) getCluster(w http.ResponseWriter, r *http.Request, _ upstate.Principal) {
	q, err := readClusterQuery(r.URL.Query())
	if err != nil {
		respond.Error(w, err)
		return
	}
	var st cluster.Status
	clustered := false
	if s.opts.Cluster != nil {
		st, clustered = s.opts.Cluster()
	}
	if !clustered {
		respond.JSON(w, http.StatusOK, map[string]any{"clustered": false, "message": notClusteredMsg, "instances": []clusterInstanceJSON{}})
		return
	}
	out := clusterJSON{Clustered: true, Self: st.Self, Leader: st.Leader, At: st.At.UTC(), Fenced: st.Fenced,
		Lease: st.Lease.Seconds(), Heartbeat: st.Beat.Seconds(), Grace: st.Grace.Seconds(), Instances: []clusterInstanceJSON{}}
	found := false
	for _, in := range st.Instances {
		if q.paged && in.Name != q.instance {
			continue
		}
		found = true
		j := clusterInstanceJSON{Name: in.Name, ID: in.ID, Addr: in.Addr, Version: in.Version, StartedAt: in.Started.UTC(), HeartbeatAt: in.Heartbeat.UTC(),
			AgeMS: in.Age.Milliseconds(), Live: in.Live, Leader: in.Leader, Checks: in.Checks, LagMS: in.Lag.Milliseconds(), RunsTotal: len(in.Runs)}
		runs := in.Runs
		if q.after != "" {
			// Runs are sorted: the page starts after the id given, whether
			// or not it is still among them.
			runs = runs[sort.Search(len(runs), func(i int) bool { return runs[i] > q.after }):]
		}
		if len(runs) > q.limit {
			runs = runs[:q.limit]
			j.Truncated = true
			if q.paged {
				out.Next = runs[len(runs)-1]
			}
		}
		j.Runs = append([]string{}, runs...)
		out.Instances = append(out.Instances, j)
	}
	if q.paged && !found {
		respond.Error(w, upstate.Errorf(upstate.ENOTFOUND, "no instance %q in the cluster (gone instances are kept an hour)", q.instance))
		return
	}
	respond.JSON(w, http.StatusOK, out)
}
